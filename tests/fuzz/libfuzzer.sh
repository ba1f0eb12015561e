#!/bin/sh
# Runs a fuzz target under libFuzzer (clang, with ASan + UBSan) for a while,
# growing its corpus. Not part of the default test run.
# Usage: tests/fuzz/libfuzzer.sh TARGET [SECONDS]   e.g. tests/fuzz/libfuzzer.sh store 60
set -eu
cd "$(dirname "$0")/../.."
target=$1 seconds=${2:-60}
PD_EXTRA_DEBS="clang libclang-rt-14-dev" . tests/deps.sh
out=build-fuzz
[ -d "$out" ] || CC=clang meson setup "$out" -Db_sanitize=address,undefined -Db_lundef=false \
  -Dc_args=-fsanitize=fuzzer-no-link >/dev/null
ninja -C "$out" lib/libprivdomain_objects.a >/dev/null
clang -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude -I"$out/include" \
  "tests/fuzz/fuzz-$target.c" "$out/lib/libprivdomain_objects.a" \
  $(pkg-config --libs glib-2.0 json-glib-1.0 zlib) -lpthread -lm -o "$out/fuzz-$target"
mkdir -p "$out/corpus-$target"
"$out/fuzz-$target" -max_total_time="$seconds" -max_len=65536 "$out/corpus-$target" "tests/fuzz/corpus/$target"
echo "new inputs are in $out/corpus-$target; copy the interesting ones to tests/fuzz/corpus/$target/"
