#!/bin/sh
# Retention benchmark (issue 4): weekly cohort retention (classic, ISO weeks,
# UTC, cohort = week of the first acquire, k = 0..12) over about 20 million
# events from pd gen, by `pd retention` on the compacted store and by DuckDB
# in SQL on the same events loaded into an in-memory table. Checks that both
# give the same cohort sizes and returned-user counts for every (cohort, k),
# prints both times (best of 3) and the ratio (goal: pd >= 10x faster).
# Usage: tests/bench/bench-retention.sh [N_EVENTS]   (default 20000000)
. "$(dirname "$0")/common.sh"
N=${1:-20000000}
pd_bench_setup
pd_bench_data "$N"
out=$PD_BENCH_CACHE/retention-$$
mkdir -p "$out"
trap 'rm -rf "$out"' EXIT

# The library alone on an open store (best of 5), and its table for the check.
"$PD_BENCH_BUILD/tests/retention-bench" "$BENCH_STORE" 5 "$out/lib.csv" >"$out/lib"
open_s=$(awk '$1 == "open_seconds" { print $2 }' "$out/lib")
lib_s=$(awk '$1 == "retention_seconds" { print $2 }' "$out/lib")

# pd: the whole command (process start, open, scan on all cores, output), best of 3.
best=""
for i in 1 2 3; do
  t0=$(pd_bench_now)
  "$PD" retention "$BENCH_STORE" --period week --periods 13 --table long --format csv >"$out/pd.csv"
  t1=$(pd_bench_now)
  s=$(pd_bench_secs "$t0" "$t1")
  best=$(awk -v a="$best" -v b="$s" 'BEGIN { print (a == "" || b < a) ? b : a }')
done
pd_s=$best

# DuckDB: the same definition in SQL. The first acquire is the earliest by
# (time, insertion order = rowid); a return is a non-acquire event after it
# in that order; weeks are ISO weeks counted from 1970 as pd numbers them.
cat >"$out/retention.sql" <<'SQL'
WITH ev AS (SELECT "user" AS u, event, epoch_ms(ts) AS t, rowid AS r FROM events),
st AS (SELECT u, m.t AS t, m.r AS r, (m.t // 86400000 + 3) // 7 AS w
       FROM (SELECT u, min({'t': t, 'r': r}) AS m FROM ev WHERE event = 'acquire' GROUP BY u)),
sizes AS (SELECT w, count(*) AS n FROM st GROUP BY w),
ret AS (SELECT DISTINCT e.u, s.w, (e.t // 86400000 + 3) // 7 - s.w AS k
        FROM ev e JOIN st s ON e.u = s.u
        WHERE e.event <> 'acquire' AND (e.t > s.t OR (e.t = s.t AND e.r > s.r))
          AND (e.t // 86400000 + 3) // 7 - s.w < 13),
cnt AS (SELECT w, k, count(*) AS users FROM ret GROUP BY w, k)
SELECT z.w, z.n AS cohort_users, c.k, c.users FROM sizes z LEFT JOIN cnt c ON c.w = z.w ORDER BY z.w, c.k
SQL
node "$PD_BENCH_DIR/duckdb-run.mjs" --csv "$BENCH_CSV" --repeat 3 --results "$out" "$out/retention.sql" >"$out/duckdb"
duck_s=$(awk '$1 == "duckdb_query_seconds" { print $3 }' "$out/duckdb")

# Same numbers? Key both by (ISO week index, k); compare cohort sizes and users > 0.
awk -F, 'NR > 1 && $6 > 0 { w = int(($2 / 86400000 + 3) / 7); print w "," $3 "," $4 "," $6 }' "$out/pd.csv" | sort >"$out/pd.keys"
awk -F, 'NR > 1 && $4 != "" && $4 > 0 { print $1 "," $2 "," $3 "," $4 }' "$out/retention.csv" | sort >"$out/duck.keys"
awk -F, 'NR > 1 && $4 == 0 { w = int(($2 / 86400000 + 3) / 7); print w "," $3 }' "$out/pd.csv" | sort >"$out/pd.sizes"
awk -F, 'NR > 1 { print $1 "," $2 }' "$out/retention.csv" | sort -u >"$out/duck.sizes"
cells=$(wc -l <"$out/pd.keys")
if cmp -s "$out/pd.csv" "$out/lib.csv" && cmp -s "$out/pd.keys" "$out/duck.keys" && cmp -s "$out/pd.sizes" "$out/duck.sizes" && [ "$cells" -gt 0 ]; then
  same="yes ($cells non-empty cells, $(wc -l <"$out/pd.sizes") cohorts)"
else
  same="NO"
  diff "$out/pd.keys" "$out/duck.keys" | head -10 >&2
  diff "$out/pd.sizes" "$out/duck.sizes" | head -10 >&2
fi
awk -v ev="$BENCH_EVENTS" -v pd="$pd_s" -v lib="$lib_s" -v open="$open_s" -v duck="$duck_s" -v same="$same" \
    -v cores="$(nproc)" -v load="$(cut -d' ' -f1 /proc/loadavg)" 'BEGIN {
  printf "retention benchmark: weekly cohorts, 13 periods, %d events, %d cores (load average %s)\n", ev, cores, load
  printf "  pd retention, library on an open store %8.3f s   %10.0f events/s\n", lib, ev / lib
  printf "  pd store open (for reference)          %8.3f s\n", open
  printf "  pd retention, whole command            %8.3f s   (open + query + CSV)\n", pd
  printf "  duckdb query (in-memory table)         %8.3f s\n", duck
  printf "  ratio duckdb / pd library              %8.1f x   (goal >= 10)\n", duck / lib
  printf "  ratio duckdb / pd whole command        %8.1f x\n", duck / pd
  printf "  same numbers: %s\n", same
}'
[ "$same" != "NO" ]
