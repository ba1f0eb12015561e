/* Gamma-Gamma spend model (Fader, Hardie & Lee 2005 "RFM and CLV";
 * Fader & Hardie 2013 note). Parameters p = {p, q, gamma}. A customer's
 * spend per transaction is Gamma(p, nu) with nu ~ Gamma(q, gamma); the
 * mean m of x transactions has log-density
 *   lnG(px+q) - lnG(px) - lnG(q) + q ln(gamma) + (px-1) ln m + px ln x
 *   - (px+q) ln(x m + gamma).
 * Only rows with x > 0 count. Grouped by distinct x (group k: weight W_k,
 * M_k = sum w ln m), the log-likelihood is
 *   sum_k W_k [lnG(p x_k+q) - lnG(p x_k) - lnG(q) + q ln(gamma) + p x_k ln x_k]
 *         + (p x_k - 1) M_k - (p x_k + q) S_k,   S_k = sum w ln(x m + gamma),
 * so an evaluation takes one pass over the rows for S_k (and, for the
 * derivatives, R_k = sum w / (x m + gamma), Q_k = sum w / (x m + gamma)^2);
 * the rest is per distinct x. The pass runs on chunks of rows in parallel
 * (pd__clv_parallel), each chunk summing into its own slots. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "clv_internal.h"
#include "special.h"

int pd__gg_prepare(pd__clv_data *d, const pd_clv_summary *s) {
  size_t nx = d->nx, n = s->n;
  d->goff = calloc(nx + 2, sizeof *d->goff);
  d->gM = calloc(nx ? nx : 1, sizeof *d->gM);
  d->gacc = malloc((nx ? nx : 1) * 3 * PD__CLV_MAX_CHUNKS * sizeof *d->gacc);
  if (!d->goff || !d->gM || !d->gacc) return -1;
  /* counting sort of the rows with x > 0 by their x group */
  for (size_t i = 0; i < n; i++)
    if (s->x[i] > 0) d->goff[d->xi[i] + 2]++;
  for (size_t k = 0; k < nx; k++) d->goff[k + 2] += d->goff[k + 1];
  d->gn = d->goff[nx + 1];
  d->gxm = malloc((d->gn ? d->gn : 1) * sizeof *d->gxm);
  if (!d->gxm) return -1;
  if (s->weight && !(d->gw = malloc((d->gn ? d->gn : 1) * sizeof *d->gw))) return -1;
  for (size_t i = 0; i < n; i++) {
    double x = s->x[i];
    if (!(x > 0)) continue;
    size_t k = d->xi[i], j = d->goff[k + 1]++;
    double w = s->weight ? s->weight[i] : 1.0;
    d->gxm[j] = x * s->monetary[i];
    if (d->gw) d->gw[j] = w;
    d->gM[k] += w * log(s->monetary[i]);
  }
  /* goff[k + 1] now ends group k: goff[0..nx] are the group starts */
  return 0;
}

typedef struct gg_job {
  const pd__clv_data *d;
  double v;
  int order; /* 0: S only; 1: S, R, Q */
} gg_job;

static void gg_chunk(void *vjob, size_t chunk, size_t begin, size_t end) {
  gg_job *j = vjob;
  const pd__clv_data *d = j->d;
  double v = j->v, *acc = d->gacc + chunk * 3 * d->nx;
  const double *xm = d->gxm, *gw = d->gw;
  memset(acc, 0, 3 * d->nx * sizeof *acc);
  /* the group holding row `begin`: the last k with goff[k] <= begin */
  size_t lo = 0, hi = d->nx;
  while (hi - lo > 1) {
    size_t mid = (lo + hi) / 2;
    if (d->goff[mid] <= begin) lo = mid;
    else hi = mid;
  }
  for (size_t k = lo, i = begin; i < end; k++) {
    size_t ge = d->goff[k + 1] < end ? d->goff[k + 1] : end;
    double S = 0.0, R = 0.0, Q = 0.0;
    if (j->order == 0) {
      if (gw)
        for (; i < ge; i++) S += gw[i] * log(xm[i] + v);
      else
        for (; i < ge; i++) S += log(xm[i] + v);
    } else {
      for (; i < ge; i++) {
        double y = xm[i] + v, iy = 1.0 / y, w = gw ? gw[i] : 1.0;
        S += w * log(y);
        R += w * iy;
        Q += w * iy * iy;
      }
    }
    acc[3 * k] = S;
    acc[3 * k + 1] = R;
    acc[3 * k + 2] = Q;
  }
}

static double gg_loglik2(const double *p, const pd__clv_data *d, double *grad, double *hess) {
  double pp = p[0], q = p[1], v = p[2];
  size_t nx = d->nx;
  gg_job j = {d, v, grad || hess};
  pd__clv_parallel(d->gn, d->threads, gg_chunk, &j);
  size_t nc = pd__clv_chunks(d->gn);
  double lgq = pd__lgamma(q), lv = log(v), psq = 0.0, tgq = 0.0;
  if (grad || hess) {
    psq = pd__digamma(q);
    tgq = pd__trigamma(q);
  }
  double total = 0.0, g[3] = {0, 0, 0}, H[9] = {0};
  for (size_t k = 0; k < nx; k++) {
    double x = d->xs[k], W = d->xw[k];
    if (!(x > 0)) continue;
    double S = 0.0, R = 0.0, Q = 0.0; /* this group's sums, chunk by chunk in order */
    for (size_t c = 0; c < nc; c++) {
      const double *a = d->gacc + c * 3 * nx + 3 * k;
      S += a[0];
      R += a[1];
      Q += a[2];
    }
    double px = pp * x, lx = log(x), M = d->gM[k];
    total += W * (pd__lgamma(px + q) - pd__lgamma(px) - lgq + q * lv + px * lx) + (px - 1.0) * M - (px + q) * S;
    if (grad || hess) {
      double psxq = pd__digamma(px + q), tgxq = pd__trigamma(px + q);
      g[0] += W * x * (psxq - pd__digamma(px) + lx) + x * (M - S);
      g[1] += W * (psxq - psq + lv) - S;
      g[2] += W * q / v - (px + q) * R;
      H[0] += W * x * x * (tgxq - pd__trigamma(px));
      H[1] += W * x * tgxq;
      H[2] -= x * R;
      H[4] += W * (tgxq - tgq);
      H[5] += W / v - R;
      H[8] += -W * q / (v * v) + (px + q) * Q;
    }
  }
  if (grad || hess) {
    double gl[3] = {g[0] * pp, g[1] * q, g[2] * v};
    if (grad) memcpy(grad, gl, sizeof gl);
    if (hess) {
      H[3] = H[1];
      H[6] = H[2];
      H[7] = H[5];
      pd__clv_hess_to_log(3, p, gl, H);
      memcpy(hess, H, sizeof H);
    }
  }
  return total;
}

static double gg_loglik(const double *p, const pd__clv_data *d, double *grad) { return gg_loglik2(p, d, grad, NULL); }

const pd__clv_family pd__clv_gg = {
  PD_CLV_GAMMA_GAMMA, "gg", 3, {"p", "q", "gamma"}, {1.0, 1.0, 1.0},
  gg_loglik, 1, NULL, NULL, NULL, NULL, gg_loglik2};
