/* Members vs non-members, stored-value users vs others, and before vs
 * after joining; see include/privdomain/membership.h for the definitions. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pd_internal.h"
#include "privdomain/membership.h"
#include "privdomain/scan.h"
#include "store_internal.h"

#define DAY_MS 86400000.0

/* Group sums; observed days come out as users x end - sum of first days. */
typedef struct grp {
  int64_t users, buyers, repurchasers, purchases, revenue;
  double first_days; /* sum of first-event times, in days */
} grp;

/* One joiner: enough to split their history at J once `end` is known. */
typedef struct joiner {
  int64_t first, join;
  int64_t n_before, rev_before, n_after, rev_after;
} joiner;

typedef struct jvec {
  joiner *v;
  size_t n, cap;
} jvec;

typedef struct worker {
  grp g[4]; /* members, non-members, stored-value users, others */
  jvec j[2]; /* members, stored-value users */
  int64_t max_time;
  int oom;
} worker;

typedef struct ctx {
  int64_t end; /* inclusive; INT64_MAX when not given */
  uint32_t type[2];
  worker *w;
} ctx;

static int push(jvec *v, const joiner *j) {
  if (v->n == v->cap) {
    size_t cap = v->cap ? 2 * v->cap : 256;
    joiner *nv = realloc(v->v, cap * sizeof *nv);
    if (!nv) return -1;
    v->v = nv, v->cap = cap;
  }
  v->v[v->n++] = *j;
  return 0;
}

static void add_group(grp *g, int64_t first, int64_t purchases, int64_t revenue) {
  g->users++;
  g->buyers += purchases >= 1;
  g->repurchasers += purchases >= 2;
  g->purchases += purchases;
  g->revenue += revenue;
  g->first_days += (double)first / DAY_MS;
}

static int scan_user(void *vc, unsigned wi, const pd_user_events *ev) {
  ctx *c = vc;
  worker *w = &c->w[wi];
  if (ev->time[0] > c->end) return 0;
  int64_t first = ev->time[0], join[2] = {INT64_MAX, INT64_MAX}, purchases = 0, revenue = 0, last = first;
  size_t n = 0;
  for (; n < ev->n && ev->time[n] <= c->end; n++) /* J: the first joining event of each kind */
    for (int k = 0; k < 2; k++)
      if (join[k] == INT64_MAX && ev->type[n] == c->type[k]) join[k] = ev->time[n];
  last = ev->time[n - 1];
  joiner jj[2];
  memset(jj, 0, sizeof jj);
  for (size_t i = 0; i < n; i++) {
    uint16_t ty = ev->type[i];
    int64_t amount;
    if (ty == PD_EV_PURCHASE) {
      purchases++;
      amount = ev->amount[i];
    } else if (ty == PD_EV_REFUND) {
      amount = -llabs(ev->amount[i]);
    } else {
      continue;
    }
    revenue += amount;
    for (int k = 0; k < 2; k++) {
      if (ev->time[i] >= join[k]) { /* at or after J, whatever the insertion order at J */
        jj[k].n_after += ty == PD_EV_PURCHASE, jj[k].rev_after += amount;
      } else {
        jj[k].n_before += ty == PD_EV_PURCHASE, jj[k].rev_before += amount;
      }
    }
  }
  if (last > w->max_time) w->max_time = last;
  add_group(&w->g[join[0] != INT64_MAX ? 0 : 1], first, purchases, revenue);
  add_group(&w->g[join[1] != INT64_MAX ? 2 : 3], first, purchases, revenue);
  for (int k = 0; k < 2; k++) {
    if (join[k] == INT64_MAX) continue;
    jj[k].first = first, jj[k].join = join[k];
    if (push(&w->j[k], &jj[k])) {
      w->oom = 1;
      return 1;
    }
  }
  return 0;
}

static void set_ratio(pd_table *t, size_t row, size_t col, double num, double den) {
  if (den != 0) pd__table_set_double(t, row, col, num / den);
}

static pd_table *groups_table(const grp *g, int64_t end) {
  static const char *const names[4] = {"members", "non-members", "stored-value users", "others"};
  pd_table *t = pd__table_new("membership_groups");
  size_t c_cmp = pd__table_add_col(t, "comparison", PD_TYPE_STRING), c_g = pd__table_add_col(t, "group", PD_TYPE_STRING),
         c_u = pd__table_add_col(t, "users", PD_TYPE_INT64), c_b = pd__table_add_col(t, "buyers", PD_TYPE_INT64),
         c_br = pd__table_add_col(t, "buyer_rate", PD_TYPE_DOUBLE),
         c_rp = pd__table_add_col(t, "repurchasers", PD_TYPE_INT64),
         c_rr = pd__table_add_col(t, "repurchase_rate", PD_TYPE_DOUBLE),
         c_p = pd__table_add_col(t, "purchases", PD_TYPE_INT64),
         c_pb = pd__table_add_col(t, "purchases_per_buyer", PD_TYPE_DOUBLE),
         c_p30 = pd__table_add_col(t, "purchases_per_30d", PD_TYPE_DOUBLE),
         c_rev = pd__table_add_col(t, "revenue", PD_TYPE_INT64),
         c_ru = pd__table_add_col(t, "revenue_per_user", PD_TYPE_DOUBLE),
         c_rb = pd__table_add_col(t, "revenue_per_buyer", PD_TYPE_DOUBLE);
  for (int k = 0; k < 4; k++) {
    const grp *x = &g[k];
    size_t r = pd__table_add_row(t);
    pd__table_set_string(t, r, c_cmp, k < 2 ? "membership" : "stored_value");
    pd__table_set_string(t, r, c_g, names[k]);
    pd__table_set_int64(t, r, c_u, x->users);
    pd__table_set_int64(t, r, c_b, x->buyers);
    set_ratio(t, r, c_br, (double)x->buyers, (double)x->users);
    pd__table_set_int64(t, r, c_rp, x->repurchasers);
    set_ratio(t, r, c_rr, (double)x->repurchasers, (double)x->buyers);
    pd__table_set_int64(t, r, c_p, x->purchases);
    set_ratio(t, r, c_pb, (double)x->purchases, (double)x->buyers);
    double days = (double)x->users * ((double)end / DAY_MS) - x->first_days;
    if (x->users && days > 0) pd__table_set_double(t, r, c_p30, 30.0 * (double)x->purchases / days);
    pd__table_set_int64(t, r, c_rev, x->revenue);
    set_ratio(t, r, c_ru, (double)x->revenue, (double)x->users);
    set_ratio(t, r, c_rb, (double)x->revenue, (double)x->buyers);
  }
  return t;
}

typedef struct side {
  int64_t users, purchases, revenue, buyers;
  double days, user_p30, user_r30;
} side;

static pd_table *before_after_table(worker *ws, unsigned nw, int64_t end, double min_days) {
  pd_table *t = pd__table_new("membership_before_after");
  size_t c_g = pd__table_add_col(t, "group", PD_TYPE_STRING), c_per = pd__table_add_col(t, "period", PD_TYPE_STRING),
         c_u = pd__table_add_col(t, "users", PD_TYPE_INT64), c_x = pd__table_add_col(t, "excluded", PD_TYPE_INT64),
         c_d = pd__table_add_col(t, "observed_days", PD_TYPE_DOUBLE),
         c_p = pd__table_add_col(t, "purchases", PD_TYPE_INT64), c_rev = pd__table_add_col(t, "revenue", PD_TYPE_INT64),
         c_b = pd__table_add_col(t, "buyers", PD_TYPE_INT64), c_br = pd__table_add_col(t, "buyer_rate", PD_TYPE_DOUBLE),
         c_p30 = pd__table_add_col(t, "purchases_per_30d", PD_TYPE_DOUBLE),
         c_r30 = pd__table_add_col(t, "revenue_per_30d", PD_TYPE_DOUBLE),
         c_up = pd__table_add_col(t, "mean_user_purchases_per_30d", PD_TYPE_DOUBLE),
         c_ur = pd__table_add_col(t, "mean_user_revenue_per_30d", PD_TYPE_DOUBLE);
  static const char *const names[2] = {"members", "stored-value users"};
  for (int k = 0; k < 2; k++) {
    side s[2];
    memset(s, 0, sizeof s);
    int64_t excluded = 0;
    for (unsigned w = 0; w < nw; w++)
      for (size_t i = 0; i < ws[w].j[k].n; i++) {
        const joiner *j = &ws[w].j[k].v[i];
        double d[2] = {(double)(j->join - j->first) / DAY_MS, (double)(end - j->join) / DAY_MS};
        if (!(d[0] >= min_days && d[0] > 0 && d[1] >= min_days && d[1] > 0)) {
          excluded++;
          continue;
        }
        int64_t n[2] = {j->n_before, j->n_after}, rev[2] = {j->rev_before, j->rev_after};
        for (int p = 0; p < 2; p++) {
          s[p].users++;
          s[p].purchases += n[p];
          s[p].revenue += rev[p];
          s[p].buyers += n[p] > 0;
          s[p].days += d[p];
          s[p].user_p30 += 30.0 * (double)n[p] / d[p];
          s[p].user_r30 += 30.0 * (double)rev[p] / d[p];
        }
      }
    for (int p = 0; p < 2; p++) {
      size_t r = pd__table_add_row(t);
      pd__table_set_string(t, r, c_g, names[k]);
      pd__table_set_string(t, r, c_per, p ? "after" : "before");
      pd__table_set_int64(t, r, c_u, s[p].users);
      pd__table_set_int64(t, r, c_x, excluded);
      pd__table_set_double(t, r, c_d, s[p].days);
      pd__table_set_int64(t, r, c_p, s[p].purchases);
      pd__table_set_int64(t, r, c_rev, s[p].revenue);
      pd__table_set_int64(t, r, c_b, s[p].buyers);
      set_ratio(t, r, c_br, (double)s[p].buyers, (double)s[p].users);
      set_ratio(t, r, c_p30, 30.0 * (double)s[p].purchases, s[p].days);
      set_ratio(t, r, c_r30, 30.0 * (double)s[p].revenue, s[p].days);
      set_ratio(t, r, c_up, s[p].user_p30, (double)s[p].users);
      set_ratio(t, r, c_ur, s[p].user_r30, (double)s[p].users);
    }
  }
  return t;
}

pd_status pd_membership_compare(pd_store *store, const pd_membership_options *opts, pd_table **groups,
                                pd_table **before_after) {
  if (groups) *groups = NULL;
  if (before_after) *before_after = NULL;
  if (!store) return pd__error(PD_ERR_INVALID, "membership: store is NULL");
  pd_membership_options def = PD_MEMBERSHIP_OPTIONS_INIT;
  if (!opts) opts = &def;
  if (opts->size < offsetof(pd_membership_options, users))
    return pd__error(PD_ERR_INVALID, "membership: options size not set (use PD_MEMBERSHIP_OPTIONS_INIT)");
  if (!(opts->min_days >= 0 && isfinite(opts->min_days)))
    return pd__error(PD_ERR_INVALID, "membership: min_days must be >= 0");
  if (opts->member_type > UINT16_MAX || opts->stored_value_type > UINT16_MAX)
    return pd__error(PD_ERR_INVALID, "membership: event type out of range");
  pd_scan_options so = PD_SCAN_OPTIONS_INIT;
  so.threads = opts->threads;
  so.users = opts->size >= sizeof *opts ? opts->users : NULL; /* older callers: no filter */
  unsigned nw = pd_scan_workers(&so);
  ctx c = {opts->end == PD_MEMBERSHIP_NO_TIME ? INT64_MAX : opts->end, {opts->member_type, opts->stored_value_type},
           calloc(nw, sizeof(worker))};
  if (!c.w) return pd__error(PD_ERR_NOMEM, "membership: out of memory");
  for (unsigned i = 0; i < nw; i++) c.w[i].max_time = INT64_MIN;
  pd_status st = pd_scan(store, &so, scan_user, &c);
  grp g[4];
  memset(g, 0, sizeof g);
  int64_t max_time = INT64_MIN;
  for (unsigned i = 0; i < nw; i++) {
    if (c.w[i].oom) st = pd__error(PD_ERR_NOMEM, "membership: out of memory");
    if (c.w[i].max_time > max_time) max_time = c.w[i].max_time;
    for (int k = 0; k < 4; k++) {
      g[k].users += c.w[i].g[k].users, g[k].buyers += c.w[i].g[k].buyers;
      g[k].repurchasers += c.w[i].g[k].repurchasers, g[k].purchases += c.w[i].g[k].purchases;
      g[k].revenue += c.w[i].g[k].revenue, g[k].first_days += c.w[i].g[k].first_days;
    }
  }
  if (so.users && opts->end == PD_MEMBERSHIP_NO_TIME) { /* a segment is observed as long as the store */
    int64_t lo;
    pd__store_time_range(store, &lo, &max_time);
  }
  int64_t end = opts->end != PD_MEMBERSHIP_NO_TIME ? opts->end : max_time;
  if (st == PD_OK && groups) st = pd__table_finish(groups_table(g, end), groups);
  if (st == PD_OK && before_after) {
    st = pd__table_finish(before_after_table(c.w, nw, end, opts->min_days), before_after);
    if (st != PD_OK && groups) pd_table_free(*groups), *groups = NULL;
  }
  for (unsigned i = 0; i < nw; i++) free(c.w[i].j[0].v), free(c.w[i].j[1].v);
  free(c.w);
  return st;
}
