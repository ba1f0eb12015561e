#!/bin/sh
# pd retention / lifecycle / stickiness, run by meson (suite 'cli'):
#   tests/cli/test-retention-cli.sh PATH/TO/pd
# A hand-made store whose numbers are worked out in the comments.
set -u
PD=${1:?usage: test-retention-cli.sh PATH/TO/pd}
. "$(dirname "$0")/common.sh"

# Weeks (ISO, UTC). 2024-03-04 is a Monday (W10).
# u1: acquire W10 Mon, visit W10 Wed (k0), purchase 12.50 W11 (k1), refund 2.50 W12 (k2)
# u2: acquire W10 Sun 23:30 UTC = Mon 07:30 W11 in Shanghai; visit W12 (k2 in UTC)
# u3: acquire W11 only
# u4: visit only: in no cohort
cat >"$T/ev.csv" <<'CSV'
ts,user,event,touchpoint,amount,referrer
2024-03-04T09:00:00Z,u1,acquire,wecom,,
2024-03-06T09:00:00Z,u1,visit,wecom,,
2024-03-12T09:00:00Z,u1,purchase,wecom,12.50,
2024-03-19T09:00:00Z,u1,refund,wecom,2.50,
2024-03-10T23:30:00Z,u2,acquire,ads,,
2024-03-20T10:00:00Z,u2,visit,ads,,
2024-03-13T10:00:00Z,u3,acquire,ads,,
2024-03-14T10:00:00Z,u4,visit,,,
CSV
expect 0 "$PD" ingest "$T/store" "$T/ev.csv"

# Long table, UTC weeks: cohort W10 = {u1, u2}: k0 1 (u1), k1 1 (u1), k2 2 (u1 refund, u2 visit);
# revenue k1 1250, k2 -250; cumulative per user 625, 500. Cohort W11 = {u3}: nothing back, k2 not observable.
expect 0 "$PD" retention "$T/store" --table long --format csv
has "$T/out" '^cohort,cohort_start,cohort_users,k,eligible,users,rate,revenue,cum_revenue_per_user$'
has "$T/out" '^2024-W10,1709510400000,2,0,2,1,0.5,0,0$'
has "$T/out" '^2024-W10,1709510400000,2,1,2,1,0.5,1250,625$'
has "$T/out" '^2024-W10,1709510400000,2,2,2,2,1,-250,500$'
has "$T/out" '^2024-W11,1710115200000,1,1,1,0,0,0,0$'
has "$T/out" '^2024-W11,1710115200000,1,2,0,0,,,$'
# --complete-only: the data end (Wed 03-20) leaves W12 partial, so W10 k2 and W11 k1 are not observable
expect 0 "$PD" retention "$T/store" --complete-only --table long --format csv
has "$T/out" '^2024-W10,1709510400000,2,2,0,2,,,$'
has "$T/out" '^2024-W11,1710115200000,1,1,0,0,,,$'
has "$T/out" '^2024-W10,1709510400000,2,1,2,1,0.5,1250,625$'
# In Shanghai u2 joins W11 and returns in its k1
expect 0 "$PD" retention "$T/store" --tz Asia/Shanghai --table long --format csv
has "$T/out" '^2024-W11,1710086400000,2,1,2,1,0.5,0,0$'
has "$T/out" '^2024-W10,1709481600000,1,2,1,1,1,-250,1000$'
# On-or-after: W10 k0 counts both users
expect 0 "$PD" retention "$T/store" --mode on_or_after --table long -f csv
has "$T/out" '^2024-W10,1709510400000,2,0,2,2,1,0,0$'
# Matrix (rates) and weighted averages: k1 = (1 + 0) / (2 + 1)
expect 0 "$PD" retention "$T/store" -f csv
has "$T/out" '^cohort,cohort_start,cohort_users,0,1,2$'
has "$T/out" '^2024-W11,1710115200000,1,0,0,$'
has "$T/out" '^1,2,3,1,0.3333333333333333,1250,416.6666666666667$'
# JSON, days, a heat map
expect 0 "$PD" retention "$T/store" --period day --periods 3 -f json --svg "$T/r.svg"
has "$T/out" '"cohort": "2024-03-04"'
has "$T/r.svg" '<svg'
has "$T/r.svg" 'retention'
# Breakdown by acquisition touchpoint: groups named after touchpoints
expect 0 "$PD" retention "$T/store" --by touchpoint --table average -f csv --svg "$T/rb.svg"
has "$T/out" '^ads,1,2,2,0,0,0,0$'
has "$T/out" '^wecom,1,1,1,1,1,1250,1250$'
# Errors
expect 2 "$PD" retention "$T/store" --mode sometimes
expect 1 "$PD" retention "$T/store" --start nosuchevent
expect 2 "$PD" retention "$T/store" --tz Mars/Olympus
expect 2 "$PD" retention "$T/store" --rolling --window 2d

# Lifecycle per UTC week: W10 u1,u2 new; W11 u1 returning, u3, u4 new, u2 dormant;
# W12 u1 returning, u2 resurrecting, u3 u4 dormant.
expect 0 "$PD" lifecycle "$T/store" -f csv --svg "$T/l.svg"
has "$T/out" '^period,period_start,active,active_prev,new,returning,resurrecting,dormant,dormant_neg$'
has "$T/out" '^2024-W10,1709510400000,2,0,2,0,0,0,0$'
has "$T/out" '^2024-W11,1710115200000,3,2,2,1,0,1,-1$'
has "$T/out" '^2024-W12,1710720000000,2,3,0,1,1,2,-2$'
has "$T/l.svg" '<svg'

# Stickiness: user-weeks by active days: u1 W10 2 days; all other user-weeks 1 day (6 of them)
expect 0 "$PD" stickiness "$T/store" -f csv --svg "$T/s.svg"
has "$T/out" '^1,6,0.8571428571428571,1$'
has "$T/out" '^2,1,0.14285714285714285,0.14285714285714285$'
has "$T/s.svg" '<svg'
expect 2 "$PD" stickiness "$T/store" --period day

[ "$fails" = 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "all retention CLI checks passed"
