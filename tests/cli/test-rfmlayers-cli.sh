#!/bin/sh
# pd rfm --layers and pd membership, run by meson (suite 'cli'):
# tests/cli/test-rfmlayers-cli.sh PATH/TO/pd. Hand-worked numbers in the comments.
set -u
PD=${1:?usage: test-rfmlayers-cli.sh PATH/TO/pd}
. "$(dirname "$0")/common.sh"

# Summary (purchase days, UTC, ends on the latest purchase day Mar 10):
# u1 Mar 1, 5, 10: R 0, F 3, M 6000; u2 Mar 2: R 8, F 1, M 500;
# u3 Mar 8 less a Mar 9 refund: R 2, F 1, M 6000.
# Means R 10/3, F 5/3, M 12500/3: u1 HHH = 1, u2 LLL = 8, u3 HLH = 2.
# Quantile edges (n = 3, h = 2q): -R -5.6 -3.2 -1.6 -0.8; F 1 1 1.4 2.2; M 2700 4900 6000 6000:
# u1 553, u2 111, u3 313.
cat >"$T/ev.csv" <<'CSV'
ts,user,event,touchpoint,amount,referrer
2024-03-01T10:00:00Z,u1,purchase,shop,10.00,
2024-03-02T10:00:00Z,u2,purchase,shop,5.00,
2024-03-05T10:00:00Z,u1,purchase,shop,20.00,
2024-03-08T10:00:00Z,u3,purchase,shop,100.00,
2024-03-09T10:00:00Z,u3,refund,shop,40.00,
2024-03-10T10:00:00Z,u1,purchase,shop,30.00,
CSV
expect 0 "$PD" ingest "$T/store" "$T/ev.csv"
expect 0 "$PD" rfm "$T/store" --layers --scores --format csv --svg "$T/layers.svg"
has "$T/out" '^layer,layer_zh,layer_name,r,f,m,users,share,revenue,revenue_share,mean_recency,mean_frequency,mean_monetary,action$'
has "$T/out" '^1,重要价值,Important value,high,high,high,1,0.333'
has "$T/out" '^2,重要发展,Important develop,high,low,high,1,0.333[0-9]*,6000,0.48,2,1,6000,'
has "$T/out" '^8,一般挽留,General win back,low,low,low,1,0.333[0-9]*,500,0.04,8,1,500,'
has "$T/out" '^5,一般价值,General value,high,high,low,0,0,0,0,,,,'
has "$T/out" '^dimension,split,mean,edge_1,edge_2,edge_3,edge_4$'
has "$T/out" '^F,1.66'
has "$T/out" '^user,external_id,recency,frequency,monetary,r_score,f_score,m_score,rfm_score,score_sum,layer,layer_zh,layer_name$'
has "$T/out" '^0,u1,0,3,6000,5,5,3,553,13,1,重要价值,Important value$'
has "$T/out" '^1,u2,8,1,500,1,1,1,111,3,8,一般挽留,General win back$'
has "$T/out" '^2,u3,2,1,6000,3,1,3,313,7,2,重要发展,Important develop$'
has "$T/layers.svg" '<svg'
has "$T/layers.svg" 'Important win back'
# without --scores no per-customer table
expect 0 "$PD" rfm "$T/store" --layers --format csv
grep -q '^user,external_id' "$T/out" && fail "--layers without --scores printed the scores"
# caller's splits R <= 1, F >= 1, M >= 5000: u1 HHH = 1, u2 LHL = 7, u3 LHH = 3
expect 0 "$PD" rfm "$T/store" --layers --scores --thresholds 1,1,5000 --format csv
has "$T/out" '^0,u1,.*,1,重要价值'
has "$T/out" '^1,u2,.*,7,一般保持'
has "$T/out" '^2,u3,.*,3,重要保持'
has "$T/out" '^R,1,3.33'
# score thresholds: R <= 1 -> 5, (1, 3] -> 4, ...; F cuts 1,2,3,4: F 3 -> 3; M cuts in minor units
expect 0 "$PD" rfm "$T/store" --layers --scores --r-cuts 1,3,5,7 --f-cuts 1,2,3,4 --m-cuts 1000,2000,3000,5000 --format csv
has "$T/out" '^0,u1,0,3,6000,5,3,5,535,'
has "$T/out" '^1,u2,8,1,500,1,1,1,111,'
has "$T/out" '^2,u3,2,1,6000,4,1,5,415,'
# a window [Mar 3, Mar 9): u1 Mar 5 (F 1, M 2000), u3 Mar 8 (the refund falls outside);
# R to Mar 8: u1 3, u3 0
expect 0 "$PD" rfm "$T/store" --layers --scores --since 2024-03-03 --until 2024-03-09 --format json
has "$T/out" '"rfm_scores"'
has "$T/out" '"external_id": *"u1", *"recency": *3, *"frequency": *1, *"monetary": *2000'
has "$T/out" '"external_id": *"u3", *"recency": *0, *"frequency": *1, *"monetary": *10000'
expect 0 "$PD" rfm "$T/store" --layers
has "$T/out" 'Important value'
# usage and runtime errors
expect 1 "$PD" rfm "$T/store" --layers --thresholds 1,2
has "$T/err" 'takes 3'
expect 1 "$PD" rfm "$T/store" --layers --r-cuts 1,2,3,4
has "$T/err" 'or none'
expect 1 "$PD" rfm "$T/store" --layers --r-cuts 1,3,3,7 --f-cuts 1,2,3,4 --m-cuts 1,2,3,4
has "$T/err" 'increase'
expect 1 "$PD" rfm "$T/store" --scores
has "$T/err" 'need --layers'

# membership: m joins Mar 1 and buys Mar 2 and Mar 4 (10.00 each); n buys Mar 1 (5.00).
# End = the latest event (Mar 4): each observed 3 days; members 30 x 2 / 3 = 20 purchases
# per 30 days, non-members 10. Before/after: m has no time before joining: excluded.
cat >"$T/m.csv" <<'CSV'
ts,user,event,touchpoint,amount,referrer
2024-03-01T00:00:00Z,m,member_join,,,
2024-03-01T00:00:00Z,n,purchase,shop,5.00,
2024-03-02T00:00:00Z,m,purchase,shop,10.00,
2024-03-04T00:00:00Z,m,purchase,shop,10.00,
CSV
expect 0 "$PD" ingest "$T/mstore" "$T/m.csv"
expect 0 "$PD" membership "$T/mstore" --format csv --svg "$T/m.svg"
has "$T/out" '^comparison,group,users,buyers,buyer_rate,repurchasers,repurchase_rate,purchases,purchases_per_buyer,purchases_per_30d,revenue,revenue_per_user,revenue_per_buyer$'
has "$T/out" '^membership,members,1,1,1,1,1,2,2,20,2000,2000,2000$'
has "$T/out" '^membership,non-members,1,1,1,0,0,1,1,10,500,500,500$'
has "$T/out" '^stored_value,stored-value users,0,0,,0,,0,,,0,,$'
has "$T/out" '^members,before,0,1,0,0,0,0,,,,,$'
has "$T/m.svg" '<svg'
expect 0 "$PD" membership "$T/mstore" --end 2024-03-02 --format csv
has "$T/out" '^membership,members,1,1,1,0,0,1,1,'
expect 1 "$PD" membership "$T/mstore" --member-event nope
has "$T/err" 'no event type'
expect 2 "$PD" membership "$T/mstore" --min-days -1

[ "$fails" = 0 ] && echo "all rfm layers / membership CLI checks passed"
[ "$fails" = 0 ]
