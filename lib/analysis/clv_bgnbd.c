/* BG/NBD (Fader, Hardie & Lee 2005) and MBG/NBD (Batislam, Denizel &
 * Filiztekin 2007). Parameters p = {r, alpha, a, b}.
 *
 * Per customer, with the dropout coin tossed after each repeat purchase
 * (BG/NBD) or also at time 0 (MBG/NBD, "mod" = 1):
 *   LL = C1(x) + log(exp(A3) + exp(A4))
 *   C1 = lnG(r+x) - lnG(r) + r ln(alpha) + lnB(a, b+x+mod) - lnB(a, b)
 *   A3 = -(r+x) ln(alpha+T)
 *   A4 = ln(a) - ln(b+x-1+mod) - (r+x) ln(alpha+t_x)   (BG/NBD: only for x > 0)
 * Terms of x alone are computed once per distinct x. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "clv_internal.h"
#include "special.h"

/* Cache layout per distinct x: C1, C4, dC1/dr, dC1/da, dC1/db, dC4/db. */
enum { K_C1, K_C4, K_DR, K_DA, K_DB, K_D4B, K_N };

static double loglik_common(const double *p, const pd__clv_data *d, double *grad, int mod) {
  double r = p[0], al = p[1], a = p[2], b = p[3];
  double *c = d->cache;
  double lg_r = pd__lgamma(r), lg_b = pd__lgamma(b), lg_ab = pd__lgamma(a + b), lal = log(al);
  double ps_r = 0, ps_b = 0, ps_ab = 0;
  if (grad) {
    ps_r = pd__digamma(r);
    ps_b = pd__digamma(b);
    ps_ab = pd__digamma(a + b);
  }
  double total = 0.0, g_r = 0.0, g_al = 0.0, g_a = 0.0, g_b = 0.0;
  for (size_t k = 0; k < d->nx; k++) {
    double x = d->xs[k], *ck = c + K_N * k, bx = b + x + mod;
    ck[K_C1] = pd__lgamma(r + x) - lg_r + r * lal + lg_ab + pd__lgamma(bx) - lg_b - pd__lgamma(a + bx);
    int has4 = mod || x > 0;
    ck[K_C4] = has4 ? log(a) - log(b + x - 1 + mod) : -INFINITY;
    total += d->xw[k] * ck[K_C1];
    if (grad) {
      double ps_abx = pd__digamma(a + bx);
      ck[K_DR] = pd__digamma(r + x) - ps_r + lal;
      ck[K_DA] = ps_ab - ps_abx;
      ck[K_DB] = ps_ab + pd__digamma(bx) - ps_b - ps_abx;
      ck[K_D4B] = has4 ? -1.0 / (b + x - 1 + mod) : 0.0;
      g_r += d->xw[k] * ck[K_DR];
      g_al += d->xw[k] * r / al;
      g_a += d->xw[k] * ck[K_DA];
      g_b += d->xw[k] * ck[K_DB];
    }
  }
  /* log(alpha + v) and 1/(alpha + v) once per distinct T and t_x when the caches exist */
  double *lTc = d->Tcache, *ltc = d->Tcache ? d->Tcache + 2 * d->nT : NULL;
  for (size_t k = 0; k < d->nT; k++) {
    lTc[2 * k] = log(al + d->Ts[k]);
    lTc[2 * k + 1] = 1.0 / (al + d->Ts[k]);
  }
  for (size_t k = 0; k < d->ntx; k++) {
    ltc[2 * k] = log(al + d->txs[k]);
    ltc[2 * k + 1] = 1.0 / (al + d->txs[k]);
  }
  for (size_t i = 0; i < d->n; i++) {
    double w = pd__clv_w(d, i), x = d->x[i], rx = r + x;
    const double *ck = c + K_N * d->xi[i];
    double lT, iT, lt = 0.0, it = 0.0;
    if (lTc) {
      lT = lTc[2 * d->Ti[i]];
      iT = lTc[2 * d->Ti[i] + 1];
    } else {
      lT = log(al + d->T[i]);
      iT = 1.0 / (al + d->T[i]);
    }
    double a3 = -rx * lT, lse, w3 = 1.0, w4 = 0.0;
    if (ck[K_C4] > -INFINITY) {
      if (ltc) {
        lt = ltc[2 * d->txi[i]];
        it = ltc[2 * d->txi[i] + 1];
      } else {
        lt = log(al + d->t_x[i]);
        it = 1.0 / (al + d->t_x[i]);
      }
      double a4 = ck[K_C4] - rx * lt;
      double e = exp(-fabs(a3 - a4)), big = 1.0 / (1.0 + e);
      lse = fmax(a3, a4) + log1p(e);
      if (a3 >= a4) {
        w3 = big;
        w4 = e * big;
      } else {
        w4 = big;
        w3 = e * big;
      }
    } else {
      lse = a3;
    }
    total += w * lse;
    if (grad) {
      g_r -= w * (w3 * lT + w4 * lt);
      g_al -= w * rx * (w3 * iT + w4 * it);
      g_a += w * w4 / a;
      g_b += w * w4 * ck[K_D4B];
    }
  }
  if (grad) {
    grad[0] = g_r * r;
    grad[1] = g_al * al;
    grad[2] = g_a * a;
    grad[3] = g_b * b;
  }
  return total;
}

static double bg_loglik(const double *p, const pd__clv_data *d, double *grad) { return loglik_common(p, d, grad, 0); }
static double mbg_loglik(const double *p, const pd__clv_data *d, double *grad) { return loglik_common(p, d, grad, 1); }

/* BG/NBD: (a+b-1)/(a-1) [1 - (alpha/(alpha+t))^r 2F1(r, b; a+b-1; t/(alpha+t))];
 * MBG/NBD: b/(a-1) [1 - (alpha/(alpha+t))^r 2F1(r, b+1; a+b; t/(alpha+t))],
 * with the (b, c) shift of the MBG form; the difference is taken with expm1. */
static double expected_common(const double *p, double t, int mod) {
  double r = p[0], al = p[1], a = p[2], b = p[3];
  if (!(t > 0)) return 0.0;
  double z = t / (al + t);
  int sg;
  double lf = pd__log_hyp2f1(r, b + mod, a + b - 1 + mod, z, &sg);
  double l = r * log1p(-z) + lf;
  double lead = mod ? b / (a - 1) : (a + b - 1) / (a - 1);
  return lead * -expm1(l);
}
static double bg_expected(const double *p, double t) { return expected_common(p, t, 0); }
static double mbg_expected(const double *p, double t) { return expected_common(p, t, 1); }

/* log of the odds term in 1/P(alive) - 1 (-inf when BG/NBD and x = 0). */
static double log_dead_odds(const double *p, double x, double t_x, double T, int mod) {
  double r = p[0], al = p[1], a = p[2], b = p[3];
  if (!mod && x == 0) return -INFINITY;
  return log(a) - log(b + x - 1 + mod) + (r + x) * (log(al + T) - log(al + t_x));
}

/* 1 / (1 + odds) in linear scale: (alpha+T)/(alpha+t_x) >= 1, so the power
 * can only overflow to +inf, which gives the right limit 0. */
static double alive_common(const double *p, double x, double t_x, double T, int mod) {
  double r = p[0], al = p[1], a = p[2], b = p[3];
  if (!mod && x == 0) return 1.0;
  return 1.0 / (1.0 + a / (b + x - 1 + mod) * pow((al + T) / (al + t_x), r + x));
}
static double bg_alive(const double *p, double x, double t_x, double T) { return alive_common(p, x, t_x, T, 0); }
static double mbg_alive(const double *p, double x, double t_x, double T) { return alive_common(p, x, t_x, T, 1); }

/* E[Y(t) | x, t_x, T] = (a+b+x-1+mod)/(a-1) [1 - ((alpha+T)/(alpha+T+t))^(r+x)
 *   2F1(r+x, b+x+mod; a+b+x-1+mod; t/(alpha+T+t))] * P(alive).
 * For large x the 2F1 is huge and the power tiny: both stay in logs, and
 * 2F1 itself goes through Euler's transformation (see hyp2f1.c). */
static double cond_common(const double *p, double x, double t_x, double T, double t, int mod) {
  double r = p[0], al = p[1], a = p[2], b = p[3];
  if (!(t > 0)) return 0.0;
  double z = t / (al + T + t);
  int sg;
  double lf = pd__log_hyp2f1(r + x, b + x + mod, a + b + x - 1 + mod, z, &sg);
  double l = (r + x) * log1p(-z) + lf;
  double bracket = -expm1(l);          /* same sign as a - 1 */
  double lead = (a + b + x - 1 + mod) / (a - 1);
  double mag = log(fabs(lead)) + log(fabs(bracket)) - pd__logaddexp(0.0, log_dead_odds(p, x, t_x, T, mod));
  double v = exp(mag);
  return (lead < 0) != (bracket < 0) ? -v : v;
}
/* The same at several horizons: P(alive) and the lead factor once. */
static void cond_multi_common(const double *p, double x, double t_x, double T, const double *t, size_t nt, double *out,
                              int mod) {
  double r = p[0], al = p[1], a = p[2], b = p[3];
  double alive = exp(-pd__logaddexp(0.0, log_dead_odds(p, x, t_x, T, mod)));
  double lead = (a + b + x - 1 + mod) / (a - 1) * alive;
  for (size_t k = 0; k < nt; k++) {
    if (!(t[k] > 0)) {
      out[k] = 0.0;
      continue;
    }
    double z = t[k] / (al + T + t[k]);
    double lf = pd__log_hyp2f1(r + x, b + x + mod, a + b + x - 1 + mod, z, NULL);
    out[k] = lead * -expm1((r + x) * log1p(-z) + lf);
  }
}
static void bg_multi(const double *p, double x, double t_x, double T, const double *t, size_t nt, double *out) {
  cond_multi_common(p, x, t_x, T, t, nt, out, 0);
}
static void mbg_multi(const double *p, double x, double t_x, double T, const double *t, size_t nt, double *out) {
  cond_multi_common(p, x, t_x, T, t, nt, out, 1);
}

/* Discounted purchases over many customers and a few horizons at once.
 * With Euler's transformation the conditional expectation is
 *   lead * P(alive) * [1 - (1-z)^(a-1) G(z)],
 *   G = 2F1(a+b-1-r+mod, a-1; a+b+x-1+mod; z),  z = t / (alpha + T + t),
 * and the power-series coefficients of G depend on x alone: they are
 * computed once per distinct x, and each customer's G at every horizon is
 * a polynomial (Horner) with no division. Returns 0 when done, 1 when the
 * data need the general path (z too close to 1, huge coefficients). */
static int discounted_fast(const double *p, int mod, const pd_clv_summary *s, const double *t, const double *disc,
                           size_t nt, double *out) {
  double r = p[0], al = p[1], a = p[2], b = p[3];
  if (nt == 0 || s->n == 0) return 1;
  double Tmin = INFINITY, tmax = 0;
  for (size_t i = 0; i < s->n; i++) Tmin = fmin(Tmin, s->T[i]);
  for (size_t k = 0; k < nt; k++) tmax = fmax(tmax, t[k]);
  double zmax = tmax / (al + Tmin + tmax);
  if (!(zmax <= 0.9) || !(tmax > 0)) return 1;
  size_t nterms = (size_t)ceil(log(1e-18) / log(zmax)) + 8;
  if (nterms > 2000) return 1;
  double pa = a + b - 1 - r + mod, pb = a - 1, base_c = a + b - 1 + mod;
  /* coefficients per distinct x, and z / (1-z)^(a-1) per distinct T, in
   * growable arrays indexed through two hash maps */
  pd__u64map xmap = {0}, tmap = {0};
  size_t xcap = 0, tcap = 0, done_x = 0, done_t = 0;
  double *coefs = NULL, *zws = NULL;
  double *acc = malloc(nt * sizeof *acc);
  int rc = acc ? 0 : 1;
  for (size_t i = 0; i < s->n && rc == 0; i++) {
    double x = s->x[i], T = s->T[i];
    size_t xk = pd__u64map_put(&xmap, pd__double_bits(x)), tk = pd__u64map_put(&tmap, pd__double_bits(T));
    if (xk == SIZE_MAX || tk == SIZE_MAX) {
      rc = 1;
      break;
    }
    if (xk >= xcap) { /* a new x: its coefficients */
      size_t cap = xcap ? 2 * xcap : 64;
      double *nc = realloc(coefs, cap * nterms * sizeof *nc);
      if (!nc) {
        rc = 1;
        break;
      }
      coefs = nc;
      xcap = cap;
    }
    double *c = coefs + xk * nterms;
    if (tk >= tcap) {
      size_t cap = tcap ? 2 * tcap : 64;
      double *nz = realloc(zws, cap * 2 * nt * sizeof *nz);
      if (!nz) {
        rc = 1;
        break;
      }
      zws = nz;
      tcap = cap;
    }
    double *zw = zws + tk * 2 * nt;
    if (xk == done_x) { /* first time this x is seen */
      double term = 1.0, cc = base_c + x;
      for (size_t n = 0; n < nterms; n++) {
        c[n] = term;
        term *= (pa + n) * (pb + n) / ((cc + n) * (n + 1.0));
        if (!(fabs(term) < 1e200)) rc = 1;
      }
      done_x++;
    }
    if (tk == done_t) { /* first time this T is seen */
      for (size_t k = 0; k < nt; k++) {
        zw[k] = t[k] / (al + T + t[k]);
        zw[nt + k] = pow((al + T) / (al + T + t[k]), a - 1);
      }
      done_t++;
    }
    double alive = alive_common(p, x, s->t_x[i], T, mod);
    double lead = (a + b + x - 1 + mod) / (a - 1) * alive;
    /* terms needed at this T (its largest z), then Horner; up to 12
     * horizons in fixed-size locals so the compiler keeps them in registers */
    double zt = 0.0;
    for (size_t k = 0; k < nt; k++) zt = fmax(zt, zw[k]);
    size_t nn = (size_t)ceil(log(1e-18) / log(zt > 0 ? zt : 0.5)) + 8;
    if (nn > nterms) nn = nterms;
    if (nt <= 12) {
      double h[12], zz[12];
      for (size_t k = 0; k < 12; k++) {
        zz[k] = k < nt ? zw[k] : 0.0;
        h[k] = c[nn - 1];
      }
      for (size_t n = nn - 1; n-- > 0;) {
        double cn = c[n];
        for (size_t k = 0; k < 12; k++) h[k] = h[k] * zz[k] + cn;
      }
      for (size_t k = 0; k < nt; k++) acc[k] = h[k];
    } else {
      for (size_t k = 0; k < nt; k++) acc[k] = c[nn - 1];
      for (size_t n = nn - 1; n-- > 0;)
        for (size_t k = 0; k < nt; k++) acc[k] = acc[k] * zw[k] + c[n];
    }
    double prev = 0.0, v = 0.0;
    for (size_t k = 0; k < nt; k++) {
      double cur = t[k] > 0 ? lead * (1.0 - zw[nt + k] * acc[k]) : 0.0;
      v += (cur - prev) / disc[k];
      prev = cur;
    }
    out[i] = v;
    if (!isfinite(v)) rc = 1;
  }
  free(acc);
  free(coefs);
  free(zws);
  pd__u64map_free(&xmap);
  pd__u64map_free(&tmap);
  return rc;
}

int pd__bgnbd_discounted(const pd_clv_model *m, const pd_clv_summary *s, const double *t, const double *disc,
                         size_t nt, double *out) {
  if (m->fam->kind != PD_CLV_BGNBD && m->fam->kind != PD_CLV_MBGNBD) return 1;
  return discounted_fast(m->p, m->fam->kind == PD_CLV_MBGNBD, s, t, disc, nt, out);
}

static double bg_cond(const double *p, double x, double t_x, double T, double t) { return cond_common(p, x, t_x, T, t, 0); }
static double mbg_cond(const double *p, double x, double t_x, double T, double t) { return cond_common(p, x, t_x, T, t, 1); }

const pd__clv_family pd__clv_bgnbd = {
  PD_CLV_BGNBD, "bgnbd", 4, {"r", "alpha", "a", "b"}, {1.0, 1.0, 1.0, 1.0},
  bg_loglik, 1, bg_expected, bg_cond, bg_alive, bg_multi};

const pd__clv_family pd__clv_mbgnbd = {
  PD_CLV_MBGNBD, "mbgnbd", 4, {"r", "alpha", "a", "b"}, {1.0, 1.0, 1.0, 1.0},
  mbg_loglik, 1, mbg_expected, mbg_cond, mbg_alive, mbg_multi};
