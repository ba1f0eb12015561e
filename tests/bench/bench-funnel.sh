#!/bin/sh
# Funnel benchmark (issue 3): a 4-step, 7-day funnel acquire -> activate ->
# purchase -> invite (default windowFunnel semantics) over the ~20M-event
# generated store, next to DuckDB computing the same funnel in SQL on the
# same data (loaded from the same CSV; load time not counted). Checks that
# both give the same users per step and the same mean / median / p90 time
# from the previous step, then prints both times and the ratio (goal >= 10).
# Times: pd_funnel_run on an open store (tests/bench/funnel-bench.c, best
# of 3) vs the DuckDB query on its loaded table (best of 3); the whole
# `pd funnel` command time (open + query + print) is printed too.
# Usage: tests/bench/bench-funnel.sh [N_EVENTS]   (default 20000000)
. "$(dirname "$0")/common.sh"
N=${1:-20000000}
pd_bench_setup
pd_bench_data "$N"
out=$PD_BENCH_CACHE/funnel-$$
mkdir -p "$out"
trap 'rm -rf "$out"' EXIT

# The same definition in SQL: every acquire starts an attempt; each next step
# is its earliest event at or after the previous step's, at most 7 days after
# the acquire; a user's level is the best attempt's; times come from the
# earliest-starting attempt with that level.
# (No "IS NOT NULL" in the ON clauses: that turns DuckDB's hash joins into
# blockwise nested loops; a NULL bound matches nothing anyway.)
cat >"$out/funnel.sql" <<'SQL'
WITH e AS (
  SELECT "user" AS u, event, epoch_ms(ts) AS t FROM events
  WHERE event IN ('acquire', 'activate', 'purchase', 'invite')),
a AS (SELECT DISTINCT u, t AS t0 FROM e WHERE event = 'acquire'),
s2 AS (SELECT a.u, a.t0, min(e.t) AS t1 FROM a LEFT JOIN e
       ON e.u = a.u AND e.event = 'activate' AND e.t >= a.t0 AND e.t <= a.t0 + 604800000
       GROUP BY a.u, a.t0),
s3 AS (SELECT s2.u, s2.t0, s2.t1, min(e.t) AS t2 FROM s2 LEFT JOIN e
       ON e.u = s2.u AND e.event = 'purchase' AND e.t >= s2.t1
          AND e.t <= s2.t0 + 604800000
       GROUP BY s2.u, s2.t0, s2.t1),
s4 AS (SELECT s3.u, s3.t0, s3.t1, s3.t2, min(e.t) AS t3 FROM s3 LEFT JOIN e
       ON e.u = s3.u AND e.event = 'invite' AND e.t >= s3.t2
          AND e.t <= s3.t0 + 604800000
       GROUP BY s3.u, s3.t0, s3.t1, s3.t2),
lv AS (SELECT *, CASE WHEN t3 IS NOT NULL THEN 4 WHEN t2 IS NOT NULL THEN 3
                      WHEN t1 IS NOT NULL THEN 2 ELSE 1 END AS level FROM s4),
best AS (SELECT * FROM lv QUALIFY row_number() OVER (PARTITION BY u ORDER BY level DESC, t0) = 1),
steps AS (SELECT k, CASE k WHEN 2 THEN t1 - t0 WHEN 3 THEN t2 - t1 WHEN 4 THEN t3 - t2 END AS dt, level
          FROM best, range(1, 5) r(k) WHERE level >= k)
SELECT k AS step, count(*) AS users, avg(dt) AS time_mean_ms,
       quantile_cont(dt, 0.5) AS time_median_ms, quantile_cont(dt, 0.9) AS time_p90_ms
FROM steps GROUP BY k ORDER BY k
SQL

pd_bench_log "pd funnel (all cores): the command, then the query alone (funnel-bench, best of 3)"
t0=$(pd_bench_now)
"$PD" funnel "$BENCH_STORE" --steps acquire,activate,purchase,invite --window 7d --format csv >"$out/pd.csv"
t1=$(pd_bench_now)
cmd_s=$(pd_bench_secs "$t0" "$t1")
"$PD_BENCH_BUILD/tests/funnel-bench" "$BENCH_STORE" 0 3 >"$out/pd-query"
pd_s=$(awk '$1 == "funnel_seconds" { print $2 }' "$out/pd-query")
open_s=$(awk '$1 == "open_seconds" { print $2 }' "$out/pd-query")
for k in 1 2 3 4; do # the bench driver counts the same users as the command
  a=$(awk -v k=$k '$1 == "users" && $2 == k { print $3 }' "$out/pd-query")
  b=$(awk -F, -v k=$k 'FNR > 1 && $1 == k { print $3 }' "$out/pd.csv")
  [ "$a" = "$b" ] || { echo "funnel-bench step $k: $a users, pd funnel: $b" >&2; exit 1; }
done
pd_bench_log "DuckDB: load the CSV, then the funnel query (best of 3)"
node "$PD_BENCH_DIR/duckdb-run.mjs" --csv "$BENCH_CSV" --repeat 3 --results "$out/duck" "$out/funnel.sql" >"$out/duckdb"
duck_s=$(awk '$1 == "duckdb_query_seconds" { print $3 }' "$out/duckdb")

# Same numbers? users exactly; times to 1e-6 relative.
awk -F, 'NR == FNR { if (FNR > 1) { u[$1] = $2; m[$1] = $3; med[$1] = $4; p[$1] = $5 }; next }
  FNR > 1 {
    s = $1; bad = 0
    if (u[s] != $3) { print "step " s ": users pd " $3 " duckdb " u[s]; bad = 1 }
    if (s > 1) {
      split($8 "," $9 "," $10, mine, ","); split(m[s] "," med[s] "," p[s], theirs, ",")
      for (i = 1; i <= 3; i++) {
        d = mine[i] - theirs[i]; if (d < 0) d = -d
        if (d > 1e-6 * (theirs[i] < 0 ? -theirs[i] : theirs[i]) + 1e-6) { print "step " s " time " i ": pd " mine[i] " duckdb " theirs[i]; bad = 1 }
      }
    }
    n++; fails += bad
  }
  END { if (n != 4 || fails) { print "MISMATCH"; exit 1 } }' "$out/duck/funnel.csv" "$out/pd.csv" >"$out/check" ||
  { cat "$out/check" "$out/pd.csv" "$out/duck/funnel.csv" >&2; exit 1; }

echo "funnel benchmark: $BENCH_EVENTS events, $BENCH_USERS users, $(nproc) cores"
echo "  acquire -> activate -> purchase -> invite, window 7d, default mode; pd and DuckDB agree:"
awk -F, 'FNR > 1 { printf "    step %d %-9s %8d users", $1, $2, $3; if ($1 > 1) printf "   mean %.0f s from the previous step", $8 / 1000; print "" }' "$out/pd.csv"
awk -v a="$pd_s" -v b="$duck_s" -v c="$cmd_s" -v o="$open_s" 'BEGIN {
  printf "  pd funnel query (store open)     %8.3f s\n", a
  printf "  duckdb query (data loaded)       %8.3f s\n", b
  printf "  ratio duckdb / pd                %8.1fx  (goal >= 10x)\n", b / a
  printf "  (whole pd funnel command %.3f s, of which opening the store %.3f s)\n", c, o }'
