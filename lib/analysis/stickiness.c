/* Stickiness: users by active days per week, or active ISO weeks per
 * month (definitions in include/privdomain/retention.h). */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "privdomain/retention.h"
#include "retention_internal.h"

#define SLOTS 8 /* units 0..7 */

struct pd_stickiness_partial {
  pd_stickiness_options o;
  pd__tz *tz;
  pd__typeset active;
  pd__pcursor day; /* local days */
  int64_t base;
  size_t n, cap;
  int64_t *hist; /* cap x SLOTS, by outer period from base */
};

#define OPT_MIN_SIZE (offsetof(pd_stickiness_options, per_period) + sizeof(int))

pd_status pd_stickiness_partial_new(const pd_stickiness_options *opts, pd_stickiness_partial **out) {
  if (!opts || !out) return pd__error(PD_ERR_INVALID, "stickiness: NULL argument");
  pd_stickiness_options o = PD_STICKINESS_OPTIONS_INIT;
  if (opts->size < OPT_MIN_SIZE || opts->size > sizeof o)
    return pd__error(PD_ERR_INVALID, "stickiness: options size %zu (use PD_STICKINESS_OPTIONS_INIT)", opts->size);
  memcpy(&o, opts, opts->size);
  o.size = sizeof o;
  if (o.period != PD_PERIOD_WEEK && o.period != PD_PERIOD_WEEK_SUNDAY && o.period != PD_PERIOD_MONTH)
    return pd__error(PD_ERR_INVALID, "stickiness: period must be week, week_sunday or month");
  if (o.n_active_types && !o.active_types) return pd__error(PD_ERR_INVALID, "stickiness: count without types");
  pd_stickiness_partial *p = calloc(1, sizeof *p);
  if (!p) return pd__error(PD_ERR_NOMEM, "stickiness: out of memory");
  pd_status rc = pd__tz_open(o.tz, &p->tz);
  if (rc) {
    free(p);
    return rc;
  }
  pd__typeset_fill(&p->active, o.active_types, o.n_active_types);
  o.active_types = NULL;
  o.tz = pd__tz_name(p->tz);
  p->o = o;
  pd__pcursor_init(&p->day, p->tz, PD_PERIOD_DAY);
  *out = p;
  return PD_OK;
}

void pd_stickiness_partial_free(pd_stickiness_partial *p) {
  if (!p) return;
  free(p->hist);
  pd__pcursor_free(&p->day);
  pd__tz_free(p->tz);
  free(p);
}

/* Outer period index of a local day, as pd__period_index numbers them. */
static int64_t outer_of(pd_period period, int64_t day) {
  switch (period) {
  case PD_PERIOD_WEEK: return pd__floor_div(day + 3, 7);
  case PD_PERIOD_WEEK_SUNDAY: return pd__floor_div(day + 4, 7);
  default: {
    int64_t y;
    unsigned m, d;
    pd__civil_from_days(day, &y, &m, &d);
    return (y - 1970) * 12 + (m - 1);
  }
  }
}

static int64_t *hist_of(pd_stickiness_partial *p, int64_t q) {
  if (p->n == 0) {
    p->base = q;
  }
  if (q < p->base || q >= p->base + (int64_t)p->cap) {
    int64_t lo = q < p->base ? q : p->base;
    int64_t hi = p->n ? p->base + (int64_t)p->cap : q + 1;
    if (q + 1 > hi) hi = q + 1;
    size_t extra = (size_t)(hi - lo) / 2 + 16;
    if (q < p->base) lo -= (int64_t)extra;
    else hi += (int64_t)extra;
    size_t nc = (size_t)(hi - lo);
    int64_t *h = calloc(nc * SLOTS, sizeof *h);
    if (!h) return NULL;
    if (p->hist) memcpy(h + (size_t)(p->base - lo) * SLOTS, p->hist, p->cap * SLOTS * sizeof *h);
    free(p->hist);
    p->hist = h;
    p->base = lo;
    p->cap = nc;
  }
  p->n = 1;
  return p->hist + (size_t)(q - p->base) * SLOTS;
}

pd_status pd_stickiness_partial_add(pd_stickiness_partial *p, const pd_user_events *ev) {
  if (!p || !ev) return pd__error(PD_ERR_INVALID, "stickiness: NULL argument");
  bool month = p->o.period == PD_PERIOD_MONTH;
  bool have = false;
  int64_t last_day = 0, outer = 0, unit = 0, count = 0;
  for (size_t i = 0; i < ev->n; i++) {
    if (!pd__typeset_has(&p->active, ev->type[i])) continue;
    int64_t d = pd__pcursor_index(&p->day, ev->time[i]);
    if (have && d == last_day) continue;
    last_day = d;
    int64_t o = outer_of(p->o.period, d);
    int64_t u = month ? pd__floor_div(d + 3, 7) : d; /* ISO week of the day, or the day */
    if (have && o != outer) {
      int64_t *h = hist_of(p, outer);
      if (!h) goto nomem;
      h[count]++;
      count = 0;
    }
    if (!have || o != outer || u != unit) count++;
    have = true;
    outer = o;
    unit = u;
  }
  if (have) {
    int64_t *h = hist_of(p, outer);
    if (!h) goto nomem;
    h[count]++;
  }
  return PD_OK;
nomem:
  return pd__error(PD_ERR_NOMEM, "stickiness: out of memory");
}

pd_status pd_stickiness_partial_merge(pd_stickiness_partial *into, const pd_stickiness_partial *from) {
  if (!into || !from) return pd__error(PD_ERR_INVALID, "stickiness: NULL argument");
  if (into->o.period != from->o.period || strcmp(pd__tz_name(into->tz), pd__tz_name(from->tz)) != 0)
    return pd__error(PD_ERR_INVALID, "stickiness: merging partials of different options");
  for (size_t i = 0; from->n && i < from->cap; i++) {
    const int64_t *f = from->hist + i * SLOTS;
    bool any = false;
    for (int j = 0; j < SLOTS; j++) any = any || f[j];
    if (!any) continue;
    int64_t *h = hist_of(into, from->base + (int64_t)i);
    if (!h) return pd__error(PD_ERR_NOMEM, "stickiness: out of memory");
    for (int j = 0; j < SLOTS; j++) h[j] += f[j];
  }
  return PD_OK;
}

static void add_rows(pd_table *t, const int64_t *h, int max_units, const size_t *cols, bool per, const char *label,
                     int64_t start) {
  int64_t total = 0;
  for (int u = 1; u <= max_units; u++) total += h[u];
  int64_t at_least = total;
  for (int u = 1; u <= max_units; u++) {
    size_t row = pd__table_add_row(t);
    if (per) {
      pd__table_set_string(t, row, cols[0], label);
      pd__table_set_int64(t, row, cols[1], start);
    }
    pd__table_set_int64(t, row, cols[2], u);
    pd__table_set_int64(t, row, cols[3], h[u]);
    if (total) {
      pd__table_set_double(t, row, cols[4], (double)h[u] / (double)total);
      pd__table_set_double(t, row, cols[5], (double)at_least / (double)total);
    }
    at_least -= h[u];
  }
}

pd_status pd_stickiness_partial_finish(const pd_stickiness_partial *p, pd_table **out) {
  if (!p || !out) return pd__error(PD_ERR_INVALID, "stickiness: NULL argument");
  bool per = p->o.per_period != 0;
  int max_units = p->o.period == PD_PERIOD_MONTH ? 6 : 7;
  pd_table *t = pd__table_new("stickiness");
  size_t cols[6] = {0, 0, 0, 0, 0, 0};
  if (per) {
    cols[0] = pd__table_add_col(t, "period", PD_TYPE_STRING);
    cols[1] = pd__table_add_col(t, "period_start", PD_TYPE_INT64);
  }
  cols[2] = pd__table_add_col(t, "active_units", PD_TYPE_INT64);
  cols[3] = pd__table_add_col(t, "users", PD_TYPE_INT64);
  cols[4] = pd__table_add_col(t, "share", PD_TYPE_DOUBLE);
  cols[5] = pd__table_add_col(t, "cum_share", PD_TYPE_DOUBLE);
  int64_t pooled[SLOTS] = {0};
  char label[32];
  for (size_t i = 0; p->n && i < p->cap; i++) {
    const int64_t *h = p->hist + i * SLOTS;
    bool any = false;
    for (int u = 0; u < SLOTS; u++) {
      pooled[u] += h[u];
      any = any || h[u];
    }
    if (!per || !any) continue;
    int64_t q = p->base + (int64_t)i;
    pd__period_label(p->o.period, q, label, sizeof label);
    add_rows(t, h, max_units, cols, true, label, pd__period_start_utc(p->tz, p->o.period, q));
  }
  if (!per) add_rows(t, pooled, max_units, cols, false, NULL, 0);
  return pd__table_finish(t, out);
}

static pd_status add_fn(void *p, const pd_user_events *ev) { return pd_stickiness_partial_add(p, ev); }
static pd_status merge_fn(void *a, const void *b) { return pd_stickiness_partial_merge(a, b); }

pd_status pd_stickiness_run(pd_store *store, const pd_stickiness_options *opts, const pd_scan_options *scan,
                            pd_table **out) {
  if (!store || !opts || !out) return pd__error(PD_ERR_INVALID, "pd_stickiness_run: NULL argument");
  unsigned nw = pd_scan_workers(scan);
  void **parts = calloc(nw, sizeof *parts);
  if (!parts) return pd__error(PD_ERR_NOMEM, "stickiness: out of memory");
  pd_status rc = PD_OK;
  for (unsigned w = 0; w < nw && !rc; w++) rc = pd_stickiness_partial_new(opts, (pd_stickiness_partial **)&parts[w]);
  if (!rc) rc = pd__scan_partials(store, scan, parts, nw, add_fn, merge_fn);
  if (!rc) rc = pd_stickiness_partial_finish(parts[0], out);
  for (unsigned w = 0; w < nw; w++) pd_stickiness_partial_free(parts[w]);
  free(parts);
  return rc;
}
