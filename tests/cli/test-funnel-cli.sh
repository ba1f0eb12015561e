#!/bin/sh
# pd funnel / pd stages, run by meson (suite 'cli'): tests/cli/test-funnel-cli.sh PATH/TO/pd
# A hand-made store whose funnel is worked out by hand in the comments.
set -u
PD=${1:?usage: test-funnel-cli.sh PATH/TO/pd}
. "$(dirname "$0")/common.sh"

# u1: acquire, activate after 1h, purchase after 2h      -> step 3
# u2: acquire, activate after 3h, purchase 8 days later  -> step 2 (7d window)
# u3: acquire only                                       -> step 1
# u4: activate only (never acquired)                     -> not in the funnel
cat >"$T/ev.csv" <<'CSV'
ts,user,event,touchpoint,amount,referrer
2024-03-01T00:00:00Z,u1,acquire,wecom,,
2024-03-01T01:00:00Z,u1,activate,wecom,,
2024-03-01T02:00:00Z,u1,purchase,wecom,12.50,
2024-03-02T00:00:00Z,u2,acquire,ads,,
2024-03-02T03:00:00Z,u2,activate,ads,,
2024-03-10T00:00:00Z,u2,purchase,ads,30.00,
2024-03-03T00:00:00Z,u3,acquire,ads,,
2024-03-04T00:00:00Z,u4,activate,,,
CSV
expect 0 "$PD" ingest "$T/store" "$T/ev.csv"
expect 0 "$PD" funnel "$T/store" --steps acquire,activate,purchase --window 7d --format csv --svg "$T/f.svg"
# users 3, 2, 1; activate times 1h and 3h: mean = median = 2h, p90 = 1h + 0.9 * 2h; purchase 1h
has "$T/out" '^1,acquire,3,,1,,,,,,0$'
has "$T/out" '^2,activate,2,0.6666666666666666,0.6666666666666666,1,0.3333333333333333,7200000,7200000,10080000,0$'
has "$T/out" '^3,purchase,1,0.5,0.3333333333333333,1,0.5,3600000,3600000,3600000,0$'
has "$T/f.svg" '<svg'
# a 9-day window lets u2's purchase count
expect 0 "$PD" funnel "$T/store" -s acquire,activate,purchase -w 9d -f json
has "$T/out" '"step": 3, "step_name": "purchase", "users": 2'
# breakdown by acquisition touchpoint, named after the store's touchpoints
expect 0 "$PD" funnel "$T/store" -s acquire,purchase -w 30d -b touchpoint -f csv
has "$T/out" '^ads,2,purchase,1,0.5,'
has "$T/out" '^wecom,2,purchase,1,1,'
# a step predicate with an amount: purchases of at least 20.00
expect 0 "$PD" funnel "$T/store" -s 'acquire,purchase>=20.00' -w 30d -f csv
has "$T/out" '^2,purchase>=20.00,1,'
# usage errors
expect 2 "$PD" funnel "$T/store" --steps acquire
expect 2 "$PD" funnel "$T/store" -s acquire,activate --mode sideways
expect 2 "$PD" funnel "$T/store" -s acquire,activate --by planet
expect 1 "$PD" funnel "$T/store" -s acquire,teleport
expect 1 "$PD" funnel "$T/store" -s acquire,activate --by tag
expect 1 "$PD" funnel "$T/nothing" -s acquire,activate
# stages: March in UTC, RARRA puts retention first
expect 0 "$PD" stages "$T/store" --period 2024-03 --order rarra
has "$T/out" 'RARRA 2024-03, headline (retention): returning_rate'
expect 0 "$PD" stages "$T/store" --period 2024-03 -f csv
# u4 has no acquire: acquired at its first event (an activate), so 4 new users, 3 activated
has "$T/out" '^acquisition,new_users,,4,4,$'
has "$T/out" '^activation,activation_rate,,0.75,3,4$'
has "$T/out" '^revenue,revenue,,4250,4250,$'
expect 2 "$PD" stages "$T/store"
expect 2 "$PD" stages "$T/store" --period 2024-3
expect 2 "$PD" stages "$T/store" --period 2024-03 --order aarr
[ "$fails" = 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "all funnel CLI tests passed"
