#!/bin/sh
# CLV benchmark: fit BG/NBD and Gamma-Gamma on 1 million synthetic customers
# and predict for all of them (P(alive), expected purchases in 52 weeks,
# expected spend, 12-month discounted CLV), with libprivdomain (C) and with
# a numpy/scipy reference of the same likelihoods, gradients and optimiser
# on the same summaries (Debian's python3-scipy). Prints both timings, the
# ratio and how far the two results differ. Each step reports wall and CPU
# time (all threads of the process): on the shared 2-core machine the CPU
# ratio is the steadier figure; the wall ratio is what a caller sees. Run once, briefly (shared cores):
#   tests/bench/bench-clv.sh [N_CUSTOMERS]
set -eu
N=${1:-1000000}
. "$(dirname "$0")/common.sh"
pd_bench_log "release build of clv-bench in $PD_BENCH_BUILD"
if [ -d "$PD_BENCH_BUILD" ]; then
  meson setup --reconfigure "$PD_BENCH_BUILD" "$PD_ROOT" --buildtype=release >/dev/null
else
  meson setup "$PD_BENCH_BUILD" "$PD_ROOT" --buildtype=release >/dev/null
fi
ninja -C "$PD_BENCH_BUILD" tests/clv-bench >/dev/null
BENCH=$PD_BENCH_BUILD/tests/clv-bench
dir=$PD_BENCH_CACHE/clv-n$N-s$PD_BENCH_SEED
mkdir -p "$dir"
if [ ! -f "$dir/summary.done" ]; then
  pd_bench_log "simulating $N BG/NBD + Gamma-Gamma customers -> $dir/summary.csv"
  "$BENCH" gen "$N" "$PD_BENCH_SEED" "$dir/summary.csv"
  touch "$dir/summary.done"
fi
pd_bench_log "libprivdomain"
CLV_BENCH_DUMP=$dir/c.csv "$BENCH" run "$dir/summary.csv" | tee "$dir/c.txt"
pd_bench_log "numpy/scipy reference"
/usr/bin/python3 "$PD_BENCH_DIR/clv_reference.py" "$dir/summary.csv" "$dir/py.csv" | tee "$dir/py.txt"
/usr/bin/python3 - "$dir" <<'PY'
import sys
import numpy as np
d = sys.argv[1]
def times(path):
    out = {}
    for line in open(path):
        k, *v = line.split()
        if k in ("fit_bgnbd", "fit_gg", "predict", "clv12", "total"):
            out[k] = (float(v[0]), float(v[2]))
    return out
c, p = times(d + "/c.txt"), times(d + "/py.txt")
print("%-10s %10s %10s %8s %10s %10s %8s" % ("step", "C wall s", "scipy s", "ratio", "C cpu s", "scipy cpu", "ratio"))
for k in ("fit_bgnbd", "fit_gg", "predict", "clv12", "total"):
    print("%-10s %10.3f %10.3f %7.1fx %10.3f %10.3f %7.1fx" % (k, c[k][0], p[k][0], p[k][0] / c[k][0], c[k][1],
                                                             p[k][1], p[k][1] / c[k][1]))
a, b = np.loadtxt(d + "/c.csv", delimiter=","), np.loadtxt(d + "/py.csv", delimiter=",")
rel = np.abs(a - b) / np.maximum(1e-9, np.abs(b))
print("max relative difference per output (p_alive, purchases52, spend, clv12):",
      " ".join("%.2e" % v for v in rel.max(axis=0)))
PY
