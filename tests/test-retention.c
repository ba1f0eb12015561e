/* Cohort retention, cohort revenue, lifecycle and stickiness.
 * First hand-worked cases on hand-built event runs, then the same
 * analyses through a store (out-of-order ingest, compaction), then
 * agreement with a slow independent reference on a generated store. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "privdomain.h"
#include "testutil.h"
#include "tz.h"

#define H INT64_C(3600000)
#define DAY INT64_C(86400000)
#define ACQ PD_EV_ACQUIRE
#define VISIT PD_EV_VISIT
#define BUY PD_EV_PURCHASE
#define REFUND PD_EV_REFUND

/* A UTC instant from a civil date and hour/minute. */
static int64_t utc(int64_t y, unsigned m, unsigned d, int64_t hh, int64_t mi) {
  return pd__days_from_civil(y, m, d) * DAY + hh * H + mi * 60000;
}

typedef struct ev {
  int64_t t;
  uint16_t type;
  uint32_t tp;
  int64_t amount;
} ev;

/* Hands one user's run (in the given order, which must be time order) to an add function. */
typedef pd_status (*add_fn)(void *p, const pd_user_events *e);
static void feed(void *p, add_fn add, uint32_t user, const ev *e, size_t n) {
  int64_t time[256], amount[256];
  uint16_t type[256];
  uint32_t tp[256], ref[256];
  ck_assert_uint_le(n, 256);
  for (size_t i = 0; i < n; i++) {
    time[i] = e[i].t;
    type[i] = e[i].type;
    tp[i] = e[i].tp;
    ref[i] = PD_NONE;
    amount[i] = e[i].amount;
  }
  pd_user_events ue = {user, n, time, type, tp, ref, amount};
  ck_assert_msg(add(p, &ue) == PD_OK, "%s", pd_last_error());
}
static pd_status radd(void *p, const pd_user_events *e) { return pd_retention_partial_add(p, e); }
static pd_status ladd(void *p, const pd_user_events *e) { return pd_lifecycle_partial_add(p, e); }
static pd_status sadd(void *p, const pd_user_events *e) { return pd_stickiness_partial_add(p, e); }
#define FEED(p, add, user, ...)                                 \
  do {                                                          \
    const ev e_[] = {__VA_ARGS__};                              \
    feed((p), (add), (user), e_, sizeof e_ / sizeof e_[0]);     \
  } while (0)

static pd_retention_partial *rnew(const pd_retention_options *o) {
  pd_retention_partial *p = NULL;
  ck_assert_msg(pd_retention_partial_new(o, &p) == PD_OK, "%s", pd_last_error());
  return p;
}

static pd_table *rfinish(const pd_retention_partial *p, pd_retention_table which) {
  pd_table *t = NULL;
  ck_assert_msg(pd_retention_partial_finish(p, NULL, which, &t) == PD_OK, "%s", pd_last_error());
  return t;
}

static size_t col(const pd_table *t, const char *name) {
  long c = pd_table_col_index(t, name);
  ck_assert_msg(c >= 0, "no column %s", name);
  return (size_t)c;
}

/* Row of the long table for (group or NULL, cohort label, k); aborts the test when absent. */
static size_t lrow(const pd_table *t, const char *group, const char *cohort, int64_t k) {
  long g = pd_table_col_index(t, "group");
  for (size_t r = 0; r < pd_table_n_rows(t); r++) {
    if (group && strcmp(pd_table_get_string(t, r, (size_t)g), group) != 0) continue;
    if (strcmp(pd_table_get_string(t, r, col(t, "cohort")), cohort) == 0 && pd_table_get_int64(t, r, col(t, "k")) == k)
      return r;
  }
  ck_abort_msg("no row %s/%s/k=%lld", group ? group : "", cohort, (long long)k);
  return 0;
}
static int64_t lget(const pd_table *t, const char *cohort, int64_t k, const char *name) {
  return pd_table_get_int64(t, lrow(t, NULL, cohort, k), col(t, name));
}
static double lrate(const pd_table *t, const char *cohort, int64_t k) {
  size_t r = lrow(t, NULL, cohort, k);
  ck_assert(!pd_table_is_null(t, r, col(t, "rate")));
  return pd_table_get_double(t, r, col(t, "rate"));
}
static size_t n_cohorts(const pd_table *t) {
  size_t n = 0;
  for (size_t r = 0; r < pd_table_n_rows(t); r++)
    if (pd_table_get_int64(t, r, col(t, "k")) == 0) n++;
  return n;
}

/* ---- cohort boundaries in Asia/Shanghai ---------------------------------- */

/* One user: start at 23:30 local, return at 00:30 local the next day
 * (both on the same UTC day). Asserts (cohort label, k of the return). */
static void boundary_case(pd_period period, const char *tz, int64_t t0, const char *cohort, int64_t k, size_t nk) {
  pd_retention_options o = PD_RETENTION_OPTIONS_INIT;
  o.period = period;
  o.tz = tz;
  pd_retention_partial *p = rnew(&o);
  FEED(p, radd, 0, {t0, ACQ, 0, 0}, {t0 + H, VISIT, 0, 0});
  pd_table *t = rfinish(p, PD_RETENTION_TABLE_LONG);
  ck_assert_uint_eq(n_cohorts(t), 1);
  ck_assert_uint_eq(pd_table_n_rows(t), nk);
  ck_assert_int_eq(lget(t, cohort, 0, "cohort_users"), 1);
  for (int64_t j = 0; j < (int64_t)nk; j++) ck_assert_int_eq(lget(t, cohort, j, "users"), j == k);
  pd_table_free(t);
  pd_retention_partial_free(p);
}

START_TEST(shanghai_boundaries) {
  /* 2024-03-04 15:30 UTC = 23:30 Monday in Shanghai; +1 h is Tuesday 00:30 there, still Monday in UTC. */
  int64_t mon = utc(2024, 3, 4, 15, 30);
  boundary_case(PD_PERIOD_DAY, "Asia/Shanghai", mon, "2024-03-04", 1, 2);
  boundary_case(PD_PERIOD_DAY, NULL, mon, "2024-03-04", 0, 1);
  /* Sunday 2024-03-10 23:30 Shanghai -> Monday 00:30: a new ISO week there, the same week in UTC. */
  int64_t sun = utc(2024, 3, 10, 15, 30);
  boundary_case(PD_PERIOD_WEEK, "Asia/Shanghai", sun, "2024-W10", 1, 2);
  boundary_case(PD_PERIOD_WEEK, NULL, sun, "2024-W10", 0, 1);
  /* Sunday-start weeks: Sunday and Monday share the week starting Sunday 2024-03-10. */
  boundary_case(PD_PERIOD_WEEK_SUNDAY, "Asia/Shanghai", sun, "2024-03-10", 0, 1);
  /* Saturday 2024-03-09 23:30 Shanghai -> Sunday 00:30: a new Sunday week there. */
  boundary_case(PD_PERIOD_WEEK_SUNDAY, "Asia/Shanghai", utc(2024, 3, 9, 15, 30), "2024-03-03", 1, 2);
  /* 2024-03-31 23:30 Shanghai -> April 1 00:30. */
  int64_t eom = utc(2024, 3, 31, 15, 30);
  boundary_case(PD_PERIOD_MONTH, "Asia/Shanghai", eom, "2024-03", 1, 2);
  boundary_case(PD_PERIOD_MONTH, NULL, eom, "2024-03", 0, 1);
  /* An event at 16:00 UTC exactly is 00:00 the next day in Shanghai: the cohort moves. */
  boundary_case(PD_PERIOD_DAY, "Asia/Shanghai", utc(2024, 3, 4, 16, 0), "2024-03-05", 0, 1);
}
END_TEST

/* ---- DST: hourly purchases across Europe/Berlin's 23- and 25-hour days ---- */

/* Start at the first instant of local day `day0`, then a purchase of 1 at
 * that instant and every hour for 72 hours; revenue per day must be the
 * number of hours of each local day. */
static void dst_case(int64_t day0, int64_t h0, int64_t h1, int64_t h2) {
  pd__tz *tz = NULL;
  ck_assert_int_eq(pd__tz_open("Europe/Berlin", &tz), PD_OK);
  int64_t s = pd__period_start_utc(tz, PD_PERIOD_DAY, day0);
  pd__tz_free(tz);
  ev e[80];
  size_t n = 0;
  e[n++] = (ev){s, ACQ, 0, 0};
  for (int64_t i = 0; i < 72; i++) e[n++] = (ev){s + i * H, BUY, 0, 1};
  pd_retention_options o = PD_RETENTION_OPTIONS_INIT;
  o.tz = "Europe/Berlin";
  pd_retention_partial *p = rnew(&o);
  feed(p, radd, 0, e, n);
  pd_table *t = rfinish(p, PD_RETENTION_TABLE_LONG);
  char label[32];
  pd__period_label(PD_PERIOD_DAY, day0, label, sizeof label);
  ck_assert_int_eq(lget(t, label, 0, "revenue"), h0);
  ck_assert_int_eq(lget(t, label, 1, "revenue"), h1);
  ck_assert_int_eq(lget(t, label, 2, "revenue"), h2);
  int64_t total = 0;
  for (size_t r = 0; r < pd_table_n_rows(t); r++) total += pd_table_get_int64(t, r, col(t, "revenue"));
  ck_assert_int_eq(total, 72);
  ck_assert_int_eq(lget(t, label, 0, "users"), 1);
  pd_table_free(t);
  pd_retention_partial_free(p);
}

START_TEST(berlin_dst) {
  dst_case(pd__days_from_civil(2024, 3, 31), 23, 24, 24);  /* spring forward: a 23-hour day */
  dst_case(pd__days_from_civil(2024, 10, 27), 25, 24, 23); /* fall back: 25 hours; 72-25-24 = 23 in day 2 */
  dst_case(pd__days_from_civil(2024, 3, 30), 24, 23, 24);
}
END_TEST

/* ---- start-only users, period 0, on-or-after, averages --------------------- */

START_TEST(period_zero_and_start_only) {
  int64_t d0 = utc(2024, 5, 6, 9, 0); /* a Monday */
  pd_retention_options o = PD_RETENTION_OPTIONS_INIT;
  pd_retention_partial *p = rnew(&o);
  FEED(p, radd, 0, {d0, ACQ, 0, 0});                                   /* only the start event */
  FEED(p, radd, 1, {d0, ACQ, 0, 0}, {d0 + H, VISIT, 0, 0});            /* returns in period 0 */
  FEED(p, radd, 2, {d0, ACQ, 0, 0}, {d0 + 2 * H, ACQ, 0, 0});          /* a second start is no return */
  FEED(p, radd, 3, {d0 - H, VISIT, 0, 0}, {d0, ACQ, 0, 0});            /* before the start: no return */
  FEED(p, radd, 4, {d0, VISIT, 0, 0}, {d0, ACQ, 0, 0}, {d0 + 2 * DAY, VISIT, 0, 0}); /* same instant, earlier: no */
  FEED(p, radd, 5, {d0, ACQ, 0, 0}, {d0, VISIT, 0, 0});                /* same instant, later: yes */
  FEED(p, radd, 6, {d0 + 3 * H, VISIT, 0, 0});                         /* never starts: in no cohort */
  pd_table *t = rfinish(p, PD_RETENTION_TABLE_LONG);
  ck_assert_uint_eq(pd_table_n_rows(t), 3); /* one cohort, k = 0..2 (data ends on day 2) */
  ck_assert_int_eq(lget(t, "2024-05-06", 0, "cohort_users"), 6);
  ck_assert_int_eq(lget(t, "2024-05-06", 0, "users"), 2);
  ck_assert_int_eq(lget(t, "2024-05-06", 1, "users"), 0);
  ck_assert_int_eq(lget(t, "2024-05-06", 2, "users"), 1);
  ck_assert_double_eq_tol(lrate(t, "2024-05-06", 0), 2.0 / 6.0, 1e-12);
  pd_table_free(t);
  pd_retention_partial_free(p);

  /* With acquire as a return type the second acquire of user 2 counts,
   * the first (the start itself) never does. */
  uint32_t rt[] = {ACQ};
  o.return_types = rt;
  o.n_return_types = 1;
  p = rnew(&o);
  FEED(p, radd, 0, {d0, ACQ, 0, 0});
  FEED(p, radd, 2, {d0, ACQ, 0, 0}, {d0 + 2 * H, ACQ, 0, 0});
  t = rfinish(p, PD_RETENTION_TABLE_LONG);
  ck_assert_int_eq(lget(t, "2024-05-06", 0, "cohort_users"), 2);
  ck_assert_int_eq(lget(t, "2024-05-06", 0, "users"), 1);
  pd_table_free(t);
  pd_retention_partial_free(p);
}
END_TEST

START_TEST(classic_on_or_after_average) {
  int64_t a = utc(2024, 1, 1, 10, 0), b = a + DAY;
  pd_retention_options o = PD_RETENTION_OPTIONS_INIT;
  for (int mode = 0; mode < 2; mode++) {
    o.mode = mode ? PD_RETENTION_ON_OR_AFTER : PD_RETENTION_CLASSIC;
    pd_retention_partial *p = rnew(&o);
    /* cohort 01-01: u0 returns on days 2 and 5, u1 on day 1, u2 never */
    FEED(p, radd, 0, {a, ACQ, 0, 0}, {a + 2 * DAY, VISIT, 0, 0}, {a + 5 * DAY, VISIT, 0, 0});
    FEED(p, radd, 1, {a, ACQ, 0, 0}, {a + DAY, VISIT, 0, 0});
    FEED(p, radd, 2, {a, ACQ, 0, 0});
    /* cohort 01-02: u3 returns on its day 1 */
    FEED(p, radd, 3, {b, ACQ, 0, 0}, {b + DAY, BUY, 0, 0});
    pd_table *t = rfinish(p, PD_RETENTION_TABLE_LONG);
    /* data ends on 01-06 (day 5 of the first cohort): K = 6 */
    ck_assert_uint_eq(pd_table_n_rows(t), 12);
    static const int64_t classic1[6] = {0, 1, 1, 0, 0, 1}, after1[6] = {2, 2, 1, 1, 1, 1};
    static const int64_t classic2[6] = {0, 1, 0, 0, 0, 0}, after2[6] = {1, 1, 0, 0, 0, 0};
    for (int k = 0; k < 6; k++) {
      ck_assert_int_eq(lget(t, "2024-01-01", k, "users"), mode ? after1[k] : classic1[k]);
      ck_assert_int_eq(lget(t, "2024-01-01", k, "eligible"), 3);
      ck_assert_int_eq(lget(t, "2024-01-02", k, "users"), mode ? after2[k] : classic2[k]);
      /* the second cohort's day 5 is 01-07: after the data end, not observable */
      size_t r = lrow(t, NULL, "2024-01-02", k);
      ck_assert_int_eq(pd_table_get_int64(t, r, col(t, "eligible")), k < 5 ? 1 : 0);
      ck_assert_int_eq(pd_table_is_null(t, r, col(t, "rate")), k == 5);
    }
    pd_table_free(t);
    /* Averages weighted by cohort size, over the observable cohorts. */
    t = rfinish(p, PD_RETENTION_TABLE_AVERAGE);
    ck_assert_uint_eq(pd_table_n_rows(t), 6);
    for (size_t k = 0; k < 6; k++) {
      int64_t users = (mode ? after1[k] : classic1[k]) + (k < 5 ? (mode ? after2[k] : classic2[k]) : 0);
      int64_t el = k < 5 ? 4 : 3;
      ck_assert_int_eq(pd_table_get_int64(t, k, col(t, "k")), (int64_t)k);
      ck_assert_int_eq(pd_table_get_int64(t, k, col(t, "cohorts")), k < 5 ? 2 : 1);
      ck_assert_int_eq(pd_table_get_int64(t, k, col(t, "eligible")), el);
      ck_assert_int_eq(pd_table_get_int64(t, k, col(t, "users")), users);
      ck_assert_double_eq_tol(pd_table_get_double(t, k, col(t, "rate")), (double)users / (double)el, 1e-12);
    }
    pd_table_free(t);
    /* The matrix: rates with nulls where not observable; counts. */
    t = rfinish(p, PD_RETENTION_TABLE_RATES);
    ck_assert_uint_eq(pd_table_n_rows(t), 2);
    ck_assert_uint_eq(pd_table_n_cols(t), 3 + 6);
    ck_assert_double_eq_tol(pd_table_get_double(t, 0, col(t, "1")), mode ? 2.0 / 3 : 1.0 / 3, 1e-12);
    ck_assert_int_eq(pd_table_is_null(t, 1, col(t, "5")), 1);
    ck_assert_int_eq(pd_table_get_int64(t, 1, col(t, "cohort_users")), 1);
    pd_table_free(t);
    t = rfinish(p, PD_RETENTION_TABLE_COUNTS);
    ck_assert_int_eq(pd_table_get_int64(t, 0, col(t, "2")), 1);
    ck_assert_int_eq(pd_table_get_int64(t, 0, col(t, "0")), mode ? 2 : 0);
    pd_table_free(t);
    pd_retention_partial_free(p);
  }
}
END_TEST

/* complete_only: the period holding the data end is not observable unless
 * the data end is its last millisecond; rolling windows likewise. */
START_TEST(complete_only) {
  int64_t a = utc(2024, 1, 1, 10, 0);
  pd_retention_options o = PD_RETENTION_OPTIONS_INIT;
  o.complete_only = 1;
  pd_retention_partial *p = rnew(&o);
  FEED(p, radd, 0, {a, ACQ, 0, 0}, {a + DAY, VISIT, 0, 0}, {a + 2 * DAY, VISIT, 0, 0});
  FEED(p, radd, 1, {a + DAY, ACQ, 0, 0});
  pd_table *t = rfinish(p, PD_RETENTION_TABLE_LONG);
  /* data end 01-03 10:00: 01-03 is partial. Cohort 01-01 keeps k0..k2 rows (k2 has data) but k2 is
   * not observable; cohort 01-02 k1 (= 01-03) neither. */
  ck_assert_int_eq(lget(t, "2024-01-01", 1, "eligible"), 1);
  ck_assert_int_eq(lget(t, "2024-01-01", 2, "eligible"), 0);
  ck_assert_int_eq(lget(t, "2024-01-01", 2, "users"), 1);
  ck_assert(pd_table_is_null(t, lrow(t, NULL, "2024-01-01", 2), col(t, "rate")));
  ck_assert_int_eq(lget(t, "2024-01-02", 0, "eligible"), 1);
  ck_assert_int_eq(lget(t, "2024-01-02", 1, "eligible"), 0);
  pd_table_free(t);
  pd_retention_partial_free(p);
  /* as_of at the last millisecond of 01-03: the day is complete */
  o.as_of_ms = utc(2024, 1, 4, 0, 0) - 1;
  p = rnew(&o);
  FEED(p, radd, 0, {a, ACQ, 0, 0}, {a + DAY, VISIT, 0, 0}, {a + 2 * DAY, VISIT, 0, 0});
  t = rfinish(p, PD_RETENTION_TABLE_LONG);
  ck_assert_int_eq(lget(t, "2024-01-01", 2, "eligible"), 1);
  pd_table_free(t);
  pd_retention_partial_free(p);
  /* rolling: window k is complete when start + (k+1) * 24 h <= as_of + 1 ms */
  o.as_of_ms = a + 2 * DAY - 1;
  o.window_ms = DAY;
  p = rnew(&o);
  FEED(p, radd, 0, {a, ACQ, 0, 0}, {a + DAY, VISIT, 0, 0});
  FEED(p, radd, 1, {a + H, ACQ, 0, 0});
  t = rfinish(p, PD_RETENTION_TABLE_LONG);
  ck_assert_int_eq(lget(t, "2024-01-01", 0, "eligible"), 2);
  ck_assert_int_eq(lget(t, "2024-01-01", 1, "eligible"), 1);
  ck_assert_int_eq(lget(t, "2024-01-01", 1, "users"), 1);
  pd_table_free(t);
  pd_retention_partial_free(p);
}
END_TEST

/* ---- revenue net of refunds ---------------------------------------------- */

START_TEST(revenue_refunds) {
  int64_t a = utc(2024, 2, 5, 8, 0); /* Monday */
  pd_retention_options o = PD_RETENTION_OPTIONS_INIT;
  o.period = PD_PERIOD_WEEK;
  pd_retention_partial *p = rnew(&o);
  /* a purchase before the start is not cohort revenue */
  FEED(p, radd, 0, {a - H, BUY, 0, 999}, {a, ACQ, 0, 0}, {a + H, BUY, 0, 1000}, {a + 7 * DAY, REFUND, 0, 400},
       {a + 14 * DAY, BUY, 0, 500});
  FEED(p, radd, 1, {a + DAY, ACQ, 0, 0}, {a + DAY, BUY, 0, 300}, {a + 15 * DAY, REFUND, 0, 300});
  pd_table *t = rfinish(p, PD_RETENTION_TABLE_LONG);
  ck_assert_int_eq(lget(t, "2024-W06", 0, "cohort_users"), 2);
  ck_assert_int_eq(lget(t, "2024-W06", 0, "revenue"), 1300);
  ck_assert_int_eq(lget(t, "2024-W06", 1, "revenue"), -400);
  ck_assert_int_eq(lget(t, "2024-W06", 2, "revenue"), 200);
  double cum[3] = {650.0, 450.0, 550.0};
  for (int k = 0; k < 3; k++) {
    size_t r = lrow(t, NULL, "2024-W06", k);
    ck_assert_double_eq_tol(pd_table_get_double(t, r, col(t, "cum_revenue_per_user")), cum[k], 1e-9);
  }
  /* refunds are events too: both users returned in week 1 or 2 */
  /* user 0's purchase; user 1's purchase ties the start's time but follows it */
  ck_assert_int_eq(lget(t, "2024-W06", 0, "users"), 2);
  ck_assert_int_eq(lget(t, "2024-W06", 1, "users"), 1); /* the refund is an event: a return */
  pd_table_free(t);
  t = rfinish(p, PD_RETENTION_TABLE_AVERAGE);
  ck_assert_double_eq_tol(pd_table_get_double(t, 2, col(t, "cum_revenue_per_user")), 550.0, 1e-9);
  ck_assert_int_eq(pd_table_get_int64(t, 1, col(t, "revenue")), -400);
  pd_table_free(t);
  pd_retention_partial_free(p);
}
END_TEST

/* ---- recurring cohorts, rolling windows, return filters, breakdowns ---- */

START_TEST(recurring_and_rolling) {
  int64_t a = utc(2024, 4, 1, 10, 0);
  pd_retention_options o = PD_RETENTION_OPTIONS_INIT;
  for (int rec = 0; rec < 2; rec++) {
    o.recurring = rec;
    pd_retention_partial *p = rnew(&o);
    FEED(p, radd, 0, {a, ACQ, 0, 0}, {a + 2 * H, ACQ, 0, 0}, {a + DAY, VISIT, 0, 0}, {a + 3 * DAY, ACQ, 0, 0},
         {a + 4 * DAY, VISIT, 0, 0});
    pd_table *t = rfinish(p, PD_RETENTION_TABLE_LONG);
    ck_assert_uint_eq(n_cohorts(t), rec ? 2 : 1);
    ck_assert_int_eq(lget(t, "2024-04-01", 0, "cohort_users"), 1);
    ck_assert_int_eq(lget(t, "2024-04-01", 1, "users"), 1);
    ck_assert_int_eq(lget(t, "2024-04-01", 3, "users"), 0); /* a start is not a return */
    ck_assert_int_eq(lget(t, "2024-04-01", 4, "users"), 1);
    if (rec) {
      ck_assert_int_eq(lget(t, "2024-04-04", 0, "cohort_users"), 1);
      ck_assert_int_eq(lget(t, "2024-04-04", 1, "users"), 1);
      ck_assert_int_eq(lget(t, "2024-04-04", 0, "users"), 0);
    }
    pd_table_free(t);
    pd_retention_partial_free(p);
  }
  /* Rolling 24-hour windows: 23 h later is window 0, 24 h later window 1. */
  o.recurring = 0;
  o.window_ms = DAY;
  pd_retention_partial *p = rnew(&o);
  FEED(p, radd, 0, {a, ACQ, 0, 0}, {a + 23 * H, VISIT, 0, 0});
  FEED(p, radd, 1, {a + 6 * H, ACQ, 0, 0}, {a + 30 * H, VISIT, 0, 0});
  FEED(p, radd, 2, {a + 12 * H, ACQ, 0, 0}, {a + 12 * H + 2 * DAY - 1, VISIT, 0, 0});
  pd_table *t = rfinish(p, PD_RETENTION_TABLE_LONG);
  /* data end a+12h+2d-1: windows k of a user are observable when start + k*24h <= end */
  ck_assert_uint_eq(pd_table_n_rows(t), 3);
  ck_assert_int_eq(lget(t, "2024-04-01", 0, "users"), 1);
  ck_assert_int_eq(lget(t, "2024-04-01", 1, "users"), 2);
  ck_assert_int_eq(lget(t, "2024-04-01", 2, "eligible"), 2); /* a+2d and a+6h+2d <= end; a+12h+2d is not */
  ck_assert_int_eq(lget(t, "2024-04-01", 1, "eligible"), 3);
  pd_table_free(t);
  pd_retention_partial_free(p);
  /* Calendar days: u0's return 23 h later is the next day. */
  o.window_ms = 0;
  p = rnew(&o);
  FEED(p, radd, 0, {a, ACQ, 0, 0}, {a + 23 * H, VISIT, 0, 0});
  t = rfinish(p, PD_RETENTION_TABLE_LONG);
  ck_assert_int_eq(lget(t, "2024-04-01", 1, "users"), 1);
  ck_assert_int_eq(lget(t, "2024-04-01", 0, "users"), 0);
  pd_table_free(t);
  pd_retention_partial_free(p);
}
END_TEST

START_TEST(filters_and_breakdowns) {
  int64_t a = utc(2024, 4, 1, 10, 0);
  /* touchpoints 0 (public), 1 (private), 2 (private) */
  static const uint8_t domains[] = {PD_DOMAIN_PUBLIC, PD_DOMAIN_PRIVATE, PD_DOMAIN_PRIVATE};
  pd_retention_options o = PD_RETENTION_OPTIONS_INIT;
  o.domains = domains;
  o.n_domains = 3;
  o.return_domain = PD_DOMAIN_PRIVATE;
  o.by = PD_RETENTION_BY_ACQ_TOUCHPOINT;
  pd_retention_partial *p = rnew(&o);
  FEED(p, radd, 0, {a, ACQ, 0, 0}, {a + DAY, VISIT, 0, 0});               /* public return: not counted */
  FEED(p, radd, 1, {a, ACQ, 0, 0}, {a + DAY, VISIT, 2, 0});               /* private return */
  FEED(p, radd, 2, {a, ACQ, 1, 0}, {a + DAY, VISIT, PD_NONE, 0});         /* no touchpoint: not counted */
  FEED(p, radd, 3, {a, ACQ, PD_NONE, 0}, {a + DAY, VISIT, 1, 0});         /* group (none) */
  pd_table *t = rfinish(p, PD_RETENTION_TABLE_LONG);
  size_t g = col(t, "group");
  ck_assert_str_eq(pd_table_get_string(t, 0, g), "(none)");
  ck_assert_int_eq(pd_table_get_int64(t, lrow(t, "#0", "2024-04-01", 1), col(t, "users")), 1);
  ck_assert_int_eq(pd_table_get_int64(t, lrow(t, "#0", "2024-04-01", 1), col(t, "cohort_users")), 2);
  ck_assert_int_eq(pd_table_get_int64(t, lrow(t, "#1", "2024-04-01", 1), col(t, "users")), 0);
  ck_assert_int_eq(pd_table_get_int64(t, lrow(t, "(none)", "2024-04-01", 1), col(t, "users")), 1);
  pd_table_free(t);
  pd_retention_partial_free(p);

  /* By acquisition domain; returns only at touchpoint 1. */
  uint32_t tps[] = {1};
  o.return_domain = -1;
  o.return_touchpoints = tps;
  o.n_return_touchpoints = 1;
  o.by = PD_RETENTION_BY_ACQ_DOMAIN;
  p = rnew(&o);
  FEED(p, radd, 0, {a, ACQ, 0, 0}, {a + DAY, VISIT, 1, 0});
  FEED(p, radd, 1, {a, ACQ, 1, 0}, {a + DAY, VISIT, 2, 0});
  FEED(p, radd, 2, {a, ACQ, 2, 0}, {a + DAY, VISIT, 1, 0});
  t = rfinish(p, PD_RETENTION_TABLE_AVERAGE);
  ck_assert_uint_eq(pd_table_n_rows(t), 4); /* public k0,k1; private k0,k1 */
  g = col(t, "group");
  ck_assert_str_eq(pd_table_get_string(t, 0, g), "public");
  ck_assert_str_eq(pd_table_get_string(t, 3, g), "private");
  ck_assert_int_eq(pd_table_get_int64(t, 1, col(t, "users")), 1);
  ck_assert_int_eq(pd_table_get_int64(t, 3, col(t, "users")), 1);
  ck_assert_int_eq(pd_table_get_int64(t, 3, col(t, "eligible")), 2);
  pd_table_free(t);
  pd_retention_partial_free(p);
}
END_TEST

START_TEST(bad_options) {
  pd_retention_options o = PD_RETENTION_OPTIONS_INIT;
  pd_retention_partial *p = NULL;
  o.tz = "Mars/Olympus";
  ck_assert_int_eq(pd_retention_partial_new(&o, &p), PD_ERR_INVALID);
  o.tz = NULL;
  o.period = (pd_period)9;
  ck_assert_int_eq(pd_retention_partial_new(&o, &p), PD_ERR_INVALID);
  o.period = PD_PERIOD_DAY;
  o.size = 3;
  ck_assert_int_eq(pd_retention_partial_new(&o, &p), PD_ERR_INVALID);
  o.size = sizeof o;
  o.window_ms = -1;
  ck_assert_int_eq(pd_retention_partial_new(&o, &p), PD_ERR_INVALID);
  ck_assert_ptr_null(p);
  pd_stickiness_options so = PD_STICKINESS_OPTIONS_INIT;
  so.period = PD_PERIOD_DAY;
  pd_stickiness_partial *sp = NULL;
  ck_assert_int_eq(pd_stickiness_partial_new(&so, &sp), PD_ERR_INVALID);
}
END_TEST

/* ---- lifecycle -------------------------------------------------------- */

static void assert_reconciles(const pd_table *t) {
  int64_t prev = 0;
  for (size_t r = 0; r < pd_table_n_rows(t); r++) {
    int64_t act = pd_table_get_int64(t, r, col(t, "active"));
    int64_t nw = pd_table_get_int64(t, r, col(t, "new")), ret = pd_table_get_int64(t, r, col(t, "returning"));
    int64_t res = pd_table_get_int64(t, r, col(t, "resurrecting")), dor = pd_table_get_int64(t, r, col(t, "dormant"));
    ck_assert_int_eq(act, nw + ret + res);
    ck_assert_int_eq(prev, ret + dor);
    ck_assert_int_eq(pd_table_get_int64(t, r, col(t, "active_prev")), prev);
    ck_assert_int_eq(pd_table_get_int64(t, r, col(t, "dormant_neg")), -dor);
    prev = act;
  }
}

START_TEST(lifecycle_hand) {
  int64_t w0 = utc(2024, 1, 1, 12, 0); /* Monday of 2024-W01 */
  pd_lifecycle_options o = PD_LIFECYCLE_OPTIONS_INIT;
  pd_lifecycle_partial *p = NULL;
  ck_assert_int_eq(pd_lifecycle_partial_new(&o, &p), PD_OK);
  /* u0 weeks 0,1,3; u1 weeks 1,2; u2 week 3; u3 weeks 0,1,2,3 */
  FEED(p, ladd, 0, {w0, ACQ, 0, 0}, {w0 + DAY, VISIT, 0, 0}, {w0 + 8 * DAY, VISIT, 0, 0}, {w0 + 22 * DAY, VISIT, 0, 0});
  FEED(p, ladd, 1, {w0 + 7 * DAY, ACQ, 0, 0}, {w0 + 14 * DAY, VISIT, 0, 0});
  FEED(p, ladd, 2, {w0 + 21 * DAY, ACQ, 0, 0});
  FEED(p, ladd, 3, {w0, ACQ, 0, 0}, {w0 + 7 * DAY, VISIT, 0, 0}, {w0 + 14 * DAY, VISIT, 0, 0}, {w0 + 21 * DAY, VISIT, 0, 0});
  pd_table *t = NULL;
  ck_assert_int_eq(pd_lifecycle_partial_finish(p, &t), PD_OK);
  ck_assert_uint_eq(pd_table_n_rows(t), 4);
  /*            active new ret res dormant */
  static const int64_t want[4][5] = {{2, 2, 0, 0, 0}, {3, 1, 2, 0, 0}, {2, 0, 2, 0, 1}, {3, 1, 1, 1, 1}};
  static const char *names[5] = {"active", "new", "returning", "resurrecting", "dormant"};
  for (size_t r = 0; r < 4; r++)
    for (int j = 0; j < 5; j++) ck_assert_int_eq(pd_table_get_int64(t, r, col(t, names[j])), want[r][j]);
  ck_assert_str_eq(pd_table_get_string(t, 0, col(t, "period")), "2024-W01");
  ck_assert_str_eq(pd_table_get_string(t, 3, col(t, "period")), "2024-W04");
  assert_reconciles(t);
  pd_table_free(t);
  pd_lifecycle_partial_free(p);
}
END_TEST

/* Reconciliation on random users in every period and a DST zone, merged from two partials. */
START_TEST(lifecycle_random_reconciles) {
  static const pd_period periods[] = {PD_PERIOD_DAY, PD_PERIOD_WEEK, PD_PERIOD_WEEK_SUNDAY, PD_PERIOD_MONTH};
  for (int pi = 0; pi < 4; pi++) {
    pd_lifecycle_options o = PD_LIFECYCLE_OPTIONS_INIT;
    o.period = periods[pi];
    o.tz = "Europe/Berlin";
    pd_lifecycle_partial *p[2] = {NULL, NULL};
    ck_assert_int_eq(pd_lifecycle_partial_new(&o, &p[0]), PD_OK);
    ck_assert_int_eq(pd_lifecycle_partial_new(&o, &p[1]), PD_OK);
    GRand *rng = g_rand_new_with_seed(42 + (guint32)pi);
    int64_t users_active = 0;
    for (uint32_t u = 0; u < 500; u++) {
      ev e[60];
      size_t n = (size_t)g_rand_int_range(rng, 1, 60);
      int64_t t = utc(2024, 1, 1, 0, 0) + g_rand_int_range(rng, 0, 300) * H * 24;
      for (size_t i = 0; i < n; i++) {
        t += (int64_t)g_rand_int_range(rng, 0, 20 * 24) * H / (g_rand_boolean(rng) ? 1 : 10);
        e[i] = (ev){t, (uint16_t)g_rand_int_range(rng, 0, 12), 0, 0};
      }
      feed(p[u & 1], ladd, u, e, n);
      users_active++;
    }
    g_rand_free(rng);
    ck_assert_int_eq(pd_lifecycle_partial_merge(p[0], p[1]), PD_OK);
    pd_table *t = NULL;
    ck_assert_int_eq(pd_lifecycle_partial_finish(p[0], &t), PD_OK);
    assert_reconciles(t);
    int64_t news = 0;
    for (size_t r = 0; r < pd_table_n_rows(t); r++) news += pd_table_get_int64(t, r, col(t, "new"));
    ck_assert_int_eq(news, users_active);
    pd_table_free(t);
    pd_lifecycle_partial_free(p[0]);
    pd_lifecycle_partial_free(p[1]);
  }
}
END_TEST

/* ---- stickiness ------------------------------------------------------- */

START_TEST(stickiness_hand) {
  int64_t mon = utc(2024, 1, 29, 9, 0); /* Monday 2024-01-29; Feb 1 is Thursday */
  pd_stickiness_options o = PD_STICKINESS_OPTIONS_INIT;
  pd_stickiness_partial *p = NULL;
  ck_assert_int_eq(pd_stickiness_partial_new(&o, &p), PD_OK);
  /* u0: Mon twice, Tue, Sun (3 days) in W05; Mon of W06 (1 day) */
  FEED(p, sadd, 0, {mon, VISIT, 0, 0}, {mon + H, VISIT, 0, 0}, {mon + DAY, VISIT, 0, 0}, {mon + 6 * DAY, VISIT, 0, 0},
       {mon + 7 * DAY, VISIT, 0, 0});
  /* u1: all 7 days of W05 */
  FEED(p, sadd, 1, {mon, ACQ, 0, 0}, {mon + DAY, VISIT, 0, 0}, {mon + 2 * DAY, VISIT, 0, 0}, {mon + 3 * DAY, VISIT, 0, 0},
       {mon + 4 * DAY, VISIT, 0, 0}, {mon + 5 * DAY, VISIT, 0, 0}, {mon + 6 * DAY, VISIT, 0, 0});
  pd_table *t = NULL;
  ck_assert_int_eq(pd_stickiness_partial_finish(p, &t), PD_OK);
  ck_assert_uint_eq(pd_table_n_rows(t), 7);
  static const int64_t want[7] = {1, 0, 1, 0, 0, 0, 1};
  for (size_t r = 0; r < 7; r++) {
    ck_assert_int_eq(pd_table_get_int64(t, r, col(t, "active_units")), (int64_t)r + 1);
    ck_assert_int_eq(pd_table_get_int64(t, r, col(t, "users")), want[r]);
  }
  ck_assert_double_eq_tol(pd_table_get_double(t, 2, col(t, "share")), 1.0 / 3, 1e-12);
  ck_assert_double_eq_tol(pd_table_get_double(t, 2, col(t, "cum_share")), 2.0 / 3, 1e-12);
  pd_table_free(t);
  pd_stickiness_partial_free(p);

  /* Weeks per month: u0 is active Jan 29, 30, Feb 4 (Sun, W05) and Feb 5 (W06): January 1 week,
   * February 2 weeks (W05 via Feb 4, W06). u1: Jan 29-31 (1 week) and Feb 1-4 (1 week). */
  o.period = PD_PERIOD_MONTH;
  o.per_period = 1;
  ck_assert_int_eq(pd_stickiness_partial_new(&o, &p), PD_OK);
  FEED(p, sadd, 0, {mon, VISIT, 0, 0}, {mon + H, VISIT, 0, 0}, {mon + DAY, VISIT, 0, 0}, {mon + 6 * DAY, VISIT, 0, 0},
       {mon + 7 * DAY, VISIT, 0, 0});
  FEED(p, sadd, 1, {mon, ACQ, 0, 0}, {mon + DAY, VISIT, 0, 0}, {mon + 2 * DAY, VISIT, 0, 0}, {mon + 3 * DAY, VISIT, 0, 0},
       {mon + 4 * DAY, VISIT, 0, 0}, {mon + 5 * DAY, VISIT, 0, 0}, {mon + 6 * DAY, VISIT, 0, 0});
  ck_assert_int_eq(pd_stickiness_partial_finish(p, &t), PD_OK);
  ck_assert_uint_eq(pd_table_n_rows(t), 12); /* 2 months x 6 */
  ck_assert_str_eq(pd_table_get_string(t, 0, col(t, "period")), "2024-01");
  ck_assert_int_eq(pd_table_get_int64(t, 0, col(t, "users")), 2);  /* Jan: both 1 week */
  ck_assert_str_eq(pd_table_get_string(t, 6, col(t, "period")), "2024-02");
  ck_assert_int_eq(pd_table_get_int64(t, 6, col(t, "users")), 1);  /* Feb: u1 1 week */
  ck_assert_int_eq(pd_table_get_int64(t, 7, col(t, "users")), 1);  /* Feb: u0 2 weeks */
  pd_table_free(t);
  pd_stickiness_partial_free(p);
}
END_TEST

/* Days per week in Shanghai: 23:30 and 00:30 local are two days there, one in UTC. */
START_TEST(stickiness_shanghai) {
  int64_t t0 = utc(2024, 3, 5, 15, 30);
  for (int z = 0; z < 2; z++) {
    pd_stickiness_options o = PD_STICKINESS_OPTIONS_INIT;
    o.tz = z ? "Asia/Shanghai" : NULL;
    pd_stickiness_partial *p = NULL;
    ck_assert_int_eq(pd_stickiness_partial_new(&o, &p), PD_OK);
    FEED(p, sadd, 0, {t0, VISIT, 0, 0}, {t0 + H, VISIT, 0, 0});
    pd_table *t = NULL;
    ck_assert_int_eq(pd_stickiness_partial_finish(p, &t), PD_OK);
    ck_assert_int_eq(pd_table_get_int64(t, z ? 1 : 0, col(t, "users")), 1);
    pd_table_free(t);
    pd_stickiness_partial_free(p);
  }
}
END_TEST

/* ---- merge equals one pass ----------------------------------------------- */

static void assert_tables_equal(const pd_table *a, const pd_table *b) {
  ck_assert_uint_eq(pd_table_n_rows(a), pd_table_n_rows(b));
  ck_assert_uint_eq(pd_table_n_cols(a), pd_table_n_cols(b));
  for (size_t c = 0; c < pd_table_n_cols(a); c++) {
    ck_assert_str_eq(pd_table_col_name(a, c), pd_table_col_name(b, c));
    for (size_t r = 0; r < pd_table_n_rows(a); r++) {
      ck_assert_int_eq(pd_table_is_null(a, r, c), pd_table_is_null(b, r, c));
      switch (pd_table_col_type(a, c)) {
      case PD_TYPE_INT64: ck_assert_int_eq(pd_table_get_int64(a, r, c), pd_table_get_int64(b, r, c)); break;
      case PD_TYPE_DOUBLE:
        ck_assert_double_eq_tol(pd_table_get_double(a, r, c), pd_table_get_double(b, r, c), 1e-9);
        break;
      default: ck_assert_str_eq(pd_table_get_string(a, r, c), pd_table_get_string(b, r, c));
      }
    }
  }
}

START_TEST(merge_equals_one_pass) {
  for (int variant = 0; variant < 4; variant++) {
    pd_retention_options o = PD_RETENTION_OPTIONS_INIT;
    o.period = variant & 1 ? PD_PERIOD_WEEK : PD_PERIOD_DAY;
    o.recurring = variant == 2;
    o.window_ms = variant == 3 ? DAY : 0;
    o.mode = variant & 2 ? PD_RETENTION_ON_OR_AFTER : PD_RETENTION_CLASSIC;
    o.tz = "Asia/Shanghai";
    pd_retention_partial *one = rnew(&o), *a = rnew(&o), *b = rnew(&o);
    GRand *rng = g_rand_new_with_seed(7 + (guint32)variant);
    for (uint32_t u = 0; u < 400; u++) {
      ev e[40];
      size_t n = (size_t)g_rand_int_range(rng, 1, 40);
      int64_t t = utc(2024, 6, 1, 0, 0) + g_rand_int_range(rng, 0, 40) * DAY;
      for (size_t i = 0; i < n; i++) {
        t += (int64_t)g_rand_int_range(rng, 0, 72) * H;
        uint16_t ty = (uint16_t)(g_rand_int_range(rng, 0, 4) == 0 ? ACQ : g_rand_int_range(rng, 1, 7));
        e[i] = (ev){t, ty, 0, ty == BUY || ty == REFUND ? g_rand_int_range(rng, 1, 5000) : 0};
      }
      feed(one, radd, u, e, n);
      feed(u % 3 ? a : b, radd, u, e, n);
    }
    g_rand_free(rng);
    ck_assert_int_eq(pd_retention_partial_merge(a, b), PD_OK);
    for (int w = 0; w < 4; w++) {
      pd_table *x = rfinish(one, (pd_retention_table)w), *y = rfinish(a, (pd_retention_table)w);
      assert_tables_equal(x, y);
      pd_table_free(x);
      pd_table_free(y);
    }
    pd_retention_partial_free(one);
    pd_retention_partial_free(a);
    pd_retention_partial_free(b);
  }
}
END_TEST

/* ---- through a store ------------------------------------------------------ */

static void add_store_tests(Suite *s);

int main(void) {
  Suite *s = suite_create("retention");
  TCase *tc = tcase_create("hand");
  tcase_add_test(tc, shanghai_boundaries);
  tcase_add_test(tc, berlin_dst);
  tcase_add_test(tc, period_zero_and_start_only);
  tcase_add_test(tc, classic_on_or_after_average);
  tcase_add_test(tc, revenue_refunds);
  tcase_add_test(tc, complete_only);
  tcase_add_test(tc, recurring_and_rolling);
  tcase_add_test(tc, filters_and_breakdowns);
  tcase_add_test(tc, bad_options);
  tcase_add_test(tc, lifecycle_hand);
  tcase_add_test(tc, lifecycle_random_reconciles);
  tcase_add_test(tc, stickiness_hand);
  tcase_add_test(tc, stickiness_shanghai);
  tcase_add_test(tc, merge_equals_one_pass);
  suite_add_tcase(s, tc);
  add_store_tests(s);
  return pd_test_run(s);
}

/* A store whose events are appended out of time order, across commits
 * and a compaction, gives the same tables as the sorted runs fed by hand. */
START_TEST(store_out_of_order) {
  char *dir = pd_test_tmpdir("retention");
  pd_store *st = pd_test_open(dir, 1);
  pd_writer *w = NULL;
  PD_CHECK(pd_writer_open(&w, st));
  static const pd_domain dom[2] = {PD_DOMAIN_PUBLIC, PD_DOMAIN_PRIVATE};
  for (uint32_t i = 0; i < 2; i++) {
    char name[8];
    snprintf(name, sizeof name, "tp%u", i);
    pd_touchpoint_def d = PD_TOUCHPOINT_DEF_INIT;
    d.name = name;
    d.domain = dom[i];
    uint32_t id;
    PD_CHECK(pd_writer_touchpoint(w, &d, &id));
    ck_assert_uint_eq(id, i);
  }
  int64_t a = utc(2024, 3, 4, 15, 30); /* Monday 23:30 in Shanghai */
  /* time order per user; written below in the order `order` */
  const ev users[3][5] = {
      {{a, ACQ, 0, 0}, {a + H, VISIT, 1, 0}, {a + DAY, BUY, 1, 800}, {a + 2 * DAY, REFUND, 1, 300}, {a + 9 * DAY, VISIT, 0, 0}},
      {{a + 2 * H, ACQ, 1, 0}, {a + 2 * H, VISIT, 1, 0}, {a + 3 * DAY, VISIT, 1, 0}, {a + 3 * DAY, BUY, 1, 100},
       {a + 10 * DAY, VISIT, 1, 0}},
      {{a + DAY, VISIT, 0, 0}, {a + 2 * DAY, ACQ, 0, 0}, {a + 2 * DAY, ACQ, 0, 0}, {a + 5 * DAY, VISIT, 0, 0},
       {a + 5 * DAY, VISIT, 1, 0}}};
  uint32_t uid[3];
  for (int u = 0; u < 3; u++) {
    char name[8];
    snprintf(name, sizeof name, "u%d", u);
    PD_CHECK(pd_writer_user(w, name, &uid[u]));
  }
  /* Latest events first, user by user interleaved; equal timestamps keep their
   * relative order, so (time, insertion) order is the time order above. */
  static const int order[5] = {4, 3, 2, 1, 0};
  for (int j = 0; j < 5; j++) {
    for (int u = 0; u < 3; u++) {
      int i = order[j];
      /* equal-time pairs (u1 events 0,1 and 2,3; u2 events 1,2 and 3,4) are written in order */
      if ((u == 1 && (i == 0 || i == 2)) || (u == 2 && (i == 1 || i == 3))) i++;
      else if ((u == 1 && (i == 1 || i == 3)) || (u == 2 && (i == 2 || i == 4))) i--;
      const ev *e = &users[u][i];
      pd_event pe = {e->t, uid[u], e->type, e->tp, PD_NONE, e->amount};
      PD_CHECK(pd_writer_append(w, &pe));
    }
    PD_CHECK(pd_writer_commit(w));
    if (j == 2) PD_CHECK(pd_store_compact(st));
  }
  pd_writer_close(w);

  static const uint8_t domains[2] = {PD_DOMAIN_PUBLIC, PD_DOMAIN_PRIVATE};
  for (int variant = 0; variant < 3; variant++) {
    pd_retention_options o = PD_RETENTION_OPTIONS_INIT;
    o.tz = "Asia/Shanghai";
    o.period = variant == 1 ? PD_PERIOD_WEEK : PD_PERIOD_DAY;
    o.by = variant == 2 ? PD_RETENTION_BY_ACQ_DOMAIN : PD_RETENTION_BY_NONE;
    o.mode = variant == 2 ? PD_RETENTION_ON_OR_AFTER : PD_RETENTION_CLASSIC;
    pd_table *tl = NULL, *tr = NULL, *ta = NULL;
    pd_scan_options so = PD_SCAN_OPTIONS_INIT;
    so.threads = 2;
    PD_CHECK(pd_retention_run(st, &o, &so, &tl, &tr, &ta));
    o.domains = domains;
    o.n_domains = 2;
    pd_retention_partial *p = rnew(&o);
    for (int u = 0; u < 3; u++) feed(p, radd, uid[u], users[u], 5);
    pd_table *want = NULL;
    PD_CHECK(pd_retention_partial_finish(p, st, PD_RETENTION_TABLE_LONG, &want));
    assert_tables_equal(tl, want);
    pd_table_free(want);
    PD_CHECK(pd_retention_partial_finish(p, st, PD_RETENTION_TABLE_RATES, &want));
    assert_tables_equal(tr, want);
    pd_table_free(want);
    PD_CHECK(pd_retention_partial_finish(p, st, PD_RETENTION_TABLE_AVERAGE, &want));
    assert_tables_equal(ta, want);
    pd_table_free(want);
    pd_retention_partial_free(p);
    if (variant == 0) {
      /* Shanghai days: u0 starts 03-04 (23:30) and returns 00:30 on 03-05 (k1), buys k1, refund k2, visit k9;
       * u1 starts 03-05 01:30 local with a visit at the same instant (k0), then 03-07 23:30 (k2), k9;
       * u2 starts 03-06 23:30 (the second acquire is no return), returns k3. */
      ck_assert_int_eq(lget(tl, "2024-03-04", 0, "cohort_users"), 1);
      ck_assert_int_eq(lget(tl, "2024-03-04", 1, "users"), 1);
      ck_assert_int_eq(lget(tl, "2024-03-04", 1, "revenue"), 800);
      ck_assert_int_eq(lget(tl, "2024-03-04", 2, "revenue"), -300);
      ck_assert_int_eq(lget(tl, "2024-03-04", 9, "users"), 1);
      ck_assert_int_eq(lget(tl, "2024-03-05", 0, "users"), 1);
      ck_assert_int_eq(lget(tl, "2024-03-05", 2, "revenue"), 100);
      ck_assert_int_eq(lget(tl, "2024-03-05", 2, "users"), 1);
      ck_assert_int_eq(lget(tl, "2024-03-06", 0, "users"), 0);
      ck_assert_int_eq(lget(tl, "2024-03-06", 3, "users"), 1);
      ck_assert_int_eq(lget(tl, "2024-03-06", 0, "cohort_users"), 1);
    }
    if (variant == 2) {
      ck_assert_str_eq(pd_table_get_string(ta, 0, col(ta, "group")), "public");
    }
    pd_table_free(tl);
    pd_table_free(tr);
    pd_table_free(ta);
  }
  /* lifecycle and stickiness through the store equal the hand-fed partials */
  pd_lifecycle_options lo = PD_LIFECYCLE_OPTIONS_INIT;
  lo.period = PD_PERIOD_DAY;
  lo.tz = "Asia/Shanghai";
  pd_table *lt = NULL, *lw = NULL;
  PD_CHECK(pd_lifecycle_run(st, &lo, NULL, &lt));
  pd_lifecycle_partial *lp = NULL;
  PD_CHECK(pd_lifecycle_partial_new(&lo, &lp));
  for (int u = 0; u < 3; u++) feed(lp, ladd, uid[u], users[u], 5);
  PD_CHECK(pd_lifecycle_partial_finish(lp, &lw));
  assert_tables_equal(lt, lw);
  assert_reconciles(lt);
  pd_table_free(lt);
  pd_table_free(lw);
  pd_lifecycle_partial_free(lp);
  pd_stickiness_options sto = PD_STICKINESS_OPTIONS_INIT;
  sto.tz = "Asia/Shanghai";
  sto.per_period = 1;
  PD_CHECK(pd_stickiness_run(st, &sto, NULL, &lt));
  pd_stickiness_partial *sp = NULL;
  PD_CHECK(pd_stickiness_partial_new(&sto, &sp));
  for (int u = 0; u < 3; u++) feed(sp, sadd, uid[u], users[u], 5);
  PD_CHECK(pd_stickiness_partial_finish(sp, &lw));
  assert_tables_equal(lt, lw);
  pd_table_free(lt);
  pd_table_free(lw);
  pd_stickiness_partial_free(sp);
  pd_store_close(st);
  pd_test_rmdir(dir);
  g_free(dir);
}
END_TEST

START_TEST(store_empty) {
  char *dir = pd_test_tmpdir("empty");
  pd_store *st = pd_test_open(dir, 1);
  pd_retention_options o = PD_RETENTION_OPTIONS_INIT;
  pd_table *tl = NULL, *ta = NULL;
  PD_CHECK(pd_retention_run(st, &o, NULL, &tl, NULL, &ta));
  ck_assert_uint_eq(pd_table_n_rows(tl), 0);
  ck_assert_uint_eq(pd_table_n_rows(ta), 0);
  pd_table_free(tl);
  pd_table_free(ta);
  pd_lifecycle_options lo = PD_LIFECYCLE_OPTIONS_INIT;
  PD_CHECK(pd_lifecycle_run(st, &lo, NULL, &tl));
  ck_assert_uint_eq(pd_table_n_rows(tl), 0);
  pd_table_free(tl);
  pd_store_close(st);
  pd_test_rmdir(dir);
  g_free(dir);
}
END_TEST

#include "retention_ref.h"

static void add_store_tests(Suite *s) {
  TCase *tc = tcase_create("store");
  tcase_set_timeout(tc, 600);
  tcase_add_test(tc, store_out_of_order);
  tcase_add_test(tc, store_empty);
  suite_add_tcase(s, tc);
  /* The 100k-user agreement runs as its own meson test (suite slow, see tests/meson.build). */
  if (getenv("PD_SLOW_TESTS")) {
    tc = tcase_create("slow");
    tcase_set_timeout(tc, 1200);
    tcase_add_test(tc, store_agreement_100k);
    suite_add_tcase(s, tc);
  }
}
