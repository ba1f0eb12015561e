/* Funnels: hand-worked cases for every mode on hand-built event runs, an
 * agreement test against a slow reference implementation, and (with the
 * store) the same through pd_scan. */
#include <check.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "privdomain.h"
#include "funnel_internal.h"
#include "funnel_ref.h"
#include "testutil.h"

#define T_A 100 /* event types of letters A, B, C, ... */
#define T_X 200 /* an event no step asks for */

/* ---- building event runs from "A@0 B$10@1 C#2@5 X@6" --------------------
 * letter (X = unrelated), optional $amount, optional #touchpoint, @time. */
typedef struct run {
  pd_user_events ev;
  int64_t time[256], amount[256];
  uint16_t type[256];
  uint32_t tp[256], ref[256];
} run;

static void parse_run(run *r, const char *text) {
  memset(r, 0, sizeof *r);
  const char *p = text;
  size_t n = 0;
  while (*p) {
    while (*p == ' ') p++;
    if (!*p) break;
    ck_assert(n < 256);
    char c = *p++;
    r->type[n] = c == 'X' ? T_X : (uint16_t)(T_A + (c - 'A'));
    r->tp[n] = PD_NONE;
    r->ref[n] = PD_NONE;
    while (*p && *p != ' ') {
      char k = *p++;
      long long v = strtoll(p, (char **)&p, 10);
      if (k == '$') r->amount[n] = v;
      else if (k == '#') r->tp[n] = (uint32_t)v;
      else if (k == '@') r->time[n] = v;
      else ck_abort_msg("bad token in %s", text);
    }
    if (n) ck_assert_int_ge(r->time[n], r->time[n - 1]);
    n++;
  }
  r->ev.user = 0;
  r->ev.n = n;
  r->ev.time = r->time;
  r->ev.type = r->type;
  r->ev.touchpoint = r->tp;
  r->ev.referrer = r->ref;
  r->ev.amount = r->amount;
}

/* A spec whose steps are the letters of `steps` ("ABCD"), window, mode. */
static pd_funnel_spec *spec_of(const char *steps, int64_t window, pd_funnel_mode mode) {
  pd_funnel_spec *s = NULL;
  ck_assert_int_eq(pd_funnel_spec_new(&s), PD_OK);
  for (const char *c = steps; *c; c++) {
    pd_funnel_pred q = PD_FUNNEL_PRED_INIT;
    q.event_type = (uint32_t)(T_A + (*c - 'A'));
    char label[2] = {*c, 0};
    ck_assert_int_eq(pd_funnel_spec_add_step(s, &q, label), PD_OK);
  }
  ck_assert_int_eq(pd_funnel_spec_set_window(s, window), PD_OK);
  ck_assert_int_eq(pd_funnel_spec_set_mode(s, mode), PD_OK);
  return s;
}

/* Level of one user; checks the reference agrees on level and times. */
static int level_t(const pd_funnel_spec *s, const char *events, int64_t *times, bool *excluded) {
  run r;
  parse_run(&r, events);
  pd_funnel_partial *p = NULL;
  ck_assert_int_eq(pd_funnel_partial_new(s, &p), PD_OK);
  pd__funnel_attempt a;
  bool ex = false;
  int lv = pd__funnel_eval_user(p, &r.ev, &a, &ex);
  ref_result rr;
  ref_eval_user(s, NULL, 0, &r.ev, &rr);
  ck_assert_msg(rr.level == lv && rr.all_excluded == ex, "%s: fast %d (excl %d), reference %d (excl %d)", events, lv,
                ex, rr.level, rr.all_excluded);
  for (int k = 0; k < lv; k++) ck_assert_int_eq(rr.t[k], a.t[k]);
  if (times)
    for (int k = 0; k < lv; k++) times[k] = a.t[k];
  if (excluded) *excluded = ex;
  pd_funnel_partial_free(p);
  return lv;
}

static int level(const pd_funnel_spec *s, const char *events) { return level_t(s, events, NULL, NULL); }

/* ---- default mode ---------------------------------------------------------- */

START_TEST(default_basic) {
  pd_funnel_spec *s = spec_of("ABCD", 10, PD_FUNNEL_DEFAULT);
  ck_assert_int_eq(level(s, "A@0 B@1 C@2 D@3"), 4);
  ck_assert_int_eq(level(s, "A@0 X@1 B@2 X@3 D@4 C@5"), 3);
  ck_assert_int_eq(level(s, "D@0 C@1 B@2 A@3"), 1);
  ck_assert_int_eq(level(s, "B@0 C@1 D@2"), 0); /* never entered */
  ck_assert_int_eq(level(s, "X@0"), 0);
  /* header example: a later step-1 event starts a new attempt */
  int64_t t[4];
  ck_assert_int_eq(level_t(s, "A@0 X@1 B@2 A@3 B@4 C@5 D@13", t, NULL), 4);
  ck_assert_int_eq(t[0], 3); /* the reported attempt is the one that got furthest */
  ck_assert_int_eq(t[1], 4);
  ck_assert_int_eq(t[3], 13);
  pd_funnel_spec_free(s);
}
END_TEST

START_TEST(default_window_boundary) {
  pd_funnel_spec *s = spec_of("ABC", 1000, PD_FUNNEL_DEFAULT);
  ck_assert_int_eq(level(s, "A@5000 B@5500 C@6000"), 3); /* exactly at the limit counts */
  ck_assert_int_eq(level(s, "A@5000 B@5500 C@6001"), 2); /* one ms past does not */
  ck_assert_int_eq(level(s, "A@5000 B@6001 C@6001"), 1);
  /* window 0: only events at the same instant */
  pd_funnel_spec_set_window(s, 0);
  ck_assert_int_eq(level(s, "A@7 B@7 C@7"), 3);
  ck_assert_int_eq(level(s, "A@7 B@7 C@8"), 2);
  pd_funnel_spec_free(s);
}
END_TEST

START_TEST(default_equal_timestamps) {
  pd_funnel_spec *s = spec_of("ABC", 10, PD_FUNNEL_DEFAULT);
  /* stored order C, B, A at one instant: taken in step order */
  ck_assert_int_eq(level(s, "C@5 B@5 A@5"), 3);
  ck_assert_int_eq(level(s, "B@5 A@5 C@6"), 3);
  /* B before A in time is not usable */
  ck_assert_int_eq(level(s, "B@4 A@5 C@6"), 1);
  pd_funnel_spec_free(s);
}
END_TEST

START_TEST(default_repeats_and_restart) {
  pd_funnel_spec *s = spec_of("ABC", 10, PD_FUNNEL_DEFAULT);
  int64_t t[3];
  /* repeated step events: the earliest match after the previous step fills */
  ck_assert_int_eq(level_t(s, "A@0 B@1 B@2 B@3 C@4", t, NULL), 3);
  ck_assert_int_eq(t[1], 1);
  /* restart: the first attempt expires, the later step-1 event completes */
  ck_assert_int_eq(level_t(s, "A@0 B@2 A@9 C@15 B@16 C@19", t, NULL), 3);
  ck_assert_int_eq(t[0], 9);
  ck_assert_int_eq(t[1], 16);
  ck_assert_int_eq(t[2], 19);
  /* a later step-1 event does not cancel an earlier attempt */
  ck_assert_int_eq(level(s, "A@0 B@1 A@2 C@10"), 3);
  /* among attempts with the same level the earliest is reported */
  ck_assert_int_eq(level_t(s, "A@0 B@3 A@20 B@21", t, NULL), 2);
  ck_assert_int_eq(t[0], 0);
  ck_assert_int_eq(t[1], 3);
  pd_funnel_spec_free(s);
}
END_TEST

/* One event may satisfy several steps in default mode. */
START_TEST(default_one_event_several_steps) {
  pd_funnel_spec *s = NULL;
  pd_funnel_spec_new(&s);
  pd_funnel_pred a = PD_FUNNEL_PRED_INIT, b = PD_FUNNEL_PRED_INIT, big = PD_FUNNEL_PRED_INIT;
  a.event_type = T_A;
  b.event_type = T_A + 1;
  big.min_amount = 100; /* any event type with amount >= 100 */
  pd_funnel_spec_add_step(s, &a, "A");
  pd_funnel_spec_add_step(s, &b, "B");
  pd_funnel_spec_add_step(s, &big, "big");
  pd_funnel_spec_set_window(s, 10);
  ck_assert_int_eq(level(s, "A@0 B$100@1"), 3); /* B$100 fills B and big */
  ck_assert_int_eq(level(s, "A@0 B$99@1"), 2);
  pd_funnel_spec_set_mode(s, PD_FUNNEL_STRICT_ONCE);
  ck_assert_int_eq(level(s, "A@0 B$100@1"), 2);
  ck_assert_int_eq(level(s, "A@0 B$100@1 B@1"), 3); /* B@1 fills B, B$100@1 fills big */
  ck_assert_int_eq(level(s, "A@0 B@1 B$100@1"), 3);
  pd_funnel_spec_set_mode(s, PD_FUNNEL_STRICT_INCREASE);
  ck_assert_int_eq(level(s, "A@0 B$100@1"), 2);
  ck_assert_int_eq(level(s, "A@0 B$100@1 X$100@2"), 3);
  pd_funnel_spec_free(s);
}
END_TEST

/* ---- strict modes ------------------------------------------------------------ */

START_TEST(strict_order) {
  pd_funnel_spec *s = spec_of("ABCD", 10, PD_FUNNEL_STRICT_ORDER);
  ck_assert_int_eq(level(s, "A@0 B@1 C@2 D@3"), 4);
  ck_assert_int_eq(level(s, "A@0 B@1 X@2 C@3"), 2);
  ck_assert_int_eq(level(s, "A@0 B@1 B@2 C@3"), 3);   /* a repeat is not an intervention */
  ck_assert_int_eq(level(s, "A@0 C@1 B@2"), 1);       /* skipping ahead ends it */
  ck_assert_int_eq(level(s, "A@0 B@1 D@2 C@3"), 2);   /* ClickHouse's documented example */
  ck_assert_int_eq(level(s, "X@0 A@0 B@1"), 2);       /* unrelated at the start instant comes first */
  ck_assert_int_eq(level(s, "A@0 X@1 B@1"), 1);       /* ... and at a later instant breaks first */
  ck_assert_int_eq(level(s, "A@0 B@1 A@2 C@3"), 3);   /* a step-1 repeat is harmless */
  /* differs from ClickHouse: an unrelated event ends only the live attempt */
  ck_assert_int_eq(level(s, "A@0 B@1 X@50 A@60 B@61 C@62"), 3);
  /* after the deadline the attempt is over, an unrelated event changes nothing */
  ck_assert_int_eq(level(s, "A@0 B@1 X@20"), 2);
  pd_funnel_spec_free(s);
}
END_TEST

START_TEST(strict_deduplication) {
  pd_funnel_spec *s = spec_of("ABCD", 10, PD_FUNNEL_STRICT_DEDUPLICATION);
  ck_assert_int_eq(level(s, "A@0 B@1 C@2 B@3 D@4"), 3); /* documented example */
  ck_assert_int_eq(level(s, "A@0 B@1 C@2 A@3 B@4 C@5 D@6"), 4);
  ck_assert_int_eq(level(s, "A@0 B@1 B@2 C@3"), 2);
  ck_assert_int_eq(level(s, "A@0 B@1 B@1 C@3"), 2); /* a repeat at the same instant too */
  ck_assert_int_eq(level(s, "A@0 A@1 B@2 C@3"), 3); /* step-1 repeats are new attempts */
  ck_assert_int_eq(level(s, "A@0 B@1 X@2 C@3"), 3); /* other events do not matter */
  pd_funnel_spec_free(s);
  /* ClickHouse issue 37177: install, start, login, end; ClickHouse gives 3, we 4 */
  s = spec_of("ABCD", 60, PD_FUNNEL_STRICT_DEDUPLICATION);
  ck_assert_int_eq(level(s, "A@0 B@5 C@10 A@15 B@20 A@25 B@30 C@35 D@40"), 4);
  pd_funnel_spec_free(s);
}
END_TEST

START_TEST(strict_increase) {
  pd_funnel_spec *s = spec_of("ABC", 10, PD_FUNNEL_STRICT_INCREASE);
  ck_assert_int_eq(level(s, "A@0 B@0 C@1"), 1);
  ck_assert_int_eq(level(s, "A@0 B@1 C@1 C@2"), 3);
  ck_assert_int_eq(level(s, "A@0 B@1 C@2"), 3);
  ck_assert_int_eq(level(s, "A@0 B@0 B@1 C@2"), 3);
  pd_funnel_spec_free(s);
  /* ClickHouse issue 52844: ClickHouse gives 2, the chain A@1 B@2 C@3 D@4 exists */
  s = spec_of("ABCD", 100000, PD_FUNNEL_STRICT_INCREASE);
  int64_t t[4];
  ck_assert_int_eq(level_t(s, "A@1 B@2 C@2 D@2 B@3 C@3 D@3 B@4 C@4 D@4", t, NULL), 4);
  ck_assert_int_eq(t[1], 2);
  ck_assert_int_eq(t[2], 3);
  ck_assert_int_eq(t[3], 4);
  pd_funnel_spec_free(s);
}
END_TEST

START_TEST(strict_once) {
  pd_funnel_spec *s = spec_of("ABAC", 10, PD_FUNNEL_STRICT_ONCE);
  /* steps A, B, A, C: the A that starts cannot also be step 3 */
  ck_assert_int_eq(level(s, "A@0 B@1 C@2"), 2);
  ck_assert_int_eq(level(s, "A@0 B@1 A@2 C@3"), 4);
  pd_funnel_spec_set_mode(s, PD_FUNNEL_DEFAULT);
  ck_assert_int_eq(level(s, "A@0 B@0"), 3); /* A@0 is step 1 and, after B@0, step 3 */
  pd_funnel_spec_free(s);
  /* two A steps in a row: default lets one event fill both, strict_once not */
  s = spec_of("AAB", 10, PD_FUNNEL_DEFAULT);
  ck_assert_int_eq(level(s, "A@0 B@1"), 3);
  pd_funnel_spec_set_mode(s, PD_FUNNEL_STRICT_ONCE);
  ck_assert_int_eq(level(s, "A@0 B@1"), 1);
  ck_assert_int_eq(level(s, "A@0 A@0 B@1"), 3); /* two events at one instant */
  ck_assert_int_eq(level(s, "A@0 A@5 B@6"), 3);
  pd_funnel_spec_free(s);
}
END_TEST

START_TEST(unordered) {
  pd_funnel_spec *s = spec_of("ABCD", 10, PD_FUNNEL_UNORDERED);
  int64_t t[4];
  ck_assert_int_eq(level(s, "C@0 A@4 B@9 D@12"), 3);
  ck_assert_int_eq(level_t(s, "D@0 C@1 B@2 A@3", t, NULL), 4);
  ck_assert_int_eq(t[0], 0);
  ck_assert_int_eq(t[3], 3);
  ck_assert_int_eq(level(s, "B@0 B@1 B@2"), 1);
  ck_assert_int_eq(level(s, "X@0"), 0);
  ck_assert_int_eq(level(s, "A@0 B@10"), 2);
  ck_assert_int_eq(level(s, "A@0 B@11"), 1);
  pd_funnel_spec_free(s);
}
END_TEST

/* ---- exclusions ---------------------------------------------------------------- */

START_TEST(exclusions) {
  pd_funnel_spec *s = spec_of("ABC", 10, PD_FUNNEL_DEFAULT);
  pd_funnel_pred x = PD_FUNNEL_PRED_INIT;
  x.event_type = T_X;
  ck_assert_int_eq(pd_funnel_spec_add_exclusion(s, &x, 1, 2), PD_OK);
  bool ex;
  ck_assert_int_eq(level_t(s, "A@0 X@1 B@2 C@3", NULL, &ex), 0);
  ck_assert(ex); /* the only attempt is disqualified: the user is left out */
  ck_assert_int_eq(level_t(s, "A@0 B@2 X@3 C@4", NULL, &ex), 3); /* after step 2: fine */
  ck_assert(!ex);
  ck_assert_int_eq(level(s, "A@0 X@0 B@2"), 2);  /* same instant as step 1: not strictly after */
  ck_assert_int_eq(level(s, "A@0 X@2 B@2"), 2);  /* same instant as step 2: not strictly before */
  ck_assert_int_eq(level(s, "A@0 X@5"), 0);      /* step 2 never came: X while alive disqualifies */
  ck_assert_int_eq(level(s, "A@0 X@11"), 1);     /* after the deadline: the attempt was over */
  /* another attempt saves the user */
  ck_assert_int_eq(level(s, "A@0 X@1 A@20 B@21"), 2);
  ck_assert_int_eq(level(s, "A@0 X@1 B@2 C@3 A@20"), 1);
  pd_funnel_spec_free(s);
  /* exclusion between steps 1 and 3, strict_order stopping the attempt */
  s = spec_of("ABC", 10, PD_FUNNEL_STRICT_ORDER);
  ck_assert_int_eq(pd_funnel_spec_add_exclusion(s, &x, 1, 3), PD_OK);
  ck_assert_int_eq(level_t(s, "A@0 B@1 X@2", NULL, &ex), 0); /* X both ends and disqualifies */
  ck_assert(ex);
  ck_assert_int_eq(level(s, "A@0 B@1 C@2 X@3"), 3);
  pd_funnel_spec_free(s);
  /* invalid exclusions */
  s = spec_of("AB", 10, PD_FUNNEL_DEFAULT);
  ck_assert_int_eq(pd_funnel_spec_add_exclusion(s, &x, 2, 2), PD_ERR_INVALID);
  ck_assert_int_eq(pd_funnel_spec_add_exclusion(s, &x, 0, 1), PD_ERR_INVALID);
  ck_assert_int_eq(pd_funnel_spec_add_exclusion(s, &x, 1, 3), PD_OK);
  pd_funnel_partial *p = NULL;
  ck_assert_int_eq(pd_funnel_partial_new(s, &p), PD_ERR_INVALID); /* step 3 does not exist */
  pd_funnel_spec_free(s);
}
END_TEST

/* ---- predicates, parsing ------------------------------------------------------- */

START_TEST(predicates) {
  pd_funnel_spec *s = NULL;
  pd_funnel_spec_new(&s);
  pd_funnel_pred a = PD_FUNNEL_PRED_INIT, b = PD_FUNNEL_PRED_INIT;
  a.event_type = T_A;
  a.domain = PD_DOMAIN_PRIVATE;
  b.event_type = T_A + 1;
  b.touchpoint = 2;
  b.min_amount = 50;
  pd_funnel_spec_add_step(s, &a, NULL);
  pd_funnel_spec_add_step(s, &b, NULL);
  uint8_t dom[3] = {PD_DOMAIN_PUBLIC, PD_DOMAIN_PRIVATE, PD_DOMAIN_PRIVATE};
  pd_funnel_spec_set_domains(s, dom, 3);
  ck_assert_int_eq(level(s, "A#1@0 B#2$50@1"), 2);
  ck_assert_int_eq(level(s, "A#0@0 B#2$50@1"), 0); /* public touchpoint */
  ck_assert_int_eq(level(s, "A@0 B#2$50@1"), 0);   /* no touchpoint: no domain */
  ck_assert_int_eq(level(s, "A#2@0 B#1$50@1"), 1); /* wrong touchpoint */
  ck_assert_int_eq(level(s, "A#2@0 B#2$49@1"), 1); /* amount too small */
  pd_funnel_spec_free(s);
}
END_TEST

START_TEST(parsing) {
  int64_t w;
  ck_assert_int_eq(pd_funnel_parse_window("7d", &w), PD_OK);
  ck_assert_int_eq(w, 7 * 86400000LL);
  ck_assert_int_eq(pd_funnel_parse_window("90s", &w), PD_OK);
  ck_assert_int_eq(w, 90000);
  ck_assert_int_eq(pd_funnel_parse_window("2w", &w), PD_OK);
  ck_assert_int_eq(w, 14 * 86400000LL);
  ck_assert_int_eq(pd_funnel_parse_window("1mo", &w), PD_OK);
  ck_assert_int_eq(w, 31 * 86400000LL);
  ck_assert_int_eq(pd_funnel_parse_window("15m", &w), PD_OK);
  ck_assert_int_eq(w, 900000);
  ck_assert_int_eq(pd_funnel_parse_window("250", &w), PD_OK);
  ck_assert_int_eq(w, 250);
  ck_assert_int_eq(pd_funnel_parse_window("7x", &w), PD_ERR_PARSE);
  ck_assert_int_eq(pd_funnel_parse_window("d", &w), PD_ERR_PARSE);
  ck_assert_int_eq(pd_funnel_parse_window("99999999999999999999d", &w), PD_ERR_RANGE);
  pd_funnel_mode m;
  ck_assert_int_eq(pd_funnel_parse_mode("strict_once", &m), PD_OK);
  ck_assert_int_eq(m, PD_FUNNEL_STRICT_ONCE);
  ck_assert_str_eq(pd_funnel_mode_name(PD_FUNNEL_UNORDERED), "unordered");
  ck_assert_int_eq(pd_funnel_parse_mode("strict", &m), PD_ERR_INVALID);
  pd_funnel_spec *s = spec_of("A", 1, PD_FUNNEL_DEFAULT);
  pd_funnel_partial *p = NULL;
  ck_assert_int_eq(pd_funnel_partial_new(s, &p), PD_ERR_INVALID); /* one step */
  ck_assert_int_eq(pd_funnel_spec_set_breakdown(s, (pd_funnel_by)7, PD_PERIOD_DAY, NULL), PD_ERR_INVALID);
  ck_assert_int_eq(pd_funnel_spec_set_breakdown(s, PD_FUNNEL_BY_COHORT, PD_PERIOD_WEEK, "Mars/Olympus"), PD_ERR_INVALID);
  ck_assert_int_eq(pd_funnel_spec_set_window(s, -1), PD_ERR_INVALID);
  pd_funnel_pred q = PD_FUNNEL_PRED_INIT;
  for (int i = 1; i < PD_FUNNEL_MAX_STEPS; i++) ck_assert_int_eq(pd_funnel_spec_add_step(s, &q, NULL), PD_OK);
  ck_assert_int_eq(pd_funnel_spec_add_step(s, &q, NULL), PD_ERR_RANGE);
  pd_funnel_spec_free(s);
}
END_TEST

/* ---- tables ------------------------------------------------------------------------ */

static double dcell(const pd_table *t, size_t row, const char *col) {
  long c = pd_table_col_index(t, col);
  ck_assert_int_ge(c, 0);
  return pd_table_get_double(t, row, (size_t)c);
}
static int64_t icell(const pd_table *t, size_t row, const char *col) {
  long c = pd_table_col_index(t, col);
  ck_assert_int_ge(c, 0);
  return pd_table_get_int64(t, row, (size_t)c);
}
static int isnull(const pd_table *t, size_t row, const char *col) {
  return pd_table_is_null(t, row, (size_t)pd_table_col_index(t, col));
}
static const char *scell(const pd_table *t, size_t row, const char *col) {
  return pd_table_get_string(t, row, (size_t)pd_table_col_index(t, col));
}

static void add_user(pd_funnel_partial *p, uint32_t user, const char *events) {
  run r;
  parse_run(&r, events);
  r.ev.user = user;
  ck_assert_int_eq(pd_funnel_partial_add(p, &r.ev), PD_OK);
}

START_TEST(table_counts_and_times) {
  pd_funnel_spec *s = spec_of("ABC", 100, PD_FUNNEL_DEFAULT);
  pd_funnel_partial *p1 = NULL, *p2 = NULL;
  ck_assert_int_eq(pd_funnel_partial_new(s, &p1), PD_OK);
  ck_assert_int_eq(pd_funnel_partial_new(s, &p2), PD_OK);
  /* five users over two partials: B times 10, 20, 30, 40; C times 5, 15 */
  add_user(p1, 0, "A@0 B@10 C@15");
  add_user(p1, 1, "A@0 B@20");
  add_user(p2, 2, "A@0 B@30 C@45");
  add_user(p2, 3, "A@0 B@40");
  add_user(p2, 4, "A@0");
  add_user(p2, 5, "B@0 C@1"); /* never entered */
  ck_assert_int_eq(pd_funnel_partial_merge(p1, p2), PD_OK);
  pd_table *t = NULL;
  ck_assert_int_eq(pd__funnel_finish(p1, NULL, NULL, &t), PD_OK);
  ck_assert_int_eq(pd_table_n_rows(t), 3);
  ck_assert_int_eq(pd_table_col_index(t, "group"), -1);
  ck_assert_str_eq(scell(t, 0, "step_name"), "A");
  ck_assert_int_eq(icell(t, 0, "users"), 5);
  ck_assert_int_eq(icell(t, 1, "users"), 4);
  ck_assert_int_eq(icell(t, 2, "users"), 2);
  ck_assert(isnull(t, 0, "conv_prev"));
  ck_assert(isnull(t, 0, "time_mean_ms"));
  ck_assert_double_eq_tol(dcell(t, 1, "conv_prev"), 0.8, 1e-12);
  ck_assert_double_eq_tol(dcell(t, 2, "conv_prev"), 0.5, 1e-12);
  ck_assert_double_eq_tol(dcell(t, 2, "conv_first"), 0.4, 1e-12);
  ck_assert_int_eq(icell(t, 2, "dropoff"), 2);
  ck_assert_double_eq_tol(dcell(t, 1, "dropoff_rate"), 0.2, 1e-12);
  ck_assert_double_eq_tol(dcell(t, 1, "time_mean_ms"), 25, 1e-9);
  ck_assert_double_eq_tol(dcell(t, 1, "time_median_ms"), 25, 1e-9);    /* (20+30)/2 */
  ck_assert_double_eq_tol(dcell(t, 1, "time_p90_ms"), 37, 1e-9);       /* 30 + 0.7*10 */
  ck_assert_double_eq_tol(dcell(t, 2, "time_median_ms"), 10, 1e-9);    /* 5, 15 */
  ck_assert_double_eq_tol(dcell(t, 2, "time_p90_ms"), 14, 1e-9);       /* 5 + 0.9*10 */
  pd_table_free(t);
  pd_funnel_partial_free(p1);
  pd_funnel_partial_free(p2);
  pd_funnel_spec_free(s);
}
END_TEST

START_TEST(table_empty) {
  pd_funnel_spec *s = spec_of("AB", 100, PD_FUNNEL_DEFAULT);
  pd_funnel_partial *p = NULL;
  ck_assert_int_eq(pd_funnel_partial_new(s, &p), PD_OK);
  pd_table *t = NULL;
  ck_assert_int_eq(pd__funnel_finish(p, NULL, NULL, &t), PD_OK);
  ck_assert_int_eq(pd_table_n_rows(t), 2);
  ck_assert_int_eq(icell(t, 0, "users"), 0);
  ck_assert(isnull(t, 0, "conv_first"));
  ck_assert(isnull(t, 1, "conv_prev"));
  pd_table_free(t);
  pd_funnel_partial_free(p);
  pd_funnel_spec_free(s);
}
END_TEST

START_TEST(breakdowns) {
  pd_funnel_spec *s = NULL;
  pd_funnel_spec_new(&s);
  pd_funnel_pred q = PD_FUNNEL_PRED_INIT;
  q.event_type = PD_EV_ACQUIRE;
  pd_funnel_spec_add_step(s, &q, "acquire");
  q.event_type = PD_EV_PURCHASE;
  pd_funnel_spec_add_step(s, &q, "purchase");
  pd_funnel_spec_set_window(s, 7 * PD_MS_DAY);
  uint8_t dom[3] = {PD_DOMAIN_PUBLIC, PD_DOMAIN_PRIVATE, PD_DOMAIN_PRIVATE};
  pd_funnel_spec_set_domains(s, dom, 3);
  /* users as (acquire touchpoint, acquire time, purchase?) */
  const int64_t D = PD_MS_DAY;
  const int64_t mar1 = INT64_C(1709251200000); /* 2024-03-01 00:00 UTC */
  struct {
    uint32_t tp;
    int64_t t;
    int buy;
  } u[] = {{0, mar1, 1}, {1, mar1 + D, 0}, {2, mar1 + 7 * D, 1}, {1, mar1 + 8 * D, 1}, {PD_NONE, mar1 + 20 * D, 1}};
  pd_funnel_by bys[] = {PD_FUNNEL_BY_ACQ_TOUCHPOINT, PD_FUNNEL_BY_ACQ_DOMAIN, PD_FUNNEL_BY_COHORT,
                        PD_FUNNEL_BY_STEP1_TOUCHPOINT, PD_FUNNEL_BY_ENTRY_PERIOD};
  for (size_t b = 0; b < 5; b++) {
    ck_assert_int_eq(pd_funnel_spec_set_breakdown(s, bys[b], PD_PERIOD_WEEK, "Asia/Shanghai"), PD_OK);
    pd_funnel_partial *p = NULL;
    ck_assert_int_eq(pd_funnel_partial_new(s, &p), PD_OK);
    for (uint32_t i = 0; i < 5; i++) {
      int64_t time[2] = {u[i].t, u[i].t + 3600000};
      uint16_t type[2] = {PD_EV_ACQUIRE, PD_EV_PURCHASE};
      uint32_t tp[2] = {u[i].tp, PD_NONE}, ref[2] = {PD_NONE, PD_NONE};
      int64_t amt[2] = {0, 100};
      pd_user_events ev = {i, u[i].buy ? 2u : 1u, time, type, tp, ref, amt};
      ck_assert_int_eq(pd_funnel_partial_add(p, &ev), PD_OK);
    }
    pd_table *t = NULL;
    ck_assert_int_eq(pd__funnel_finish(p, NULL, NULL, &t), PD_OK);
    if (bys[b] == PD_FUNNEL_BY_ACQ_TOUCHPOINT || bys[b] == PD_FUNNEL_BY_STEP1_TOUCHPOINT) {
      ck_assert_int_eq(pd_table_n_rows(t), 8); /* #0 #1 #2 (none) x 2 steps */
      ck_assert_str_eq(scell(t, 2, "group"), "#1");
      ck_assert_int_eq(icell(t, 2, "users"), 2);
      ck_assert_int_eq(icell(t, 3, "users"), 1);
      ck_assert_str_eq(scell(t, 6, "group"), "(none)");
    } else if (bys[b] == PD_FUNNEL_BY_ACQ_DOMAIN) {
      ck_assert_int_eq(pd_table_n_rows(t), 6); /* public, private, (none) */
      ck_assert_str_eq(scell(t, 0, "group"), "public");
      ck_assert_str_eq(scell(t, 2, "group"), "private");
      ck_assert_int_eq(icell(t, 2, "users"), 3);
      ck_assert_int_eq(icell(t, 3, "users"), 2);
      ck_assert_double_eq_tol(dcell(t, 3, "conv_prev"), 2.0 / 3.0, 1e-12);
    } else {
      /* ISO weeks in Shanghai: Mar 1 (Fri) and 2 -> W09, Mar 8 and 9 -> W10, Mar 21 -> W12 */
      ck_assert_int_eq(pd_table_n_rows(t), 6);
      ck_assert_str_eq(scell(t, 0, "group"), "2024-W09");
      ck_assert_int_eq(icell(t, 0, "users"), 2);
      ck_assert_int_eq(icell(t, 1, "users"), 1);
      ck_assert_str_eq(scell(t, 2, "group"), "2024-W10");
      ck_assert_int_eq(icell(t, 3, "users"), 2);
      ck_assert_str_eq(scell(t, 4, "group"), "2024-W12");
    }
    pd_table_free(t);
    pd_funnel_partial_free(p);
  }
  pd_funnel_spec_free(s);
}
END_TEST

/* A user counted in several entry periods, each with that period's best attempt. */
START_TEST(trend_per_entry_period) {
  pd_funnel_spec *s = spec_of("AB", 10, PD_FUNNEL_DEFAULT);
  ck_assert_int_eq(pd_funnel_spec_set_breakdown(s, PD_FUNNEL_BY_ENTRY_PERIOD, PD_PERIOD_DAY, NULL), PD_OK);
  pd_funnel_partial *p = NULL;
  ck_assert_int_eq(pd_funnel_partial_new(s, &p), PD_OK);
  char ev[128];
  /* day 0: entered, did not convert; day 1: converted */
  snprintf(ev, sizeof ev, "A@0 A@%" PRId64 " B@%" PRId64, PD_MS_DAY, PD_MS_DAY + 5);
  add_user(p, 0, ev);
  pd_table *t = NULL;
  ck_assert_int_eq(pd__funnel_finish(p, NULL, NULL, &t), PD_OK);
  ck_assert_int_eq(pd_table_n_rows(t), 4);
  ck_assert_str_eq(scell(t, 0, "group"), "1970-01-01");
  ck_assert_int_eq(icell(t, 0, "users"), 1);
  ck_assert_int_eq(icell(t, 1, "users"), 0);
  ck_assert_str_eq(scell(t, 2, "group"), "1970-01-02");
  ck_assert_int_eq(icell(t, 3, "users"), 1);
  ck_assert_double_eq_tol(dcell(t, 3, "time_mean_ms"), 5, 1e-9);
  pd_table_free(t);
  pd_funnel_partial_free(p);
  pd_funnel_spec_free(s);
}
END_TEST

/* Quantiles by selection equal those from a sorted copy, duplicates included. */
START_TEST(quantiles_by_selection) {
  uint64_t rng = 99;
  int64_t v[300], w[300];
  const double qs[] = {0, 0.1, 0.5, 0.9, 0.999, 1};
  for (size_t n = 1; n < 300; n += 7) {
    for (size_t i = 0; i < n; i++) v[i] = (int64_t)(ref_rng(&rng) % (n < 50 ? 5 : 1000));
    memcpy(w, v, n * sizeof *v);
    qsort(w, n, sizeof *w, ref_cmp_i64);
    for (size_t j = 0; j < sizeof qs / sizeof qs[0]; j++) {
      double pos = qs[j] * (double)(n - 1);
      size_t lo = (size_t)pos;
      double want = lo + 1 < n ? w[lo] + (pos - (double)lo) * (double)(w[lo + 1] - w[lo]) : (double)w[lo];
      ck_assert_double_eq_tol(pd__quantile(v, n, qs[j]), want, 1e-9);
    }
  }
}
END_TEST

/* ---- agreement with the reference on generated users ------------------------------ */

START_TEST(agreement_generated) {
  for (int mode = PD_FUNNEL_DEFAULT; mode <= PD_FUNNEL_UNORDERED; mode++) {
    for (int with_excl = 0; with_excl < 2; with_excl++) {
      pd_funnel_spec *s = ref_bench_spec((pd_funnel_mode)mode, with_excl);
      ref_agree_generated(s, 20000, UINT64_C(0x5eed) + (uint64_t)mode * 2 + (uint64_t)with_excl);
      pd_funnel_spec_free(s);
    }
  }
}
END_TEST


/* ---- through a store and pd_scan ----------------------------------------------------- */

/* Writes n generated users (seeded) into a new store, compacting half-way
 * so that both a sealed segment and the log are read. Touchpoints tp0..tp5
 * get the domains ref_bench_spec() assumes. */
static char *generated_store(uint32_t n_users, uint64_t seed) {
  char *dir = pd_test_tmpdir("funnel");
  pd_store *st = pd_test_open(dir, 1);
  pd_writer *w = NULL;
  PD_CHECK(pd_writer_open(&w, st));
  static const pd_domain dom[6] = {PD_DOMAIN_PUBLIC, PD_DOMAIN_PRIVATE, PD_DOMAIN_PRIVATE, PD_DOMAIN_SEMI,
                                   PD_DOMAIN_PRIVATE, PD_DOMAIN_UNKNOWN};
  for (uint32_t i = 0; i < 6; i++) {
    char name[16];
    snprintf(name, sizeof name, "tp%u", i);
    pd_touchpoint_def d = PD_TOUCHPOINT_DEF_INIT;
    d.name = name;
    d.domain = dom[i];
    uint32_t id;
    PD_CHECK(pd_writer_touchpoint(w, &d, &id));
    ck_assert_uint_eq(id, i);
  }
  static ref_user u;
  uint64_t rng = seed;
  for (uint32_t id = 0; id < n_users; id++) {
    ref_gen_user(&rng, id, &u);
    char name[16];
    snprintf(name, sizeof name, "u%u", id);
    uint32_t uid;
    PD_CHECK(pd_writer_user(w, name, &uid));
    ck_assert_uint_eq(uid, id);
    for (size_t i = 0; i < u.ev.n; i++) {
      pd_event e = {u.time[i], uid, u.type[i], u.tp[i], PD_NONE, u.amount[i]};
      PD_CHECK(pd_writer_append(w, &e));
    }
    if (id % 10000 == 9999) PD_CHECK(pd_writer_commit(w));
    if (id == n_users / 2) {
      PD_CHECK(pd_writer_commit(w));
      PD_CHECK(pd_store_compact(st));
    }
  }
  PD_CHECK(pd_writer_commit(w));
  pd_writer_close(w);
  pd_store_close(st);
  return dir;
}

/* 100,000 generated users, every mode with and without exclusions, through
 * pd_funnel_run on two threads, against the reference per user. */
START_TEST(store_agreement_100k) {
  const uint32_t N = 100000;
  const uint64_t seed = UINT64_C(20240301);
  char *dir = generated_store(N, seed);
  pd_store *st = pd_test_open(dir, 0);
  ck_assert_uint_eq(pd_store_n_users(st), N);
  static ref_user u;
  for (int mode = PD_FUNNEL_DEFAULT; mode <= PD_FUNNEL_UNORDERED; mode++) {
    for (int with_excl = 0; with_excl < 2; with_excl++) {
      pd_funnel_spec *s = ref_bench_spec((pd_funnel_mode)mode, with_excl);
      uint64_t reached[PD_FUNNEL_MAX_STEPS] = {0}, excluded = 0;
      int64_t *times[4];
      for (int k = 0; k < 4; k++) times[k] = malloc(N * sizeof(int64_t));
      uint64_t rng = seed;
      for (uint32_t id = 0; id < N; id++) {
        ref_gen_user(&rng, id, &u);
        ref_result rr;
        ref_eval_user(s, NULL, 0, &u.ev, &rr);
        excluded += rr.all_excluded;
        for (int k = 0; k < rr.level; k++) {
          if (k) times[k][reached[k]] = rr.t[k] - rr.t[k - 1];
          reached[k]++;
        }
      }
      ck_assert_uint_gt(reached[3], 0);
      pd_scan_options o = PD_SCAN_OPTIONS_INIT;
      o.threads = 2;
      pd_table *t = NULL;
      PD_CHECK(pd_funnel_run(st, s, &o, &t));
      ref_check_table(t, 4, reached, excluded, times);
      pd_table_free(t);
      for (int k = 0; k < 4; k++) free(times[k]);
      pd_funnel_spec_free(s);
    }
  }
  pd_store_close(st);
  pd_test_rmdir(dir);
  g_free(dir);
}
END_TEST

/* Breakdown by acquisition touchpoint names groups after the store's touchpoints,
 * and group totals add up to the whole funnel (user-level keys). */
START_TEST(store_breakdown_names) {
  char *dir = generated_store(3000, 7);
  pd_store *st = pd_test_open(dir, 0);
  pd_funnel_spec *s = ref_bench_spec(PD_FUNNEL_DEFAULT, 0);
  pd_table *all = NULL, *by = NULL;
  PD_CHECK(pd_funnel_run(st, s, NULL, &all));
  PD_CHECK(pd_funnel_spec_set_breakdown(s, PD_FUNNEL_BY_ACQ_TOUCHPOINT, PD_PERIOD_DAY, NULL));
  PD_CHECK(pd_funnel_run(st, s, NULL, &by));
  ck_assert_int_eq(pd_table_n_rows(by) % 4, 0);
  int64_t sum[4] = {0};
  for (size_t r = 0; r < pd_table_n_rows(by); r++) {
    const char *g = scell(by, r, "group");
    ck_assert(strncmp(g, "tp", 2) == 0 || strcmp(g, "(none)") == 0);
    sum[icell(by, r, "step") - 1] += icell(by, r, "users");
  }
  for (int k = 0; k < 4; k++) ck_assert_int_eq(sum[k], icell(all, (size_t)k, "users"));
  ck_assert_str_eq(scell(by, 0, "group"), "tp0");
  pd_table_free(all);
  pd_table_free(by);
  pd_funnel_spec_free(s);
  pd_store_close(st);
  pd_test_rmdir(dir);
  g_free(dir);
}
END_TEST

START_TEST(store_empty) {
  char *dir = pd_test_tmpdir("empty");
  pd_store *st = pd_test_open(dir, 1);
  pd_funnel_spec *s = spec_of("AB", 10, PD_FUNNEL_DEFAULT);
  pd_table *t = NULL;
  PD_CHECK(pd_funnel_run(st, s, NULL, &t));
  ck_assert_int_eq(pd_table_n_rows(t), 2);
  ck_assert_int_eq(icell(t, 0, "users"), 0);
  ck_assert_int_eq(icell(t, 1, "users"), 0);
  pd_table_free(t);
  pd_funnel_spec_free(s);
  pd_store_close(st);
  pd_test_rmdir(dir);
  g_free(dir);
}
END_TEST

Suite *funnel_suite(void);
Suite *funnel_suite(void) {
  Suite *s = suite_create("funnel");
  TCase *tc = tcase_create("modes");
  tcase_add_test(tc, default_basic);
  tcase_add_test(tc, default_window_boundary);
  tcase_add_test(tc, default_equal_timestamps);
  tcase_add_test(tc, default_repeats_and_restart);
  tcase_add_test(tc, default_one_event_several_steps);
  tcase_add_test(tc, strict_order);
  tcase_add_test(tc, strict_deduplication);
  tcase_add_test(tc, strict_increase);
  tcase_add_test(tc, strict_once);
  tcase_add_test(tc, unordered);
  tcase_add_test(tc, exclusions);
  tcase_add_test(tc, predicates);
  tcase_add_test(tc, parsing);
  suite_add_tcase(s, tc);
  TCase *tt = tcase_create("tables");
  tcase_add_test(tt, table_counts_and_times);
  tcase_add_test(tt, table_empty);
  tcase_add_test(tt, breakdowns);
  tcase_add_test(tt, trend_per_entry_period);
  tcase_add_test(tt, quantiles_by_selection);
  suite_add_tcase(s, tt);
  TCase *ta = tcase_create("agreement");
  tcase_set_timeout(ta, 300);
  tcase_add_test(ta, agreement_generated);
  tcase_add_test(ta, store_breakdown_names);
  tcase_add_test(ta, store_empty);
  suite_add_tcase(s, ta);
  /* The 100k-user store agreement runs as its own meson test (suite slow,
   * see tests/meson.build): under the sanitizers it takes minutes. */
  if (getenv("PD_SLOW_TESTS")) {
    TCase *slow = tcase_create("slow");
    tcase_set_timeout(slow, 1200);
    tcase_add_test(slow, store_agreement_100k);
    suite_add_tcase(s, slow);
  }
  return s;
}

int main(void) {
  SRunner *sr = srunner_create(funnel_suite());
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
