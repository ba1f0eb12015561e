#!/bin/sh
# The operator's report in headless Chromium, from CSV to chart.
# Generates a business as CSV with `pd gen`, adds touchpoints whose names are
# Chinese (one with markup characters, one long), ingests it, writes
# `pd report`, then in Chromium: the page loads with no console message, every
# section the library lists is there and none shows an error, the Chinese
# names come out intact in table cells and in SVG text, no SVG text is cut off
# at the chart's edge or drawn over other text, nothing but charts and tables
# is wider than the screen. Screenshots of the whole page at several widths
# land in OUTDIR (report-WIDTH.png) for a person to look at.
# Usage: render-report.sh PD_EXE OUTDIR
set -eu
pd=$1 out=$2
here=$(cd "$(dirname "$0")" && pwd)
browser=$(command -v chromium || command -v chromium-browser || true)
[ -n "$browser" ] || { echo "chromium not installed: skipped"; exit 77; }
rm -rf "$out" && mkdir -p "$out"
run() { # chromium with a scratch profile
  ud=$(mktemp -d)
  status=0
  timeout 120 "$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync --disable-extensions \
    --hide-scrollbars --user-data-dir="$ud" "$@" || status=$?
  rm -rf "$ud"
  return $status
}

# ---- the data: a generated business plus two Chinese-named touchpoints ----
"$pd" gen --users 3000 --months 4 --seed 7 --out "$out/events.csv" --quiet
NASTY='小红书<种草>&"笔记"'
LONG='企业微信·华东大区会员运营中心一号群'
{
  echo '"小红书<种草>&""笔记""",public,kol,500.00'
  echo "$LONG,private,group,50.00"
} >>"$out/touchpoints.csv"
# 60 users acquired at each; most buy, some again a few weeks later
awk -v a="$NASTY" -v b="$LONG" 'BEGIN {
  for (i = 0; i < 120; i++) {
    tp = i < 60 ? a : b; q = tp
    if (tp == a) q = "\"小红书<种草>&\"\"笔记\"\"\""
    d = 1 + i % 28; u = "cn" i
    printf "2024-02-%02dT03:00:00Z,%s,acquire,%s,,\n", d, u, q
    if (i % 4 != 0) printf "2024-02-%02dT05:00:00Z,%s,purchase,%s,%d.%02d,\n", d, u, q, 30 + i, i % 100
    if (i % 3 == 0) printf "2024-03-%02dT05:00:00Z,%s,purchase,,%d.00,\n", d, u, 45 + i
  } }' >>"$out/events.csv"
"$pd" ingest "$out/store" "$out/events.csv" --touchpoints "$out/touchpoints.csv" >/dev/null
"$pd" report "$out/store" --out "$out/report.html" --tz Asia/Shanghai --title "演示报告 demo report" --quiet

fail=0
# ---- measure the laid-out page at each width, then screenshot all of it ----
# Headless Chromium lays pages out at least 500 px wide whatever the window
# size (a screenshot is then cut from it): narrower widths are given to the
# probe by the root element's width (the report's one breakpoint, 600 px,
# applies either way) and to the screenshot by an iframe of that width.
for w in ${PD_RENDER_WIDTHS:-1280 800 390}; do
  /usr/bin/python3 -c 'import sys
page, js, w = open(sys.argv[1], encoding="utf-8").read(), open(sys.argv[2], encoding="utf-8").read(), int(sys.argv[4])
narrow = "<style>html{width:%dpx}</style>" % w if w < 500 else ""
probe = "%s<script>var PD_PROBE_WIDTH = %d;\n%s</script></body>" % (narrow, w, js)
open(sys.argv[3], "w", encoding="utf-8").write(page.replace("</body>", probe))' \
    "$out/report.html" "$here/report-probe.js" "$out/probe-$w.html" "$w"
  run --enable-logging=stderr --v=0 --dump-dom --window-size="$w,900" "file://$out/probe-$w.html" \
    >"$out/probe-$w.dom" 2>"$out/probe-$w.log" || true
  if grep -q 'CONSOLE' "$out/probe-$w.log"; then
    echo "FAIL width $w: console messages:"; grep 'CONSOLE' "$out/probe-$w.log"; fail=1
  fi
  first=${first:-$w}
  h=$(/usr/bin/python3 - "$out/probe-$w.dom" "$w" "$NASTY" "$LONG" <<'PY'
import html, json, re, sys
dom, width, nasty, long_name = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
text = open(dom, encoding="utf-8").read()
m = ([None] + list(re.finditer(r"<pre id=\"pd-probe\">(.*?)</pre>", text, re.S)))[-1]
if not m:
    print("FAIL width %d: the probe did not run" % width, file=sys.stderr); print(0); sys.exit(1)
p = json.loads(html.unescape(m.group(1)))
bad = []
if nasty not in p["cells"]: bad.append("name %s not a table cell" % nasty)
if nasty not in p["svg_text"]: bad.append("name %s not an SVG text" % nasty)
if long_name not in p["cells"]: bad.append("name %s not a table cell" % long_name)
# in charts a long name is either whole or cut with an ellipsis, never garbled
cut = [s for s in p["svg_text"] if s == long_name or (s.endswith("\u2026") and long_name.startswith(s[:-1]))]
if not cut: bad.append("name %s not in any chart, whole or shortened" % long_name)
bad += ["clipped: " + c for c in p["clipped"]]
bad += ["overlap: " + c for c in p["overlaps"]]
bad += ["wider than the screen: " + c for c in p["wide"]]
for b in bad: print("FAIL width %d: %s" % (width, b), file=sys.stderr)
print("ok width %d: %d sections, %d SVG texts, page %d px tall" % (width, len(p["sections"]), len(p["svg_text"]),
      p["height"]), file=sys.stderr)
print(p["height"])
sys.exit(1 if bad else 0)
PY
  ) || fail=1
  [ "${h:-0}" -gt 0 ] || h=6000
  png="$out/report-$w.png" page="$out/report.html"
  if [ "$w" -lt 500 ]; then
    page="$out/frame-$w.html"
    printf '<!DOCTYPE html><html><body style="margin:0"><iframe src="report.html" style="display:block;border:0;width:%spx;height:%spx"></iframe></body></html>\n' \
      "$w" "$h" >"$page"
  fi
  run --screenshot="$png" --window-size="$w,$h" "file://$page" >/dev/null 2>&1 || true
  [ -s "$png" ] || { echo "FAIL no screenshot at width $w"; fail=1; }
done
# ---- the loaded page: parse errors, section ids, names ----
# the DOM of the first width's probe run is the loaded page (plus the probe)
cp "$out/probe-$first.dom" "$out/report.dom"
if grep -q '<parsererror' "$out/report.dom"; then echo "FAIL parse error"; fail=1; fi
[ -s "$out/report.dom" ] || { echo "FAIL empty DOM"; fail=1; }
ids=$("$pd" report --help | sed -n 's/^Sections: //p' | tr ',' ' ')
[ -n "$ids" ] || { echo "FAIL no section list in pd report --help"; exit 1; }
for id in $ids; do
  if grep -q "<section class=\"pd-section\" id=\"$id\">" "$out/report.dom"; then echo "ok section $id"
  else echo "FAIL section $id missing"; fail=1; fi
done
if grep -q 'class="pd-error"' "$out/report.dom"; then
  echo "FAIL a section reports an error:"; grep -o 'class="pd-error">[^<]*' "$out/report.dom"; fail=1
fi
grep -q '演示报告' "$out/report.dom" || { echo "FAIL Chinese title lost"; fail=1; }
# the raw HTML escapes markup characters of names; no unescaped copy exists
grep -q '小红书&lt;种草&gt;&amp;&quot;笔记&quot;' "$out/report.html" || { echo "FAIL escaped name not in HTML"; fail=1; }
if grep -q '小红书<种草>' "$out/report.html"; then echo "FAIL unescaped name in HTML"; fail=1; fi

echo "screenshots: $out/report-*.png"
exit $fail
