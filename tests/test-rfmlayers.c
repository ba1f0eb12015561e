/* RFM scores and the eight layers: hand-worked quantile scores with ties,
 * caller thresholds, layering against the mean and against given splits,
 * empty input, a single customer, the summary and store entry points. */
#include <check.h>
#include <math.h>

#include "testutil.h"
#include "tz.h"

/* Ten customers. Recency sorted as -r: -60 -30 -14 -10 -7 -5 -2 -2 -2 0;
 * F sorted: 1 1 1 1 2 2 3 5 8 10; M is 100..1000 shuffled. */
static const double R10[10] = {30, 2, 2, 10, 0, 5, 60, 2, 14, 7};
static const double F10[10] = {2, 1, 10, 1, 5, 1, 3, 1, 8, 2};
static const double M10[10] = {500, 100, 1000, 300, 800, 200, 900, 400, 700, 600};

static int64_t iget(const pd_table *t, size_t row, const char *col) {
  long c = pd_table_col_index(t, col);
  ck_assert_msg(c >= 0, "no column %s", col);
  ck_assert_msg(!pd_table_is_null(t, row, (size_t)c), "%s[%zu] is null", col, row);
  return pd_table_get_int64(t, row, (size_t)c);
}

static double dget(const pd_table *t, size_t row, const char *col) {
  long c = pd_table_col_index(t, col);
  ck_assert_msg(c >= 0, "no column %s", col);
  ck_assert_msg(!pd_table_is_null(t, row, (size_t)c), "%s[%zu] is null", col, row);
  return pd_table_get_double(t, row, (size_t)c);
}

static int is_null(const pd_table *t, size_t row, const char *col) {
  long c = pd_table_col_index(t, col);
  ck_assert_msg(c >= 0, "no column %s", col);
  return pd_table_is_null(t, row, (size_t)c);
}

static void check_scores(const pd_table *u, const char *col, const int *want, size_t n) {
  ck_assert_uint_eq(pd_table_n_rows(u), n);
  for (size_t i = 0; i < n; i++) ck_assert_msg(iget(u, i, col) == want[i], "%s[%zu] = %lld, want %d", col, i,
                                               (long long)iget(u, i, col), want[i]);
}

START_TEST(quantile_scores_with_ties) {
  pd_table *u = NULL, *l = NULL, *th = NULL;
  PD_CHECK(pd_rfm_layers_from_values(10, NULL, R10, F10, M10, NULL, &u, &l, &th));
  /* -R edges (h = 9q: 1.8, 3.6, 5.4, 7.2): -30 + 0.8*16 = -17.2, -10 + 0.6*3 = -8.2,
   * -5 + 0.4*3 = -3.8, -2 (tied). R = 2 is above three edges (not the tied -2): 4;
   * R = 0 above all four: 5; R = 30 and 60 above none: 1. */
  const int r[10] = {1, 4, 4, 2, 5, 3, 1, 4, 2, 3};
  /* F edges: 1 (tied), 1 + 0.6 = 1.6, 2 + 0.4 = 2.4, 5 + 0.2*3 = 5.6: the four F = 1
   * score 1, F = 2 is above 1 and 1.6 and scores 3 (no customer scores 2). */
  const int f[10] = {3, 1, 5, 1, 4, 1, 4, 1, 5, 3};
  /* M edges 280, 460, 640, 820 */
  const int m[10] = {3, 1, 5, 2, 4, 1, 5, 2, 4, 3};
  check_scores(u, "r_score", r, 10);
  check_scores(u, "f_score", f, 10);
  check_scores(u, "m_score", m, 10);
  for (size_t i = 0; i < 10; i++) {
    ck_assert_int_eq(iget(u, i, "user"), (int64_t)i);
    ck_assert_int_eq(iget(u, i, "rfm_score"), 100 * r[i] + 10 * f[i] + m[i]);
    ck_assert_int_eq(iget(u, i, "score_sum"), r[i] + f[i] + m[i]);
    ck_assert(dget(u, i, "recency") == R10[i] && dget(u, i, "monetary") == M10[i]);
  }
  /* thresholds: R edges as recency, ascending: 2, 3.8, 8.2, 17.2 */
  ck_assert_str_eq(pd_table_get_string(th, 0, 0), "R");
  ck_assert_double_eq_tol(dget(th, 0, "edge_1"), 2, 1e-12);
  ck_assert_double_eq_tol(dget(th, 0, "edge_2"), 3.8, 1e-12);
  ck_assert_double_eq_tol(dget(th, 0, "edge_3"), 8.2, 1e-12);
  ck_assert_double_eq_tol(dget(th, 0, "edge_4"), 17.2, 1e-12);
  ck_assert_double_eq_tol(dget(th, 1, "edge_2"), 1.6, 1e-12);
  ck_assert_double_eq_tol(dget(th, 2, "edge_4"), 820, 1e-9);
  ck_assert_int_lt(pd_table_col_index(th, "edge_5"), 0);
  pd_table_free(u);
  pd_table_free(l);
  pd_table_free(th);
  /* three bins: edges at q = 1/3, 2/3 (h = 3, 6): 1 and 3: F = 1 scores 1, F = 2 and 3 score 2
   * (3 is not above the edge 3), 5 and more score 3 */
  pd_rfm_layer_options o = PD_RFM_LAYER_OPTIONS_INIT;
  o.bins = 3;
  PD_CHECK(pd_rfm_layers_from_values(10, NULL, R10, F10, M10, &o, &u, NULL, NULL));
  const int f3[10] = {2, 1, 3, 1, 3, 1, 2, 1, 3, 2};
  check_scores(u, "f_score", f3, 10);
  pd_table_free(u);
}
END_TEST

START_TEST(threshold_scores) {
  const double rc[4] = {3, 7, 14, 30}, fc[4] = {1, 2, 4, 7}, mc[4] = {200, 400, 600, 800};
  pd_rfm_layer_options o = PD_RFM_LAYER_OPTIONS_INIT;
  o.score_method = PD_RFM_SCORE_THRESHOLDS;
  o.r_cuts = rc, o.f_cuts = fc, o.m_cuts = mc;
  pd_table *u = NULL, *th = NULL;
  PD_CHECK(pd_rfm_layers_from_values(10, NULL, R10, F10, M10, &o, &u, NULL, &th));
  /* R: <= 3 -> 5, (3, 7] -> 4, (7, 14] -> 3, (14, 30] -> 2, > 30 -> 1 */
  const int r[10] = {2, 5, 5, 3, 5, 4, 1, 5, 3, 4};
  /* F: <= 1 -> 1, (1, 2] -> 2, (2, 4] -> 3, (4, 7] -> 4, > 7 -> 5 */
  const int f[10] = {2, 1, 5, 1, 4, 1, 3, 1, 5, 2};
  /* M: 800 is not above 800: 4; 200 scores 1 */
  const int m[10] = {3, 1, 5, 2, 4, 1, 5, 2, 4, 3};
  check_scores(u, "r_score", r, 10);
  check_scores(u, "f_score", f, 10);
  check_scores(u, "m_score", m, 10);
  ck_assert(dget(th, 0, "edge_1") == 3 && dget(th, 0, "edge_4") == 30 && dget(th, 2, "edge_3") == 600);
  pd_table_free(u);
  pd_table_free(th);
  /* bad thresholds */
  const double flat[4] = {1, 2, 2, 3};
  o.f_cuts = flat;
  ck_assert_int_eq(pd_rfm_layers_from_values(10, NULL, R10, F10, M10, &o, &u, NULL, NULL), PD_ERR_INVALID);
  ck_assert_ptr_null(u);
  o.f_cuts = NULL;
  ck_assert_int_eq(pd_rfm_layers_from_values(10, NULL, R10, F10, M10, &o, &u, NULL, NULL), PD_ERR_INVALID);
  o = (pd_rfm_layer_options)PD_RFM_LAYER_OPTIONS_INIT;
  o.bins = 1;
  ck_assert_int_eq(pd_rfm_layers_from_values(10, NULL, R10, F10, M10, &o, &u, NULL, NULL), PD_ERR_INVALID);
  const double bad[1] = {NAN};
  ck_assert_int_eq(pd_rfm_layers_from_values(1, NULL, bad, F10, M10, NULL, &u, NULL, NULL), PD_ERR_INVALID);
}
END_TEST

START_TEST(layers_against_mean) {
  pd_table *u = NULL, *l = NULL, *th = NULL;
  PD_CHECK(pd_rfm_layers_from_values(10, NULL, R10, F10, M10, NULL, &u, &l, &th));
  /* means: R 132/10 = 13.2, F 34/10 = 3.4, M 550. Customer 0 (30, 2, 500): LLL = 8;
   * 1 (2, 1, 100) HLL = 6; 2 (2, 10, 1000) HHH = 1; 3 (10, 1, 300) 6; 4 (0, 5, 800) 1;
   * 5 (5, 1, 200) 6; 6 (60, 3, 900) LLH = 4; 7 (2, 1, 400) 6; 8 (14, 8, 700) LHH = 3;
   * 9 (7, 2, 600) HLH = 2. */
  const int want[10] = {8, 6, 1, 6, 1, 6, 4, 6, 3, 2};
  check_scores(u, "layer", want, 10);
  ck_assert_str_eq(pd_table_get_string(u, 2, (size_t)pd_table_col_index(u, "layer_name")), "Important value");
  ck_assert_str_eq(pd_table_get_string(u, 6, (size_t)pd_table_col_index(u, "layer_zh")),
                   "\xE9\x87\x8D\xE8\xA6\x81\xE6\x8C\xBD\xE7\x95\x99"); /* 重要挽留 */
  ck_assert_double_eq_tol(dget(th, 0, "mean"), 13.2, 1e-12);
  ck_assert_double_eq_tol(dget(th, 1, "split"), 3.4, 1e-12);
  ck_assert_double_eq_tol(dget(th, 2, "mean"), 550, 1e-9);
  ck_assert_uint_eq(pd_table_n_rows(l), 8);
  const int64_t users[8] = {2, 1, 1, 1, 0, 4, 0, 1}, rev[8] = {1800, 600, 700, 900, 0, 1000, 0, 500};
  for (size_t k = 0; k < 8; k++) {
    ck_assert_int_eq(iget(l, k, "layer"), (int64_t)k + 1);
    ck_assert_int_eq(iget(l, k, "users"), users[k]);
    ck_assert_int_eq(iget(l, k, "revenue"), rev[k]);
    ck_assert_double_eq_tol(dget(l, k, "share"), users[k] / 10.0, 1e-12);
    ck_assert_double_eq_tol(dget(l, k, "revenue_share"), rev[k] / 5500.0, 1e-12);
    ck_assert_int_eq(is_null(l, k, "mean_recency"), users[k] == 0);
  }
  ck_assert_str_eq(pd_table_get_string(l, 3, (size_t)pd_table_col_index(l, "r")), "low");
  ck_assert_str_eq(pd_table_get_string(l, 3, (size_t)pd_table_col_index(l, "f")), "low");
  ck_assert_str_eq(pd_table_get_string(l, 3, (size_t)pd_table_col_index(l, "m")), "high");
  ck_assert_double_eq_tol(dget(l, 0, "mean_recency"), 1, 1e-12);       /* (2 + 0) / 2 */
  ck_assert_double_eq_tol(dget(l, 0, "mean_frequency"), 7.5, 1e-12);   /* (10 + 5) / 2 */
  ck_assert_double_eq_tol(dget(l, 5, "mean_monetary"), 250, 1e-12);    /* 1000 / 4 */
  ck_assert_str_eq(pd_table_get_string(l, 0, (size_t)pd_table_col_index(l, "action")), pd_rfm_layer_action(1));
  pd_table_free(u);
  pd_table_free(l);
  pd_table_free(th);
  /* caller's splits; a value equal to the split is high: R <= 10, F >= 2, M >= 500 */
  pd_rfm_layer_options o = PD_RFM_LAYER_OPTIONS_INIT;
  o.split = PD_RFM_SPLIT_THRESHOLDS;
  o.r_split = 10, o.f_split = 2, o.m_split = 500;
  PD_CHECK(pd_rfm_layers_from_values(10, NULL, R10, F10, M10, &o, &u, NULL, &th));
  /* 0 (30, 2, 500) LHH = 3; 1 (2, 1, 100) HLL = 6; 2 HHH = 1; 3 (10, 1, 300) HLL = 6;
   * 4 HHH = 1; 5 (5, 1, 200) 6; 6 (60, 3, 900) LHH = 3; 7 (2, 1, 400) 6; 8 (14, 8, 700) 3;
   * 9 (7, 2, 600) HHH = 1 */
  const int want2[10] = {3, 6, 1, 6, 1, 6, 3, 6, 3, 1};
  check_scores(u, "layer", want2, 10);
  ck_assert(dget(th, 0, "split") == 10 && dget(th, 2, "split") == 500);
  pd_table_free(u);
  pd_table_free(th);
}
END_TEST

START_TEST(empty_and_single) {
  pd_table *u = NULL, *l = NULL, *th = NULL;
  PD_CHECK(pd_rfm_layers_from_values(0, NULL, NULL, NULL, NULL, NULL, &u, &l, &th));
  ck_assert_uint_eq(pd_table_n_rows(u), 0);
  ck_assert_uint_eq(pd_table_n_rows(l), 8);
  for (size_t k = 0; k < 8; k++) {
    ck_assert_int_eq(iget(l, k, "users"), 0);
    ck_assert(is_null(l, k, "share") && is_null(l, k, "revenue_share") && is_null(l, k, "mean_monetary"));
  }
  ck_assert(is_null(th, 0, "mean") && is_null(th, 1, "split") && is_null(th, 2, "edge_1"));
  pd_table_free(u);
  pd_table_free(l);
  pd_table_free(th);
  /* one customer: every edge is its own value, nothing is above: scores 1, 1, 1;
   * equal to every mean: high, high, high = important value */
  const uint32_t who[1] = {42};
  const double r[1] = {3}, f[1] = {2}, m[1] = {100};
  PD_CHECK(pd_rfm_layers_from_values(1, who, r, f, m, NULL, &u, &l, NULL));
  ck_assert_int_eq(iget(u, 0, "user"), 42);
  ck_assert_int_eq(iget(u, 0, "rfm_score"), 111);
  ck_assert_int_eq(iget(u, 0, "layer"), 1);
  ck_assert_int_eq(iget(l, 0, "users"), 1);
  ck_assert_double_eq(dget(l, 0, "share"), 1.0);
  ck_assert_double_eq(dget(l, 0, "revenue_share"), 1.0);
  pd_table_free(u);
  pd_table_free(l);
  /* names */
  ck_assert_str_eq(pd_rfm_layer_name(8), "General win back");
  ck_assert_ptr_null(pd_rfm_layer_name(0));
  ck_assert_ptr_null(pd_rfm_layer_name_zh(9));
  ck_assert_ptr_null(pd_rfm_layer_action(-1));
}
END_TEST

#define DAY PD_MS_PER_DAY

START_TEST(from_summary) {
  /* user 1: purchases day 0 (1000) and day 10 (500); user 2: day 5 (200). Summary ends on
   * day 10: user 1 frequency 1, recency 10, T 10 -> R 0, F 2, M 1500; user 2 R 5, F 1,
   * M 200. Means R 2.5, F 1.5, M 850: user 1 important value, user 2 general win back. */
  const uint32_t u[3] = {1, 2, 1};
  const int64_t t[3] = {0, 5 * DAY, 10 * DAY}, a[3] = {1000, 200, 500};
  pd_table *rfm = NULL, *us = NULL, *l = NULL;
  PD_CHECK(pd_rfm_from_arrays(3, u, t, a, NULL, &rfm));
  PD_CHECK(pd_rfm_layers_from_summary(rfm, NULL, &us, &l, NULL));
  ck_assert_uint_eq(pd_table_n_rows(us), 2);
  ck_assert_int_lt(pd_table_col_index(us, "external_id"), 0);
  ck_assert_int_eq(iget(us, 0, "user"), 1);
  ck_assert(dget(us, 0, "recency") == 0 && dget(us, 0, "frequency") == 2 && dget(us, 0, "monetary") == 1500);
  ck_assert(dget(us, 1, "recency") == 5 && dget(us, 1, "frequency") == 1 && dget(us, 1, "monetary") == 200);
  ck_assert_int_eq(iget(us, 0, "layer"), 1);
  ck_assert_int_eq(iget(us, 1, "layer"), 8);
  ck_assert_int_eq(iget(l, 0, "revenue"), 1500);
  ck_assert_int_eq(iget(l, 7, "revenue"), 200);
  pd_table_free(us);
  pd_table_free(l);
  /* a table without the columns */
  PD_CHECK(pd_rfm_layers_from_summary(rfm, NULL, NULL, &l, NULL)); /* outputs may be NULL */
  pd_table_free(l);
  pd_table_free(rfm);
  ck_assert_int_eq(pd_rfm_layers_from_summary(NULL, NULL, &us, NULL, NULL), PD_ERR_INVALID);
}
END_TEST

static void put(pd_writer *w, uint32_t user, int64_t t, pd_event_type ty, int64_t amount) {
  pd_event e = {t, user, ty, PD_NONE, PD_NONE, amount};
  PD_CHECK(pd_writer_append(w, &e));
}

START_TEST(from_store) {
  char *dir = pd_test_tmpdir("rfmlayers");
  pd_store *s = pd_test_open(dir, 1);
  pd_writer *w = NULL;
  PD_CHECK(pd_writer_open(&w, s));
  uint32_t a, b, c, d;
  PD_CHECK(pd_writer_user(w, "a", &a));
  PD_CHECK(pd_writer_user(w, "b", &b));
  PD_CHECK(pd_writer_user(w, "c", &c));
  PD_CHECK(pd_writer_user(w, "d", &d));
  int64_t d0 = pd__days_from_civil(2024, 3, 1) * DAY;
  put(w, a, d0 + 10 * 3600000, PD_EV_PURCHASE, 1000);
  put(w, a, d0 + 3 * DAY, PD_EV_PURCHASE, 500);
  put(w, a, d0 + 4 * DAY, PD_EV_REFUND, 200); /* stored positive, counts negative */
  put(w, b, d0 + 1 * DAY, PD_EV_PURCHASE, 300);
  put(w, b, d0 + 6 * DAY, PD_EV_VISIT, 0);
  put(w, c, d0 + 2 * DAY, PD_EV_VISIT, 0);
  put(w, d, d0 - 5 * DAY, PD_EV_PURCHASE, 999);
  put(w, d, d0 + 5 * DAY + 23 * 3600000, PD_EV_PURCHASE, 700);
  PD_CHECK(pd_writer_commit(w));
  pd_writer_close(w);
  /* whole history: the latest purchase/refund is d's on day 5, so R counts to day 5:
   * a: F 2, M 1300, last day 3 -> R 2; b: F 1, M 300, R 4; d: F 2, M 1699, R 0; c is no customer */
  pd_table *u = NULL, *l = NULL;
  PD_CHECK(pd_rfm_layers_from_store(s, NULL, &u, &l, NULL));
  ck_assert_uint_eq(pd_table_n_rows(u), 3);
  const struct {
    const char *ext;
    double r, f, m;
  } want[3] = {{"a", 2, 2, 1300}, {"b", 4, 1, 300}, {"d", 0, 2, 1699}};
  for (size_t i = 0; i < 3; i++) {
    ck_assert_str_eq(pd_table_get_string(u, i, (size_t)pd_table_col_index(u, "external_id")), want[i].ext);
    ck_assert(dget(u, i, "recency") == want[i].r && dget(u, i, "frequency") == want[i].f &&
              dget(u, i, "monetary") == want[i].m);
  }
  pd_table_free(u);
  pd_table_free(l);
  /* window [day 0, day 5): d's purchases fall outside (day -5, day 5); R counts to day 4:
   * a R 1, F 2, M 1300; b R 3, F 1, M 300 */
  pd_rfm_layer_options o = PD_RFM_LAYER_OPTIONS_INIT;
  o.window_begin = d0;
  o.window_end = d0 + 5 * DAY;
  o.threads = 2;
  PD_CHECK(pd_rfm_layers_from_store(s, &o, &u, NULL, NULL));
  ck_assert_uint_eq(pd_table_n_rows(u), 2);
  ck_assert(dget(u, 0, "recency") == 1 && dget(u, 0, "frequency") == 2 && dget(u, 0, "monetary") == 1300);
  ck_assert(dget(u, 1, "recency") == 3 && dget(u, 1, "frequency") == 1 && dget(u, 1, "monetary") == 300);
  pd_table_free(u);
  /* in Asia/Shanghai (UTC+8) d's last purchase (day 5 23:00 UTC) is on local day 6, which is
   * then the end day too: a's last purchase (day 3 00:00 UTC = 08:00 local) is 3 days back */
  o = (pd_rfm_layer_options)PD_RFM_LAYER_OPTIONS_INIT;
  o.tz = "Asia/Shanghai";
  PD_CHECK(pd_rfm_layers_from_store(s, &o, &u, NULL, NULL));
  ck_assert(dget(u, 0, "recency") == 3 && dget(u, 2, "recency") == 0);
  pd_table_free(u);
  o.window_end = o.window_begin = 5;
  ck_assert_int_eq(pd_rfm_layers_from_store(s, &o, &u, NULL, NULL), PD_ERR_INVALID);
  o = (pd_rfm_layer_options)PD_RFM_LAYER_OPTIONS_INIT;
  o.window_begin = d0 + 100 * DAY; /* nobody */
  PD_CHECK(pd_rfm_layers_from_store(s, &o, &u, &l, NULL));
  ck_assert_uint_eq(pd_table_n_rows(u), 0);
  ck_assert_int_eq(iget(l, 0, "users"), 0);
  pd_table_free(u);
  pd_table_free(l);
  pd_store_close(s);
  pd_test_rmdir(dir);
  g_free(dir);
}
END_TEST

static Suite *rfmlayers_suite(void) {
  Suite *s = suite_create("rfmlayers");
  TCase *tc = tcase_create("rfmlayers");
  tcase_add_test(tc, quantile_scores_with_ties);
  tcase_add_test(tc, threshold_scores);
  tcase_add_test(tc, layers_against_mean);
  tcase_add_test(tc, empty_and_single);
  tcase_add_test(tc, from_summary);
  tcase_add_test(tc, from_store);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return pd_test_run(rfmlayers_suite()); }
