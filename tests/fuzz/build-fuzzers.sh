#!/bin/sh
# Builds the libFuzzer targets with clang (-fsanitize=fuzzer,address,undefined)
# into DIR (default build-fuzz) and, with --run SECONDS, runs each one on a
# copy of its corpus and merges new inputs back into tests/fuzz/corpus/.
#   tests/fuzz/build-fuzzers.sh [DIR] [--run SECONDS]
set -eu
cd "$(dirname "$0")/../.."
out=${1:-build-fuzz}
secs=""
[ "${2:-}" = "--run" ] && secs=${3:-60}
mkdir -p "$out"
[ -f build/include/privdomain/version.h ] || { meson setup build >/dev/null && ninja -C build >/dev/null; }
flags="-g -O1 -std=c11 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
  -Iinclude -Ibuild/include -Ilib -Ilib/util -Ilib/ingest $(pkg-config --cflags glib-2.0 json-glib-1.0)"
libs="$(pkg-config --libs glib-2.0 json-glib-1.0 zlib) -lm"
common="lib/error.c lib/model.c lib/util/tz.c lib/ingest/timeparse.c"
for t in csv jsonl time; do
  case $t in
    csv) src="lib/ingest/csv.c" ;;
    jsonl) src="lib/ingest/jsonl.c" ;;
    time) src="" ;;
  esac
  # shellcheck disable=SC2086
  clang $flags tests/fuzz/fuzz-$t.c $src $common $libs -o "$out/fuzz-$t"
  echo "built $out/fuzz-$t"
  if [ -n "$secs" ]; then
    work="$out/corpus-$t"
    mkdir -p "$work"
    cp tests/fuzz/corpus/$t/* "$work/" 2>/dev/null || true
    "$out/fuzz-$t" -max_total_time="$secs" -max_len=4096 "$work" 2>&1 | tail -3
    # keep only inputs that add coverage
    "$out/fuzz-$t" -merge=1 tests/fuzz/corpus/$t "$work" 2>&1 | tail -1
  fi
done
