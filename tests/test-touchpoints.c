/* Touchpoint scorecard and migration on a small hand-built store: every
 * metric hand-worked, rollups by domain and carrier, an empty touchpoint,
 * zero and unknown spend (CAC null), users without an acquire event, the
 * period's boundaries in UTC and in Asia/Shanghai, the users filter, CLV
 * against the CLV API, bad options. */
#include <check.h>
#include <math.h>

#include "privdomain/touchpoints.h"
#include "testutil.h"

#define D INT64_C(86400000)
#define H INT64_C(3600000)
/* 2024-03-01T00:00:00Z */
#define T0 INT64_C(1709251200000)
#define NOTP PD_NONE

static char *dir;
static pd_store *store;
static uint32_t u[14];

static void ev(pd_writer *w, int user, uint32_t type, int64_t t, uint32_t tp, int64_t amount, int ref) {
  pd_event e = {t, u[user], type, tp, ref ? u[ref] : PD_NONE, amount};
  PD_CHECK(pd_writer_append(w, &e));
}

static uint32_t tp_add(pd_writer *w, const char *name, pd_domain dom, pd_carrier car, int64_t spend) {
  pd_touchpoint_def d = PD_TOUCHPOINT_DEF_INIT;
  d.name = name;
  d.domain = dom;
  d.carrier = car;
  d.daily_spend = spend;
  uint32_t id;
  PD_CHECK(pd_writer_touchpoint(w, &d, &id));
  return id;
}

/* Touchpoints: ad (public feed ad, 100.00 a day), wecom (private WeCom, spend
 * 0), group (private group, spend unknown), store (public store, 50.00 a day,
 * nobody acquired there). Day offsets from T0 = 2024-03-01 00:00 UTC.
 *  u1  acquire ad d1; activate; send wecom d2, open wecom; purchase wecom
 *      100.00 d3; refund 20.00 d4; 2 invites d5; send wecom d6; visit wecom d40
 *  u2  acquire ad d10 referred by u1; send ad d11, open ad; purchase ad 50.00 d12
 *  u3  acquire wecom d5; activate; referral_signup by u1; send wecom d6 and
 *      2 opens; invite; purchase group 30.00 d8; purchase ad 20.00 d9; visit group d20
 *  u4  acquire ad d25 naming itself as referrer (a self-referral: no edge)
 *  u5  acquire ad d-1 (February); 2 sends ad d2, 1 open; purchase ad 10.00 d3
 *  u6  no acquire: send wecom d3; visit wecom d60 (the store's last event)
 *  u7  acquire without a touchpoint d15; purchase 10.00 d16
 *  u8  acquire group d55; visit ad d56
 *  u9  acquire ad at 2024-04-01 00:00 UTC (the period's end: out)
 *  u10 acquire ad at T0 exactly (in); visit group d3
 *  u11 acquire ad 2024-03-31 17:00 UTC (= 04-01 01:00 in Shanghai); purchase ad 5.00 8 h later
 *  u12 acquire ad 2024-02-29 17:00 UTC (= 03-01 01:00 in Shanghai)
 *  u13 no acquire: referral_signup by u3 d30 */
static uint32_t AD, WECOM, GROUP, STORE;

static void setup(void) {
  dir = pd_test_tmpdir("tp");
  store = pd_test_open(dir, 1);
  pd_writer *w;
  PD_CHECK(pd_writer_open(&w, store));
  AD = tp_add(w, "ad", PD_DOMAIN_PUBLIC, PD_CARRIER_FEED_AD, 10000);
  WECOM = tp_add(w, "wecom", PD_DOMAIN_PRIVATE, PD_CARRIER_WECOM, 0);
  GROUP = tp_add(w, "group", PD_DOMAIN_PRIVATE, PD_CARRIER_GROUP, -1);
  STORE = tp_add(w, "store", PD_DOMAIN_PUBLIC, PD_CARRIER_STORE, 5000);
  for (int i = 1; i <= 13; i++) {
    char name[8];
    snprintf(name, sizeof name, "u%d", i);
    PD_CHECK(pd_writer_user(w, name, &u[i]));
  }
  ev(w, 1, PD_EV_ACQUIRE, T0 + D, AD, 0, 0);
  ev(w, 1, PD_EV_ACTIVATE, T0 + D + H, NOTP, 0, 0);
  ev(w, 1, PD_EV_MESSAGE_SEND, T0 + 2 * D, WECOM, 0, 0);
  ev(w, 1, PD_EV_MESSAGE_OPEN, T0 + 2 * D + H, WECOM, 0, 0);
  ev(w, 1, PD_EV_PURCHASE, T0 + 3 * D, WECOM, 10000, 0);
  ev(w, 1, PD_EV_REFUND, T0 + 4 * D, NOTP, 2000, 0);
  ev(w, 1, PD_EV_INVITE, T0 + 5 * D, NOTP, 0, 0);
  ev(w, 1, PD_EV_INVITE, T0 + 5 * D, NOTP, 0, 0);
  ev(w, 1, PD_EV_MESSAGE_SEND, T0 + 6 * D, WECOM, 0, 0);
  ev(w, 1, PD_EV_VISIT, T0 + 40 * D, WECOM, 0, 0);
  ev(w, 2, PD_EV_ACQUIRE, T0 + 10 * D, AD, 0, 1);
  ev(w, 2, PD_EV_MESSAGE_SEND, T0 + 11 * D, AD, 0, 0);
  ev(w, 2, PD_EV_MESSAGE_OPEN, T0 + 11 * D + H, AD, 0, 0);
  ev(w, 2, PD_EV_PURCHASE, T0 + 12 * D, AD, 5000, 0);
  ev(w, 3, PD_EV_ACQUIRE, T0 + 5 * D, WECOM, 0, 0);
  ev(w, 3, PD_EV_ACTIVATE, T0 + 5 * D + H, NOTP, 0, 0);
  ev(w, 3, PD_EV_REFERRAL_SIGNUP, T0 + 5 * D + 2 * H, NOTP, 0, 1);
  ev(w, 3, PD_EV_MESSAGE_SEND, T0 + 6 * D, WECOM, 0, 0);
  ev(w, 3, PD_EV_MESSAGE_OPEN, T0 + 6 * D + H, WECOM, 0, 0);
  ev(w, 3, PD_EV_MESSAGE_OPEN, T0 + 6 * D + H, WECOM, 0, 0);
  ev(w, 3, PD_EV_INVITE, T0 + 6 * D + 2 * H, NOTP, 0, 0);
  ev(w, 3, PD_EV_PURCHASE, T0 + 8 * D, GROUP, 3000, 0);
  ev(w, 3, PD_EV_PURCHASE, T0 + 9 * D, AD, 2000, 0);
  ev(w, 3, PD_EV_VISIT, T0 + 20 * D, GROUP, 0, 0);
  ev(w, 4, PD_EV_ACQUIRE, T0 + 25 * D, AD, 0, 4);
  ev(w, 5, PD_EV_ACQUIRE, T0 - D, AD, 0, 0);
  ev(w, 5, PD_EV_MESSAGE_SEND, T0 + 2 * D, AD, 0, 0);
  ev(w, 5, PD_EV_MESSAGE_SEND, T0 + 2 * D + H / 2, AD, 0, 0);
  ev(w, 5, PD_EV_MESSAGE_OPEN, T0 + 2 * D + H, AD, 0, 0);
  ev(w, 5, PD_EV_PURCHASE, T0 + 3 * D, AD, 1000, 0);
  ev(w, 6, PD_EV_MESSAGE_SEND, T0 + 3 * D, WECOM, 0, 0);
  ev(w, 6, PD_EV_VISIT, T0 + 60 * D, WECOM, 0, 0);
  ev(w, 7, PD_EV_ACQUIRE, T0 + 15 * D, NOTP, 0, 0);
  ev(w, 7, PD_EV_PURCHASE, T0 + 16 * D, NOTP, 1000, 0);
  ev(w, 8, PD_EV_ACQUIRE, T0 + 55 * D, GROUP, 0, 0);
  ev(w, 8, PD_EV_VISIT, T0 + 56 * D, AD, 0, 0);
  ev(w, 9, PD_EV_ACQUIRE, T0 + 31 * D, AD, 0, 0);
  ev(w, 10, PD_EV_ACQUIRE, T0, AD, 0, 0);
  ev(w, 10, PD_EV_VISIT, T0 + 3 * D, GROUP, 0, 0);
  ev(w, 11, PD_EV_ACQUIRE, T0 + 31 * D - 7 * H, AD, 0, 0);
  ev(w, 11, PD_EV_PURCHASE, T0 + 31 * D + H, AD, 500, 0);
  ev(w, 12, PD_EV_ACQUIRE, T0 - 7 * H, AD, 0, 0);
  ev(w, 13, PD_EV_REFERRAL_SIGNUP, T0 + 30 * D, NOTP, 0, 3);
  PD_CHECK(pd_writer_commit(w));
  pd_writer_close(w);
}

static void teardown(void) {
  pd_store_close(store);
  pd_test_rmdir(dir);
  g_free(dir);
}

/* ---- table access by row label and column name ---- */
static long row_of(const pd_table *t, const char *label) {
  for (size_t i = 0; i < pd_table_n_rows(t); i++)
    if (strcmp(pd_table_get_string(t, i, 0), label) == 0) return (long)i;
  ck_abort_msg("no row %s", label);
  return -1;
}
static long col_of(const pd_table *t, const char *name) {
  long c = pd_table_col_index(t, name);
  ck_assert_msg(c >= 0, "no column %s", name);
  return c;
}
static int64_t I(const pd_table *t, const char *row, const char *col) {
  long r = row_of(t, row), c = col_of(t, col);
  ck_assert_msg(!pd_table_is_null(t, (size_t)r, (size_t)c), "%s.%s is null", row, col);
  return pd_table_get_int64(t, (size_t)r, (size_t)c);
}
static double F(const pd_table *t, const char *row, const char *col) {
  long r = row_of(t, row), c = col_of(t, col);
  ck_assert_msg(!pd_table_is_null(t, (size_t)r, (size_t)c), "%s.%s is null", row, col);
  return pd_table_get_double(t, (size_t)r, (size_t)c);
}
static int NUL(const pd_table *t, const char *row, const char *col) {
  return pd_table_is_null(t, (size_t)row_of(t, row), (size_t)col_of(t, col));
}
static const char *S(const pd_table *t, const char *row, const char *col) {
  return pd_table_get_string(t, (size_t)row_of(t, row), (size_t)col_of(t, col));
}
#define NEAR(a, b) ck_assert_msg(fabs((a) - (b)) < 1e-9, "%s = %.12g, expected %.12g", #a, (double)(a), (double)(b))

static pd_table *card(int64_t from, int64_t to, const char *tz, pd_touchpoint_by by) {
  pd_touchpoint_options o = PD_TOUCHPOINT_OPTIONS_INIT;
  o.from_ms = from;
  o.to_ms = to;
  o.tz = tz;
  o.by = by;
  o.threads = 2;
  pd_table *t = NULL;
  PD_CHECK(pd_touchpoint_scorecard(store, &o, &t));
  return t;
}

/* March 2024 in UTC; as_of = the last event, d60. */
START_TEST(scorecard_by_touchpoint) {
  pd_table *t = card(T0, T0 + 31 * D, NULL, PD_TOUCHPOINT_BY_TOUCHPOINT);
  ck_assert_int_eq(pd_table_n_rows(t), 5); /* 4 touchpoints, then (none) for u7 */
  ck_assert_str_eq(pd_table_get_string(t, 4, 0), "(none)");
  /* ad: u1, u2, u4, u10 (at T0: in), u11; not u5 (February), u9 (at the end: out), u12 */
  ck_assert_str_eq(S(t, "ad", "domain"), "public");
  ck_assert_str_eq(S(t, "ad", "carrier"), "feed_ad");
  ck_assert_int_eq(I(t, "ad", "acquired"), 5);
  ck_assert_int_eq(I(t, "ad", "days"), 31);
  ck_assert_int_eq(I(t, "ad", "spend"), 310000);
  NEAR(F(t, "ad", "cac"), 62000.0);
  ck_assert_int_eq(I(t, "ad", "activated"), 1);
  NEAR(F(t, "ad", "activation_rate"), 0.2);
  /* all five acquired 7+ days before d60; u1 active on d40 (39 days on) */
  ck_assert_int_eq(I(t, "ad", "eligible_7"), 5);
  ck_assert_int_eq(I(t, "ad", "retained_7"), 1);
  NEAR(F(t, "ad", "retention_7"), 0.2);
  /* u11 (acquired 29 d 7 h before d60) is not eligible at 30 days */
  ck_assert_int_eq(I(t, "ad", "eligible_30"), 4);
  ck_assert_int_eq(I(t, "ad", "retained_30"), 1);
  NEAR(F(t, "ad", "retention_30"), 0.25);
  /* sends at ad in March: u2 1, u5 2; opens u2 1, u5 1 */
  ck_assert_int_eq(I(t, "ad", "messaged"), 2);
  ck_assert_int_eq(I(t, "ad", "sends"), 3);
  ck_assert_int_eq(I(t, "ad", "opens"), 2);
  NEAR(F(t, "ad", "open_rate"), 2.0 / 3.0);
  NEAR(F(t, "ad", "user_open_rate"), (1.0 + 0.5) / 2);
  NEAR(F(t, "ad", "opens_per_user"), 1.0);
  /* u1 100 - 20, u2 50, u11 5 (on April 1, still counted: outcomes run to as_of) */
  ck_assert_int_eq(I(t, "ad", "buyers"), 3);
  ck_assert_int_eq(I(t, "ad", "revenue"), 13500);
  NEAR(F(t, "ad", "ltv"), 2700.0);
  ck_assert(NUL(t, "ad", "clv"));
  NEAR(F(t, "ad", "ltv_cac"), 2700.0 / 62000.0);
  ck_assert(NUL(t, "ad", "clv_cac"));
  /* u1 invited twice and brought u2 and u3; u4's self-referral is none */
  ck_assert_int_eq(I(t, "ad", "invites"), 2);
  ck_assert_int_eq(I(t, "ad", "referred"), 2);
  NEAR(F(t, "ad", "invites_per_user"), 0.4);
  NEAR(F(t, "ad", "invite_conversion"), 1.0);
  NEAR(F(t, "ad", "k"), 0.4);
  /* purchases: u1 at wecom (private), u2 and u11 at ad */
  ck_assert_int_eq(I(t, "ad", "conversions"), 3);
  ck_assert_int_eq(I(t, "ad", "private_conversions"), 1);
  NEAR(F(t, "ad", "private_share"), 1.0 / 3.0);
  /* activity with a touchpoint: u1 acquire, open, purchase, visit (3 at wecom); u2 acquire,
   * open, purchase; u4 acquire; u10 acquire, visit group; u11 acquire, purchase */
  ck_assert_int_eq(I(t, "ad", "touch_events"), 12);
  ck_assert_int_eq(I(t, "ad", "personal_events"), 4);
  NEAR(F(t, "ad", "accessibility"), 2.0 / 3.0);
  NEAR(F(t, "ad", "connection"), 1.0 / 3.0);
  NEAR(F(t, "ad", "endurance"), 0.25);
  NEAR(F(t, "ad", "score"), (2.0 / 3.0 + 1.0 / 3.0 + 0.25) / 3);
  ck_assert_str_eq(S(t, "ad", "label"), "moderate");
  ck_assert_str_eq(S(t, "ad", "weakest"), "endurance");

  /* wecom: u3; spend 0 -> CAC null, not infinite */
  ck_assert_int_eq(I(t, "wecom", "acquired"), 1);
  ck_assert_int_eq(I(t, "wecom", "spend"), 0);
  ck_assert(NUL(t, "wecom", "cac"));
  ck_assert(NUL(t, "wecom", "ltv_cac"));
  NEAR(F(t, "wecom", "activation_rate"), 1.0);
  NEAR(F(t, "wecom", "retention_7"), 1.0); /* visit 15 days on */
  NEAR(F(t, "wecom", "retention_30"), 0.0);
  /* sends u1 2, u3 1, u6 1 (no acquire: reach counts every user); opens u1 1, u3 2 */
  ck_assert_int_eq(I(t, "wecom", "messaged"), 3);
  ck_assert_int_eq(I(t, "wecom", "sends"), 4);
  ck_assert_int_eq(I(t, "wecom", "opens"), 3);
  NEAR(F(t, "wecom", "open_rate"), 0.75);
  NEAR(F(t, "wecom", "user_open_rate"), (0.5 + 1.0 + 0.0) / 3);
  ck_assert_int_eq(I(t, "wecom", "revenue"), 5000);
  NEAR(F(t, "wecom", "ltv"), 5000.0);
  ck_assert_int_eq(I(t, "wecom", "invites"), 1);
  ck_assert_int_eq(I(t, "wecom", "referred"), 1); /* u13, who has no acquire event */
  NEAR(F(t, "wecom", "k"), 1.0);
  NEAR(F(t, "wecom", "private_share"), 0.5);
  ck_assert_int_eq(I(t, "wecom", "touch_events"), 6);
  ck_assert_int_eq(I(t, "wecom", "personal_events"), 5);
  NEAR(F(t, "wecom", "score"), (0.75 + 5.0 / 6.0 + 0.0) / 3);
  ck_assert_str_eq(S(t, "wecom", "label"), "moderate");

  /* group: nobody in March (u8 joins in April); spend unknown */
  ck_assert_int_eq(I(t, "group", "acquired"), 0);
  ck_assert(NUL(t, "group", "spend"));
  ck_assert(NUL(t, "group", "cac"));
  pd_table_free(t);
  /* April: group's u8, acquired 5 days before the end: nobody eligible for retention */
  t = card(T0 + 31 * D, T0 + 61 * D, NULL, PD_TOUCHPOINT_BY_TOUCHPOINT);
  ck_assert_int_eq(I(t, "group", "acquired"), 1);
  ck_assert_int_eq(I(t, "group", "days"), 30);
  ck_assert_int_eq(I(t, "group", "eligible_7"), 0);
  ck_assert(NUL(t, "group", "retention_7"));
  ck_assert(NUL(t, "group", "open_rate"));
  ck_assert(NUL(t, "group", "invite_conversion"));
  NEAR(F(t, "group", "k"), 0.0);
  ck_assert(NUL(t, "group", "private_share"));
  NEAR(F(t, "group", "connection"), 0.5); /* acquire at group, visit at ad */
  NEAR(F(t, "group", "score"), 0.5);
  ck_assert_str_eq(S(t, "group", "label"), "moderate");
  ck_assert_str_eq(S(t, "group", "weakest"), "connection");
  ck_assert_int_eq(I(t, "ad", "acquired"), 1); /* u9, at 04-01 00:00 */
  pd_table_free(t);
  t = card(T0, T0 + 31 * D, NULL, PD_TOUCHPOINT_BY_TOUCHPOINT);

  /* store: nobody acquired; spend known, CAC and every rate null */
  ck_assert_int_eq(I(t, "store", "acquired"), 0);
  ck_assert_int_eq(I(t, "store", "spend"), 155000);
  const char *nulls[] = {"cac", "activation_rate", "retention_7", "retention_30", "open_rate", "ltv", "ltv_cac",
                         "k", "private_share", "score", "label", "weakest"};
  for (size_t i = 0; i < sizeof nulls / sizeof *nulls; i++) ck_assert_msg(NUL(t, "store", nulls[i]), "%s", nulls[i]);

  /* (none): u7 */
  ck_assert_int_eq(I(t, "(none)", "acquired"), 1);
  ck_assert_int_eq(I(t, "(none)", "touchpoints"), 0);
  ck_assert(NUL(t, "(none)", "spend"));
  ck_assert_int_eq(I(t, "(none)", "revenue"), 1000);
  NEAR(F(t, "(none)", "private_share"), 0.0);
  ck_assert(NUL(t, "(none)", "connection"));
  NEAR(F(t, "(none)", "score"), 0.0);
  ck_assert_str_eq(S(t, "(none)", "label"), "weak");
  pd_table_free(t);
}
END_TEST

START_TEST(scorecard_rollups) {
  pd_table *t = card(T0, T0 + 31 * D, NULL, PD_TOUCHPOINT_BY_DOMAIN);
  ck_assert_int_eq(pd_table_n_rows(t), 5);
  ck_assert_str_eq(pd_table_get_string(t, 0, 0), "unknown");
  ck_assert_str_eq(pd_table_col_name(t, 0), "domain");
  /* public = ad + store */
  ck_assert_int_eq(I(t, "public", "touchpoints"), 2);
  ck_assert_int_eq(I(t, "public", "acquired"), 5);
  ck_assert_int_eq(I(t, "public", "spend"), 465000);
  NEAR(F(t, "public", "cac"), 93000.0);
  NEAR(F(t, "public", "ltv_cac"), 2700.0 / 93000.0);
  ck_assert_int_eq(I(t, "public", "sends"), 3);
  /* private = wecom (spend 0) + group (unknown): spend 0, CAC null; only u3 joined */
  ck_assert_int_eq(I(t, "private", "touchpoints"), 2);
  ck_assert_int_eq(I(t, "private", "acquired"), 1);
  ck_assert_int_eq(I(t, "private", "spend"), 0);
  ck_assert(NUL(t, "private", "cac"));
  NEAR(F(t, "private", "activation_rate"), 1.0);
  ck_assert_int_eq(I(t, "private", "eligible_7"), 1);
  NEAR(F(t, "private", "retention_7"), 1.0);
  NEAR(F(t, "private", "ltv"), 5000.0);
  NEAR(F(t, "private", "k"), 1.0);
  NEAR(F(t, "private", "connection"), 5.0 / 6.0);
  NEAR(F(t, "private", "user_open_rate"), 0.5); /* wecom's messages, per user over both */
  NEAR(F(t, "private", "score"), (0.75 + 5.0 / 6.0 + 0.0) / 3);
  ck_assert_int_eq(I(t, "semi", "touchpoints"), 0);
  ck_assert_int_eq(I(t, "semi", "acquired"), 0);
  ck_assert(NUL(t, "semi", "spend"));
  pd_table_free(t);

  t = card(T0, T0 + 31 * D, NULL, PD_TOUCHPOINT_BY_CARRIER);
  ck_assert_int_eq(pd_table_n_rows(t), PD_CARRIER_COUNT + 1);
  ck_assert_int_eq(I(t, "feed_ad", "acquired"), 5);
  NEAR(F(t, "feed_ad", "cac"), 62000.0);
  ck_assert_int_eq(I(t, "wecom", "referred"), 1);
  ck_assert_int_eq(I(t, "group", "acquired"), 0);
  ck_assert_int_eq(I(t, "personal_account", "touchpoints"), 0);
  ck_assert_int_eq(I(t, "kol", "acquired"), 0);
  ck_assert_int_eq(I(t, "(none)", "acquired"), 1);
  pd_table_free(t);
}
END_TEST

/* The same local month in Asia/Shanghai: [02-29 16:00Z, 03-31 16:00Z). */
START_TEST(scorecard_tz_boundaries) {
  int64_t from = T0 - 8 * H, to = T0 + 31 * D - 8 * H;
  pd_table *t = card(from, to, "Asia/Shanghai", PD_TOUCHPOINT_BY_TOUCHPOINT);
  /* u12 (03-01 01:00 local) joins, u11 (04-01 01:00 local) leaves; u5 stays out */
  ck_assert_int_eq(I(t, "ad", "acquired"), 5);
  ck_assert_int_eq(I(t, "ad", "days"), 31);
  ck_assert_int_eq(I(t, "ad", "revenue"), 13000); /* without u11's 5.00 */
  ck_assert_int_eq(I(t, "ad", "buyers"), 2);
  ck_assert_int_eq(I(t, "ad", "eligible_30"), 5);
  ck_assert_int_eq(I(t, "ad", "sends"), 3);
  pd_table_free(t);
  /* the same instants read in UTC touch 32 local days (02-29 to 03-31) */
  t = card(from, to, NULL, PD_TOUCHPOINT_BY_TOUCHPOINT);
  ck_assert_int_eq(I(t, "ad", "days"), 32);
  ck_assert_int_eq(I(t, "ad", "spend"), 320000);
  pd_table_free(t);
  /* an open period: from the first event (u5, 02-29) to the last (d60, 04-30): 62 days;
   * every first acquire counts: ad u1 u2 u4 u5 u9 u10 u11 u12 */
  t = card(INT64_MIN, INT64_MAX, NULL, PD_TOUCHPOINT_BY_TOUCHPOINT);
  ck_assert_int_eq(I(t, "ad", "days"), 62);
  ck_assert_int_eq(I(t, "ad", "acquired"), 8);
  pd_table_free(t);
}
END_TEST

START_TEST(migration) {
  pd_touchpoint_options o = PD_TOUCHPOINT_OPTIONS_INIT;
  o.from_ms = T0;
  o.to_ms = T0 + 31 * D;
  o.by = PD_TOUCHPOINT_BY_DOMAIN; /* ignored */
  pd_table *t = NULL;
  PD_CHECK(pd_touchpoint_migration(store, &o, &t));
  ck_assert_int_eq(pd_table_n_rows(t), 4);
  ck_assert_str_eq(pd_table_get_string(t, 0, 0), "public_to_private");
  ck_assert_str_eq(pd_table_get_string(t, 0, 1), "ad");
  ck_assert_str_eq(pd_table_get_string(t, 1, 1), "store");
  ck_assert_str_eq(pd_table_get_string(t, 2, 0), "private_to_public");
  ck_assert_str_eq(pd_table_get_string(t, 2, 1), "wecom");
  ck_assert_str_eq(pd_table_get_string(t, 3, 1), "group");
  /* ad: u1 moves on d2 (a WeCom send, 24 h), u10 on d3 (a group visit, 72 h) */
#define G(row, col) pd_table_get_double(t, row, (size_t)col_of(t, col))
#define GI(row, col) pd_table_get_int64(t, row, (size_t)col_of(t, col))
  ck_assert_int_eq(GI(0, "acquired"), 5);
  ck_assert_int_eq(GI(0, "moved"), 2);
  NEAR(G(0, "moved_share"), 0.4);
  NEAR(G(0, "hours_median"), 24.0); /* rank ceil(0.5 x 2) = 1 */
  NEAR(G(0, "hours_p90"), 72.0);    /* rank ceil(0.9 x 2) = 2 */
  NEAR(G(0, "moved_retention_7"), 0.5);
  NEAR(G(0, "moved_retention_30"), 0.5);
  NEAR(G(0, "stayed_retention_7"), 0.0);
  NEAR(G(0, "stayed_retention_30"), 0.0);
  NEAR(G(0, "moved_revenue_per_user"), 4000.0);     /* (8000 + 0) / 2 */
  NEAR(G(0, "stayed_revenue_per_user"), 5500.0 / 3); /* u2 5000, u4 0, u11 500 */
  ck_assert(pd_table_is_null(t, 0, (size_t)col_of(t, "moved_clv_per_user")));
  /* store: nobody */
  ck_assert_int_eq(GI(1, "acquired"), 0);
  ck_assert(pd_table_is_null(t, 1, (size_t)col_of(t, "moved_share")));
  ck_assert(pd_table_is_null(t, 1, (size_t)col_of(t, "hours_median")));
  /* wecom: u3 buys at ad on d9, 4 days after joining; group: u8 visits ad a day later */
  ck_assert_int_eq(GI(2, "moved"), 1);
  NEAR(G(2, "moved_share"), 1.0);
  NEAR(G(2, "hours_median"), 96.0);
  NEAR(G(2, "moved_retention_7"), 1.0);
  NEAR(G(2, "moved_retention_30"), 0.0);
  NEAR(G(2, "moved_revenue_per_user"), 5000.0);
  ck_assert(pd_table_is_null(t, 2, (size_t)col_of(t, "stayed_revenue_per_user")));
  ck_assert_int_eq(GI(3, "acquired"), 0); /* group: u8 joins in April */
  pd_table_free(t);
  o.from_ms = T0 + 31 * D;
  o.to_ms = T0 + 61 * D;
  PD_CHECK(pd_touchpoint_migration(store, &o, &t));
  ck_assert_int_eq(GI(3, "moved"), 1);
  NEAR(G(3, "hours_median"), 24.0);
  NEAR(G(3, "hours_p90"), 24.0);
  ck_assert(pd_table_is_null(t, 3, (size_t)col_of(t, "moved_retention_7"))); /* not eligible */
  /* ad in April: u9, who never moves */
  ck_assert_int_eq(GI(0, "acquired"), 1);
  NEAR(G(0, "moved_share"), 0.0);
  ck_assert(pd_table_is_null(t, 0, (size_t)col_of(t, "hours_p90")));
#undef G
#undef GI
  pd_table_free(t);
}
END_TEST

START_TEST(users_filter) {
  pd_userset *set = NULL;
  PD_CHECK(pd_userset_new(&set, store));
  pd_userset_add(set, u[1]);
  pd_userset_add(set, u[2]);
  pd_userset_add(set, u[5]);
  pd_touchpoint_options o = PD_TOUCHPOINT_OPTIONS_INIT;
  o.from_ms = T0;
  o.to_ms = T0 + 31 * D;
  o.users = set;
  pd_table *t = NULL;
  PD_CHECK(pd_touchpoint_scorecard(store, &o, &t));
  ck_assert_int_eq(I(t, "ad", "acquired"), 2);
  ck_assert_int_eq(I(t, "ad", "spend"), 310000); /* spend is not apportioned */
  NEAR(F(t, "ad", "cac"), 155000.0);
  ck_assert_int_eq(I(t, "ad", "sends"), 3);
  ck_assert_int_eq(I(t, "ad", "referred"), 1); /* u3 is not scanned */
  ck_assert_int_eq(I(t, "wecom", "acquired"), 0);
  ck_assert_int_eq(I(t, "wecom", "sends"), 2);
  ck_assert_int_eq(pd_table_n_rows(t), 4); /* u7 filtered out: no (none) row */
  pd_table_free(t);
  pd_userset_free(set);
}
END_TEST

/* Predicted CLV per acquired user = the CLV API's per-customer values summed over the
 * cohort's buyers, divided by the cohort size. */
START_TEST(clv_from_model) {
  const double bg[4] = {0.24, 4.41, 0.79, 2.43}, ggp[3] = {6.25, 3.74, 15.44};
  pd_clv_model *m = NULL, *gg = NULL;
  PD_CHECK(pd_clv_model_new(PD_CLV_BGNBD, bg, 4, &m));
  PD_CHECK(pd_clv_model_new(PD_CLV_GAMMA_GAMMA, ggp, 3, &gg));
  pd_touchpoint_options o = PD_TOUCHPOINT_OPTIONS_INIT;
  o.from_ms = T0;
  o.to_ms = T0 + 31 * D;
  o.clv = m;
  o.gg = gg;
  o.clv_months = 6;
  pd_table *t = NULL, *rfm = NULL, *sc = NULL;
  PD_CHECK(pd_touchpoint_scorecard(store, &o, &t));
  pd_rfm_options ro = PD_RFM_OPTIONS_INIT;
  ro.calibration_end = T0 + 60 * D; /* as_of */
  PD_CHECK(pd_rfm_from_store(store, &ro, &rfm));
  PD_CHECK(pd_clv_score_table(m, gg, rfm, 30, 6, 0.01, 30, &sc));
  double want_ad = 0, want_wecom = 0, moved = 0, stayed = 0;
  long cu = col_of(sc, "user"), cv = col_of(sc, "clv");
  for (size_t i = 0; i < pd_table_n_rows(sc); i++) {
    int64_t user = pd_table_get_int64(sc, i, (size_t)cu);
    double v = pd_table_get_double(sc, i, (size_t)cv);
    if (user == u[1] || user == u[2] || user == u[11]) want_ad += v;
    if (user == u[3]) want_wecom += v;
    if (user == u[1]) moved += v;                      /* ad's movers: u1 and u10 (no purchase) */
    if (user == u[2] || user == u[11]) stayed += v;    /* stayed: u2, u4 (no purchase), u11 */
  }
  ck_assert(want_ad > 0 && want_wecom > 0);
  NEAR(F(t, "ad", "clv"), want_ad / 5);
  NEAR(F(t, "wecom", "clv"), want_wecom);
  NEAR(F(t, "ad", "clv_cac"), want_ad / 5 / 62000.0);
  ck_assert(NUL(t, "store", "clv")); /* nobody acquired */
  pd_table_free(t);
  PD_CHECK(pd_touchpoint_migration(store, &o, &t));
  NEAR(pd_table_get_double(t, 0, (size_t)col_of(t, "moved_clv_per_user")), moved / 2);
  NEAR(pd_table_get_double(t, 0, (size_t)col_of(t, "stayed_clv_per_user")), stayed / 3);
  NEAR(pd_table_get_double(t, 2, (size_t)col_of(t, "moved_clv_per_user")), want_wecom); /* wecom: u3 */
  pd_table_free(t);
  pd_table_free(rfm);
  pd_table_free(sc);
  /* the wrong kind of model is refused */
  o.clv = gg;
  ck_assert_int_eq(pd_touchpoint_scorecard(store, &o, &t), PD_ERR_INVALID);
  ck_assert_ptr_null(t);
  o.clv = m;
  o.gg = m;
  ck_assert_int_eq(pd_touchpoint_migration(store, &o, &t), PD_ERR_INVALID);
  pd_clv_model_free(m);
  pd_clv_model_free(gg);
}
END_TEST

/* Sums merge exactly: the same table to the last digit for any number of threads. */
START_TEST(same_for_any_threads) {
  char *first = NULL;
  for (unsigned th = 1; th <= 4; th++) {
    pd_touchpoint_options o = PD_TOUCHPOINT_OPTIONS_INIT;
    o.threads = th;
    pd_table *t = NULL, *m = NULL;
    PD_CHECK(pd_touchpoint_scorecard(store, &o, &t));
    PD_CHECK(pd_touchpoint_migration(store, &o, &m));
    char *a = NULL, *b = NULL;
    size_t la, lb;
    PD_CHECK(pd_table_format(t, PD_FORMAT_CSV, &a, &la));
    PD_CHECK(pd_table_format(m, PD_FORMAT_CSV, &b, &lb));
    char *both = g_strconcat(a, b, NULL);
    if (!first)
      first = both;
    else {
      ck_assert_str_eq(both, first);
      g_free(both);
    }
    pd_free(a);
    pd_free(b);
    pd_table_free(t);
    pd_table_free(m);
  }
  g_free(first);
}
END_TEST

START_TEST(bad_options) {
  pd_table *t = (pd_table *)1;
  pd_touchpoint_options o = PD_TOUCHPOINT_OPTIONS_INIT;
  o.from_ms = T0;
  o.to_ms = T0;
  ck_assert_int_eq(pd_touchpoint_scorecard(store, &o, &t), PD_ERR_INVALID);
  ck_assert_ptr_null(t);
  o.to_ms = T0 + D;
  o.tz = "Mars/Olympus";
  ck_assert_int_eq(pd_touchpoint_scorecard(store, &o, &t), PD_ERR_INVALID);
  o.tz = NULL;
  o.by = (pd_touchpoint_by)9;
  ck_assert_int_eq(pd_touchpoint_scorecard(store, &o, &t), PD_ERR_INVALID);
  o.by = PD_TOUCHPOINT_BY_TOUCHPOINT;
  o.size = 0;
  ck_assert_int_eq(pd_touchpoint_scorecard(store, &o, &t), PD_ERR_INVALID);
  ck_assert_int_eq(pd_touchpoint_scorecard(NULL, NULL, &t), PD_ERR_INVALID);
  ck_assert_int_eq(pd_touchpoint_scorecard(store, NULL, NULL), PD_ERR_INVALID);
  pd_touchpoint_by by;
  ck_assert_int_eq(pd_touchpoint_by_from_name("carrier", &by), PD_OK);
  ck_assert_int_eq(by, PD_TOUCHPOINT_BY_CARRIER);
  ck_assert_int_eq(pd_touchpoint_by_from_name("channel", &by), PD_ERR_INVALID);
  ck_assert_str_eq(pd_touchpoint_by_name(PD_TOUCHPOINT_BY_DOMAIN), "domain");
  ck_assert_ptr_null(pd_touchpoint_by_name((pd_touchpoint_by)3));
}
END_TEST

/* A store with touchpoints and no events, and one with nothing at all. */
START_TEST(empty_stores) {
  char *d2 = pd_test_tmpdir("empty");
  pd_store *s = pd_test_open(d2, 1);
  pd_table *t = NULL;
  PD_CHECK(pd_touchpoint_scorecard(s, NULL, &t));
  ck_assert_int_eq(pd_table_n_rows(t), 0);
  pd_table_free(t);
  PD_CHECK(pd_touchpoint_migration(s, NULL, &t));
  ck_assert_int_eq(pd_table_n_rows(t), 0);
  pd_table_free(t);
  pd_writer *w;
  PD_CHECK(pd_writer_open(&w, s));
  tp_add(w, "solo", PD_DOMAIN_PUBLIC, PD_CARRIER_KOL, 700);
  PD_CHECK(pd_writer_commit(w));
  pd_writer_close(w);
  PD_CHECK(pd_touchpoint_scorecard(s, NULL, &t));
  ck_assert_int_eq(pd_table_n_rows(t), 1);
  ck_assert_int_eq(I(t, "solo", "acquired"), 0);
  ck_assert_int_eq(I(t, "solo", "days"), 0);
  ck_assert_int_eq(I(t, "solo", "spend"), 0);
  ck_assert(NUL(t, "solo", "cac"));
  pd_table_free(t);
  /* a spend that does not fit in int64 over the period is an error, not a wrapped number */
  PD_CHECK(pd_writer_open(&w, s));
  tp_add(w, "huge", PD_DOMAIN_PUBLIC, PD_CARRIER_KOL, INT64_MAX / 2);
  uint32_t x;
  PD_CHECK(pd_writer_user(w, "x", &x));
  pd_event e1 = {T0, x, PD_EV_VISIT, PD_NONE, PD_NONE, 0}, e2 = {T0 + 2 * D, x, PD_EV_VISIT, PD_NONE, PD_NONE, 0};
  PD_CHECK(pd_writer_append(w, &e1));
  PD_CHECK(pd_writer_append(w, &e2));
  PD_CHECK(pd_writer_commit(w));
  pd_writer_close(w);
  t = (pd_table *)1;
  ck_assert_int_eq(pd_touchpoint_scorecard(s, NULL, &t), PD_ERR_RANGE);
  ck_assert_ptr_null(t);
  ck_assert(strstr(pd_last_error(), "huge") != NULL);
  pd_store_close(s);
  pd_test_rmdir(d2);
  g_free(d2);
}
END_TEST

int main(void) {
  Suite *s = suite_create("touchpoints");
  TCase *tc = tcase_create("core");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, scorecard_by_touchpoint);
  tcase_add_test(tc, scorecard_rollups);
  tcase_add_test(tc, scorecard_tz_boundaries);
  tcase_add_test(tc, migration);
  tcase_add_test(tc, users_filter);
  tcase_add_test(tc, clv_from_model);
  tcase_add_test(tc, same_for_any_threads);
  tcase_add_test(tc, bad_options);
  tcase_add_test(tc, empty_stores);
  suite_add_tcase(s, tc);
  return pd_test_run(s);
}
