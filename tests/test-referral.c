/* Referral analytics: hand-built forests (chains past the cap, cycles,
 * self-referrals, conflicting attributions, early sign-ups, referrers
 * without events, bushy trees), partial merges, cost and projection; then
 * store-level runs and agreement with a recursive CTE in sqlite3. */
#include <math.h>
#include <stdio.h>

#include "testutil.h"

#define H INT64_C(3600000)
#define D (24 * H)
#define T0 INT64_C(1709251200000) /* 2024-03-01T00:00:00Z */
#define NO PD_NONE

typedef struct ev {
  int64_t t;
  uint16_t type;
  uint32_t tp, ref;
  int64_t amount;
} ev;

static void add(pd_referral_builder *b, uint32_t user, const ev *e, size_t n) {
  int64_t *time = malloc(n * sizeof *time), *amount = malloc(n * sizeof *amount);
  uint16_t *type = malloc(n * sizeof *type);
  uint32_t *tp = malloc(n * sizeof *tp), *ref = malloc(n * sizeof *ref);
  for (size_t i = 0; i < n; i++) {
    time[i] = e[i].t;
    type[i] = e[i].type;
    tp[i] = e[i].tp;
    ref[i] = e[i].ref;
    amount[i] = e[i].amount;
  }
  pd_user_events ue = {user, n, time, type, tp, ref, amount};
  PD_CHECK(pd_referral_builder_add(b, &ue));
  free(time);
  free(amount);
  free(type);
  free(tp);
  free(ref);
}
#define ADD(b, u, ...)                                  \
  do {                                                  \
    const ev e_[] = {__VA_ARGS__};                      \
    add((b), (u), e_, sizeof e_ / sizeof *e_);          \
  } while (0)
/* Event shorthands: time, touchpoint, referrer, amount. */
#define ACQ(t, tp) {(t), PD_EV_ACQUIRE, (tp), NO, 0}
#define ACQ_REF(t, tp, r) {(t), PD_EV_ACQUIRE, (tp), (r), 0}
#define SIGNUP(t, r) {(t), PD_EV_REFERRAL_SIGNUP, 0, (r), 0}
#define INVITE(t) {(t), PD_EV_INVITE, 0, NO, 0}
#define BUY(t, a) {(t), PD_EV_PURCHASE, 0, NO, (a)}
#define REFUND(t, a) {(t), PD_EV_REFUND, 0, NO, (a)}
#define VISIT(t) {(t), PD_EV_VISIT, 0, NO, 0}

static pd_referral_builder *builder(const pd_referral_options *o) {
  pd_referral_builder *b = NULL;
  PD_CHECK(pd_referral_builder_new(o, &b));
  return b;
}

static pd_referral *finish(pd_referral_builder *b, const pd_touchpoint_def *tps, size_t n) {
  pd_referral *r = NULL;
  PD_CHECK(pd_referral_builder_finish(b, tps, n, &r));
  pd_referral_builder_free(b);
  return r;
}

static double metric(const pd_referral *r, const char *name) {
  double v;
  PD_CHECK(pd_referral_metric(r, name, &v));
  return v;
}

static pd_referral_user_info info(const pd_referral *r, uint32_t u) {
  pd_referral_user_info x;
  memset(&x, 0, sizeof x);
  x.size = sizeof x;
  PD_CHECK(pd_referral_user(r, u, &x));
  return x;
}

static pd_table *view(const pd_referral *r, pd_referral_view v) {
  pd_table *t = NULL;
  PD_CHECK(pd_referral_table(r, v, &t));
  return t;
}

static size_t col(const pd_table *t, const char *name) {
  long c = pd_table_col_index(t, name);
  ck_assert_msg(c >= 0, "table %s has no column %s", pd_table_name(t), name);
  return (size_t)c;
}

static int64_t geti(const pd_table *t, size_t row, const char *name) { return pd_table_get_int64(t, row, col(t, name)); }
static double getd(const pd_table *t, size_t row, const char *name) { return pd_table_get_double(t, row, col(t, name)); }
static const char *gets(const pd_table *t, size_t row, const char *name) { return pd_table_get_string(t, row, col(t, name)); }
static int isnull(const pd_table *t, size_t row, const char *name) { return pd_table_is_null(t, row, col(t, name)); }

static void close_to(double a, double b, const char *what) {
  ck_assert_msg(fabs(a - b) < 1e-9 * (1 + fabs(b)), "%s = %.12g, expected %.12g", what, a, b);
}
#define ck_close(a, b) close_to((double)(a), (double)(b), #a)

/* The small forest worked by hand in the header comment of each check:
 *   0 (tp0) -> 1 -> 3 -> 4        5 (tp1)
 *           -> 2
 * (arrows point at referees). */
static pd_referral *small_forest(const pd_referral_options *o) {
  pd_referral_builder *b = builder(o);
  ADD(b, 0, ACQ(T0, 0), INVITE(T0 + H), INVITE(T0 + H), INVITE(T0 + 20 * H), BUY(T0 + 3 * H, 1000));
  ADD(b, 1, ACQ_REF(T0 + 2 * H, 2, 0), SIGNUP(T0 + 2 * H, 0), INVITE(T0 + 30 * H), BUY(T0 + 5 * H, 500),
      REFUND(T0 + 6 * H, 100));
  ADD(b, 2, SIGNUP(T0 + D, 0));
  ADD(b, 3, VISIT(T0 + D), SIGNUP(T0 + 2 * D, 1), INVITE(T0 + 2 * D + H), BUY(T0 + 3 * D, 700));
  ADD(b, 4, SIGNUP(T0 + 3 * D, 3), BUY(T0 + 4 * D, 50));
  ADD(b, 5, ACQ(T0 + 5 * D, 1));
  return finish(b, NULL, 0);
}

START_TEST(hand_worked_forest) {
  pd_referral *r = small_forest(NULL);
  const uint32_t depth[] = {0, 1, 1, 2, 3, 0}, root[] = {0, 0, 0, 0, 0, 5};
  const uint32_t direct[] = {2, 1, 0, 1, 0, 0}, desc[] = {4, 2, 0, 1, 0, 0};
  for (uint32_t u = 0; u < 6; u++) {
    pd_referral_user_info x = info(r, u);
    ck_assert_uint_eq(x.depth, depth[u]);
    ck_assert_uint_eq(x.root, root[u]);
    ck_assert_uint_eq(x.direct_referees, direct[u]);
    ck_assert_uint_eq(x.descendants, desc[u]);
  }
  ck_assert_uint_eq(info(r, 1).revenue, 400); /* 500 - refund 100 */
  ck_assert_int_eq(info(r, 0).descendants_revenue, 400 + 0 + 700 + 50);
  ck_assert_int_eq(info(r, 1).descendants_revenue, 750);
  ck_assert_uint_eq(pd_referral_n_nodes(r), 6);
  ck_close(metric(r, "users"), 6);
  ck_close(metric(r, "roots"), 2);
  ck_close(metric(r, "referred"), 4);
  ck_close(metric(r, "invites"), 5);
  ck_close(metric(r, "i"), 5.0 / 6);
  ck_close(metric(r, "c"), 4.0 / 5);
  ck_close(metric(r, "k"), 4.0 / 6);
  ck_close(metric(r, "amplification"), 3.0); /* 1 / (1 - 2/3) */
  /* Cycle times: 1: 2h after 0's acquisition; 2: 24h; 3: 2d - 2h = 46h after 1; 4: 24h after 3. */
  ck_close(metric(r, "cycle_time_median_h"), 24);
  ck_close(metric(r, "cycle_time_mean_h"), (2 + 24 + 46 + 24) / 4.0);
  ck_close(metric(r, "max_depth"), 3);
  ck_close(metric(r, "beyond_cap_users"), 1);
  ck_close(metric(r, "beyond_cap_revenue"), 50);
  ck_close(metric(r, "revenue"), 1000 + 400 + 700 + 50);
  ck_close(metric(r, "referred_revenue"), 400 + 700 + 50);
  ck_close(metric(r, "purchasers"), 4);
  ck_close(metric(r, "cycles"), 0);
  ck_close(metric(r, "self_referrals"), 0);
  ck_close(metric(r, "conflicts"), 0);
  ck_close(metric(r, "signup_before_referrer"), 0);

  pd_table *t = view(r, PD_REFERRAL_DEPTH);
  ck_assert_uint_eq(pd_table_n_rows(t), 4);
  const int64_t users[] = {2, 2, 1, 1}, purch[] = {1, 1, 1, 1}, rev[] = {1000, 400, 700, 50};
  const double kd[] = {1, 0.5, 1};
  for (size_t d = 0; d < 4; d++) {
    ck_assert_str_eq(gets(t, d, "group"), "all");
    ck_assert_int_eq(geti(t, d, "depth"), (int64_t)d);
    ck_assert_int_eq(geti(t, d, "users"), users[d]);
    ck_assert_int_eq(geti(t, d, "purchasers"), purch[d]);
    ck_assert_int_eq(geti(t, d, "revenue"), rev[d]);
    if (d < 3) ck_close(getd(t, d, "k_d"), kd[d]);
    else ck_assert(isnull(t, d, "k_d"));
    ck_assert_int_eq(geti(t, d, "beyond_cap"), d > 2);
  }
  pd_table_free(t);

  t = view(r, PD_REFERRAL_BEYOND_CAP);
  ck_assert_uint_eq(pd_table_n_rows(t), 1);
  ck_assert_int_eq(geti(t, 0, "user"), 4);
  ck_assert_int_eq(geti(t, 0, "referrer"), 3);
  ck_assert_int_eq(geti(t, 0, "root"), 0);
  ck_assert_int_eq(geti(t, 0, "depth"), 3);
  pd_table_free(t);

  t = view(r, PD_REFERRAL_TOP);
  ck_assert_uint_eq(pd_table_n_rows(t), 3); /* only users with referees */
  const int64_t top[] = {0, 1, 3};
  for (size_t i = 0; i < 3; i++) ck_assert_int_eq(geti(t, i, "user"), top[i]);
  ck_assert_int_eq(geti(t, 0, "descendants_revenue"), 1150);
  pd_table_free(t);

  /* Tree of 0: distances 0-1 1, 0-2 1, 0-3 2, 0-4 3, 1-2 2, 1-3 1, 1-4 2, 2-3 3, 2-4 4, 3-4 1: 20 / 10 pairs. */
  t = view(r, PD_REFERRAL_TREES);
  ck_assert_uint_eq(pd_table_n_rows(t), 2);
  ck_assert_int_eq(geti(t, 0, "root"), 0);
  ck_assert_int_eq(geti(t, 0, "users"), 5);
  ck_assert_int_eq(geti(t, 0, "max_depth"), 3);
  ck_assert_int_eq(geti(t, 0, "revenue"), 2150);
  ck_close(getd(t, 0, "structural_virality"), 2.0);
  ck_assert_int_eq(geti(t, 1, "root"), 5);
  ck_assert(isnull(t, 1, "structural_virality"));
  pd_table_free(t);

  t = view(r, PD_REFERRAL_CYCLE_TIME);
  ck_assert_str_eq(gets(t, 1, "bucket"), "1h-6h");
  ck_assert_int_eq(geti(t, 1, "referees"), 1);   /* 2h */
  ck_assert_int_eq(geti(t, 3, "referees"), 3);   /* 24h, 24h, 46h in [1d, 3d) */
  int64_t all = 0;
  for (size_t i = 0; i < pd_table_n_rows(t); i++) all += geti(t, i, "referees");
  ck_assert_int_eq(all, 4);
  pd_table_free(t);

  t = view(r, PD_REFERRAL_LARGEST_TREE);
  ck_assert_uint_eq(pd_table_n_rows(t), 5);
  const int64_t bfs[] = {0, 1, 2, 3, 4};
  for (size_t i = 0; i < 5; i++) ck_assert_int_eq(geti(t, i, "node"), bfs[i]);
  ck_assert(isnull(t, 0, "parent"));
  ck_assert_int_eq(geti(t, 3, "parent"), 1);
  pd_table_free(t);
  pd_referral_free(r);
}
END_TEST

START_TEST(breakdown_by_touchpoint) {
  pd_referral_options o = PD_REFERRAL_OPTIONS_INIT;
  o.by = PD_REFERRAL_BY_TOUCHPOINT;
  pd_referral_builder *b = builder(&o);
  /* Same forest as above; touchpoints: 0 ads, 1 organic, 2 poster. */
  ADD(b, 0, ACQ(T0, 0), INVITE(T0 + H), INVITE(T0 + H), INVITE(T0 + 20 * H), BUY(T0 + 3 * H, 1000));
  ADD(b, 1, ACQ_REF(T0 + 2 * H, 2, 0), SIGNUP(T0 + 2 * H, 0), INVITE(T0 + 30 * H), BUY(T0 + 5 * H, 500),
      REFUND(T0 + 6 * H, 100));
  ADD(b, 2, SIGNUP(T0 + D, 0));
  ADD(b, 3, VISIT(T0 + D), SIGNUP(T0 + 2 * D, 1), INVITE(T0 + 2 * D + H), BUY(T0 + 3 * D, 700));
  ADD(b, 4, SIGNUP(T0 + 3 * D, 3), BUY(T0 + 4 * D, 50));
  ADD(b, 5, ACQ(T0 + 5 * D, 1));
  pd_touchpoint_def tps[3] = {PD_TOUCHPOINT_DEF_INIT, PD_TOUCHPOINT_DEF_INIT, PD_TOUCHPOINT_DEF_INIT};
  tps[0].name = "ads";
  tps[0].domain = PD_DOMAIN_PUBLIC;
  tps[0].daily_spend = 10000;
  tps[1].name = "organic";
  tps[1].domain = PD_DOMAIN_PRIVATE;
  tps[2].name = "poster";
  tps[2].domain = PD_DOMAIN_PRIVATE;
  tps[2].daily_spend = 0;
  pd_referral *r = finish(b, tps, 3);
  /* Groups by the user's own acquisition touchpoint: users 2, 3, 4 signed up
   * with touchpoint 0 of their signup event ("ads")... their acquisition is
   * their first acquire/referral_signup: 2, 3, 4 -> tp 0; 1 -> tp 2 (poster); 5 -> organic. */
  pd_table *t = view(r, PD_REFERRAL_GROUPS);
  ck_assert_uint_eq(pd_table_n_rows(t), 3);
  ck_assert_str_eq(gets(t, 0, "group"), "ads");
  ck_assert_int_eq(geti(t, 0, "users"), 4);     /* 0, 2, 3, 4 */
  ck_assert_int_eq(geti(t, 0, "roots"), 1);
  ck_assert_int_eq(geti(t, 0, "invites"), 4);   /* 3 by 0, 1 by 3 */
  ck_assert_int_eq(geti(t, 0, "referred"), 3);  /* 0 -> 1, 2; 3 -> 4 */
  ck_close(getd(t, 0, "c"), 3.0 / 4);
  ck_close(getd(t, 0, "k"), 3.0 / 4);
  ck_close(getd(t, 0, "cycle_time_median_h"), 24); /* 2h, 24h, 24h */
  ck_assert_str_eq(gets(t, 1, "group"), "organic");
  ck_assert_int_eq(geti(t, 1, "referred"), 0);
  ck_assert(isnull(t, 1, "c"));
  ck_assert(isnull(t, 1, "cycle_time_median_h"));
  ck_assert_str_eq(gets(t, 2, "group"), "poster");
  ck_assert_int_eq(geti(t, 2, "referred"), 1);  /* 1 -> 3 */
  ck_close(getd(t, 2, "cycle_time_mean_h"), 46);
  pd_table_free(t);
  /* Depth by the root's touchpoint: the ads tree has levels 1, 2, 1, 1. */
  t = view(r, PD_REFERRAL_DEPTH);
  ck_assert_uint_eq(pd_table_n_rows(t), 5);
  ck_assert_str_eq(gets(t, 0, "group"), "ads");
  ck_assert_int_eq(geti(t, 0, "users"), 1);
  ck_assert_int_eq(geti(t, 1, "users"), 2);
  ck_close(getd(t, 0, "k_d"), 2);
  ck_assert_str_eq(gets(t, 4, "group"), "organic");
  ck_assert_int_eq(geti(t, 4, "depth"), 0);
  pd_table_free(t);
  /* Cost over the local days of the acquisitions, 2024-03-01 .. 03-06: 6 days
   * of ads at 100.00 = 600.00; paid users: 0 (ads root); referred: 1, 2, 3, 4.
   * 5 is a root from a free touchpoint. */
  ck_close(metric(r, "cost_days"), 6);
  ck_close(metric(r, "cost_spend"), 60000);
  ck_close(metric(r, "cost_paid_users"), 1);
  ck_close(metric(r, "cost_referred_users"), 4);
  ck_close(metric(r, "cac_paid"), 60000);
  ck_close(metric(r, "cac_with_referral"), 12000);
  t = view(r, PD_REFERRAL_COST);
  ck_assert_uint_eq(pd_table_n_rows(t), 2); /* ads (spend and users), organic (users) */
  ck_assert_str_eq(gets(t, 0, "group"), "ads");
  ck_assert_int_eq(geti(t, 0, "referred_users"), 4);
  ck_close(getd(t, 0, "saving"), 0.8);
  ck_assert_str_eq(gets(t, 1, "group"), "organic");
  ck_assert_int_eq(geti(t, 1, "spend"), 0);
  ck_assert(isnull(t, 1, "cac_paid"));
  pd_table_free(t);
  pd_referral_free(r);
}
END_TEST

START_TEST(cost_window_and_periods) {
  pd_referral_options o = PD_REFERRAL_OPTIONS_INIT;
  o.by = PD_REFERRAL_BY_PERIOD;
  o.period = PD_PERIOD_DAY;
  o.tz = "Asia/Shanghai";
  o.cost_begin = T0 - 8 * H;      /* 2024-03-01 00:00 in Shanghai */
  o.cost_end = T0 - 8 * H + 2 * D; /* two local days */
  pd_referral_builder *b = builder(&o);
  ADD(b, 0, ACQ(T0 - 8 * H, 0));                  /* day 1, paid */
  ADD(b, 1, ACQ(T0 + 15 * H, 0));                 /* 23:00 local: day 1, paid */
  ADD(b, 2, ACQ(T0 + 16 * H, 0));                 /* 00:00 local: day 2, paid */
  ADD(b, 3, SIGNUP(T0 + 17 * H, 2));              /* day 2, referred */
  ADD(b, 4, SIGNUP(T0 + 3 * D, 2));               /* outside the window */
  pd_touchpoint_def tp = PD_TOUCHPOINT_DEF_INIT;
  tp.name = "ads";
  tp.daily_spend = 9000;
  pd_referral *r = finish(b, &tp, 1);
  ck_close(metric(r, "cost_days"), 2);
  ck_close(metric(r, "cost_spend"), 18000);
  ck_close(metric(r, "cost_paid_users"), 3);
  ck_close(metric(r, "cost_referred_users"), 1);
  ck_close(metric(r, "cac_paid"), 6000);
  ck_close(metric(r, "cac_with_referral"), 4500);
  pd_table *t = view(r, PD_REFERRAL_COST);
  ck_assert_uint_eq(pd_table_n_rows(t), 2);
  ck_assert_str_eq(gets(t, 0, "group"), "2024-03-01");
  ck_assert_int_eq(geti(t, 0, "paid_users"), 2);
  ck_assert_int_eq(geti(t, 0, "spend"), 9000);
  ck_assert_str_eq(gets(t, 1, "group"), "2024-03-02");
  ck_assert_int_eq(geti(t, 1, "paid_users"), 1);
  ck_assert_int_eq(geti(t, 1, "referred_users"), 1);
  ck_close(getd(t, 1, "cac_with_referral"), 4500);
  pd_table_free(t);
  pd_referral_free(r);
}
END_TEST

START_TEST(self_referral_and_cycles) {
  pd_referral_builder *b = builder(NULL);
  ADD(b, 7, SIGNUP(T0, 7), INVITE(T0 + H));
  /* 10 <- 11 <- 12 <- 10 (each signs up through the next); 11 acquired first. */
  ADD(b, 10, SIGNUP(T0 + 2 * H, 11));
  ADD(b, 11, SIGNUP(T0 + 1 * H, 12));
  ADD(b, 12, SIGNUP(T0 + 3 * H, 10));
  ADD(b, 13, SIGNUP(T0 + 4 * H, 12)); /* hangs off the cycle */
  /* 20 <-> 21 acquired at the same instant: the smaller id loses its edge. */
  ADD(b, 20, SIGNUP(T0, 21));
  ADD(b, 21, SIGNUP(T0, 20));
  ADD(b, 22, SIGNUP(T0 + D, 21));
  pd_referral *r = finish(b, NULL, 0);
  ck_close(metric(r, "self_referrals"), 1);
  ck_close(metric(r, "cycles"), 2);
  ck_close(metric(r, "cycle_members"), 5);
  pd_referral_user_info x = info(r, 7);
  ck_assert_uint_eq(x.referrer, NO);
  ck_assert_uint_eq(x.attributed, 7);
  ck_assert_uint_eq(x.depth, 0);
  ck_assert_uint_eq(info(r, 11).referrer, NO);
  ck_assert_uint_eq(info(r, 11).attributed, 12);
  ck_assert_uint_eq(info(r, 11).depth, 0);
  ck_assert_uint_eq(info(r, 10).depth, 1);
  ck_assert_uint_eq(info(r, 12).depth, 2);
  ck_assert_uint_eq(info(r, 13).depth, 3);
  ck_assert_uint_eq(info(r, 13).root, 11);
  ck_assert_uint_eq(info(r, 11).descendants, 3);
  ck_assert_uint_eq(info(r, 20).referrer, NO);
  ck_assert_uint_eq(info(r, 21).depth, 1);
  ck_assert_uint_eq(info(r, 22).depth, 2);
  ck_close(metric(r, "roots"), 3);
  pd_table *t = view(r, PD_REFERRAL_ISSUES);
  ck_assert_uint_eq(pd_table_n_rows(t), 3);
  ck_assert_str_eq(gets(t, 0, "kind"), "self_referral");
  ck_assert_int_eq(geti(t, 0, "user"), 7);
  ck_assert_str_eq(gets(t, 1, "kind"), "cycle");
  ck_assert_int_eq(geti(t, 1, "user"), 11);
  ck_assert_int_eq(geti(t, 1, "referrer"), 12);
  ck_assert_str_eq(gets(t, 1, "detail"), "11 -> 12 -> 10 -> 11 (3 members)");
  ck_assert_str_eq(gets(t, 2, "kind"), "cycle");
  ck_assert_int_eq(geti(t, 2, "user"), 20);
  ck_assert_str_eq(gets(t, 2, "detail"), "20 -> 21 -> 20 (2 members)");
  pd_table_free(t);
  pd_referral_free(r);
}
END_TEST

START_TEST(conflicts_and_bad_times) {
  pd_referral_builder *b = builder(NULL);
  ADD(b, 0, ACQ(T0, 0));
  ADD(b, 5, ACQ(T0, 0));
  /* acquire + referral_signup naming the same referrer are one attribution;
   * a later one naming 5 is a conflict, and so is a third naming 5 again. */
  ADD(b, 30, ACQ_REF(T0 + H, 0, 0), SIGNUP(T0 + H, 0), SIGNUP(T0 + 2 * H, 5), SIGNUP(T0 + 3 * H, 5));
  /* 40 signs up through 41 before 41's first event. */
  ADD(b, 40, SIGNUP(T0 + 100, 41));
  ADD(b, 41, VISIT(T0 + 200), ACQ(T0 + 300, 0));
  /* 50 names 99, who has no events at all. */
  ADD(b, 50, SIGNUP(T0 + D, 99));
  pd_referral *r = finish(b, NULL, 0);
  ck_assert_uint_eq(info(r, 30).referrer, 0);
  ck_close(metric(r, "conflicts"), 2);
  ck_close(metric(r, "signup_before_referrer"), 1);
  ck_assert_uint_eq(info(r, 40).referrer, 41); /* reported, kept */
  ck_assert_uint_eq(info(r, 40).depth, 1);
  ck_close(metric(r, "cycle_time_negative"), 1); /* 40's sign-up precedes 41's acquisition */
  ck_close(metric(r, "referrers_without_events"), 1);
  pd_referral_user_info x = info(r, 99);
  ck_assert(!x.has_events);
  ck_assert_uint_eq(x.depth, 0);
  ck_assert_uint_eq(x.direct_referees, 1);
  ck_assert_uint_eq(info(r, 50).depth, 1);
  ck_assert_int_eq(pd_referral_user(r, 98, &x), PD_ERR_NOT_FOUND);
  pd_table *t = view(r, PD_REFERRAL_ISSUES);
  ck_assert_uint_eq(pd_table_n_rows(t), 3);
  ck_assert_str_eq(gets(t, 0, "kind"), "conflict");
  ck_assert_int_eq(geti(t, 0, "user"), 30);
  ck_assert_int_eq(geti(t, 0, "referrer"), 5);
  ck_assert_str_eq(gets(t, 0, "time"), "2024-03-01T02:00:00Z");
  ck_assert_str_eq(gets(t, 1, "kind"), "signup_before_referrer");
  ck_assert_int_eq(geti(t, 1, "user"), 40);
  ck_assert_str_eq(gets(t, 2, "kind"), "referrer_without_events");
  ck_assert_int_eq(geti(t, 2, "user"), 99);
  pd_table_free(t);
  pd_referral_free(r);

  /* Without acquire attributions, a user whose only referrer is on an acquire is a root. */
  pd_referral_options o = PD_REFERRAL_OPTIONS_INIT;
  o.acquire_attributes = 0;
  b = builder(&o);
  ADD(b, 0, ACQ(T0, 0));
  ADD(b, 1, ACQ_REF(T0 + H, 0, 0));
  ADD(b, 2, ACQ_REF(T0 + H, 0, 0), SIGNUP(T0 + 2 * H, 0));
  r = finish(b, NULL, 0);
  ck_assert_uint_eq(info(r, 1).referrer, NO);
  ck_assert_uint_eq(info(r, 2).referrer, 0);
  pd_referral_free(r);
}
END_TEST

/* A chain of a million users, fed in scrambled order, then closed into a
 * million-member cycle: no recursion, exact depths. */
START_TEST(million_deep_chain) {
  const uint32_t n = 1000000;
  for (int closed = 0; closed < 2; closed++) {
    pd_referral_builder *b = builder(NULL);
    for (uint32_t i = 0; i < n; i++) {
      uint32_t u = (uint32_t)(((uint64_t)i * 7919) % n); /* 7919 is prime: a permutation */
      uint32_t ref = u == 0 ? (closed ? n - 1 : NO) : u - 1;
      ev e = {T0 + (int64_t)u * 1000, PD_EV_REFERRAL_SIGNUP, 0, ref, 0};
      add(b, u, &e, 1);
    }
    pd_referral *r = finish(b, NULL, 0);
    ck_close(metric(r, "cycles"), closed);
    ck_close(metric(r, "cycle_members"), closed ? n : 0);
    /* Closed: user 0 (acquired first) loses its edge, so the chain is the same. */
    ck_assert_uint_eq(info(r, n - 1).depth, n - 1);
    ck_assert_uint_eq(info(r, n - 1).root, 0);
    ck_assert_uint_eq(info(r, 0).descendants, n - 1);
    ck_assert_uint_eq(info(r, 1).descendants, n - 2);
    ck_close(metric(r, "beyond_cap_users"), n - 3);
    ck_close(metric(r, "max_depth"), n - 1);
    pd_table *t = view(r, PD_REFERRAL_DEPTH);
    ck_assert_uint_eq(pd_table_n_rows(t), n);
    pd_table_free(t);
    /* A path of n nodes has Wiener index (n^3 - n) / 6, over n(n-1)/2 pairs: (n + 1) / 3. */
    t = view(r, PD_REFERRAL_TREES);
    ck_close(getd(t, 0, "structural_virality"), (n + 1) / 3.0);
    pd_table_free(t);
    t = view(r, PD_REFERRAL_LARGEST_TREE);
    ck_assert_uint_eq(pd_table_n_rows(t), 400);
    pd_table_free(t);
    pd_referral_free(r);
  }
}
END_TEST

/* Deterministic pseudo-random numbers for the generated forests. */
static uint64_t rng_next(uint64_t *s) {
  *s ^= *s << 13;
  *s ^= *s >> 7;
  *s ^= *s << 17;
  return *s;
}

/* Structural virality against all-pairs BFS distances, top referrers
 * against a direct descendant count, on random bushy trees. */
START_TEST(bushy_trees_virality) {
  const uint32_t n = 600;
  uint32_t *parent = malloc(n * sizeof *parent);
  uint64_t seed = 88172645463325252ull;
  pd_referral_options o = PD_REFERRAL_OPTIONS_INIT;
  o.top_n = 1000;
  pd_referral_builder *b = builder(&o);
  for (uint32_t u = 0; u < n; u++) {
    /* A few roots; then referrers skewed towards early users (many descendants). */
    parent[u] = u < 4 ? NO : (uint32_t)(rng_next(&seed) % (rng_next(&seed) % u + 1));
    ev e[2] = {{T0 + (int64_t)u * H, parent[u] == NO ? PD_EV_ACQUIRE : PD_EV_REFERRAL_SIGNUP, 0, parent[u], 0},
               {T0 + (int64_t)u * H + 1, PD_EV_PURCHASE, 0, NO, (int64_t)(u % 7) * 100}};
    add(b, u, e, 2);
  }
  pd_referral *r = finish(b, NULL, 0);
  /* Reference: distances through the lowest common ancestor by walking up. */
  uint32_t *depth = malloc(n * sizeof *depth);
  for (uint32_t u = 0; u < n; u++) depth[u] = parent[u] == NO ? 0 : depth[parent[u]] + 1;
  pd_table *t = view(r, PD_REFERRAL_TREES);
  ck_assert_uint_eq(pd_table_n_rows(t), 4);
  for (size_t row = 0; row < 4; row++) {
    uint32_t root = (uint32_t)geti(t, row, "root");
    double sum = 0, pairs = 0;
    for (uint32_t a = 0; a < n; a++)
      for (uint32_t c = a + 1; c < n; c++) {
        uint32_t x = a, y = c, ra = a, rc = c;
        while (parent[ra] != NO) ra = parent[ra];
        while (parent[rc] != NO) rc = parent[rc];
        if (ra != root || rc != root) continue;
        uint32_t dist = 0;
        while (x != y) {
          if (depth[x] >= depth[y]) x = parent[x];
          else y = parent[y];
          dist++;
        }
        sum += dist;
        pairs++;
      }
    ck_assert_int_eq(geti(t, row, "users"), (int64_t)((1 + sqrt(1 + 8 * pairs)) / 2 + 0.5));
    if (pairs > 0) ck_close(getd(t, row, "structural_virality"), sum / pairs);
  }
  pd_table_free(t);
  /* Top referrers: descendants and their revenue by walking up from every user. */
  uint32_t *desc = calloc(n, sizeof *desc);
  int64_t *drev = calloc(n, sizeof *drev);
  for (uint32_t u = 0; u < n; u++)
    for (uint32_t a = parent[u]; a != NO; a = parent[a]) {
      desc[a]++;
      drev[a] += (int64_t)(u % 7) * 100;
    }
  t = view(r, PD_REFERRAL_TOP);
  ck_assert_uint_gt(pd_table_n_rows(t), 10);
  for (size_t row = 0; row < pd_table_n_rows(t); row++) {
    uint32_t u = (uint32_t)geti(t, row, "user");
    ck_assert_int_eq(geti(t, row, "descendants"), desc[u]);
    ck_assert_int_eq(geti(t, row, "descendants_revenue"), drev[u]);
    if (row) ck_assert_int_le(geti(t, row, "descendants"), geti(t, row - 1, "descendants"));
  }
  uint32_t most = 0;
  for (uint32_t u = 0; u < n; u++)
    if (desc[u] > most) most = desc[u];
  ck_assert_int_eq(geti(t, 0, "descendants"), most);
  pd_table_free(t);
  free(desc);
  free(drev);
  free(depth);
  free(parent);
  pd_referral_free(r);
}
END_TEST

/* Builders over disjoint user sets merge to the same result as one builder. */
START_TEST(merge_partials) {
  pd_referral_builder *whole = builder(NULL), *part[3] = {builder(NULL), builder(NULL), builder(NULL)};
  uint64_t seed = 12345;
  for (uint32_t u = 0; u < 3000; u++) {
    uint32_t ref = u < 10 ? NO : (uint32_t)(rng_next(&seed) % 3000); /* random: cycles and self-referrals too */
    ev e[3] = {{T0 + (int64_t)(rng_next(&seed) % 1000) * H, PD_EV_REFERRAL_SIGNUP, 0, ref, 0},
               {T0 + 2000 * H, PD_EV_INVITE, 0, NO, 0},
               {T0 + 2001 * H, PD_EV_PURCHASE, 0, NO, u}};
    add(whole, u, e, 3);
    add(part[u % 3], u, e, 3);
  }
  PD_CHECK(pd_referral_builder_merge(part[0], part[1]));
  PD_CHECK(pd_referral_builder_merge(part[0], part[2]));
  pd_referral *a = finish(whole, NULL, 0), *m = finish(part[0], NULL, 0);
  pd_referral_builder_free(part[1]);
  pd_referral_builder_free(part[2]);
  ck_assert_double_gt(metric(a, "cycles") + metric(a, "self_referrals"), 0);
  for (int v = 0; v < PD_REFERRAL_VIEW_COUNT; v++) {
    pd_table *x = view(a, v), *y = view(m, v);
    char *sx, *sy;
    PD_CHECK(pd_table_format(x, PD_FORMAT_CSV, &sx, NULL));
    PD_CHECK(pd_table_format(y, PD_FORMAT_CSV, &sy, NULL));
    ck_assert_str_eq(sx, sy);
    pd_free(sx);
    pd_free(sy);
    pd_table_free(x);
    pd_table_free(y);
  }
  /* Every node reaches a root within `users` steps: no cycle survived. */
  pd_table *f = view(a, PD_REFERRAL_FOREST);
  for (size_t row = 0; row < pd_table_n_rows(f); row++) {
    int64_t u = geti(f, row, "user"), steps = 0;
    while (!isnull(f, (size_t)u, "referrer")) {
      u = geti(f, (size_t)u, "referrer"); /* users 0..2999 are rows 0..2999 */
      ck_assert_int_lt(++steps, 3001);
    }
    ck_assert_int_eq(steps, geti(f, row, "depth"));
    ck_assert_int_eq(u, geti(f, row, "root"));
  }
  pd_table_free(f);
  pd_referral_free(a);
  pd_referral_free(m);

  /* The same user in two merged partials is refused. */
  pd_referral_builder *x = builder(NULL), *y = builder(NULL);
  ADD(x, 1, ACQ(T0, 0));
  ADD(y, 1, ACQ(T0, 0));
  PD_CHECK(pd_referral_builder_merge(x, y));
  pd_referral *r = NULL;
  ck_assert_int_eq(pd_referral_builder_finish(x, NULL, 0, &r), PD_ERR_INVALID);
  ck_assert_ptr_null(r);
  pd_referral_builder_free(x);
  pd_referral_builder_free(y);
}
END_TEST

START_TEST(projection_and_options) {
  pd_referral_options o = PD_REFERRAL_OPTIONS_INIT;
  o.projection_cycles = 5;
  o.projection_seed = 1000;
  pd_referral *r = small_forest(&o); /* K = 2/3 */
  pd_table *t = view(r, PD_REFERRAL_PROJECTION);
  ck_assert_uint_eq(pd_table_n_rows(t), 6);
  double k = 2.0 / 3;
  for (size_t n = 0; n < 6; n++) {
    ck_close(getd(t, n, "new_users"), 1000 * pow(k, (double)n));
    ck_close(getd(t, n, "total_users"), 1000 * (1 - pow(k, (double)n + 1)) / (1 - k));
  }
  pd_table_free(t);
  ck_assert_int_eq(pd_referral_table(r, (pd_referral_view)99, &t), PD_ERR_INVALID);
  double v;
  ck_assert_int_eq(pd_referral_metric(r, "nope", &v), PD_ERR_NOT_FOUND);
  pd_referral_free(r);
  /* The cap moves the compliance list. */
  o.max_depth = 1;
  r = small_forest(&o);
  ck_close(metric(r, "beyond_cap_users"), 2);
  ck_close(metric(r, "cap"), 1);
  pd_referral_free(r);
  o.max_depth = -1;
  pd_referral_builder *b = NULL;
  ck_assert_int_eq(pd_referral_builder_new(&o, &b), PD_ERR_INVALID);
  o.max_depth = 2;
  o.tz = "Not/AZone";
  b = builder(&o);
  pd_referral *bad = NULL;
  ck_assert_int_eq(pd_referral_builder_finish(b, NULL, 0, &bad), PD_ERR_INVALID);
  pd_referral_builder_free(b);
  for (int i = 0; i < PD_REFERRAL_VIEW_COUNT; i++)
    ck_assert_int_eq(pd_referral_view_from_name(pd_referral_view_name((pd_referral_view)i)), i);
  ck_assert_int_eq(pd_referral_view_from_name("x"), -1);
  /* Empty input: valid empty tables, null ratios. */
  r = finish(builder(NULL), NULL, 0);
  ck_close(metric(r, "users"), 0);
  ck_assert(isnan(metric(r, "k")));
  for (int i = 0; i < PD_REFERRAL_VIEW_COUNT; i++) pd_table_free(view(r, (pd_referral_view)i));
  pd_referral_free(r);
}
END_TEST

/* ---- store-level runs: pd_referral_run on real stores ------------------ */

/* One event of a hand-built store: user and referrer by name (NULL: none),
 * touchpoint by name (NULL: none). */
typedef struct sev {
  const char *user;
  int64_t t;
  uint16_t type;
  const char *tp;
  const char *ref;
  int64_t amount;
} sev;

typedef struct tpdef {
  const char *name;
  pd_domain domain;
  int64_t daily_spend;
} tpdef;

static uint32_t uid(pd_store *st, const char *name) {
  uint32_t u = PD_NONE;
  PD_CHECK(pd_store_find_user(st, name, &u));
  return u;
}

/* Writes the events into a new store at `dir`, `per_commit` at a time and
 * in reverse order (latest first), compacting after `compact_after`
 * commits, so runs come from the segment and the log tail together. */
static pd_store *make_store(const char *dir, const tpdef *tps, size_t n_tps, const sev *e, size_t n,
                            size_t per_commit, size_t compact_after) {
  pd_store *st = pd_test_open(dir, 1);
  pd_writer *w = NULL;
  PD_CHECK(pd_writer_open(&w, st));
  for (size_t i = 0; i < n_tps; i++) {
    pd_touchpoint_def d = PD_TOUCHPOINT_DEF_INIT;
    d.name = tps[i].name;
    d.domain = tps[i].domain;
    d.daily_spend = tps[i].daily_spend;
    uint32_t id;
    PD_CHECK(pd_writer_touchpoint(w, &d, &id));
  }
  size_t commits = 0;
  for (size_t k = 0; k < n; k++) {
    const sev *x = &e[n - 1 - k];
    pd_event pe = {x->t, PD_NONE, x->type, PD_NONE, PD_NONE, x->amount};
    PD_CHECK(pd_writer_user(w, x->user, &pe.user));
    if (x->ref) PD_CHECK(pd_writer_user(w, x->ref, &pe.referrer));
    if (x->tp) PD_CHECK(pd_writer_touchpoint_name(w, x->tp, &pe.touchpoint));
    PD_CHECK(pd_writer_append(w, &pe));
    if ((k + 1) % per_commit == 0 || k + 1 == n) {
      PD_CHECK(pd_writer_commit(w));
      if (++commits == compact_after) PD_CHECK(pd_store_compact(st));
    }
  }
  pd_writer_close(w);
  return st;
}

static pd_referral *run_store(pd_store *st, const pd_referral_options *o) {
  pd_referral *r = NULL;
  PD_CHECK(pd_referral_run(st, o, &r));
  return r;
}

/* The CSV of every view of a result; free with free_views(). */
static void views_csv(const pd_referral *r, char **out) {
  for (int v = 0; v < PD_REFERRAL_VIEW_COUNT; v++) {
    pd_table *x = view(r, (pd_referral_view)v);
    PD_CHECK(pd_table_format(x, PD_FORMAT_CSV, &out[v], NULL));
    pd_table_free(x);
  }
}

static void free_views(char **csv) {
  for (int v = 0; v < PD_REFERRAL_VIEW_COUNT; v++) pd_free(csv[v]);
}

/* Every view of r must print as `want`. */
static void same_views(char *const *want, const pd_referral *r) {
  char *got[PD_REFERRAL_VIEW_COUNT];
  views_csv(r, got);
  for (int v = 0; v < PD_REFERRAL_VIEW_COUNT; v++)
    ck_assert_msg(strcmp(want[v], got[v]) == 0, "view %s differs:\n%s\nvs\n%s",
                  pd_referral_view_name((pd_referral_view)v), want[v], got[v]);
  free_views(got);
}

#define HUB_KIDS 40

/* Bad input and odd shapes in one store:
 *   chain: root (ads) -> c1 -> c2 -> c3 -> c4 -> c5   (c3..c5 beyond the cap of 2)
 *   cycle: y1 <- y2 <- y3 <- y1 (each names the next as referrer); y2 acquired
 *          first loses its edge: y2 -> y1 -> y3 (y1 names y2, y3 names y1)
 *   s names itself; k signs up through root, later through y1 (a conflict);
 *   e signs up through late an hour before late's first event;
 *   hub (poster) has 40 referees h<i>, each with two referees h<i>a, h<i>b. */
START_TEST(store_bad_input_and_shapes) {
  static const tpdef tps[] = {{"ads", PD_DOMAIN_PUBLIC, 10000}, {"poster", PD_DOMAIN_PRIVATE, 0}};
  sev e[64 + 3 * HUB_KIDS * 2];
  size_t n = 0;
#define E(...) (e[n++] = (sev){__VA_ARGS__})
  E("root", T0, PD_EV_ACQUIRE, "ads", NULL, 0);
  E("root", T0 + H, PD_EV_PURCHASE, "ads", NULL, 1000);
  static const char *const chain[] = {"root", "c1", "c2", "c3", "c4", "c5"};
  for (int i = 1; i < 6; i++) {
    E(chain[i], T0 + i * D, PD_EV_REFERRAL_SIGNUP, "poster", chain[i - 1], 0);
    E(chain[i], T0 + i * D + H, PD_EV_PURCHASE, "poster", NULL, 100 * i);
  }
  E("y1", T0 + 2 * H, PD_EV_REFERRAL_SIGNUP, "poster", "y2", 0);
  E("y2", T0 + 1 * H, PD_EV_REFERRAL_SIGNUP, "poster", "y3", 0);
  E("y3", T0 + 3 * H, PD_EV_REFERRAL_SIGNUP, "poster", "y1", 0);
  E("s", T0 + 4 * H, PD_EV_REFERRAL_SIGNUP, "poster", "s", 0);
  E("s", T0 + 5 * H, PD_EV_INVITE, "poster", NULL, 0);
  E("k", T0 + 2 * D, PD_EV_REFERRAL_SIGNUP, "poster", "root", 0);
  E("k", T0 + 3 * D, PD_EV_REFERRAL_SIGNUP, "poster", "y1", 0);
  E("e", T0 + 10 * D, PD_EV_REFERRAL_SIGNUP, "poster", "late", 0);
  E("late", T0 + 10 * D + H, PD_EV_VISIT, "poster", NULL, 0);
  E("late", T0 + 10 * D + 2 * H, PD_EV_ACQUIRE, "poster", NULL, 0);
  E("hub", T0, PD_EV_ACQUIRE, "poster", NULL, 0);
  static char names[HUB_KIDS][3][16];
  for (int i = 0; i < HUB_KIDS; i++) {
    snprintf(names[i][0], 16, "h%d", i);
    snprintf(names[i][1], 16, "h%da", i);
    snprintf(names[i][2], 16, "h%db", i);
    E("hub", T0 + i * H, PD_EV_INVITE, "poster", NULL, 0);
    E(names[i][0], T0 + i * H + 60000, PD_EV_REFERRAL_SIGNUP, "poster", "hub", 0);
    E(names[i][1], T0 + D + i * H, PD_EV_REFERRAL_SIGNUP, "poster", names[i][0], 0);
    E(names[i][2], T0 + D + i * H, PD_EV_REFERRAL_SIGNUP, "poster", names[i][0], 0);
    E(names[i][2], T0 + 2 * D, PD_EV_PURCHASE, "poster", NULL, 10);
  }
#undef E
  char *dir = pd_test_tmpdir("referral");
  pd_store *st = make_store(dir, tps, 2, e, n, 7, 5);
  pd_referral_options o = PD_REFERRAL_OPTIONS_INIT;
  o.threads = 1;
  pd_referral *r = run_store(st, &o);
  /* users: root + 5 chain + 3 cycle + s + k + e + late + hub + 40 * 3 */
  const double users = 1 + 5 + 3 + 1 + 1 + 2 + 1 + 3 * HUB_KIDS;
  ck_close(metric(r, "users"), users);
  ck_close(metric(r, "roots"), 5); /* root, y2 (cut), s, late, hub */
  ck_close(metric(r, "referred"), users - 5);
  /* Chain past the cap. */
  for (int i = 0; i < 6; i++) {
    pd_referral_user_info x = info(r, uid(st, chain[i]));
    ck_assert_uint_eq(x.depth, (uint32_t)i);
    ck_assert_uint_eq(x.root, uid(st, "root"));
    ck_assert_uint_eq(x.descendants, (uint32_t)(5 - i) + (i == 0)); /* root also has k */
  }
  ck_close(metric(r, "max_depth"), 5);
  ck_close(metric(r, "beyond_cap_users"), 3);
  ck_close(metric(r, "beyond_cap_revenue"), 300 + 400 + 500);
  pd_table *t = view(r, PD_REFERRAL_BEYOND_CAP);
  ck_assert_uint_eq(pd_table_n_rows(t), 3);
  for (size_t i = 0; i < 3; i++) { /* rows by user id: c5 was written first */
    int d = gets(t, i, "name")[1] - '0';
    ck_assert_int_ge(d, 3);
    ck_assert_str_eq(gets(t, i, "name"), chain[d]);
    ck_assert_int_eq(geti(t, i, "user"), uid(st, chain[d]));
    if (i) ck_assert_int_gt(geti(t, i, "user"), geti(t, i - 1, "user"));
    ck_assert_int_eq(geti(t, i, "depth"), d);
    ck_assert_int_eq(geti(t, i, "referrer"), uid(st, chain[d - 1]));
    ck_assert_int_eq(geti(t, i, "revenue"), 100 * d);
  }
  pd_table_free(t);
  /* The cycle, cut at y2 (acquired first). */
  ck_close(metric(r, "cycles"), 1);
  ck_close(metric(r, "cycle_members"), 3);
  ck_assert_uint_eq(info(r, uid(st, "y2")).referrer, NO);
  ck_assert_uint_eq(info(r, uid(st, "y2")).attributed, uid(st, "y3"));
  ck_assert_uint_eq(info(r, uid(st, "y1")).depth, 1);
  ck_assert_uint_eq(info(r, uid(st, "y3")).depth, 2);
  ck_assert_uint_eq(info(r, uid(st, "y2")).descendants, 2);
  /* Self-referral: a root with its invite still counted. */
  ck_close(metric(r, "self_referrals"), 1);
  ck_assert_uint_eq(info(r, uid(st, "s")).referrer, NO);
  ck_assert_uint_eq(info(r, uid(st, "s")).invites, 1);
  /* Conflict: the first referrer stays. */
  ck_close(metric(r, "conflicts"), 1);
  ck_assert_uint_eq(info(r, uid(st, "k")).referrer, uid(st, "root"));
  /* Early sign-up: reported, kept; its cycle time is negative. */
  ck_close(metric(r, "signup_before_referrer"), 1);
  ck_close(metric(r, "cycle_time_negative"), 1);
  ck_assert_uint_eq(info(r, uid(st, "e")).referrer, uid(st, "late"));
  t = view(r, PD_REFERRAL_ISSUES);
  ck_assert_uint_eq(pd_table_n_rows(t), 4);
  const char *kinds[] = {"self_referral", "cycle", "conflict", "signup_before_referrer"};
  const char *who[] = {"s", "y2", "k", "e"};
  for (size_t i = 0; i < 4; i++) {
    ck_assert_str_eq(gets(t, i, "kind"), kinds[i]);
    ck_assert_str_eq(gets(t, i, "name"), who[i]);
  }
  ck_assert_str_eq(gets(t, 1, "detail"), "y2 -> y3 -> y1 -> y2 (3 members)");
  ck_assert_int_eq(geti(t, 2, "referrer"), uid(st, "y1"));
  ck_assert_str_eq(gets(t, 2, "time"), "2024-03-04T00:00:00Z");
  ck_assert_str_eq(gets(t, 3, "detail"), "signed up 1.0 h before the referrer's first event (2024-03-11T01:00:00Z)");
  pd_table_free(t);
  /* The hub: 40 direct referees, 120 descendants, the top referrer and the largest tree. */
  pd_referral_user_info hub = info(r, uid(st, "hub"));
  ck_assert_uint_eq(hub.direct_referees, HUB_KIDS);
  ck_assert_uint_eq(hub.descendants, 3 * HUB_KIDS);
  ck_assert_int_eq(hub.descendants_revenue, 10 * HUB_KIDS);
  ck_assert_uint_eq(hub.invites, HUB_KIDS);
  t = view(r, PD_REFERRAL_TOP);
  ck_assert_str_eq(gets(t, 0, "name"), "hub");
  ck_assert_int_eq(geti(t, 0, "descendants"), 3 * HUB_KIDS);
  ck_assert_str_eq(gets(t, 1, "name"), "root"); /* 6 descendants */
  ck_assert_int_eq(geti(t, 1, "descendants"), 6);
  /* then the 40 h<i> with two each (by id: h0 first), ahead of c1 (4 descendants, 1 direct)... */
  ck_assert_int_eq(geti(t, 2, "descendants"), 4);
  ck_assert_str_eq(gets(t, 2, "name"), "c1");
  ck_assert_int_eq(geti(t, 3, "descendants"), 3);
  ck_assert_int_eq(geti(t, 4, "descendants"), 2);
  ck_assert_int_eq(geti(t, 4, "direct_referees"), 2);
  pd_table_free(t);
  /* Hub tree: 121 nodes: 40 pairs at distance 2 under each h<i>... mean distance by the
   * Wiener index: edges hub-h<i> split 3 | 118, edges h<i>-leaf split 1 | 120. */
  t = view(r, PD_REFERRAL_TREES);
  ck_assert_str_eq(gets(t, 0, "name"), "hub");
  ck_assert_int_eq(geti(t, 0, "users"), 1 + 3 * HUB_KIDS);
  double nn = 1 + 3 * HUB_KIDS, wiener = HUB_KIDS * (3.0 * (nn - 3)) + 2 * HUB_KIDS * (1.0 * (nn - 1));
  ck_close(getd(t, 0, "structural_virality"), wiener / (nn * (nn - 1) / 2));
  pd_table_free(t);
  t = view(r, PD_REFERRAL_LARGEST_TREE);
  ck_assert_uint_eq(pd_table_n_rows(t), 1 + 3 * HUB_KIDS);
  ck_assert_str_eq(gets(t, 0, "label"), "hub");
  for (size_t i = 1; i < pd_table_n_rows(t); i++) { /* breadth first: the 40 h<i>, then their referees */
    int64_t d = i <= HUB_KIDS ? 1 : 2;
    ck_assert_int_eq(geti(t, i, "depth"), d);
    ck_assert_uint_eq(strlen(gets(t, i, "label")) > 3 || gets(t, i, "label")[2] == 'a' || gets(t, i, "label")[2] == 'b',
                      d == 2);
  }
  pd_table_free(t);
  /* K: direct referees over users; generations from the depth histogram. */
  ck_close(metric(r, "k"), (users - 5) / users);
  t = view(r, PD_REFERRAL_DEPTH);
  /* depth 0: root y2 s late hub; 1: c1 y1 k e h0..h39; 2: c2 y3 h<i>a h<i>b; 3..5: c3..c5 */
  const int64_t level[] = {5, 4 + HUB_KIDS, 2 + 2 * HUB_KIDS, 1, 1, 1};
  for (size_t d = 0; d < 6; d++) ck_assert_int_eq(geti(t, d, "users"), level[d]);
  ck_close(getd(t, 1, "k_d"), (double)level[2] / (double)level[1]);
  pd_table_free(t);

  /* The same with two workers, after a full compaction, and reopened. The
   * result borrows the store (names): it is freed before the store closes. */
  char *want[PD_REFERRAL_VIEW_COUNT];
  views_csv(r, want);
  pd_referral_free(r);
  o.threads = 2;
  pd_referral *r2 = run_store(st, &o);
  same_views(want, r2);
  pd_referral_free(r2);
  PD_CHECK(pd_store_compact(st));
  pd_store_close(st);
  st = pd_test_open(dir, 0);
  r2 = run_store(st, &o);
  same_views(want, r2);
  pd_referral_free(r2);
  free_views(want);
  pd_store_close(st);
  pd_test_rmdir(dir);
  g_free(dir);
}
END_TEST

/* Breakdowns by the referrer's acquisition (GROUPS) and the root's (DEPTH,
 * COST): period in two zones, touchpoint, domain.
 *   A (ads, 2024-01-31 20:00 UTC = 02-01 04:00 in Shanghai) -> a1, a2; a1 -> a11
 *   B (wecom, 02-10) -> b1
 *   C (store, 03-05) -> c1 -> c11 -> c111
 * Referees sign up at wecom. Invites: A 4, B 1, C 2, c1 1. */
START_TEST(store_breakdowns) {
  static const tpdef tps[] = {{"ads", PD_DOMAIN_PUBLIC, 5000}, {"wecom", PD_DOMAIN_PRIVATE, 0},
                              {"store", PD_DOMAIN_SEMI, 2000}};
  const int64_t feb = INT64_C(1706745600000); /* 2024-02-01T00:00:00Z */
  const int64_t mar = INT64_C(1709251200000); /* 2024-03-01T00:00:00Z */
  const sev e[] = {
      {"A", feb - 4 * H, PD_EV_ACQUIRE, "ads", NULL, 0},
      {"A", feb, PD_EV_INVITE, "ads", NULL, 0},
      {"A", feb, PD_EV_INVITE, "ads", NULL, 0},
      {"A", feb + H, PD_EV_INVITE, "ads", NULL, 0},
      {"A", feb + H, PD_EV_INVITE, "ads", NULL, 0},
      {"A", feb + D, PD_EV_PURCHASE, "ads", NULL, 900},
      {"a1", feb + D, PD_EV_REFERRAL_SIGNUP, "wecom", "A", 0},
      {"a1", feb + D + H, PD_EV_PURCHASE, "wecom", NULL, 300},
      {"a2", feb + 2 * D, PD_EV_REFERRAL_SIGNUP, "wecom", "A", 0},
      {"a11", mar, PD_EV_REFERRAL_SIGNUP, "wecom", "a1", 0},
      {"B", feb + 9 * D, PD_EV_ACQUIRE, "wecom", NULL, 0},
      {"B", feb + 9 * D, PD_EV_INVITE, "wecom", NULL, 0},
      {"b1", feb + 11 * D, PD_EV_REFERRAL_SIGNUP, "wecom", "B", 0},
      {"b1", feb + 12 * D, PD_EV_PURCHASE, "wecom", NULL, 50},
      {"C", mar + 4 * D, PD_EV_ACQUIRE, "store", NULL, 0},
      {"C", mar + 4 * D, PD_EV_INVITE, "store", NULL, 0},
      {"C", mar + 4 * D, PD_EV_INVITE, "store", NULL, 0},
      {"c1", mar + 5 * D, PD_EV_REFERRAL_SIGNUP, "wecom", "C", 0},
      {"c1", mar + 5 * D, PD_EV_INVITE, "wecom", NULL, 0},
      {"c11", mar + 6 * D, PD_EV_REFERRAL_SIGNUP, "wecom", "c1", 0},
      {"c111", mar + 7 * D, PD_EV_REFERRAL_SIGNUP, "wecom", "c11", 0},
      {"c111", mar + 8 * D, PD_EV_PURCHASE, "wecom", NULL, 70},
  };
  const size_t n = sizeof e / sizeof *e;
  char *dir = pd_test_tmpdir("referral");
  pd_store *st = make_store(dir, tps, 3, e, n, 5, 2);
  pd_referral_options o = PD_REFERRAL_OPTIONS_INIT;
  o.threads = 2;

  /* By touchpoint. GROUPS by the user's own acquisition: ads {A}, wecom {B and
   * every referee}, store {C}; referred = direct referees of the group's users. */
  o.by = PD_REFERRAL_BY_TOUCHPOINT;
  pd_referral *r = run_store(st, &o);
  pd_table *t = view(r, PD_REFERRAL_GROUPS);
  ck_assert_uint_eq(pd_table_n_rows(t), 3);
  const char *tg[] = {"ads", "wecom", "store"};
  const int64_t tu[] = {1, 8, 1}, tr[] = {1, 1, 1}, ti[] = {4, 2, 2}, tref[] = {2, 4, 1};
  for (size_t i = 0; i < 3; i++) {
    ck_assert_str_eq(gets(t, i, "group"), tg[i]);
    ck_assert_int_eq(geti(t, i, "users"), tu[i]);
    ck_assert_int_eq(geti(t, i, "roots"), tr[i]);
    ck_assert_int_eq(geti(t, i, "invites"), ti[i]);
    ck_assert_int_eq(geti(t, i, "referred"), tref[i]);
    ck_close(getd(t, i, "k"), (double)tref[i] / (double)tu[i]);
    ck_close(getd(t, i, "c"), (double)tref[i] / (double)ti[i]);
  }
  /* ads: a1 after 28 h, a2 after 52 h: median 40 h. */
  ck_close(getd(t, 0, "cycle_time_median_h"), 40);
  pd_table_free(t);
  /* DEPTH by the root's touchpoint: ads 1, 2, 1; wecom 1, 1; store 1, 1, 1, 1 (depth 3 beyond the cap). */
  t = view(r, PD_REFERRAL_DEPTH);
  ck_assert_uint_eq(pd_table_n_rows(t), 9);
  const char *dg[] = {"ads", "ads", "ads", "wecom", "wecom", "store", "store", "store", "store"};
  const int64_t dd[] = {0, 1, 2, 0, 1, 0, 1, 2, 3}, du[] = {1, 2, 1, 1, 1, 1, 1, 1, 1};
  const int64_t drev[] = {900, 300, 0, 0, 50, 0, 0, 0, 70};
  for (size_t i = 0; i < 9; i++) {
    ck_assert_str_eq(gets(t, i, "group"), dg[i]);
    ck_assert_int_eq(geti(t, i, "depth"), dd[i]);
    ck_assert_int_eq(geti(t, i, "users"), du[i]);
    ck_assert_int_eq(geti(t, i, "revenue"), drev[i]);
    ck_assert_int_eq(geti(t, i, "beyond_cap"), dd[i] > 2);
  }
  ck_close(getd(t, 0, "k_d"), 2);
  ck_close(getd(t, 1, "k_d"), 0.5);
  ck_assert(isnull(t, 2, "k_d"));
  pd_table_free(t);
  pd_referral_free(r);

  /* By domain: the same groups under domain names. */
  o.by = PD_REFERRAL_BY_DOMAIN;
  r = run_store(st, &o);
  t = view(r, PD_REFERRAL_GROUPS);
  ck_assert_uint_eq(pd_table_n_rows(t), 3);
  const char *dn[] = {"public", "private", "semi"};
  for (size_t i = 0; i < 3; i++) {
    ck_assert_str_eq(gets(t, i, "group"), dn[i]);
    ck_assert_int_eq(geti(t, i, "referred"), tref[i]);
  }
  pd_table_free(t);
  pd_referral_free(r);

  /* By month of acquisition. UTC: Jan {A}: referred a1 a2; Feb {B a1 a2 b1}: b1 a11;
   * Mar {a11 C c1 c11 c111}: c1 c11 c111. Shanghai: A joins February. */
  o.by = PD_REFERRAL_BY_PERIOD;
  o.period = PD_PERIOD_MONTH;
  for (int z = 0; z < 2; z++) {
    o.tz = z ? "Asia/Shanghai" : NULL;
    r = run_store(st, &o);
    t = view(r, PD_REFERRAL_GROUPS);
    const char *utc_g[] = {"2024-01", "2024-02", "2024-03"}, *sh_g[] = {"2024-02", "2024-03"};
    const int64_t utc_u[] = {1, 4, 5}, utc_ref[] = {2, 2, 3}, sh_u[] = {5, 5}, sh_ref[] = {4, 3};
    ck_assert_uint_eq(pd_table_n_rows(t), z ? 2 : 3);
    for (size_t i = 0; i < pd_table_n_rows(t); i++) {
      ck_assert_str_eq(gets(t, i, "group"), z ? sh_g[i] : utc_g[i]);
      ck_assert_int_eq(geti(t, i, "users"), z ? sh_u[i] : utc_u[i]);
      ck_assert_int_eq(geti(t, i, "referred"), z ? sh_ref[i] : utc_ref[i]);
    }
    pd_table_free(t);
    /* DEPTH by the root's month: A's tree is January in UTC, February in Shanghai. */
    t = view(r, PD_REFERRAL_DEPTH);
    ck_assert_str_eq(gets(t, 0, "group"), z ? "2024-02" : "2024-01");
    ck_assert_int_eq(geti(t, 0, "users"), z ? 2 : 1); /* Shanghai: A and B are February roots */
    pd_table_free(t);
    pd_referral_free(r);
  }

  /* Cost by the root's touchpoint over [01-31, 03-01) UTC (30 days): ads 50.00 a day = 150000,
   * paid A, referred a1 a2 -> CAC 1500.00 -> 500.00, saving 2/3; store 20.00 a day, nobody
   * acquired (C joins in March); wecom free: B is not paid, b1 referred. */
  o.by = PD_REFERRAL_BY_TOUCHPOINT;
  o.tz = NULL;
  o.cost_begin = feb - D;
  o.cost_end = mar;
  r = run_store(st, &o);
  ck_close(metric(r, "cost_days"), 30);
  ck_close(metric(r, "cost_spend"), 30 * (5000 + 2000));
  ck_close(metric(r, "cost_paid_users"), 1);
  ck_close(metric(r, "cost_referred_users"), 3);
  ck_close(metric(r, "cac_paid"), 210000);
  ck_close(metric(r, "cac_with_referral"), 52500);
  t = view(r, PD_REFERRAL_COST);
  ck_assert_uint_eq(pd_table_n_rows(t), 3);
  const char *cg[] = {"ads", "wecom", "store"};
  const int64_t cs[] = {150000, 0, 60000}, cp[] = {1, 0, 0}, cr[] = {2, 1, 0};
  for (size_t i = 0; i < 3; i++) {
    ck_assert_str_eq(gets(t, i, "group"), cg[i]);
    ck_assert_int_eq(geti(t, i, "days"), 30);
    ck_assert_int_eq(geti(t, i, "spend"), cs[i]);
    ck_assert_int_eq(geti(t, i, "paid_users"), cp[i]);
    ck_assert_int_eq(geti(t, i, "referred_users"), cr[i]);
  }
  ck_close(getd(t, 0, "cac_paid"), 150000);
  ck_close(getd(t, 0, "cac_with_referral"), 50000);
  ck_close(getd(t, 0, "saving"), 2.0 / 3);
  ck_assert(isnull(t, 2, "cac_paid"));
  pd_table_free(t);
  pd_referral_free(r);
  pd_store_close(st);
  pd_test_rmdir(dir);
  g_free(dir);
}
END_TEST

/* An empty store and a store with events but no referrals. */
START_TEST(store_empty_and_flat) {
  char *dir = pd_test_tmpdir("referral");
  pd_store *st = pd_test_open(dir, 1);
  pd_referral *r = run_store(st, NULL);
  ck_close(metric(r, "users"), 0);
  for (int v = 0; v < PD_REFERRAL_VIEW_COUNT; v++) pd_table_free(view(r, (pd_referral_view)v));
  pd_referral_free(r);
  pd_store_close(st);
  pd_test_rmdir(dir);
  g_free(dir);
  static const tpdef tp[] = {{"ads", PD_DOMAIN_PUBLIC, 100}};
  const sev e[] = {{"p", T0, PD_EV_ACQUIRE, "ads", NULL, 0}, {"q", T0 + H, PD_EV_VISIT, NULL, NULL, 0}};
  dir = pd_test_tmpdir("referral");
  st = make_store(dir, tp, 1, e, 2, 1, 1);
  r = run_store(st, NULL);
  ck_close(metric(r, "users"), 2);
  ck_close(metric(r, "roots"), 2);
  ck_close(metric(r, "k"), 0);
  ck_assert(isnan(metric(r, "c")));
  ck_close(metric(r, "amplification"), 1);
  pd_table *t = view(r, PD_REFERRAL_TOP);
  ck_assert_uint_eq(pd_table_n_rows(t), 0);
  pd_table_free(t);
  t = view(r, PD_REFERRAL_DEPTH);
  ck_assert_uint_eq(pd_table_n_rows(t), 1);
  ck_assert(isnull(t, 0, "k_d"));
  pd_table_free(t);
  pd_referral_free(r);
  pd_store_close(st);
  pd_test_rmdir(dir);
  g_free(dir);
}
END_TEST

static void add_store_tests(Suite *s) {
  TCase *tc = tcase_create("store");
  tcase_set_timeout(tc, 300);
  tcase_add_test(tc, store_bad_input_and_shapes);
  tcase_add_test(tc, store_breakdowns);
  tcase_add_test(tc, store_empty_and_flat);
  suite_add_tcase(s, tc);
}

int main(void) {
  Suite *s = suite_create("referral");
  TCase *tc = tcase_create("forest");
  tcase_set_timeout(tc, 300);
  tcase_add_test(tc, hand_worked_forest);
  tcase_add_test(tc, breakdown_by_touchpoint);
  tcase_add_test(tc, cost_window_and_periods);
  tcase_add_test(tc, self_referral_and_cycles);
  tcase_add_test(tc, conflicts_and_bad_times);
  tcase_add_test(tc, million_deep_chain);
  tcase_add_test(tc, bushy_trees_virality);
  tcase_add_test(tc, merge_partials);
  tcase_add_test(tc, projection_and_options);
  suite_add_tcase(s, tc);
  add_store_tests(s);
  return pd_test_run(s);
}
