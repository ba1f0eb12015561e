"""Reference BG/NBD + Gamma-Gamma in numpy/scipy on the same summaries as
clv-bench (tests/bench/bench-clv.sh): the same likelihoods, log-parameters,
analytic gradients and BFGS, vectorised the usual way (as the lifetimes
library does). Prints the same lines as clv-bench run."""

import sys
import time

import numpy as np
from scipy.optimize import minimize
from scipy.special import digamma, gammaln, hyp2f1


def bgnbd_nll(logp, x, tx, T):
    r, al, a, b = np.exp(logp)
    n = len(x)
    pos = x > 0
    xm1 = np.where(pos, x, 1.0)
    a1 = gammaln(r + x) - gammaln(r) + r * np.log(al)
    a2 = gammaln(a + b) + gammaln(b + x) - gammaln(b) - gammaln(a + b + x)
    lT, lt = np.log(al + T), np.log(al + tx)
    a3 = -(r + x) * lT
    a4 = np.where(pos, np.log(a) - np.log(b + xm1 - 1) - (r + x) * lt, -np.inf)
    mx = np.maximum(a3, a4)
    e3, e4 = np.exp(a3 - mx), np.exp(a4 - mx)
    s = e3 + e4
    ll = a1 + a2 + mx + np.log(s)
    w3, w4 = e3 / s, e4 / s
    g_r = digamma(r + x) - digamma(r) + np.log(al) - w3 * lT - w4 * lt
    g_al = r / al - (r + x) * (w3 / (al + T) + w4 / (al + tx))
    g_a = digamma(a + b) - digamma(a + b + x) + w4 / a
    g_b = digamma(a + b) + digamma(b + x) - digamma(b) - digamma(a + b + x) - np.where(pos, w4 / (b + xm1 - 1), 0)
    grad = np.array([g_r.sum() * r, g_al.sum() * al, g_a.sum() * a, g_b.sum() * b])
    return -ll.sum() / n, -grad / n


def gg_nll(logp, x, m):
    p, q, v = np.exp(logp)
    n = len(x)
    px = p * x
    lxm = np.log(x * m + v)
    ll = (gammaln(px + q) - gammaln(px) - gammaln(q) + q * np.log(v) + (px - 1) * np.log(m) + px * np.log(x)
          - (px + q) * lxm)
    g_p = x * (digamma(px + q) - digamma(px) + np.log(x) + np.log(m) - lxm)
    g_q = digamma(px + q) - digamma(q) + np.log(v) - lxm
    g_v = q / v - (px + q) / (x * m + v)
    grad = np.array([g_p.sum() * p, g_q.sum() * q, g_v.sum() * v])
    return -ll.sum() / n, -grad / n


def stderr(fun, theta, args, n):
    """Standard errors as libprivdomain reports them: Hessian of the total
    negative log-likelihood in log-parameters by central differences of the
    gradient, inverted, delta method back to the natural scale."""
    k = len(theta)
    H = np.empty((k, k))
    for i in range(k):
        h = 1e-4 * max(1.0, abs(theta[i]))
        tp, tm = theta.copy(), theta.copy()
        tp[i] += h
        tm[i] -= h
        H[i] = (fun(tp, *args)[1] - fun(tm, *args)[1]) / (2 * h)
    H = 0.5 * (H + H.T) * n
    return np.exp(theta) * np.sqrt(np.diag(np.linalg.inv(H)))


def cond_expected(params, t, x, tx, T):
    r, al, a, b = params
    hyp = hyp2f1(r + x, b + x, a + b + x - 1, t / (al + T + t))
    first = (a + b + x - 1) / (a - 1)
    second = 1 - hyp * ((al + T) / (al + t + T)) ** (r + x)
    return first * second / (1 + (x > 0) * (a / (b + np.where(x > 0, x, 1) - 1)) * ((al + T) / (al + tx)) ** (r + x))


def p_alive(params, x, tx, T):
    r, al, a, b = params
    return 1 / (1 + (x > 0) * (a / (b + np.where(x > 0, x, 1) - 1)) * ((al + T) / (al + tx)) ** (r + x))


def main(path):
    data = np.loadtxt(path, delimiter=",", skiprows=1)
    x, tx, T, m = data.T
    t0, c0 = time.perf_counter(), time.process_time()
    res_bg = minimize(bgnbd_nll, np.zeros(4), args=(x, tx, T), jac=True, method="BFGS", options={"gtol": 1e-7})
    se_bg = stderr(bgnbd_nll, res_bg.x, (x, tx, T), len(x))
    t1, c1 = time.perf_counter(), time.process_time()
    rep = x > 0
    res_gg = minimize(gg_nll, np.zeros(3), args=(x[rep], m[rep]), jac=True, method="BFGS", options={"gtol": 1e-7})
    se_gg = stderr(gg_nll, res_gg.x, (x[rep], m[rep]), rep.sum())
    t2, c2 = time.perf_counter(), time.process_time()
    bg, gg = np.exp(res_bg.x), np.exp(res_gg.x)
    alive = p_alive(bg, x, tx, T)
    purch = cond_expected(bg, 52.0, x, tx, T)
    p, q, v = gg
    spend = p * (v + x * m) / (p * x + q - 1)
    t3, c3 = time.perf_counter(), time.process_time()
    value = np.zeros(len(x))
    prev = np.zeros(len(x))
    for k in range(1, 13):
        cur = cond_expected(bg, k * 4.345, x, tx, T)
        value += spend * (cur - prev) / 1.01 ** k
        prev = cur
    t4, c4 = time.perf_counter(), time.process_time()
    print("customers %d" % len(x))
    # "step wall_seconds cpu cpu_seconds"
    for name, a, b, ca, cb in (("fit_bgnbd", t0, t1, c0, c1), ("fit_gg", t1, t2, c1, c2), ("predict", t2, t3, c2, c3),
                               ("clv12", t3, t4, c3, c4), ("total", t0, t4, c0, c4)):
        print("%s %.4f cpu %.4f" % (name, b - a, cb - ca))
    print("bgnbd %.6f %.6f %.6f %.6f ll %.4f converged %d evals %d" % (*bg, -res_bg.fun * len(x), res_bg.success,
                                                                         res_bg.nfev))
    print("gg %.6f %.6f %.6f ll %.4f converged %d evals %d" % (*gg, -res_gg.fun * rep.sum(), res_gg.success,
                                                                 res_gg.nfev))
    print("stderr bgnbd %s gg %s" % (" ".join("%.6f" % v for v in se_bg), " ".join("%.6f" % v for v in se_gg)))
    print("sums p_alive %.6f purchases52 %.6f spend %.6f clv12 %.6f" % (alive.sum(), purch.sum(), spend.sum(),
                                                                       value.sum()))
    if len(sys.argv) > 2:
        np.savetxt(sys.argv[2], np.column_stack([alive, purch, spend, value]), delimiter=",", fmt="%.17g")


if __name__ == "__main__":
    main(sys.argv[1])
