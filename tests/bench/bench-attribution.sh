#!/bin/sh
# Attribution benchmark (issue 7): last-touch and linear attribution of every
# purchase to the touches (acquire, activate, visit, message_open,
# referral_signup, member_join events with a touchpoint) in the 30 days
# before it, over the ~20M-event generated store, next to DuckDB computing
# the same in SQL with window functions on the same data (loaded from the
# same CSV; load time not counted). Checks that both give the same answers
# (last touch: conversions and revenue per touchpoint exactly; linear: paths
# and direct conversions exactly, credit within the integer rounding, i.e.
# less than one cent per touch), then prints both times and the ratios.
# Times: the whole `pd attribution` command (open, query, print; best of 3)
# vs the DuckDB query on its loaded table (best of 3).
# Usage: tests/bench/bench-attribution.sh [N_EVENTS]   (default 20000000)
. "$(dirname "$0")/common.sh"
N=${1:-20000000}
pd_bench_setup
pd_bench_data "$N"
out=$PD_BENCH_CACHE/attribution-$$
mkdir -p "$out"
trap 'rm -rf "$out"' EXIT

# Events in each user's order: time, then file (= insertion) order, which is
# the table's rowid. A purchase's path: the user's touches before it in that
# order within 30 days (2592000000 ms), the boundary included.
cat >"$out/common.sql" <<'SQL'
WITH e AS (
  SELECT "user" AS u, event, touchpoint AS tp, epoch_ms(ts) AS t, rowid AS seq,
         coalesce(CAST(round(amount * 100) AS BIGINT), 0) AS cents,
         event IN ('acquire', 'activate', 'visit', 'message_open', 'referral_signup', 'member_join')
           AND touchpoint IS NOT NULL AS touch
  FROM events)
SQL
# Last touch: the last touch before each purchase (a window over the user's
# history); a purchase whose last touch is older than 30 days is direct.
{ cat "$out/common.sql"; cat <<'SQL'
, x AS (
  SELECT event, t, cents,
    last_value(CASE WHEN touch THEN tp END IGNORE NULLS) OVER w AS last_tp,
    last_value(CASE WHEN touch THEN t END IGNORE NULLS) OVER w AS last_t
  FROM e
  WINDOW w AS (PARTITION BY u ORDER BY t, seq ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING))
SELECT CASE WHEN last_t >= t - 2592000000 THEN last_tp ELSE '(none)' END AS touchpoint,
       count(*) AS conversions, sum(cents) AS revenue
FROM x WHERE event = 'purchase' GROUP BY 1 ORDER BY 1
SQL
} >"$out/last.sql"
# Linear: every touch on a purchase's path gets 1/n of it (n from a window
# over the purchase's path); purchases without a touch are direct.
{ cat "$out/common.sql"; cat <<'SQL'
, c AS (SELECT u, t, seq, cents FROM e WHERE event = 'purchase'),
h AS (SELECT u, t, seq, tp FROM e WHERE touch),
p AS (
  SELECT c.seq AS cid, c.cents, h.tp, count(*) OVER (PARTITION BY c.seq) AS n
  FROM c JOIN h ON h.u = c.u AND h.t >= c.t - 2592000000 AND h.t <= c.t
    AND (h.t < c.t OR h.seq < c.seq)),
d AS (SELECT count(*) AS conversions, sum(cents) AS revenue FROM c
      WHERE NOT EXISTS (SELECT 1 FROM p WHERE p.cid = c.seq))
SELECT tp AS touchpoint, count(DISTINCT cid) AS paths, count(*) AS touches,
       sum(1.0 / n) AS conversions, sum(cents / n) AS revenue
FROM p GROUP BY tp
UNION ALL SELECT '(none)', conversions, conversions, conversions, revenue FROM d
ORDER BY 1
SQL
} >"$out/linear.sql"

best_of_3() { # best_of_3 OUTFILE CMD...: runs CMD 3 times, prints the best wall seconds
  f=$1; shift; best=""
  for i in 1 2 3; do
    a=$(pd_bench_now); "$@" >"$f"; b=$(pd_bench_now); s=$(pd_bench_secs "$a" "$b")
    best=$(awk -v x="$s" -v y="$best" 'BEGIN { print (y == "" || x < y) ? x : y }')
  done
  echo "$best"
}
pd_bench_log "pd attribution --model last / linear (all cores, best of 3)"
last_s=$(best_of_3 "$out/pd-last.csv" "$PD" attribution "$BENCH_STORE" --model last --lookback 30d --format csv)
lin_s=$(best_of_3 "$out/pd-linear.csv" "$PD" attribution "$BENCH_STORE" --model linear --lookback 30d --format csv)
pd_bench_log "pd attribution --model all (once, for the record)"
a=$(pd_bench_now); "$PD" attribution "$BENCH_STORE" --format csv >"$out/pd-all.csv"; b=$(pd_bench_now)
all_s=$(pd_bench_secs "$a" "$b")
pd_bench_log "DuckDB: load the CSV, then the two queries (best of 3)"
node "$PD_BENCH_DIR/duckdb-run.mjs" --csv "$BENCH_CSV" --repeat 3 --results "$out/duck" "$out/last.sql" "$out/linear.sql" >"$out/duckdb"
duck_last=$(awk '$1 == "duckdb_query_seconds" && $2 ~ /last/ { print $3 }' "$out/duckdb")
duck_lin=$(awk '$1 == "duckdb_query_seconds" && $2 ~ /linear/ { print $3 }' "$out/duckdb")

# Same answers? (names may hold commas: read the CSVs properly)
/usr/bin/python3 - "$out" <<'PY' || exit 1
import csv, sys
out = sys.argv[1]
def rows(path, key="touchpoint"):
    with open(path, newline="", encoding="utf-8") as f:
        return {r[key]: r for r in csv.DictReader(f)}
bad = 0
mine, theirs = rows(out + "/pd-last.csv"), rows(out + "/duck/last.csv")
if set(k for k, r in mine.items() if int(r["revenue"]) or float(r["conversions"])) != set(theirs):
    print("last touch: touchpoints differ", sorted(mine), sorted(theirs)); bad = 1
for k, r in theirs.items():
    m = mine.get(k)
    if not m or round(float(m["conversions"])) != int(r["conversions"]) or int(m["revenue"]) != int(r["revenue"]):
        print("last touch", k, "pd", m and (m["conversions"], m["revenue"]), "duckdb", r["conversions"], r["revenue"]); bad = 1
mine, theirs = rows(out + "/pd-linear.csv"), rows(out + "/duck/linear.csv")
if set(mine) != set(theirs):
    print("linear: touchpoints differ", sorted(mine), sorted(theirs)); bad = 1
for k, r in theirs.items():
    m = mine.get(k)
    if not m:
        continue
    touches = int(r["touches"])
    if int(m["paths"]) != int(r["paths"]):
        print("linear", k, "paths pd", m["paths"], "duckdb", r["paths"]); bad = 1
    if abs(int(m["revenue"]) - float(r["revenue"])) > touches or abs(float(m["conversions"]) - float(r["conversions"])) > 1e-6 * touches + 1e-6:
        print("linear", k, "pd", m["conversions"], m["revenue"], "duckdb", r["conversions"], r["revenue"]); bad = 1
    if k == "(none)" and int(m["revenue"]) != int(r["revenue"]):
        print("direct revenue pd", m["revenue"], "duckdb", r["revenue"]); bad = 1
all_ = list(csv.DictReader(open(out + "/pd-all.csv", newline="", encoding="utf-8")))
total = sum(int(r["revenue"]) for r in mine.values())
for m in ("first", "last", "linear", "decay", "position", "markov"):
    s = sum(int(r[m + "_revenue"]) for r in all_)
    if s != total:
        print("model", m, "credits", s, "of", total); bad = 1
print("conversions %d, revenue %.2f, direct %s" % (round(sum(float(r["conversions"]) for r in mine.values())), total / 100, theirs.get("(none)", {}).get("conversions")))
sys.exit(bad)
PY

echo "attribution benchmark: $BENCH_EVENTS events, $BENCH_USERS users, $(nproc) cores, lookback 30d; pd and DuckDB agree"
/usr/bin/python3 - "$out/pd-all.csv" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="", encoding="utf-8")))
print("    %-18s %12s %12s %12s %12s" % ("touchpoint", "last", "linear", "position", "markov"))
for r in rows:
    print("    %-18s %12.2f %12.2f %12.2f %12.2f" % (r["touchpoint"][:18], int(r["last_revenue"]) / 100,
          int(r["linear_revenue"]) / 100, int(r["position_revenue"]) / 100, int(r["markov_revenue"]) / 100))
PY
awk -v a="$last_s" -v b="$duck_last" -v c="$lin_s" -v d="$duck_lin" -v e="$all_s" 'BEGIN {
  printf "  last touch: pd attribution (command) %8.3f s   duckdb query %8.3f s   ratio duckdb / pd %6.1fx\n", a, b, b / a
  printf "  linear:     pd attribution (command) %8.3f s   duckdb query %8.3f s   ratio duckdb / pd %6.1fx\n", c, d, d / c
  printf "  (pd attribution --model all, every model and the Markov chain in one scan: %.3f s)\n", e }'
