#!/bin/sh
# Sets up a fresh Debian 12 machine, builds libprivdomain, and runs the main
# job on an embedded default.
set -eu
cd "$(dirname "$0")/.."
. tests/deps.sh
[ -d build ] || meson setup build >/dev/null
ninja -C build >/dev/null
echo "libprivdomain built in build/ (the store and CLI land next)."
