/* Membership and stored value: members vs non-members, stored-value users
 * vs others, before vs after joining, all hand-worked. */
#include <check.h>
#include <math.h>

#include "testutil.h"
#include "tz.h"

#define DAY PD_MS_PER_DAY

static double dget(const pd_table *t, size_t row, const char *col) {
  long c = pd_table_col_index(t, col);
  ck_assert_msg(c >= 0, "no column %s", col);
  ck_assert_msg(!pd_table_is_null(t, row, (size_t)c), "%s[%zu] is null", col, row);
  return pd_table_col_type(t, (size_t)c) == PD_TYPE_INT64 ? (double)pd_table_get_int64(t, row, (size_t)c)
                                                          : pd_table_get_double(t, row, (size_t)c);
}

static int is_null(const pd_table *t, size_t row, const char *col) {
  long c = pd_table_col_index(t, col);
  ck_assert_msg(c >= 0, "no column %s", col);
  return pd_table_is_null(t, row, (size_t)c);
}

#define EQ(t, row, col, v) ck_assert_double_eq_tol(dget(t, row, col), (v), 1e-9)

static int64_t D0;

static void put(pd_writer *w, uint32_t u, double day, pd_event_type ty, int64_t amount) {
  pd_event e = {D0 + (int64_t)(day * DAY), u, ty, PD_NONE, PD_NONE, amount};
  PD_CHECK(pd_writer_append(w, &e));
}

/* m1: visit d0, purchase d10 (100), joins d20, purchases d30 (200), d40 (300), refund d45 (50).
 * m2: joins d0 (first event), purchase d50 (500).
 * m3: purchase d60 (1000), at d70 a purchase (250) written before the join and the
 *     stored-value top-up (5000, not revenue), purchase d90 (400).
 * n1: purchases d5, d6 (100 each); n2: visit d50; n3: visit d150 (after the end d100). */
static pd_store *fill(char **dir_out) {
  char *dir = pd_test_tmpdir("membership");
  pd_store *s = pd_test_open(dir, 1);
  pd_writer *w = NULL;
  PD_CHECK(pd_writer_open(&w, s));
  uint32_t m1, m2, m3, n1, n2, n3;
  PD_CHECK(pd_writer_user(w, "m1", &m1));
  PD_CHECK(pd_writer_user(w, "m2", &m2));
  PD_CHECK(pd_writer_user(w, "m3", &m3));
  PD_CHECK(pd_writer_user(w, "n1", &n1));
  PD_CHECK(pd_writer_user(w, "n2", &n2));
  PD_CHECK(pd_writer_user(w, "n3", &n3));
  D0 = pd__days_from_civil(2024, 1, 1) * DAY;
  put(w, m1, 0, PD_EV_VISIT, 0);
  put(w, m1, 10, PD_EV_PURCHASE, 100);
  put(w, m1, 20, PD_EV_MEMBER_JOIN, 0);
  put(w, m1, 30, PD_EV_PURCHASE, 200);
  put(w, m1, 40, PD_EV_PURCHASE, 300);
  put(w, m1, 45, PD_EV_REFUND, 50);
  put(w, m2, 0, PD_EV_MEMBER_JOIN, 0);
  put(w, m2, 50, PD_EV_PURCHASE, 500);
  put(w, m3, 60, PD_EV_PURCHASE, 1000);
  put(w, m3, 70, PD_EV_PURCHASE, 250);
  put(w, m3, 70, PD_EV_MEMBER_JOIN, 0);
  put(w, m3, 70, PD_EV_STORED_VALUE, 5000);
  put(w, m3, 90, PD_EV_PURCHASE, 400);
  put(w, n1, 5, PD_EV_PURCHASE, 100);
  put(w, n1, 6, PD_EV_PURCHASE, 100);
  put(w, n2, 50, PD_EV_VISIT, 0);
  put(w, n3, 150, PD_EV_VISIT, 0);
  PD_CHECK(pd_writer_commit(w));
  pd_writer_close(w);
  *dir_out = dir;
  return s;
}

START_TEST(groups_hand_worked) {
  char *dir;
  pd_store *s = fill(&dir);
  pd_membership_options o = PD_MEMBERSHIP_OPTIONS_INIT;
  o.end = D0 + 100 * DAY;
  pd_table *g = NULL, *ba = NULL;
  PD_CHECK(pd_membership_compare(s, &o, &g, &ba));
  ck_assert_uint_eq(pd_table_n_rows(g), 4);
  /* members m1, m2, m3: purchases 3 + 1 + 3, repurchasers m1, m3; revenue 550 + 500 + 1650;
   * observed days 100 + 100 + 40 */
  ck_assert_str_eq(pd_table_get_string(g, 0, 1), "members");
  EQ(g, 0, "users", 3);
  EQ(g, 0, "buyers", 3);
  EQ(g, 0, "buyer_rate", 1);
  EQ(g, 0, "repurchasers", 2);
  EQ(g, 0, "repurchase_rate", 2.0 / 3);
  EQ(g, 0, "purchases", 7);
  EQ(g, 0, "purchases_per_buyer", 7.0 / 3);
  EQ(g, 0, "purchases_per_30d", 30.0 * 7 / 240);
  EQ(g, 0, "revenue", 2700);
  EQ(g, 0, "revenue_per_user", 900);
  EQ(g, 0, "revenue_per_buyer", 900);
  /* non-members n1, n2 (n3 starts after the end): days 95 + 50 */
  ck_assert_str_eq(pd_table_get_string(g, 1, 1), "non-members");
  EQ(g, 1, "users", 2);
  EQ(g, 1, "buyers", 1);
  EQ(g, 1, "buyer_rate", 0.5);
  EQ(g, 1, "repurchase_rate", 1);
  EQ(g, 1, "purchases_per_30d", 30.0 * 2 / 145);
  EQ(g, 1, "revenue_per_user", 100);
  EQ(g, 1, "revenue_per_buyer", 200);
  /* stored-value users: m3 alone, 40 days; others m1, m2, n1, n2: 345 days */
  ck_assert_str_eq(pd_table_get_string(g, 2, 0), "stored_value");
  EQ(g, 2, "users", 1);
  EQ(g, 2, "purchases", 3);
  EQ(g, 2, "revenue", 1650);
  EQ(g, 2, "purchases_per_30d", 30.0 * 3 / 40);
  EQ(g, 3, "users", 4);
  EQ(g, 3, "buyers", 3);
  EQ(g, 3, "repurchasers", 2);
  EQ(g, 3, "purchases", 6);
  EQ(g, 3, "revenue", 1250);
  EQ(g, 3, "purchases_per_30d", 30.0 * 6 / 345);
  /* before/after, members: m1 (20 days before, 80 after) and m3 (10, 30); m2 joined with
   * its first event: excluded. m3's purchase at d70 counts after (written before the join). */
  ck_assert_uint_eq(pd_table_n_rows(ba), 4);
  ck_assert_str_eq(pd_table_get_string(ba, 0, 1), "before");
  EQ(ba, 0, "users", 2);
  EQ(ba, 0, "excluded", 1);
  EQ(ba, 0, "observed_days", 30);
  EQ(ba, 0, "purchases", 2);
  EQ(ba, 0, "revenue", 1100);
  EQ(ba, 0, "buyers", 2);
  EQ(ba, 0, "purchases_per_30d", 2);
  EQ(ba, 0, "revenue_per_30d", 1100);
  EQ(ba, 0, "mean_user_purchases_per_30d", (30.0 / 20 + 30.0 / 10) / 2);
  EQ(ba, 0, "mean_user_revenue_per_30d", (30.0 * 100 / 20 + 30.0 * 1000 / 10) / 2);
  ck_assert_str_eq(pd_table_get_string(ba, 1, 1), "after");
  EQ(ba, 1, "observed_days", 110);
  EQ(ba, 1, "purchases", 4);
  EQ(ba, 1, "revenue", 1100);
  EQ(ba, 1, "purchases_per_30d", 30.0 * 4 / 110);
  EQ(ba, 1, "revenue_per_30d", 300);
  EQ(ba, 1, "mean_user_purchases_per_30d", (30.0 * 2 / 80 + 30.0 * 2 / 30) / 2);
  EQ(ba, 1, "mean_user_revenue_per_30d", (30.0 * 450 / 80 + 650) / 2);
  /* stored value: m3, 10 days before (1 purchase, 1000), 30 after (2, 650) */
  ck_assert_str_eq(pd_table_get_string(ba, 2, 0), "stored-value users");
  EQ(ba, 2, "users", 1);
  EQ(ba, 2, "excluded", 0);
  EQ(ba, 2, "purchases_per_30d", 3);
  EQ(ba, 2, "revenue_per_30d", 3000);
  EQ(ba, 3, "purchases_per_30d", 2);
  EQ(ba, 3, "revenue_per_30d", 650);
  pd_table_free(g);
  pd_table_free(ba);
  /* min_days 15 leaves m3 (10 days before) out; the same with two workers */
  o.min_days = 15;
  o.threads = 2;
  PD_CHECK(pd_membership_compare(s, &o, NULL, &ba));
  EQ(ba, 0, "users", 1);
  EQ(ba, 0, "excluded", 2);
  EQ(ba, 0, "revenue_per_30d", 30.0 * 100 / 20);
  EQ(ba, 2, "users", 0);
  ck_assert(is_null(ba, 2, "purchases_per_30d") && is_null(ba, 2, "buyer_rate") &&
            is_null(ba, 3, "mean_user_revenue_per_30d"));
  pd_table_free(ba);
  pd_store_close(s);
  pd_test_rmdir(dir);
  g_free(dir);
}
END_TEST

START_TEST(defaults_and_custom_types) {
  char *dir;
  pd_store *s = fill(&dir);
  pd_table *g = NULL;
  /* default end: the latest event (n3's visit, d150): n3 joins the population */
  PD_CHECK(pd_membership_compare(s, NULL, &g, NULL));
  EQ(g, 1, "users", 3);
  EQ(g, 1, "buyers", 1);
  EQ(g, 0, "purchases_per_30d", 30.0 * 7 / (150 + 150 + 90));
  pd_table_free(g);
  /* members defined by the stored-value event: m3 alone */
  pd_membership_options o = PD_MEMBERSHIP_OPTIONS_INIT;
  o.member_type = PD_EV_STORED_VALUE;
  PD_CHECK(pd_membership_compare(s, &o, &g, NULL));
  EQ(g, 0, "users", 1);
  EQ(g, 0, "revenue", 1650);
  pd_table_free(g);
  o.min_days = -1;
  ck_assert_int_eq(pd_membership_compare(s, &o, &g, NULL), PD_ERR_INVALID);
  ck_assert_ptr_null(g);
  ck_assert_int_eq(pd_membership_compare(NULL, NULL, &g, NULL), PD_ERR_INVALID);
  pd_store_close(s);
  pd_test_rmdir(dir);
  g_free(dir);
}
END_TEST

START_TEST(empty_store) {
  char *dir = pd_test_tmpdir("membership-empty");
  pd_store *s = pd_test_open(dir, 1);
  pd_table *g = NULL, *ba = NULL;
  PD_CHECK(pd_membership_compare(s, NULL, &g, &ba));
  ck_assert_uint_eq(pd_table_n_rows(g), 4);
  for (size_t r = 0; r < 4; r++) {
    EQ(g, r, "users", 0);
    ck_assert(is_null(g, r, "buyer_rate") && is_null(g, r, "purchases_per_30d") && is_null(g, r, "revenue_per_user"));
  }
  EQ(ba, 0, "users", 0);
  pd_table_free(g);
  pd_table_free(ba);
  pd_store_close(s);
  pd_test_rmdir(dir);
  g_free(dir);
}
END_TEST

static Suite *membership_suite(void) {
  Suite *s = suite_create("membership");
  TCase *tc = tcase_create("membership");
  tcase_add_test(tc, groups_hand_worked);
  tcase_add_test(tc, defaults_and_custom_types);
  tcase_add_test(tc, empty_store);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return pd_test_run(membership_suite()); }
