#!/bin/sh
# pd referral, run by meson (suite 'cli'):
#   tests/cli/test-referral-cli.sh PATH/TO/pd
# A hand-made store whose forest is worked out in the comments.
set -u
PD=${1:?usage: test-referral-cli.sh PATH/TO/pd}
. "$(dirname "$0")/common.sh"

# The forest (arrows point at referees):
#   a (ads) -> b -> d -> e          f (organic)      g (refers itself: a root)
#           -> c                    x <-> y (a cycle: x acquired first loses its edge, so x -> y)
#   i -> h (h signs up a day before i's first event: reported, edge kept)
# c later names f as referrer too (a conflict: a stays). Users 11, roots a f g x i,
# referred b c d e y h = 6; invites 3 (a); K = 6 / 11.
# Depths: 0: a f g x i (5), 1: b c y h (4), 2: d, 3: e (beyond the cap of 2).
# Revenue: a 10.00, b 5.00 - 1.00, d 7.00, e 0.50 (minor units 1000, 400, 700, 50).
# Cycle times: b 2h, c 24h, d 46h (after b's acquisition), e 24h, y 1h (h: negative).
cat >"$T/ev.csv" <<'CSV'
ts,user,event,touchpoint,amount,referrer
2024-03-01T00:00:00Z,a,acquire,ads,,
2024-03-01T01:00:00Z,a,invite,,,
2024-03-01T01:00:00Z,a,invite,,,
2024-03-01T20:00:00Z,a,invite,,,
2024-03-01T03:00:00Z,a,purchase,ads,10.00,
2024-03-01T02:00:00Z,b,acquire,ads,,a
2024-03-01T02:00:00Z,b,referral_signup,ads,,a
2024-03-01T05:00:00Z,b,purchase,ads,5.00,
2024-03-01T06:00:00Z,b,refund,ads,1.00,
2024-03-02T00:00:00Z,c,referral_signup,ads,,a
2024-03-05T00:00:00Z,c,referral_signup,ads,,f
2024-03-02T00:00:00Z,d,visit,ads,,
2024-03-03T00:00:00Z,d,referral_signup,ads,,b
2024-03-04T00:00:00Z,d,purchase,ads,7.00,
2024-03-04T00:00:00Z,e,referral_signup,ads,,d
2024-03-05T00:00:00Z,e,purchase,ads,0.50,
2024-03-06T00:00:00Z,f,acquire,organic,,
2024-03-06T00:00:00Z,g,referral_signup,,,g
2024-03-07T00:00:00Z,x,referral_signup,,,y
2024-03-07T01:00:00Z,y,referral_signup,,,x
2024-03-08T00:00:00Z,h,referral_signup,,,i
2024-03-09T00:00:00Z,i,visit,,,
CSV
cat >"$T/tp.csv" <<'CSV'
name,domain,carrier,daily_spend
ads,public,feed_ad,100.00
organic,private,official_account,0
CSV
expect 0 "$PD" ingest "$T/store" "$T/ev.csv" --touchpoints "$T/tp.csv"

expect 0 "$PD" referral "$T/store" --view summary -f csv
cp "$T/out" "$T/summary"
for kv in users,11 roots,5 referred,6 invites,3 c,2 k,0.5454545454545454 max_depth,3 cap,2 \
    beyond_cap_users,1 beyond_cap_revenue,50 revenue,2150 referred_revenue,1150 purchasers,4 \
    self_referrals,1 cycles,1 cycle_members,2 conflicts,1 signup_before_referrer,1 \
    cycle_time_median_h,24 cycle_time_mean_h,19.4 cycle_time_n,5 cycle_time_negative,1; do
  has "$T/summary" "^$kv\$"
done
# Cost over the 9 days from a's to i's acquisition: ads 100.00 a day = 90000; paid: a; referred: 6.
has "$T/summary" '^cost_days,9$'
has "$T/summary" '^cac_paid,90000$'
has "$T/summary" '^cac_with_referral,12857.142857142857$'

# The depth histogram with K_d = users at d+1 / users at d.
expect 0 "$PD" referral "$T/store" --view depth -f csv
has "$T/out" '^group,depth,users,purchasers,revenue,k_d,beyond_cap$'
has "$T/out" '^all,0,5,1,1000,0.8,0$'
has "$T/out" '^all,1,4,1,400,0.25,0$'
has "$T/out" '^all,2,1,1,700,1,0$'
has "$T/out" '^all,3,1,1,50,,1$'
# The cap moves the compliance list: at 1, d and e are beyond it.
expect 0 "$PD" referral "$T/store" --max-depth 1 --view beyond_cap -f csv
has "$T/out" '^[0-9]*,d,2,[0-9]*,0,700$'
has "$T/out" '^[0-9]*,e,3,[0-9]*,0,50$'
[ "$(wc -l <"$T/out")" = 3 ] || fail "--max-depth 1: want 2 users beyond the cap"
expect 0 "$PD" referral "$T/store" -d 0 --view summary -f csv
has "$T/out" '^beyond_cap_users,6$'

# Top referrers: a has 2 direct referees and 4 descendants earning 400 + 700 + 50.
expect 0 "$PD" referral "$T/store" --view top -f csv
sed -n 2p "$T/out" >"$T/first"
has "$T/first" '^[0-9]*,a,0,2,4,1150,'
expect 0 "$PD" referral "$T/store" --view top --top 2 -f csv
[ "$(wc -l <"$T/out")" = 3 ] || fail "--top 2: want 2 rows"

# Bad input is reported.
expect 0 "$PD" referral "$T/store" --view issues -f csv
has "$T/out" '^self_referral,[0-9]*,g,'
has "$T/out" '^cycle,[0-9]*,x,.*x -> y -> x (2 members)$'
has "$T/out" '^conflict,[0-9]*,c,.*first referrer a kept$'
has "$T/out" "^signup_before_referrer,[0-9]*,h,.*signed up 24.0 h before the referrer's first event"

# By the root's touchpoint (depth) and the referrer's (groups).
expect 0 "$PD" referral "$T/store" --by touchpoint -f csv
has "$T/out" '^ads,3,1,1,50,,1$'
has "$T/out" '^organic,0,1,0,0,,0$'
has "$T/out" '^(none),1,2,0,0,,0$'
has "$T/out" '^ads,5,1,3,4,0.6,1.3333333333333333,0.8,24,24$'
has "$T/out" '^(none),5,3,0,2,0,,0.4,1,1$'
expect 0 "$PD" referral "$T/store" --by domain --view groups -f csv
has "$T/out" '^public,5,1,3,4,'
expect 0 "$PD" referral "$T/store" --by period --period day --view depth -f csv
has "$T/out" '^2024-03-01,3,1,1,50,,1$'
# Without acquire attributions b still has its referral_signup: nothing changes here.
expect 0 "$PD" referral "$T/store" --no-acquire-referrer --view summary -f csv
has "$T/out" '^referred,6$'

# Projection from a seed of 1000 with K = 6/11: cycle 1 adds 545.45...
expect 0 "$PD" referral "$T/store" --view projection --seed 1000 --cycles 2 -f csv
has "$T/out" '^0,1000,1000$'
has "$T/out" '^1,545.45454545454'
[ "$(wc -l <"$T/out")" = 4 ] || fail "--cycles 2: want 3 rows"

# Default output: several tables; JSON is one object keyed by table name.
expect 0 "$PD" referral "$T/store"
has "$T/out" '^== referral_summary =='
has "$T/out" '^== referral_depth =='
has "$T/out" '^== referral_issues =='
lacks "$T/out" '^== referral_groups =='
expect 0 "$PD" referral "$T/store" -f json --by touchpoint
python3 - "$T/out" <<'PY' || fail "JSON output"
import json, sys
d = json.load(open(sys.argv[1]))
assert set(d) == {"referral_summary", "referral_groups", "referral_depth", "referral_top", "referral_cost",
                  "referral_issues"}, d.keys()
m = {r["metric"]: r["value"] for r in d["referral_summary"]}
assert m["users"] == 11 and m["beyond_cap_users"] == 1, m
PY

# SVG: the histogram and the largest tree, one well-formed document.
expect 0 "$PD" referral "$T/store" --view summary --svg "$T/r.svg"
python3 - "$T/r.svg" <<'PY' || fail "SVG"
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
ns = "{http://www.w3.org/2000/svg}"
charts = root.findall(ns + "svg")
assert len(charts) == 2, len(charts)
titles = [c.find(ns + "title").text for c in charts]
assert titles == ["Users by referral depth", "The largest referral tree"], titles
text = open(sys.argv[1], encoding="utf-8").read()
assert "beyond the compliance cap" in text and "compliance cap: depth 2" in text
assert float(root.get("height")) == sum(float(c.get("height")) for c in charts)
PY
expect 0 "$PD" referral "$T/store" --by touchpoint --view depth --svg "$T/r2.svg"
grep -q '>e<' "$T/r2.svg" || fail "the tree drawing lacks node e"

# Usage and runtime errors.
expect 2 "$PD" referral "$T/store" --view nope
expect 2 "$PD" referral "$T/store" --max-depth -1
expect 2 "$PD" referral "$T/store" --by nope
expect 2 "$PD" referral "$T/store" --cost-from 2024-03-01
expect 2 "$PD" referral
expect 1 "$PD" referral "$T/missing"
has "$T/err" 'pd referral'
# A cost window: 2024-03-01 .. 03-03 (2 days): spend 20000, paid a, referred b c (d after).
expect 0 "$PD" referral "$T/store" --cost-from 2024-03-01 --cost-to 2024-03-03 --view cost -f csv
has "$T/out" '^all,2,20000,1,2,20000,'

[ "$fails" = 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "ok"
