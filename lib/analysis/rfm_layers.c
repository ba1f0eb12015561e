/* RFM scores and the eight classic RFM layers; see
 * include/privdomain/rfm_layers.h for the exact definitions. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pd_internal.h"
#include "privdomain/rfm_layers.h"
#include "privdomain/scan.h"
#include "store_internal.h"
#include "tz.h"

#define MAX_BINS 20

static const struct {
  const char *zh, *en, *action;
} layer_info[8] = {
    {"\xE9\x87\x8D\xE8\xA6\x81\xE4\xBB\xB7\xE5\x80\xBC", "Important value", "keep close: VIP service, early access"},
    {"\xE9\x87\x8D\xE8\xA6\x81\xE5\x8F\x91\xE5\xB1\x95", "Important develop", "raise frequency: membership, bundles"},
    {"\xE9\x87\x8D\xE8\xA6\x81\xE4\xBF\x9D\xE6\x8C\x81", "Important keep", "slipping: reach out one to one now"},
    {"\xE9\x87\x8D\xE8\xA6\x81\xE6\x8C\xBD\xE7\x95\x99", "Important win back", "high spenders gone quiet: win back"},
    {"\xE4\xB8\x80\xE8\x88\xAC\xE4\xBB\xB7\xE5\x80\xBC", "General value", "upsell: higher-value offers"},
    {"\xE4\xB8\x80\xE8\x88\xAC\xE5\x8F\x91\xE5\xB1\x95", "General develop", "nurture: content, second-purchase coupons"},
    {"\xE4\xB8\x80\xE8\x88\xAC\xE4\xBF\x9D\xE6\x8C\x81", "General keep", "reactivate: reminders, group campaigns"},
    {"\xE4\xB8\x80\xE8\x88\xAC\xE6\x8C\xBD\xE7\x95\x99", "General win back", "low priority: mass, low-cost touches"},
};

const char *pd_rfm_layer_name_zh(int layer) { return layer >= 1 && layer <= 8 ? layer_info[layer - 1].zh : NULL; }
const char *pd_rfm_layer_name(int layer) { return layer >= 1 && layer <= 8 ? layer_info[layer - 1].en : NULL; }
const char *pd_rfm_layer_action(int layer) { return layer >= 1 && layer <= 8 ? layer_info[layer - 1].action : NULL; }

/* One customer. */
typedef struct cust {
  uint32_t user;
  const char *ext; /* borrowed, or NULL */
  double r, f, m;
} cust;

typedef struct cfg {
  unsigned bins;
  pd_rfm_score_method method;
  const double *cuts[3];
  pd_rfm_split split;
  double splits[3];
} cfg;

static pd_status make_cfg(const pd_rfm_layer_options *o, cfg *c) {
  pd_rfm_layer_options def = PD_RFM_LAYER_OPTIONS_INIT;
  if (!o) o = &def;
  if (o->size < offsetof(pd_rfm_layer_options, users))
    return pd__error(PD_ERR_INVALID, "rfm layers: options size not set (use PD_RFM_LAYER_OPTIONS_INIT)");
  memset(c, 0, sizeof *c);
  c->bins = o->bins ? o->bins : 5;
  if (c->bins < 2 || c->bins > MAX_BINS) return pd__error(PD_ERR_INVALID, "rfm layers: bins must be 2..%d", MAX_BINS);
  c->method = o->score_method;
  if (c->method != PD_RFM_SCORE_QUANTILE && c->method != PD_RFM_SCORE_THRESHOLDS)
    return pd__error(PD_ERR_INVALID, "rfm layers: unknown score method %d", (int)c->method);
  c->cuts[0] = o->r_cuts, c->cuts[1] = o->f_cuts, c->cuts[2] = o->m_cuts;
  if (c->method == PD_RFM_SCORE_THRESHOLDS) {
    static const char dims[] = "RFM";
    for (int d = 0; d < 3; d++) {
      if (!c->cuts[d]) return pd__error(PD_ERR_INVALID, "rfm layers: score thresholds of %c not given", dims[d]);
      for (unsigned k = 0; k + 1 < c->bins; k++) {
        if (!isfinite(c->cuts[d][k])) return pd__error(PD_ERR_INVALID, "rfm layers: %c threshold %u is not finite", dims[d], k + 1);
        if (k > 0 && !(c->cuts[d][k] > c->cuts[d][k - 1]))
          return pd__error(PD_ERR_INVALID, "rfm layers: %c thresholds must increase strictly", dims[d]);
      }
    }
  }
  c->split = o->split;
  if (c->split != PD_RFM_SPLIT_MEAN && c->split != PD_RFM_SPLIT_THRESHOLDS)
    return pd__error(PD_ERR_INVALID, "rfm layers: unknown split %d", (int)c->split);
  c->splits[0] = o->r_split, c->splits[1] = o->f_split, c->splits[2] = o->m_split;
  if (c->split == PD_RFM_SPLIT_THRESHOLDS)
    for (int d = 0; d < 3; d++)
      if (!isfinite(c->splits[d])) return pd__error(PD_ERR_INVALID, "rfm layers: split values must be finite");
  return PD_OK;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* numpy.quantile(v, q) with the default "linear" method over sorted v. */
static double quantile_sorted(const double *v, size_t n, double q) {
  double h = (double)(n - 1) * q, lo = floor(h);
  if (lo >= (double)(n - 1)) return v[n - 1];
  size_t i = (size_t)lo;
  double a = v[i], b = v[i + 1], g = h - lo, d = b - a;
  return g >= 0.5 ? b - d * (1 - g) : a + d * g; /* numpy's _lerp */
}

/* 1 + #{k : edge_k < x}: edges ascending, bins - 1 of them. */
static int64_t score_up(const double *edge, unsigned bins, double x) {
  int64_t s = 1;
  for (unsigned k = 0; k + 1 < bins; k++) s += edge[k] < x;
  return s;
}

typedef struct layer_acc {
  int64_t users;
  double r, f, m;
} layer_acc;

static double dim(const cust *c, int d) { return d == 0 ? c->r : d == 1 ? c->f : c->m; }

static pd_status build(size_t n, const cust *cs, int has_ext, const cfg *c, pd_table **users, pd_table **layers,
                       pd_table **thresholds) {
  unsigned nb = c->bins;
  /* edges[d][k] in score terms: ascending; R's are on -recency in quantile mode */
  double edges[3][MAX_BINS], mean[3] = {0, 0, 0}, split[3];
  double *tmp = NULL;
  if (n > 0) {
    for (size_t i = 0; i < n; i++)
      for (int d = 0; d < 3; d++) mean[d] += dim(&cs[i], d);
    for (int d = 0; d < 3; d++) mean[d] /= (double)n;
  }
  for (int d = 0; d < 3; d++) split[d] = c->split == PD_RFM_SPLIT_MEAN ? mean[d] : c->splits[d];
  if (c->method == PD_RFM_SCORE_THRESHOLDS) {
    for (int d = 0; d < 3; d++)
      for (unsigned k = 0; k + 1 < nb; k++) edges[d][k] = c->cuts[d][k];
  } else if (n > 0) {
    tmp = malloc(n * sizeof *tmp);
    if (!tmp) return pd__error(PD_ERR_NOMEM, "rfm layers: out of memory for %zu customers", n);
    double step = 1.0 / (double)nb; /* as numpy.linspace(0, 1, bins + 1): k * step */
    for (int d = 0; d < 3; d++) {
      for (size_t i = 0; i < n; i++) tmp[i] = d == 0 ? -cs[i].r : dim(&cs[i], d);
      qsort(tmp, n, sizeof *tmp, cmp_double);
      for (unsigned k = 0; k + 1 < nb; k++) edges[d][k] = quantile_sorted(tmp, n, (double)(k + 1) * step);
    }
    free(tmp);
  }
  layer_acc acc[8];
  memset(acc, 0, sizeof acc);
  double total_m = 0;
  pd_table *tu = users ? pd__table_new("rfm_scores") : NULL;
  size_t c_user = 0, c_ext = 0, c_r = 0, c_f = 0, c_m = 0, c_rs = 0, c_fs = 0, c_ms = 0, c_rfm = 0, c_sum = 0, c_l = 0,
         c_zh = 0, c_en = 0;
  if (tu) {
    c_user = pd__table_add_col(tu, "user", PD_TYPE_INT64);
    if (has_ext) c_ext = pd__table_add_col(tu, "external_id", PD_TYPE_STRING);
    c_r = pd__table_add_col(tu, "recency", PD_TYPE_DOUBLE);
    c_f = pd__table_add_col(tu, "frequency", PD_TYPE_DOUBLE);
    c_m = pd__table_add_col(tu, "monetary", PD_TYPE_DOUBLE);
    c_rs = pd__table_add_col(tu, "r_score", PD_TYPE_INT64);
    c_fs = pd__table_add_col(tu, "f_score", PD_TYPE_INT64);
    c_ms = pd__table_add_col(tu, "m_score", PD_TYPE_INT64);
    c_rfm = pd__table_add_col(tu, "rfm_score", PD_TYPE_INT64);
    c_sum = pd__table_add_col(tu, "score_sum", PD_TYPE_INT64);
    c_l = pd__table_add_col(tu, "layer", PD_TYPE_INT64);
    c_zh = pd__table_add_col(tu, "layer_zh", PD_TYPE_STRING);
    c_en = pd__table_add_col(tu, "layer_name", PD_TYPE_STRING);
  }
  for (size_t i = 0; i < n; i++) {
    const cust *u = &cs[i];
    int rh = u->r <= split[0], fh = u->f >= split[1], mh = u->m >= split[2];
    int layer = 1 + (mh ? 0 : 4) + (rh ? 0 : 2) + (fh ? 0 : 1);
    layer_acc *a = &acc[layer - 1];
    a->users++, a->r += u->r, a->f += u->f, a->m += u->m;
    total_m += u->m;
    if (!tu) continue;
    int64_t rs = c->method == PD_RFM_SCORE_QUANTILE ? score_up(edges[0], nb, -u->r)
                                                    : (int64_t)nb + 1 - score_up(edges[0], nb, u->r);
    int64_t fs = score_up(edges[1], nb, u->f), ms = score_up(edges[2], nb, u->m);
    size_t row = pd__table_add_row(tu);
    pd__table_set_int64(tu, row, c_user, u->user);
    if (has_ext && u->ext) pd__table_set_string(tu, row, c_ext, u->ext);
    pd__table_set_double(tu, row, c_r, u->r);
    pd__table_set_double(tu, row, c_f, u->f);
    pd__table_set_double(tu, row, c_m, u->m);
    pd__table_set_int64(tu, row, c_rs, rs);
    pd__table_set_int64(tu, row, c_fs, fs);
    pd__table_set_int64(tu, row, c_ms, ms);
    if (nb <= 9) pd__table_set_int64(tu, row, c_rfm, 100 * rs + 10 * fs + ms);
    pd__table_set_int64(tu, row, c_sum, rs + fs + ms);
    pd__table_set_int64(tu, row, c_l, layer);
    pd__table_set_string(tu, row, c_zh, layer_info[layer - 1].zh);
    pd__table_set_string(tu, row, c_en, layer_info[layer - 1].en);
  }
  pd_table *tl = layers ? pd__table_new("rfm_layers") : NULL;
  if (tl) {
    size_t a_l = pd__table_add_col(tl, "layer", PD_TYPE_INT64), a_zh = pd__table_add_col(tl, "layer_zh", PD_TYPE_STRING),
           a_en = pd__table_add_col(tl, "layer_name", PD_TYPE_STRING), a_r = pd__table_add_col(tl, "r", PD_TYPE_STRING),
           a_f = pd__table_add_col(tl, "f", PD_TYPE_STRING), a_m = pd__table_add_col(tl, "m", PD_TYPE_STRING),
           a_u = pd__table_add_col(tl, "users", PD_TYPE_INT64), a_s = pd__table_add_col(tl, "share", PD_TYPE_DOUBLE),
           a_rev = pd__table_add_col(tl, "revenue", PD_TYPE_INT64),
           a_rs = pd__table_add_col(tl, "revenue_share", PD_TYPE_DOUBLE),
           a_mr = pd__table_add_col(tl, "mean_recency", PD_TYPE_DOUBLE),
           a_mf = pd__table_add_col(tl, "mean_frequency", PD_TYPE_DOUBLE),
           a_mm = pd__table_add_col(tl, "mean_monetary", PD_TYPE_DOUBLE),
           a_act = pd__table_add_col(tl, "action", PD_TYPE_STRING);
    for (int k = 0; k < 8; k++) {
      const layer_acc *a = &acc[k];
      size_t row = pd__table_add_row(tl);
      pd__table_set_int64(tl, row, a_l, k + 1);
      pd__table_set_string(tl, row, a_zh, layer_info[k].zh);
      pd__table_set_string(tl, row, a_en, layer_info[k].en);
      pd__table_set_string(tl, row, a_r, (k & 2) ? "low" : "high");
      pd__table_set_string(tl, row, a_f, (k & 1) ? "low" : "high");
      pd__table_set_string(tl, row, a_m, (k & 4) ? "low" : "high");
      pd__table_set_int64(tl, row, a_u, a->users);
      if (n) pd__table_set_double(tl, row, a_s, (double)a->users / (double)n);
      pd__table_set_int64(tl, row, a_rev, (int64_t)llround(a->m));
      if (total_m != 0) pd__table_set_double(tl, row, a_rs, a->m / total_m);
      if (a->users) {
        pd__table_set_double(tl, row, a_mr, a->r / (double)a->users);
        pd__table_set_double(tl, row, a_mf, a->f / (double)a->users);
        pd__table_set_double(tl, row, a_mm, a->m / (double)a->users);
      }
      pd__table_set_string(tl, row, a_act, layer_info[k].action);
    }
  }
  pd_table *tt = thresholds ? pd__table_new("rfm_thresholds") : NULL;
  if (tt) {
    size_t t_d = pd__table_add_col(tt, "dimension", PD_TYPE_STRING), t_s = pd__table_add_col(tt, "split", PD_TYPE_DOUBLE),
           t_m = pd__table_add_col(tt, "mean", PD_TYPE_DOUBLE), t_e[MAX_BINS];
    for (unsigned k = 0; k + 1 < nb; k++) {
      char name[16];
      snprintf(name, sizeof name, "edge_%u", k + 1);
      t_e[k] = pd__table_add_col(tt, name, PD_TYPE_DOUBLE);
    }
    static const char *const names[3] = {"R", "F", "M"};
    for (int d = 0; d < 3; d++) {
      size_t row = pd__table_add_row(tt);
      pd__table_set_string(tt, row, t_d, names[d]);
      if (n || c->split == PD_RFM_SPLIT_THRESHOLDS) pd__table_set_double(tt, row, t_s, split[d]);
      if (n) pd__table_set_double(tt, row, t_m, mean[d]);
      if (n || c->method == PD_RFM_SCORE_THRESHOLDS)
        for (unsigned k = 0; k + 1 < nb; k++) {
          /* quantile edges of R are on -recency: report them as recency, ascending score order */
          double e = d == 0 && c->method == PD_RFM_SCORE_QUANTILE ? -edges[0][nb - 2 - k] : edges[d][k];
          pd__table_set_double(tt, row, t_e[k], e + 0.0); /* + 0.0: no negative zero */
        }
    }
  }
  pd_status st = PD_OK, s2;
  if (tu && (s2 = pd__table_finish(tu, users)) != PD_OK) st = s2;
  if (tl && (s2 = pd__table_finish(tl, layers)) != PD_OK) st = s2;
  if (tt && (s2 = pd__table_finish(tt, thresholds)) != PD_OK) st = s2;
  return st;
}

static void clear_outputs(pd_table **users, pd_table **layers, pd_table **thresholds) {
  if (users) *users = NULL;
  if (layers) *layers = NULL;
  if (thresholds) *thresholds = NULL;
}

static void free_outputs(pd_table **users, pd_table **layers, pd_table **thresholds) {
  if (users) pd_table_free(*users), *users = NULL;
  if (layers) pd_table_free(*layers), *layers = NULL;
  if (thresholds) pd_table_free(*thresholds), *thresholds = NULL;
}

static pd_status finish(size_t n, const cust *cs, int has_ext, const cfg *c, pd_table **users, pd_table **layers,
                        pd_table **thresholds) {
  pd_status st = build(n, cs, has_ext, c, users, layers, thresholds);
  if (st != PD_OK) free_outputs(users, layers, thresholds);
  return st;
}

pd_status pd_rfm_layers_from_values(size_t n, const uint32_t *user, const double *recency, const double *frequency,
                                    const double *monetary, const pd_rfm_layer_options *opts, pd_table **users,
                                    pd_table **layers, pd_table **thresholds) {
  clear_outputs(users, layers, thresholds);
  if (n > 0 && (!recency || !frequency || !monetary)) return pd__error(PD_ERR_INVALID, "rfm layers: NULL array");
  cfg c;
  pd_status st = make_cfg(opts, &c);
  if (st) return st;
  cust *cs = malloc((n ? n : 1) * sizeof *cs);
  if (!cs) return pd__error(PD_ERR_NOMEM, "rfm layers: out of memory for %zu customers", n);
  for (size_t i = 0; i < n; i++) {
    if (!isfinite(recency[i]) || !isfinite(frequency[i]) || !isfinite(monetary[i])) {
      free(cs);
      return pd__error(PD_ERR_INVALID, "rfm layers: customer %zu has a non-finite value", i);
    }
    cs[i] = (cust){user ? user[i] : (uint32_t)i, NULL, recency[i], frequency[i], monetary[i]};
  }
  st = finish(n, cs, 0, &c, users, layers, thresholds);
  free(cs);
  return st;
}

static double cell(const pd_table *t, size_t row, long col) {
  if (pd_table_is_null(t, row, (size_t)col)) return NAN;
  if (pd_table_col_type(t, (size_t)col) == PD_TYPE_INT64) return (double)pd_table_get_int64(t, row, (size_t)col);
  return pd_table_get_double(t, row, (size_t)col);
}

pd_status pd_rfm_layers_from_summary(const pd_table *rfm, const pd_rfm_layer_options *opts, pd_table **users,
                                     pd_table **layers, pd_table **thresholds) {
  clear_outputs(users, layers, thresholds);
  if (!rfm) return pd__error(PD_ERR_INVALID, "rfm layers: summary table is NULL");
  cfg c;
  pd_status st = make_cfg(opts, &c);
  if (st) return st;
  long c_u = pd_table_col_index(rfm, "user"), c_f = pd_table_col_index(rfm, "frequency"),
       c_r = pd_table_col_index(rfm, "recency"), c_T = pd_table_col_index(rfm, "T"),
       c_rev = pd_table_col_index(rfm, "revenue"), c_ext = pd_table_col_index(rfm, "external_id");
  if (c_u < 0 || c_f < 0 || c_r < 0 || c_T < 0 || c_rev < 0)
    return pd__error(PD_ERR_INVALID, "rfm layers: the summary lacks user, frequency, recency, T or revenue");
  if (c_ext >= 0 && pd_table_col_type(rfm, (size_t)c_ext) != PD_TYPE_STRING) c_ext = -1;
  size_t n = pd_table_n_rows(rfm), m = 0;
  cust *cs = malloc((n ? n : 1) * sizeof *cs);
  if (!cs) return pd__error(PD_ERR_NOMEM, "rfm layers: out of memory for %zu customers", n);
  for (size_t i = 0; i < n; i++) {
    double R = cell(rfm, i, c_T) - cell(rfm, i, c_r), F = cell(rfm, i, c_f) + 1, M = cell(rfm, i, c_rev),
           U = cell(rfm, i, c_u);
    if (!isfinite(R) || !isfinite(F) || !isfinite(M) || !(U >= 0 && U <= 4294967295.0)) continue;
    cs[m++] = (cust){(uint32_t)U, c_ext >= 0 ? pd_table_get_string(rfm, i, (size_t)c_ext) : NULL, R, F, M};
  }
  st = finish(m, cs, c_ext >= 0, &c, users, layers, thresholds);
  free(cs);
  return st;
}

/* ---- store ---------------------------------------------------------------- */

typedef struct srow {
  uint32_t user;
  int64_t last_day, purchases, revenue;
} srow;

typedef struct sworker {
  srow *v;
  size_t n, cap;
  int64_t max_ms; /* latest purchase or refund seen (any user) */
  int oom;
} sworker;

typedef struct sctx {
  pd__tz *tz;
  int64_t begin, end; /* [begin, end) */
  sworker *w;
} sctx;

static int scan_user(void *vctx, unsigned worker, const pd_user_events *ev) {
  sctx *c = vctx;
  sworker *w = &c->w[worker];
  int64_t purchases = 0, revenue = 0, last = 0;
  for (size_t i = 0; i < ev->n; i++) {
    int64_t t = ev->time[i];
    if (t < c->begin) continue;
    if (t >= c->end) break;
    uint16_t ty = ev->type[i];
    if (ty == PD_EV_PURCHASE) {
      purchases++, revenue += ev->amount[i], last = t;
    } else if (ty == PD_EV_REFUND) {
      revenue -= llabs(ev->amount[i]);
    } else {
      continue;
    }
    if (t > w->max_ms) w->max_ms = t;
  }
  if (purchases == 0) return 0;
  if (w->n == w->cap) {
    size_t cap = w->cap ? 2 * w->cap : 1024;
    srow *nv = realloc(w->v, cap * sizeof *nv);
    if (!nv) {
      w->oom = 1;
      return 1;
    }
    w->v = nv, w->cap = cap;
  }
  w->v[w->n++] = (srow){ev->user, pd__floor_div(pd__tz_local_ms(c->tz, last), PD_MS_PER_DAY), purchases, revenue};
  return 0;
}

static int cmp_srow(const void *a, const void *b) {
  uint32_t x = ((const srow *)a)->user, y = ((const srow *)b)->user;
  return (x > y) - (x < y);
}

pd_status pd_rfm_layers_from_store(pd_store *store, const pd_rfm_layer_options *opts, pd_table **users,
                                   pd_table **layers, pd_table **thresholds) {
  clear_outputs(users, layers, thresholds);
  if (!store) return pd__error(PD_ERR_INVALID, "rfm layers: store is NULL");
  cfg c;
  pd_status st = make_cfg(opts, &c);
  if (st) return st;
  pd_rfm_layer_options def = PD_RFM_LAYER_OPTIONS_INIT;
  if (!opts) opts = &def;
  sctx sc = {NULL, opts->window_begin == PD_RFM_LAYERS_NO_TIME ? INT64_MIN : opts->window_begin,
             opts->window_end == PD_RFM_LAYERS_NO_TIME ? INT64_MAX : opts->window_end, NULL};
  if (sc.end <= sc.begin) return pd__error(PD_ERR_INVALID, "rfm layers: the window ends before it begins");
  if ((st = pd__tz_open(opts->tz, &sc.tz)) != PD_OK) return st;
  pd_scan_options so = PD_SCAN_OPTIONS_INIT;
  so.threads = opts->threads;
  so.users = opts->size >= sizeof *opts ? opts->users : NULL; /* older callers: no filter */
  unsigned nw = pd_scan_workers(&so);
  sc.w = calloc(nw, sizeof *sc.w);
  srow *all = NULL;
  cust *cs = NULL;
  if (!sc.w) {
    st = pd__error(PD_ERR_NOMEM, "rfm layers: out of memory");
    goto done;
  }
  for (unsigned i = 0; i < nw; i++) sc.w[i].max_ms = INT64_MIN;
  st = pd_scan(store, &so, scan_user, &sc);
  size_t total = 0;
  int64_t max_ms = INT64_MIN;
  for (unsigned i = 0; i < nw; i++) {
    if (sc.w[i].oom) st = pd__error(PD_ERR_NOMEM, "rfm layers: out of memory");
    total += sc.w[i].n;
    if (sc.w[i].max_ms > max_ms) max_ms = sc.w[i].max_ms;
  }
  if (st != PD_OK) goto done;
  all = malloc((total ? total : 1) * sizeof *all);
  cs = malloc((total ? total : 1) * sizeof *cs);
  if (!all || !cs) {
    st = pd__error(PD_ERR_NOMEM, "rfm layers: out of memory for %zu customers", total);
    goto done;
  }
  size_t m = 0;
  for (unsigned i = 0; i < nw; i++) {
    if (sc.w[i].n) memcpy(all + m, sc.w[i].v, sc.w[i].n * sizeof *all);
    m += sc.w[i].n;
  }
  qsort(all, m, sizeof *all, cmp_srow);
  if (so.users && sc.end == INT64_MAX) { /* a segment is observed as long as the store */
    int64_t t = pd__store_latest_transaction(store);
    max_ms = t >= sc.begin ? t : INT64_MIN;
  }
  int64_t end_ms = sc.end != INT64_MAX ? sc.end - 1 : max_ms;
  int64_t end_day = m ? pd__floor_div(pd__tz_local_ms(sc.tz, end_ms), PD_MS_PER_DAY) : 0;
  for (size_t i = 0; i < m; i++)
    cs[i] = (cust){all[i].user, pd_store_user_name(store, all[i].user), (double)(end_day - all[i].last_day),
                   (double)all[i].purchases, (double)all[i].revenue};
  st = finish(m, cs, 1, &c, users, layers, thresholds);
done:
  if (sc.w)
    for (unsigned i = 0; i < nw; i++) free(sc.w[i].v);
  free(sc.w);
  free(all);
  free(cs);
  pd__tz_free(sc.tz);
  return st;
}
