/* Cohort retention and cohort revenue (definitions in
 * include/privdomain/retention.h): per-user accumulation into cohorts,
 * merge, and the long / matrix / average tables. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "privdomain/retention.h"
#include "retention_internal.h"
#include "store_internal.h"

/* One cohort of one group. Arrays are indexed by k and grow on demand. */
typedef struct cohort {
  int64_t users;
  size_t cap;       /* of classic, lasthist, revenue */
  size_t used;      /* 1 + the largest k with data */
  int64_t *classic; /* users with a return in exactly k */
  int64_t *lasthist;/* users whose last return is in k (clamped to n_periods-1) */
  int64_t *revenue; /* net revenue in k */
  int64_t *starts;  /* rolling mode: each member's start time */
  size_t n_starts, cap_starts;
} cohort;

/* Cohorts of one group, dense by period index from `base`. */
typedef struct group {
  cohort *c;
  int64_t base;
  size_t n;
} group;

struct pd_retention_partial {
  pd_retention_options o; /* scalars; array fields point at the copies below */
  pd__tz *tz;
  pd__typeset start, ret;
  uint8_t *tp_ok; /* return touchpoint filter by id, or NULL */
  size_t n_tp_ok;
  uint8_t *domains;
  size_t n_domains;
  group *groups; /* slot 0 = "(none)" or everyone; then touchpoint/domain + 1 */
  size_t n_groups;
  int64_t max_time;
  bool any;
  /* per-user scratch */
  uint32_t *mark; /* mark[k] == stamp: the current membership returned in k */
  size_t mark_cap;
  uint32_t stamp;
  pd__pcursor cur;
};

#define OPT_MIN_SIZE offsetof(pd_retention_options, domains)

pd_status pd_retention_partial_new(const pd_retention_options *opts, pd_retention_partial **out) {
  if (!opts || !out) return pd__error(PD_ERR_INVALID, "retention: NULL argument");
  pd_retention_options o = PD_RETENTION_OPTIONS_INIT;
  if (opts->size < OPT_MIN_SIZE || opts->size > sizeof o)
    return pd__error(PD_ERR_INVALID, "retention: options size %zu (use PD_RETENTION_OPTIONS_INIT)", opts->size);
  memcpy(&o, opts, opts->size);
  o.size = sizeof o;
  if (!pd__period_valid(o.period)) return pd__error(PD_ERR_INVALID, "retention: unknown period %d", (int)o.period);
  if (o.window_ms < 0) return pd__error(PD_ERR_INVALID, "retention: negative window");
  if (o.mode != PD_RETENTION_CLASSIC && o.mode != PD_RETENTION_ON_OR_AFTER)
    return pd__error(PD_ERR_INVALID, "retention: unknown mode %d", (int)o.mode);
  if (o.by != PD_RETENTION_BY_NONE && o.by != PD_RETENTION_BY_ACQ_TOUCHPOINT && o.by != PD_RETENTION_BY_ACQ_DOMAIN)
    return pd__error(PD_ERR_INVALID, "retention: unknown breakdown %d", (int)o.by);
  if (o.return_domain < -1 || o.return_domain > PD_DOMAIN_SEMI)
    return pd__error(PD_ERR_INVALID, "retention: unknown domain %d", o.return_domain);
  if ((o.n_start_types && !o.start_types) || (o.n_return_types && !o.return_types) ||
      (o.n_return_touchpoints && !o.return_touchpoints) || (o.n_domains && !o.domains))
    return pd__error(PD_ERR_INVALID, "retention: array count without an array");
  pd_retention_partial *p = calloc(1, sizeof *p);
  if (!p) return pd__error(PD_ERR_NOMEM, "retention: out of memory");
  pd_status rc = pd__tz_open(o.tz, &p->tz);
  if (rc) {
    free(p);
    return rc;
  }
  if (o.n_start_types) pd__typeset_fill(&p->start, o.start_types, o.n_start_types);
  else pd__typeset_add(&p->start, PD_EV_ACQUIRE);
  if (o.n_return_types) pd__typeset_fill(&p->ret, o.return_types, o.n_return_types);
  else
    for (size_t i = 0; i < sizeof p->ret.bits; i++) p->ret.bits[i] = (uint8_t)~p->start.bits[i];
  if (o.n_return_touchpoints) {
    uint32_t mx = 0;
    for (size_t i = 0; i < o.n_return_touchpoints; i++)
      if (o.return_touchpoints[i] != PD_NONE && o.return_touchpoints[i] + 1 > mx) mx = o.return_touchpoints[i] + 1;
    p->n_tp_ok = mx;
    p->tp_ok = calloc(mx ? mx : 1, 1);
    if (!p->tp_ok) goto nomem;
    for (size_t i = 0; i < o.n_return_touchpoints; i++)
      if (o.return_touchpoints[i] != PD_NONE) p->tp_ok[o.return_touchpoints[i]] = 1;
  }
  if (o.n_domains) {
    p->domains = malloc(o.n_domains);
    if (!p->domains) goto nomem;
    memcpy(p->domains, o.domains, o.n_domains);
    p->n_domains = o.n_domains;
  }
  o.start_types = o.return_types = o.return_touchpoints = NULL;
  o.domains = NULL;
  o.tz = pd__tz_name(p->tz);
  p->o = o;
  p->max_time = INT64_MIN;
  pd__pcursor_init(&p->cur, p->tz, o.period);
  *out = p;
  return PD_OK;
nomem:
  pd_retention_partial_free(p);
  return pd__error(PD_ERR_NOMEM, "retention: out of memory");
}

static void cohort_free(cohort *c) {
  free(c->classic);
  free(c->lasthist);
  free(c->revenue);
  free(c->starts);
}

void pd_retention_partial_free(pd_retention_partial *p) {
  if (!p) return;
  for (size_t g = 0; g < p->n_groups; g++) {
    for (size_t i = 0; i < p->groups[g].n; i++) cohort_free(&p->groups[g].c[i]);
    free(p->groups[g].c);
  }
  free(p->groups);
  free(p->tp_ok);
  free(p->domains);
  free(p->mark);
  pd__pcursor_free(&p->cur);
  pd__tz_free(p->tz);
  free(p);
}

/* ---- storage ------------------------------------------------------------ */

static group *get_group(pd_retention_partial *p, size_t slot) {
  if (slot >= p->n_groups) {
    size_t nn = slot + 1 > p->n_groups * 2 ? slot + 1 : p->n_groups * 2;
    group *g = realloc(p->groups, nn * sizeof *g);
    if (!g) return NULL;
    memset(g + p->n_groups, 0, (nn - p->n_groups) * sizeof *g);
    p->groups = g;
    p->n_groups = nn;
  }
  return &p->groups[slot];
}

static cohort *get_cohort(group *g, int64_t period) {
  if (g->n == 0) {
    g->c = calloc(1, sizeof *g->c);
    if (!g->c) return NULL;
    g->base = period;
    g->n = 1;
  }
  if (period < g->base) { /* grow downwards */
    size_t add = (size_t)(g->base - period);
    cohort *c = realloc(g->c, (g->n + add) * sizeof *c);
    if (!c) return NULL;
    memmove(c + add, c, g->n * sizeof *c);
    memset(c, 0, add * sizeof *c);
    g->c = c;
    g->n += add;
    g->base = period;
  } else if ((size_t)(period - g->base) >= g->n) {
    size_t nn = (size_t)(period - g->base) + 1;
    cohort *c = realloc(g->c, nn * sizeof *c);
    if (!c) return NULL;
    memset(c + g->n, 0, (nn - g->n) * sizeof *c);
    g->c = c;
    g->n = nn;
  }
  return &g->c[period - g->base];
}

static bool cohort_reserve(cohort *c, size_t k) {
  if (k < c->cap) return true;
  size_t cap = c->cap, cap2 = c->cap, cap3 = c->cap;
  if (!pd__grow_i64(&c->classic, &cap, k + 1) || !pd__grow_i64(&c->lasthist, &cap2, k + 1) ||
      !pd__grow_i64(&c->revenue, &cap3, k + 1))
    return false;
  /* All three grow to the same size from the same size. */
  c->cap = cap;
  return cap == cap2 && cap == cap3;
}

static bool mark_reserve(pd_retention_partial *p, size_t k) {
  if (k < p->mark_cap) return true;
  size_t nc = p->mark_cap ? p->mark_cap : 64;
  while (nc <= k) nc *= 2;
  uint32_t *m = realloc(p->mark, nc * sizeof *m);
  if (!m) return false;
  memset(m + p->mark_cap, 0, (nc - p->mark_cap) * sizeof *m);
  p->mark = m;
  p->mark_cap = nc;
  return true;
}

/* ---- accumulation --------------------------------------------------------- */

static inline bool is_return(const pd_retention_partial *p, const pd_user_events *ev, size_t i) {
  if (!pd__typeset_has(&p->ret, ev->type[i])) return false;
  uint32_t tp = ev->touchpoint[i];
  if (p->tp_ok && (tp == PD_NONE || tp >= p->n_tp_ok || !p->tp_ok[tp])) return false;
  if (p->o.return_domain >= 0 && (tp == PD_NONE || tp >= p->n_domains || p->domains[tp] != p->o.return_domain))
    return false;
  return true;
}

static size_t group_slot(const pd_retention_partial *p, const pd_user_events *ev, size_t n) {
  if (p->o.by == PD_RETENTION_BY_NONE) return 0;
  for (size_t i = 0; i < n; i++)
    if (ev->type[i] == PD_EV_ACQUIRE) {
      uint32_t tp = ev->touchpoint[i];
      if (tp == PD_NONE) return 0;
      if (p->o.by == PD_RETENTION_BY_ACQ_TOUCHPOINT) return (size_t)tp + 1;
      return (size_t)(tp < p->n_domains ? p->domains[tp] : PD_DOMAIN_UNKNOWN) + 1;
    }
  return 0;
}

/* k of event i for a membership starting at event s in cohort period c. */
static inline int64_t k_of(pd_retention_partial *p, const pd_user_events *ev, size_t i, size_t s, int64_t c) {
  if (p->o.window_ms > 0) return (ev->time[i] - ev->time[s]) / p->o.window_ms;
  return pd__pcursor_index(&p->cur, ev->time[i]) - c;
}

/* Accumulates one membership: cohort period c, start event s. */
static pd_status add_membership(pd_retention_partial *p, const pd_user_events *ev, size_t n, size_t s, int64_t c,
                                group *g, size_t last_ret) {
  cohort *co = get_cohort(g, c);
  if (!co) return pd__error(PD_ERR_NOMEM, "retention: out of memory");
  co->users++;
  if (p->o.window_ms > 0) {
    if (co->n_starts == co->cap_starts && !pd__grow_i64(&co->starts, &co->cap_starts, co->n_starts + 1))
      return pd__error(PD_ERR_NOMEM, "retention: out of memory");
    co->starts[co->n_starts++] = ev->time[s];
  }
  if (++p->stamp == 0) { /* wrapped: clear the marks */
    memset(p->mark, 0, p->mark_cap * sizeof *p->mark);
    p->stamp = 1;
  }
  const int64_t cap_k = p->o.n_periods ? (int64_t)p->o.n_periods : INT64_MAX;
  int64_t maxk = -1;
  for (size_t i = s; i < n; i++) {
    int64_t k = k_of(p, ev, i, s, c);
    if (k >= cap_k) {
      if (last_ret != SIZE_MAX && last_ret >= i && last_ret > s) maxk = cap_k - 1;
      break;
    }
    if (!cohort_reserve(co, (size_t)k) || !mark_reserve(p, (size_t)k))
      return pd__error(PD_ERR_NOMEM, "retention: out of memory");
    if ((size_t)k >= co->used) co->used = (size_t)k + 1;
    uint16_t ty = ev->type[i];
    /* Branch-free, reading every amount: a sequential read the hardware
     * prefetches, where reading only purchases misses the cache each time. */
    co->revenue[k] += ((int64_t)(ty == PD_EV_PURCHASE) - (int64_t)(ty == PD_EV_REFUND)) * ev->amount[i];
    if (i > s && is_return(p, ev, i)) {
      if (p->mark[k] != p->stamp) {
        p->mark[k] = p->stamp;
        co->classic[k]++;
      }
      maxk = k;
    }
  }
  if (maxk >= 0) co->lasthist[maxk]++;
  return PD_OK;
}

pd_status pd_retention_partial_add(pd_retention_partial *p, const pd_user_events *ev) {
  if (!p || !ev) return pd__error(PD_ERR_INVALID, "retention: NULL argument");
  size_t n = ev->n;
  if (p->o.as_of_ms != INT64_MIN) /* the snapshot as of as_of: later events do not exist yet */
    while (n > 0 && ev->time[n - 1] > p->o.as_of_ms) n--;
  if (n == 0) return PD_OK;
  if (!p->any || ev->time[n - 1] > p->max_time) p->max_time = ev->time[n - 1];
  p->any = true;
  size_t s = 0;
  while (s < n && !pd__typeset_has(&p->start, ev->type[s])) s++;
  if (s == n) return PD_OK;
  size_t last_ret = SIZE_MAX;
  for (size_t i = n; i-- > s + 1;)
    if (is_return(p, ev, i)) {
      last_ret = i;
      break;
    }
  group *g = get_group(p, group_slot(p, ev, n));
  if (!g) return pd__error(PD_ERR_NOMEM, "retention: out of memory");
  if (!p->o.recurring) return add_membership(p, ev, n, s, pd__pcursor_index(&p->cur, ev->time[s]), g, last_ret);
  /* Recurring: the first start event of every period holding one. */
  int64_t prev = 0;
  bool have = false;
  for (size_t i = s; i < n; i++) {
    if (!pd__typeset_has(&p->start, ev->type[i])) continue;
    int64_t c = pd__pcursor_index(&p->cur, ev->time[i]);
    if (have && c == prev) continue;
    pd_status rc = add_membership(p, ev, n, i, c, g, last_ret);
    if (rc) return rc;
    prev = c;
    have = true;
  }
  return PD_OK;
}

/* ---- merge ------------------------------------------------------------------ */

static bool add_arr(int64_t **into, size_t *cap, const int64_t *from, size_t n) {
  if (!pd__grow_i64(into, cap, n)) return false;
  for (size_t i = 0; i < n; i++) (*into)[i] += from[i];
  return true;
}

pd_status pd_retention_partial_merge(pd_retention_partial *into, const pd_retention_partial *from) {
  if (!into || !from) return pd__error(PD_ERR_INVALID, "retention: NULL argument");
  if (into->o.period != from->o.period || into->o.window_ms != from->o.window_ms || into->o.by != from->o.by ||
      into->o.complete_only != from->o.complete_only ||
      into->o.n_periods != from->o.n_periods || strcmp(pd__tz_name(into->tz), pd__tz_name(from->tz)) != 0)
    return pd__error(PD_ERR_INVALID, "retention: merging partials of different options");
  for (size_t gi = 0; gi < from->n_groups; gi++) {
    const group *fg = &from->groups[gi];
    if (!fg->n) continue;
    group *g = get_group(into, gi);
    if (!g) return pd__error(PD_ERR_NOMEM, "retention: out of memory");
    for (size_t ci = 0; ci < fg->n; ci++) {
      const cohort *fc = &fg->c[ci];
      if (!fc->users) continue;
      cohort *c = get_cohort(g, fg->base + (int64_t)ci);
      if (!c || (fc->cap && !cohort_reserve(c, fc->cap - 1))) return pd__error(PD_ERR_NOMEM, "retention: out of memory");
      size_t cap = c->cap;
      add_arr(&c->classic, &cap, fc->classic, fc->cap);
      add_arr(&c->lasthist, &cap, fc->lasthist, fc->cap);
      add_arr(&c->revenue, &cap, fc->revenue, fc->cap);
      c->users += fc->users;
      if (fc->used > c->used) c->used = fc->used;
      if (fc->n_starts) {
        if (!pd__grow_i64(&c->starts, &c->cap_starts, c->n_starts + fc->n_starts))
          return pd__error(PD_ERR_NOMEM, "retention: out of memory");
        memcpy(c->starts + c->n_starts, fc->starts, fc->n_starts * sizeof *fc->starts);
        c->n_starts += fc->n_starts;
      }
    }
  }
  if (from->any && (!into->any || from->max_time > into->max_time)) into->max_time = from->max_time;
  into->any = into->any || from->any;
  return PD_OK;
}

/* ---- finish ----------------------------------------------------------------- */

static int cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

/* Per-cohort derived values for k = 0..K-1. */
typedef struct cell {
  int64_t eligible, users, revenue;
  double cum_per_user;
  bool observable;
} cell;

typedef struct fin {
  const pd_retention_partial *p;
  int64_t as_of, p_end;
  size_t K;
} fin;

static bool cohort_cells(const fin *f, const cohort *co, int64_t c, cell *out) {
  const pd_retention_options *o = &f->p->o;
  int64_t *starts = NULL;
  if (o->window_ms > 0 && co->n_starts) {
    starts = malloc(co->n_starts * sizeof *starts);
    if (!starts) return false;
    memcpy(starts, co->starts, co->n_starts * sizeof *starts);
    qsort(starts, co->n_starts, sizeof *starts, cmp_i64);
  }
  int64_t after = 0; /* on-or-after: users whose last return is >= k */
  for (size_t k = co->cap; k-- > f->K;) after += co->lasthist[k];
  int64_t cum = 0;
  for (size_t k = f->K; k-- > 0;) {
    if (k < co->cap) after += co->lasthist[k];
    out[k].users = k < co->cap ? (o->mode == PD_RETENTION_CLASSIC ? co->classic[k] : after) : 0;
    out[k].revenue = k < co->cap ? co->revenue[k] : 0;
  }
  for (size_t k = 0; k < f->K; k++) {
    int64_t el;
    if (o->window_ms > 0) {
      /* members with start + k * window <= as_of; sorted starts, count by bisection */
      el = 0;
      if (starts) {
        int64_t lim = o->complete_only ? f->as_of + 1 - ((int64_t)k + 1) * o->window_ms
                                       : f->as_of - (int64_t)k * o->window_ms;
        size_t lo = 0, hi = co->n_starts;
        while (lo < hi) {
          size_t mid = lo + (hi - lo) / 2;
          if (starts[mid] <= lim) lo = mid + 1;
          else hi = mid;
        }
        el = (int64_t)lo;
      }
    } else {
      el = c + (int64_t)k <= f->p_end ? co->users : 0;
    }
    cum += out[k].revenue;
    out[k].eligible = el;
    out[k].observable = el > 0;
    out[k].cum_per_user = co->users ? (double)cum / (double)co->users : 0.0;
  }
  free(starts);
  return true;
}

static void group_name(const pd_retention_partial *p, size_t slot, pd_store *store, char *buf, size_t size) {
  if (slot == 0) {
    snprintf(buf, size, "(none)");
  } else if (p->o.by == PD_RETENTION_BY_ACQ_DOMAIN) {
    snprintf(buf, size, "%s", pd_domain_name((pd_domain)(slot - 1)));
  } else {
    pd_touchpoint_def d = PD_TOUCHPOINT_DEF_INIT;
    if (store && pd_store_touchpoint(store, (uint32_t)(slot - 1), &d) == PD_OK && d.name) snprintf(buf, size, "%s", d.name);
    else snprintf(buf, size, "#%zu", slot - 1);
  }
}

static size_t compute_k(const pd_retention_partial *p, int64_t as_of, int64_t p_end) {
  if (p->o.n_periods) return p->o.n_periods;
  int64_t K = 0;
  for (size_t gi = 0; gi < p->n_groups; gi++) {
    const group *g = &p->groups[gi];
    for (size_t ci = 0; ci < g->n; ci++) {
      const cohort *co = &g->c[ci];
      if (!co->users) continue;
      int64_t kk;
      if (p->o.window_ms > 0) {
        int64_t first = INT64_MAX;
        for (size_t i = 0; i < co->n_starts; i++)
          if (co->starts[i] < first) first = co->starts[i];
        if (p->o.complete_only) kk = first <= as_of ? (as_of + 1 - first) / p->o.window_ms : 0;
        else kk = first <= as_of ? (as_of - first) / p->o.window_ms + 1 : 0;
      } else {
        kk = p_end - (g->base + (int64_t)ci) + 1;
      }
      if ((int64_t)co->used > kk) kk = (int64_t)co->used; /* never drop data */
      if (kk > K) K = kk;
    }
  }
  return (size_t)K;
}

pd_status pd_retention_partial_finish(const pd_retention_partial *p, pd_store *store, pd_retention_table which,
                                      pd_table **out) {
  if (!p || !out) return pd__error(PD_ERR_INVALID, "retention: NULL argument");
  if (which < PD_RETENTION_TABLE_LONG || which > PD_RETENTION_TABLE_AVERAGE)
    return pd__error(PD_ERR_INVALID, "retention: unknown table %d", (int)which);
  fin f = {p, 0, 0, 0};
  f.as_of = p->o.as_of_ms != INT64_MIN ? p->o.as_of_ms : p->max_time;
  if (p->any || p->o.as_of_ms != INT64_MIN) {
    /* the last observable period: the one holding as_of, or with
     * complete_only the last one that ended by as_of */
    f.p_end = p->o.complete_only && f.as_of < INT64_MAX ? pd__period_index(p->tz, p->o.period, f.as_of + 1) - 1
                                                        : pd__period_index(p->tz, p->o.period, f.as_of);
    f.K = compute_k(p, f.as_of, f.p_end);
  }
  static const char *names[] = {"retention", "retention_rates", "retention_counts", "retention_average"};
  pd_table *t = pd__table_new(names[which]);
  bool grouped = p->o.by != PD_RETENTION_BY_NONE;
  size_t c_group = grouped ? pd__table_add_col(t, "group", PD_TYPE_STRING) : 0;
  size_t c_cohort = 0, c_start = 0, c_size = 0, c_k = 0, c_cohorts = 0, c_el = 0, c_users = 0, c_rate = 0, c_rev = 0,
         c_cum = 0, c_first = 0;
  if (which != PD_RETENTION_TABLE_AVERAGE) {
    c_cohort = pd__table_add_col(t, "cohort", PD_TYPE_STRING);
    c_start = pd__table_add_col(t, "cohort_start", PD_TYPE_INT64);
    c_size = pd__table_add_col(t, "cohort_users", PD_TYPE_INT64);
  }
  if (which == PD_RETENTION_TABLE_LONG || which == PD_RETENTION_TABLE_AVERAGE) {
    c_k = pd__table_add_col(t, "k", PD_TYPE_INT64);
    if (which == PD_RETENTION_TABLE_AVERAGE) c_cohorts = pd__table_add_col(t, "cohorts", PD_TYPE_INT64);
    c_el = pd__table_add_col(t, "eligible", PD_TYPE_INT64);
    c_users = pd__table_add_col(t, "users", PD_TYPE_INT64);
    c_rate = pd__table_add_col(t, "rate", PD_TYPE_DOUBLE);
    c_rev = pd__table_add_col(t, "revenue", PD_TYPE_INT64);
    c_cum = pd__table_add_col(t, "cum_revenue_per_user", PD_TYPE_DOUBLE);
  } else {
    for (size_t k = 0; k < f.K; k++) {
      char name[32];
      snprintf(name, sizeof name, "%zu", k);
      size_t col = pd__table_add_col(t, name, which == PD_RETENTION_TABLE_RATES ? PD_TYPE_DOUBLE : PD_TYPE_INT64);
      if (k == 0) c_first = col;
    }
  }
  cell *cells = calloc(f.K ? f.K : 1, sizeof *cells);
  /* AVERAGE sums: cohorts, eligible, users, revenue, cumulative revenue, sizes */
  int64_t *sums = calloc(f.K ? f.K * 5 : 1, sizeof *sums);
  double *cum_sum = calloc(f.K ? f.K : 1, sizeof *cum_sum);
  if (!cells || !sums || !cum_sum) {
    free(cells);
    free(sums);
    free(cum_sum);
    pd_table_free(t);
    return pd__error(PD_ERR_NOMEM, "retention: out of memory");
  }
  char gname[256], label[32];
  for (size_t gi = 0; gi < p->n_groups; gi++) {
    const group *g = &p->groups[gi];
    bool has = false;
    for (size_t ci = 0; ci < g->n && !has; ci++) has = g->c[ci].users > 0;
    if (!has) continue;
    if (grouped) group_name(p, gi, store, gname, sizeof gname);
    memset(sums, 0, f.K * 5 * sizeof *sums);
    memset(cum_sum, 0, f.K * sizeof *cum_sum);
    for (size_t ci = 0; ci < g->n; ci++) {
      const cohort *co = &g->c[ci];
      if (!co->users) continue;
      int64_t c = g->base + (int64_t)ci;
      if (!cohort_cells(&f, co, c, cells)) {
        free(cells);
        free(sums);
        free(cum_sum);
        pd_table_free(t);
        return pd__error(PD_ERR_NOMEM, "retention: out of memory");
      }
      pd__period_label(p->o.period, c, label, sizeof label);
      int64_t cstart = pd__period_start_utc(p->tz, p->o.period, c);
      size_t row = 0;
      if (which == PD_RETENTION_TABLE_RATES || which == PD_RETENTION_TABLE_COUNTS) {
        row = pd__table_add_row(t);
        if (grouped) pd__table_set_string(t, row, c_group, gname);
        pd__table_set_string(t, row, c_cohort, label);
        pd__table_set_int64(t, row, c_start, cstart);
        pd__table_set_int64(t, row, c_size, co->users);
      }
      for (size_t k = 0; k < f.K; k++) {
        const cell *x = &cells[k];
        if (which == PD_RETENTION_TABLE_LONG) {
          row = pd__table_add_row(t);
          if (grouped) pd__table_set_string(t, row, c_group, gname);
          pd__table_set_string(t, row, c_cohort, label);
          pd__table_set_int64(t, row, c_start, cstart);
          pd__table_set_int64(t, row, c_size, co->users);
          pd__table_set_int64(t, row, c_k, (int64_t)k);
          pd__table_set_int64(t, row, c_el, x->eligible);
          pd__table_set_int64(t, row, c_users, x->users);
          if (x->observable) {
            pd__table_set_double(t, row, c_rate, (double)x->users / (double)x->eligible);
            pd__table_set_int64(t, row, c_rev, x->revenue);
            pd__table_set_double(t, row, c_cum, x->cum_per_user);
          }
        } else if (which == PD_RETENTION_TABLE_RATES) {
          if (x->observable) pd__table_set_double(t, row, c_first + k, (double)x->users / (double)x->eligible);
        } else if (which == PD_RETENTION_TABLE_COUNTS) {
          if (x->observable) pd__table_set_int64(t, row, c_first + k, x->users);
        } else if (x->observable) {
          int64_t *s = &sums[k * 5];
          s[0]++;
          s[1] += x->eligible;
          s[2] += x->users;
          s[3] += x->revenue;
          s[4] += co->users;
          cum_sum[k] += x->cum_per_user * (double)co->users;
        }
      }
    }
    if (which == PD_RETENTION_TABLE_AVERAGE) {
      for (size_t k = 0; k < f.K; k++) {
        const int64_t *s = &sums[k * 5];
        size_t row = pd__table_add_row(t);
        if (grouped) pd__table_set_string(t, row, c_group, gname);
        pd__table_set_int64(t, row, c_k, (int64_t)k);
        pd__table_set_int64(t, row, c_cohorts, s[0]);
        pd__table_set_int64(t, row, c_el, s[1]);
        pd__table_set_int64(t, row, c_users, s[2]);
        if (s[1] > 0) {
          pd__table_set_double(t, row, c_rate, (double)s[2] / (double)s[1]);
          pd__table_set_int64(t, row, c_rev, s[3]);
          pd__table_set_double(t, row, c_cum, cum_sum[k] / (double)s[4]);
        }
      }
    }
  }
  free(cells);
  free(sums);
  free(cum_sum);
  return pd__table_finish(t, out);
}

/* ---- over a store ------------------------------------------------------- */

/* Touchpoint domains of a store by id; *out owned by the caller (free()). */
static pd_status store_domains(pd_store *store, uint8_t **out, size_t *n) {
  size_t nt = pd_store_n_touchpoints(store);
  uint8_t *d = calloc(nt ? nt : 1, 1);
  if (!d) return pd__error(PD_ERR_NOMEM, "out of memory");
  for (size_t i = 0; i < nt; i++) {
    pd_touchpoint_def def = PD_TOUCHPOINT_DEF_INIT;
    if (pd_store_touchpoint(store, (uint32_t)i, &def) == PD_OK) d[i] = (uint8_t)def.domain;
  }
  *out = d;
  *n = nt;
  return PD_OK;
}

static pd_status add_fn(void *p, const pd_user_events *ev) { return pd_retention_partial_add(p, ev); }
static pd_status merge_fn(void *a, const void *b) { return pd_retention_partial_merge(a, b); }

pd_status pd_retention_run(pd_store *store, const pd_retention_options *opts, const pd_scan_options *scan,
                           pd_table **long_out, pd_table **rates_out, pd_table **average_out) {
  if (!store || !opts) return pd__error(PD_ERR_INVALID, "pd_retention_run: NULL argument");
  if (opts->size < OPT_MIN_SIZE || opts->size > sizeof(pd_retention_options))
    return pd__error(PD_ERR_INVALID, "retention: options size %zu (use PD_RETENTION_OPTIONS_INIT)", opts->size);
  pd_retention_options o = PD_RETENTION_OPTIONS_INIT;
  memcpy(&o, opts, opts->size);
  o.size = sizeof o;
  uint8_t *domains = NULL;
  size_t nd = 0;
  pd_status rc = store_domains(store, &domains, &nd);
  if (rc) return rc;
  o.domains = domains;
  o.n_domains = nd;
  if (scan && scan->users && o.as_of_ms == INT64_MIN) { /* a segment is observed as long as the store */
    int64_t lo, hi;
    pd__store_time_range(store, &lo, &hi);
    o.as_of_ms = hi;
  }
  unsigned nw = pd_scan_workers(scan);
  void **parts = calloc(nw, sizeof *parts);
  pd_table *tl = NULL, *tr = NULL, *ta = NULL;
  if (!parts) {
    rc = pd__error(PD_ERR_NOMEM, "retention: out of memory");
    goto done;
  }
  for (unsigned w = 0; w < nw && !rc; w++) rc = pd_retention_partial_new(&o, (pd_retention_partial **)&parts[w]);
  if (!rc) rc = pd__scan_partials(store, scan, parts, nw, add_fn, merge_fn);
  if (!rc && long_out) rc = pd_retention_partial_finish(parts[0], store, PD_RETENTION_TABLE_LONG, &tl);
  if (!rc && rates_out) rc = pd_retention_partial_finish(parts[0], store, PD_RETENTION_TABLE_RATES, &tr);
  if (!rc && average_out) rc = pd_retention_partial_finish(parts[0], store, PD_RETENTION_TABLE_AVERAGE, &ta);
  if (rc) {
    pd_table_free(tl);
    pd_table_free(tr);
    pd_table_free(ta);
  } else {
    if (long_out) *long_out = tl;
    if (rates_out) *rates_out = tr;
    if (average_out) *average_out = ta;
  }
done:
  if (parts)
    for (unsigned w = 0; w < nw; w++) pd_retention_partial_free(parts[w]);
  free(parts);
  free(domains);
  return rc;
}
