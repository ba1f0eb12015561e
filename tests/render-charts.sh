#!/bin/sh
# Renders a sample SVG of every chart kind (written by test-chart) in
# headless Chromium; screenshots land in OUTDIR for a person to look at.
# Usage: render-charts.sh TEST_CHART_EXE OUTDIR
set -eu
exe=$1 out=$2
here=$(cd "$(dirname "$0")" && pwd)
command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || {
  echo "chromium not installed: skipped"; exit 77; }
rm -rf "$out" && mkdir -p "$out/svg"
PD_CHART_SAMPLES="$out/svg" CK_RUN_CASE=chart CK_RUN_SUITE=chart "$exe" >/dev/null
n=$(ls "$out"/svg/*.svg | wc -l)
[ "$n" -ge 8 ] || { echo "expected 8 sample SVGs, got $n"; exit 1; }
"$here/chromium-render.sh" "$out" "${PD_RENDER_WIDTHS:-800}" "$out"/svg/*.svg
