/* BG/BB for discrete-time data (Fader, Hardie & Shang 2010).
 * Parameters p = {alpha, beta, gamma, delta}; a row is (x, t_x, n):
 *   L = B(a+x, b+n-x)/B(a,b) B(g, d+n)/B(g,d)
 *     + sum_{i=0}^{n-t_x-1} B(a+x, b+t_x-x+i)/B(a,b) B(g+1, d+t_x+i)/B(g,d)
 * summed with log-sum-exp. */
#include <math.h>

#include "clv_internal.h"
#include "special.h"

static double row_loglik(const double *p, double x, double tx, double n) {
  double a = p[0], b = p[1], g = p[2], dl = p[3];
  double lab = pd__lbeta(a, b), lgd = pd__lbeta(g, dl);
  double acc = pd__lbeta(a + x, b + n - x) - lab + pd__lbeta(g, dl + n) - lgd;
  for (double i = 0; i < n - tx; i += 1.0)
    acc = pd__logaddexp(acc, pd__lbeta(a + x, b + tx - x + i) - lab + pd__lbeta(g + 1, dl + tx + i) - lgd);
  return acc;
}

static double bgbb_loglik(const double *p, const pd__clv_data *d, double *grad) {
  (void)grad;
  double total = 0.0;
  for (size_t i = 0; i < d->n; i++) {
    double w = pd__clv_w(d, i);
    if (w == 0) continue;
    double v = row_loglik(p, d->x[i], d->t_x[i], d->T[i]);
    if (isnan(v)) return NAN;
    total += w * v;
  }
  return total;
}

/* log of Gamma(1+d+n)/Gamma(g+d+n). */
static double lratio(double g, double dl, double n) { return pd__lgamma(1 + dl + n) - pd__lgamma(g + dl + n); }

/* Sum over k = 1..m of B(g, d+n+k)/B(g, d): expected alive periods, used
 * where the closed form degenerates (g = 1). */
static double alive_periods(double g, double dl, double n, double m) {
  double s = 0.0, lgd = pd__lbeta(g, dl);
  for (double k = 1; k <= m; k += 1.0) s += exp(pd__lbeta(g, dl + n + k) - lgd);
  return s;
}

/* sum_{k=1..m} B(g, d+n+k)/B(g, d) in closed form:
 * d/(g-1) G(g+d)/G(1+d) [G(1+d+n)/G(g+d+n) - G(1+d+n+m)/G(g+d+n+m)]. */
static double alive_sum(double g, double dl, double n, double m) {
  if (fabs(g - 1.0) < 1e-8) return alive_periods(g, dl, n, floor(m));
  double l1 = lratio(g, dl, n), l2 = lratio(g, dl, n + m);
  double lead = dl / (g - 1.0) * exp(pd__lgamma(g + dl) - pd__lgamma(1 + dl) + l1);
  return lead * -expm1(l2 - l1);
}

static double bgbb_expected(const double *p, double n) {
  double a = p[0], b = p[1];
  if (!(n > 0)) return 0.0;
  /* E[X(n)] = a/(a+b) * sum_{k=1..n} P(alive at k) */
  return a / (a + b) * alive_sum(p[2], p[3], 0.0, floor(n));
}

static double bgbb_alive(const double *p, double x, double tx, double n) {
  double a = p[0], b = p[1], g = p[2], dl = p[3];
  double num = pd__lbeta(a + x, b + n - x) - pd__lbeta(a, b) + pd__lbeta(g, dl + n) - pd__lbeta(g, dl);
  return exp(num - row_loglik(p, x, tx, n));
}

/* E[X(n, n+m) | x, t_x, n] = B(a+x+1, b+n-x)/B(a,b) * sum_k B(g, d+n+k)/B(g,d) / L. */
static double bgbb_cond(const double *p, double x, double tx, double n, double m) {
  double a = p[0], b = p[1], g = p[2], dl = p[3];
  m = floor(m);
  if (!(m > 0)) return 0.0;
  double lp = pd__lbeta(a + x + 1, b + n - x) - pd__lbeta(a, b);
  double s = alive_sum(g, dl, n, m);
  /* alive_sum already carries 1/B(g, d); divide by L. */
  return exp(lp + log(s) - row_loglik(p, x, tx, n));
}

const pd__clv_family pd__clv_bgbb = {
  PD_CLV_BGBB, "bgbb", 4, {"alpha", "beta", "gamma", "delta"}, {1.0, 1.0, 1.0, 1.0},
  bgbb_loglik, 0, bgbb_expected, bgbb_cond, bgbb_alive, NULL, NULL};
