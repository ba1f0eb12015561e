/* Internals shared by the CLV files (lib/analysis/clv_*.c). */
#ifndef PD_CLV_INTERNAL_H
#define PD_CLV_INTERNAL_H

#include <stdint.h>

#include "pd_internal.h"
#include "privdomain/clv.h"

#define PD__CLV_MAX_PARAMS 4

/* A validated summary plus what the likelihoods cache: the distinct x
 * values (terms that depend on x alone are computed once per value, not
 * once per row) and the total weight of each. */
typedef struct pd__clv_data {
  size_t n;
  const double *x, *t_x, *T, *m, *w; /* borrowed; w may be NULL */
  double wsum;                        /* weight of the rows the model uses */
  size_t nx;
  double *xs;      /* distinct x, in order of first appearance */
  double *xw;      /* total weight per distinct x (rows the model uses) */
  uint32_t *xi;    /* row -> index into xs */
  double *cache;   /* 8 * nx doubles of scratch for the likelihoods */
  /* Distinct T and t_x values when there are few (summaries in whole days
   * have at most a few thousand): logs of alpha + value are then computed
   * once per value. NULL when not worth it. */
  size_t nT, ntx;
  double *Ts, *txs;      /* distinct values */
  uint32_t *Ti, *txi;    /* row -> index */
  double *Tcache;        /* 2 * (nT + ntx) doubles of scratch */
  double *own;           /* x, t_x, T, w of merged identical rows (then n, x... point here) */
  /* Gamma-Gamma: the rows with x > 0 grouped by distinct x (group k =
   * rows goff[k]..goff[k+1]), x * monetary and weight per grouped row
   * (gw NULL = 1 each), sum of w log(monetary) per group, and per-chunk
   * scratch for the per-group sums of an evaluation. */
  size_t gn;
  size_t *goff;
  double *gxm, *gw, *gM, *gacc;
  unsigned threads;      /* worker threads for the likelihood sums, 0 = one per core */
} pd__clv_data;

typedef struct pd__clv_family {
  pd_clv_kind kind;
  const char *name;
  size_t np;
  const char *names[PD__CLV_MAX_PARAMS];
  double start[PD__CLV_MAX_PARAMS];
  /* Weighted log-likelihood sum at natural parameters p. When grad is not
   * NULL and the family has an analytic gradient, fills d(sum)/d(log p_k);
   * has_grad == 0 means the caller differentiates numerically. */
  double (*loglik)(const double *p, const pd__clv_data *d, double *grad);
  int has_grad;
  /* Per-customer predictions (continuous or discrete time). */
  double (*expected)(const double *p, double t);
  double (*cond_expected)(const double *p, double x, double t_x, double T, double t);
  double (*alive)(const double *p, double x, double t_x, double T);
  /* cond_expected at several horizons t[0..nt) (sharing the per-customer
   * terms), or NULL to call cond_expected for each. */
  void (*cond_multi)(const double *p, double x, double t_x, double T, const double *t, size_t nt, double *out);
  /* Like loglik with an analytic gradient, plus the np*np Hessian of the
   * sum in log-parameters (row-major) in hess when not NULL; NULL when the
   * family has none (the fit then uses BFGS and a numerical Hessian). */
  double (*loglik2)(const double *p, const pd__clv_data *d, double *grad, double *hess);
} pd__clv_family;

struct pd_clv_model {
  const pd__clv_family *fam;
  double p[PD__CLV_MAX_PARAMS];
  double se[PD__CLV_MAX_PARAMS];
  double ll;
  int converged, iterations, evaluations;
};

extern const pd__clv_family pd__clv_bgnbd, pd__clv_mbgnbd, pd__clv_pnbd, pd__clv_bgbb, pd__clv_gg;

const pd__clv_family *pd__clv_family_of(pd_clv_kind kind);

/* Validates rows for the family (need_monetary: Gamma-Gamma style checks). */
pd_status pd__clv_validate(const pd__clv_family *fam, const pd_clv_summary *s, int need_monetary);
/* Validates and builds the caches; free with pd__clv_data_free(). */
pd_status pd__clv_data_prepare(const pd__clv_family *fam, const pd_clv_summary *s, pd__clv_data *d);
void pd__clv_data_free(pd__clv_data *d);

/* Gamma-Gamma part of pd__clv_data_prepare (clv_gg.c): -1 when out of memory. */
int pd__gg_prepare(pd__clv_data *d, const pd_clv_summary *s);

/* Hessian in log-parameters from the natural-scale one: H_theta[k][j] =
 * p_k p_j H[k][j] + (k == j) grad_theta[k], in place (np*np row-major). */
void pd__clv_hess_to_log(size_t np, const double *p, const double *grad_log, double *H);

/* Weight of row i. */
static inline double pd__clv_w(const pd__clv_data *d, size_t i) { return d->w ? d->w[i] : 1.0; }

/* Pareto/NBD pieces shared by P(alive) and DERT: log of the "alive at T"
 * and "died before T" likelihood parts without the common factor. */
/* Per row: sum over months k of the expected purchases in month k, each
 * discounted by (1 + monthly_discount)^k (the CLV of a unit spend). */
pd_status pd__clv_discounted_purchases(const pd_clv_model *m, const pd_clv_summary *data, double months,
                                       double monthly_discount, double units_per_month, double *out);

/* Open-addressing map from 64-bit keys to dense indexes 0, 1, 2... in order
 * of first appearance. Zero-initialise; free with pd__u64map_free(). */
typedef struct pd__u64map {
  uint64_t *keys;
  uint32_t *vals; /* UINT32_MAX = empty slot */
  size_t cap, n;
} pd__u64map;
/* Index of key, added when new; SIZE_MAX when out of memory. */
size_t pd__u64map_put(pd__u64map *m, uint64_t key);
void pd__u64map_free(pd__u64map *m);
/* The bits of a double as a key (-0 and +0 alike). */
uint64_t pd__double_bits(double v);

/* BG/NBD and MBG/NBD fast path of pd__clv_discounted_purchases(): out[i] =
 * sum_k (E_i(t[k]) - E_i(t[k-1])) / disc[k]. Returns 0 when done, nonzero
 * when the caller must take the general path. */
int pd__bgnbd_discounted(const pd_clv_model *m, const pd_clv_summary *s, const double *t, const double *disc,
                         size_t nt, double *out);

void pd__pnbd_parts(const double *p, double x, double t_x, double T, double *log_alive, double *log_dead);

/* ---- threads (clv_parallel.c) ---- */
#define PD__CLV_MAX_CHUNKS 8
#define PD__CLV_CHUNK_ROWS 32768 /* rows per chunk at least: below, one chunk */
typedef void (*pd__clv_chunk_fn)(void *ctx, size_t chunk, size_t begin, size_t end);
/* Chunks [0, n) is cut into: 1 to PD__CLV_MAX_CHUNKS, a function of n only. */
size_t pd__clv_chunks(size_t n);
/* Worker threads for `requested` (0 = one per core), at most PD__CLV_MAX_CHUNKS. */
unsigned pd__clv_threads(unsigned requested);
/* Calls fn(ctx, chunk, begin, end) once for each of the pd__clv_chunks(n)
 * contiguous chunks of [0, n), on up to pd__clv_threads(threads) threads
 * (the calling thread included); returns when all are done. fn must only
 * write its own chunk's rows or per-chunk slots. */
void pd__clv_parallel(size_t n, unsigned threads, pd__clv_chunk_fn fn, void *ctx);

#endif
