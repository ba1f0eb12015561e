/* Pool lifecycle per period: new, returning, resurrecting, dormant
 * (definitions in include/privdomain/retention.h). */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "privdomain/retention.h"
#include "retention_internal.h"

enum { F_ACTIVE, F_NEW, F_RETURNING, F_RESURRECTING, F_DORMANT, F_N };

struct pd_lifecycle_partial {
  pd_lifecycle_options o;
  pd__tz *tz;
  pd__typeset active;
  pd__pcursor cur;
  int64_t base; /* period of counts[0] */
  size_t n;     /* periods held */
  int64_t *counts; /* n x F_N */
};

#define OPT_MIN_SIZE (offsetof(pd_lifecycle_options, n_active_types) + sizeof(size_t))

pd_status pd_lifecycle_partial_new(const pd_lifecycle_options *opts, pd_lifecycle_partial **out) {
  if (!opts || !out) return pd__error(PD_ERR_INVALID, "lifecycle: NULL argument");
  pd_lifecycle_options o = PD_LIFECYCLE_OPTIONS_INIT;
  if (opts->size < OPT_MIN_SIZE || opts->size > sizeof o)
    return pd__error(PD_ERR_INVALID, "lifecycle: options size %zu (use PD_LIFECYCLE_OPTIONS_INIT)", opts->size);
  memcpy(&o, opts, opts->size);
  o.size = sizeof o;
  if (!pd__period_valid(o.period)) return pd__error(PD_ERR_INVALID, "lifecycle: unknown period %d", (int)o.period);
  if (o.n_active_types && !o.active_types) return pd__error(PD_ERR_INVALID, "lifecycle: count without types");
  pd_lifecycle_partial *p = calloc(1, sizeof *p);
  if (!p) return pd__error(PD_ERR_NOMEM, "lifecycle: out of memory");
  pd_status rc = pd__tz_open(o.tz, &p->tz);
  if (rc) {
    free(p);
    return rc;
  }
  pd__typeset_fill(&p->active, o.active_types, o.n_active_types);
  o.active_types = NULL;
  o.tz = pd__tz_name(p->tz);
  p->o = o;
  pd__pcursor_init(&p->cur, p->tz, o.period);
  *out = p;
  return PD_OK;
}

void pd_lifecycle_partial_free(pd_lifecycle_partial *p) {
  if (!p) return;
  free(p->counts);
  pd__pcursor_free(&p->cur);
  pd__tz_free(p->tz);
  free(p);
}

/* The counts row of period q, growing the dense range both ways. */
static int64_t *row_of(pd_lifecycle_partial *p, int64_t q) {
  if (p->n == 0) {
    p->counts = calloc(F_N * 64, sizeof *p->counts);
    if (!p->counts) return NULL;
    p->base = q;
    p->n = 64;
  }
  if (q < p->base || q >= p->base + (int64_t)p->n) {
    int64_t lo = q < p->base ? q : p->base;
    int64_t hi = q >= p->base + (int64_t)p->n ? q + 1 : p->base + (int64_t)p->n;
    size_t nn = (size_t)(hi - lo);
    /* grow by half again to amortise; extra room on the side that grew */
    size_t extra = nn / 2 + 16;
    if (q < p->base) lo -= (int64_t)extra;
    nn += extra;
    int64_t *c = calloc(nn * F_N, sizeof *c);
    if (!c) return NULL;
    memcpy(c + (size_t)(p->base - lo) * F_N, p->counts, p->n * F_N * sizeof *c);
    free(p->counts);
    p->counts = c;
    p->base = lo;
    p->n = nn;
  }
  return p->counts + (size_t)(q - p->base) * F_N;
}

pd_status pd_lifecycle_partial_add(pd_lifecycle_partial *p, const pd_user_events *ev) {
  if (!p || !ev) return pd__error(PD_ERR_INVALID, "lifecycle: NULL argument");
  bool have = false;
  int64_t prev = 0;
  int64_t *r;
  for (size_t i = 0; i < ev->n; i++) {
    if (!pd__typeset_has(&p->active, ev->type[i])) continue;
    int64_t q = pd__pcursor_index(&p->cur, ev->time[i]);
    if (have && q == prev) continue;
    if (!(r = row_of(p, q))) goto nomem;
    r[F_ACTIVE]++;
    if (!have) {
      r[F_NEW]++;
    } else if (q == prev + 1) {
      r[F_RETURNING]++;
    } else {
      r[F_RESURRECTING]++;
      if (!(r = row_of(p, prev + 1))) goto nomem;
      r[F_DORMANT]++;
    }
    have = true;
    prev = q;
  }
  if (have) {
    if (!(r = row_of(p, prev + 1))) goto nomem;
    r[F_DORMANT]++;
  }
  return PD_OK;
nomem:
  return pd__error(PD_ERR_NOMEM, "lifecycle: out of memory");
}

pd_status pd_lifecycle_partial_merge(pd_lifecycle_partial *into, const pd_lifecycle_partial *from) {
  if (!into || !from) return pd__error(PD_ERR_INVALID, "lifecycle: NULL argument");
  if (into->o.period != from->o.period || strcmp(pd__tz_name(into->tz), pd__tz_name(from->tz)) != 0)
    return pd__error(PD_ERR_INVALID, "lifecycle: merging partials of different options");
  for (size_t i = 0; i < from->n; i++) {
    const int64_t *f = from->counts + i * F_N;
    bool any = false;
    for (int j = 0; j < F_N; j++) any = any || f[j];
    if (!any) continue;
    int64_t *r = row_of(into, from->base + (int64_t)i);
    if (!r) return pd__error(PD_ERR_NOMEM, "lifecycle: out of memory");
    for (int j = 0; j < F_N; j++) r[j] += f[j];
  }
  return PD_OK;
}

pd_status pd_lifecycle_partial_finish(const pd_lifecycle_partial *p, pd_table **out) {
  if (!p || !out) return pd__error(PD_ERR_INVALID, "lifecycle: NULL argument");
  pd_table *t = pd__table_new("lifecycle");
  size_t c_period = pd__table_add_col(t, "period", PD_TYPE_STRING);
  size_t c_start = pd__table_add_col(t, "period_start", PD_TYPE_INT64);
  size_t c_active = pd__table_add_col(t, "active", PD_TYPE_INT64);
  size_t c_prev = pd__table_add_col(t, "active_prev", PD_TYPE_INT64);
  size_t c_new = pd__table_add_col(t, "new", PD_TYPE_INT64);
  size_t c_ret = pd__table_add_col(t, "returning", PD_TYPE_INT64);
  size_t c_res = pd__table_add_col(t, "resurrecting", PD_TYPE_INT64);
  size_t c_dorm = pd__table_add_col(t, "dormant", PD_TYPE_INT64);
  size_t c_neg = pd__table_add_col(t, "dormant_neg", PD_TYPE_INT64);
  size_t first = SIZE_MAX, last = 0;
  for (size_t i = 0; i < p->n; i++)
    if (p->counts[i * F_N + F_ACTIVE]) {
      if (first == SIZE_MAX) first = i;
      last = i;
    }
  char label[32];
  for (size_t i = first; first != SIZE_MAX && i <= last; i++) {
    const int64_t *r = p->counts + i * F_N;
    int64_t q = p->base + (int64_t)i;
    size_t row = pd__table_add_row(t);
    pd__period_label(p->o.period, q, label, sizeof label);
    pd__table_set_string(t, row, c_period, label);
    pd__table_set_int64(t, row, c_start, pd__period_start_utc(p->tz, p->o.period, q));
    pd__table_set_int64(t, row, c_active, r[F_ACTIVE]);
    pd__table_set_int64(t, row, c_prev, i > first ? (r - F_N)[F_ACTIVE] : 0);
    pd__table_set_int64(t, row, c_new, r[F_NEW]);
    pd__table_set_int64(t, row, c_ret, r[F_RETURNING]);
    pd__table_set_int64(t, row, c_res, r[F_RESURRECTING]);
    pd__table_set_int64(t, row, c_dorm, r[F_DORMANT]);
    pd__table_set_int64(t, row, c_neg, -r[F_DORMANT]);
  }
  return pd__table_finish(t, out);
}

static pd_status add_fn(void *p, const pd_user_events *ev) { return pd_lifecycle_partial_add(p, ev); }
static pd_status merge_fn(void *a, const void *b) { return pd_lifecycle_partial_merge(a, b); }

pd_status pd_lifecycle_run(pd_store *store, const pd_lifecycle_options *opts, const pd_scan_options *scan,
                           pd_table **out) {
  if (!store || !opts || !out) return pd__error(PD_ERR_INVALID, "pd_lifecycle_run: NULL argument");
  unsigned nw = pd_scan_workers(scan);
  void **parts = calloc(nw, sizeof *parts);
  if (!parts) return pd__error(PD_ERR_NOMEM, "lifecycle: out of memory");
  pd_status rc = PD_OK;
  for (unsigned w = 0; w < nw && !rc; w++) rc = pd_lifecycle_partial_new(opts, (pd_lifecycle_partial **)&parts[w]);
  if (!rc) rc = pd__scan_partials(store, scan, parts, nw, add_fn, merge_fn);
  if (!rc) rc = pd_lifecycle_partial_finish(parts[0], out);
  for (unsigned w = 0; w < nw; w++) pd_lifecycle_partial_free(parts[w]);
  free(parts);
  return rc;
}
