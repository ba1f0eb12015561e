#!/bin/sh
# The operator's report in headless Chromium: generates a business with
# `pd gen`, writes `pd report`, loads it (no console errors, no parse
# errors), checks every section the library lists is in the DOM and none
# shows an error, and leaves screenshots at several widths in OUTDIR.
# Usage: render-report.sh PD_EXE OUTDIR
set -eu
pd=$1 out=$2
here=$(cd "$(dirname "$0")" && pwd)
command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || {
  echo "chromium not installed: skipped"; exit 77; }
rm -rf "$out" && mkdir -p "$out"
"$pd" gen --users 3000 --months 4 --seed 7 --store "$out/store" --quiet
"$pd" report "$out/store" --out "$out/report.html" --tz Asia/Shanghai --title "演示报告 demo report" --quiet
PD_RENDER_HEIGHT=${PD_RENDER_HEIGHT:-4000} "$here/chromium-render.sh" "$out" "${PD_RENDER_WIDTHS:-1280 820 420}" \
  "$out/report.html"
fail=0
ids=$("$pd" report --help | sed -n 's/^Sections: //p' | tr ',' ' ')
[ -n "$ids" ] || { echo "FAIL no section list in pd report --help"; exit 1; }
for id in $ids; do
  if grep -q "<section class=\"pd-section\" id=\"$id\">" "$out/report.dom"; then
    echo "ok section $id"
  else
    echo "FAIL section $id missing"; fail=1
  fi
done
n=$(grep -o '<section class="pd-section"' "$out/report.dom" | wc -l)
[ "$n" -ge 3 ] || { echo "FAIL only $n sections"; fail=1; }
if grep -q 'class="pd-error"' "$out/report.dom"; then
  echo "FAIL a section reports an error:"; grep -o 'class="pd-error">[^<]*' "$out/report.dom"; fail=1
fi
grep -q '演示报告' "$out/report.dom" || { echo "FAIL Chinese title lost"; fail=1; }
echo "screenshots: $out/report-*.png"
exit $fail
