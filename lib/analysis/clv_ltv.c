/* Historical value by cohort and acquisition touchpoint (with LTV:CAC),
 * and dormant contacts by touchpoint. See include/privdomain/ltv.h. */
#include <glib.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pd_internal.h"
#include "privdomain/ltv.h"
#include "privdomain/scan.h"
#include "tz.h"

/* ---- history: one record per user, kept per worker, concatenated ---- */

typedef struct user_rec {
  uint32_t user, touchpoint;
  int64_t acquired, first_purchase, last_purchase;
  int64_t purchases, revenue;
} user_rec;

typedef struct hist_worker {
  user_rec *v;
  size_t n, cap;
  int oom;
} hist_worker;

typedef struct hist_ctx {
  int64_t as_of;
  hist_worker *w;
} hist_ctx;

static int hist_user(void *vctx, unsigned worker, const pd_user_events *ev) {
  hist_ctx *c = vctx;
  hist_worker *w = &c->w[worker];
  user_rec r = {ev->user, PD_NONE, INT64_MIN, INT64_MIN, INT64_MIN, 0, 0};
  uint32_t tp_any = PD_NONE;
  int64_t acq = INT64_MIN;
  for (size_t i = 0; i < ev->n && ev->time[i] <= c->as_of; i++) {
    uint16_t ty = ev->type[i];
    if (r.acquired == INT64_MIN) r.acquired = ev->time[i];
    if (tp_any == PD_NONE && ev->touchpoint[i] != PD_NONE) tp_any = ev->touchpoint[i];
    if (ty == PD_EV_ACQUIRE && acq == INT64_MIN) {
      acq = ev->time[i];
      r.touchpoint = ev->touchpoint[i];
    }
    if (ty == PD_EV_PURCHASE) {
      r.purchases++;
      r.revenue += ev->amount[i];
      if (r.first_purchase == INT64_MIN) r.first_purchase = ev->time[i];
      r.last_purchase = ev->time[i];
    } else if (ty == PD_EV_REFUND) {
      r.revenue -= llabs(ev->amount[i]);
    }
  }
  if (r.acquired == INT64_MIN) return 0; /* nothing up to as_of */
  if (acq != INT64_MIN) r.acquired = acq;
  if (r.touchpoint == PD_NONE) r.touchpoint = tp_any;
  if (w->n == w->cap) {
    size_t cap = w->cap ? 2 * w->cap : 1024;
    user_rec *nv = realloc(w->v, cap * sizeof *nv);
    if (!nv) {
      w->oom = 1;
      return 1;
    }
    w->v = nv;
    w->cap = cap;
  }
  w->v[w->n++] = r;
  return 0;
}

static int cmp_user(const void *a, const void *b) {
  uint32_t x = ((const user_rec *)a)->user, y = ((const user_rec *)b)->user;
  return (x > y) - (x < y);
}

/* Group key: (cohort index, touchpoint). */
typedef struct group {
  int64_t cohort;
  uint32_t touchpoint;
  int64_t customers, buyers, revenue;
  int64_t first_day, last_day; /* acquisition days, for active_days */
} group;

static guint group_hash(gconstpointer p) {
  const group *g = p;
  uint64_t h = (uint64_t)g->cohort * 0x9E3779B97F4A7C15u ^ (uint64_t)g->touchpoint * 0xC2B2AE3D27D4EB4Fu;
  return (guint)(h ^ (h >> 32));
}
static gboolean group_eq(gconstpointer a, gconstpointer b) {
  const group *x = a, *y = b;
  return x->cohort == y->cohort && x->touchpoint == y->touchpoint;
}

static int cmp_group(const void *a, const void *b) {
  const group *x = *(const group *const *)a, *y = *(const group *const *)b;
  if (x->cohort != y->cohort) return x->cohort < y->cohort ? -1 : 1;
  return (x->touchpoint > y->touchpoint) - (x->touchpoint < y->touchpoint);
}

static const char *tp_name(pd_store *s, uint32_t tp, pd_touchpoint_def *def) {
  *def = (pd_touchpoint_def)PD_TOUCHPOINT_DEF_INIT;
  if (tp == PD_NONE || pd_store_touchpoint(s, tp, def) != PD_OK) return NULL;
  return def->name;
}

/* Aggregates the user records into groups keyed by (cohort or 0, touchpoint). */
static pd_status aggregate(const user_rec *v, size_t n, pd__tz *tz, pd_period period, int by_cohort, group ***out,
                           size_t *n_out) {
  GHashTable *h = g_hash_table_new_full(group_hash, group_eq, g_free, NULL);
  for (size_t i = 0; i < n; i++) {
    group key = {by_cohort ? pd__period_index(tz, period, v[i].acquired) : 0, v[i].touchpoint, 0, 0, 0, 0, 0};
    group *g = g_hash_table_lookup(h, &key);
    int64_t day = pd__floor_div(pd__tz_local_ms(tz, v[i].acquired), PD_MS_PER_DAY);
    if (!g) {
      g = g_new0(group, 1);
      *g = key;
      g->first_day = g->last_day = day;
      g_hash_table_insert(h, g, g);
    }
    g->customers++;
    g->buyers += v[i].purchases > 0;
    g->revenue += v[i].revenue;
    if (day < g->first_day) g->first_day = day;
    if (day > g->last_day) g->last_day = day;
  }
  guint len = 0;
  gpointer *keys = g_hash_table_get_keys_as_array(h, &len);
  group **arr = malloc((len ? len : 1) * sizeof *arr);
  if (!arr) {
    g_free(keys);
    g_hash_table_destroy(h);
    return pd__error(PD_ERR_NOMEM, "ltv: out of memory");
  }
  for (guint i = 0; i < len; i++) {
    arr[i] = g_memdup2(keys[i], sizeof(group));
  }
  g_free(keys);
  g_hash_table_destroy(h);
  if (len) qsort(arr, len, sizeof *arr, cmp_group);
  *out = arr;
  *n_out = len;
  return PD_OK;
}

static void free_groups(group **g, size_t n) {
  for (size_t i = 0; i < n; i++) g_free(g[i]);
  free(g);
}

static pd_status users_table(pd_store *s, pd__tz *tz, pd_period period, const user_rec *v, size_t n, pd_table **out) {
  pd_table *t = pd__table_new("ltv_users");
  size_t cu = pd__table_add_col(t, "user", PD_TYPE_INT64), ca = pd__table_add_col(t, "acquired", PD_TYPE_INT64);
  size_t cc = pd__table_add_col(t, "cohort", PD_TYPE_STRING), ct = pd__table_add_col(t, "touchpoint", PD_TYPE_STRING);
  size_t cp = pd__table_add_col(t, "purchases", PD_TYPE_INT64), cr = pd__table_add_col(t, "revenue", PD_TYPE_INT64);
  size_t cf = pd__table_add_col(t, "first_purchase", PD_TYPE_INT64);
  size_t cl = pd__table_add_col(t, "last_purchase", PD_TYPE_INT64);
  for (size_t i = 0; i < n; i++) {
    size_t r = pd__table_add_row(t);
    char label[32];
    pd_touchpoint_def def;
    pd__period_label(period, pd__period_index(tz, period, v[i].acquired), label, sizeof label);
    pd__table_set_int64(t, r, cu, v[i].user);
    pd__table_set_int64(t, r, ca, v[i].acquired);
    pd__table_set_string(t, r, cc, label);
    const char *name = tp_name(s, v[i].touchpoint, &def);
    if (name) pd__table_set_string(t, r, ct, name);
    pd__table_set_int64(t, r, cp, v[i].purchases);
    pd__table_set_int64(t, r, cr, v[i].revenue);
    if (v[i].purchases) {
      pd__table_set_int64(t, r, cf, v[i].first_purchase);
      pd__table_set_int64(t, r, cl, v[i].last_purchase);
    }
  }
  return pd__table_finish(t, out);
}

static pd_status cohorts_table(pd_store *s, pd_period period, group **g, size_t n, pd_table **out) {
  pd_table *t = pd__table_new("ltv_cohorts");
  size_t cc = pd__table_add_col(t, "cohort", PD_TYPE_STRING), ct = pd__table_add_col(t, "touchpoint", PD_TYPE_STRING);
  size_t cn = pd__table_add_col(t, "customers", PD_TYPE_INT64), cb = pd__table_add_col(t, "buyers", PD_TYPE_INT64);
  size_t cr = pd__table_add_col(t, "revenue", PD_TYPE_INT64);
  size_t cpc = pd__table_add_col(t, "revenue_per_customer", PD_TYPE_DOUBLE);
  size_t cpb = pd__table_add_col(t, "revenue_per_buyer", PD_TYPE_DOUBLE);
  for (size_t i = 0; i < n; i++) {
    size_t r = pd__table_add_row(t);
    char label[32];
    pd_touchpoint_def def;
    pd__period_label(period, g[i]->cohort, label, sizeof label);
    pd__table_set_string(t, r, cc, label);
    const char *name = tp_name(s, g[i]->touchpoint, &def);
    if (name) pd__table_set_string(t, r, ct, name);
    pd__table_set_int64(t, r, cn, g[i]->customers);
    pd__table_set_int64(t, r, cb, g[i]->buyers);
    pd__table_set_int64(t, r, cr, g[i]->revenue);
    pd__table_set_double(t, r, cpc, (double)g[i]->revenue / (double)g[i]->customers);
    if (g[i]->buyers) pd__table_set_double(t, r, cpb, (double)g[i]->revenue / (double)g[i]->buyers);
  }
  return pd__table_finish(t, out);
}

static pd_status touchpoints_table(pd_store *s, group **g, size_t n, pd_table **out) {
  pd_table *t = pd__table_new("ltv_touchpoints");
  size_t ct = pd__table_add_col(t, "touchpoint", PD_TYPE_STRING), cd = pd__table_add_col(t, "domain", PD_TYPE_STRING);
  size_t cn = pd__table_add_col(t, "customers", PD_TYPE_INT64), cb = pd__table_add_col(t, "buyers", PD_TYPE_INT64);
  size_t cr = pd__table_add_col(t, "revenue", PD_TYPE_INT64);
  size_t cpc = pd__table_add_col(t, "revenue_per_customer", PD_TYPE_DOUBLE);
  size_t cad = pd__table_add_col(t, "active_days", PD_TYPE_INT64), cs = pd__table_add_col(t, "spend", PD_TYPE_INT64);
  size_t col_cac = pd__table_add_col(t, "cac", PD_TYPE_DOUBLE), clc = pd__table_add_col(t, "ltv_cac", PD_TYPE_DOUBLE);
  for (size_t i = 0; i < n; i++) {
    size_t r = pd__table_add_row(t);
    pd_touchpoint_def def;
    const char *name = tp_name(s, g[i]->touchpoint, &def);
    double per = (double)g[i]->revenue / (double)g[i]->customers;
    int64_t days = g[i]->last_day - g[i]->first_day + 1;
    if (name) {
      pd__table_set_string(t, r, ct, name);
      pd__table_set_string(t, r, cd, pd_domain_name(def.domain));
    }
    pd__table_set_int64(t, r, cn, g[i]->customers);
    pd__table_set_int64(t, r, cb, g[i]->buyers);
    pd__table_set_int64(t, r, cr, g[i]->revenue);
    pd__table_set_double(t, r, cpc, per);
    pd__table_set_int64(t, r, cad, days);
    if (name && def.daily_spend >= 0) {
      int64_t spend = def.daily_spend * days;
      double cac = (double)spend / (double)g[i]->customers;
      pd__table_set_int64(t, r, cs, spend);
      pd__table_set_double(t, r, col_cac, cac);
      if (cac > 0) pd__table_set_double(t, r, clc, per / cac);
    }
  }
  return pd__table_finish(t, out);
}

pd_status pd_ltv_history(pd_store *store, const pd_ltv_options *opts, pd_table **by_user, pd_table **by_cohort,
                         pd_table **by_touchpoint) {
  if (by_user) *by_user = NULL;
  if (by_cohort) *by_cohort = NULL;
  if (by_touchpoint) *by_touchpoint = NULL;
  if (!store) return pd__error(PD_ERR_INVALID, "ltv_history: store is NULL");
  pd_ltv_options def = PD_LTV_OPTIONS_INIT;
  if (!opts) opts = &def;
  if (opts->size < offsetof(pd_ltv_options, users)) return pd__error(PD_ERR_INVALID, "ltv_history: options size not set");
  if (opts->cohort_period != PD_PERIOD_DAY && opts->cohort_period != PD_PERIOD_WEEK &&
      opts->cohort_period != PD_PERIOD_WEEK_SUNDAY && opts->cohort_period != PD_PERIOD_MONTH)
    return pd__error(PD_ERR_INVALID, "ltv_history: unknown cohort period %d", (int)opts->cohort_period);
  pd__tz *tz = NULL;
  pd_status st = pd__tz_open(opts->tz, &tz);
  if (st) return st;
  pd_scan_options so = PD_SCAN_OPTIONS_INIT;
  so.threads = opts->threads;
  so.users = opts->size >= sizeof *opts ? opts->users : NULL; /* older callers: no filter */
  unsigned nw = pd_scan_workers(&so);
  hist_worker *ws = calloc(nw, sizeof *ws);
  user_rec *all = NULL;
  group **groups = NULL;
  size_t ng = 0, n = 0;
  pd_table *tu = NULL, *tc = NULL, *tt = NULL;
  if (!ws) {
    st = pd__error(PD_ERR_NOMEM, "ltv_history: out of memory");
    goto done;
  }
  hist_ctx hc = {opts->as_of, ws};
  st = pd_scan(store, &so, hist_user, &hc);
  for (unsigned i = 0; i < nw; i++) {
    if (ws[i].oom) st = pd__error(PD_ERR_NOMEM, "ltv_history: out of memory");
    n += ws[i].n;
  }
  if (st) goto done;
  all = malloc((n ? n : 1) * sizeof *all);
  if (!all) {
    st = pd__error(PD_ERR_NOMEM, "ltv_history: out of memory");
    goto done;
  }
  n = 0;
  for (unsigned i = 0; i < nw; i++) {
    if (ws[i].n) memcpy(all + n, ws[i].v, ws[i].n * sizeof *all);
    n += ws[i].n;
  }
  if (n) qsort(all, n, sizeof *all, cmp_user);
  if (by_user && (st = users_table(store, tz, opts->cohort_period, all, n, &tu))) goto done;
  if (by_cohort) {
    if ((st = aggregate(all, n, tz, opts->cohort_period, 1, &groups, &ng))) goto done;
    st = cohorts_table(store, opts->cohort_period, groups, ng, &tc);
    free_groups(groups, ng);
    groups = NULL;
    if (st) goto done;
  }
  if (by_touchpoint) {
    if ((st = aggregate(all, n, tz, opts->cohort_period, 0, &groups, &ng))) goto done;
    st = touchpoints_table(store, groups, ng, &tt);
    free_groups(groups, ng);
    groups = NULL;
    if (st) goto done;
  }
  if (by_user) *by_user = tu;
  if (by_cohort) *by_cohort = tc;
  if (by_touchpoint) *by_touchpoint = tt;
  tu = tc = tt = NULL;
done:
  pd_table_free(tu);
  pd_table_free(tc);
  pd_table_free(tt);
  if (ws)
    for (unsigned i = 0; i < nw; i++) free(ws[i].v);
  free(ws);
  free(all);
  pd__tz_free(tz);
  return st;
}

/* ---- dormant contacts ------------------------------------------------------ */

typedef struct dormant_row {
  size_t row;
  double p;
} dormant_row;

static int cmp_dormant(const void *a, const void *b) {
  const dormant_row *x = a, *y = b;
  if (x->p != y->p) return x->p < y->p ? -1 : 1;
  return (x->row > y->row) - (x->row < y->row);
}

pd_status pd_ltv_dormant(const pd_clv_model *m, const pd_table *rfm, double threshold, pd_table **users,
                         pd_table **by_touchpoint) {
  if (users) *users = NULL;
  if (by_touchpoint) *by_touchpoint = NULL;
  if (!m || !rfm) return pd__error(PD_ERR_INVALID, "ltv_dormant: NULL model or table");
  if (!(threshold > 0 && threshold <= 1)) return pd__error(PD_ERR_INVALID, "ltv_dormant: threshold must be in (0, 1]");
  pd_clv_summary s;
  double *storage = NULL, *p = NULL;
  dormant_row *d = NULL;
  pd_table *tu = NULL, *tt = NULL;
  GHashTable *idx = NULL;
  pd_status st = pd_clv_summary_from_table(rfm, &s, &storage);
  if (st) return st;
  size_t n = s.n, nd = 0;
  long c_user = pd_table_col_index(rfm, "user"), c_tp = pd_table_col_index(rfm, "touchpoint");
  long c_rev = pd_table_col_index(rfm, "revenue");
  p = malloc((n ? n : 1) * sizeof *p);
  d = malloc((n ? n : 1) * sizeof *d);
  if (!p || !d) {
    st = pd__error(PD_ERR_NOMEM, "ltv_dormant: out of memory");
    goto done;
  }
  if ((st = pd_clv_predict_alive(m, &s, p))) goto done;
  for (size_t i = 0; i < n; i++)
    if (p[i] < threshold) d[nd++] = (dormant_row){i, p[i]};
  if (users) {
    if (nd) qsort(d, nd, sizeof *d, cmp_dormant);
    pd_table *t = pd__table_new("ltv_dormant");
    size_t cu = pd__table_add_col(t, "user", PD_TYPE_INT64), ct = pd__table_add_col(t, "touchpoint", PD_TYPE_STRING);
    size_t cf = pd__table_add_col(t, "frequency", PD_TYPE_DOUBLE), cr = pd__table_add_col(t, "recency", PD_TYPE_DOUBLE);
    size_t cT = pd__table_add_col(t, "T", PD_TYPE_DOUBLE), cp = pd__table_add_col(t, "p_alive", PD_TYPE_DOUBLE);
    size_t cv = pd__table_add_col(t, "revenue", PD_TYPE_INT64);
    for (size_t k = 0; k < nd; k++) {
      size_t i = d[k].row, r = pd__table_add_row(t);
      if (c_user >= 0) pd__table_set_int64(t, r, cu, pd_table_get_int64(rfm, i, (size_t)c_user));
      if (c_tp >= 0 && !pd_table_is_null(rfm, i, (size_t)c_tp))
        pd__table_set_string(t, r, ct, pd_table_get_string(rfm, i, (size_t)c_tp));
      pd__table_set_double(t, r, cf, s.x[i]);
      pd__table_set_double(t, r, cr, s.t_x[i]);
      pd__table_set_double(t, r, cT, s.T[i]);
      pd__table_set_double(t, r, cp, p[i]);
      if (c_rev >= 0) pd__table_set_int64(t, r, cv, pd_table_get_int64(rfm, i, (size_t)c_rev));
    }
    if ((st = pd__table_finish(t, &tu))) goto done;
  }
  if (by_touchpoint) {
    /* groups in order of first appearance; the key "" stands for no touchpoint */
    idx = g_hash_table_new(g_str_hash, g_str_equal);
    size_t ngr = 0;
    const char **names = malloc((n ? n : 1) * sizeof *names);
    double *cnt = calloc((n ? n : 1) * 3, sizeof *cnt); /* customers, dormant, sum p */
    if (!names || !cnt) {
      free(names);
      free(cnt);
      st = pd__error(PD_ERR_NOMEM, "ltv_dormant: out of memory");
      goto done;
    }
    for (size_t i = 0; i < n; i++) {
      const char *name = c_tp >= 0 && !pd_table_is_null(rfm, i, (size_t)c_tp) ? pd_table_get_string(rfm, i, (size_t)c_tp) : "";
      gpointer v;
      size_t g;
      if (g_hash_table_lookup_extended(idx, name, NULL, &v)) {
        g = GPOINTER_TO_SIZE(v);
      } else {
        g = ngr++;
        names[g] = name;
        g_hash_table_insert(idx, (gpointer)name, GSIZE_TO_POINTER(g));
      }
      cnt[3 * g] += 1;
      cnt[3 * g + 1] += p[i] < threshold;
      cnt[3 * g + 2] += p[i];
    }
    pd_table *t = pd__table_new("ltv_dormant_touchpoints");
    size_t ct = pd__table_add_col(t, "touchpoint", PD_TYPE_STRING), cn = pd__table_add_col(t, "customers", PD_TYPE_INT64);
    size_t cd = pd__table_add_col(t, "dormant", PD_TYPE_INT64), cs = pd__table_add_col(t, "dormant_share", PD_TYPE_DOUBLE);
    size_t cm = pd__table_add_col(t, "mean_p_alive", PD_TYPE_DOUBLE);
    for (size_t g = 0; g < ngr; g++) {
      size_t r = pd__table_add_row(t);
      if (names[g][0]) pd__table_set_string(t, r, ct, names[g]);
      pd__table_set_int64(t, r, cn, (int64_t)cnt[3 * g]);
      pd__table_set_int64(t, r, cd, (int64_t)cnt[3 * g + 1]);
      pd__table_set_double(t, r, cs, cnt[3 * g + 1] / cnt[3 * g]);
      pd__table_set_double(t, r, cm, cnt[3 * g + 2] / cnt[3 * g]);
    }
    free(names);
    free(cnt);
    if ((st = pd__table_finish(t, &tt))) goto done;
  }
  if (users) *users = tu;
  if (by_touchpoint) *by_touchpoint = tt;
  tu = tt = NULL;
done:
  if (idx) g_hash_table_destroy(idx);
  pd_table_free(tu);
  pd_table_free(tt);
  free(p);
  free(d);
  pd_free(storage);
  return st;
}
