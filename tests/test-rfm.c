/* RFM summaries: the CDNOW calibration/holdout summary rebuilt from raw
 * transactions, hand-worked refunds and periods, and the store path
 * against the array path. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"
#include "tz.h"

#define SAMPLE_FILE PD_SHARED_DATA "/cdnow/CDNOW_sample.txt"
#define CBS_FILE PD_SHARED_DATA "/cdnow/cdnow_sample_cbs_39w_derived.csv"

static int64_t day_ms(int y, unsigned m, unsigned d) { return pd__days_from_civil(y, m, d) * PD_MS_PER_DAY; }

typedef struct tx {
  size_t n, cap;
  uint32_t *user;
  int64_t *time, *amount;
} tx;

static void tx_push(tx *t, uint32_t u, int64_t time, int64_t amount) {
  if (t->n == t->cap) {
    t->cap = t->cap ? 2 * t->cap : 64;
    t->user = realloc(t->user, t->cap * sizeof *t->user);
    t->time = realloc(t->time, t->cap * sizeof *t->time);
    t->amount = realloc(t->amount, t->cap * sizeof *t->amount);
    ck_assert(t->user && t->time && t->amount);
  }
  t->user[t->n] = u;
  t->time[t->n] = time;
  t->amount[t->n] = amount;
  t->n++;
}

static void tx_free(tx *t) {
  free(t->user);
  free(t->time);
  free(t->amount);
}

static int load_sample(tx *t) {
  memset(t, 0, sizeof *t);
  if (access(SAMPLE_FILE, R_OK) != 0 || access(CBS_FILE, R_OK) != 0) {
    fprintf(stderr, "SKIP: CDNOW data not found under %s (shared data folder absent)\n", PD_SHARED_DATA);
    return 0;
  }
  FILE *f = fopen(SAMPLE_FILE, "r");
  ck_assert_ptr_nonnull(f);
  char line[256];
  while (fgets(line, sizeof line, f)) {
    unsigned master, id, date, cds;
    char dollars[32];
    ck_assert_int_eq(sscanf(line, "%u %u %u %u %31s", &master, &id, &date, &cds, dollars), 5);
    int64_t cents;
    ck_assert_int_eq(pd_amount_parse(dollars, strlen(dollars), 2, &cents), PD_OK);
    /* noon UTC: the day must not depend on the hour */
    tx_push(t, id, day_ms(date / 10000, date / 100 % 100, date % 100) + 12 * 3600000, cents);
  }
  fclose(f);
  ck_assert_int_eq(t->n, 6919);
  return 1;
}

static pd_rfm_options cdnow_options(void) {
  pd_rfm_options o = PD_RFM_OPTIONS_INIT;
  o.unit_days = 7.0;
  o.calibration_end = day_ms(1997, 9, 30);
  o.holdout_end = day_ms(1998, 6, 30);
  return o;
}

static double col(const pd_table *t, size_t r, const char *name) {
  long c = pd_table_col_index(t, name);
  ck_assert_msg(c >= 0, "no column %s", name);
  return pd_table_col_type(t, (size_t)c) == PD_TYPE_INT64 ? (double)pd_table_get_int64(t, r, (size_t)c)
                                                         : pd_table_get_double(t, r, (size_t)c);
}

/* Every customer's x, t_x, T, m_x, x_star, sales_star as in the derived file. */
static void check_against_cbs(const pd_table *t) {
  FILE *f = fopen(CBS_FILE, "r");
  ck_assert_ptr_nonnull(f);
  char line[512];
  ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
  size_t r = 0;
  while (fgets(line, sizeof line, f)) {
    int id, mid, x, txd, Td;
    char date[16];
    double tx_w, T_w, m, xs, ss;
    ck_assert_int_eq(sscanf(line, "%d,%d,%15[^,],%d,%d,%d,%lf,%lf,%lf,%lf,%lf", &id, &mid, date, &x, &txd, &Td, &tx_w,
                            &T_w, &m, &xs, &ss),
                     11);
    ck_assert_msg(col(t, r, "user") == id, "row %zu user %g vs %d", r, col(t, r, "user"), id);
    ck_assert_msg(col(t, r, "frequency") == x, "customer %d frequency %g vs %d", id, col(t, r, "frequency"), x);
    ck_assert_msg(fabs(col(t, r, "recency") * 7 - txd) < 1e-9, "customer %d recency", id);
    ck_assert_msg(fabs(col(t, r, "T") * 7 - Td) < 1e-9, "customer %d T", id);
    ck_assert_msg(fabs(col(t, r, "recency") - tx_w) < 1e-8 && fabs(col(t, r, "T") - T_w) < 1e-8, "customer %d weeks", id);
    /* m_x is printed with 10 significant digits */
    ck_assert_msg(fabs(col(t, r, "monetary_value") - m * 100) < 1e-9 * fmax(1, m * 100), "customer %d monetary %g vs %g", id,
                  col(t, r, "monetary_value"), m * 100);
    ck_assert_msg(col(t, r, "frequency_holdout") == xs, "customer %d holdout x %g vs %g", id,
                  col(t, r, "frequency_holdout"), xs);
    ck_assert_msg(fabs(col(t, r, "revenue_holdout") - ss * 100) < 0.5, "customer %d holdout sales", id);
    ck_assert(fabs(col(t, r, "duration_holdout") - 39.0) < 1e-12);
    r++;
  }
  fclose(f);
  ck_assert_int_eq(r, 2357);
  ck_assert_int_eq(pd_table_n_rows(t), 2357);
}

START_TEST(cdnow_from_arrays) {
  tx t;
  if (!load_sample(&t)) return;
  pd_rfm_options o = cdnow_options();
  pd_table *out = NULL;
  PD_CHECK(pd_rfm_from_arrays(t.n, t.user, t.time, t.amount, &o, &out));
  check_against_cbs(out);
  /* Straight from the table to the published fits (spend in cents: gamma x 100). */
  pd_clv_model *bg = NULL, *gg = NULL;
  PD_CHECK(pd_clv_fit_table(PD_CLV_BGNBD, out, NULL, &bg));
  ck_assert(fabs(pd_clv_model_param(bg, 0) - 0.243) <= 5e-4 && fabs(pd_clv_model_param(bg, 3) - 2.426) <= 5e-4);
  PD_CHECK(pd_clv_fit_table(PD_CLV_GAMMA_GAMMA, out, NULL, &gg));
  ck_assert(fabs(pd_clv_model_param(gg, 0) - 6.25) <= 5e-3 && fabs(pd_clv_model_param(gg, 1) - 3.74) <= 5e-3);
  ck_assert(fabs(pd_clv_model_param(gg, 2) / 100 - 15.44) <= 5e-3);
  pd_table *sc = NULL;
  PD_CHECK(pd_clv_score_table(bg, gg, out, 52, 12, 0.01, 4.345, &sc));
  ck_assert_int_eq(pd_table_n_rows(sc), 2357);
  pd_clv_summary sum;
  double *storage = NULL, v[2357];
  PD_CHECK(pd_clv_summary_from_table(out, &sum, &storage));
  PD_CHECK(pd_clv_predict_value(bg, gg, &sum, 12, 0.01, 4.345, v));
  for (size_t r = 0; r < 2357; r++) {
    ck_assert(col(sc, r, "user") == col(out, r, "user"));
    ck_assert(fabs(col(sc, r, "clv") - v[r]) <= 1e-9 * fmax(1, v[r]));
  }
  pd_free(storage);
  pd_table_free(sc);
  pd_clv_model_free(bg);
  pd_clv_model_free(gg);
  pd_table_free(out);
  /* Input order must not matter: reverse it. */
  for (size_t i = 0; i < t.n / 2; i++) {
    size_t j = t.n - 1 - i;
    uint32_t u = t.user[i];
    t.user[i] = t.user[j];
    t.user[j] = u;
    int64_t a = t.time[i];
    t.time[i] = t.time[j];
    t.time[j] = a;
    a = t.amount[i];
    t.amount[i] = t.amount[j];
    t.amount[j] = a;
  }
  PD_CHECK(pd_rfm_from_arrays(t.n, t.user, t.time, t.amount, &o, &out));
  check_against_cbs(out);
  pd_table_free(out);
  tx_free(&t);
}
END_TEST

/* One customer, hand-worked. Days are 2024-01-DD at 10:00 UTC. */
#define D(dd) (day_ms(2024, 1, dd) + 10 * 3600000)

START_TEST(refunds_and_periods) {
  tx t = {0};
  tx_push(&t, 7, D(2), -500);       /* refund before any purchase: ignored */
  tx_push(&t, 7, D(3), 1000);       /* first period */
  tx_push(&t, 7, D(3) + 1000, 500); /* same day: merged, 1500 */
  tx_push(&t, 7, D(5) - 3600000, -200); /* refund on day 5 before the purchase that day */
  tx_push(&t, 7, D(5), 800);        /* period 2: 800 - 200 = 600 */
  tx_push(&t, 7, D(8), -100);       /* no purchase on day 8: reduces day 5 -> 500 */
  tx_push(&t, 7, D(10), 0);         /* zero amount still a purchase period: 0 */
  tx_push(&t, 7, D(12), 2000);      /* period 4 */
  pd_rfm_options o = PD_RFM_OPTIONS_INIT;
  o.calibration_end = D(20);
  pd_table *out = NULL;
  PD_CHECK(pd_rfm_from_arrays(t.n, t.user, t.time, t.amount, &o, &out));
  ck_assert_int_eq(pd_table_n_rows(out), 1);
  ck_assert(col(out, 0, "user") == 7);
  ck_assert(col(out, 0, "first_purchase") == D(3));
  ck_assert(col(out, 0, "frequency") == 3);
  ck_assert(col(out, 0, "recency") == 9);  /* day 12 - day 3 */
  ck_assert(col(out, 0, "T") == 17);       /* day 20 - day 3 */
  ck_assert(fabs(col(out, 0, "monetary_value") - (500 + 0 + 2000) / 3.0) < 1e-12);
  ck_assert(col(out, 0, "revenue") == 1500 + 500 + 0 + 2000);
  ck_assert_int_eq(pd_table_col_index(out, "frequency_holdout"), -1);
  pd_table_free(out);
  /* 3-day periods from 1970-01-01. Day numbers: Jan 2 = 19724 (period 6574),
   * Jan 3 and 5 = 19725, 19727 (6575), Jan 8 = 19730 (6576), Jan 10 = 19732
   * (6577), Jan 12 = 19734 (6578). Period 6575 = 1500 - 200 + 800, and the
   * Jan 8 refund (period 6576 has no purchase) reduces it too: 2000; then
   * 6577 = 0 and 6578 = 2000. The Jan 2 refund precedes every purchase. */
  o.period_multiple = 3;
  PD_CHECK(pd_rfm_from_arrays(t.n, t.user, t.time, t.amount, &o, &out));
  ck_assert(col(out, 0, "frequency") == 2);
  ck_assert(col(out, 0, "recency") == 6578 * 3 - 6575 * 3);
  ck_assert(col(out, 0, "T") == 19742 - 6575 * 3); /* from the period start */
  ck_assert(col(out, 0, "monetary_value") == (0 + 2000) / 2.0);
  ck_assert(col(out, 0, "revenue") == 4000);
  pd_table_free(out);
  /* Weeks as the unit, ISO weeks as the period. Jan 3 (Wed) and Jan 5 are in
   * the week of Jan 1; Jan 8, 10, 12 in the week of Jan 8. */
  o.period_multiple = 1;
  o.period = PD_PERIOD_WEEK;
  o.unit_days = 7;
  PD_CHECK(pd_rfm_from_arrays(t.n, t.user, t.time, t.amount, &o, &out));
  ck_assert(col(out, 0, "frequency") == 1);
  ck_assert(col(out, 0, "recency") == 1.0);
  ck_assert(fabs(col(out, 0, "T") - 19.0 / 7.0) < 1e-12); /* Jan 20 - Jan 1 */
  /* week 1 = 1000 + 500 - 500 (Jan 2 refund, same week) - 200 + 800 = 1600;
   * week 2 = -100 + 0 + 2000 = 1900 */
  ck_assert(col(out, 0, "monetary_value") == 1900);
  ck_assert(col(out, 0, "revenue") == 3500);
  pd_table_free(out);
  tx_free(&t);
}
END_TEST

START_TEST(time_zone_and_default_end) {
  /* 2024-03-01 17:00 UTC is March 2 in Shanghai. */
  tx t = {0};
  tx_push(&t, 1, day_ms(2024, 3, 1) + 10 * 3600000, 100);
  tx_push(&t, 1, day_ms(2024, 3, 1) + 17 * 3600000, 100);
  tx_push(&t, 2, day_ms(2024, 3, 4) + 1 * 3600000, 300);
  pd_rfm_options o = PD_RFM_OPTIONS_INIT; /* no calibration end: the latest day in the data */
  pd_table *out = NULL;
  PD_CHECK(pd_rfm_from_arrays(t.n, t.user, t.time, t.amount, &o, &out));
  ck_assert_int_eq(pd_table_n_rows(out), 2);
  ck_assert(col(out, 0, "frequency") == 0 && col(out, 0, "T") == 3);
  ck_assert(col(out, 0, "revenue") == 200);
  ck_assert(col(out, 1, "T") == 0);
  pd_table_free(out);
  o.tz = "Asia/Shanghai";
  PD_CHECK(pd_rfm_from_arrays(t.n, t.user, t.time, t.amount, &o, &out));
  ck_assert(col(out, 0, "frequency") == 1 && col(out, 0, "recency") == 1 && col(out, 0, "T") == 3);
  pd_table_free(out);
  /* customers who first buy after the calibration end are left out */
  o.tz = NULL;
  o.calibration_end = day_ms(2024, 3, 2);
  PD_CHECK(pd_rfm_from_arrays(t.n, t.user, t.time, t.amount, &o, &out));
  ck_assert_int_eq(pd_table_n_rows(out), 1);
  pd_table_free(out);
  /* bad options */
  o.holdout_end = day_ms(2024, 3, 1);
  ck_assert_int_eq(pd_rfm_from_arrays(t.n, t.user, t.time, t.amount, &o, &out), PD_ERR_INVALID);
  o = (pd_rfm_options)PD_RFM_OPTIONS_INIT;
  o.holdout_end = day_ms(2024, 3, 9);
  ck_assert_int_eq(pd_rfm_from_arrays(t.n, t.user, t.time, t.amount, &o, &out), PD_ERR_INVALID);
  o = (pd_rfm_options)PD_RFM_OPTIONS_INIT;
  o.unit_days = 0;
  ck_assert_int_eq(pd_rfm_from_arrays(t.n, t.user, t.time, t.amount, &o, &out), PD_ERR_INVALID);
  o = (pd_rfm_options)PD_RFM_OPTIONS_INIT;
  o.tz = "Not/AZone";
  ck_assert_int_eq(pd_rfm_from_arrays(t.n, t.user, t.time, t.amount, &o, &out), PD_ERR_INVALID);
  ck_assert_int_eq(pd_rfm_from_arrays(t.n, NULL, t.time, t.amount, NULL, &out), PD_ERR_INVALID);
  PD_CHECK(pd_rfm_from_arrays(0, NULL, NULL, NULL, NULL, &out));
  ck_assert_int_eq(pd_table_n_rows(out), 0);
  pd_table_free(out);
  tx_free(&t);
}
END_TEST

/* Default observation end when the last transaction is a refund on a later
 * day than every purchase: the refund counts, so its day ends the
 * observation (rfm.h), for every customer. */
START_TEST(refund_after_last_purchase) {
  tx t = {0};
  tx_push(&t, 3, day_ms(2024, 3, 1) + 9 * 3600000, 100);
  tx_push(&t, 3, day_ms(2024, 3, 3) + 9 * 3600000, 50);
  tx_push(&t, 3, day_ms(2024, 3, 6) + 9 * 3600000, -20); /* refunds part of the March 3 purchase */
  tx_push(&t, 4, day_ms(2024, 3, 2) + 9 * 3600000, 70);
  pd_table *out = NULL;
  PD_CHECK(pd_rfm_from_arrays(t.n, t.user, t.time, t.amount, NULL, &out));
  ck_assert_int_eq(pd_table_n_rows(out), 2);
  /* user 3: periods March 1 and 3; end March 6 (the refund), not March 3 */
  ck_assert(col(out, 0, "frequency") == 1 && col(out, 0, "recency") == 2);
  ck_assert_msg(col(out, 0, "T") == 5, "T = %g", col(out, 0, "T"));
  ck_assert(col(out, 0, "monetary_value") == 30 && col(out, 0, "revenue") == 130);
  /* user 4's T also runs to March 6 */
  ck_assert(col(out, 1, "T") == 4 && col(out, 1, "frequency") == 0);
  pd_table_free(out);
  /* every T >= recency, so the summary fits */
  pd_clv_model *m = NULL;
  PD_CHECK(pd_rfm_from_arrays(t.n, t.user, t.time, t.amount, NULL, &out));
  PD_CHECK(pd_clv_fit_table(PD_CLV_BGNBD, out, NULL, &m));
  pd_clv_model_free(m);
  pd_table_free(out);
  /* the refund alone after the calibration end does not move an explicit end */
  pd_rfm_options o = PD_RFM_OPTIONS_INIT;
  o.calibration_end = day_ms(2024, 3, 4);
  PD_CHECK(pd_rfm_from_arrays(t.n, t.user, t.time, t.amount, &o, &out));
  ck_assert(col(out, 0, "T") == 3 && col(out, 0, "monetary_value") == 50 && col(out, 0, "revenue") == 150);
  pd_table_free(out);
  tx_free(&t);
}
END_TEST

/* The CDNOW sample written to a store (plus visits, refunds, touchpoints)
 * gives the same summaries through pd_scan as through the arrays. */
START_TEST(store_matches_arrays) {
  tx t;
  if (!load_sample(&t)) return;
  char *dir = pd_test_tmpdir("rfm");
  pd_store *s = pd_test_open(dir, 1);
  pd_writer *w = NULL;
  PD_CHECK(pd_writer_open(&w, s));
  uint32_t tp_ad, tp_group;
  pd_touchpoint_def def = PD_TOUCHPOINT_DEF_INIT;
  def.name = "feed_ad";
  PD_CHECK(pd_writer_touchpoint(w, &def, &tp_ad));
  def.name = "wecom_group";
  PD_CHECK(pd_writer_touchpoint(w, &def, &tp_group));
  uint32_t *ids = calloc(2358, sizeof *ids);
  for (uint32_t c = 1; c <= 2357; c++) {
    char name[32];
    snprintf(name, sizeof name, "c%u", c);
    PD_CHECK(pd_writer_user(w, name, &ids[c]));
  }
  tx with_refunds = {0};
  for (size_t i = 0; i < t.n; i++) {
    pd_event e = {t.time[i], ids[t.user[i]], PD_EV_PURCHASE, PD_NONE, PD_NONE, t.amount[i]};
    PD_CHECK(pd_writer_append(w, &e));
    tx_push(&with_refunds, ids[t.user[i]], t.time[i], t.amount[i]);
    if (i % 17 == 0) { /* a refund two days later, stored as a positive amount */
      pd_event r = {t.time[i] + 2 * PD_MS_PER_DAY, ids[t.user[i]], PD_EV_REFUND, PD_NONE, PD_NONE, t.amount[i] / 3};
      PD_CHECK(pd_writer_append(w, &r));
      tx_push(&with_refunds, ids[t.user[i]], r.time_ms, -(t.amount[i] / 3));
    }
    { /* visits do not count (they carry the group touchpoint) */
      pd_event v = {t.time[i] + 3600000, ids[t.user[i]], PD_EV_VISIT, tp_group, PD_NONE, 999};
      PD_CHECK(pd_writer_append(w, &v));
    }
  }
  for (uint32_t c = 1; c <= 2357; c += 2) { /* odd customers acquired through the ad */
    pd_event a = {day_ms(1996, 12, 31), ids[c], PD_EV_ACQUIRE, tp_ad, PD_NONE, 0};
    PD_CHECK(pd_writer_append(w, &a));
  }
  PD_CHECK(pd_writer_commit(w));
  pd_writer_close(w);
  pd_rfm_options o = cdnow_options();
  for (int pass = 0; pass < 2; pass++) { /* log tail, then compacted segments */
    for (unsigned threads = 1; threads <= 3; threads += 2) {
      o.threads = threads;
      pd_table *a = NULL, *b = NULL;
      PD_CHECK(pd_rfm_from_store(s, &o, &a));
      PD_CHECK(pd_rfm_from_arrays(with_refunds.n, with_refunds.user, with_refunds.time, with_refunds.amount, &o, &b));
      ck_assert_int_eq(pd_table_n_rows(a), 2357);
      ck_assert_int_eq(pd_table_n_rows(b), 2357);
      const char *cols[] = {"user", "first_purchase", "frequency", "recency", "T", "monetary_value", "revenue",
                            "frequency_holdout", "monetary_value_holdout", "revenue_holdout"};
      for (size_t r = 0; r < 2357; r++) {
        for (size_t k = 0; k < sizeof cols / sizeof cols[0]; k++)
          ck_assert_msg(col(a, r, cols[k]) == col(b, r, cols[k]), "row %zu %s", r, cols[k]);
        uint32_t user = (uint32_t)col(a, r, "user");
        int odd = 0;
        for (uint32_t c = 1; c <= 2357; c++)
          if (ids[c] == user) odd = c % 2;
        long tc = pd_table_col_index(a, "touchpoint");
        ck_assert_str_eq(pd_table_get_string(a, r, (size_t)tc), odd ? "feed_ad" : "wecom_group");
      }
      pd_table_free(a);
      pd_table_free(b);
    }
    PD_CHECK(pd_store_compact(s));
  }
  /* Dormant contacts by acquisition touchpoint from the store's RFM table. */
  pd_table *rt = NULL, *du = NULL, *dt = NULL;
  PD_CHECK(pd_rfm_from_store(s, &o, &rt));
  pd_clv_summary sum;
  double *storage = NULL;
  PD_CHECK(pd_clv_summary_from_table(rt, &sum, &storage));
  ck_assert_int_eq(sum.n, 2357);
  ck_assert_ptr_nonnull(sum.monetary);
  pd_clv_model *m = NULL;
  PD_CHECK(pd_clv_fit(PD_CLV_BGNBD, &sum, NULL, &m));
  double *alive = malloc(sum.n * sizeof *alive);
  PD_CHECK(pd_clv_predict_alive(m, &sum, alive));
  PD_CHECK(pd_ltv_dormant(m, rt, 0.3, &du, &dt));
  size_t want = 0, want_ad = 0;
  long tcol = pd_table_col_index(rt, "touchpoint");
  for (size_t i = 0; i < sum.n; i++)
    if (alive[i] < 0.3) {
      want++;
      want_ad += strcmp(pd_table_get_string(rt, i, (size_t)tcol), "feed_ad") == 0;
    }
  ck_assert(want > 100);
  ck_assert_int_eq(pd_table_n_rows(du), want);
  for (size_t r = 1; r < want; r++) ck_assert(col(du, r - 1, "p_alive") <= col(du, r, "p_alive"));
  ck_assert(col(du, want - 1, "p_alive") < 0.3);
  ck_assert_int_eq(pd_table_n_rows(dt), 2);
  int64_t customers = 0, dormant = 0;
  for (size_t r = 0; r < 2; r++) {
    customers += (int64_t)col(dt, r, "customers");
    dormant += (int64_t)col(dt, r, "dormant");
    if (strcmp(pd_table_get_string(dt, r, 0), "feed_ad") == 0) {
      ck_assert_int_eq((int64_t)col(dt, r, "dormant"), want_ad);
      ck_assert(fabs(col(dt, r, "dormant_share") - (double)want_ad / col(dt, r, "customers")) < 1e-15);
    }
  }
  ck_assert_int_eq(customers, 2357);
  ck_assert_int_eq(dormant, want);
  ck_assert_int_eq(pd_ltv_dormant(m, rt, 0.0, NULL, NULL), PD_ERR_INVALID);
  free(alive);
  pd_clv_model_free(m);
  pd_free(storage);
  pd_table_free(rt);
  pd_table_free(du);
  pd_table_free(dt);
  pd_store_close(s);
  pd_test_rmdir(dir);
  g_free(dir);
  free(ids);
  tx_free(&with_refunds);
  tx_free(&t);
}
END_TEST

static pd_table *find_row(pd_table *t, const char *c0, const char *v0, const char *c1, const char *v1, size_t *row) {
  long a = pd_table_col_index(t, c0), b = c1 ? pd_table_col_index(t, c1) : -1;
  for (size_t r = 0; r < pd_table_n_rows(t); r++) {
    const char *x = pd_table_get_string(t, r, (size_t)a);
    const char *y = b >= 0 ? pd_table_get_string(t, r, (size_t)b) : NULL;
    int ok0 = v0 ? (x && strcmp(x, v0) == 0) : pd_table_is_null(t, r, (size_t)a);
    int ok1 = b < 0 || (v1 ? (y && strcmp(y, v1) == 0) : pd_table_is_null(t, r, (size_t)b));
    if (ok0 && ok1) {
      *row = r;
      return t;
    }
  }
  ck_abort_msg("no row %s=%s %s=%s in %s", c0, v0 ? v0 : "null", c1 ? c1 : "", v1 ? v1 : "null", pd_table_name(t));
  return NULL;
}

#define T(m, d, h) (day_ms(2024, m, d) + (h) * 3600000)

START_TEST(history_and_ltv_cac) {
  char *dir = pd_test_tmpdir("ltv");
  pd_store *s = pd_test_open(dir, 1);
  pd_writer *w = NULL;
  PD_CHECK(pd_writer_open(&w, s));
  uint32_t ad, group, u[6];
  pd_touchpoint_def def = PD_TOUCHPOINT_DEF_INIT;
  def.name = "ad";
  def.domain = PD_DOMAIN_PUBLIC;
  def.daily_spend = 1000;
  PD_CHECK(pd_writer_touchpoint(w, &def, &ad));
  def = (pd_touchpoint_def)PD_TOUCHPOINT_DEF_INIT;
  def.name = "group";
  def.domain = PD_DOMAIN_PRIVATE;
  PD_CHECK(pd_writer_touchpoint(w, &def, &group));
  for (int i = 1; i <= 5; i++) {
    char name[8];
    snprintf(name, sizeof name, "u%d", i);
    PD_CHECK(pd_writer_user(w, name, &u[i]));
  }
  const pd_event ev[] = {
    {T(1, 5, 9), u[1], PD_EV_ACQUIRE, ad, PD_NONE, 0},
    {T(1, 10, 9), u[1], PD_EV_PURCHASE, PD_NONE, PD_NONE, 5000},
    {T(1, 12, 9), u[1], PD_EV_REFUND, PD_NONE, PD_NONE, 1000},
    {T(2, 3, 9), u[1], PD_EV_PURCHASE, group, PD_NONE, 2000},
    {T(1, 20, 9), u[2], PD_EV_ACQUIRE, ad, PD_NONE, 0},
    {T(2, 1, 9), u[3], PD_EV_ACQUIRE, group, PD_NONE, 0},
    {T(2, 2, 9), u[3], PD_EV_PURCHASE, PD_NONE, PD_NONE, 3000},
    {T(2, 10, 9), u[4], PD_EV_VISIT, group, PD_NONE, 0},
    {T(2, 11, 9), u[4], PD_EV_PURCHASE, PD_NONE, PD_NONE, 700},
    {T(3, 1, 9), u[5], PD_EV_PURCHASE, PD_NONE, PD_NONE, 100},
  };
  for (size_t i = 0; i < sizeof ev / sizeof ev[0]; i++) PD_CHECK(pd_writer_append(w, &ev[i]));
  PD_CHECK(pd_writer_commit(w));
  pd_writer_close(w);
  pd_ltv_options o = PD_LTV_OPTIONS_INIT;
  pd_table *tu = NULL, *tc = NULL, *tt = NULL;
  PD_CHECK(pd_ltv_history(s, &o, &tu, &tc, &tt));
  size_t r;
  /* by touchpoint: ad acquired u1, u2 over Jan 5..20 (16 days at 1000/day) */
  find_row(tt, "touchpoint", "ad", NULL, NULL, &r);
  ck_assert(col(tt, r, "customers") == 2 && col(tt, r, "buyers") == 1 && col(tt, r, "revenue") == 6000);
  ck_assert(col(tt, r, "active_days") == 16 && col(tt, r, "spend") == 16000);
  ck_assert(col(tt, r, "cac") == 8000 && col(tt, r, "ltv_cac") == 3000.0 / 8000.0);
  ck_assert_str_eq(pd_table_get_string(tt, r, 1), "public");
  find_row(tt, "touchpoint", "group", NULL, NULL, &r); /* u3 (acquire) and u4 (first touchpoint) */
  ck_assert(col(tt, r, "customers") == 2 && col(tt, r, "buyers") == 2 && col(tt, r, "revenue") == 3700);
  ck_assert(pd_table_is_null(tt, r, (size_t)pd_table_col_index(tt, "spend")));
  ck_assert(pd_table_is_null(tt, r, (size_t)pd_table_col_index(tt, "ltv_cac")));
  find_row(tt, "touchpoint", NULL, NULL, NULL, &r);
  ck_assert(col(tt, r, "customers") == 1 && col(tt, r, "revenue") == 100);
  ck_assert_int_eq(pd_table_n_rows(tt), 3);
  /* by cohort (month of acquisition) and touchpoint, in time order */
  ck_assert_int_eq(pd_table_n_rows(tc), 3);
  ck_assert_str_eq(pd_table_get_string(tc, 0, 0), "2024-01");
  ck_assert_str_eq(pd_table_get_string(tc, 2, 0), "2024-03");
  find_row(tc, "cohort", "2024-02", "touchpoint", "group", &r);
  ck_assert(col(tc, r, "customers") == 2 && col(tc, r, "revenue_per_buyer") == 1850);
  find_row(tc, "cohort", "2024-01", "touchpoint", "ad", &r);
  ck_assert(col(tc, r, "revenue_per_customer") == 3000 && col(tc, r, "revenue_per_buyer") == 6000);
  /* by user */
  ck_assert_int_eq(pd_table_n_rows(tu), 5);
  ck_assert(col(tu, 0, "user") == u[1] && col(tu, 0, "purchases") == 2 && col(tu, 0, "revenue") == 6000);
  ck_assert(col(tu, 0, "acquired") == T(1, 5, 9) && col(tu, 0, "last_purchase") == T(2, 3, 9));
  ck_assert(pd_table_is_null(tu, 1, (size_t)pd_table_col_index(tu, "first_purchase")));
  pd_table_free(tu);
  pd_table_free(tc);
  pd_table_free(tt);
  /* as of the end of January only u1 (4000 so far) and u2 exist */
  o.as_of = T(1, 31, 23);
  o.threads = 2;
  PD_CHECK(pd_ltv_history(s, &o, NULL, NULL, &tt));
  ck_assert_int_eq(pd_table_n_rows(tt), 1);
  ck_assert(col(tt, 0, "customers") == 2 && col(tt, 0, "revenue") == 4000);
  pd_table_free(tt);
  o.cohort_period = (pd_period)9;
  ck_assert_int_eq(pd_ltv_history(s, &o, NULL, NULL, &tt), PD_ERR_INVALID);
  pd_store_close(s);
  pd_test_rmdir(dir);
  g_free(dir);
}
END_TEST

static Suite *rfm_suite(void) {
  Suite *s = suite_create("rfm");
  TCase *tc = tcase_create("rfm");
  tcase_set_timeout(tc, 300);
  tcase_add_test(tc, cdnow_from_arrays);
  tcase_add_test(tc, refunds_and_periods);
  tcase_add_test(tc, time_zone_and_default_end);
  tcase_add_test(tc, refund_after_last_purchase);
  tcase_add_test(tc, store_matches_arrays);
  tcase_add_test(tc, history_and_ltv_cac);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return pd_test_run(rfm_suite()); }
