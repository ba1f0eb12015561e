#!/bin/sh
# The demo: on a fresh Debian 12 machine installs what is needed, builds,
# generates a synthetic private-domain business, ingests it into a store on
# local disk, compacts it and reports on it. Output goes to demo-out/.
#   examples/demo.sh            (PD_DEMO_USERS=N for another size, default 20000)
set -eu
cd "$(dirname "$0")/.."
. tests/deps.sh
if [ -d build ]; then meson setup --reconfigure build >/dev/null; else meson setup build >/dev/null; fi
ninja -C build >/dev/null
PD=build/examples/pd
OUT=demo-out
STORE=$OUT/store
USERS=${PD_DEMO_USERS:-20000}
mkdir -p "$OUT"
rm -rf "$STORE"

step() { printf '\n== %s\n' "$*"; }

step "pd gen: a synthetic business of $USERS users"
"$PD" gen --users "$USERS" --seed 1 --start 2024-01-01 --months 6 --out "$OUT/events.csv"
step "pd ingest"
"$PD" ingest "$STORE" "$OUT/events.csv" --touchpoints "$OUT/touchpoints.csv"
step "pd compact"
"$PD" compact "$STORE"
step "pd info"
"$PD" info "$STORE"

# Reports of the analysis areas follow, one block each (funnel, retention,
# referral, clv, touchpoints; the report last). The store is $STORE.
# touchpoints (issue 7): the scorecard of March's acquisitions per domain, and where
# public-domain users went
step "pd touchpoints: the scorecard of March 2024 (Asia/Shanghai) per domain, and migration"
"$PD" touchpoints "$STORE" --period 2024-03 --tz Asia/Shanghai --by domain --svg "$OUT/scorecard.svg"
"$PD" touchpoints "$STORE" --period 2024-03 --tz Asia/Shanghai --migration --format csv >"$OUT/touchpoints.csv.out"
echo "scorecard bars: $OUT/scorecard.svg; per touchpoint with migration: $OUT/touchpoints.csv.out"
# segments (issue 7): stored segments, then a funnel and K broken down by them
step "pd segment: big spenders, private-domain users, quiet big spenders"
"$PD" segment "$STORE" define big 'revenue >= 100000'
"$PD" segment "$STORE" define private 'domain = private'
"$PD" segment "$STORE" define quiet_big 'big and last_event_days > 30'
"$PD" segment "$STORE" list
step "pd funnel --by segment:big,private,quiet_big"
"$PD" funnel "$STORE" --steps acquire,activate,purchase --window 14d --by segment:big,private,quiet_big
step "pd referral --by segment:big,private"
"$PD" referral "$STORE" --by segment:big,private
# report (issue 8): a tiny CRM embedding the library (examples/crm-example.c),
# then the operator's report of the business above, last
step "crm-example: a CRM appends purchases as they happen, asks P(alive) and CLV"
rm -rf "$OUT/crm-store"
build/examples/crm-example "$OUT/crm-store"
step "pd report"
"$PD" report "$STORE" --out "$OUT/report.html" --tz Asia/Shanghai --title "演示报告 demo business" --quiet
echo "report: $(pwd)/$OUT/report.html"
