#!/bin/sh
# Sets up a fresh Debian 12 machine, builds, and runs every test:
#   1. a warnings-as-errors build and its test suite (C, CLI, Python),
#   2. an AddressSanitizer + UBSan build running the C tests again,
#   3. an install into a scratch prefix and a program built outside the
#      tree with pkg-config against it.
# Usage: tests/run.sh [--quick]   (--quick skips steps 2 and 3)
set -eu
cd "$(dirname "$0")/.."
. tests/deps.sh
quick=${1:-}

jobs=$(nproc 2>/dev/null || echo 2)
setup() { # dir, extra meson args...
  dir=$1; shift
  if [ -d "$dir" ]; then meson setup --reconfigure "$dir" "$@" >/dev/null; else meson setup "$dir" "$@" >/dev/null; fi
}

echo "== build (werror) and test"
setup build -Dwerror=true
ninja -C build -j "$jobs"
meson test -C build --print-errorlogs --num-processes "$jobs"

[ "$quick" = "--quick" ] && exit 0

echo "== sanitizer build (address, undefined) and C tests"
setup build-asan -Dwerror=true -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug
ninja -C build-asan -j "$jobs"
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  meson test -C build-asan --print-errorlogs --num-processes "$jobs" --suite c --no-suite slow

echo "== install and build an outside program with pkg-config"
tests/check-install.sh build
echo "all tests passed"
