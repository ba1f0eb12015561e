#!/bin/sh
# Touchpoint scorecard benchmark (issue 7): the full scorecard (every metric
# of include/privdomain/touchpoints.h but CLV: acquisition, spend, activation,
# 7/30-day retention, message reach per user, revenue, invites, referrals by
# winning referrer, purchases in the private domain, person/group activity)
# of the users acquired in 2024 (local year in Asia/Shanghai) over the
# ~20M-event generated store, next to DuckDB computing the same in SQL with
# window functions and joins on the same data (loaded from the same CSV; load
# time not counted). Checks that both give the same counts per touchpoint,
# then prints wall and CPU times (best of 3) and the ratios.
# Times: the DuckDB query on its loaded table against (a) the whole
# `pd touchpoints` command (process start, store open with its checksum
# verification, scan, print) and (b) pd_touchpoint_scorecard() alone on an
# open store (tests/bench/touchpoints-bench.c), the like-for-like query time.
# Usage: tests/bench/bench-touchpoints.sh [N_EVENTS]   (default 20000000)
. "$(dirname "$0")/common.sh"
N=${1:-20000000}
pd_bench_setup
pd_bench_data "$N"
out=$PD_BENCH_CACHE/touchpoints-$$
mkdir -p "$out"
trap 'rm -rf "$out"' EXIT

# 2024 in Asia/Shanghai: [2023-12-31T16:00Z, 2024-12-31T16:00Z), 366 local days.
cat >"$out/scorecard.sql" <<'SQL'
WITH e AS (
  SELECT "user" AS u, event, touchpoint AS tp, epoch_ms(ts) AS t, rowid AS seq,
         coalesce(CAST(round(amount * 100) AS BIGINT), 0) AS cents, referrer
  FROM events),
tpd AS (SELECT name, domain, carrier, CAST(round(daily_spend * 100) AS BIGINT) AS spend FROM touchpoints),
bounds AS (SELECT max(t) AS as_of FROM e),
-- the first acquire per user (time, then insertion order), in the period
coh AS (
  SELECT u, t AS t0, coalesce(tp, '(none)') AS g FROM (
    SELECT u, t, tp, row_number() OVER (PARTITION BY u ORDER BY t, seq) AS rn FROM e WHERE event = 'acquire')
  WHERE rn = 1 AND t >= 1704038400000 AND t < 1735660800000),
-- what each acquired user did from acquisition on
ustat AS (
  SELECT c.u, c.g, c.t0,
    max(CASE WHEN e.event = 'activate' THEN 1 ELSE 0 END) AS activated,
    max(CASE WHEN e.event <> 'message_send' THEN e.t END) AS last_act,
    sum(CASE e.event WHEN 'purchase' THEN e.cents WHEN 'refund' THEN -abs(e.cents) ELSE 0 END) AS revenue,
    max(CASE WHEN e.event = 'purchase' THEN 1 ELSE 0 END) AS buyer,
    count(*) FILTER (WHERE e.event = 'purchase') AS conv,
    count(*) FILTER (WHERE e.event = 'purchase' AND d.domain = 'private') AS pconv,
    count(*) FILTER (WHERE e.event = 'invite') AS invites,
    count(*) FILTER (WHERE e.event <> 'message_send' AND e.tp IS NOT NULL) AS touch,
    count(*) FILTER (WHERE e.event <> 'message_send' AND d.carrier IN ('personal_account', 'group', 'wecom')) AS personal
  FROM coh c JOIN e ON e.u = c.u AND e.t >= c.t0 LEFT JOIN tpd d ON d.name = e.tp
  GROUP BY c.u, c.g, c.t0),
card AS (
  SELECT g, count(*) AS acquired, sum(activated) AS activated,
    count(*) FILTER (WHERE (SELECT as_of FROM bounds) - t0 >= 604800000) AS eligible_7,
    count(*) FILTER (WHERE last_act - t0 >= 604800000) AS retained_7,
    count(*) FILTER (WHERE (SELECT as_of FROM bounds) - t0 >= 2592000000) AS eligible_30,
    count(*) FILTER (WHERE last_act - t0 >= 2592000000) AS retained_30,
    sum(buyer) AS buyers, sum(revenue) AS revenue, sum(conv) AS conversions, sum(pconv) AS private_conversions,
    sum(invites) AS invites, sum(touch) AS touch_events, sum(personal) AS personal_events
  FROM ustat GROUP BY g),
-- winning referrer: the first acquire / referral_signup naming one; self-referrals are none
attr AS (
  SELECT u, referrer FROM (
    SELECT u, referrer, row_number() OVER (PARTITION BY u ORDER BY t, seq) AS rn
    FROM e WHERE event IN ('acquire', 'referral_signup') AND referrer IS NOT NULL)
  WHERE rn = 1 AND referrer <> u),
referred AS (SELECT c.g, count(*) AS referred FROM attr a JOIN coh c ON c.u = a.referrer GROUP BY c.g),
-- message reach per (touchpoint, user) in the period, every user
msg AS (
  SELECT tp, u, count(*) FILTER (WHERE event = 'message_send') AS s, count(*) FILTER (WHERE event = 'message_open') AS o
  FROM e WHERE event IN ('message_send', 'message_open') AND tp IS NOT NULL
    AND t >= 1704038400000 AND t < 1735660800000 GROUP BY tp, u),
reach AS (
  SELECT tp, sum(s) AS sends, sum(o) AS opens, count(*) FILTER (WHERE s > 0) AS messaged,
    sum(CASE WHEN s > 0 THEN least(1.0, o / s) END) AS uo_sum
  FROM msg GROUP BY tp),
names AS (SELECT name AS g FROM tpd UNION SELECT g FROM card)
SELECT n.g AS touchpoint, d.spend * 366 AS spend,
  CASE WHEN d.spend > 0 AND c.acquired > 0 THEN d.spend * 366 / c.acquired END AS cac,
  coalesce(c.acquired, 0) AS acquired, coalesce(c.activated, 0) AS activated,
  coalesce(c.eligible_7, 0) AS eligible_7, coalesce(c.retained_7, 0) AS retained_7,
  coalesce(c.eligible_30, 0) AS eligible_30, coalesce(c.retained_30, 0) AS retained_30,
  coalesce(r.messaged, 0) AS messaged, coalesce(r.sends, 0) AS sends, coalesce(r.opens, 0) AS opens,
  r.uo_sum / nullif(r.messaged, 0) AS user_open_rate,
  coalesce(c.buyers, 0) AS buyers, coalesce(c.revenue, 0) AS revenue, coalesce(c.invites, 0) AS invites,
  coalesce(f.referred, 0) AS referred, coalesce(c.conversions, 0) AS conversions,
  coalesce(c.private_conversions, 0) AS private_conversions,
  coalesce(c.touch_events, 0) AS touch_events, coalesce(c.personal_events, 0) AS personal_events
FROM names n LEFT JOIN tpd d ON d.name = n.g LEFT JOIN card c ON c.g = n.g LEFT JOIN reach r ON r.tp = n.g
  LEFT JOIN referred f ON f.g = n.g
ORDER BY 1
SQL

runs() { # runs OUTFILE CMD...: 3 runs; prints "best_wall best_cpu"
  f=$1; shift; bw=""; bc=""
  for i in 1 2 3; do
    /usr/bin/time -f "%e %U %S" -o "$out/time" "$@" >"$f"
    w=$(awk '{ print $1 }' "$out/time"); c=$(awk '{ print $2 + $3 }' "$out/time")
    bw=$(awk -v x="$w" -v y="$bw" 'BEGIN { print (y == "" || x < y) ? x : y }')
    bc=$(awk -v x="$c" -v y="$bc" 'BEGIN { print (y == "" || x < y) ? x : y }')
  done
  echo "$bw $bc"
}
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
pd_bench_log "pd touchpoints --period 2024 --tz Asia/Shanghai (all cores, best of 3)"
set -- $(runs "$out/pd.csv" "$PD" touchpoints "$BENCH_STORE" --period 2024 --tz Asia/Shanghai --format csv)
pd_wall=$1 pd_cpu=$2
pd_bench_log "pd_touchpoint_scorecard alone on the open store (touchpoints-bench, best of 3)"
"$PD_BENCH_BUILD/tests/touchpoints-bench" "$BENCH_STORE" 1704038400000 1735660800000 Asia/Shanghai 0 3 \
  "$out/pd-query.csv" >"$out/pd-query"
q_wall=$(awk '$1 == "scorecard_seconds" { print $2 }' "$out/pd-query")
q_cpu=$(awk '$1 == "scorecard_cpu_seconds" { print $2 }' "$out/pd-query")
q_open=$(awk '$1 == "open_seconds" { print $2 }' "$out/pd-query")
cmp -s "$out/pd.csv" "$out/pd-query.csv" || { echo "touchpoints-bench and pd touchpoints differ" >&2; exit 1; }
pd_bench_log "pd touchpoints --migration (once, for the record)"
a=$(pd_bench_now)
"$PD" touchpoints "$BENCH_STORE" --period 2024 --tz Asia/Shanghai --migration --format csv >"$out/pd-mig.csv"
b=$(pd_bench_now)
mig_wall=$(pd_bench_secs "$a" "$b")
pd_bench_log "DuckDB: load the CSV, then the scorecard query (best of 3)"
node "$PD_BENCH_DIR/duckdb-run.mjs" --csv "$BENCH_CSV" --touchpoints "$BENCH_TOUCHPOINTS" --repeat 3 \
  --results "$out/duck" "$out/scorecard.sql" >"$out/duckdb"
duck_wall=$(awk '$1 == "duckdb_query_seconds" { print $3 }' "$out/duckdb")
duck_cpu=$(awk '$1 == "duckdb_query_cpu_seconds" { print $3 }' "$out/duckdb")
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

# Same answers? Every count per touchpoint exactly; spend, CAC, per-user open rate to 1e-9.
/usr/bin/python3 - "$out" <<'PY' || exit 1
import csv, math, sys
out = sys.argv[1]
def rows(path):
    with open(path, newline="", encoding="utf-8") as f:
        return {r["touchpoint"]: r for r in csv.DictReader(f)}
mine, theirs = rows(out + "/pd.csv"), rows(out + "/duck/scorecard.csv")
bad = 0
if set(mine) != set(theirs):
    print("touchpoints differ", sorted(mine), sorted(theirs)); bad = 1
n = 0
for k in sorted(set(mine) & set(theirs)):
    for col, v in theirs[k].items():
        if col == "touchpoint":
            continue
        a = None if mine[k][col] == "" else float(mine[k][col])
        b = None if v == "" else float(v)
        n += 1
        if (a is None) != (b is None) or (a is not None and not math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)):
            print("%s.%s: pd %s, duckdb %s" % (k, col, a, b)); bad = 1
print("compared %d values over %d touchpoints; %d users acquired" % (n, len(mine), sum(int(r["acquired"]) for r in mine.values())))
sys.exit(bad)
PY

echo "touchpoint scorecard benchmark: $BENCH_EVENTS events, $BENCH_USERS users, $(nproc) cores; pd and DuckDB agree"
echo "  load average before $load_before, after $load_after"
awk -v a="$pd_wall" -v b="$duck_wall" -v c="$pd_cpu" -v d="$duck_cpu" -v m="$mig_wall" -v qw="$q_wall" \
    -v qc="$q_cpu" -v qo="$q_open" 'BEGIN {
  printf "  query, wall: pd_touchpoint_scorecard %8.3f s   duckdb query %8.3f s   ratio duckdb / pd %6.1fx\n", qw, b, b / qw
  printf "  query, cpu:  pd_touchpoint_scorecard %8.3f s   duckdb query %8.3f s   ratio duckdb / pd %6.1fx\n", qc, d, d / qc
  printf "  command, wall: pd touchpoints        %8.3f s   duckdb query %8.3f s   ratio duckdb / pd %6.1fx\n", a, b, b / a
  printf "  command, cpu:  pd touchpoints        %8.3f s   duckdb query %8.3f s   ratio duckdb / pd %6.1fx\n", c, d, d / c
  printf "  (opening the store: %.3f s of the command; pd touchpoints --migration, both tables: %.3f s wall)\n", qo, m }'
