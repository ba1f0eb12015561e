/* Referral result tables: summary numbers, breakdown groups, the depth
 * histogram with generational K, cycle times, top referrers, trees with
 * structural virality, the compliance list, acquisition cost, projection,
 * bad-input examples, the forest and the largest tree. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "privdomain/referral.h"
#include "referral_internal.h"

#define HOUR_MS 3600000.0

enum {
  S_USERS, S_ROOTS, S_REFERRED, S_INVITES, S_I, S_C, S_K, S_AMPLIFICATION, S_CT_MEDIAN, S_CT_MEAN, S_CT_N,
  S_CT_NEGATIVE, S_MAX_DEPTH, S_CAP, S_BEYOND_USERS, S_BEYOND_REVENUE, S_PURCHASERS, S_REVENUE,
  S_REFERRED_REVENUE, S_SELF, S_CYCLES, S_CYCLE_MEMBERS, S_CONFLICTS, S_EARLY, S_NO_EVENTS, S_COST_DAYS,
  S_COST_SPEND, S_COST_PAID, S_COST_REFERRED, S_CAC_PAID, S_CAC_WITH, S_COUNT
};
static const char *const summary_names[S_COUNT] = {
    "users", "roots", "referred", "invites", "i", "c", "k", "amplification", "cycle_time_median_h",
    "cycle_time_mean_h", "cycle_time_n", "cycle_time_negative", "max_depth", "cap", "beyond_cap_users",
    "beyond_cap_revenue", "purchasers", "revenue", "referred_revenue", "self_referrals", "cycles", "cycle_members",
    "conflicts", "signup_before_referrer", "referrers_without_events", "cost_days", "cost_spend",
    "cost_paid_users", "cost_referred_users", "cac_paid", "cac_with_referral"};
static const char *const issue_names[PD__ISSUE_KINDS] = {"self_referral", "cycle", "conflict",
                                                         "signup_before_referrer", "referrer_without_events"};

static bool is_node(const pd_referral *r, uint32_t u) { return r->flags[u] & PD__REF_NODE; }
/* A node whose metrics are reported (see "Segment filter" in referral.h). */
static bool counted(const pd_referral *r, uint32_t u) { return pd__referral_counted(r, u); }
static double ratio(double a, double b) { return b != 0 ? a / b : NAN; }

void pd__format_time_iso(int64_t ms, char *buf, size_t size) {
  if (ms == PD__REF_UNKNOWN_TIME) {
    snprintf(buf, size, "%s", "");
    return;
  }
  int64_t days = pd__floor_div(ms, PD_MS_PER_DAY), rem = ms - days * PD_MS_PER_DAY, y;
  unsigned m, d;
  pd__civil_from_days(days, &y, &m, &d);
  snprintf(buf, size, "%04" PRId64 "-%02u-%02uT%02d:%02d:%02dZ", y, m, d, (int)(rem / 3600000),
           (int)(rem / 60000 % 60), (int)(rem / 1000 % 60));
}

/* ---- groups ---------------------------------------------------------- */

int64_t pd__referral_key(const pd_referral *r, pd_referral_by by, uint32_t u) {
  switch (by) {
  case PD_REFERRAL_BY_PERIOD:
    return r->acq[u] == PD__REF_UNKNOWN_TIME ? INT64_MIN : pd__period_index(r->tz, r->opts.period, r->acq[u]);
  case PD_REFERRAL_BY_TOUCHPOINT: return r->acq_tp[u] == PD_NONE ? -1 : (int64_t)r->acq_tp[u];
  case PD_REFERRAL_BY_DOMAIN: return r->acq_tp[u] < r->n_tps ? (int64_t)r->tps[r->acq_tp[u]].domain : 0;
  default: return 0;
  }
}

void pd__referral_key_label(const pd_referral *r, pd_referral_by by, int64_t key, char *buf, size_t size) {
  switch (by) {
  case PD_REFERRAL_BY_PERIOD:
    if (key == INT64_MIN) snprintf(buf, size, "(unknown)");
    else pd__period_label(r->opts.period, key, buf, size);
    break;
  case PD_REFERRAL_BY_TOUCHPOINT:
    if (key < 0) snprintf(buf, size, "(none)");
    else if ((uint64_t)key < r->n_tps && r->tps[key].name) snprintf(buf, size, "%s", r->tps[key].name);
    else snprintf(buf, size, "#%" PRId64, key);
    break;
  case PD_REFERRAL_BY_DOMAIN: snprintf(buf, size, "%s", pd_domain_name((pd_domain)key)); break;
  default: snprintf(buf, size, "all"); break;
  }
}

static int cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return x < y ? -1 : x > y;
}

/* Sorted distinct keys. Takes over `keys` (a malloc'd array of n). */
static void groups_make(pd__ref_groups *g, int64_t *keys, size_t n) {
  size_t i = 1;
  while (i < n && keys[i - 1] <= keys[i]) i++;
  if (i < n) qsort(keys, n, sizeof *keys, cmp_i64); /* one group (no breakdown) is already sorted */
  size_t k = 0;
  for (size_t i = 0; i < n; i++)
    if (k == 0 || keys[i] != keys[k - 1]) keys[k++] = keys[i];
  g->keys = keys;
  g->n = k;
}

static size_t group_of(const pd__ref_groups *g, int64_t key) {
  size_t lo = 0, hi = g->n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (g->keys[mid] < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/* Per-node group index by the node's own key (root = 0) or its root's key
 * (root = 1); the groups are those of the counted nodes (gi of another node
 * is meaningless). *out and g owned by the caller. */
static pd_status node_groups(const pd_referral *r, pd_referral_by by, int of_root, pd__ref_groups *g, uint32_t **out) {
  int64_t *key = malloc((r->n ? r->n : 1) * sizeof *key);
  int64_t *keys = malloc((r->n_nodes ? r->n_nodes : 1) * sizeof *keys);
  uint32_t *gi = malloc((r->n ? r->n : 1) * sizeof *gi);
  if (!key || !keys || !gi) {
    free(key);
    free(keys);
    free(gi);
    return pd__error(PD_ERR_NOMEM, "out of memory");
  }
  size_t k = 0;
  for (uint32_t u = 0; u < r->n; u++)
    if (is_node(r, u)) key[u] = pd__referral_key(r, by, u);
  for (uint32_t u = 0; u < r->n; u++)
    if (counted(r, u)) keys[k++] = key[of_root ? r->root[u] : u];
  groups_make(g, keys, k);
  for (uint32_t u = 0; u < r->n; u++)
    if (is_node(r, u)) gi[u] = (uint32_t)group_of(g, key[of_root ? r->root[u] : u]);
  free(key);
  *out = gi;
  return PD_OK;
}

/* ---- acquisition cost ------------------------------------------------ */

typedef struct cost_rows {
  pd__ref_groups g;
  int64_t *days, *spend;
  uint64_t *paid, *referred;
} cost_rows;

static void cost_free(cost_rows *c) {
  free(c->g.keys);
  free(c->days);
  free(c->spend);
  free(c->paid);
  free(c->referred);
}

static int64_t day_of(const pd_referral *r, int64_t t) { return pd__period_index(r->tz, PD_PERIOD_DAY, t); }

/* Local days the window [b, e) touches. */
static int64_t days_in(const pd_referral *r, int64_t b, int64_t e) {
  return e > b ? day_of(r, e - 1) - day_of(r, b) + 1 : 0;
}

static void cost_window(const pd_referral *r, int64_t *b, int64_t *e) {
  *b = r->opts.cost_begin;
  *e = r->opts.cost_end;
  if (*b || *e) return;
  int64_t lo = INT64_MAX, hi = INT64_MIN;
  for (uint32_t u = 0; u < r->n; u++) {
    if (!(r->flags[u] & PD__REF_EVENTS)) continue;
    if (r->acq[u] < lo) lo = r->acq[u];
    if (r->acq[u] > hi) hi = r->acq[u];
  }
  if (lo > hi) return;
  *b = pd__period_start_utc(r->tz, PD_PERIOD_DAY, day_of(r, lo));
  *e = pd__period_start_utc(r->tz, PD_PERIOD_DAY, day_of(r, hi) + 1);
}

static int64_t tp_spend(const pd_referral *r, uint32_t tp) {
  return tp < r->n_tps && r->tps[tp].daily_spend > 0 ? r->tps[tp].daily_spend : 0;
}

/* Spend / paid users vs spend / (paid + referred) over the window. Paid:
 * roots acquired at a touchpoint with a positive daily spend; referred:
 * users with a referrer. Users count when acquired in the window; by
 * period they group by their own acquisition period, by touchpoint or
 * domain by their root's (referred users lower the CAC of the touchpoint
 * that seeded their tree). */
static pd_status cost_compute(const pd_referral *r, pd_referral_by by, cost_rows *c) {
  memset(c, 0, sizeof *c);
  int64_t b, e;
  cost_window(r, &b, &e);
  size_t cap = r->n_nodes + r->n_tps + 1, k = 0;
  int64_t p0 = 0, p1 = -1;
  if (by == PD_REFERRAL_BY_PERIOD && e > b) {
    p0 = pd__period_index(r->tz, r->opts.period, b);
    p1 = pd__period_index(r->tz, r->opts.period, e - 1);
    if (p1 - p0 > 1000000) return pd__error(PD_ERR_RANGE, "referral: cost window spans more than a million periods");
    cap += (size_t)(p1 - p0 + 1);
  }
  int64_t *keys = malloc(cap * sizeof *keys);
  if (!keys) return pd__error(PD_ERR_NOMEM, "out of memory");
  for (uint32_t u = 0; u < r->n; u++)
    if ((r->flags[u] & PD__REF_EVENTS) && counted(r, u) && r->acq[u] >= b && r->acq[u] < e)
      keys[k++] = pd__referral_key(r, by, by == PD_REFERRAL_BY_PERIOD ? u : r->root[u]);
  if (by == PD_REFERRAL_BY_PERIOD)
    for (int64_t p = p0; p <= p1; p++) keys[k++] = p;
  else
    for (uint32_t t = 0; t < r->n_tps; t++)
      if (tp_spend(r, t) && e > b)
        keys[k++] = by == PD_REFERRAL_BY_TOUCHPOINT ? (int64_t)t : by == PD_REFERRAL_BY_DOMAIN ? (int64_t)r->tps[t].domain : 0;
  if (by == PD_REFERRAL_BY_NONE) keys[k++] = 0; /* always one row */
  groups_make(&c->g, keys, k);
  size_t n = c->g.n ? c->g.n : 1;
  c->days = calloc(n, sizeof *c->days);
  c->spend = calloc(n, sizeof *c->spend);
  c->paid = calloc(n, sizeof *c->paid);
  c->referred = calloc(n, sizeof *c->referred);
  if (!c->days || !c->spend || !c->paid || !c->referred) {
    cost_free(c);
    return pd__error(PD_ERR_NOMEM, "out of memory");
  }
  int64_t all_days = days_in(r, b, e);
  for (size_t i = 0; i < c->g.n; i++) {
    if (by == PD_REFERRAL_BY_PERIOD) {
      int64_t ps = pd__period_start_utc(r->tz, r->opts.period, c->g.keys[i]);
      int64_t pe = pd__period_start_utc(r->tz, r->opts.period, c->g.keys[i] + 1);
      c->days[i] = c->g.keys[i] == INT64_MIN ? 0 : days_in(r, ps > b ? ps : b, pe < e ? pe : e);
    } else {
      c->days[i] = all_days;
    }
    for (uint32_t t = 0; t < r->n_tps; t++) {
      bool in = by == PD_REFERRAL_BY_TOUCHPOINT ? c->g.keys[i] == (int64_t)t
                : by == PD_REFERRAL_BY_DOMAIN   ? c->g.keys[i] == (int64_t)r->tps[t].domain
                                                : true;
      if (in) c->spend[i] += tp_spend(r, t) * c->days[i];
    }
  }
  for (uint32_t u = 0; u < r->n; u++) {
    if (!(r->flags[u] & PD__REF_EVENTS) || !counted(r, u) || r->acq[u] < b || r->acq[u] >= e) continue;
    size_t i = group_of(&c->g, pd__referral_key(r, by, by == PD_REFERRAL_BY_PERIOD ? u : r->root[u]));
    if (r->parent[u] != PD_NONE) c->referred[i]++;
    else if (tp_spend(r, r->acq_tp[u])) c->paid[i]++;
  }
  return PD_OK;
}

/* ---- summary --------------------------------------------------------- */

static double median_sorted(const int64_t *v, size_t n) {
  if (!n) return NAN;
  return n % 2 ? (double)v[n / 2] : ((double)v[n / 2 - 1] + (double)v[n / 2]) / 2.0;
}

pd_status pd__referral_summary_compute(pd_referral *r) {
  double *s = r->summary;
  uint64_t users_n = 0, roots = 0, referees = 0, invites = 0, purchasers = 0, beyond = 0;
  int64_t revenue = 0, referred_revenue = 0, beyond_revenue = 0;
  uint32_t deepest = 0;
  for (uint32_t u = 0; u < r->n; u++) {
    if (!counted(r, u)) continue;
    users_n++;
    referees += r->children[u];
    if (r->depth[u] > deepest) deepest = r->depth[u];
    invites += r->invites[u];
    revenue += r->revenue[u];
    if (r->flags[u] & PD__REF_PURCHASER) purchasers++;
    if (r->parent[u] == PD_NONE) roots++;
    else referred_revenue += r->revenue[u];
    if (r->depth[u] > (uint32_t)r->opts.max_depth) {
      beyond++;
      beyond_revenue += r->revenue[u];
    }
  }
  /* Direct referees of the counted users: without a filter, every referred user. */
  double users = (double)users_n, referred = (double)referees;
  s[S_USERS] = users;
  s[S_ROOTS] = (double)roots;
  s[S_REFERRED] = referred;
  s[S_INVITES] = (double)invites;
  s[S_I] = ratio((double)invites, users);
  s[S_C] = ratio(referred, (double)invites);
  s[S_K] = ratio(referred, users);
  s[S_AMPLIFICATION] = s[S_K] < 1 ? 1.0 / (1.0 - s[S_K]) : NAN;
  s[S_CT_MEDIAN] = median_sorted(r->cycle_times, r->n_cycle_times) / HOUR_MS;
  double sum = 0;
  for (size_t i = 0; i < r->n_cycle_times; i++) sum += (double)r->cycle_times[i];
  s[S_CT_MEAN] = r->n_cycle_times ? sum / (double)r->n_cycle_times / HOUR_MS : NAN;
  s[S_CT_N] = (double)r->n_cycle_times;
  s[S_CT_NEGATIVE] = (double)r->negative_cycle_times;
  s[S_MAX_DEPTH] = users_n ? (double)deepest : NAN;
  s[S_CAP] = r->opts.max_depth;
  s[S_BEYOND_USERS] = (double)beyond;
  s[S_BEYOND_REVENUE] = (double)beyond_revenue;
  s[S_PURCHASERS] = (double)purchasers;
  s[S_REVENUE] = (double)revenue;
  s[S_REFERRED_REVENUE] = (double)referred_revenue;
  s[S_SELF] = (double)r->issue_count[PD__ISSUE_SELF];
  s[S_CYCLES] = (double)r->issue_count[PD__ISSUE_CYCLE];
  s[S_CYCLE_MEMBERS] = (double)r->cycle_members;
  s[S_CONFLICTS] = (double)r->issue_count[PD__ISSUE_CONFLICT];
  s[S_EARLY] = (double)r->issue_count[PD__ISSUE_EARLY];
  s[S_NO_EVENTS] = (double)r->issue_count[PD__ISSUE_NO_EVENTS];
  cost_rows c;
  pd_status st = cost_compute(r, PD_REFERRAL_BY_NONE, &c);
  if (st != PD_OK) return st;
  s[S_COST_DAYS] = (double)c.days[0];
  s[S_COST_SPEND] = (double)c.spend[0];
  s[S_COST_PAID] = (double)c.paid[0];
  s[S_COST_REFERRED] = (double)c.referred[0];
  s[S_CAC_PAID] = ratio((double)c.spend[0], (double)c.paid[0]);
  s[S_CAC_WITH] = ratio((double)c.spend[0], (double)(c.paid[0] + c.referred[0]));
  cost_free(&c);
  return PD_OK;
}

pd_status pd_referral_metric(const pd_referral *r, const char *metric, double *out) {
  if (!r || !metric || !out) return pd__error(PD_ERR_INVALID, "pd_referral_metric: NULL argument");
  for (int i = 0; i < S_COUNT; i++)
    if (strcmp(metric, summary_names[i]) == 0) {
      *out = r->summary[i];
      return PD_OK;
    }
  return pd__error(PD_ERR_NOT_FOUND, "referral: no metric \"%s\"", metric);
}

/* ---- tables ---------------------------------------------------------- */

static void set_name(pd_table *t, size_t row, size_t col, const pd_referral *r, uint32_t u) {
  const char *name = u == PD_NONE ? NULL : pd__referral_name(r, u);
  if (name) pd__table_set_string(t, row, col, name);
}

static void set_user(pd_table *t, size_t row, size_t col, uint32_t u) {
  if (u != PD_NONE) pd__table_set_int64(t, row, col, u);
}

static pd_status t_summary(const pd_referral *r, pd_table *t) {
  pd__table_add_col(t, "metric", PD_TYPE_STRING);
  pd__table_add_col(t, "value", PD_TYPE_DOUBLE);
  for (int i = 0; i < S_COUNT; i++) {
    size_t row = pd__table_add_row(t);
    pd__table_set_string(t, row, 0, summary_names[i]);
    pd__table_set_double(t, row, 1, r->summary[i]);
  }
  return PD_OK;
}

typedef struct ct_pair {
  uint32_t g;
  int64_t dt;
} ct_pair;

static int cmp_pair(const void *a, const void *b) {
  const ct_pair *x = a, *y = b;
  if (x->g != y->g) return x->g < y->g ? -1 : 1;
  return x->dt < y->dt ? -1 : x->dt > y->dt;
}

static pd_status t_groups(const pd_referral *r, pd_table *t) {
  pd_referral_by by = r->opts.by;
  pd__ref_groups g = {NULL, 0};
  uint32_t *gi = NULL;
  pd_status st = node_groups(r, by, 0, &g, &gi);
  if (st != PD_OK) return st;
  size_t ng = g.n ? g.n : 1;
  uint64_t *users = calloc(ng, 8), *roots = calloc(ng, 8), *inv = calloc(ng, 8), *ref = calloc(ng, 8);
  ct_pair *pairs = malloc((r->n_cycle_times ? r->n_cycle_times : 1) * sizeof *pairs);
  if (!users || !roots || !inv || !ref || !pairs) st = pd__error(PD_ERR_NOMEM, "out of memory");
  size_t np = 0;
  for (uint32_t u = 0; st == PD_OK && u < r->n; u++) {
    if (!is_node(r, u)) continue;
    uint32_t p = r->parent[u];
    if (counted(r, u)) {
      users[gi[u]]++;
      inv[gi[u]] += r->invites[u];
      if (p == PD_NONE) roots[gi[u]]++;
    }
    if (p == PD_NONE || !counted(r, p)) continue;
    ref[gi[p]]++;
    if ((r->flags[p] & PD__REF_EVENTS) && r->signup[u] >= r->acq[p] && np < r->n_cycle_times)
      pairs[np++] = (ct_pair){gi[p], r->signup[u] - r->acq[p]};
  }
  if (st == PD_OK) {
    qsort(pairs, np, sizeof *pairs, cmp_pair);
    pd__table_add_col(t, "group", PD_TYPE_STRING);
    const char *cols[] = {"users", "roots", "invites", "referred"};
    for (int i = 0; i < 4; i++) pd__table_add_col(t, cols[i], PD_TYPE_INT64);
    const char *dcols[] = {"i", "c", "k", "cycle_time_median_h", "cycle_time_mean_h"};
    for (int i = 0; i < 5; i++) pd__table_add_col(t, dcols[i], PD_TYPE_DOUBLE);
    size_t pi = 0;
    char buf[64];
    for (size_t k = 0; k < g.n; k++) {
      size_t row = pd__table_add_row(t);
      pd__referral_key_label(r, by, g.keys[k], buf, sizeof buf);
      pd__table_set_string(t, row, 0, buf);
      pd__table_set_int64(t, row, 1, (int64_t)users[k]);
      pd__table_set_int64(t, row, 2, (int64_t)roots[k]);
      pd__table_set_int64(t, row, 3, (int64_t)inv[k]);
      pd__table_set_int64(t, row, 4, (int64_t)ref[k]);
      pd__table_set_double(t, row, 5, ratio((double)inv[k], (double)users[k]));
      pd__table_set_double(t, row, 6, ratio((double)ref[k], (double)inv[k]));
      pd__table_set_double(t, row, 7, ratio((double)ref[k], (double)users[k]));
      size_t p0 = pi;
      double sum = 0;
      while (pi < np && pairs[pi].g == k) sum += (double)pairs[pi++].dt;
      size_t m = pi - p0;
      if (m) {
        const ct_pair *x = pairs + p0;
        double med = m % 2 ? (double)x[m / 2].dt : ((double)x[m / 2 - 1].dt + (double)x[m / 2].dt) / 2;
        pd__table_set_double(t, row, 8, med / HOUR_MS);
        pd__table_set_double(t, row, 9, sum / (double)m / HOUR_MS);
      }
    }
  }
  free(users);
  free(roots);
  free(inv);
  free(ref);
  free(pairs);
  free(gi);
  free(g.keys);
  return st;
}

static pd_status t_depth(const pd_referral *r, pd_table *t) {
  pd_referral_by by = r->opts.by;
  pd__ref_groups g = {NULL, 0};
  uint32_t *gi = NULL;
  pd_status st = node_groups(r, by, 1, &g, &gi);
  if (st != PD_OK) return st;
  size_t ng = g.n ? g.n : 1;
  /* Each group's levels 0..its deepest, laid out one after another. */
  uint32_t *gmax = calloc(ng, sizeof *gmax);
  size_t *off = calloc(ng + 1, sizeof *off);
  uint64_t *users = NULL, *purch = NULL;
  int64_t *rev = NULL;
  if (!gmax || !off) st = pd__error(PD_ERR_NOMEM, "out of memory");
  for (uint32_t u = 0; st == PD_OK && u < r->n; u++)
    if (counted(r, u) && r->depth[u] > gmax[gi[u]]) gmax[gi[u]] = r->depth[u];
  for (size_t k = 0; st == PD_OK && k < g.n; k++) off[k + 1] = off[k] + gmax[k] + 1;
  if (st == PD_OK) {
    size_t cells = off[g.n] ? off[g.n] : 1;
    users = calloc(cells, 8);
    purch = calloc(cells, 8);
    rev = calloc(cells, 8);
    if (!users || !purch || !rev) st = pd__error(PD_ERR_NOMEM, "out of memory");
  }
  for (uint32_t u = 0; st == PD_OK && u < r->n; u++) {
    if (!counted(r, u)) continue;
    size_t c = off[gi[u]] + r->depth[u];
    users[c]++;
    if (r->flags[u] & PD__REF_PURCHASER) purch[c]++;
    rev[c] += r->revenue[u];
  }
  if (st == PD_OK) {
    pd__table_add_col(t, "group", PD_TYPE_STRING);
    pd__table_add_col(t, "depth", PD_TYPE_INT64);
    pd__table_add_col(t, "users", PD_TYPE_INT64);
    pd__table_add_col(t, "purchasers", PD_TYPE_INT64);
    pd__table_add_col(t, "revenue", PD_TYPE_INT64);
    pd__table_add_col(t, "k_d", PD_TYPE_DOUBLE);
    pd__table_add_col(t, "beyond_cap", PD_TYPE_INT64);
    char buf[64];
    for (size_t k = 0; k < g.n; k++) {
      pd__referral_key_label(r, by, g.keys[k], buf, sizeof buf);
      for (uint32_t d = 0; d <= gmax[k]; d++) {
        size_t c = off[k] + d, row = pd__table_add_row(t);
        pd__table_set_string(t, row, 0, buf);
        pd__table_set_int64(t, row, 1, d);
        pd__table_set_int64(t, row, 2, (int64_t)users[c]);
        pd__table_set_int64(t, row, 3, (int64_t)purch[c]);
        pd__table_set_int64(t, row, 4, rev[c]);
        if (d < gmax[k]) pd__table_set_double(t, row, 5, ratio((double)users[c + 1], (double)users[c]));
        pd__table_set_int64(t, row, 6, d > (uint32_t)r->opts.max_depth);
      }
    }
  }
  free(gmax);
  free(off);
  free(users);
  free(purch);
  free(rev);
  free(gi);
  free(g.keys);
  return st;
}

static pd_status t_cycle_time(const pd_referral *r, pd_table *t) {
  static const double edges_h[] = {0, 1, 6, 24, 72, 168, 336, 720, 2160};
  static const char *const labels[] = {"< 1h", "1h-6h", "6h-1d", "1d-3d", "3d-7d", "7d-14d", "14d-30d", "30d-90d", ">= 90d"};
  const size_t nb = sizeof edges_h / sizeof *edges_h;
  pd__table_add_col(t, "bucket", PD_TYPE_STRING);
  pd__table_add_col(t, "from_h", PD_TYPE_DOUBLE);
  pd__table_add_col(t, "to_h", PD_TYPE_DOUBLE);
  pd__table_add_col(t, "referees", PD_TYPE_INT64);
  pd__table_add_col(t, "share", PD_TYPE_DOUBLE);
  size_t i = 0;
  for (size_t k = 0; k < nb; k++) {
    size_t from = i;
    double hi = k + 1 < nb ? edges_h[k + 1] * HOUR_MS : INFINITY;
    while (i < r->n_cycle_times && (double)r->cycle_times[i] < hi) i++;
    size_t row = pd__table_add_row(t);
    pd__table_set_string(t, row, 0, labels[k]);
    pd__table_set_double(t, row, 1, edges_h[k]);
    if (k + 1 < nb) pd__table_set_double(t, row, 2, edges_h[k + 1]);
    pd__table_set_int64(t, row, 3, (int64_t)(i - from));
    pd__table_set_double(t, row, 4, ratio((double)(i - from), (double)r->n_cycle_times));
  }
  return PD_OK;
}

/* Top `n` of the nodes accepted by `keep`, best first by `better`. */
typedef bool (*node_pred)(const pd_referral *r, uint32_t u);
typedef bool (*node_better)(const pd_referral *r, uint32_t a, uint32_t b);

static pd_status top_nodes(const pd_referral *r, size_t n, node_pred keep, node_better better, uint32_t **out, size_t *len) {
  uint32_t *top = malloc((n ? n : 1) * sizeof *top);
  if (!top) return pd__error(PD_ERR_NOMEM, "out of memory");
  size_t k = 0;
  for (uint32_t u = 0; u < r->n && n; u++) {
    if (!is_node(r, u) || !keep(r, u)) continue;
    if (k == n && !better(r, u, top[k - 1])) continue;
    size_t i = k < n ? k++ : k - 1; /* insertion into the sorted top list */
    while (i > 0 && better(r, u, top[i - 1])) {
      top[i] = top[i - 1];
      i--;
    }
    top[i] = u;
  }
  *out = top;
  *len = k;
  return PD_OK;
}

static bool has_referees(const pd_referral *r, uint32_t u) { return r->children[u] > 0 && counted(r, u); }
static bool is_root(const pd_referral *r, uint32_t u) { return r->parent[u] == PD_NONE && counted(r, u); }
static bool more_descendants(const pd_referral *r, uint32_t a, uint32_t b) {
  if (r->desc[a] != r->desc[b]) return r->desc[a] > r->desc[b];
  if (r->children[a] != r->children[b]) return r->children[a] > r->children[b];
  return a < b;
}
static bool bigger_tree(const pd_referral *r, uint32_t a, uint32_t b) {
  return r->desc[a] != r->desc[b] ? r->desc[a] > r->desc[b] : a < b;
}

static pd_status t_top(const pd_referral *r, pd_table *t) {
  uint32_t *top = NULL;
  size_t n = 0;
  pd_status st = top_nodes(r, r->opts.top_n, has_referees, more_descendants, &top, &n);
  if (st != PD_OK) return st;
  const char *cols[] = {"user", "name", "depth", "direct_referees", "descendants", "descendants_revenue", "root"};
  for (int i = 0; i < 7; i++) pd__table_add_col(t, cols[i], i == 1 ? PD_TYPE_STRING : PD_TYPE_INT64);
  for (size_t i = 0; i < n; i++) {
    uint32_t u = top[i];
    size_t row = pd__table_add_row(t);
    pd__table_set_int64(t, row, 0, u);
    set_name(t, row, 1, r, u);
    pd__table_set_int64(t, row, 2, r->depth[u]);
    pd__table_set_int64(t, row, 3, r->children[u]);
    pd__table_set_int64(t, row, 4, r->desc[u]);
    pd__table_set_int64(t, row, 5, r->desc_revenue[u]);
    pd__table_set_int64(t, row, 6, r->root[u]);
  }
  free(top);
  return PD_OK;
}

/* Structural virality (Goel et al. 2016): the mean distance over all pairs
 * of a tree's nodes. The distance sum (Wiener index) is the sum over edges
 * of s * (n - s), s = the size of the subtree below the edge, so one pass
 * over the nodes gives every tree's value exactly. */
static pd_status t_trees(const pd_referral *r, pd_table *t) {
  uint32_t *top = NULL;
  size_t n = 0;
  pd_status st = top_nodes(r, r->opts.top_n, is_root, bigger_tree, &top, &n);
  if (st != PD_OK) return st;
  /* slot[root] = its index in top + 1, so only the listed trees are summed. */
  uint32_t *slot = calloc(r->n ? r->n : 1, sizeof *slot);
  uint64_t *wiener = calloc(n ? n : 1, 8), *purch = calloc(n ? n : 1, 8);
  uint32_t *maxd = calloc(n ? n : 1, sizeof *maxd);
  if (!slot || !wiener || !purch || !maxd) st = pd__error(PD_ERR_NOMEM, "out of memory");
  for (size_t i = 0; st == PD_OK && i < n; i++) slot[top[i]] = (uint32_t)i + 1;
  for (uint32_t u = 0; st == PD_OK && n && u < r->n; u++) {
    if (!is_node(r, u) || !slot[r->root[u]]) continue;
    size_t i = slot[r->root[u]] - 1;
    uint64_t size = (uint64_t)r->desc[r->root[u]] + 1, s = (uint64_t)r->desc[u] + 1;
    if (u != r->root[u]) wiener[i] += s * (size - s);
    if (r->flags[u] & PD__REF_PURCHASER) purch[i]++;
    if (r->depth[u] > maxd[i]) maxd[i] = r->depth[u];
  }
  if (st == PD_OK) {
    const char *cols[] = {"root", "name", "users", "max_depth", "purchasers", "revenue"};
    for (int i = 0; i < 6; i++) pd__table_add_col(t, cols[i], i == 1 ? PD_TYPE_STRING : PD_TYPE_INT64);
    pd__table_add_col(t, "structural_virality", PD_TYPE_DOUBLE);
    for (size_t i = 0; i < n; i++) {
      uint32_t u = top[i];
      double size = (double)r->desc[u] + 1;
      size_t row = pd__table_add_row(t);
      pd__table_set_int64(t, row, 0, u);
      set_name(t, row, 1, r, u);
      pd__table_set_int64(t, row, 2, (int64_t)size);
      pd__table_set_int64(t, row, 3, maxd[i]);
      pd__table_set_int64(t, row, 4, (int64_t)purch[i]);
      pd__table_set_int64(t, row, 5, r->revenue[u] + r->desc_revenue[u]);
      if (size >= 2) pd__table_set_double(t, row, 6, (double)wiener[i] / (size * (size - 1) / 2));
    }
  }
  free(top);
  free(slot);
  free(wiener);
  free(purch);
  free(maxd);
  return st;
}

static pd_status t_beyond_cap(const pd_referral *r, pd_table *t) {
  const char *cols[] = {"user", "name", "depth", "referrer", "root", "revenue"};
  for (int i = 0; i < 6; i++) pd__table_add_col(t, cols[i], i == 1 ? PD_TYPE_STRING : PD_TYPE_INT64);
  for (uint32_t u = 0; u < r->n; u++) {
    if (!counted(r, u) || r->depth[u] <= (uint32_t)r->opts.max_depth) continue;
    size_t row = pd__table_add_row(t);
    pd__table_set_int64(t, row, 0, u);
    set_name(t, row, 1, r, u);
    pd__table_set_int64(t, row, 2, r->depth[u]);
    set_user(t, row, 3, r->parent[u]);
    pd__table_set_int64(t, row, 4, r->root[u]);
    pd__table_set_int64(t, row, 5, r->revenue[u]);
  }
  return PD_OK;
}

static pd_status t_cost(const pd_referral *r, pd_table *t) {
  cost_rows c;
  pd_status st = cost_compute(r, r->opts.by, &c);
  if (st != PD_OK) return st;
  pd__table_add_col(t, "group", PD_TYPE_STRING);
  const char *cols[] = {"days", "spend", "paid_users", "referred_users"};
  for (int i = 0; i < 4; i++) pd__table_add_col(t, cols[i], PD_TYPE_INT64);
  pd__table_add_col(t, "cac_paid", PD_TYPE_DOUBLE);
  pd__table_add_col(t, "cac_with_referral", PD_TYPE_DOUBLE);
  pd__table_add_col(t, "saving", PD_TYPE_DOUBLE);
  char buf[64];
  for (size_t i = 0; i < c.g.n; i++) {
    size_t row = pd__table_add_row(t);
    pd__referral_key_label(r, r->opts.by, c.g.keys[i], buf, sizeof buf);
    pd__table_set_string(t, row, 0, buf);
    pd__table_set_int64(t, row, 1, c.days[i]);
    pd__table_set_int64(t, row, 2, c.spend[i]);
    pd__table_set_int64(t, row, 3, (int64_t)c.paid[i]);
    pd__table_set_int64(t, row, 4, (int64_t)c.referred[i]);
    double paid = ratio((double)c.spend[i], (double)c.paid[i]);
    double with = ratio((double)c.spend[i], (double)(c.paid[i] + c.referred[i]));
    pd__table_set_double(t, row, 5, paid);
    pd__table_set_double(t, row, 6, with);
    pd__table_set_double(t, row, 7, paid > 0 ? 1.0 - with / paid : NAN);
  }
  cost_free(&c);
  return PD_OK;
}

static pd_status t_projection(const pd_referral *r, pd_table *t) {
  double seed = r->opts.projection_seed > 0 ? r->opts.projection_seed : r->summary[S_ROOTS];
  double k = r->summary[S_K];
  if (isnan(k)) k = 0;
  pd__table_add_col(t, "cycle", PD_TYPE_INT64);
  pd__table_add_col(t, "new_users", PD_TYPE_DOUBLE);
  pd__table_add_col(t, "total_users", PD_TYPE_DOUBLE);
  double gen = seed, total = 0;
  for (unsigned n = 0; n <= r->opts.projection_cycles; n++) {
    total += gen;
    size_t row = pd__table_add_row(t);
    pd__table_set_int64(t, row, 0, n);
    pd__table_set_double(t, row, 1, gen);
    pd__table_set_double(t, row, 2, total);
    gen *= k;
  }
  return PD_OK;
}

static pd_status t_issues(const pd_referral *r, pd_table *t) {
  const char *cols[] = {"kind", "user", "name", "referrer", "time", "detail"};
  for (int i = 0; i < 6; i++) pd__table_add_col(t, cols[i], i == 1 || i == 3 ? PD_TYPE_INT64 : PD_TYPE_STRING);
  char when[40];
  for (int k = 0; k < PD__ISSUE_KINDS; k++)
    for (size_t i = 0; i < r->n_issues[k]; i++) {
      const pd__ref_issue *x = &r->issues[k][i];
      size_t row = pd__table_add_row(t);
      pd__table_set_string(t, row, 0, issue_names[k]);
      pd__table_set_int64(t, row, 1, x->user);
      set_name(t, row, 2, r, x->user);
      set_user(t, row, 3, x->referrer);
      if (x->time != PD__REF_UNKNOWN_TIME) {
        pd__format_time_iso(x->time, when, sizeof when);
        pd__table_set_string(t, row, 4, when);
      }
      pd__table_set_string(t, row, 5, x->detail);
    }
  return PD_OK;
}

static pd_status t_forest(const pd_referral *r, pd_table *t) {
  const char *cols[] = {"user", "name", "referrer", "depth", "root", "direct_referees", "descendants", "revenue", "purchaser"};
  for (int i = 0; i < 9; i++) pd__table_add_col(t, cols[i], i == 1 ? PD_TYPE_STRING : PD_TYPE_INT64);
  for (uint32_t u = 0; u < r->n; u++) {
    if (!counted(r, u)) continue;
    size_t row = pd__table_add_row(t);
    pd__table_set_int64(t, row, 0, u);
    set_name(t, row, 1, r, u);
    set_user(t, row, 2, r->parent[u]);
    pd__table_set_int64(t, row, 3, r->depth[u]);
    pd__table_set_int64(t, row, 4, r->root[u]);
    pd__table_set_int64(t, row, 5, r->children[u]);
    pd__table_set_int64(t, row, 6, r->desc[u]);
    pd__table_set_int64(t, row, 7, r->revenue[u]);
    pd__table_set_int64(t, row, 8, !!(r->flags[u] & PD__REF_PURCHASER));
  }
  return PD_OK;
}

/* The largest tree breadth first (children by id), for a drawing. */
static pd_status t_largest_tree(const pd_referral *r, pd_table *t) {
  pd__table_add_col(t, "node", PD_TYPE_INT64);
  pd__table_add_col(t, "parent", PD_TYPE_INT64);
  pd__table_add_col(t, "label", PD_TYPE_STRING);
  pd__table_add_col(t, "depth", PD_TYPE_INT64);
  uint32_t *top = NULL;
  size_t n = 0;
  pd_status st = top_nodes(r, 1, is_root, bigger_tree, &top, &n);
  if (st != PD_OK || n == 0) {
    free(top);
    return st;
  }
  size_t limit = r->opts.tree_nodes ? r->opts.tree_nodes : 400, size = (size_t)r->desc[top[0]] + 1;
  if (limit > size) limit = size;
  /* Children lists (CSR) of the whole forest. */
  size_t *start = calloc((size_t)r->n + 1, sizeof *start);
  uint32_t *kids = malloc((r->n ? r->n : 1) * sizeof *kids), *queue = malloc(limit * sizeof *queue);
  if (!start || !kids || !queue) st = pd__error(PD_ERR_NOMEM, "out of memory");
  if (st == PD_OK) {
    for (uint32_t u = 0; u < r->n; u++) start[u + 1] = start[u] + r->children[u];
    for (uint32_t u = 0; u < r->n; u++)
      if (is_node(r, u) && r->parent[u] != PD_NONE) kids[start[r->parent[u]]++] = u;
    for (uint32_t u = r->n; u-- > 0;) start[u + 1] = start[u]; /* back to list starts */
    start[0] = 0;
    size_t head = 0, tail = 0;
    queue[tail++] = top[0];
    char buf[96];
    while (head < tail) {
      uint32_t u = queue[head++];
      size_t row = pd__table_add_row(t);
      pd__table_set_int64(t, row, 0, u);
      set_user(t, row, 1, r->parent[u]);
      const char *name = pd__referral_name(r, u);
      if (name) pd__table_set_string(t, row, 2, name);
      else {
        snprintf(buf, sizeof buf, "%" PRIu32, u);
        pd__table_set_string(t, row, 2, buf);
      }
      pd__table_set_int64(t, row, 3, r->depth[u]);
      for (size_t i = start[u]; i < start[u + 1] && tail < limit; i++) queue[tail++] = kids[i];
    }
  }
  free(top);
  free(start);
  free(kids);
  free(queue);
  return st;
}

pd_status pd_referral_table(const pd_referral *r, pd_referral_view view, pd_table **out) {
  if (!r || !out) return pd__error(PD_ERR_INVALID, "pd_referral_table: NULL argument");
  *out = NULL;
  static pd_status (*const make[PD_REFERRAL_VIEW_COUNT])(const pd_referral *, pd_table *) = {
      t_summary, t_groups, t_depth, t_cycle_time, t_top, t_trees, t_beyond_cap, t_cost,
      t_projection, t_issues, t_forest, t_largest_tree};
  if ((unsigned)view >= PD_REFERRAL_VIEW_COUNT) return pd__error(PD_ERR_INVALID, "referral: unknown view %d", (int)view);
  char name[32];
  snprintf(name, sizeof name, "referral_%s", pd_referral_view_name(view));
  pd_table *t = pd__table_new(name);
  if (!t) return pd__error(PD_ERR_NOMEM, "out of memory");
  pd_status st = make[view](r, t);
  if (st != PD_OK) {
    pd_table_free(t);
    return st;
  }
  return pd__table_finish(t, out);
}
