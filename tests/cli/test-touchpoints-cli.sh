#!/bin/sh
# pd touchpoints, run by meson (suite 'cli'): tests/cli/test-touchpoints-cli.sh PATH/TO/pd
# A small store with Chinese touchpoint names; every number below is worked by hand
# (definitions in include/privdomain/touchpoints.h).
set -u
PD=${1:?usage: test-touchpoints-cli.sh PATH/TO/pd}
. "$(dirname "$0")/common.sh"

cat >"$T/tp.csv" <<'CSV'
name,domain,carrier,daily_spend
广告投放,public,feed_ad,100.00
企业微信,private,wecom,0
门店,public,store,
CSV
# a1 joins via the ad at 02-29 17:00 UTC (03-01 01:00 in Shanghai), gets a WeCom message 31 h
#    later, opens it, buys 88.00 in WeCom, visits on 04-10 (the last event: as_of)
# a2 joins via the ad at 03-31 17:00 UTC (04-01 in Shanghai)
# a3 joins via WeCom on 03-10, invites the next day; a4 names a3 and buys 12.00 at the ad
cat >"$T/ev.csv" <<'CSV'
ts,user,event,touchpoint,amount,referrer
2024-02-29T17:00:00Z,a1,acquire,广告投放,,
2024-03-02T00:00:00Z,a1,message_send,企业微信,,
2024-03-02T01:00:00Z,a1,message_open,企业微信,,
2024-03-05T00:00:00Z,a1,purchase,企业微信,88.00,
2024-04-10T00:00:00Z,a1,visit,企业微信,,
2024-03-31T17:00:00Z,a2,acquire,广告投放,,
2024-03-10T00:00:00Z,a3,acquire,企业微信,,
2024-03-11T00:00:00Z,a3,invite,,,
2024-03-20T00:00:00Z,a4,acquire,广告投放,,a3
2024-03-21T00:00:00Z,a4,purchase,广告投放,12.00,
CSV
expect 0 "$PD" ingest "$T/store" "$T/ev.csv" --touchpoints "$T/tp.csv"

# March in Shanghai: the ad acquired a1 and a4; 100.00 x 31 days = 3,100.00, CAC 1,550.00;
# day-7: both eligible, a1 back; day-30: only a1 eligible (a4 joined 21 days before 04-10);
# revenue 88 + 12 = 100.00, LTV 50.00, LTV:CAC 50/1550; purchases 2, 1 in WeCom;
# activity with a touchpoint: a1 4 (3 in WeCom), a4 2: connection 0.5; no messages at the ad:
# score = (0.5 + 1) / 2 = 0.75, strong, weakest connection
expect 0 "$PD" touchpoints "$T/store" --period 2024-03 --tz Asia/Shanghai -f csv --svg "$T/card.svg"
has "$T/out" '^touchpoint,domain,carrier,touchpoints,acquired,days,spend,cac,activated,activation_rate,eligible_7,retained_7,retention_7,eligible_30,retained_30,retention_30,messaged,sends,opens,open_rate,user_open_rate,opens_per_user,buyers,revenue,ltv,clv,ltv_cac,clv_cac,invites,referred,invites_per_user,invite_conversion,k,conversions,private_conversions,private_share,touch_events,personal_events,accessibility,connection,endurance,score,label,weakest$'
has "$T/out" '^广告投放,public,feed_ad,1,2,31,310000,155000,0,0,2,1,0.5,1,1,1,0,0,0,,,,2,10000,5000,,0.03225806451612903,,0,0,0,,0,2,1,0.5,6,3,,0.5,1,0.75,strong,connection$'
# WeCom: a3, spend 0 so CAC is empty (null); a1's message opened: open rate 1; a3 invited once
# and brought a4: K = 1; not back after 7 days: endurance 0, score (1 + 1 + 0) / 3
has "$T/out" '^企业微信,private,wecom,1,1,31,0,,0,0,1,0,0,1,0,0,1,1,1,1,1,1,0,0,0,,,,1,1,1,1,1,0,0,,1,1,1,1,0,0.6666666666666666,strong,endurance$'
# the store: nobody, spend unknown
has "$T/out" '^门店,public,store,1,0,31,,,0,,0,0,,0,0,,0,0,0,,,,0,0,,,,,0,0,,,,0,0,,0,0,,,,,,$'
has "$T/card.svg" '<svg'
has "$T/card.svg" '广告投放'
has "$T/card.svg" 'endurance'
# UTC March: a1 is out (02-29), a2 is in
expect 0 "$PD" touchpoints "$T/store" --period 2024-03 -f csv
has "$T/out" '^广告投放,public,feed_ad,1,2,31,310000,155000,0,0,2,0,0,'
# migration: a1 moves to WeCom after 31 h; a4 never does; a3 never goes public
expect 0 "$PD" touchpoints "$T/store" --period 2024-03 --tz Asia/Shanghai --migration -f csv
has "$T/out" '^direction,touchpoint,carrier,acquired,moved,moved_share,hours_median,hours_p90,moved_retention_7,stayed_retention_7,moved_retention_30,stayed_retention_30,moved_revenue_per_user,stayed_revenue_per_user,moved_clv_per_user,stayed_clv_per_user$'
has "$T/out" '^public_to_private,广告投放,feed_ad,2,1,0.5,31,31,1,0,1,,8800,1200,,$'
has "$T/out" '^private_to_public,企业微信,wecom,1,0,0,,,,0,,0,,0,,$'
# rollups
expect 0 "$PD" touchpoints "$T/store" --period 2024-03 --tz Asia/Shanghai --by domain -f csv
has "$T/out" '^domain,touchpoints,acquired,'
has "$T/out" '^public,2,2,31,310000,155000,'
has "$T/out" '^private,1,1,31,0,,'
expect 0 "$PD" touchpoints "$T/store" --period 2024-03-20 --by carrier -f json
has "$T/out" '"carrier": "feed_ad", "touchpoints": 1, "acquired": 1, "days": 1, "spend": 10000, "cac": 10000,'
# all time: a1..a4 all acquired; table output has the Chinese names
expect 0 "$PD" touchpoints "$T/store"
has "$T/out" '广告投放'
# segments: a filter by expression (a1 and a4 of March came via the ad), a stored segment as
# a breakdown (revenue >= 50.00: a1 only)
expect 0 "$PD" touchpoints "$T/store" --period 2024-03 --tz Asia/Shanghai --segment 'acquired_via = 广告投放' -f csv
has "$T/out" '^广告投放,public,feed_ad,1,2,31,310000,155000,'
has "$T/out" '^企业微信,private,wecom,1,0,31,0,'
expect 0 "$PD" segment "$T/store" define big 'revenue >= 5000'
expect 0 "$PD" touchpoints "$T/store" --period 2024-03 --tz Asia/Shanghai --by segment:big --migration -f csv
has "$T/out" '^segment,touchpoint,domain,carrier,touchpoints,acquired,'
has "$T/out" '^big,广告投放,public,feed_ad,1,1,31,310000,310000,'
has "$T/out" '^segment,direction,touchpoint,'
has "$T/out" '^big,public_to_private,广告投放,feed_ad,1,1,1,31,31,'
expect 2 "$PD" touchpoints "$T/store" --by segment:big --svg "$T/x.svg"
# predicted CLV from models fitted on the spot (a generated business: enough buyers to fit)
expect 0 "$PD" gen --users 3000 --seed 4 --months 4 --store "$T/gen" --quiet
expect 0 "$PD" touchpoints "$T/gen" --period 2024-02 --clv bgnbd --horizon 6 -f csv
/usr/bin/python3 - "$T/out" <<'PY' || fail "CLV columns"
import csv, math, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="", encoding="utf-8")))
with_users = [r for r in rows if int(r["acquired"]) > 0]
assert with_users and all(r["clv"] and float(r["clv"]) > 0 for r in with_users), "clv per acquired user"
for r in with_users:
    if r["cac"]:
        assert math.isclose(float(r["clv_cac"]), float(r["clv"]) / float(r["cac"]), rel_tol=1e-9), r["touchpoint"]
assert all(r["clv"] == "" for r in rows if int(r["acquired"]) == 0), "no users, no CLV"
PY
expect 0 "$PD" touchpoints "$T/gen" --period 2024-02 -f csv
# without --clv the clv column is empty (null) everywhere
/usr/bin/python3 -c 'import csv, sys; r = list(csv.DictReader(open(sys.argv[1], encoding="utf-8")))
sys.exit(not r or any(x["clv"] for x in r))' "$T/out" || fail "clv without a model"
# errors
expect 2 "$PD" touchpoints "$T/store" --period 2024-13
expect 2 "$PD" touchpoints "$T/store" --period March
expect 2 "$PD" touchpoints "$T/store" --by channel
expect 2 "$PD" touchpoints "$T/store" --period 2024-03 --from 2024-03-01
expect 2 "$PD" touchpoints "$T/store" --from 2024-03-02 --to 2024-03-01
expect 1 "$PD" touchpoints "$T/store" --segment nobody
expect 1 "$PD" touchpoints "$T/nothing"
[ "$fails" = 0 ] && echo "all touchpoints CLI checks passed"
exit $((fails != 0))
