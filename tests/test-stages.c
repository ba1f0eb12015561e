/* AARRR / RARRA stage report on a hand-built store with hand-worked figures. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "privdomain.h"
#include "testutil.h"

#define H INT64_C(3600000)
#define D (24 * H)

static int64_t utc(int y, int m, int d, int h) { /* civil UTC time, for readability */
  struct { int y, m, d; } c = {y, m, d};
  int64_t yy = c.y - (c.m <= 2);
  int64_t era = (yy >= 0 ? yy : yy - 399) / 400;
  int64_t yoe = yy - era * 400;
  int64_t doy = (153 * (c.m + (c.m > 2 ? -3 : 9)) + 2) / 5 + c.d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return (era * 146097 + doe - 719468) * D + h * H;
}

static void ev(pd_writer *w, uint32_t u, int64_t t, uint32_t type, uint32_t tp, uint32_t ref, int64_t amount) {
  pd_event e = {t, u, type, tp, ref, amount};
  PD_CHECK(pd_writer_append(w, &e));
}

static char *build(void) {
  char *dir = pd_test_tmpdir("stages");
  pd_store *s = pd_test_open(dir, 1);
  pd_writer *w = NULL;
  PD_CHECK(pd_writer_open(&w, s));
  const pd_domain dom[3] = {PD_DOMAIN_PUBLIC, PD_DOMAIN_PRIVATE, PD_DOMAIN_SEMI};
  const char *names[3] = {"feed_ad", "wecom", "partner_group"};
  for (int i = 0; i < 3; i++) {
    pd_touchpoint_def d = PD_TOUCHPOINT_DEF_INIT;
    d.name = names[i];
    d.domain = dom[i];
    uint32_t id;
    PD_CHECK(pd_writer_touchpoint(w, &d, &id));
  }
  uint32_t u[7];
  for (int i = 0; i < 7; i++) {
    char n[8];
    snprintf(n, sizeof n, "u%d", i);
    PD_CHECK(pd_writer_user(w, n, &u[i]));
  }
  const int64_t from = utc(2024, 2, 29, 16); /* 2024-03-01 00:00 in Shanghai */
  /* u0: acquired in February (earlier cohort), active both months, two purchases */
  ev(w, u[0], utc(2024, 2, 10, 4), PD_EV_ACQUIRE, 0, PD_NONE, 0);
  ev(w, u[0], utc(2024, 2, 20, 4), PD_EV_VISIT, PD_NONE, PD_NONE, 0);
  ev(w, u[0], utc(2024, 3, 5, 4), PD_EV_PURCHASE, 1, PD_NONE, 100);
  ev(w, u[0], utc(2024, 3, 6, 4), PD_EV_PURCHASE, 1, PD_NONE, 50);
  /* u1: new through wecom, activates in 3 days, back on day 7, buys, invites twice */
  int64_t a1 = utc(2024, 3, 2, 4);
  ev(w, u[1], a1, PD_EV_ACQUIRE, 1, PD_NONE, 0);
  ev(w, u[1], a1 + 3 * D, PD_EV_ACTIVATE, 1, PD_NONE, 0);
  ev(w, u[1], a1 + 7 * D + H, PD_EV_VISIT, 1, PD_NONE, 0);
  ev(w, u[1], utc(2024, 3, 10, 4), PD_EV_PURCHASE, 1, PD_NONE, 300);
  ev(w, u[1], utc(2024, 3, 11, 2), PD_EV_INVITE, 1, PD_NONE, 0);
  ev(w, u[1], utc(2024, 3, 11, 3), PD_EV_INVITE, 1, PD_NONE, 0);
  /* u2: referred by u1, activates after 8 days (too late), a refund */
  int64_t a2 = utc(2024, 3, 11, 4);
  ev(w, u[2], a2, PD_EV_ACQUIRE, 1, u[1], 0);
  ev(w, u[2], a2 + 8 * D + H, PD_EV_ACTIVATE, 1, PD_NONE, 0);
  ev(w, u[2], a2 + 9 * D, PD_EV_REFUND, 1, PD_NONE, 20);
  /* u3: acquired in April: neither new nor active in March */
  ev(w, u[3], utc(2024, 4, 2, 4), PD_EV_ACQUIRE, 2, PD_NONE, 0);
  /* u4: acquired without a touchpoint */
  ev(w, u[4], utc(2024, 3, 20, 4), PD_EV_ACQUIRE, PD_NONE, PD_NONE, 0);
  ev(w, u[4], utc(2024, 3, 20, 5), PD_EV_VISIT, PD_NONE, PD_NONE, 0);
  /* u5: last seen 1 ms before March began in Shanghai */
  ev(w, u[5], utc(2024, 1, 5, 4), PD_EV_ACQUIRE, 0, PD_NONE, 0);
  ev(w, u[5], from - 1, PD_EV_VISIT, 0, PD_NONE, 0);
  /* u6: acquired at the first instant of March in Shanghai */
  ev(w, u[6], from, PD_EV_ACQUIRE, 0, PD_NONE, 0);
  PD_CHECK(pd_writer_commit(w));
  pd_writer_close(w);
  pd_store_close(s);
  return dir;
}

static long find(const pd_table *t, const char *metric, const char *bd) {
  for (size_t r = 0; r < pd_table_n_rows(t); r++)
    if (strcmp(pd_table_get_string(t, r, 1), metric) == 0 && strcmp(pd_table_get_string(t, r, 2), bd) == 0)
      return (long)r;
  ck_abort_msg("no row %s/%s", metric, bd);
  return -1;
}
static double val(const pd_table *t, const char *metric, const char *bd) {
  return pd_table_get_double(t, (size_t)find(t, metric, bd), 3);
}

START_TEST(march_in_shanghai) {
  char *dir = build();
  pd_store *s = pd_test_open(dir, 0);
  pd_stage_options o = PD_STAGE_OPTIONS_INIT;
  PD_CHECK(pd_stage_period_parse("2024-03", "Asia/Shanghai", &o.from_ms, &o.to_ms, &o.prev_from_ms));
  ck_assert_int_eq(o.from_ms, utc(2024, 2, 29, 16));
  ck_assert_int_eq(o.to_ms, utc(2024, 3, 31, 16));
  ck_assert_int_eq(o.prev_from_ms, utc(2024, 1, 31, 16));
  pd_table *t = NULL;
  PD_CHECK(pd_stage_report(s, &o, &t));
  ck_assert_str_eq(pd_table_get_string(t, 0, 0), "acquisition");
  ck_assert_str_eq(pd_table_get_string(t, 0, 1), "new_users");
  ck_assert_double_eq(val(t, "new_users", ""), 4);
  ck_assert_double_eq(val(t, "new_users_touchpoint", "wecom"), 2);
  ck_assert_double_eq(val(t, "new_users_touchpoint", "feed_ad"), 1);
  ck_assert_double_eq(val(t, "new_users_touchpoint", "(none)"), 1);
  ck_assert_double_eq_tol(val(t, "domain_share", "private"), 0.5, 1e-12);
  ck_assert_double_eq_tol(val(t, "domain_share", "public"), 0.25, 1e-12);
  ck_assert_double_eq_tol(val(t, "domain_share", "semi"), 0, 1e-12);
  ck_assert_double_eq_tol(val(t, "domain_share", "unknown"), 0.25, 1e-12);
  ck_assert_double_eq_tol(val(t, "activation_rate", ""), 0.25, 1e-12);
  ck_assert_double_eq_tol(val(t, "returning_rate", ""), 0.2, 1e-12);
  ck_assert_double_eq_tol(val(t, "new_user_retention", ""), 0.25, 1e-12);
  ck_assert_double_eq(val(t, "revenue", ""), 450);
  ck_assert_double_eq(val(t, "paying_users", ""), 2);
  ck_assert_double_eq_tol(val(t, "arpu", ""), 90, 1e-12);
  ck_assert_double_eq_tol(val(t, "arppu", ""), 225, 1e-12);
  ck_assert_double_eq_tol(val(t, "repeat_purchase_rate", ""), 0.5, 1e-12);
  ck_assert_double_eq_tol(val(t, "earlier_cohort_revenue_share", ""), 150.0 / 450.0, 1e-12);
  ck_assert_double_eq(val(t, "refunds", ""), 20);
  ck_assert_double_eq_tol(val(t, "inviter_share", ""), 0.2, 1e-12);
  ck_assert_double_eq_tol(val(t, "invites_per_inviter", ""), 2, 1e-12);
  ck_assert_double_eq_tol(val(t, "invite_conversion", ""), 0.5, 1e-12);
  ck_assert_double_eq_tol(val(t, "k_factor", ""), 0.2, 1e-12);
  size_t n = pd_table_n_rows(t);
  pd_table_free(t);
  /* RARRA: same rows, retention first, acquisition last */
  o.order = PD_STAGES_RARRA;
  o.threads = 2;
  PD_CHECK(pd_stage_report(s, &o, &t));
  ck_assert_uint_eq(pd_table_n_rows(t), n);
  ck_assert_str_eq(pd_table_get_string(t, 0, 1), "returning_rate");
  ck_assert_str_eq(pd_table_get_string(t, n - 1, 0), "acquisition");
  ck_assert_double_eq_tol(val(t, "k_factor", ""), 0.2, 1e-12);
  ck_assert_double_eq(val(t, "revenue", ""), 450);
  pd_table_free(t);
  /* an empty period: ratios are null, counts zero */
  PD_CHECK(pd_stage_period_parse("2023-01", NULL, &o.from_ms, &o.to_ms, &o.prev_from_ms));
  PD_CHECK(pd_stage_report(s, &o, &t));
  long r = find(t, "arpu", "");
  ck_assert(pd_table_is_null(t, (size_t)r, 3));
  ck_assert_double_eq(val(t, "new_users", ""), 0);
  pd_table_free(t);
  pd_store_close(s);
  pd_test_rmdir(dir);
  g_free(dir);
}
END_TEST

START_TEST(periods) {
  int64_t f, t, p;
  PD_CHECK(pd_stage_period_parse("2024-W10", NULL, &f, &t, &p));
  ck_assert_int_eq(f, utc(2024, 3, 4, 0)); /* Monday of ISO week 10 */
  ck_assert_int_eq(t - f, 7 * D);
  ck_assert_int_eq(f - p, 7 * D);
  PD_CHECK(pd_stage_period_parse("2021-W01", NULL, &f, &t, &p));
  ck_assert_int_eq(f, utc(2021, 1, 4, 0));
  PD_CHECK(pd_stage_period_parse("2020-W53", NULL, &f, &t, &p));
  ck_assert_int_eq(f, utc(2020, 12, 28, 0));
  ck_assert_int_eq(pd_stage_period_parse("2021-W53", NULL, &f, &t, &p), PD_ERR_PARSE);
  PD_CHECK(pd_stage_period_parse("2024", "Asia/Shanghai", &f, &t, &p));
  ck_assert_int_eq(f, utc(2023, 12, 31, 16));
  ck_assert_int_eq(p, utc(2022, 12, 31, 16));
  PD_CHECK(pd_stage_period_parse("2024-01", NULL, &f, &t, &p));
  ck_assert_int_eq(p, utc(2023, 12, 1, 0));
  PD_CHECK(pd_stage_period_parse("2024-03-05", "Europe/Berlin", &f, &t, &p));
  ck_assert_int_eq(f, utc(2024, 3, 4, 23));
  ck_assert_int_eq(t - f, D);
  /* a range holding the spring-forward day is 23 hours short of 3 days */
  PD_CHECK(pd_stage_period_parse("2024-03-30..2024-04-01", "Europe/Berlin", &f, &t, &p));
  ck_assert_int_eq(t - f, 3 * D - H);
  ck_assert_int_eq(f, utc(2024, 3, 29, 23));
  ck_assert_int_eq(p, utc(2024, 3, 26, 23));
  ck_assert_int_eq(pd_stage_period_parse("2024-02-30", NULL, &f, &t, &p), PD_ERR_PARSE);
  ck_assert_int_eq(pd_stage_period_parse("2024-13", NULL, &f, &t, &p), PD_ERR_PARSE);
  ck_assert_int_eq(pd_stage_period_parse("2024-03-05..2024-03-01", NULL, &f, &t, &p), PD_ERR_PARSE);
  ck_assert_int_eq(pd_stage_period_parse("March", NULL, &f, &t, &p), PD_ERR_PARSE);
  ck_assert_int_eq(pd_stage_period_parse("2024-03", "Nowhere/City", &f, &t, &p), PD_ERR_INVALID);
  pd_stage_order ord;
  PD_CHECK(pd_stage_order_parse("RARRA", &ord));
  ck_assert_int_eq(ord, PD_STAGES_RARRA);
  ck_assert_int_eq(pd_stage_order_parse("aarr", &ord), PD_ERR_INVALID);
}
END_TEST

int main(void) {
  Suite *s = suite_create("stages");
  TCase *tc = tcase_create("stages");
  tcase_add_test(tc, march_in_shanghai);
  tcase_add_test(tc, periods);
  suite_add_tcase(s, tc);
  return pd_test_run(s);
}
