/* Pareto/NBD (Schmittlein, Morrison & Colombo 1987) in the likelihood form
 * of Fader, Hardie & Lee's note (2005). Parameters p = {r, alpha, s, beta}.
 *   L = G(r+x) a^r b^s / G(r) * [ 1/((alpha+T)^(r+x) (beta+T)^s) + s/(r+s+x) A0 ]
 * where A0 is a difference of two 2F1 terms; everything stays in logs. */
#include <math.h>

#include "clv_internal.h"
#include "special.h"

static double log_a0(const double *p, double x, double t_x, double T) {
  double r = p[0], al = p[1], s = p[2], be = p[3];
  double mx, mn, bpar;
  if (al >= be) {
    mx = al;
    mn = be;
    bpar = s + 1.0;
  } else {
    mx = be;
    mn = al;
    bpar = r + x;
  }
  double rsx = r + s + x, q1 = mx + t_x, q2 = mx + T;
  double l1 = pd__log_hyp2f1(rsx, bpar, rsx + 1.0, (mx - mn) / q1, NULL) - rsx * log(q1);
  double l2 = pd__log_hyp2f1(rsx, bpar, rsx + 1.0, (mx - mn) / q2, NULL) - rsx * log(q2);
  if (isnan(l1) || isnan(l2)) return NAN;
  return l1 > l2 ? pd__logsubexp(l1, l2) : -INFINITY; /* t_x == T: A0 = 0 */
}

void pd__pnbd_parts(const double *p, double x, double t_x, double T, double *log_alive, double *log_dead) {
  double r = p[0], al = p[1], s = p[2], be = p[3];
  *log_alive = -(r + x) * log(al + T) - s * log(be + T);
  *log_dead = log(s) - log(r + s + x) + log_a0(p, x, t_x, T);
}

static double pnbd_loglik(const double *p, const pd__clv_data *d, double *grad) {
  (void)grad; /* numerical gradient */
  double r = p[0], al = p[1], s = p[2], be = p[3];
  double base = -pd__lgamma(r) + r * log(al) + s * log(be), total = 0.0;
  for (size_t k = 0; k < d->nx; k++) d->cache[k] = pd__lgamma(r + d->xs[k]) + base;
  for (size_t k = 0; k < d->nx; k++) total += d->xw[k] * d->cache[k];
  for (size_t i = 0; i < d->n; i++) {
    double la, ld;
    pd__pnbd_parts(p, d->x[i], d->t_x[i], d->T[i], &la, &ld);
    double v = pd__logaddexp(la, ld);
    if (isnan(v)) return NAN;
    total += pd__clv_w(d, i) * v;
  }
  return total;
}

/* [1 - (1+u)^-(s-1)] / (s-1), with its limit log(1+u) at s = 1. */
static double power_gap(double s, double u) {
  double l = log1p(u);
  if (fabs(s - 1.0) < 1e-12) return l;
  return -expm1(-(s - 1.0) * l) / (s - 1.0);
}

static double pnbd_expected(const double *p, double t) {
  double r = p[0], al = p[1], be = p[3];
  if (!(t > 0)) return 0.0;
  return r * be / al * power_gap(p[2], t / be);
}

static double pnbd_alive(const double *p, double x, double t_x, double T) {
  double la, ld;
  pd__pnbd_parts(p, x, t_x, T, &la, &ld);
  return exp(la - pd__logaddexp(la, ld));
}

static double pnbd_cond(const double *p, double x, double t_x, double T, double t) {
  double r = p[0], al = p[1], s = p[2], be = p[3];
  if (!(t > 0)) return 0.0;
  return (r + x) * (be + T) / (al + T) * power_gap(s, t / (be + T)) * pnbd_alive(p, x, t_x, T);
}

const pd__clv_family pd__clv_pnbd = {
  PD_CLV_PNBD, "pnbd", 4, {"r", "alpha", "s", "beta"}, {1.0, 1.0, 1.0, 1.0},
  pnbd_loglik, 0, pnbd_expected, pnbd_cond, pnbd_alive, NULL, NULL};
