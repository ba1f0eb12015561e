#!/bin/sh
# pd attribution, run by meson (suite 'cli'): tests/cli/test-attribution-cli.sh PATH/TO/pd
# The store of tests/test-attribution.c (store_hand_worked), whose credit is worked out by
# hand there: lookback 30d, half-life 7d, position 40/20/40.
set -u
PD=${1:?usage: test-attribution-cli.sh PATH/TO/pd}
. "$(dirname "$0")/common.sh"

# u1: A day 0, B day 7, C (message_open) day 21, purchase 11.00 day 28 -> path A, B, C
# u2: B day 0, purchase 5.00 day 40 -> no touch within 30 days: "(none)"
# u3: A day 0, purchase 0.00 day 1 -> path A, a conversion worth 0
cat >"$T/ev.csv" <<'CSV'
ts,user,event,touchpoint,amount,referrer
2024-03-01T00:00:00Z,u1,visit,A,,
2024-03-08T00:00:00Z,u1,visit,B,,
2024-03-22T00:00:00Z,u1,message_open,C,,
2024-03-29T00:00:00Z,u1,purchase,shop,11.00,
2024-03-01T00:00:00Z,u2,visit,B,,
2024-04-10T00:00:00Z,u2,purchase,shop,5.00,
2024-03-01T00:00:00Z,u3,visit,A,,
2024-03-02T00:00:00Z,u3,purchase,shop,0.00,
CSV
expect 0 "$PD" ingest "$T/store" "$T/ev.csv"
expect 0 "$PD" attribution "$T/store" --format csv --svg "$T/a.svg"
has "$T/out" '^touchpoint,domain,paths,first_conversions,first_revenue,last_conversions,last_revenue,linear_conversions,linear_revenue,decay_conversions,decay_revenue,position_conversions,position_revenue,markov_conversions,markov_revenue,markov_removal_effect$'
# first 1100 + 0 | last 0 | linear 367 (1/3 + 1) | decay 100 | position 440 | markov 550, RE 1
has "$T/out" '^A,unknown,2,2,1100,1,0,1.333334,367,1.090909,100,1.4,440,1,550,1$'
has "$T/out" '^B,unknown,1,0,0,0,0,0.333333,367,0.181818,200,0.2,220,0.5,275,0.5$'
has "$T/out" '^C,unknown,1,0,0,1,1100,0.333333,366,0.727273,800,0.4,440,0.5,275,0.5$'
has "$T/out" '^(none),,1,1,500,1,500,1,500,1,500,1,500,1,500,$'
lacks "$T/out" '^shop,'
has "$T/a.svg" '<svg'
has "$T/a.svg" 'time decay'
has "$T/a.svg" 'Markov'
# one model, with shares of the totals (3 conversions, 16.00)
expect 0 "$PD" attribution "$T/store" --model last -f csv
has "$T/out" '^touchpoint,domain,paths,conversions,revenue,conversion_share,revenue_share$'
has "$T/out" '^C,unknown,1,1,1100,0.3333333333333333,0.6875$'
expect 0 "$PD" attribution "$T/store" -m markov -f json
has "$T/out" '"touchpoint": "B", "domain": "unknown", "paths": 1, "conversions": 0.5, "revenue": 275,'
# a 50-day lookback reaches u2's visit of B; position 30/40/30; decay with another half-life
expect 0 "$PD" attribution "$T/store" -m first --lookback 50d -f csv
has "$T/out" '^B,unknown,2,1,500,'
lacks "$T/out" '(none)'
expect 0 "$PD" attribution "$T/store" -m position --position 30,40,30 -f csv
has "$T/out" '^B,unknown,1,0.4,440,'
expect 0 "$PD" attribution "$T/store" -m decay --half-life 14d -f csv
# weights 2^-2, 2^-1.5, 2^-0.5 of 1100: 175.4, 248.1, 701.6... -> 1100 in all (checked by sum)
awk -F, 'NR > 1 { s += $5 } END { exit s == 1600 ? 0 : 1 }' "$T/out" || fail "decay 14d does not add up to 1600"
# the conversion predicate and the touch types
expect 0 "$PD" attribution "$T/store" -m last --conversion 'purchase>=6.00' --touches visit -f csv
has "$T/out" '^B,unknown,1,1,1100,1,1$'
lacks "$T/out" '(none)'
# table output names the rows too
expect 0 "$PD" attribution "$T/store" -m linear
has "$T/out" '(none)'
# errors
expect 2 "$PD" attribution "$T/store" --model shapley
expect 2 "$PD" attribution "$T/store" --position 50,20,40
expect 2 "$PD" attribution "$T/store" --lookback soon
expect 1 "$PD" attribution "$T/store" --conversion teleport
expect 1 "$PD" attribution "$T/store" --touches teleport
expect 1 "$PD" attribution "$T/nothing"
# an empty store: no rows, no error
head -1 "$T/ev.csv" >"$T/empty.csv"
expect 0 "$PD" ingest "$T/empty" "$T/empty.csv"
expect 0 "$PD" attribution "$T/empty" -f csv
[ "$(wc -l <"$T/out")" -le 1 ] || fail "empty store gave rows"
[ "$fails" = 0 ] && echo "all attribution CLI checks passed"
exit $((fails != 0))
