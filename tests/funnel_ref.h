/* A slow, literal reference implementation of the funnel definitions in
 * include/privdomain/funnel.h, for tests only. It shares no code with
 * lib/analysis/funnel.c: it lists every (event, step) match as an entry,
 * sorts entries by (time, step, event) with "no step" as step 0, and for
 * every attempt searches ALL chains of entries depth-first, keeping the
 * lexicographically first chain of maximal length. */
#ifndef FUNNEL_REF_H
#define FUNNEL_REF_H

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "privdomain.h"
#include "funnel_internal.h"
#include "tz.h"

typedef struct ref_attempt {
  size_t start;
  int level;
  int disq;
  int64_t t[PD_FUNNEL_MAX_STEPS];
} ref_attempt;

typedef struct ref_result {
  int level;
  int all_excluded;
  int64_t t[PD_FUNNEL_MAX_STEPS];
} ref_result;

typedef struct ref_entry {
  int64_t time;
  int step; /* 0 = matches no step */
  size_t ev;
} ref_entry;

static int ref_pred(const pd__funnel_spec_view *v, const pd_funnel_pred *q, const pd_user_events *e, size_t i) {
  if (q->event_type != PD_NONE && q->event_type != e->type[i]) return 0;
  if (q->touchpoint != PD_NONE && q->touchpoint != e->touchpoint[i]) return 0;
  if (q->domain >= 0) {
    uint32_t tp = e->touchpoint[i];
    if (tp == PD_NONE) return 0;
    int d = tp < v->n_domains ? v->domains[tp] : PD_DOMAIN_UNKNOWN;
    if (d != q->domain) return 0;
  }
  return e->amount[i] >= q->min_amount;
}

static int ref_entry_cmp(const void *a, const void *b) {
  const ref_entry *x = a, *y = b;
  if (x->time != y->time) return x->time < y->time ? -1 : 1;
  if (x->step != y->step) return x->step - y->step;
  return (x->ev > y->ev) - (x->ev < y->ev);
}

typedef struct ref_ctx {
  const pd__funnel_spec_view *v;
  const ref_entry *en;
  size_t ne;
  int64_t deadline;
  size_t chain[PD_FUNNEL_MAX_STEPS]; /* entry positions */
  size_t best[PD_FUNNEL_MAX_STEPS];
  int best_len;
} ref_ctx;

/* May the chain (of length len) continue with entry q? */
static int ref_can_extend(const ref_ctx *c, int len, size_t q) {
  const ref_entry *e = &c->en[q];
  size_t last = c->chain[len - 1];
  if (e->step != len + 1 || e->time > c->deadline || q <= last) return 0;
  switch (c->v->mode) {
  case PD_FUNNEL_STRICT_INCREASE:
    return e->time > c->en[last].time;
  case PD_FUNNEL_STRICT_ONCE:
    for (int j = 0; j < len; j++)
      if (c->en[c->chain[j]].ev == e->ev) return 0;
    return 1;
  case PD_FUNNEL_STRICT_ORDER:
    for (size_t g = last + 1; g < q; g++)
      if (c->en[g].step == 0 || c->en[g].step > len) return 0;
    return 1;
  case PD_FUNNEL_STRICT_DEDUPLICATION:
    for (size_t g = last + 1; g < q; g++)
      if (c->en[g].step >= 2 && c->en[g].step <= len + 1) return 0;
    return 1;
  default:
    return 1;
  }
}

/* Compares the chain's first len times with the best chain's. */
static int ref_prefix_cmp(const ref_ctx *c, int len) {
  for (int k = 0; k < len && k < c->best_len; k++) {
    int64_t a = c->en[c->chain[k]].time, b = c->en[c->best[k]].time;
    if (a != b) return a < b ? -1 : 1;
  }
  return 0;
}

/* Exhaustive search for the longest chain, ties broken by the
 * lexicographically smallest vector of match times. */
static void ref_dfs(ref_ctx *c, int len) {
  int cmp = ref_prefix_cmp(c, len);
  if (len > c->best_len || (len == c->best_len && cmp < 0)) {
    c->best_len = len;
    memcpy(c->best, c->chain, sizeof c->chain);
    cmp = 0;
  }
  if (len == (int)c->v->n_steps) return;
  if (c->best_len == (int)c->v->n_steps && cmp > 0) return; /* cannot win any more */
  for (size_t q = c->chain[len - 1] + 1; q < c->ne && c->en[q].time <= c->deadline; q++) {
    if (!ref_can_extend(c, len, q)) continue;
    c->chain[len] = q;
    ref_dfs(c, len + 1);
  }
}

/* Whether exclusions disqualify an attempt with this level and times,
 * alive until `alive_until` (inclusive). */
static int ref_disqualified(const pd__funnel_spec_view *v, const pd_user_events *e, int level, const int64_t *t,
                            int64_t alive_until) {
  for (unsigned x = 0; x < v->n_excl; x++) {
    int i = (int)v->excl_from[x], j = (int)v->excl_to[x];
    if (level < i) continue;
    for (size_t k = 0; k < e->n; k++) {
      if (!ref_pred(v, v->excl[x], e, k)) continue;
      int64_t tk = e->time[k];
      if (tk > t[i - 1] && tk <= alive_until && (level < j || tk < t[j - 1])) return 1;
    }
  }
  return 0;
}

/* Every attempt of the user; returns their number (caller frees *out). */
static size_t ref_attempts(const pd_funnel_spec *spec, const pd_user_events *e, ref_attempt **out) {
  pd__funnel_spec_view v;
  pd__funnel_spec_get_view(spec, &v);
  const int n = (int)v.n_steps;
  ref_attempt *at = calloc(e->n + 1, sizeof *at);
  size_t na = 0;
  ck_assert_ptr_nonnull(at);
  if (v.mode == PD_FUNNEL_UNORDERED) {
    for (size_t i = 0; i < e->n; i++) {
      int any = 0;
      for (int k = 0; k < n; k++) any |= ref_pred(&v, v.steps[k], e, i);
      if (!any || (i > 0 && e->time[i - 1] == e->time[i] && na && e->time[at[na - 1].start] == e->time[i])) continue;
      int64_t s = e->time[i], deadline = s + v.window;
      int64_t first[PD_FUNNEL_MAX_STEPS];
      int reached = 0;
      for (int k = 0; k < n; k++) {
        first[k] = INT64_MAX;
        for (size_t j = 0; j < e->n; j++)
          if (e->time[j] >= s && e->time[j] <= deadline && ref_pred(&v, v.steps[k], e, j)) {
            first[k] = e->time[j];
            reached++;
            break;
          }
      }
      /* sort the first-reach instants: the k-th is rank k */
      for (int a = 0; a < n; a++)
        for (int b = a + 1; b < n; b++)
          if (first[b] < first[a]) {
            int64_t tmp = first[a];
            first[a] = first[b];
            first[b] = tmp;
          }
      ref_attempt *r = &at[na++];
      r->start = i;
      r->level = reached;
      memcpy(r->t, first, sizeof first);
      r->disq = ref_disqualified(&v, e, reached, r->t, reached == n ? r->t[n - 1] : deadline);
    }
    *out = at;
    return na;
  }
  ref_entry *en = malloc((e->n * (size_t)(n + 1) + 1) * sizeof *en);
  ck_assert_ptr_nonnull(en);
  size_t ne = 0;
  for (size_t i = 0; i < e->n; i++) {
    int any = 0;
    for (int k = 0; k < n; k++)
      if (ref_pred(&v, v.steps[k], e, i)) {
        en[ne++] = (ref_entry){e->time[i], k + 1, i};
        any = 1;
      }
    if (!any) en[ne++] = (ref_entry){e->time[i], 0, i};
  }
  qsort(en, ne, sizeof *en, ref_entry_cmp);
  for (size_t p = 0; p < ne; p++) {
    if (en[p].step != 1) continue;
    ref_ctx c = {&v, en, ne, en[p].time + v.window, {0}, {0}, 0};
    c.chain[0] = p;
    ref_dfs(&c, 1);
    ref_attempt *r = &at[na++];
    r->start = en[p].ev;
    r->level = c.best_len;
    for (int k = 0; k < c.best_len; k++) r->t[k] = en[c.best[k]].time;
    int64_t alive = c.deadline;
    if (r->level == n) {
      alive = r->t[n - 1];
    } else if (v.mode == PD_FUNNEL_STRICT_ORDER || v.mode == PD_FUNNEL_STRICT_DEDUPLICATION) {
      int L = r->level;
      for (size_t g = c.best[L - 1] + 1; g < ne && en[g].time <= c.deadline; g++) {
        int st = en[g].step;
        int stops = v.mode == PD_FUNNEL_STRICT_ORDER ? (st == 0 || st > L + 1) : (st >= 2 && st <= L);
        if (stops) {
          alive = en[g].time;
          break;
        }
      }
    }
    r->disq = ref_disqualified(&v, e, r->level, r->t, alive);
  }
  free(en);
  *out = at;
  return na;
}

/* The user's result ignoring breakdowns. */
static void ref_eval_user(const pd_funnel_spec *spec, const uint8_t *unused_domains, size_t unused_n,
                          const pd_user_events *e, ref_result *out) {
  (void)unused_domains;
  (void)unused_n;
  ref_attempt *at = NULL;
  size_t na = ref_attempts(spec, e, &at);
  memset(out, 0, sizeof *out);
  int best = -1;
  for (size_t a = 0; a < na; a++)
    if (!at[a].disq && (best < 0 || at[a].level > at[best].level)) best = (int)a;
  if (best >= 0) {
    out->level = at[best].level;
    memcpy(out->t, at[best].t, sizeof out->t);
  } else {
    out->all_excluded = na > 0;
  }
  free(at);
}

/* ---- generated users ------------------------------------------------------- */

static uint64_t ref_rng(uint64_t *s) { /* splitmix64 */
  uint64_t z = (*s += UINT64_C(0x9e3779b97f4a7c15));
  z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
  z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
  return z ^ (z >> 31);
}

typedef struct ref_user {
  pd_user_events ev;
  int64_t time[64], amount[64];
  uint16_t type[64];
  uint32_t tp[64], ref[64];
} ref_user;

#define REF_HOUR INT64_C(3600000)
#define REF_T0 INT64_C(1709251200000) /* 2024-03-01 UTC */

/* A user with 0..40 events over ~12 days, hour-granular (many ties). */
static void ref_gen_user(uint64_t *rng, uint32_t id, ref_user *u) {
  static const uint16_t types[] = {PD_EV_ACQUIRE, PD_EV_VISIT,  PD_EV_VISIT,  PD_EV_VISIT, PD_EV_PURCHASE,
                                   PD_EV_PURCHASE, PD_EV_INVITE, PD_EV_REFUND, PD_EV_MESSAGE_OPEN};
  size_t n = 1 + ref_rng(rng) % 40;
  int64_t t = REF_T0 + (int64_t)(ref_rng(rng) % 72) * REF_HOUR;
  for (size_t i = 0; i < n; i++) {
    uint64_t r = ref_rng(rng);
    if (r % 3) t += (int64_t)(r >> 8 & 15) * REF_HOUR; /* a third of events tie with the previous */
    u->time[i] = t;
    u->type[i] = types[(r >> 16) % (sizeof types / sizeof types[0])];
    u->tp[i] = (r >> 24) % 6 == 5 ? PD_NONE : (uint32_t)((r >> 24) % 6);
    u->amount[i] = u->type[i] == PD_EV_PURCHASE ? (int64_t)((r >> 32) % 10000) : 0;
    u->ref[i] = PD_NONE;
  }
  u->ev = (pd_user_events){id, n, u->time, u->type, u->tp, u->ref, u->amount};
}

/* visit -> purchase -> any event worth >= 50.00 -> invite from the private
 * domain, 3 days; optionally refunds between steps 2 and 4 disqualify. */
static pd_funnel_spec *ref_bench_spec(pd_funnel_mode mode, int with_excl) {
  pd_funnel_spec *s = NULL;
  ck_assert_int_eq(pd_funnel_spec_new(&s), PD_OK);
  pd_funnel_pred q = PD_FUNNEL_PRED_INIT;
  q.event_type = PD_EV_VISIT;
  pd_funnel_spec_add_step(s, &q, "visit");
  q.event_type = PD_EV_PURCHASE;
  pd_funnel_spec_add_step(s, &q, "purchase");
  q.event_type = PD_NONE;
  q.min_amount = 5000;
  pd_funnel_spec_add_step(s, &q, "big");
  q = (pd_funnel_pred)PD_FUNNEL_PRED_INIT;
  q.event_type = PD_EV_INVITE;
  q.domain = PD_DOMAIN_PRIVATE;
  pd_funnel_spec_add_step(s, &q, "invite");
  if (with_excl) {
    q = (pd_funnel_pred)PD_FUNNEL_PRED_INIT;
    q.event_type = PD_EV_REFUND;
    ck_assert_int_eq(pd_funnel_spec_add_exclusion(s, &q, 2, 4), PD_OK);
  }
  uint8_t dom[6] = {PD_DOMAIN_PUBLIC, PD_DOMAIN_PRIVATE, PD_DOMAIN_PRIVATE, PD_DOMAIN_SEMI, PD_DOMAIN_PRIVATE,
                    PD_DOMAIN_UNKNOWN};
  pd_funnel_spec_set_domains(s, dom, 6);
  pd_funnel_spec_set_window(s, 72 * REF_HOUR);
  pd_funnel_spec_set_mode(s, mode);
  return s;
}

static int ref_cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

/* The table's counts and time statistics equal those computed here from
 * per-user reference results (times[k] are unsorted per-user times). */
static void ref_check_table(const pd_table *t, int n, const uint64_t *reached, uint64_t excluded, int64_t **times) {
  ck_assert_int_eq(pd_table_n_rows(t), (size_t)n);
  long c_users = pd_table_col_index(t, "users"), c_mean = pd_table_col_index(t, "time_mean_ms"),
       c_med = pd_table_col_index(t, "time_median_ms"), c_p90 = pd_table_col_index(t, "time_p90_ms"),
       c_ex = pd_table_col_index(t, "excluded");
  for (int k = 0; k < n; k++) {
    ck_assert_int_eq(pd_table_get_int64(t, (size_t)k, (size_t)c_users), (int64_t)reached[k]);
    ck_assert_int_eq(pd_table_get_int64(t, (size_t)k, (size_t)c_ex), (int64_t)excluded);
    if (k == 0 || reached[k] == 0) continue;
    size_t m = reached[k];
    qsort(times[k], m, sizeof(int64_t), ref_cmp_i64);
    double sum = 0;
    for (size_t i = 0; i < m; i++) sum += (double)times[k][i];
    double med = m % 2 ? (double)times[k][m / 2] : ((double)times[k][m / 2 - 1] + (double)times[k][m / 2]) / 2;
    double h = 0.9 * (double)(m - 1);
    size_t lo = (size_t)floor(h);
    double p90 = lo + 1 < m ? times[k][lo] + (h - (double)lo) * (double)(times[k][lo + 1] - times[k][lo]) : (double)times[k][lo];
    ck_assert_double_eq_tol(pd_table_get_double(t, (size_t)k, (size_t)c_mean), sum / (double)m, 1e-6);
    ck_assert_double_eq_tol(pd_table_get_double(t, (size_t)k, (size_t)c_med), med, 1e-6);
    ck_assert_double_eq_tol(pd_table_get_double(t, (size_t)k, (size_t)c_p90), p90, 1e-6);
  }
}

/* Per user: fast and reference agree on level, exclusion and times; then
 * per step over all users: counts, mean, median, p90 of the table agree
 * with values computed here from the reference's per-user times. */
static void ref_agree_generated(const pd_funnel_spec *spec, uint32_t n_users, uint64_t seed) {
  pd__funnel_spec_view v;
  pd__funnel_spec_get_view(spec, &v);
  const int n = (int)v.n_steps;
  pd_funnel_partial *parts[3] = {NULL, NULL, NULL}, *probe = NULL;
  for (int w = 0; w < 3; w++) ck_assert_int_eq(pd_funnel_partial_new(spec, &parts[w]), PD_OK);
  ck_assert_int_eq(pd_funnel_partial_new(spec, &probe), PD_OK);
  uint64_t reached[PD_FUNNEL_MAX_STEPS] = {0}, excluded = 0;
  int64_t *times[PD_FUNNEL_MAX_STEPS];
  for (int k = 0; k < n; k++) times[k] = malloc(n_users * sizeof(int64_t));
  static ref_user u;
  uint64_t rng = seed;
  int levels_seen[PD_FUNNEL_MAX_STEPS + 1] = {0};
  for (uint32_t id = 0; id < n_users; id++) {
    ref_gen_user(&rng, id, &u);
    ref_result rr;
    ref_eval_user(spec, NULL, 0, &u.ev, &rr);
    pd__funnel_attempt a;
    bool ex = false;
    int lv = pd__funnel_eval_user(probe, &u.ev, &a, &ex);
    ck_assert_msg(lv == rr.level && ex == (bool)rr.all_excluded, "mode %s user %u: fast %d/%d reference %d/%d",
                  pd_funnel_mode_name(v.mode), id, lv, ex, rr.level, rr.all_excluded);
    for (int k = 0; k < lv; k++)
      ck_assert_msg(a.t[k] == rr.t[k], "mode %s user %u step %d: fast %lld reference %lld", pd_funnel_mode_name(v.mode),
                    id, k + 1, (long long)a.t[k], (long long)rr.t[k]);
    levels_seen[rr.level]++;
    excluded += rr.all_excluded;
    for (int k = 0; k < rr.level; k++) {
      if (k) times[k][reached[k]] = rr.t[k] - rr.t[k - 1];
      reached[k]++;
    }
    ck_assert_int_eq(pd_funnel_partial_add(parts[id % 3], &u.ev), PD_OK);
  }
  /* the generated data must exercise every level, else the test proves little */
  for (int k = 0; k <= n; k++) ck_assert_msg(levels_seen[k] > 0, "mode %s: no user at level %d", pd_funnel_mode_name(v.mode), k);
  if (v.n_excl) ck_assert_uint_gt(excluded, 0);
  ck_assert_int_eq(pd_funnel_partial_merge(parts[0], parts[1]), PD_OK);
  ck_assert_int_eq(pd_funnel_partial_merge(parts[0], parts[2]), PD_OK);
  pd_table *t = NULL;
  ck_assert_int_eq(pd__funnel_finish(parts[0], NULL, NULL, &t), PD_OK);
  ref_check_table(t, n, reached, excluded, times);
  pd_table_free(t);
  for (int k = 0; k < n; k++) free(times[k]);
  for (int w = 0; w < 3; w++) pd_funnel_partial_free(parts[w]);
  pd_funnel_partial_free(probe);
}

#endif
