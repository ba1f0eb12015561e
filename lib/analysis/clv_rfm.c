/* RFM summaries (frequency, recency, T, monetary value) per customer, from
 * arrays or from a store scan; see include/privdomain/rfm.h for the exact
 * definitions (those of the lifetimes library). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pd_internal.h"
#include "privdomain/rfm.h"
#include "privdomain/scan.h"
#include "store_internal.h"
#include "tz.h"

typedef struct rfm_cfg {
  pd__tz *tz;
  pd_period period;
  int64_t mult;
  double unit;
  int64_t cal_day;  /* last local day of the calibration window, or PD_RFM_NO_TIME */
  int64_t hold_day; /* last local day of the holdout, or PD_RFM_NO_TIME */
} rfm_cfg;

typedef struct rfm_row {
  uint32_t user, touchpoint;
  int64_t first_ms, first_day, last_day;
  double freq, mon, freq_h, mon_h;
  int64_t revenue, revenue_h;
} rfm_row;

/* One window's purchase periods, built in time order. */
typedef struct window {
  int64_t np, first_p, last_p, first_ms;
  int64_t total_first, total_all;
  int64_t pending, pending_p; /* refunds in a period with no purchase yet */
  int has_pending;
} window;

static int64_t local_day(const rfm_cfg *c, int64_t t) { return pd__floor_div(pd__tz_local_ms(c->tz, t), PD_MS_PER_DAY); }

static int64_t period_of(const rfm_cfg *c, int64_t t) {
  return pd__floor_div(pd__period_index(c->tz, c->period, t), c->mult);
}

static int64_t period_start_day(const rfm_cfg *c, int64_t p) {
  if (c->period == PD_PERIOD_DAY) return p * c->mult;
  return local_day(c, pd__period_start_utc(c->tz, c->period, p * c->mult));
}

static void add_to_last(window *w, int64_t amount) {
  w->total_all += amount;
  if (w->np == 1) w->total_first += amount;
}

/* A pending refund belongs to the latest purchase period before it. */
static void settle_pending(window *w) {
  if (w->has_pending && w->np > 0) add_to_last(w, w->pending);
  w->has_pending = 0;
  w->pending = 0;
}

static void window_event(window *w, const rfm_cfg *c, int64_t t, int64_t amount, int refund) {
  int64_t p = period_of(c, t);
  if (refund) {
    if (w->np > 0 && p == w->last_p) {
      add_to_last(w, amount);
    } else {
      if (w->has_pending && w->pending_p != p) settle_pending(w);
      w->has_pending = 1;
      w->pending_p = p;
      w->pending += amount;
    }
    return;
  }
  if (w->np == 0 || p != w->last_p) {
    if (w->has_pending && w->pending_p != p) settle_pending(w);
    w->np++;
    w->last_p = p;
    if (w->np == 1) {
      w->first_p = p;
      w->first_ms = t;
    }
  }
  add_to_last(w, amount);
  if (w->has_pending && w->pending_p == p) { /* refund earlier in this same period */
    add_to_last(w, w->pending);
    w->has_pending = 0;
    w->pending = 0;
  }
}

/* Summarises one customer's time-ordered purchases/refunds. Returns 1 and
 * fills *row when the customer bought in the calibration window. */
static int rfm_user(const rfm_cfg *c, const int64_t *time, const int64_t *amount, const unsigned char *refund, size_t n,
                    rfm_row *row) {
  window cal = {0}, hold = {0};
  for (size_t i = 0; i < n; i++) {
    int64_t t = time[i];
    if (c->cal_day != PD_RFM_NO_TIME) {
      int64_t d = local_day(c, t);
      if (d > c->cal_day) {
        if (c->hold_day != PD_RFM_NO_TIME && d <= c->hold_day) window_event(&hold, c, t, amount[i], refund[i]);
        continue;
      }
    }
    window_event(&cal, c, t, amount[i], refund[i]);
  }
  settle_pending(&cal);
  settle_pending(&hold);
  if (cal.np == 0) return 0;
  memset(row, 0, sizeof *row);
  row->touchpoint = PD_NONE;
  row->first_ms = cal.first_ms;
  row->first_day = period_start_day(c, cal.first_p);
  row->last_day = period_start_day(c, cal.last_p);
  row->freq = (double)(cal.np - 1);
  row->mon = cal.np > 1 ? (double)(cal.total_all - cal.total_first) / (double)(cal.np - 1) : 0.0;
  row->revenue = cal.total_all;
  row->freq_h = (double)hold.np;
  row->mon_h = hold.np > 0 ? (double)hold.total_all / (double)hold.np : 0.0;
  row->revenue_h = hold.total_all;
  return 1;
}

/* ---- options ------------------------------------------------------------ */

static pd_status make_cfg(const pd_rfm_options *o, rfm_cfg *c) {
  memset(c, 0, sizeof *c);
  pd_rfm_options def = PD_RFM_OPTIONS_INIT;
  if (!o) o = &def;
  if (o->size < offsetof(pd_rfm_options, users))
    return pd__error(PD_ERR_INVALID, "rfm: options size not set (use PD_RFM_OPTIONS_INIT)");
  if (o->period != PD_PERIOD_DAY && o->period != PD_PERIOD_WEEK && o->period != PD_PERIOD_WEEK_SUNDAY &&
      o->period != PD_PERIOD_MONTH)
    return pd__error(PD_ERR_INVALID, "rfm: unknown period %d", (int)o->period);
  if (o->period_multiple > 100000) return pd__error(PD_ERR_INVALID, "rfm: period_multiple too large");
  if (!(o->unit_days > 0 && isfinite(o->unit_days))) return pd__error(PD_ERR_INVALID, "rfm: unit_days must be > 0");
  if (o->holdout_end != PD_RFM_NO_TIME && o->calibration_end == PD_RFM_NO_TIME)
    return pd__error(PD_ERR_INVALID, "rfm: a holdout needs a calibration end");
  if (o->holdout_end != PD_RFM_NO_TIME && o->holdout_end < o->calibration_end)
    return pd__error(PD_ERR_INVALID, "rfm: holdout end is before the calibration end");
  pd_status st = pd__tz_open(o->tz, &c->tz);
  if (st) return st;
  c->period = o->period;
  c->mult = o->period_multiple ? o->period_multiple : 1;
  c->unit = o->unit_days;
  c->cal_day = o->calibration_end == PD_RFM_NO_TIME ? PD_RFM_NO_TIME : local_day(c, o->calibration_end);
  c->hold_day = o->holdout_end == PD_RFM_NO_TIME ? PD_RFM_NO_TIME : local_day(c, o->holdout_end);
  return PD_OK;
}

/* ---- rows -> table -------------------------------------------------------- */

typedef struct row_vec {
  rfm_row *v;
  size_t n, cap;
  int64_t max_day; /* latest transaction day seen (default observation end) */
  int oom;
} row_vec;

static void push_row(row_vec *rv, const rfm_row *r) {
  if (rv->oom) return;
  if (rv->n == rv->cap) {
    size_t cap = rv->cap ? 2 * rv->cap : 256;
    rfm_row *nv = realloc(rv->v, cap * sizeof *nv);
    if (!nv) {
      rv->oom = 1;
      return;
    }
    rv->v = nv;
    rv->cap = cap;
  }
  rv->v[rv->n++] = *r;
}

static int cmp_row(const void *a, const void *b) {
  uint32_t x = ((const rfm_row *)a)->user, y = ((const rfm_row *)b)->user;
  return (x > y) - (x < y);
}

static pd_status build_table(const rfm_cfg *c, row_vec *rv, pd_store *store, pd_table **out) {
  if (rv->n) qsort(rv->v, rv->n, sizeof *rv->v, cmp_row);
  int64_t end_day = c->cal_day != PD_RFM_NO_TIME ? c->cal_day : rv->max_day;
  int hold = c->hold_day != PD_RFM_NO_TIME;
  pd_table *t = pd__table_new("rfm");
  size_t c_user = pd__table_add_col(t, "user", PD_TYPE_INT64);
  size_t c_ext = store ? pd__table_add_col(t, "external_id", PD_TYPE_STRING) : 0;
  size_t c_first = pd__table_add_col(t, "first_purchase", PD_TYPE_INT64);
  size_t c_tp = store ? pd__table_add_col(t, "touchpoint", PD_TYPE_STRING) : 0;
  size_t c_f = pd__table_add_col(t, "frequency", PD_TYPE_DOUBLE);
  size_t c_r = pd__table_add_col(t, "recency", PD_TYPE_DOUBLE);
  size_t c_T = pd__table_add_col(t, "T", PD_TYPE_DOUBLE);
  size_t c_m = pd__table_add_col(t, "monetary_value", PD_TYPE_DOUBLE);
  size_t c_rev = pd__table_add_col(t, "revenue", PD_TYPE_INT64);
  size_t c_fh = 0, c_mh = 0, c_rh = 0, c_dh = 0;
  if (hold) {
    c_fh = pd__table_add_col(t, "frequency_holdout", PD_TYPE_DOUBLE);
    c_mh = pd__table_add_col(t, "monetary_value_holdout", PD_TYPE_DOUBLE);
    c_rh = pd__table_add_col(t, "revenue_holdout", PD_TYPE_INT64);
    c_dh = pd__table_add_col(t, "duration_holdout", PD_TYPE_DOUBLE);
  }
  for (size_t i = 0; i < rv->n; i++) {
    const rfm_row *w = &rv->v[i];
    size_t r = pd__table_add_row(t);
    pd__table_set_int64(t, r, c_user, w->user);
    if (store) {
      const char *name = pd_store_user_name(store, w->user);
      if (name) pd__table_set_string(t, r, c_ext, name);
    }
    pd__table_set_int64(t, r, c_first, w->first_ms);
    if (store && w->touchpoint != PD_NONE) {
      pd_touchpoint_def def = PD_TOUCHPOINT_DEF_INIT;
      if (pd_store_touchpoint(store, w->touchpoint, &def) == PD_OK && def.name)
        pd__table_set_string(t, r, c_tp, def.name);
    }
    pd__table_set_double(t, r, c_f, w->freq);
    pd__table_set_double(t, r, c_r, (double)(w->last_day - w->first_day) / c->unit);
    pd__table_set_double(t, r, c_T, (double)(end_day - w->first_day) / c->unit);
    pd__table_set_double(t, r, c_m, w->mon);
    pd__table_set_int64(t, r, c_rev, w->revenue);
    if (hold) {
      pd__table_set_double(t, r, c_fh, w->freq_h);
      pd__table_set_double(t, r, c_mh, w->mon_h);
      pd__table_set_int64(t, r, c_rh, w->revenue_h);
      pd__table_set_double(t, r, c_dh, (double)(c->hold_day - c->cal_day) / c->unit);
    }
  }
  return pd__table_finish(t, out);
}

/* ---- arrays ------------------------------------------------------------- */

typedef struct sort_ctx {
  const uint32_t *user;
  const int64_t *time;
} sort_ctx;

static _Thread_local sort_ctx sctx; /* qsort has no context argument in C11 */

static int cmp_idx(const void *a, const void *b) {
  size_t i = *(const size_t *)a, j = *(const size_t *)b;
  if (sctx.user[i] != sctx.user[j]) return sctx.user[i] < sctx.user[j] ? -1 : 1;
  if (sctx.time[i] != sctx.time[j]) return sctx.time[i] < sctx.time[j] ? -1 : 1;
  return (i > j) - (i < j); /* stable: input order within the same instant */
}

pd_status pd_rfm_from_arrays(size_t n, const uint32_t *user, const int64_t *time_ms, const int64_t *amount,
                             const pd_rfm_options *opts, pd_table **out) {
  if (!out) return pd__error(PD_ERR_INVALID, "rfm_from_arrays: out is NULL");
  *out = NULL;
  if (n > 0 && (!user || !time_ms || !amount)) return pd__error(PD_ERR_INVALID, "rfm_from_arrays: NULL array");
  rfm_cfg c;
  pd_status st = make_cfg(opts, &c);
  if (st) return st;
  size_t *idx = malloc((n ? n : 1) * sizeof *idx);
  int64_t *t = malloc((n ? n : 1) * sizeof *t), *a = malloc((n ? n : 1) * sizeof *a);
  unsigned char *rf = malloc(n ? n : 1);
  row_vec rv = {0};
  rv.max_day = INT64_MIN;
  if (!idx || !t || !a || !rf) {
    st = pd__error(PD_ERR_NOMEM, "rfm_from_arrays: out of memory for %zu rows", n);
    goto done;
  }
  for (size_t i = 0; i < n; i++) idx[i] = i;
  sctx = (sort_ctx){user, time_ms};
  qsort(idx, n, sizeof *idx, cmp_idx);
  for (size_t i = 0; i < n;) {
    size_t j = i;
    while (j < n && user[idx[j]] == user[idx[i]]) {
      size_t k = idx[j];
      t[j - i] = time_ms[k];
      a[j - i] = amount[k];
      rf[j - i] = amount[k] < 0;
      j++;
    }
    int64_t d = local_day(&c, t[j - i - 1]);
    if (d > rv.max_day) rv.max_day = d;
    rfm_row row;
    if (rfm_user(&c, t, a, rf, j - i, &row)) {
      row.user = user[idx[i]];
      push_row(&rv, &row);
    }
    i = j;
  }
  if (rv.oom) {
    st = pd__error(PD_ERR_NOMEM, "rfm_from_arrays: out of memory");
    goto done;
  }
  st = build_table(&c, &rv, NULL, out);
done:
  free(idx);
  free(t);
  free(a);
  free(rf);
  free(rv.v);
  pd__tz_free(c.tz);
  return st;
}

/* ---- store ---------------------------------------------------------------- */

typedef struct worker_state {
  row_vec rows;
  int64_t *t, *a;
  unsigned char *rf;
  size_t cap;
} worker_state;

typedef struct store_ctx {
  const rfm_cfg *cfg;
  worker_state *w;
} store_ctx;

static int scan_user(void *vctx, unsigned worker, const pd_user_events *ev) {
  store_ctx *sc = vctx;
  worker_state *w = &sc->w[worker];
  if (ev->n > w->cap) {
    size_t cap = ev->n * 2;
    int64_t *t = realloc(w->t, cap * sizeof *t);
    if (t) w->t = t;
    int64_t *a = realloc(w->a, cap * sizeof *a);
    if (a) w->a = a;
    unsigned char *rf = realloc(w->rf, cap);
    if (rf) w->rf = rf;
    if (!t || !a || !rf) {
      w->rows.oom = 1;
      return 1;
    }
    w->cap = cap;
  }
  size_t m = 0;
  uint32_t tp = PD_NONE, tp_any = PD_NONE;
  for (size_t i = 0; i < ev->n; i++) {
    uint16_t ty = ev->type[i];
    if (tp_any == PD_NONE && ev->touchpoint[i] != PD_NONE) tp_any = ev->touchpoint[i];
    if (tp == PD_NONE && ty == PD_EV_ACQUIRE && ev->touchpoint[i] != PD_NONE) tp = ev->touchpoint[i];
    if (ty != PD_EV_PURCHASE && ty != PD_EV_REFUND) continue;
    w->t[m] = ev->time[i];
    w->a[m] = ty == PD_EV_REFUND ? -llabs(ev->amount[i]) : ev->amount[i];
    w->rf[m] = ty == PD_EV_REFUND;
    m++;
  }
  if (m == 0) return 0;
  int64_t d = local_day(sc->cfg, w->t[m - 1]);
  if (d > w->rows.max_day) w->rows.max_day = d;
  rfm_row row;
  if (rfm_user(sc->cfg, w->t, w->a, w->rf, m, &row)) {
    row.user = ev->user;
    row.touchpoint = tp != PD_NONE ? tp : tp_any;
    push_row(&w->rows, &row);
  }
  return w->rows.oom ? 1 : 0;
}

pd_status pd_rfm_from_store(pd_store *store, const pd_rfm_options *opts, pd_table **out) {
  if (!out) return pd__error(PD_ERR_INVALID, "rfm_from_store: out is NULL");
  *out = NULL;
  if (!store) return pd__error(PD_ERR_INVALID, "rfm_from_store: store is NULL");
  rfm_cfg c;
  pd_status st = make_cfg(opts, &c);
  if (st) return st;
  pd_scan_options so = PD_SCAN_OPTIONS_INIT;
  so.threads = opts ? opts->threads : 0;
  so.users = opts && opts->size >= sizeof *opts ? opts->users : NULL; /* older callers: no filter */
  unsigned nw = pd_scan_workers(&so);
  worker_state *ws = calloc(nw, sizeof *ws);
  row_vec all = {0};
  all.max_day = INT64_MIN;
  if (!ws) {
    pd__tz_free(c.tz);
    return pd__error(PD_ERR_NOMEM, "rfm_from_store: out of memory");
  }
  for (unsigned i = 0; i < nw; i++) ws[i].rows.max_day = INT64_MIN;
  store_ctx sc = {&c, ws};
  st = pd_scan(store, &so, scan_user, &sc);
  /* merge: concatenate the workers' rows (user-disjoint), keep the latest day */
  size_t total = 0;
  for (unsigned i = 0; i < nw; i++) {
    total += ws[i].rows.n;
    if (ws[i].rows.oom) st = pd__error(PD_ERR_NOMEM, "rfm_from_store: out of memory");
    if (ws[i].rows.max_day > all.max_day) all.max_day = ws[i].rows.max_day;
  }
  if (so.users && c.cal_day == PD_RFM_NO_TIME) { /* a segment is observed as long as the store */
    int64_t t = pd__store_latest_transaction(store);
    all.max_day = t == INT64_MIN ? INT64_MIN : local_day(&c, t);
  }
  if (st == PD_OK) {
    all.v = malloc((total ? total : 1) * sizeof *all.v);
    if (!all.v) st = pd__error(PD_ERR_NOMEM, "rfm_from_store: out of memory");
  }
  if (st == PD_OK) {
    for (unsigned i = 0; i < nw; i++) {
      if (ws[i].rows.n) memcpy(all.v + all.n, ws[i].rows.v, ws[i].rows.n * sizeof *all.v);
      all.n += ws[i].rows.n;
    }
    st = build_table(&c, &all, store, out);
  }
  for (unsigned i = 0; i < nw; i++) {
    free(ws[i].rows.v);
    free(ws[i].t);
    free(ws[i].a);
    free(ws[i].rf);
  }
  free(ws);
  free(all.v);
  pd__tz_free(c.tz);
  return st;
}
