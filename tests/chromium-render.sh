#!/bin/sh
# Loads files in headless Chromium: fails on any console message, on an XML
# parse error (Chromium puts a <parsererror> into the DOM) or on a missing
# screenshot; writes OUTDIR/<name>.dom and OUTDIR/<name>[-WIDTH].png.
# Usage: chromium-render.sh OUTDIR WIDTHS FILE...   (WIDTHS like "1000 480")
# Exit 77 (skipped) when Chromium is not installed.
set -eu
out=$1 widths=$2
shift 2
browser=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$browser" ]; then echo "chromium not installed: skipped"; exit 77; fi
mkdir -p "$out"
run() { # user-data-dir, args...
  ud=$(mktemp -d)
  status=0
  timeout 120 "$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync --disable-extensions \
    --user-data-dir="$ud" "$@" || status=$?
  rm -rf "$ud"
  return $status
}
fail=0
for f in "$@"; do
  name=$(basename "$f")
  name=${name%.*}
  abs=$(cd "$(dirname "$f")" && pwd)/$(basename "$f")
  run --enable-logging=stderr --v=0 --dump-dom "file://$abs" >"$out/$name.dom" 2>"$out/$name.log"
  if grep -q 'CONSOLE' "$out/$name.log"; then
    echo "FAIL $name: console messages:"; grep 'CONSOLE' "$out/$name.log"; fail=1
  fi
  if grep -q '<parsererror' "$out/$name.dom"; then
    echo "FAIL $name: parse error:"; grep -o '<parsererror.*</parsererror>' "$out/$name.dom" | head -c 600; echo; fail=1
  fi
  if [ ! -s "$out/$name.dom" ]; then echo "FAIL $name: empty DOM"; fail=1; fi
  for w in $widths; do
    png="$out/$name-$w.png"
    rm -f "$png"
    run --hide-scrollbars --screenshot="$png" --window-size="$w,${PD_RENDER_HEIGHT:-900}" "file://$abs" \
      >/dev/null 2>&1 || true
    if [ ! -s "$png" ]; then echo "FAIL $name: no screenshot at width $w"; fail=1; fi
  done
  [ $fail = 0 ] && echo "ok $name"
done
exit $fail
