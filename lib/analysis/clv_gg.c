/* Gamma-Gamma spend model (Fader, Hardie & Lee 2005 "RFM and CLV";
 * Fader & Hardie 2013 note). Parameters p = {p, q, gamma}. A customer's
 * spend per transaction is Gamma(p, nu) with nu ~ Gamma(q, gamma); the
 * mean m of x transactions has log-density
 *   lnG(px+q) - lnG(px) - lnG(q) + q ln(gamma) + (px-1) ln m + px ln x
 *   - (px+q) ln(x m + gamma).
 * Only rows with x > 0 count. Terms of x alone are computed per distinct x. */
#include <math.h>

#include "clv_internal.h"
#include "special.h"

enum { K_C, K_DP, K_DQ, K_N };

static double gg_loglik(const double *p, const pd__clv_data *d, double *grad) {
  double pp = p[0], q = p[1], v = p[2];
  double lgq = pd__lgamma(q), lv = log(v), psq = grad ? pd__digamma(q) : 0.0;
  double total = 0.0, gp = 0.0, gq = 0.0, gv = 0.0;
  for (size_t k = 0; k < d->nx; k++) {
    double x = d->xs[k], *ck = d->cache + K_N * k;
    if (x == 0) continue;
    double px = pp * x, lx = log(x);
    ck[K_C] = pd__lgamma(px + q) - pd__lgamma(px) - lgq + q * lv + px * lx;
    total += d->xw[k] * ck[K_C];
    if (grad) {
      double psxq = pd__digamma(px + q);
      gp += d->xw[k] * x * (psxq - pd__digamma(px) + lx);
      gq += d->xw[k] * (psxq - psq + lv);
      gv += d->xw[k] * q / v;
    }
  }
  for (size_t i = 0; i < d->n; i++) {
    double x = d->x[i];
    if (x == 0) continue;
    double w = pd__clv_w(d, i), px = pp * x, xm = x * d->m[i] + v, lxm = log(xm);
    total += w * ((px - 1.0) * d->logm[i] - (px + q) * lxm);
    if (grad) {
      gp += w * x * (d->logm[i] - lxm);
      gq -= w * lxm;
      gv -= w * (px + q) / xm;
    }
  }
  if (grad) {
    grad[0] = gp * pp;
    grad[1] = gq * q;
    grad[2] = gv * v;
  }
  return total;
}

const pd__clv_family pd__clv_gg = {
  PD_CLV_GAMMA_GAMMA, "gg", 3, {"p", "q", "gamma"}, {1.0, 1.0, 1.0},
  gg_loglik, 1, NULL, NULL, NULL, NULL};
