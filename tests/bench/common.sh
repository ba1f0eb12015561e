# Shared setup of the benchmarks; source it from a script in tests/bench/:
#   . "$(dirname "$0")/common.sh"
#   pd_bench_setup                 # release build in build-bench/, DuckDB for node
#   pd_bench_data 20000000         # CSV + compacted store, cached in $PD_BENCH_CACHE
#   "$PD" funnel "$BENCH_STORE" ...; node "$PD_BENCH_DIR/duckdb-run.mjs" --csv "$BENCH_CSV" q.sql
# Variables: PD_ROOT, PD_BENCH_DIR, PD_BENCH_BUILD, PD (the release pd),
# PD_BENCH_CACHE (default /tmp/pd-bench); after pd_bench_data: BENCH_CSV,
# BENCH_TOUCHPOINTS, BENCH_STORE, BENCH_USERS, BENCH_EVENTS.
# Benchmarks are not part of tests/run.sh; run them once, briefly (shared cores).
set -eu
PD_BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
PD_ROOT=$(cd "$PD_BENCH_DIR/../.." && pwd)
PD_BENCH_BUILD=$PD_ROOT/build-bench
PD_BENCH_CACHE=${PD_BENCH_CACHE:-/tmp/pd-bench}
PD=$PD_BENCH_BUILD/examples/pd
PD_BENCH_SEED=${PD_BENCH_SEED:-1}
# pd gen writes about 39 events per user.
PD_BENCH_EVENTS_PER_USER=39

pd_bench_log() { echo "[bench $(date -u +%H:%M:%S)] $*" >&2; }

# pd_bench_time NAME CMD...: runs CMD, appending "NAME_wall S", "NAME_cpu S"
# (user + system) to $PD_BENCH_TIMES. The machine may be shared: the CPU
# time says what a step costs, the wall time what it took.
pd_bench_time() {
  name=$1; shift
  /usr/bin/time -f "${name}_wall %e
${name}_cpu %U %S" -o "$PD_BENCH_TIMES.tmp" "$@"
  awk '{ if (NF == 3) printf "%s %.2f\n", $1, $2 + $3; else print }' "$PD_BENCH_TIMES.tmp" >>"$PD_BENCH_TIMES"
  rm -f "$PD_BENCH_TIMES.tmp"
}
pd_bench_get() { awk -v k="$1" '$1 == k { print $2 }' "${2:-$PD_BENCH_TIMES}"; }

# Seconds since the epoch with nanoseconds, for timing steps.
pd_bench_now() { date +%s.%N; }
pd_bench_secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }

pd_bench_setup() {
  extra=""
  command -v npm >/dev/null || extra="nodejs npm"
  [ -x /usr/bin/time ] || extra="$extra time"
  (cd "$PD_ROOT" && PD_EXTRA_DEBS="$extra" . tests/deps.sh)
  if [ -d "$PD_BENCH_BUILD" ]; then
    meson setup --reconfigure "$PD_BENCH_BUILD" "$PD_ROOT" --buildtype=release >/dev/null
  else
    meson setup "$PD_BENCH_BUILD" "$PD_ROOT" --buildtype=release >/dev/null
  fi
  ninja -C "$PD_BENCH_BUILD" >/dev/null
  if [ ! -f "$PD_BENCH_DIR/node_modules/@duckdb/node-api/package.json" ]; then
    pd_bench_log "npm install @duckdb/node-api into tests/bench/node_modules"
    (cd "$PD_BENCH_DIR" && npm install --no-audit --no-fund --silent >&2)
  fi
}

# pd_bench_csv N_EVENTS: generates about N_EVENTS events once as CSV (plus
# touchpoints.csv), cached under $PD_BENCH_CACHE by size and seed; sets
# BENCH_CSV, BENCH_TOUCHPOINTS, BENCH_USERS, BENCH_EVENTS, BENCH_STORE (path
# only) and BENCH_DIR.
pd_bench_csv() {
  n=${1:?pd_bench_csv N_EVENTS}
  BENCH_USERS=$(( (n + PD_BENCH_EVENTS_PER_USER - 1) / PD_BENCH_EVENTS_PER_USER ))
  BENCH_DIR=$PD_BENCH_CACHE/u$BENCH_USERS-s$PD_BENCH_SEED
  mkdir -p "$BENCH_DIR"
  # One benchmark at a time per data set: the cache is shared by checkouts,
  # and two runs on 2 cores would only measure each other. Held until exit.
  if [ -z "${PD_BENCH_LOCKED:-}" ]; then
    exec 8>"$BENCH_DIR/.lock"
    if ! flock -n 8; then
      pd_bench_log "waiting for another benchmark on $BENCH_DIR"
      flock 8
    fi
    PD_BENCH_LOCKED=1
  fi
  BENCH_CSV=$BENCH_DIR/events.csv
  BENCH_TOUCHPOINTS=$BENCH_DIR/touchpoints.csv
  BENCH_STORE=$BENCH_DIR/store
  if [ ! -f "$BENCH_DIR/csv.done" ]; then
    pd_bench_log "pd gen --users $BENCH_USERS --seed $PD_BENCH_SEED -> $BENCH_CSV"
    "$PD" gen --users "$BENCH_USERS" --seed "$PD_BENCH_SEED" --out "$BENCH_CSV" >&2
    echo $(($(wc -l <"$BENCH_CSV") - 1)) >"$BENCH_DIR/csv.done"
  fi
  BENCH_EVENTS=$(cat "$BENCH_DIR/csv.done")
  export BENCH_CSV BENCH_TOUCHPOINTS BENCH_STORE BENCH_USERS BENCH_EVENTS BENCH_DIR
}

# pd_bench_data N_EVENTS: pd_bench_csv, then a compacted store of those
# events in $BENCH_STORE (built once, cached).
pd_bench_data() {
  pd_bench_csv "$@"
  if [ ! -f "$BENCH_DIR/store.done" ]; then
    rm -rf "$BENCH_STORE"
    pd_bench_log "pd ingest + compact -> $BENCH_STORE"
    "$PD" ingest --quiet "$BENCH_STORE" "$BENCH_CSV" --touchpoints "$BENCH_TOUCHPOINTS" >&2
    "$PD" compact --quiet "$BENCH_STORE" >&2
    touch "$BENCH_DIR/store.done"
  fi
}
