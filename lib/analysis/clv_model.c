/* CLV model handle: summary validation, fitting, accessors. */
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "clv_internal.h"
#include "optim.h"

const char *pd_clv_kind_name(pd_clv_kind kind) {
  const pd__clv_family *f = pd__clv_family_of(kind);
  return f ? f->name : NULL;
}

pd_clv_kind pd_clv_kind_from_name(const char *name) {
  static const pd_clv_kind all[] = {PD_CLV_BGNBD, PD_CLV_MBGNBD, PD_CLV_PNBD, PD_CLV_BGBB, PD_CLV_GAMMA_GAMMA};
  if (!name) return (pd_clv_kind)0;
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
    if (strcmp(name, pd_clv_kind_name(all[i])) == 0) return all[i];
  return (pd_clv_kind)0;
}

const pd__clv_family *pd__clv_family_of(pd_clv_kind kind) {
  switch (kind) {
  case PD_CLV_BGNBD: return &pd__clv_bgnbd;
  case PD_CLV_MBGNBD: return &pd__clv_mbgnbd;
  case PD_CLV_PNBD: return &pd__clv_pnbd;
  case PD_CLV_BGBB: return &pd__clv_bgbb;
  case PD_CLV_GAMMA_GAMMA: return &pd__clv_gg;
  }
  return NULL;
}

static int whole(double v) { return v == floor(v); }

/* 1 when every row of a continuous-time summary passes the checks of
 * pd__clv_validate(): one branch-free pass (whole numbers by rounding
 * through 2^52); 0 when some row fails or the arrays are not all there,
 * and the detailed loop must find and name it. */
static int rows_fast_ok(const pd_clv_summary *s, int need_monetary) {
  const double big = 4503599627370496.0; /* 2^52: from here on every double is whole */
  const double *X = s->x, *TX = s->t_x, *TT = s->T, *M = s->monetary, *W = s->weight;
  if (!TX || !TT) return 0;
  int ok = 1;
  for (size_t i = 0; i < s->n; i++) {
    double x = X[i], tx = TX[i], T = TT[i];
    /* NaN fails every comparison; tx <= T < inf and tx >= 0 bound both */
    ok &= (x >= 0) & (x < INFINITY) & (tx >= 0) & (tx <= T) & (T < INFINITY) & ((x > 0) | (tx == 0)) &
          ((x >= big) | ((x + big) - big == x));
  }
  if (W)
    for (size_t i = 0; i < s->n; i++) ok &= (W[i] >= 0) & (W[i] < INFINITY);
  if (need_monetary)
    for (size_t i = 0; i < s->n; i++) ok &= (X[i] == 0) | ((M[i] > 0) & (M[i] < INFINITY));
  return ok;
}

pd_status pd__clv_validate(const pd__clv_family *fam, const pd_clv_summary *s, int need_monetary) {
  if (!s || s->size < sizeof(pd_clv_summary)) return pd__error(PD_ERR_INVALID, "clv: summary missing or its size field not set");
  int gg = fam->kind == PD_CLV_GAMMA_GAMMA, discrete = fam->kind == PD_CLV_BGBB;
  /* Gamma-Gamma needs only x and the spend; recency and age are checked when given. */
  if (s->n > 0 && (!s->x || (!gg && (!s->t_x || !s->T))))
    return pd__error(PD_ERR_INVALID, "clv: summary needs x, t_x and T arrays");
  if (need_monetary && s->n > 0 && !s->monetary)
    return pd__error(PD_ERR_INVALID, "clv: %s needs monetary values", fam->name);
  if (!discrete && rows_fast_ok(s, need_monetary)) return PD_OK;
  for (size_t i = 0; i < s->n; i++) {
    double x = s->x[i], tx = s->t_x ? s->t_x[i] : 0.0, T = s->T ? s->T[i] : 0.0;
    if (!isfinite(x) || !isfinite(tx) || !isfinite(T))
      return pd__error(PD_ERR_INVALID, "clv: row %zu: x, t_x and T must be finite numbers", i);
    if (x < 0 || tx < 0 || T < 0)
      return pd__error(PD_ERR_INVALID, "clv: row %zu: negative value (x=%g t_x=%g T=%g)", i, x, tx, T);
    if (!whole(x)) return pd__error(PD_ERR_INVALID, "clv: row %zu: frequency x=%g is not a whole number", i, x);
    if (s->t_x && s->T) {
      if (tx > T) return pd__error(PD_ERR_INVALID, "clv: row %zu: recency t_x=%g is greater than T=%g", i, tx, T);
      if (x == 0 && tx != 0)
        return pd__error(PD_ERR_INVALID, "clv: row %zu: recency t_x=%g with frequency 0 (must be 0)", i, tx);
    }
    if (discrete) {
      if (!whole(tx) || !whole(T)) return pd__error(PD_ERR_INVALID, "clv: row %zu: BG/BB needs whole t_x and n", i);
      if (x > tx) return pd__error(PD_ERR_INVALID, "clv: row %zu: BG/BB frequency x=%g exceeds recency %g", i, x, tx);
    }
    if (s->weight && !(isfinite(s->weight[i]) && s->weight[i] >= 0))
      return pd__error(PD_ERR_INVALID, "clv: row %zu: weight must be finite and >= 0", i);
    if (need_monetary && x > 0 && !(isfinite(s->monetary[i]) && s->monetary[i] > 0))
      return pd__error(PD_ERR_INVALID, "clv: row %zu: monetary value %g must be > 0 when x > 0", i, s->monetary[i]);
  }
  return PD_OK;
}


void pd__clv_data_free(pd__clv_data *d) {
  if (!d) return;
  free(d->Ts);
  free(d->txs);
  free(d->Ti);
  free(d->txi);
  free(d->Tcache);
  free(d->own);
  free(d->xs);
  free(d->xw);
  free(d->xi);
  free(d->goff);
  free(d->gxm);
  free(d->gw);
  free(d->gM);
  free(d->gacc);
  free(d->cache);
  memset(d, 0, sizeof *d);
}

/* Open-addressing map from 64-bit keys to dense indexes 0, 1, 2... in
 * order of first appearance (hashing beats sorting a million doubles). */
static uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
  return z ^ (z >> 31);
}

void pd__u64map_free(pd__u64map *m) {
  free(m->keys);
  free(m->vals);
  memset(m, 0, sizeof *m);
}

static int map_alloc(pd__u64map *m, size_t cap) {
  m->keys = malloc(cap * sizeof *m->keys);
  m->vals = malloc(cap * sizeof *m->vals);
  m->cap = cap;
  m->n = 0;
  if (!m->keys || !m->vals) return -1;
  memset(m->vals, 0xff, cap * sizeof *m->vals);
  return 0;
}

/* Index of key, adding it when new. -1 (as SIZE_MAX) when out of memory. */
size_t pd__u64map_put(pd__u64map *m, uint64_t key) {
  if (2 * (m->n + 1) > m->cap) { /* grow to keep the load below one half */
    pd__u64map big;
    if (map_alloc(&big, m->cap ? 2 * m->cap : 64)) {
      pd__u64map_free(&big);
      return SIZE_MAX;
    }
    for (size_t i = 0; i < m->cap; i++)
      if (m->vals[i] != UINT32_MAX) {
        size_t h = mix64(m->keys[i]) & (big.cap - 1);
        while (big.vals[h] != UINT32_MAX) h = (h + 1) & (big.cap - 1);
        big.keys[h] = m->keys[i];
        big.vals[h] = m->vals[i];
      }
    big.n = m->n;
    pd__u64map_free(m);
    *m = big;
  }
  size_t h = mix64(key) & (m->cap - 1);
  while (m->vals[h] != UINT32_MAX) {
    if (m->keys[h] == key) return m->vals[h];
    h = (h + 1) & (m->cap - 1);
  }
  m->keys[h] = key;
  m->vals[h] = (uint32_t)m->n;
  return m->n++;
}

uint64_t pd__double_bits(double v) {
  uint64_t u;
  v = v == 0 ? 0.0 : v; /* -0 and +0 are one value */
  memcpy(&u, &v, sizeof u);
  return u;
}

/* Distinct values of v[0..n): *vals (first-appearance order) and *idx
 * (row -> value). With limit, gives up (0, both NULL) beyond `limit`
 * values. -1 when out of memory. */
static int distinct(const double *v, size_t n, size_t limit, double **vals, uint32_t **idx, size_t *nv) {
  *vals = NULL;
  *idx = NULL;
  *nv = 0;
  pd__u64map m = {0};
  uint32_t *ix = malloc((n ? n : 1) * sizeof *ix);
  if (!ix) return -1;
  for (size_t i = 0; i < n; i++) {
    size_t k = pd__u64map_put(&m, pd__double_bits(v[i]));
    if (k == SIZE_MAX) {
      free(ix);
      pd__u64map_free(&m);
      return -1;
    }
    if (m.n > limit) {
      free(ix);
      pd__u64map_free(&m);
      return 0;
    }
    ix[i] = (uint32_t)k;
  }
  double *s = malloc((m.n ? m.n : 1) * sizeof *s);
  if (!s) {
    free(ix);
    pd__u64map_free(&m);
    return -1;
  }
  for (size_t i = 0; i < n; i++) s[ix[i]] = v[i];
  *vals = s;
  *idx = ix;
  *nv = m.n;
  pd__u64map_free(&m);
  return 0;
}

/* Distinct frequencies as distinct() gives them. x is validated whole and
 * >= 0, so when the largest is small a dense table replaces the hashing. */
static int distinct_x(const double *v, size_t n, double **vals, uint32_t **idx, size_t *nv) {
  double mx = 0.0;
  for (size_t i = 0; i < n; i++) mx = v[i] > mx ? v[i] : mx;
  if (!(mx < (double)(1u << 20))) return distinct(v, n, SIZE_MAX, vals, idx, nv);
  size_t cap = (size_t)mx + 1, k = 0;
  *vals = NULL;
  *idx = NULL;
  *nv = 0;
  uint32_t *tab = malloc(cap * sizeof *tab), *ix = malloc((n ? n : 1) * sizeof *ix);
  double *s = NULL;
  if (!tab || !ix) goto fail;
  memset(tab, 0xff, cap * sizeof *tab);
  for (size_t i = 0; i < n; i++) {
    size_t xv = (size_t)v[i];
    if (tab[xv] == UINT32_MAX) tab[xv] = (uint32_t)k++;
    ix[i] = tab[xv];
  }
  if (!(s = malloc((k ? k : 1) * sizeof *s))) goto fail;
  for (size_t xv = 0; xv < cap; xv++)
    if (tab[xv] != UINT32_MAX) s[tab[xv]] = (double)xv;
  free(tab);
  *vals = s;
  *idx = ix;
  *nv = k;
  return 0;
fail:
  free(tab);
  free(ix);
  return -1;
}

/* The distinct (x, T, t_x) triples of the rows as index triples tri[3k..3k+2]
 * (into xs, Ts, txs) with uw[k] the total weight of their rows; *nu of
 * them (tri and uw have room for n). Rows are bucketed by the (x, T) pair
 * with a counting sort over a dense pair table (summaries in days have a
 * few hundred distinct x and T) that carries each row's t_x index and
 * weight along, then t_x is told apart within a bucket by a stamp per
 * distinct t_x: sequential passes and small tables, no random reads of
 * the rows. Hashing when the pair table would be large. -1: out of memory. */
static int triples(const pd__clv_data *d, uint32_t *tri, double *uw, size_t *nu) {
  size_t n = d->n, npair = d->nx * d->nT, k = 0, nT = d->nT;
  if (npair > (1u << 22) || d->ntx > (1u << 22)) {
    pd__u64map m = {0};
    for (size_t i = 0; i < n; i++) {
      size_t q = pd__u64map_put(&m, (uint64_t)d->xi[i] << 42 | (uint64_t)d->Ti[i] << 21 | d->txi[i]);
      if (q == SIZE_MAX) {
        pd__u64map_free(&m);
        return -1;
      }
      if (q == k) {
        tri[3 * k] = d->xi[i];
        tri[3 * k + 1] = d->Ti[i];
        tri[3 * k + 2] = d->txi[i];
        uw[k++] = 0.0;
      }
      uw[q] += pd__clv_w(d, i);
    }
    *nu = k;
    pd__u64map_free(&m);
    return 0;
  }
  size_t n1 = n ? n : 1, nt1 = d->ntx ? d->ntx : 1;
  uint32_t *start = calloc(npair + 1, sizeof *start), *stx = malloc(n1 * sizeof *stx);
  uint32_t *stamp = malloc(nt1 * sizeof *stamp), *slot = malloc(nt1 * sizeof *slot);
  double *sw = d->w ? malloc(n1 * sizeof *sw) : NULL;
  int rc = -1;
  if (!start || !stx || !stamp || !slot || (d->w && !sw)) goto done;
  for (size_t i = 0; i < n; i++) start[d->xi[i] * nT + d->Ti[i] + 1]++;
  for (size_t q = 0; q < npair; q++) start[q + 1] += start[q];
  for (size_t i = 0; i < n; i++) {
    uint32_t pos = start[d->xi[i] * nT + d->Ti[i]]++;
    stx[pos] = d->txi[i];
    if (sw) sw[pos] = d->w[i];
  }
  /* start[q] is now the end of bucket q */
  memset(stamp, 0xff, nt1 * sizeof *stamp);
  size_t b = 0;
  for (size_t q = 0; q < npair; q++) {
    for (; b < start[q]; b++) {
      uint32_t t = stx[b];
      if (stamp[t] != (uint32_t)q) {
        stamp[t] = (uint32_t)q;
        slot[t] = (uint32_t)k;
        tri[3 * k] = (uint32_t)(q / nT);
        tri[3 * k + 1] = (uint32_t)(q % nT);
        tri[3 * k + 2] = t;
        uw[k++] = 0.0;
      }
      uw[slot[t]] += sw ? sw[b] : 1.0;
    }
  }
  *nu = k;
  rc = 0;
done:
  free(start);
  free(stx);
  free(stamp);
  free(slot);
  free(sw);
  return rc;
}

/* Summaries in whole days repeat: merges identical (x, t_x, T) rows into
 * one weighted row when that removes at least a quarter of them. */
static int compress_rows(pd__clv_data *d) {
  if (d->nx >= (1u << 21) || d->nT >= (1u << 21) || d->ntx >= (1u << 21)) return 0;
  size_t n1 = d->n ? d->n : 1, nu = 0;
  uint32_t *tri = malloc(3 * n1 * sizeof *tri);
  double *w = malloc(n1 * sizeof *w);
  if (!tri || !w || triples(d, tri, w, &nu)) {
    free(tri);
    free(w);
    return -1;
  }
  double *own = 4 * nu > 3 * d->n ? NULL : malloc(4 * (nu ? nu : 1) * sizeof *own);
  if (!own) {
    free(tri);
    free(w);
    return 4 * nu > 3 * d->n ? 0 : -1;
  }
  double *ux = own, *utx = own + nu, *uT = own + 2 * nu, *uw = own + 3 * nu;
  for (size_t k = 0; k < nu; k++) { /* values from the small distinct tables */
    uint32_t xk = tri[3 * k], Tk = tri[3 * k + 1], tk = tri[3 * k + 2];
    ux[k] = d->xs[xk];
    uT[k] = d->Ts[Tk];
    utx[k] = d->txs[tk];
    uw[k] = w[k];
    d->xi[k] = xk; /* k <= the rows read so far: the index arrays shrink in place */
    d->Ti[k] = Tk;
    d->txi[k] = tk;
  }
  free(tri);
  free(w);
  d->own = own;
  d->x = ux;
  d->t_x = utx;
  d->T = uT;
  d->w = uw;
  d->n = nu;
  return 0;
}

pd_status pd__clv_data_prepare(const pd__clv_family *fam, const pd_clv_summary *s, pd__clv_data *d) {
  memset(d, 0, sizeof *d);
  int gg = fam->kind == PD_CLV_GAMMA_GAMMA;
  pd_status st = pd__clv_validate(fam, s, gg);
  if (st) return st;
  d->n = s->n;
  d->x = s->x;
  d->t_x = s->t_x;
  d->T = s->T;
  d->m = s->monetary;
  d->w = s->weight;
  if (distinct_x(s->x, s->n, &d->xs, &d->xi, &d->nx)) goto nomem;
  if (!d->xs && !(d->xs = malloc(sizeof *d->xs))) goto nomem;
  size_t nx = d->nx;
  d->xw = calloc(nx ? nx : 1, sizeof *d->xw);
  d->cache = malloc((nx ? nx : 1) * 8 * sizeof *d->cache);
  if (!d->xw || !d->cache) goto nomem;
  for (size_t i = 0; i < s->n; i++) {
    if (gg && s->x[i] == 0) continue; /* Gamma-Gamma learns from repeat customers only */
    double w = pd__clv_w(d, i);
    d->xw[d->xi[i]] += w;
    d->wsum += w;
  }
  if (gg && pd__gg_prepare(d, s)) goto nomem;
  if (!gg && fam->kind != PD_CLV_BGBB && s->n >= 64) {
    if (distinct(s->T, s->n, s->n / 4, &d->Ts, &d->Ti, &d->nT) ||
        distinct(s->t_x, s->n, s->n / 4, &d->txs, &d->txi, &d->ntx))
      goto nomem;
    if (d->Ts && d->txs) {
      d->Tcache = malloc(2 * (d->nT + d->ntx) * sizeof *d->Tcache);
      if (!d->Tcache || compress_rows(d)) goto nomem;
    } else { /* both or neither */
      free(d->Ts);
      free(d->Ti);
      free(d->txs);
      free(d->txi);
      d->Ts = d->txs = NULL;
      d->Ti = d->txi = NULL;
      d->nT = d->ntx = 0;
    }
  }
  return PD_OK;
nomem:
  pd__clv_data_free(d);
  return pd__error(PD_ERR_NOMEM, "clv: out of memory for %zu rows", s->n);
}

/* ---- fitting ---------------------------------------------------------- */

typedef struct fit_ctx {
  const pd__clv_family *fam;
  const pd__clv_data *d;
  double penalty;
} fit_ctx;

/* Objective in log-parameters: mean negative log-likelihood + L2 penalty. */
static double objective(const double *th, double *grad, void *vctx) {
  fit_ctx *c = vctx;
  size_t np = c->fam->np;
  double p[PD__CLV_MAX_PARAMS], g[PD__CLV_MAX_PARAMS];
  for (size_t k = 0; k < np; k++) {
    if (!(fabs(th[k]) <= 40.0)) return INFINITY; /* e^40: far outside any sane model */
    p[k] = exp(th[k]);
  }
  int analytic = grad && c->fam->has_grad;
  double ll = c->fam->loglik(p, c->d, analytic ? g : NULL);
  if (!isfinite(ll)) return INFINITY;
  double f = -ll / c->d->wsum;
  for (size_t k = 0; k < np; k++) f += c->penalty * p[k] * p[k];
  if (grad) {
    if (analytic) {
      for (size_t k = 0; k < np; k++) grad[k] = -g[k] / c->d->wsum + 2.0 * c->penalty * p[k] * p[k];
    } else {
      pd__numgrad(np, objective, vctx, th, grad);
    }
  }
  return f;
}

/* The same with the Hessian in log-parameters, for families with loglik2. */
static double objective2(const double *th, double *grad, double *hess, void *vctx) {
  fit_ctx *c = vctx;
  size_t np = c->fam->np;
  double p[PD__CLV_MAX_PARAMS] = {0}, g[PD__CLV_MAX_PARAMS] = {0}, H[PD__CLV_MAX_PARAMS * PD__CLV_MAX_PARAMS] = {0};
  for (size_t k = 0; k < np; k++) {
    if (!(fabs(th[k]) <= 40.0)) return INFINITY;
    p[k] = exp(th[k]);
  }
  double ll = c->fam->loglik2(p, c->d, g, H);
  if (!isfinite(ll)) return INFINITY;
  double W = c->d->wsum, f = -ll / W;
  for (size_t k = 0; k < np; k++) {
    f += c->penalty * p[k] * p[k];
    grad[k] = -g[k] / W + 2.0 * c->penalty * p[k] * p[k];
    for (size_t j = 0; j < np; j++) hess[k * np + j] = -H[k * np + j] / W + (k == j ? 4.0 * c->penalty * p[k] * p[k] : 0.0);
  }
  return f;
}

void pd__clv_hess_to_log(size_t np, const double *p, const double *grad_log, double *H) {
  for (size_t k = 0; k < np; k++)
    for (size_t j = 0; j < np; j++) H[k * np + j] = p[k] * p[j] * H[k * np + j] + (k == j ? grad_log[k] : 0.0);
}

/* Objective, gradient and Hessian at th: analytic when the family has
 * loglik2 (one evaluation), else by central differences of the gradient. */
static pd_status hessian_at(fit_ctx *c, const double *th, double *f, double *g, double *H, int *evals) {
  size_t np = c->fam->np;
  if (c->fam->loglik2) {
    *f = objective2(th, g, H, c);
    *evals += 1;
    return isfinite(*f) ? PD_OK : pd__error(PD_ERR_NUMERIC, "clv: objective not finite");
  }
  *f = objective(th, g, c);
  *evals += 1 + 2 * (int)np;
  return pd__hessian(np, objective, c, th, H);
}

static pd_status model_alloc(const pd__clv_family *fam, pd_clv_model **out) {
  pd_clv_model *m = calloc(1, sizeof *m);
  if (!m) return pd__error(PD_ERR_NOMEM, "clv: out of memory");
  m->fam = fam;
  m->ll = NAN;
  for (size_t k = 0; k < PD__CLV_MAX_PARAMS; k++) m->se[k] = NAN;
  *out = m;
  return PD_OK;
}

/* Standard errors: covariance of log-parameters = inverse Hessian of the
 * total (not mean) objective; delta method back to the natural scale. */
static void standard_errors(pd_clv_model *m, fit_ctx *c, const double *th, const double *H_at_th) {
  size_t np = m->fam->np;
  double H[PD__CLV_MAX_PARAMS * PD__CLV_MAX_PARAMS], C[PD__CLV_MAX_PARAMS * PD__CLV_MAX_PARAMS];
  if (H_at_th)
    memcpy(H, H_at_th, np * np * sizeof *H);
  else if (pd__hessian(np, objective, c, th, H) != PD_OK)
    return;
  for (size_t i = 0; i < np * np; i++) H[i] *= c->d->wsum;
  if (pd__spd_inverse(np, H, C) != PD_OK) return;
  for (size_t k = 0; k < np; k++) m->se[k] = m->p[k] * sqrt(C[k * np + k]);
}

/* Quasi-Newton can stall at the rounding floor of f short of the gradient
 * tolerance. Finish with Newton steps on the numerical Hessian and call the
 * fit converged when the remaining Newton step is negligible. */
static int newton_polish(fit_ctx *c, double *th, int *evals, double *H, int *h_valid) {
  size_t np = c->fam->np;
  *h_valid = 0;
  for (int it = 0; it < 5; it++) {
    double Hi[PD__CLV_MAX_PARAMS * PD__CLV_MAX_PARAMS];
    double g[PD__CLV_MAX_PARAMS], step[PD__CLV_MAX_PARAMS], trial[PD__CLV_MAX_PARAMS];
    double f0;
    if (hessian_at(c, th, &f0, g, H, evals) != PD_OK || pd__spd_inverse(np, H, Hi) != PD_OK) return 0;
    double smax = 0.0;
    for (size_t i = 0; i < np; i++) {
      step[i] = 0.0;
      for (size_t j = 0; j < np; j++) step[i] -= Hi[i * np + j] * g[j];
      smax = fmax(smax, fabs(step[i]));
    }
    if (smax <= 1e-6) { /* relative parameter change below 1e-6; H is at th */
      *h_valid = 1;
      return 1;
    }
    for (size_t i = 0; i < np; i++) trial[i] = th[i] + step[i];
    if (!(objective(trial, NULL, c) <= f0)) return 0;
    memcpy(th, trial, np * sizeof *th);
  }
  return 0;
}

pd_status pd_clv_fit(pd_clv_kind kind, const pd_clv_summary *data, const pd_clv_fit_options *opts,
                     pd_clv_model **out) {
  if (!out) return pd__error(PD_ERR_INVALID, "clv_fit: out is NULL");
  *out = NULL;
  const pd__clv_family *fam = pd__clv_family_of(kind);
  if (!fam) return pd__error(PD_ERR_INVALID, "clv_fit: unknown model kind %d", (int)kind);
  /* callers built before the threads field pass the shorter struct */
  if (opts && opts->size < offsetof(pd_clv_fit_options, threads))
    return pd__error(PD_ERR_INVALID, "clv_fit: options size field not set (use PD_CLV_FIT_OPTIONS_INIT)");
  unsigned threads = opts && opts->size >= offsetof(pd_clv_fit_options, threads) + sizeof opts->threads ? opts->threads : 0;
  double penalty = opts ? opts->penalty : 0.0;
  if (!(penalty >= 0 && isfinite(penalty))) return pd__error(PD_ERR_INVALID, "clv_fit: penalty must be >= 0");
  double th[PD__CLV_MAX_PARAMS];
  for (size_t k = 0; k < fam->np; k++) {
    double v = opts && opts->start ? opts->start[k] : fam->start[k];
    if (!(v > 0 && isfinite(v))) return pd__error(PD_ERR_INVALID, "clv_fit: starting value %zu must be > 0", k);
    th[k] = log(v);
  }
  pd__clv_data d;
  pd_status st = pd__clv_data_prepare(fam, data, &d);
  if (st) return st;
  if (!(d.wsum > 0)) {
    pd__clv_data_free(&d);
    return pd__error(PD_ERR_INVALID, "clv_fit: no usable rows (total weight 0%s)",
                     kind == PD_CLV_GAMMA_GAMMA ? " among customers with x > 0" : "");
  }
  d.threads = threads;
  fit_ctx c = {fam, &d, penalty};
  pd__optim_options oo = {opts && opts->max_iter > 0 ? opts->max_iter : 1000, opts && opts->tol > 0 ? opts->tol : 1e-9, 0, 1e-9};
  pd__optim_result r1 = {0}, r2 = {0};
  if (!isfinite(objective(th, NULL, &c)) && opts && opts->start)
    for (size_t k = 0; k < fam->np; k++) th[k] = log(fam->start[k]); /* unusable start: use the default */
  int evals = 0, iters = 0;
  double H[PD__CLV_MAX_PARAMS * PD__CLV_MAX_PARAMS];
  int h_valid = 0;
  if (fam->loglik2) {
    /* Exact Hessian: damped Newton converges in a few evaluations; BFGS
     * below only when it does not. */
    double thn[PD__CLV_MAX_PARAMS];
    memcpy(thn, th, fam->np * sizeof *th);
    pd__optim_options no = {opts && opts->max_iter > 0 ? opts->max_iter : 100, oo.gtol, 0, 1e-6};
    pd__optim_result rn = {0};
    if (pd__newton(fam->np, objective2, &c, thn, &no, H, &rn) == PD_OK) {
      evals += rn.evaluations;
      iters += rn.iterations;
      if (rn.converged) {
        memcpy(th, thn, fam->np * sizeof *th);
        r1.converged = 1;
        h_valid = 1;
        goto fitted;
      }
      if (rn.f < objective(th, NULL, &c)) memcpy(th, thn, fam->np * sizeof *th);
    }
  }
  st = pd__bfgs(fam->np, objective, &c, th, &oo, &r1);
  if (st == PD_OK) {
    evals += r1.evaluations;
    iters += r1.iterations;
  }
  if (st != PD_OK || !r1.converged) {
    /* Fallback: a simplex search shakes off flat or broken regions, then BFGS polishes. */
    pd__optim_options no = {20000, 0, 1e-14, 0};
    pd_status s2 = pd__nelder_mead(fam->np, objective, &c, th, 0.5, &no, &r2);
    if (s2 == PD_OK) {
      evals += r2.evaluations;
      st = pd__bfgs(fam->np, objective, &c, th, &oo, &r1);
      if (st == PD_OK) {
        evals += r1.evaluations;
        iters += r1.iterations;
      }
    } else if (st != PD_OK) {
      st = s2;
    }
  }
  if (st != PD_OK) {
    pd__clv_data_free(&d);
    return st;
  }
  /* Always polish: a few Newton steps make the estimate exact to ~1e-6
   * relative whatever the quasi-Newton test accepted. */
  r1.converged = newton_polish(&c, th, &evals, H, &h_valid) || r1.converged;
fitted:;
  pd_clv_model *m = NULL;
  st = model_alloc(fam, &m);
  if (st) {
    pd__clv_data_free(&d);
    return st;
  }
  for (size_t k = 0; k < fam->np; k++) m->p[k] = exp(th[k]);
  m->ll = fam->loglik(m->p, &d, NULL);
  m->converged = r1.converged;
  m->iterations = iters;
  m->evaluations = evals;
  standard_errors(m, &c, th, h_valid ? H : NULL); /* the polish's Hessian when it is at th */
  pd__clv_data_free(&d);
  *out = m;
  return PD_OK;
}

pd_status pd_clv_model_new(pd_clv_kind kind, const double *params, size_t n_params, pd_clv_model **out) {
  if (!out) return pd__error(PD_ERR_INVALID, "clv_model_new: out is NULL");
  *out = NULL;
  const pd__clv_family *fam = pd__clv_family_of(kind);
  if (!fam) return pd__error(PD_ERR_INVALID, "clv_model_new: unknown model kind %d", (int)kind);
  if (!params || n_params != fam->np)
    return pd__error(PD_ERR_INVALID, "clv_model_new: %s takes %zu parameters", fam->name, fam->np);
  for (size_t k = 0; k < n_params; k++)
    if (!(params[k] > 0 && isfinite(params[k])))
      return pd__error(PD_ERR_INVALID, "clv_model_new: parameter %s must be > 0", fam->names[k]);
  pd_status st = model_alloc(fam, out);
  if (st) return st;
  memcpy((*out)->p, params, n_params * sizeof *params);
  return PD_OK;
}

void pd_clv_model_free(pd_clv_model *m) { free(m); }

pd_clv_kind pd_clv_model_kind(const pd_clv_model *m) { return m ? m->fam->kind : (pd_clv_kind)0; }
size_t pd_clv_model_n_params(const pd_clv_model *m) { return m ? m->fam->np : 0; }
const char *pd_clv_model_param_name(const pd_clv_model *m, size_t i) {
  return m && i < m->fam->np ? m->fam->names[i] : NULL;
}
double pd_clv_model_param(const pd_clv_model *m, size_t i) { return m && i < m->fam->np ? m->p[i] : NAN; }
double pd_clv_model_stderr(const pd_clv_model *m, size_t i) { return m && i < m->fam->np ? m->se[i] : NAN; }
double pd_clv_model_loglik(const pd_clv_model *m) { return m ? m->ll : NAN; }
int pd_clv_model_converged(const pd_clv_model *m) { return m ? m->converged : 0; }
int pd_clv_model_iterations(const pd_clv_model *m) { return m ? m->iterations : 0; }
int pd_clv_model_evaluations(const pd_clv_model *m) { return m ? m->evaluations : 0; }

pd_status pd_clv_model_table(const pd_clv_model *m, pd_table **out) {
  if (!m || !out) return pd__error(PD_ERR_INVALID, "clv_model_table: NULL argument");
  char name[32];
  snprintf(name, sizeof name, "clv_params_%s", m->fam->name);
  pd_table *t = pd__table_new(name);
  size_t cn = pd__table_add_col(t, "param", PD_TYPE_STRING);
  size_t cv = pd__table_add_col(t, "value", PD_TYPE_DOUBLE);
  size_t cs = pd__table_add_col(t, "stderr", PD_TYPE_DOUBLE);
  for (size_t k = 0; k < m->fam->np; k++) {
    size_t r = pd__table_add_row(t);
    pd__table_set_string(t, r, cn, m->fam->names[k]);
    pd__table_set_double(t, r, cv, m->p[k]);
    if (isfinite(m->se[k])) pd__table_set_double(t, r, cs, m->se[k]);
  }
  size_t r = pd__table_add_row(t);
  pd__table_set_string(t, r, cn, "loglik");
  if (isfinite(m->ll)) pd__table_set_double(t, r, cv, m->ll);
  r = pd__table_add_row(t);
  pd__table_set_string(t, r, cn, "converged");
  pd__table_set_double(t, r, cv, m->converged);
  return pd__table_finish(t, out);
}

pd_status pd_clv_loglik(const pd_clv_model *m, const pd_clv_summary *data, double *out) {
  if (!m || !out) return pd__error(PD_ERR_INVALID, "clv_loglik: NULL argument");
  pd__clv_data d;
  pd_status st = pd__clv_data_prepare(m->fam, data, &d);
  if (st) return st;
  *out = m->fam->loglik(m->p, &d, NULL);
  pd__clv_data_free(&d);
  if (isnan(*out)) return pd__error(PD_ERR_NUMERIC, "clv_loglik: likelihood could not be evaluated");
  return PD_OK;
}

pd_status pd_clv_summary_from_table(const pd_table *rfm, pd_clv_summary *out, double **storage) {
  if (!rfm || !out || !storage) return pd__error(PD_ERR_INVALID, "clv_summary_from_table: NULL argument");
  *storage = NULL;
  static const char *const names[] = {"frequency", "recency", "T", "monetary_value"};
  long cols[4];
  for (int k = 0; k < 4; k++) {
    cols[k] = pd_table_col_index(rfm, names[k]);
    if (cols[k] >= 0 && pd_table_col_type(rfm, (size_t)cols[k]) != PD_TYPE_DOUBLE) cols[k] = -1;
    if (cols[k] < 0 && k < 3)
      return pd__error(PD_ERR_NOT_FOUND, "clv_summary_from_table: table has no double column '%s'", names[k]);
  }
  size_t n = pd_table_n_rows(rfm), ncol = cols[3] >= 0 ? 4 : 3;
  double *buf = malloc((n ? n : 1) * ncol * sizeof *buf);
  if (!buf) return pd__error(PD_ERR_NOMEM, "clv_summary_from_table: out of memory");
  for (size_t k = 0; k < ncol; k++)
    for (size_t i = 0; i < n; i++) buf[k * n + i] = pd_table_get_double(rfm, i, (size_t)cols[k]);
  pd_clv_summary s = PD_CLV_SUMMARY_INIT;
  s.n = n;
  s.x = buf;
  s.t_x = buf + n;
  s.T = buf + 2 * n;
  s.monetary = ncol == 4 ? buf + 3 * n : NULL;
  *out = s;
  *storage = buf;
  return PD_OK;
}
