/* Attribution: the per-conversion split and store-level attribution
 * (every model, Markov included), with hand-worked numbers, and
 * conservation of credit on a generated store. */
#include <check.h>
#include <math.h>
#include <stdlib.h>

#include "privdomain/attribution.h"
#include "attribution_internal.h"
#include "testutil.h"

#define D INT64_C(86400000)

static void split(pd_attribution_model m, size_t n, const int64_t *t, int64_t conv, int64_t v,
                  const pd_attribution_params *p, int64_t *c) {
  ck_assert_int_eq(pd_attribution_split(m, n, t, conv, v, p, c), PD_OK);
}

START_TEST(rule_models) {
  int64_t t[4] = {0, D, 2 * D, 3 * D}, c[4];
  split(PD_ATTRIBUTION_FIRST, 4, NULL, 0, 1000, NULL, c);
  ck_assert(c[0] == 1000 && c[1] == 0 && c[2] == 0 && c[3] == 0);
  split(PD_ATTRIBUTION_LAST, 4, NULL, 0, 1000, NULL, c);
  ck_assert(c[0] == 0 && c[3] == 1000);
  /* 1003 / 4 = 250.75 each: floors 250, three remainder units to the earliest (ties). */
  split(PD_ATTRIBUTION_LINEAR, 4, NULL, 0, 1003, NULL, c);
  ck_assert(c[0] == 251 && c[1] == 251 && c[2] == 251 && c[3] == 250);
  /* 40/20/40 over 4 touches: 400, 100, 100, 400 of 1000. */
  split(PD_ATTRIBUTION_POSITION, 4, NULL, 0, 1000, NULL, c);
  ck_assert(c[0] == 400 && c[1] == 100 && c[2] == 100 && c[3] == 400);
  /* Two touches: the middle 20% goes half and half: 500/500. */
  split(PD_ATTRIBUTION_POSITION, 2, NULL, 0, 1000, NULL, c);
  ck_assert(c[0] == 500 && c[1] == 500);
  /* Decay, half-life one day, conversion at day 3: weights 1/8, 1/4, 1/2, 1 (sum 15/8):
   * 1500 -> 100, 200, 400, 800. */
  pd_attribution_params p = PD_ATTRIBUTION_PARAMS_INIT;
  p.half_life_ms = D;
  split(PD_ATTRIBUTION_DECAY, 4, t, 3 * D, 1500, &p, c);
  ck_assert(c[0] == 100 && c[1] == 200 && c[2] == 400 && c[3] == 800);
}
END_TEST

START_TEST(conservation) {
  int64_t t[7], c[7];
  pd_attribution_params p = PD_ATTRIBUTION_PARAMS_INIT;
  p.half_life_ms = D / 3;
  p.first_permille = 333;
  p.last_permille = 111;
  for (size_t n = 1; n <= 7; n++) {
    for (size_t i = 0; i < n; i++) t[i] = (int64_t)(i * i) * D / 5;
    for (int m = PD_ATTRIBUTION_FIRST; m <= PD_ATTRIBUTION_POSITION; m++) {
      for (int64_t v = 0; v < 50; v += 7) {
        split((pd_attribution_model)m, n, t, 9 * D, v, &p, c);
        int64_t s = 0;
        for (size_t i = 0; i < n; i++) {
          ck_assert_int_ge(c[i], 0);
          s += c[i];
        }
        ck_assert_int_eq(s, v);
      }
    }
  }
}
END_TEST

/* Position-based in exact integers, 33.3/55.6/11.1 over five touches: weights x3 are
 * 999, 556, 556, 556, 333 of 3000. 1000 -> 333 r 0, 185 r 1000 (x3), 111 r 0: 999 given,
 * the leftover unit to the largest remainder (the middle group), its earliest touch. */
START_TEST(position_exact) {
  pd_attribution_params p = PD_ATTRIBUTION_PARAMS_INIT;
  p.first_permille = 333;
  p.last_permille = 111;
  int64_t c[5];
  split(PD_ATTRIBUTION_POSITION, 5, NULL, 0, 1000, &p, c);
  ck_assert(c[0] == 333 && c[1] == 186 && c[2] == 185 && c[3] == 185 && c[4] == 111);
  /* two touches: f:l = 3:1 of 1001 -> 750.75 and 250.25: 751, 250 */
  split(PD_ATTRIBUTION_POSITION, 2, NULL, 0, 1001, &p, c);
  ck_assert(c[0] == 751 && c[1] == 250);
}
END_TEST

typedef struct ref_frac {
  long double frac;
  size_t i;
} ref_frac;

static int ref_cmp(const void *a, const void *b) {
  const ref_frac *x = a, *y = b;
  if (x->frac != y->frac) return x->frac > y->frac ? -1 : 1;
  return x->i < y->i ? -1 : 1;
}

/* Long decay paths (the remainder goes through the selection, not a scan) against a
 * plain reference: floors of the exact shares, then sort by fractional part. */
START_TEST(decay_long_paths) {
  pd_attribution_params p = PD_ATTRIBUTION_PARAMS_INIT;
  p.half_life_ms = D / 2;
  GRand *r = g_rand_new_with_seed(11);
  for (int round = 0; round < 50; round++) {
    size_t n = (size_t)g_rand_int_range(r, 5, 120);
    int64_t t[120], c[120], want[120], v = g_rand_int_range(r, 0, 2000000);
    ref_frac f[120];
    for (size_t i = 0; i < n; i++) t[i] = (i ? t[i - 1] : 0) + g_rand_int_range(r, 0, 1000000);
    int64_t conv = t[n - 1] + 1000;
    split(PD_ATTRIBUTION_DECAY, n, t, conv, v, &p, c);
    long double w[120], sum = 0;
    for (size_t i = 0; i < n; i++) sum += (w[i] = exp2l(-(long double)(conv - t[i]) / (long double)p.half_life_ms));
    int64_t given = 0;
    for (size_t i = 0; i < n; i++) {
      long double share = (long double)v * w[i] / sum;
      want[i] = (int64_t)floorl(share);
      f[i].frac = share - (long double)want[i];
      f[i].i = i;
      given += want[i];
    }
    qsort(f, n, sizeof *f, ref_cmp);
    for (size_t j = 0; j < (size_t)(v - given); j++) want[f[j].i]++;
    for (size_t i = 0; i < n; i++) ck_assert_msg(c[i] == want[i], "round %d touch %zu: %lld vs %lld", round, i, (long long)c[i], (long long)want[i]);
  }
  g_rand_free(r);
}
END_TEST

START_TEST(invalid) {
  int64_t c[2];
  pd_attribution_params p = PD_ATTRIBUTION_PARAMS_INIT;
  ck_assert_int_eq(pd_attribution_split(PD_ATTRIBUTION_LINEAR, 0, NULL, 0, 1, NULL, c), PD_ERR_INVALID);
  ck_assert_int_eq(pd_attribution_split(PD_ATTRIBUTION_LINEAR, 2, NULL, 0, -1, NULL, c), PD_ERR_INVALID);
  ck_assert_int_eq(pd_attribution_split(PD_ATTRIBUTION_DECAY, 2, NULL, 0, 1, NULL, c), PD_ERR_INVALID);
  p.first_permille = 700;
  p.last_permille = 400;
  ck_assert_int_eq(pd_attribution_split(PD_ATTRIBUTION_POSITION, 2, NULL, 0, 1, &p, c), PD_ERR_INVALID);
}
END_TEST

/* ---- store-level attribution ------------------------------------------- */

#define H INT64_C(3600000)

typedef struct tstore {
  char *dir;
  pd_store *st;
  pd_writer *w;
} tstore;

static tstore ts_new(void) {
  tstore s;
  s.dir = pd_test_tmpdir("attr");
  s.st = pd_test_open(s.dir, 1);
  PD_CHECK(pd_writer_open(&s.w, s.st));
  return s;
}

static void ts_tp(tstore *s, const char *name, pd_domain domain) {
  pd_touchpoint_def d = PD_TOUCHPOINT_DEF_INIT;
  uint32_t id;
  d.name = name;
  d.domain = domain;
  PD_CHECK(pd_writer_touchpoint(s->w, &d, &id));
}

/* One event: tp may be NULL. */
static void ts_ev(tstore *s, const char *user, uint32_t type, const char *tp, int64_t t, int64_t amount) {
  pd_event e = {t, 0, type, PD_NONE, PD_NONE, amount};
  PD_CHECK(pd_writer_user(s->w, user, &e.user));
  if (tp) PD_CHECK(pd_writer_touchpoint_name(s->w, tp, &e.touchpoint));
  PD_CHECK(pd_writer_append(s->w, &e));
}

static void ts_commit(tstore *s) {
  PD_CHECK(pd_writer_commit(s->w));
  pd_writer_close(s->w);
  s->w = NULL;
  PD_CHECK(pd_store_refresh(s->st));
}

static void ts_free(tstore *s) {
  pd_writer_close(s->w);
  pd_store_close(s->st);
  pd_test_rmdir(s->dir);
  g_free(s->dir);
}

static pd_table *run(pd_store *st, const pd_attribution_options *o, unsigned threads) {
  pd_scan_options so = PD_SCAN_OPTIONS_INIT;
  so.threads = threads;
  pd_table *t = NULL;
  PD_CHECK(pd_attribution_run(st, o, &so, &t));
  return t;
}

static pd_table *run_model(pd_store *st, pd_attribution_model m) {
  pd_attribution_options o = PD_ATTRIBUTION_OPTIONS_INIT;
  o.model = m;
  return run(st, &o, 0);
}

static size_t row_of(const pd_table *t, const char *tp) {
  for (size_t r = 0; r < pd_table_n_rows(t); r++)
    if (strcmp(pd_table_get_string(t, r, 0), tp) == 0) return r;
  ck_abort_msg("no row %s", tp);
  return 0;
}

static int64_t geti(const pd_table *t, const char *tp, const char *col) {
  long c = pd_table_col_index(t, col);
  ck_assert_msg(c >= 0, "no column %s", col);
  return pd_table_get_int64(t, row_of(t, tp), (size_t)c);
}

static double getd(const pd_table *t, const char *tp, const char *col) {
  long c = pd_table_col_index(t, col);
  ck_assert_msg(c >= 0, "no column %s", col);
  return pd_table_get_double(t, row_of(t, tp), (size_t)c);
}

#define ck_near(a, b) ck_assert_msg(fabs((a) - (b)) < 1e-9, "%.12g != %.12g", (double)(a), (double)(b))

/* The hand-worked store (lookback 30d, half-life 7d, 40/20/40):
 *  u1: visit@A day 0, visit@B day 7, message_open@C day 21, purchase@shop day 28 of 1100
 *      -> path A, B, C (ages 28d, 21d, 7d)
 *  u2: visit@B day 0, purchase@shop day 40 of 500 -> B is 40 days back: DIRECT -> "(none)"
 *  u3: visit@A day 0, purchase@shop day 1 of 0    -> path A, worth 0 (one conversion)
 * Totals: 3 conversions, 1600. Per model (revenue; conversions):
 *  first:    A 1100 + 0 (2 conversions)                         none 500 (1)
 *  last:     C 1100 (1), A 0 (1)                                 none 500 (1)
 *  linear:   1100/3 = 366 r 2: A 367, B 367, C 366; conversions 1/3 in millionths
 *            333333 r 1: A 0.333334 (+1 from u3), B 0.333333, C 0.333333
 *  decay:    weights 2^-4, 2^-3, 2^-1 (sum 11/16): 100, 200, 800; millionths 90909.09,
 *            181818.18, 727272.73 -> the leftover unit to C: A 1.090909, B 0.181818, C 0.727273
 *  position: 40/20/40: 440, 220, 440; A 1.4, B 0.2, C 0.4
 *  markov:   paths A>B>C>conv and A>conv (no non-converting paths: u2's touch is on no
 *            path). P(S>A) = 1, P(A>B) = P(A>conv) = 1/2, P(B>C) = 1, P(C>conv) = 1, so
 *            P(conv) = 1. Without A: 0 (RE 1); without B: only A>conv, 1/2 (RE 1/2);
 *            without C: 1/2 (RE 1/2). Shares 1/2, 1/4, 1/4 of the 1100 and of the 2
 *            conversions with touches: A 550 (1), B 275 (0.5), C 275 (0.5). */
static void hand_store(tstore *s) {
  ts_tp(s, "A", PD_DOMAIN_PUBLIC);
  ts_tp(s, "B", PD_DOMAIN_PRIVATE);
  ts_tp(s, "C", PD_DOMAIN_PRIVATE);
  ts_tp(s, "shop", PD_DOMAIN_PRIVATE);
  ts_ev(s, "u1", PD_EV_VISIT, "A", 0, 0);
  ts_ev(s, "u1", PD_EV_VISIT, "B", 7 * D, 0);
  ts_ev(s, "u1", PD_EV_MESSAGE_OPEN, "C", 21 * D, 0);
  ts_ev(s, "u1", PD_EV_PURCHASE, "shop", 28 * D, 1100);
  ts_ev(s, "u2", PD_EV_VISIT, "B", 0, 0);
  ts_ev(s, "u2", PD_EV_PURCHASE, "shop", 40 * D, 500);
  ts_ev(s, "u3", PD_EV_VISIT, "A", 0, 0);
  ts_ev(s, "u3", PD_EV_PURCHASE, "shop", D, 0);
  ts_commit(s);
}

START_TEST(store_hand_worked) {
  tstore s = ts_new();
  hand_store(&s);
  pd_table *t = run_model(s.st, PD_ATTRIBUTION_ALL);
  ck_assert_uint_eq(pd_table_n_rows(t), 4); /* A, B, C, (none); shop is never a touch */
  ck_assert_str_eq(pd_table_get_string(t, 3, 0), "(none)");
  ck_assert_int_eq(geti(t, "A", "paths"), 2);
  ck_assert_int_eq(geti(t, "B", "paths"), 1);
  ck_assert_int_eq(geti(t, "(none)", "paths"), 1);
  ck_assert_str_eq(pd_table_get_string(t, row_of(t, "A"), 1), "public");
  ck_assert(pd_table_is_null(t, row_of(t, "(none)"), 1));
  static const struct {
    const char *m;
    int64_t a, b, c;
    double ca, cb, cc;
  } want[] = {
      {"first", 1100, 0, 0, 2, 0, 0},
      {"last", 0, 0, 1100, 1, 0, 1},
      {"linear", 367, 367, 366, 1.333334, 0.333333, 0.333333},
      {"decay", 100, 200, 800, 1.090909, 0.181818, 0.727273},
      {"position", 440, 220, 440, 1.4, 0.2, 0.4},
      {"markov", 550, 275, 275, 1, 0.5, 0.5},
  };
  for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
    char rev[64], conv[64];
    snprintf(rev, sizeof rev, "%s_revenue", want[i].m);
    snprintf(conv, sizeof conv, "%s_conversions", want[i].m);
    ck_assert_msg(geti(t, "A", rev) == want[i].a && geti(t, "B", rev) == want[i].b && geti(t, "C", rev) == want[i].c,
                  "%s: %lld %lld %lld", want[i].m, (long long)geti(t, "A", rev), (long long)geti(t, "B", rev),
                  (long long)geti(t, "C", rev));
    ck_assert_int_eq(geti(t, "(none)", rev), 500);
    ck_near(getd(t, "A", conv), want[i].ca);
    ck_near(getd(t, "B", conv), want[i].cb);
    ck_near(getd(t, "C", conv), want[i].cc);
    ck_near(getd(t, "(none)", conv), 1);
  }
  ck_near(getd(t, "A", "markov_removal_effect"), 1);
  ck_near(getd(t, "B", "markov_removal_effect"), 0.5);
  ck_near(getd(t, "C", "markov_removal_effect"), 0.5);
  pd_table_free(t);

  /* one model: shares of the totals (3 conversions, 1600) */
  t = run_model(s.st, PD_ATTRIBUTION_LAST);
  ck_assert_int_eq(pd_table_col_index(t, "removal_effect"), -1);
  ck_near(getd(t, "C", "revenue_share"), 1100.0 / 1600);
  ck_near(getd(t, "A", "conversion_share"), 1.0 / 3);
  ck_near(getd(t, "(none)", "revenue_share"), 500.0 / 1600);
  ck_assert_int_eq(geti(t, "B", "revenue"), 0);
  pd_table_free(t);
  t = run_model(s.st, PD_ATTRIBUTION_MARKOV);
  ck_near(getd(t, "B", "removal_effect"), 0.5);
  ck_assert(pd_table_is_null(t, row_of(t, "(none)"), (size_t)pd_table_col_index(t, "removal_effect")));
  pd_table_free(t);

  /* a conversion predicate: purchases of at least 600 -> only u1's, no direct row */
  pd_funnel_pred q = PD_FUNNEL_PRED_INIT;
  q.event_type = PD_EV_PURCHASE;
  q.min_amount = 600;
  pd_attribution_options o = PD_ATTRIBUTION_OPTIONS_INIT;
  o.model = PD_ATTRIBUTION_FIRST;
  o.conversion = &q;
  t = run(s.st, &o, 1);
  ck_assert_uint_eq(pd_table_n_rows(t), 3);
  ck_assert_int_eq(geti(t, "A", "revenue"), 1100);
  ck_near(getd(t, "A", "revenue_share"), 1);
  pd_table_free(t);
  /* touches: visits only -> u1's path is A, B and the last touch is B */
  uint32_t visit = PD_EV_VISIT;
  o.conversion = NULL;
  o.model = PD_ATTRIBUTION_LAST;
  o.touch_types = &visit;
  o.n_touch_types = 1;
  t = run(s.st, &o, 2);
  ck_assert_int_eq(geti(t, "B", "revenue"), 1100);
  ck_assert_uint_eq(pd_table_n_rows(t), 3); /* A, B, (none) */
  pd_table_free(t);
  /* a 50-day lookback reaches u2's visit: no direct conversion left */
  o.touch_types = NULL;
  o.n_touch_types = 0;
  o.lookback_ms = 50 * D;
  t = run(s.st, &o, 1);
  ck_assert_int_eq(geti(t, "B", "revenue"), 500);
  ck_assert_int_eq(geti(t, "C", "revenue"), 1100);
  ck_assert_uint_eq(pd_table_n_rows(t), 3);
  pd_table_free(t);
  ts_free(&s);
}
END_TEST

/* Lookback boundary and ties: purchase at 30d + 1ms looks back to 1ms, inclusive;
 * a touch at the purchase's instant but appended after it is not on its path. */
START_TEST(store_lookback_boundary) {
  tstore s = ts_new();
  ts_ev(&s, "x", PD_EV_VISIT, "B", 0, 0);
  ts_ev(&s, "x", PD_EV_VISIT, "A", 1, 0);
  ts_ev(&s, "x", PD_EV_PURCHASE, NULL, 30 * D + 1, 100);
  ts_ev(&s, "x", PD_EV_VISIT, "C", 30 * D + 1, 0);
  ts_commit(&s);
  pd_table *t = run_model(s.st, PD_ATTRIBUTION_ALL);
  ck_assert_int_eq(geti(t, "A", "first_revenue"), 100);
  ck_assert_int_eq(geti(t, "A", "last_revenue"), 100);
  /* C is only on the non-converting path (after the last purchase): a row with no credit
   * from the rule-based models; B is on no path at all */
  ck_assert_int_eq(geti(t, "C", "paths"), 0);
  ck_assert_int_eq(geti(t, "C", "linear_revenue"), 0);
  for (size_t r = 0; r < pd_table_n_rows(t); r++) ck_assert_str_ne(pd_table_get_string(t, r, 0), "B");
  /* chain: S>A>conv, S>C>null: RE_A = 1, RE_C = 0 -> markov gives A everything */
  ck_assert_int_eq(geti(t, "A", "markov_revenue"), 100);
  ck_near(getd(t, "C", "markov_removal_effect"), 0);
  pd_table_free(t);
  ts_free(&s);
}
END_TEST

/* Markov with a loop, solved by hand. Paths:
 *   u1: A > B > A > conv (1000)     u2: B > conv (700)
 *   u3: B (60 days before) then A, no purchase: the non-converting path is anchored at its
 *       last touch, so within 30 days it is A > null (B is dropped).
 * Transitions: S>A 2, S>B 1; A>B 1, A>conv 1, A>null 1; B>A 1, B>conv 1.
 * x_A = x_B/3 + 1/3, x_B = x_A/2 + 1/2  ->  x_A = 3/5, x_B = 4/5;
 * P(conv) = 2/3 * 3/5 + 1/3 * 4/5 = 2/3.
 * Without A: x_B = 1/2, P = 1/3 * 1/2 = 1/6 -> RE_A = 1 - (1/6)/(2/3) = 3/4.
 * Without B: x_A = 1/3, P = 2/3 * 1/3 = 2/9 -> RE_B = 1 - (2/9)/(2/3) = 2/3.
 * Shares 9/17 and 8/17 of 1700: A 900, B 800; of 2 conversions: 18/17 = 1.0588235 ->
 * millionths 1058823.53 and 941176.47, the leftover unit to A: 1.058824 and 0.941176. */
START_TEST(store_markov_loop) {
  tstore s = ts_new();
  ts_ev(&s, "u1", PD_EV_VISIT, "A", 0, 0);
  ts_ev(&s, "u1", PD_EV_VISIT, "B", H, 0);
  ts_ev(&s, "u1", PD_EV_VISIT, "A", 2 * H, 0);
  ts_ev(&s, "u1", PD_EV_PURCHASE, NULL, 3 * H, 1000);
  ts_ev(&s, "u2", PD_EV_VISIT, "B", 0, 0);
  ts_ev(&s, "u2", PD_EV_PURCHASE, NULL, H, 700);
  ts_ev(&s, "u3", PD_EV_VISIT, "B", -60 * D, 0);
  ts_ev(&s, "u3", PD_EV_VISIT, "A", 0, 0);
  ts_commit(&s);
  pd_table *t = run_model(s.st, PD_ATTRIBUTION_MARKOV);
  ck_assert_uint_eq(pd_table_n_rows(t), 2);
  ck_near(getd(t, "A", "removal_effect"), 0.75);
  ck_near(getd(t, "B", "removal_effect"), 2.0 / 3);
  ck_assert_int_eq(geti(t, "A", "revenue"), 900);
  ck_assert_int_eq(geti(t, "B", "revenue"), 800);
  ck_near(getd(t, "A", "conversions"), 1.058824);
  ck_near(getd(t, "B", "conversions"), 0.941176);
  pd_table_free(t);
  ts_free(&s);
}
END_TEST

/* The textbook chain C1>C2>C3>conv, C1>null, C2>C3>null given as counts:
 * P(conv) = 2/3 * 1/2 * 1/2 + 1/3 * 1/2 = 1/3; without C1: 1/6 (RE 1/2); without C2 or
 * C3: 0 (RE 1). */
START_TEST(markov_textbook) {
  /* rows C1, C2, C3, START; columns C1, C2, C3, conv, null */
  double counts[4 * 5] = {0, 1, 0, 0, 1, /* C1 */
                          0, 0, 2, 0, 0, /* C2 */
                          0, 0, 0, 1, 1, /* C3 */
                          2, 1, 0, 0, 0};
  double re[3], p;
  PD_CHECK(pd__attribution_markov(3, counts, re, &p));
  ck_near(p, 1.0 / 3);
  ck_near(re[0], 0.5);
  ck_near(re[1], 1);
  ck_near(re[2], 1);
}
END_TEST

/* Removal effects against removing each state for real and iterating the chain. */
static double brute_pconv(size_t k, const double *counts, size_t removed) {
  size_t w = k + 2;
  double x[16] = {0}, nx[16];
  for (int it = 0; it < 20000; it++) {
    for (size_t i = 0; i < k; i++) {
      const double *row = counts + i * w;
      double tot = 0, acc = 0;
      for (size_t j = 0; j < w; j++) tot += row[j];
      for (size_t j = 0; j < k; j++) acc += j == removed ? 0 : row[j] / tot * x[j];
      nx[i] = i == removed ? 0 : acc + row[k] / tot;
    }
    memcpy(x, nx, k * sizeof *x);
  }
  const double *row = counts + k * w;
  double tot = 0;
  for (size_t j = 0; j < w; j++) tot += row[j];
  double p = row[k] / tot;
  for (size_t j = 0; j < k; j++) p += j == removed ? 0 : row[j] / tot * x[j];
  return p;
}

START_TEST(markov_vs_removal) {
  GRand *r = g_rand_new_with_seed(7);
  for (int round = 0; round < 200; round++) {
    size_t k = (size_t)g_rand_int_range(r, 1, 9), w = k + 2;
    double counts[10 * 11];
    for (size_t i = 0; i <= k; i++)
      for (size_t j = 0; j < w; j++) counts[i * w + j] = g_rand_int_range(r, 0, 3) ? 0 : g_rand_int_range(r, 1, 9);
    for (size_t i = 0; i < k; i++) {
      counts[i * w + i] = 0;
      counts[i * w + k + g_rand_int_range(r, 0, 2)] += 1; /* every state can leave the chain */
    }
    counts[k * w + (size_t)g_rand_int_range(r, 0, (gint32)k)] += 1;
    counts[k * w + k + 1] = 0; /* START > null never happens */
    double re[10], p;
    PD_CHECK(pd__attribution_markov(k, counts, re, &p));
    double full = brute_pconv(k, counts, SIZE_MAX);
    ck_assert_msg(fabs(p - full) < 1e-9, "p %g vs %g", p, full);
    for (size_t i = 0; i < k; i++) {
      double want = full > 0 ? 1 - brute_pconv(k, counts, i) / full : 0;
      ck_assert_msg(fabs(re[i] - want) < 1e-7, "round %d k %zu state %zu: %g vs %g", round, k, i, re[i], want);
    }
  }
  g_rand_free(r);
}
END_TEST

/* A generated store: 600 users over 120 days, 7 touchpoints, random event types (touch
 * types and others), random touchpoints (some events without one), purchases of random
 * value including zeros and a few negative ones. */
static void gen_store(tstore *s, int64_t *n_conv, int64_t *value) {
  static const char *tps[] = {"ads", "kol", "live", "oa", "group", "wecom", "app"};
  static const uint32_t types[] = {PD_EV_ACQUIRE, PD_EV_VISIT, PD_EV_VISIT, PD_EV_MESSAGE_OPEN,
                                   PD_EV_MESSAGE_SEND, PD_EV_ACTIVATE, PD_EV_MEMBER_JOIN, PD_EV_PURCHASE,
                                   PD_EV_PURCHASE, PD_EV_REFUND};
  for (size_t i = 0; i < 7; i++) ts_tp(s, tps[i], (pd_domain)(i % 4));
  GRand *r = g_rand_new_with_seed(42);
  *n_conv = 0;
  *value = 0;
  for (int u = 0; u < 600; u++) {
    char name[16];
    snprintf(name, sizeof name, "g%d", u);
    int n = g_rand_int_range(r, 1, 40);
    int64_t t = g_rand_int_range(r, 0, 60) * D;
    for (int e = 0; e < n; e++) {
      t += g_rand_int_range(r, 0, 6) == 0 ? 0 : g_rand_int_range(r, 1, 200) * H / 10;
      uint32_t type = types[g_rand_int_range(r, 0, 10)];
      const char *tp = g_rand_int_range(r, 0, 10) == 0 ? NULL : tps[g_rand_int_range(r, 0, 7)];
      int64_t amount = 0;
      if (type == PD_EV_PURCHASE) {
        amount = g_rand_int_range(r, 0, 8) == 0 ? 0 : g_rand_int_range(r, 1, 99999);
        if (g_rand_int_range(r, 0, 50) == 0) amount = -amount;
        (*n_conv)++;
        *value += amount;
      }
      ts_ev(s, name, type, tp, t, amount);
    }
  }
  g_rand_free(r);
  ts_commit(s);
}

START_TEST(store_conservation) {
  tstore s = ts_new();
  int64_t n_conv, value;
  gen_store(&s, &n_conv, &value);
  pd_attribution_options o = PD_ATTRIBUTION_OPTIONS_INIT;
  o.lookback_ms = 10 * D;
  o.half_life_ms = 2 * D;
  o.first_permille = 300;
  o.last_permille = 500;
  o.model = PD_ATTRIBUTION_ALL;
  pd_table *all = run(s.st, &o, 1), *all3 = run(s.st, &o, 3);
  ck_assert_uint_gt(pd_table_n_rows(all), 7); /* every touchpoint, and some direct conversions */
  ck_assert_str_eq(pd_table_get_string(all, pd_table_n_rows(all) - 1, 0), "(none)");
  for (int m = PD_ATTRIBUTION_FIRST; m <= PD_ATTRIBUTION_MARKOV; m++) {
    o.model = (pd_attribution_model)m;
    pd_table *t = run(s.st, &o, 2);
    long cr = pd_table_col_index(t, "revenue"), cc = pd_table_col_index(t, "conversions");
    int64_t rev = 0, micro = 0;
    double share = 0;
    for (size_t r = 0; r < pd_table_n_rows(t); r++) {
      rev += pd_table_get_int64(t, r, (size_t)cr);
      micro += llround(pd_table_get_double(t, r, (size_t)cc) * 1e6);
      share += pd_table_get_double(t, r, (size_t)pd_table_col_index(t, "revenue_share"));
      /* the side-by-side table says the same */
      char col[64];
      snprintf(col, sizeof col, "%s_revenue", pd_attribution_model_name((pd_attribution_model)m));
      const char *tp = pd_table_get_string(t, r, 0);
      ck_assert_int_eq(geti(all, tp, col), pd_table_get_int64(t, r, (size_t)cr));
      ck_assert_int_eq(geti(all3, tp, col), pd_table_get_int64(t, r, (size_t)cr));
      ck_assert_int_eq(geti(all, tp, "paths"), pd_table_get_int64(t, r, 2));
    }
    ck_assert_msg(rev == value, "%s: revenue %lld != %lld", pd_attribution_model_name(o.model), (long long)rev,
                  (long long)value);
    ck_assert_int_eq(micro, n_conv * 1000000);
    ck_assert(fabs(share - 1) < 1e-9);
    pd_table_free(t);
  }
  /* the wide table with 1 and 3 workers is the same, cell by cell */
  ck_assert_uint_eq(pd_table_n_rows(all), pd_table_n_rows(all3));
  char *a = NULL, *b = NULL;
  PD_CHECK(pd_table_format(all, PD_FORMAT_CSV, &a, NULL));
  PD_CHECK(pd_table_format(all3, PD_FORMAT_CSV, &b, NULL));
  ck_assert_str_eq(a, b);
  pd_free(a);
  pd_free(b);
  pd_table_free(all);
  pd_table_free(all3);
  ts_free(&s);
}
END_TEST

START_TEST(store_empty_and_errors) {
  tstore s = ts_new();
  ts_commit(&s);
  for (int m = PD_ATTRIBUTION_FIRST; m <= PD_ATTRIBUTION_ALL; m++) {
    pd_table *t = run_model(s.st, (pd_attribution_model)m);
    ck_assert_uint_eq(pd_table_n_rows(t), 0);
    ck_assert_int_ge(pd_table_col_index(t, "touchpoint"), 0);
    pd_table_free(t);
  }
  pd_table *t = NULL;
  pd_attribution_options o = PD_ATTRIBUTION_OPTIONS_INIT;
  o.lookback_ms = -1;
  ck_assert_int_eq(pd_attribution_run(s.st, &o, NULL, &t), PD_ERR_INVALID);
  o.lookback_ms = D;
  o.half_life_ms = 0;
  ck_assert_int_eq(pd_attribution_run(s.st, &o, NULL, &t), PD_ERR_INVALID);
  o.half_life_ms = D;
  o.first_permille = 900;
  ck_assert_int_eq(pd_attribution_run(s.st, &o, NULL, &t), PD_ERR_INVALID);
  o.first_permille = 400;
  o.model = (pd_attribution_model)7;
  ck_assert_int_eq(pd_attribution_run(s.st, &o, NULL, &t), PD_ERR_INVALID);
  o.model = PD_ATTRIBUTION_LINEAR;
  o.size = 8;
  ck_assert_int_eq(pd_attribution_run(s.st, &o, NULL, &t), PD_ERR_INVALID);
  ck_assert_int_eq(pd_attribution_run(NULL, NULL, NULL, &t), PD_ERR_INVALID);
  ck_assert_ptr_null(t);
  /* the split refuses the store-level models */
  int64_t c[1];
  ck_assert_int_eq(pd_attribution_split(PD_ATTRIBUTION_MARKOV, 1, NULL, 0, 1, NULL, c), PD_ERR_INVALID);
  ts_free(&s);
}
END_TEST

START_TEST(model_names) {
  pd_attribution_model m;
  for (int i = PD_ATTRIBUTION_FIRST; i <= PD_ATTRIBUTION_ALL; i++) {
    PD_CHECK(pd_attribution_model_from_name(pd_attribution_model_name((pd_attribution_model)i), &m));
    ck_assert_int_eq(m, i);
  }
  PD_CHECK(pd_attribution_model_from_name("time_decay", &m));
  ck_assert_int_eq(m, PD_ATTRIBUTION_DECAY);
  ck_assert_int_eq(pd_attribution_model_from_name("shapley", &m), PD_ERR_INVALID);
  ck_assert_ptr_null(pd_attribution_model_name((pd_attribution_model)9));
}
END_TEST

int main(void) {
  Suite *s = suite_create("attribution");
  TCase *tc = tcase_create("split");
  tcase_add_test(tc, rule_models);
  tcase_add_test(tc, conservation);
  tcase_add_test(tc, invalid);
  tcase_add_test(tc, position_exact);
  tcase_add_test(tc, decay_long_paths);
  tcase_add_test(tc, model_names);
  suite_add_tcase(s, tc);
  tc = tcase_create("store");
  tcase_add_test(tc, store_hand_worked);
  tcase_add_test(tc, store_lookback_boundary);
  tcase_add_test(tc, store_markov_loop);
  tcase_add_test(tc, markov_textbook);
  tcase_add_test(tc, markov_vs_removal);
  tcase_add_test(tc, store_conservation);
  tcase_add_test(tc, store_empty_and_errors);
  suite_add_tcase(s, tc);
  return pd_test_run(s);
}
