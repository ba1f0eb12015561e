#!/bin/sh
# pd rfm / pd clv / pd ltv, run by meson (suite 'cli'): tests/cli/test-clv-cli.sh PATH/TO/pd
# A hand-made store whose RFM summary is worked out in the comments.
set -u
PD=${1:?usage: test-clv-cli.sh PATH/TO/pd}
. "$(dirname "$0")/common.sh"

# u1: 10.00 + 5.00 on Mar 1 (one period: 1500), 20.00 on Mar 4 less a 3.00 refund on
#     Mar 5 (no purchase that day: it reduces Mar 4 -> 1700), 30.00 on Mar 11.
#     frequency 2, recency 10 days, T 10 (calibration end Mar 11), monetary (1700+3000)/2.
# u2: acquired through "ads" on Mar 2, buys 8.00 on Mar 3 and 12.00 on Mar 15 (holdout).
# u3: a visit only: no RFM row, but an acquired customer of "shop" in pd ltv.
cat >"$T/ev.csv" <<'CSV'
ts,user,event,touchpoint,amount,referrer
2024-03-01T10:00:00Z,u1,purchase,shop,10.00,
2024-03-01T18:00:00Z,u1,purchase,shop,5.00,
2024-03-02T00:00:00Z,u2,acquire,ads,,
2024-03-03T09:00:00Z,u2,purchase,shop,8.00,
2024-03-04T09:00:00Z,u1,purchase,shop,20.00,
2024-03-05T09:00:00Z,u1,refund,shop,3.00,
2024-03-06T09:00:00Z,u3,visit,shop,,
2024-03-11T23:00:00Z,u1,purchase,shop,30.00,
2024-03-15T09:00:00Z,u2,purchase,shop,12.00,
CSV
expect 0 "$PD" ingest "$T/store" "$T/ev.csv"
expect 0 "$PD" rfm "$T/store" --calibration-end 2024-03-11 --holdout-end 2024-03-20 --format csv
has "$T/out" '^user,external_id,first_purchase,touchpoint,frequency,recency,T,monetary_value,revenue,frequency_holdout,monetary_value_holdout,revenue_holdout,duration_holdout$'
has "$T/out" '^0,u1,1709287200000,shop,2,10,10,2350,6200,0,0,0,9$'
has "$T/out" '^1,u2,1709456400000,ads,0,0,8,0,800,1,1200,1200,9$'
[ "$(wc -l <"$T/out")" = 3 ] || fail "rfm: expected 2 customers"
# weeks; no calibration end: T runs to the latest purchase day (Mar 15)
expect 0 "$PD" rfm "$T/store" --unit week --format csv
has "$T/out" '^0,u1,1709287200000,shop,2,1.4285714285714286,2,2350,6200$'
expect 0 "$PD" ltv "$T/store" --format csv
has "$T/out" '^shop,unknown,2,1,6200,3100,6,,,$'
has "$T/out" '^2024-03,ads,1,1,2000,2000,2000$'
expect 0 "$PD" clv "$T/store" --model bgnbd --horizon 6 --discount 0.02 --format json --svg "$T/c"
has "$T/out" '"clv_params_bgnbd"'
has "$T/out" '"clv_scores"'
has "$T/out" '"clv"'
has "$T/c_frequency_recency.svg" '<svg'
has "$T/c_p_alive.svg" '<svg'
expect 0 "$PD" clv "$T/store" --model mbgnbd --calibration-end 2024-03-11 --holdout-end 2024-03-20 --dormant 0.5 --format csv --svg "$T/h"
has "$T/out" '^frequency,customers,actual,predicted$'
has "$T/out" '^touchpoint,customers,dormant,dormant_share,mean_p_alive$'
has "$T/h_holdout.svg" '<svg'
# usage and runtime errors
expect 2 "$PD" clv "$T/store" --model foo
expect 2 "$PD" clv "$T/store" --horizon 1.5
expect 1 "$PD" clv "$T/store" --holdout-end 2024-03-20
has "$T/err" 'needs --calibration-end'
expect 1 "$PD" clv "$T/store" --calibration-end 2024-02-01
has "$T/err" 'no customer with a purchase'
expect 1 "$PD" rfm "$T/missing"
expect 0 "$PD" clv --help
has "$T/out" 'pnbd'

[ "$fails" = 0 ] && echo "clv cli tests passed" || echo "clv cli tests: $fails failed"
[ "$fails" = 0 ]
