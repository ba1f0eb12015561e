#!/bin/sh
# Sets up a fresh Debian 12 machine, builds libprivdomain, and runs the main
# job on an embedded default.
set -eu
cd "$(dirname "$0")/.."
. tests/deps.sh
[ -d build ] || meson setup build >/dev/null
ninja -C build >/dev/null
echo "libprivdomain built in build/ (the store and CLI land next)."
# report (issue 8): the operator's report of a generated business, last
report_store=build/demo/report-store
rm -rf "$report_store" && mkdir -p build/demo
build/examples/pd gen --users 20000 --months 6 --store "$report_store" --quiet
build/examples/pd report "$report_store" --out build/demo/report.html --tz Asia/Shanghai --quiet
echo "report: $(pwd)/build/demo/report.html"
