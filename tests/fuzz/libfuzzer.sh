#!/bin/sh
# Builds the fuzz targets under libFuzzer (clang, ASan + UBSan) and runs each
# for a while, growing its corpus. Not part of the default test run (the
# default run replays the checked-in corpora: see tests/fuzz/meson.build).
# Usage: tests/fuzz/libfuzzer.sh [TARGET|all] [SECONDS]
#   e.g. tests/fuzz/libfuzzer.sh store 60;  tests/fuzz/libfuzzer.sh all 30
# Targets: store csv jsonl time segment rows (tests/fuzz/fuzz-TARGET.c).
set -eu
cd "$(dirname "$0")/../.."
which=${1:-all} seconds=${2:-60}
PD_EXTRA_DEBS="clang libclang-rt-14-dev" . tests/deps.sh
out=build-fuzz
[ -d "$out" ] || CC=clang meson setup "$out" -Db_sanitize=address,undefined -Db_lundef=false \
  -Dc_args=-fsanitize=fuzzer-no-link >/dev/null
ninja -C "$out" lib/libprivdomain_objects.a >/dev/null
[ "$which" = all ] && which="store csv jsonl time segment rows"
for target in $which; do
  [ -f "tests/fuzz/fuzz-$target.c" ] || { echo "no fuzz target tests/fuzz/fuzz-$target.c" >&2; exit 2; }
  clang -g -O1 -std=c11 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    -Iinclude -I"$out/include" -Ilib -Ilib/util -Ilib/ingest $(pkg-config --cflags glib-2.0 json-glib-1.0) \
    "tests/fuzz/fuzz-$target.c" "$out/lib/libprivdomain_objects.a" \
    $(pkg-config --libs glib-2.0 json-glib-1.0 zlib) -lpthread -lm -o "$out/fuzz-$target"
  mkdir -p "$out/corpus-$target"
  "$out/fuzz-$target" -max_total_time="$seconds" -max_len=65536 "$out/corpus-$target" "tests/fuzz/corpus/$target"
  echo "fuzz-$target: new inputs are in $out/corpus-$target; copy the interesting ones to tests/fuzz/corpus/$target/"
done
