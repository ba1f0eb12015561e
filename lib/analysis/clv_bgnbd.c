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

/* Cache layout per distinct x: C1, C4, dC4/db. */
enum { K_C1, K_C4, K_D4B, K_N };

/* Per-chunk sums of the row part: value, gradient (r, alpha, a, b) and
 * the upper triangle of the Hessian (natural scale). */
enum { A_LL, A_GR, A_GAL, A_GA, A_GB, A_RR, A_RAL, A_RA, A_RB, A_ALAL, A_ALA, A_ALB, A_AA, A_AB, A_BB, A_N };

typedef struct bg_job {
  const pd__clv_data *d;
  const double *p;
  int order; /* 0 value, 1 gradient, 2 Hessian */
  double acc[PD__CLV_MAX_CHUNKS][A_N];
} bg_job;

/* Rows begin..end: LL_i = C1 + log(e^A3 + e^A4) with weights w3, w4 of the
 * two terms; the Hessian of the log-sum-exp is
 *   w3 H(A3) + w4 H(A4) + w3 w4 (grad A3 - grad A4)(grad A3 - grad A4)'. */
static void bg_chunk(void *vjob, size_t chunk, size_t begin, size_t end) {
  bg_job *j = vjob;
  const pd__clv_data *d = j->d;
  double r = j->p[0], al = j->p[1], a = j->p[2];
  const double *c = d->cache, *lTc = d->Tcache, *ltc = d->Tcache ? d->Tcache + 2 * d->nT : NULL;
  double s[A_N] = {0};
  for (size_t i = begin; i < end; i++) {
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
    s[A_LL] += w * lse;
    if (j->order >= 1) {
      double db = ck[K_D4B];
      s[A_GR] -= w * (w3 * lT + w4 * lt);
      s[A_GAL] -= w * rx * (w3 * iT + w4 * it);
      s[A_GA] += w * w4 / a;
      s[A_GB] += w * w4 * db;
      if (j->order >= 2) {
        double w34 = w * w3 * w4, d0 = lt - lT, d1 = rx * (it - iT), d2 = -1.0 / a, d3 = -db;
        s[A_RR] += w34 * d0 * d0;
        s[A_RAL] += w34 * d0 * d1 - w * (w3 * iT + w4 * it);
        s[A_RA] += w34 * d0 * d2;
        s[A_RB] += w34 * d0 * d3;
        s[A_ALAL] += w34 * d1 * d1 + w * rx * (w3 * iT * iT + w4 * it * it);
        s[A_ALA] += w34 * d1 * d2;
        s[A_ALB] += w34 * d1 * d3;
        s[A_AA] += w34 * d2 * d2 - w * w4 / (a * a);
        s[A_AB] += w34 * d2 * d3;
        s[A_BB] += w34 * d3 * d3 + w * w4 * db * db;
      }
    }
  }
  memcpy(j->acc[chunk], s, sizeof s);
}

static double loglik_common(const double *p, const pd__clv_data *d, double *grad, double *hess, int mod) {
  double r = p[0], al = p[1], a = p[2], b = p[3];
  double *c = d->cache;
  double lg_r = pd__lgamma(r), lg_b = pd__lgamma(b), lg_ab = pd__lgamma(a + b), lal = log(al);
  double ps_r = 0, ps_b = 0, ps_ab = 0, tg_r = 0, tg_b = 0, tg_ab = 0;
  if (grad || hess) {
    ps_r = pd__digamma(r);
    ps_b = pd__digamma(b);
    ps_ab = pd__digamma(a + b);
  }
  if (hess) {
    tg_r = pd__trigamma(r);
    tg_b = pd__trigamma(b);
    tg_ab = pd__trigamma(a + b);
  }
  /* per distinct x: C1 and its derivatives (summed with the x weights), C4 */
  double t[A_N] = {0};
  for (size_t k = 0; k < d->nx; k++) {
    double x = d->xs[k], *ck = c + K_N * k, bx = b + x + mod, W = d->xw[k];
    ck[K_C1] = pd__lgamma(r + x) - lg_r + r * lal + lg_ab + pd__lgamma(bx) - lg_b - pd__lgamma(a + bx);
    int has4 = mod || x > 0;
    ck[K_C4] = has4 ? log(a) - log(b + x - 1 + mod) : -INFINITY;
    ck[K_D4B] = has4 ? -1.0 / (b + x - 1 + mod) : 0.0;
    t[A_LL] += W * ck[K_C1];
    if (grad || hess) {
      double ps_abx = pd__digamma(a + bx);
      t[A_GR] += W * (pd__digamma(r + x) - ps_r + lal);
      t[A_GAL] += W * r / al;
      t[A_GA] += W * (ps_ab - ps_abx);
      t[A_GB] += W * (ps_ab + pd__digamma(bx) - ps_b - ps_abx);
    }
    if (hess) {
      double tg_abx = pd__trigamma(a + bx);
      t[A_RR] += W * (pd__trigamma(r + x) - tg_r);
      t[A_RAL] += W / al;
      t[A_ALAL] -= W * r / (al * al);
      t[A_AA] += W * (tg_ab - tg_abx);
      t[A_AB] += W * (tg_ab - tg_abx);
      t[A_BB] += W * (tg_ab + pd__trigamma(bx) - tg_b - tg_abx);
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
  bg_job j;
  j.d = d;
  j.p = p;
  j.order = hess ? 2 : grad ? 1 : 0;
  pd__clv_parallel(d->n, d->threads, bg_chunk, &j);
  for (size_t ch = 0; ch < pd__clv_chunks(d->n); ch++) /* in chunk order: the same sums on any machine */
    for (size_t q = 0; q < A_N; q++) t[q] += j.acc[ch][q];
  if (grad || hess) {
    double gl[4] = {t[A_GR] * r, t[A_GAL] * al, t[A_GA] * a, t[A_GB] * b};
    if (grad) memcpy(grad, gl, sizeof gl);
    if (hess) {
      double H[16] = {t[A_RR],  t[A_RAL],  t[A_RA],  t[A_RB],  /* */
                      t[A_RAL], t[A_ALAL], t[A_ALA], t[A_ALB], /* */
                      t[A_RA],  t[A_ALA],  t[A_AA],  t[A_AB],  /* */
                      t[A_RB],  t[A_ALB],  t[A_AB],  t[A_BB]};
      pd__clv_hess_to_log(4, p, gl, H);
      memcpy(hess, H, sizeof H);
    }
  }
  return t[A_LL];
}

static double bg_loglik(const double *p, const pd__clv_data *d, double *grad) {
  return loglik_common(p, d, grad, NULL, 0);
}
static double mbg_loglik(const double *p, const pd__clv_data *d, double *grad) {
  return loglik_common(p, d, grad, NULL, 1);
}
static double bg_loglik2(const double *p, const pd__clv_data *d, double *grad, double *hess) {
  return loglik_common(p, d, grad, hess, 0);
}
static double mbg_loglik2(const double *p, const pd__clv_data *d, double *grad, double *hess) {
  return loglik_common(p, d, grad, hess, 1);
}

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
 *   lead(x) * P(alive) * B(x, T, t),  B = 1 - (1-z)^(a-1) G(z),
 *   G = 2F1(a+b-1-r+mod, a-1; a+b+x-1+mod; z),  z = t / (alpha + T + t),
 * where only P(alive) depends on t_x. So the discounted sum over the
 * horizons, D(x, T) = lead(x) sum_k (B_k - B_{k-1}) / disc_k, is computed
 * once per distinct (x, T) pair (summaries in whole days have a few
 * thousand) and each customer costs one P(alive). The power-series
 * coefficients of G depend on x alone (once per distinct x), and G at each
 * horizon is a polynomial (Horner) with no division. Rows are cut into
 * chunks (pd__clv_parallel), each with its own caches. */
typedef struct disc_job {
  const double *p;
  int mod;
  const pd_clv_summary *s;
  const double *t, *disc;
  size_t nt, nterms;
  double *out;
  int rc[PD__CLV_MAX_CHUNKS]; /* per chunk: 0 done, 1 general path needed */
} disc_job;

/* Grows *arr (cap entries of `each` doubles) to hold entry k. */
static int grow(double **arr, size_t *cap, size_t k, size_t each) {
  if (k < *cap) return 0;
  size_t nc = *cap ? 2 * *cap : 64;
  while (nc <= k) nc *= 2;
  double *na = realloc(*arr, nc * each * sizeof *na);
  if (!na) return -1;
  *arr = na;
  *cap = nc;
  return 0;
}

/* Dense indexes of the distinct x, T and (x, T) of a chunk's rows, in
 * order of first appearance: small whole x through a table, others and T
 * through hash maps, pairs through a [T][x] table grown as needed. */
#define XDENSE 4096
typedef struct keys {
  uint32_t xtab[XDENSE];
  pd__u64map xmap, tmap;
  uint32_t *xbig;    /* xmap index -> x index */
  size_t nbig, bigcap, nx, nT, np;
  uint32_t *pairs;   /* [tk * xcols + xk] -> pair index, UINT32_MAX = none yet */
  size_t xcols, trows;
} keys;

static void keys_free(keys *k) {
  pd__u64map_free(&k->xmap);
  pd__u64map_free(&k->tmap);
  free(k->xbig);
  free(k->pairs);
}

/* Indexes of (x, T); -1 when out of memory. */
static int keys_get(keys *k, double x, double T, size_t *xk, size_t *tk, size_t *pk) {
  if (x >= 0 && x < XDENSE && x == (double)(size_t)x) {
    uint32_t *e = &k->xtab[(size_t)x];
    if (*e == UINT32_MAX) *e = (uint32_t)k->nx++;
    *xk = *e;
  } else {
    size_t m = pd__u64map_put(&k->xmap, pd__double_bits(x));
    if (m == SIZE_MAX) return -1;
    if (m == k->nbig) {
      if (k->nbig == k->bigcap) {
        size_t cap = k->bigcap ? 2 * k->bigcap : 64;
        uint32_t *nb = realloc(k->xbig, cap * sizeof *nb);
        if (!nb) return -1;
        k->xbig = nb;
        k->bigcap = cap;
      }
      k->xbig[k->nbig++] = (uint32_t)k->nx++;
    }
    *xk = k->xbig[m];
  }
  *tk = pd__u64map_put(&k->tmap, pd__double_bits(T));
  if (*tk == SIZE_MAX) return -1;
  if (*xk >= k->xcols || *tk >= k->trows) { /* grow the pair table, keeping its entries */
    size_t xc = k->xcols ? k->xcols : 64, tr = k->trows ? k->trows : 256;
    while (xc <= *xk) xc *= 2;
    while (tr <= *tk) tr *= 2;
    uint32_t *np = malloc(xc * tr * sizeof *np);
    if (!np) return -1;
    memset(np, 0xff, xc * tr * sizeof *np);
    for (size_t a = 0; a < k->trows; a++)
      memcpy(np + a * xc, k->pairs + a * k->xcols, k->xcols * sizeof *np);
    free(k->pairs);
    k->pairs = np;
    k->xcols = xc;
    k->trows = tr;
  }
  uint32_t *e = &k->pairs[*tk * k->xcols + *xk];
  if (*e == UINT32_MAX) *e = (uint32_t)k->np++;
  *pk = *e;
  return 0;
}

static void disc_chunk(void *vjob, size_t chunk, size_t begin, size_t end) {
  disc_job *j = vjob;
  const double *p = j->p, *t = j->t, *disc = j->disc;
  double r = p[0], al = p[1], a = p[2], b = p[3];
  int mod = j->mod;
  size_t nt = j->nt, nterms = j->nterms;
  double pa = a + b - 1 - r + mod, pb = a - 1, base_c = a + b - 1 + mod;
  keys *ks = calloc(1, sizeof *ks);
  size_t xcap = 0, tcap = 0, pcap = 0;
  double *coefs = NULL, *zws = NULL, *dv = NULL, *acc = malloc(nt * sizeof *acc);
  int rc = acc && ks ? 0 : 1;
  if (ks) memset(ks->xtab, 0xff, sizeof ks->xtab);
  for (size_t i = begin; i < end && rc == 0; i++) {
    double x = j->s->x[i], T = j->s->T[i];
    size_t nx = ks->nx, nT = ks->tmap.n, np = ks->np, xk, tk, pk;
    if (keys_get(ks, x, T, &xk, &tk, &pk) || grow(&coefs, &xcap, xk, nterms) || grow(&zws, &tcap, tk, 2 * nt) ||
        grow(&dv, &pcap, pk, 1)) {
      rc = 1;
      break;
    }
    double *c = coefs + xk * nterms, *zw = zws + tk * 2 * nt;
    if (xk == nx) { /* a new x: its series coefficients */
      double term = 1.0, cc = base_c + x;
      for (size_t n = 0; n < nterms; n++) {
        c[n] = term;
        term *= (pa + n) * (pb + n) / ((cc + n) * (n + 1.0));
        if (!(fabs(term) < 1e200)) rc = 1;
      }
    }
    if (tk == nT) { /* a new T: z and (1-z)^(a-1) at each horizon */
      for (size_t k = 0; k < nt; k++) {
        zw[k] = t[k] / (al + T + t[k]);
        zw[nt + k] = pow((al + T) / (al + T + t[k]), a - 1);
      }
    }
    if (pk == np) { /* a new (x, T): the discounted sum of the brackets */
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
        double cur = t[k] > 0 ? 1.0 - zw[nt + k] * acc[k] : 0.0;
        v += (cur - prev) / disc[k];
        prev = cur;
      }
      dv[pk] = (a + b + x - 1 + mod) / (a - 1) * v;
    }
    double v = alive_common(p, x, j->s->t_x[i], T, mod) * dv[pk];
    j->out[i] = v;
    if (!isfinite(v)) rc = 1;
  }
  free(acc);
  free(coefs);
  free(zws);
  free(dv);
  if (ks) keys_free(ks);
  free(ks);
  j->rc[chunk] = rc;
}

static int discounted_fast(const double *p, int mod, const pd_clv_summary *s, const double *t, const double *disc,
                           size_t nt, double *out) {
  double al = p[1];
  if (nt == 0 || s->n == 0) return 1;
  double Tmin = INFINITY, tmax = 0;
  for (size_t i = 0; i < s->n; i++) Tmin = fmin(Tmin, s->T[i]);
  for (size_t k = 0; k < nt; k++) tmax = fmax(tmax, t[k]);
  double zmax = tmax / (al + Tmin + tmax);
  if (!(zmax <= 0.9) || !(tmax > 0)) return 1;
  size_t nterms = (size_t)ceil(log(1e-18) / log(zmax)) + 8;
  if (nterms > 2000) return 1;
  disc_job j = {p, mod, s, t, disc, nt, nterms, out, {0}};
  pd__clv_parallel(s->n, 0, disc_chunk, &j);
  for (size_t c = 0; c < pd__clv_chunks(s->n); c++)
    if (j.rc[c]) return 1;
  return 0;
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
  bg_loglik, 1, bg_expected, bg_cond, bg_alive, bg_multi, bg_loglik2};

const pd__clv_family pd__clv_mbgnbd = {
  PD_CLV_MBGNBD, "mbgnbd", 4, {"r", "alpha", "a", "b"}, {1.0, 1.0, 1.0, 1.0},
  mbg_loglik, 1, mbg_expected, mbg_cond, mbg_alive, mbg_multi, mbg_loglik2};
