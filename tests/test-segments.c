/* Tags and segments: ingest of user,tag files, segment definitions and
 * their predicate language, evaluation, and the segment filter and
 * breakdown of each analysis. */
#include <math.h>
#include <zlib.h>

#include "pd_internal.h"
#include "testutil.h"

static char *tmp; /* scratch directory of the current test */
static pd_store *pd_writer_store_for_test;

static void setup(void) { tmp = pd_test_tmpdir("seg"); g_mkdir_with_parents(tmp, 0700); }
static void teardown(void) {
  pd_test_rmdir(tmp);
  g_free(tmp);
}

static char *path_in(const char *name) { return g_build_filename(tmp, name, NULL); }

static char *write_file(const char *name, const char *text) {
  char *p = path_in(name);
  ck_assert(g_file_set_contents(p, text, -1, NULL));
  return p;
}

static char *write_gz(const char *name, const char *text) {
  char *p = path_in(name);
  gzFile f = gzopen(p, "wb");
  ck_assert_ptr_nonnull(f);
  ck_assert_int_eq(gzwrite(f, text, (unsigned)strlen(text)), (int)strlen(text));
  ck_assert_int_eq(gzclose(f), Z_OK);
  return p;
}

static uint32_t user_of(pd_store *s, const char *name) {
  uint32_t u = PD_NONE;
  PD_CHECK(pd_store_find_user(s, name, &u));
  return u;
}

static uint64_t tag_count(pd_store *s, const char *tag) {
  pd_userset *set = NULL;
  if (pd_userset_from_tag(&set, s, tag) != PD_OK) return UINT64_MAX;
  uint64_t n = pd_userset_count(set);
  pd_userset_free(set);
  return n;
}

static int has_tag(pd_store *s, const char *user, const char *tag) {
  uint32_t t;
  if (pd_store_find_tag(s, tag, &t) != PD_OK) return 0;
  return pd_store_user_has_tag(s, user_of(s, user), t);
}

/* Users u1..u3, u2 also known as "phone-2". */
static pd_store *three_users(pd_writer **w) {
  char *dir = path_in("store");
  pd_store *s = pd_test_open(dir, 1);
  g_free(dir);
  PD_CHECK(pd_writer_open(w, s));
  uint32_t u;
  PD_CHECK(pd_writer_user(*w, "u1", &u));
  PD_CHECK(pd_writer_user(*w, "u2", &u));
  PD_CHECK(pd_writer_alias(*w, u, "phone-2"));
  PD_CHECK(pd_writer_user(*w, "u3", &u));
  PD_CHECK(pd_writer_commit(*w));
  return s;
}

/* ---- tag ingest ----------------------------------------------------------- */

START_TEST(tag_ingest_formats) {
  pd_writer *w;
  pd_store *s = three_users(&w);
  char *csv = write_file("t.csv", "\xEF\xBB\xBFuser,Tag\r\nu1,vip\r\nphone-2,vip\r\nu3,\"churn, risk\"\r\nu1,vip\r\n\r\n");
  pd_ingest_result r = PD_INGEST_RESULT_INIT;
  PD_CHECK(pd_ingest_tags(w, csv, NULL, 0, &r));
  ck_assert_uint_eq(r.rows_read, 4);
  ck_assert_uint_eq(r.rows_committed, 4);
  ck_assert_uint_eq(tag_count(s, "vip"), 2); /* u1 twice is one membership */
  ck_assert(has_tag(s, "u2", "vip") && has_tag(s, "phone-2", "vip") && !has_tag(s, "u3", "vip"));
  ck_assert_uint_eq(tag_count(s, "churn, risk"), 1);
  /* TSV in gzip, a renamed user column, escapes decoded. */
  char *tsv = write_gz("t.tsv.gz", "tag\tcustomer\nwave\\t1\tu3\nwave\\t1\tu1\n");
  pd_ingest_options o = PD_INGEST_OPTIONS_INIT;
  o.col_user = "customer";
  PD_CHECK(pd_ingest_tags(w, tsv, &o, 0, NULL));
  ck_assert_uint_eq(tag_count(s, "wave\t1"), 2);
  /* JSON Lines. */
  char *jl = write_file("t.jsonl", "{\"user\":\"u2\",\"tag\":\"app\"}\n");
  PD_CHECK(pd_ingest_tags(w, jl, NULL, 0, NULL));
  ck_assert(has_tag(s, "u2", "app"));
  pd_writer_close(w);
  pd_store_close(s);
  /* Durable: a fresh handle sees the same tags. */
  char *dir = path_in("store");
  s = pd_test_open(dir, 0);
  ck_assert_uint_eq(tag_count(s, "vip"), 2);
  ck_assert_uint_eq(tag_count(s, "wave\t1"), 2);
  ck_assert_uint_eq(pd_store_n_users(s), 3);
  pd_store_close(s);
  g_free(dir);
  g_free(csv);
  g_free(tsv);
  g_free(jl);
}
END_TEST

START_TEST(tag_ingest_unknown_users) {
  pd_writer *w;
  pd_store *s = three_users(&w);
  char *ok = write_file("ok.csv", "user,tag\nu1,vip\n");
  PD_CHECK(pd_ingest_tags(w, ok, NULL, 0, NULL));
  /* Strict: the unknown user on line 4 fails the file, nothing of it stays,
   * the earlier file's tag stays. */
  char *bad = write_file("bad.csv", "user,tag\nu2,vip\nu3,new\n  ghost,vip\n");
  ck_assert_int_eq(pd_ingest_tags(w, bad, NULL, 0, NULL), PD_ERR_PARSE);
  char *want = g_strdup_printf("%s:4:1: expected a known user (external id or alias), got \"  ghost\"", bad);
  ck_assert_str_eq(pd_last_error(), want);
  g_free(want);
  ck_assert_uint_eq(tag_count(s, "vip"), 1);
  ck_assert_uint_eq(tag_count(s, "new"), UINT64_MAX); /* the tag created by the failed file is gone */
  ck_assert_uint_eq(pd_store_n_users(s), 3);
  /* create_users: the unknown user is created and tagged. */
  pd_ingest_result r = PD_INGEST_RESULT_INIT;
  PD_CHECK(pd_ingest_tags(w, bad, NULL, 1, &r));
  ck_assert_uint_eq(r.rows_committed, 3);
  ck_assert_uint_eq(pd_store_n_users(s), 4);
  ck_assert(has_tag(s, "  ghost", "vip"));
  ck_assert_uint_eq(tag_count(s, "vip"), 3);
  /* Lenient: unknown users go to the rejects, the rest commits. */
  char *rej = path_in("rejects.csv");
  char *mixed = write_file("mixed.csv", "user,tag\nnobody,x\nu3,x\n");
  pd_ingest_options o = PD_INGEST_OPTIONS_INIT;
  o.lenient = 1;
  o.rejects_path = rej;
  r = (pd_ingest_result)PD_INGEST_RESULT_INIT;
  PD_CHECK(pd_ingest_tags(w, mixed, &o, 0, &r));
  ck_assert_uint_eq(r.rows_rejected, 1);
  ck_assert_uint_eq(r.rows_committed, 1);
  ck_assert_uint_eq(tag_count(s, "x"), 1);
  char *text = NULL;
  ck_assert(g_file_get_contents(rej, &text, NULL, NULL));
  ck_assert_ptr_nonnull(strstr(text, "mixed.csv:2:1: expected a known user"));
  ck_assert_ptr_nonnull(strstr(text, "\"nobody,x\""));
  g_free(text);
  pd_writer_close(w);
  pd_store_close(s);
  g_free(ok);
  g_free(bad);
  g_free(rej);
  g_free(mixed);
}
END_TEST

/* Malformed files: each message names file, line and column; nothing of
 * the file is committed; what was committed before stays. */
START_TEST(tag_ingest_malformed) {
  pd_writer *w;
  pd_store *s = three_users(&w);
  char *ok = write_file("ok.csv", "user,tag\nu1,keep\n");
  PD_CHECK(pd_ingest_tags(w, ok, NULL, 0, NULL));
  static const struct {
    const char *text, *where, *what;
  } cases[] = {
      {"user,label\nu1,a\n", ":1:1:", "expected a column named \"tag\" in the header"},
      {"id,tag\nu1,a\n", ":1:1:", "expected a column named \"user\" in the header"},
      {"user,tag\nu1,a\nu2\n", ":3:3:", "expected 2 fields, got 1"},
      {"user,tag\nu1,a\nu2,b,c\n", ":3:6:", "expected 2 fields, got 3"},
      {"user,tag\nu1,a\nu2,\n", ":3:4:", "expected a tag name, got \"\""},
      {"user,tag\nu1,a\n,b\n", ":3:1:", "expected a user id, got \"\""},
      {"user,tag\nu1,a\nu2,\"b\n", ":3:4:", "expected"},
      {"user,tag\nu1,a\nu2,b\xff\n", ":3:4:", "expected UTF-8 text"},
      {"", ":1:1:", "expected a header line"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    char name[32];
    snprintf(name, sizeof name, "m%zu.csv", i);
    char *p = write_file(name, cases[i].text);
    ck_assert_int_eq(pd_ingest_tags(w, p, NULL, 0, NULL), PD_ERR_PARSE);
    char *loc = g_strconcat(p, cases[i].where, NULL);
    ck_assert_msg(strncmp(pd_last_error(), loc, strlen(loc)) == 0, "case %zu: %s", i, pd_last_error());
    ck_assert_msg(strstr(pd_last_error(), cases[i].what), "case %zu: %s", i, pd_last_error());
    g_free(loc);
    g_free(p);
    ck_assert_uint_eq(tag_count(s, "a"), UINT64_MAX);
    ck_assert_uint_eq(tag_count(s, "keep"), 1);
  }
  /* A missing file and a truncated gzip. */
  char *missing = path_in("none.csv");
  ck_assert_int_eq(pd_ingest_tags(w, missing, NULL, 0, NULL), PD_ERR_IO);
  g_free(missing);
  char *gz = write_gz("cut.csv.gz", "user,tag\nu1,a\nu2,a\nu3,a\n");
  char *data = NULL;
  gsize len = 0;
  ck_assert(g_file_get_contents(gz, &data, &len, NULL));
  ck_assert(g_file_set_contents(gz, data, (gssize)(len - 6), NULL));
  g_free(data);
  ck_assert_int_eq(pd_ingest_tags(w, gz, NULL, 0, NULL), PD_ERR_CORRUPT);
  ck_assert_uint_eq(tag_count(s, "a"), UINT64_MAX);
  g_free(gz);
  pd_writer_close(w);
  pd_store_close(s);
  g_free(ok);
}
END_TEST


/* ---- segment expressions -------------------------------------------------- */

#define DAY INT64_C(86400000)
#define T0 INT64_C(1709251200000) /* 2024-03-01T00:00:00Z */

static void ev(pd_writer *w, const char *user, uint32_t type, int64_t day, const char *tp, int64_t amount) {
  pd_event e = {T0 + day * DAY, 0, type, PD_NONE, PD_NONE, amount};
  PD_CHECK(pd_writer_user(w, user, &e.user));
  if (tp) PD_CHECK(pd_store_find_touchpoint(pd_writer_store_for_test, tp, &e.touchpoint));
  PD_CHECK(pd_writer_append(w, &e));
}

/* a: acquired via ad (public) day 0, purchases 50.00 (day 1) and 70.00
 *    (day 10), refund 20.00 (day 11): revenue 10000, purchases 2, last day 11;
 * b: acquired via group (private) day 0, purchase 200.00 day 2: last day 2;
 * c: visit day 5, invite day 20, no acquire;
 * d: acquired via group day 3, purchase 1.00 day 30 (the latest event);
 * e: no events. Tags: vip = {a, b}, churned = {c}. */
static pd_store *shop(void) {
  char *dir = path_in("shop");
  pd_store *s = pd_test_open(dir, 1);
  g_free(dir);
  pd_writer *w;
  PD_CHECK(pd_writer_open(&w, s));
  pd_writer_store_for_test = s;
  pd_touchpoint_def ad = PD_TOUCHPOINT_DEF_INIT, group = PD_TOUCHPOINT_DEF_INIT;
  ad.name = "ad";
  ad.domain = PD_DOMAIN_PUBLIC;
  group.name = "group";
  group.domain = PD_DOMAIN_PRIVATE;
  uint32_t id;
  PD_CHECK(pd_writer_touchpoint(w, &ad, &id));
  PD_CHECK(pd_writer_touchpoint(w, &group, &id));
  ev(w, "a", PD_EV_ACQUIRE, 0, "ad", 0);
  ev(w, "a", PD_EV_PURCHASE, 1, NULL, 5000);
  ev(w, "a", PD_EV_PURCHASE, 10, NULL, 7000);
  ev(w, "a", PD_EV_REFUND, 11, NULL, 2000);
  ev(w, "b", PD_EV_ACQUIRE, 0, "group", 0);
  ev(w, "b", PD_EV_PURCHASE, 2, "group", 20000);
  ev(w, "c", PD_EV_VISIT, 5, NULL, 0);
  ev(w, "c", PD_EV_INVITE, 20, NULL, 0);
  ev(w, "d", PD_EV_ACQUIRE, 3, "group", 0);
  ev(w, "d", PD_EV_PURCHASE, 30, NULL, 100);
  PD_CHECK(pd_writer_user(w, "e", &id));
  PD_CHECK(pd_writer_commit(w));
  uint32_t a = user_of(s, "a"), b = user_of(s, "b"), c = user_of(s, "c");
  PD_CHECK(pd_writer_tag(w, a, "vip"));
  PD_CHECK(pd_writer_tag(w, b, "vip"));
  PD_CHECK(pd_writer_tag(w, c, "churned"));
  PD_CHECK(pd_writer_commit(w));
  pd_writer_close(w);
  return s;
}

/* The members of a set as a string of user names, in id order. */
static char *members(pd_store *s, const pd_userset *set) {
  GString *g = g_string_new("");
  for (uint32_t u = 0; u < pd_store_n_users(s); u++)
    if (pd_userset_contains(set, u)) g_string_append(g, pd_store_user_name(s, u));
  return g_string_free(g, FALSE);
}

static char *eval_expr(pd_store *s, const char *expr, const pd_segment_options *o) {
  pd_userset *set = NULL;
  pd_status st = pd_segment_eval_expr(s, expr, o, &set);
  ck_assert_msg(st == PD_OK, "%s: %s", expr, pd_last_error());
  char *m = members(s, set);
  pd_userset_free(set);
  return m;
}

START_TEST(segment_eval) {
  pd_store *s = shop();
  static const struct {
    const char *expr, *want;
  } cases[] = {
      {"revenue >= 10000", "ab"},
      {"revenue > 10000", "b"},
      {"REVENUE = 0", "ce"},
      {"purchases >= 2", "a"},
      {"events = 0", "e"},
      {"invites > 0", "c"},
      {"last_event_days <= 20", "acd"}, /* a 19, b 28, c 10, d 0, e none */
      {"last_event_days > 20", "b"},
      {"first_event_days >= 30", "ab"}, /* a 30, b 30, c 25, d 27 */
      {"acquired_via = group", "bd"},
      {"acquired_via != group", "a"}, /* c and e have no acquisition */
      {"acquired_via == \"ad\"", "a"},
      {"domain = private", "bd"},
      {"domain != private", "a"},
      {"not (domain = private)", "ace"},
      {"vip", "ab"},
      {"\"vip\"", "ab"},
      {"vip and not churned", "ab"},
      {"vip or churned and purchases >= 1", "ab"},
      {"(vip or churned) and last_event_days < 20", "ac"},
      {"!vip && !churned", "de"},
      {"vip || churned", "abc"},
      {"not not vip", "ab"},
      {"revenue >= -5 and revenue <= 0", "ce"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    char *m = eval_expr(s, cases[i].expr, NULL);
    ck_assert_msg(strcmp(m, cases[i].want) == 0, "%s: got %s, want %s", cases[i].expr, m, cases[i].want);
    g_free(m);
  }
  /* as_of moves the *_days metrics: at day 40, a 29, b 38, c 20, d 10. */
  pd_segment_options o = PD_SEGMENT_OPTIONS_INIT;
  o.as_of_ms = T0 + 40 * DAY;
  o.threads = 2;
  char *m = eval_expr(s, "last_event_days <= 20", &o);
  ck_assert_str_eq(m, "cd");
  g_free(m);
  /* Unknown tags and touchpoints are errors at evaluation. */
  pd_userset *set = NULL;
  ck_assert_int_eq(pd_segment_eval_expr(s, "vip or gold", NULL, &set), PD_ERR_NOT_FOUND);
  ck_assert_str_eq(pd_last_error(), "column 8: no segment or tag \"gold\" in the store");
  ck_assert_int_eq(pd_segment_eval_expr(s, "acquired_via = tv", NULL, &set), PD_ERR_NOT_FOUND);
  ck_assert_ptr_nonnull(strstr(pd_last_error(), "no touchpoint \"tv\""));
  ck_assert_ptr_null(set);
  pd_store_close(s);
}
END_TEST

/* A name in an expression is a stored segment before a tag: big = {a, b}
 * (revenue >= 10000), "big and not vip" = {}, "big or churned" = {a, b, c};
 * a segment named like a tag hides the tag; cycles are refused. */
START_TEST(segment_names_segments) {
  pd_store *s = shop();
  PD_CHECK(pd_segment_define(s, "big", "revenue >= 10000"));
  PD_CHECK(pd_segment_define(s, "bigger", "big and purchases >= 2"));
  char *m = eval_expr(s, "big or churned", NULL);
  ck_assert_str_eq(m, "abc");
  g_free(m);
  m = eval_expr(s, "big and not vip", NULL);
  ck_assert_str_eq(m, "");
  g_free(m);
  m = eval_expr(s, "bigger", NULL);
  ck_assert_str_eq(m, "a");
  g_free(m);
  PD_CHECK(pd_segment_define(s, "churned", "invites > 0 or events = 0")); /* hides the tag churned = {c} */
  m = eval_expr(s, "churned", NULL);
  ck_assert_str_eq(m, "ce");
  g_free(m);
  PD_CHECK(pd_segment_define(s, "loop1", "loop2 or vip"));
  PD_CHECK(pd_segment_define(s, "loop2", "loop1"));
  pd_userset *set = NULL;
  ck_assert_int_eq(pd_segment_eval(s, "loop1", NULL, &set), PD_ERR_INVALID);
  ck_assert_ptr_nonnull(strstr(pd_last_error(), "(a cycle?)"));
  ck_assert_ptr_null(set);
  ck_assert_int_eq(pd_segment_eval_expr(s, "bigger and gold", NULL, &set), PD_ERR_NOT_FOUND);
  ck_assert_str_eq(pd_last_error(), "column 12: no segment or tag \"gold\" in the store");
  pd_store_close(s);
}
END_TEST

START_TEST(segment_parse_errors) {
  static const struct {
    const char *expr, *msg;
  } cases[] = {
      {"", "column 1: expected a tag, a comparison, \"not\" or \"(\", got end of expression"},
      {"revenue >=", "column 11: expected an integer, got end of expression"},
      {"revenue >= ten", "column 12: expected an integer, got \"ten\""},
      {"revenue >= 99999999999999999999", "column 12: expected an integer, got \"99999999999999999999\""},
      {"vip and", "column 8: expected a tag, a comparison, \"not\" or \"(\", got end of expression"},
      {"(vip or new", "column 12: expected and, or or \")\", got end of expression"},
      {"vip)", "column 4: expected and, or or the end of the expression, got \")\""},
      {"vip new", "column 5: expected and, or or the end of the expression, got \"new\""},
      {"spend > 3", "column 1: expected a metric before the operator (revenue, purchases, events, invites, "
                    "last_event_days, first_event_days, acquired_via or domain), got \"spend\""},
      {"domain < private", "column 8: expected = or != after domain, got \"<\""},
      {"domain = cloud", "column 10: expected a domain (public, private, semi or unknown), got \"cloud\""},
      {"acquired_via = (", "column 16: expected a touchpoint name, got \"(\""},
      {"\"vip", "column 1: expected a closing '\"', got \"\\\"vip\""},
      {"vip $ x", "column 5: expected and, or or the end of the expression, got \"$\""},
      {"客户 and 会员 or", "column 13: expected a tag, a comparison, \"not\" or \"(\", got end of expression"},
      {"not", "column 4: expected a tag, a comparison, \"not\" or \"(\", got end of expression"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    ck_assert_int_eq(pd_segment_check(cases[i].expr), PD_ERR_PARSE);
    ck_assert_msg(strcmp(pd_last_error(), cases[i].msg) == 0, "%s:\n got  %s\n want %s", cases[i].expr,
                  pd_last_error(), cases[i].msg);
  }
  /* Deep nesting is an error, not a stack overflow. */
  GString *deep = g_string_new("");
  for (int i = 0; i < 5000; i++) g_string_append(deep, "(");
  ck_assert_int_eq(pd_segment_check(deep->str), PD_ERR_PARSE);
  ck_assert_ptr_nonnull(strstr(pd_last_error(), "nested at most 200 deep"));
  g_string_free(deep, TRUE);
  PD_CHECK(pd_segment_check("客户 and (会员 or \"spring sale\") and not rfm:lost and revenue != 0"));
}
END_TEST

static char *table_text(const pd_table *t) {
  char *text = NULL;
  PD_CHECK(pd_table_format(t, PD_FORMAT_CSV, &text, NULL));
  char *copy = g_strdup(text);
  pd_free(text);
  return copy;
}

START_TEST(segment_definitions) {
  pd_store *s = shop();
  PD_CHECK(pd_segment_define(s, "big", "revenue >= 10000"));
  PD_CHECK(pd_segment_define(s, "active", "last_event_days <= 20"));
  PD_CHECK(pd_segment_define(s, "big", "revenue > 10000")); /* replaces */
  ck_assert_int_eq(pd_segment_define(s, "two words", "vip"), PD_ERR_INVALID);
  ck_assert_int_eq(pd_segment_define(s, "bad", "revenue >= x"), PD_ERR_PARSE);
  ck_assert_str_eq(pd_last_error(), "segment bad: column 12: expected an integer, got \"x\"");
  pd_table *t = NULL;
  PD_CHECK(pd_store_segments(s, &t));
  char *csv = table_text(t);
  ck_assert_str_eq(csv, "segment,expr\nactive,last_event_days <= 20\nbig,revenue > 10000\n");
  g_free(csv);
  pd_table_free(t);
  char *expr = NULL;
  PD_CHECK(pd_segment_get(s, "active", &expr));
  ck_assert_str_eq(expr, "last_event_days <= 20");
  pd_free(expr);
  ck_assert_int_eq(pd_segment_get(s, "nope", &expr), PD_ERR_NOT_FOUND);
  /* By name: a segment, else a tag. */
  pd_userset *set = NULL;
  PD_CHECK(pd_segment_eval(s, "big", NULL, &set));
  char *m = members(s, set);
  ck_assert_str_eq(m, "b");
  g_free(m);
  pd_userset_free(set);
  PD_CHECK(pd_segment_eval(s, "churned", NULL, &set));
  ck_assert_uint_eq(pd_userset_count(set), 1);
  pd_userset_free(set);
  ck_assert_int_eq(pd_segment_eval(s, "nope", NULL, &set), PD_ERR_NOT_FOUND);
  PD_CHECK(pd_segment_drop(s, "active"));
  ck_assert_int_eq(pd_segment_drop(s, "active"), PD_ERR_NOT_FOUND);
  /* Another handle's writer holds the lock. */
  char *dir = path_in("shop");
  pd_store *s2 = pd_test_open(dir, 0);
  pd_writer *w2;
  PD_CHECK(pd_writer_open(&w2, s2));
  ck_assert_int_eq(pd_segment_define(s, "x", "vip"), PD_ERR_LOCKED);
  PD_CHECK(pd_segment_define(s2, "x", "vip")); /* through the open writer */
  pd_writer_close(w2);
  pd_store_close(s2);
  pd_store_close(s);
  /* Durable, seen by a new handle; read-only handles read but do not write. */
  pd_store_options ro = PD_STORE_OPTIONS_INIT;
  ro.read_only = 1;
  PD_CHECK(pd_store_open(&s, dir, &ro));
  PD_CHECK(pd_store_segments(s, &t));
  csv = table_text(t);
  ck_assert_str_eq(csv, "segment,expr\nbig,revenue > 10000\nx,vip\n");
  g_free(csv);
  pd_table_free(t);
  ck_assert_int_eq(pd_segment_define(s, "y", "vip"), PD_ERR_READONLY);
  pd_store_close(s);
  /* A flipped byte is reported, never read. */
  char *file = g_build_filename(dir, "SEGMENTS", NULL);
  char *data = NULL;
  gsize len = 0;
  ck_assert(g_file_get_contents(file, &data, &len, NULL));
  data[20] ^= 1;
  ck_assert(g_file_set_contents(file, data, (gssize)len, NULL));
  s = pd_test_open(dir, 0);
  ck_assert_int_eq(pd_store_segments(s, &t), PD_ERR_CORRUPT);
  ck_assert_ptr_nonnull(strstr(pd_last_error(), "SEGMENTS: checksum mismatch"));
  /* A newer version is refused. */
  data[20] ^= 1;
  data[8] = 9;
  ck_assert(g_file_set_contents(file, data, (gssize)len, NULL));
  ck_assert_int_eq(pd_store_segments(s, &t), PD_ERR_VERSION);
  pd_store_close(s);
  g_free(data);
  g_free(file);
  g_free(dir);
}
END_TEST

/* A breakdown callback: one row, the number of users in the set. */
static pd_status count_users(void *ctx, const pd_userset *users, pd_table **out) {
  (void)ctx;
  pd_table *t = pd__table_new("count");
  pd__table_add_col(t, "users", PD_TYPE_INT64);
  pd__table_add_col(t, "note", PD_TYPE_STRING);
  size_t r = pd__table_add_row(t);
  pd__table_set_int64(t, r, 0, (int64_t)pd_userset_count(users));
  return pd__table_finish(t, out);
}

START_TEST(segment_breakdown) {
  pd_store *s = shop();
  PD_CHECK(pd_segment_define(s, "big", "revenue >= 10000"));
  const char *names[] = {"big", "churned", "vip"};
  pd_table *t = NULL;
  PD_CHECK(pd_segment_breakdown(s, names, 3, NULL, count_users, NULL, &t));
  char *csv = table_text(t);
  ck_assert_str_eq(csv, "segment,users,note\nbig,2,\nchurned,1,\nvip,2,\n");
  g_free(csv);
  pd_table_free(t);
  const char *bad[] = {"big", "nope"};
  ck_assert_int_eq(pd_segment_breakdown(s, bad, 2, NULL, count_users, NULL, &t), PD_ERR_NOT_FOUND);
  pd_store_close(s);
}
END_TEST

/* ---- segment filter of every analysis ------------------------------------- */

static uint32_t lcg(uint32_t *x) {
  *x = *x * 1103515245u + 12345u;
  return (*x >> 16) & 0x7fff;
}

#define WORLD_USERS 48

/* A pseudo-random little business: 48 users w00..w47 created in that order
 * (so ids match across stores), acquisitions on days 0..19 via ad, group
 * or nothing, some with a referrer, then up to 7 events of assorted types
 * (purchases 1.00..200.00, refunds, invites, member joins, stored value).
 * in[i] chooses whose events are written: a store of only those users.
 * Compacted. */
static pd_store *world(const char *name, const bool *in) {
  char *dir = path_in(name);
  pd_store *s = pd_test_open(dir, 1);
  g_free(dir);
  pd_writer *w;
  PD_CHECK(pd_writer_open(&w, s));
  pd_touchpoint_def ad = PD_TOUCHPOINT_DEF_INIT, group = PD_TOUCHPOINT_DEF_INIT;
  ad.name = "ad";
  ad.domain = PD_DOMAIN_PUBLIC;
  ad.daily_spend = 10000;
  group.name = "group";
  group.domain = PD_DOMAIN_PRIVATE;
  uint32_t tps[3] = {PD_NONE, PD_NONE, PD_NONE}, ids[WORLD_USERS];
  PD_CHECK(pd_writer_touchpoint(w, &ad, &tps[0]));
  PD_CHECK(pd_writer_touchpoint(w, &group, &tps[1]));
  for (int i = 0; i < WORLD_USERS; i++) {
    char n[8];
    snprintf(n, sizeof n, "w%02d", i);
    PD_CHECK(pd_writer_user(w, n, &ids[i]));
  }
  static const uint32_t types[] = {PD_EV_ACTIVATE, PD_EV_VISIT, PD_EV_PURCHASE, PD_EV_PURCHASE, PD_EV_REFUND,
                                   PD_EV_INVITE, PD_EV_MEMBER_JOIN, PD_EV_STORED_VALUE, PD_EV_MESSAGE_OPEN};
  uint32_t x = 7;
  for (int i = 0; i < WORLD_USERS; i++) {
    int64_t d0 = lcg(&x) % 20;
    pd_event e = {T0 + d0 * DAY + (int64_t)(lcg(&x) % 1000) * 60000, ids[i], PD_EV_ACQUIRE, tps[lcg(&x) % 3], PD_NONE, 0};
    if (i >= 4 && lcg(&x) % 3 == 0) e.referrer = ids[lcg(&x) % (uint32_t)i];
    if (in[i]) PD_CHECK(pd_writer_append(w, &e));
    int k = (int)(lcg(&x) % 8);
    for (int j = 0; j < k; j++) {
      uint32_t ty = types[lcg(&x) % (sizeof types / sizeof *types)];
      pd_event f = {T0 + (d0 + (int64_t)(lcg(&x) % 45)) * DAY + (int64_t)(lcg(&x) % 1440) * 60000, ids[i], ty,
                    lcg(&x) % 2 ? tps[lcg(&x) % 2] : PD_NONE, PD_NONE, 0};
      if (ty == PD_EV_PURCHASE) f.amount = 100 + (int64_t)(lcg(&x) % 200) * 100;
      if (ty == PD_EV_REFUND) f.amount = 50 + (int64_t)(lcg(&x) % 10) * 100;
      if (in[i]) PD_CHECK(pd_writer_append(w, &f));
    }
  }
  PD_CHECK(pd_writer_commit(w));
  pd_writer_close(w);
  PD_CHECK(pd_store_compact(s));
  return s;
}

/* Every analysis as text (CSV of all its tables), filtered to `users`
 * (NULL: all), with fixed options. Observation ends are given (T_OBS):
 * by default a filtered analysis is observed to the whole store's end
 * (see filter_keeps_store_end), a store of fewer users may end earlier. */
#define T_OBS (T0 + 70 * DAY)
typedef char *(*analysis_fn)(pd_store *s, const pd_userset *users);

static char *tables_text(pd_table **t, size_t n) {
  GString *g = g_string_new("");
  for (size_t i = 0; i < n; i++) {
    char *x = table_text(t[i]);
    g_string_append(g, x);
    g_string_append(g, "--\n");
    g_free(x);
    pd_table_free(t[i]);
  }
  return g_string_free(g, FALSE);
}

static char *a_funnel(pd_store *s, const pd_userset *users) {
  pd_funnel_spec *sp;
  PD_CHECK(pd_funnel_spec_new(&sp));
  const uint32_t steps[] = {PD_EV_ACQUIRE, PD_EV_ACTIVATE, PD_EV_PURCHASE};
  for (int i = 0; i < 3; i++) {
    pd_funnel_pred q = PD_FUNNEL_PRED_INIT;
    q.event_type = steps[i];
    PD_CHECK(pd_funnel_spec_add_step(sp, &q, NULL));
  }
  PD_CHECK(pd_funnel_spec_set_window(sp, 20 * DAY));
  PD_CHECK(pd_funnel_spec_set_breakdown(sp, PD_FUNNEL_BY_ACQ_TOUCHPOINT, PD_PERIOD_DAY, NULL));
  pd_scan_options so = PD_SCAN_OPTIONS_INIT;
  so.users = users;
  pd_table *t[1];
  PD_CHECK(pd_funnel_run(s, sp, &so, &t[0]));
  pd_funnel_spec_free(sp);
  return tables_text(t, 1);
}

static char *a_stages(pd_store *s, const pd_userset *users) {
  pd_stage_options o = PD_STAGE_OPTIONS_INIT;
  o.from_ms = T0 + 14 * DAY;
  o.to_ms = T0 + 28 * DAY;
  o.users = users;
  pd_table *t[1];
  PD_CHECK(pd_stage_report(s, &o, &t[0]));
  return tables_text(t, 1);
}

static char *a_retention(pd_store *s, const pd_userset *users) {
  pd_retention_options o = PD_RETENTION_OPTIONS_INIT;
  o.period = PD_PERIOD_WEEK;
  o.by = PD_RETENTION_BY_ACQ_DOMAIN;
  o.as_of_ms = T_OBS;
  pd_scan_options so = PD_SCAN_OPTIONS_INIT;
  so.users = users;
  pd_table *t[2];
  PD_CHECK(pd_retention_run(s, &o, &so, &t[0], NULL, &t[1]));
  return tables_text(t, 2);
}

static char *a_lifecycle(pd_store *s, const pd_userset *users) {
  pd_lifecycle_options o = PD_LIFECYCLE_OPTIONS_INIT;
  pd_scan_options so = PD_SCAN_OPTIONS_INIT;
  so.users = users;
  pd_table *t[1];
  PD_CHECK(pd_lifecycle_run(s, &o, &so, &t[0]));
  return tables_text(t, 1);
}

static char *a_stickiness(pd_store *s, const pd_userset *users) {
  pd_stickiness_options o = PD_STICKINESS_OPTIONS_INIT;
  o.per_period = 1;
  pd_scan_options so = PD_SCAN_OPTIONS_INIT;
  so.users = users;
  pd_table *t[1];
  PD_CHECK(pd_stickiness_run(s, &o, &so, &t[0]));
  return tables_text(t, 1);
}

static char *a_rfm(pd_store *s, const pd_userset *users) {
  pd_rfm_options o = PD_RFM_OPTIONS_INIT;
  o.calibration_end = T_OBS;
  o.users = users;
  pd_table *t[1];
  PD_CHECK(pd_rfm_from_store(s, &o, &t[0]));
  return tables_text(t, 1);
}

static char *a_ltv(pd_store *s, const pd_userset *users) {
  pd_ltv_options o = PD_LTV_OPTIONS_INIT;
  o.cohort_period = PD_PERIOD_WEEK;
  o.users = users;
  pd_table *t[3];
  PD_CHECK(pd_ltv_history(s, &o, &t[0], &t[1], &t[2]));
  return tables_text(t, 3);
}

static char *a_rfm_layers(pd_store *s, const pd_userset *users) {
  pd_rfm_layer_options o = PD_RFM_LAYER_OPTIONS_INIT;
  o.window_end = T_OBS;
  o.users = users;
  pd_table *t[3];
  PD_CHECK(pd_rfm_layers_from_store(s, &o, &t[0], &t[1], &t[2]));
  return tables_text(t, 3);
}

static char *a_membership(pd_store *s, const pd_userset *users) {
  pd_membership_options o = PD_MEMBERSHIP_OPTIONS_INIT;
  o.min_days = 1;
  o.end = T_OBS;
  o.users = users;
  pd_table *t[2];
  PD_CHECK(pd_membership_compare(s, &o, &t[0], &t[1]));
  return tables_text(t, 2);
}

static char *a_attribution(pd_store *s, const pd_userset *users) {
  pd_attribution_options o = PD_ATTRIBUTION_OPTIONS_INIT;
  pd_scan_options so = PD_SCAN_OPTIONS_INIT;
  so.users = users;
  pd_table *t[1];
  PD_CHECK(pd_attribution_run(s, &o, &so, &t[0]));
  return tables_text(t, 1);
}

/* Each filtered analysis equals the analysis of a store holding only the
 * filtered users (that is the definition, see each header), and differs
 * from the unfiltered one (the filter does something). */
START_TEST(filter_equals_subset_store) {
  bool all[WORLD_USERS], some[WORLD_USERS];
  uint32_t x = 99;
  for (int i = 0; i < WORLD_USERS; i++) all[i] = true, some[i] = lcg(&x) % 5 < 3;
  pd_store *full = world("full", all), *part = world("part", some);
  pd_userset *set;
  PD_CHECK(pd_userset_new(&set, full));
  uint64_t n = 0;
  for (int i = 0; i < WORLD_USERS; i++)
    if (some[i]) pd_userset_add(set, (uint32_t)i), n++;
  ck_assert_uint_gt(n, 10);
  ck_assert_uint_lt(n, WORLD_USERS - 10);
  static const struct {
    const char *name;
    analysis_fn fn;
  } analyses[] = {{"funnel", a_funnel},   {"stages", a_stages},         {"retention", a_retention},
                  {"lifecycle", a_lifecycle}, {"stickiness", a_stickiness}, {"rfm", a_rfm},
                  {"ltv", a_ltv},         {"rfm_layers", a_rfm_layers}, {"membership", a_membership},
                  {"attribution", a_attribution}};
  for (size_t i = 0; i < sizeof analyses / sizeof *analyses; i++) {
    char *filtered = analyses[i].fn(full, set), *subset = analyses[i].fn(part, NULL), *whole = analyses[i].fn(full, NULL);
    ck_assert_msg(strcmp(filtered, subset) == 0, "%s: filtered\n%s\nsubset store\n%s", analyses[i].name, filtered, subset);
    ck_assert_msg(strcmp(filtered, whole) != 0, "%s: the filter changed nothing", analyses[i].name);
    g_free(filtered);
    g_free(subset);
    g_free(whole);
  }
  /* An empty set: empty analyses, no failure. */
  pd_userset *none;
  PD_CHECK(pd_userset_new(&none, full));
  pd_table *t = NULL;
  pd_rfm_options ro = PD_RFM_OPTIONS_INIT;
  ro.users = none;
  PD_CHECK(pd_rfm_from_store(full, &ro, &t));
  ck_assert_uint_eq(pd_table_n_rows(t), 0);
  pd_table_free(t);
  pd_userset_free(none);
  pd_userset_free(set);
  pd_store_close(full);
  pd_store_close(part);
}
END_TEST

static double cell(const pd_table *t, size_t row, const char *col) {
  long ci = pd_table_col_index(t, col);
  ck_assert_msg(ci >= 0, "no column %s", col);
  size_t c = (size_t)ci;
  if (pd_table_is_null(t, row, c)) return NAN;
  return pd_table_col_type(t, c) == PD_TYPE_DOUBLE ? pd_table_get_double(t, row, c) : (double)pd_table_get_int64(t, row, c);
}

/* A filtered analysis is observed to the store's end, not to the segment's
 * own latest event: u1 buys on days 0 and 2, u2 (not in the segment) on
 * day 10. Filtered to u1: RFM T = 10 days (recency 2), RFM-layer R = 8
 * days, and retention and membership run to day 10, exactly as when that
 * end is given. (Observed only to day 2, u1 would look freshly active.) */
START_TEST(filter_keeps_store_end) {
  char *dir = path_in("ends");
  pd_store *s = pd_test_open(dir, 1);
  g_free(dir);
  pd_writer *w;
  PD_CHECK(pd_writer_open(&w, s));
  uint32_t u1, u2;
  PD_CHECK(pd_writer_user(w, "u1", &u1));
  PD_CHECK(pd_writer_user(w, "u2", &u2));
  const pd_event ev[] = {{T0, u1, PD_EV_ACQUIRE, PD_NONE, PD_NONE, 0},
                         {T0 + 3600000, u1, PD_EV_PURCHASE, PD_NONE, PD_NONE, 10000},
                         {T0 + 2 * DAY, u1, PD_EV_PURCHASE, PD_NONE, PD_NONE, 20000},
                         {T0 + DAY, u2, PD_EV_ACQUIRE, PD_NONE, PD_NONE, 0},
                         {T0 + 10 * DAY, u2, PD_EV_PURCHASE, PD_NONE, PD_NONE, 30000}};
  for (size_t i = 0; i < sizeof ev / sizeof *ev; i++) PD_CHECK(pd_writer_append(w, &ev[i]));
  PD_CHECK(pd_writer_commit(w));
  pd_writer_close(w);
  pd_userset *seg;
  PD_CHECK(pd_userset_new(&seg, s));
  pd_userset_add(seg, u1);

  pd_rfm_options ro = PD_RFM_OPTIONS_INIT;
  ro.users = seg;
  pd_table *t;
  PD_CHECK(pd_rfm_from_store(s, &ro, &t));
  ck_assert_uint_eq(pd_table_n_rows(t), 1);
  ck_assert_double_eq(cell(t, 0, "frequency"), 1);
  ck_assert_double_eq(cell(t, 0, "recency"), 2);
  ck_assert_double_eq(cell(t, 0, "T"), 10);
  pd_table_free(t);

  pd_rfm_layer_options lo = PD_RFM_LAYER_OPTIONS_INIT;
  lo.users = seg;
  PD_CHECK(pd_rfm_layers_from_store(s, &lo, &t, NULL, NULL));
  ck_assert_uint_eq(pd_table_n_rows(t), 1);
  ck_assert_double_eq(cell(t, 0, "recency"), 8);
  pd_table_free(t);

  /* retention (daily) and membership: the default equals the store's end given */
  for (int given = 0; given < 2; given++) {
    pd_retention_options o = PD_RETENTION_OPTIONS_INIT;
    o.period = PD_PERIOD_DAY;
    if (given) o.as_of_ms = T0 + 10 * DAY;
    pd_scan_options so = PD_SCAN_OPTIONS_INIT;
    so.users = seg;
    pd_table *r[1];
    PD_CHECK(pd_retention_run(s, &o, &so, &r[0], NULL, NULL));
    ck_assert_uint_eq(pd_table_n_rows(r[0]), 11); /* u1's cohort, k = 0..10 */
    pd_membership_options mo = PD_MEMBERSHIP_OPTIONS_INIT;
    mo.users = seg;
    if (given) mo.end = T0 + 10 * DAY;
    pd_table *m[1];
    PD_CHECK(pd_membership_compare(s, &mo, &m[0], NULL));
    static char *text[2][2];
    text[given][0] = tables_text(r, 1);
    text[given][1] = tables_text(m, 1);
    if (given)
      for (int k = 0; k < 2; k++) {
        ck_assert_str_eq(text[0][k], text[1][k]);
        g_free(text[0][k]);
        g_free(text[1][k]);
      }
  }
  pd_userset_free(seg);
  pd_store_close(s);
}
END_TEST

/* Options of a caller built before `users` existed (a smaller size) are
 * read as unfiltered, not refused. */
START_TEST(filter_old_option_sizes) {
  bool all[WORLD_USERS];
  for (int i = 0; i < WORLD_USERS; i++) all[i] = true;
  pd_store *s = world("full", all);
  pd_table *a = NULL, *b = NULL;
  pd_rfm_options o = PD_RFM_OPTIONS_INIT;
  PD_CHECK(pd_rfm_from_store(s, &o, &a));
  o.size = offsetof(pd_rfm_options, users);
  o.users = (const pd_userset *)(uintptr_t)1; /* beyond the size: never read */
  PD_CHECK(pd_rfm_from_store(s, &o, &b));
  char *x = table_text(a), *y = table_text(b);
  ck_assert_str_eq(x, y);
  g_free(x);
  g_free(y);
  pd_table_free(a);
  pd_table_free(b);
  pd_ltv_options lo = PD_LTV_OPTIONS_INIT;
  lo.size = offsetof(pd_ltv_options, users);
  PD_CHECK(pd_ltv_history(s, &lo, NULL, NULL, &a));
  pd_table_free(a);
  pd_membership_options mo = PD_MEMBERSHIP_OPTIONS_INIT;
  mo.size = offsetof(pd_membership_options, users);
  PD_CHECK(pd_membership_compare(s, &mo, &a, NULL));
  pd_table_free(a);
  pd_rfm_layer_options lay = PD_RFM_LAYER_OPTIONS_INIT;
  lay.size = offsetof(pd_rfm_layer_options, users);
  PD_CHECK(pd_rfm_layers_from_store(s, &lay, NULL, &a, NULL));
  pd_table_free(a);
  lay.size = sizeof(size_t);
  ck_assert_int_eq(pd_rfm_layers_from_store(s, &lay, NULL, &a, NULL), PD_ERR_INVALID);
  pd_store_close(s);
}
END_TEST


/* Funnel acquire -> purchase within 7 days on the shop (see shop()):
 * a reaches 2 (purchase after 1 day), b 2 (2 days), c never enters (no
 * acquire), d 1 (its purchase is 27 days later). By segment: vip = {a, b}:
 * 2, 2, mean time 1.5 days; churned = {c}: 0, 0; grp = {b, d}: 2, 1, time
 * 2 days; nobody = {}: 0, 0. A user in two segments (b) counts in both. */
START_TEST(funnel_by_segment) {
  pd_store *s = shop();
  pd_funnel_spec *sp;
  PD_CHECK(pd_funnel_spec_new(&sp));
  pd_funnel_pred q = PD_FUNNEL_PRED_INIT;
  q.event_type = PD_EV_ACQUIRE;
  PD_CHECK(pd_funnel_spec_add_step(sp, &q, "acquire"));
  q.event_type = PD_EV_PURCHASE;
  PD_CHECK(pd_funnel_spec_add_step(sp, &q, "purchase"));
  PD_CHECK(pd_funnel_spec_set_window(sp, 7 * DAY));
  PD_CHECK(pd_funnel_spec_set_breakdown(sp, PD_FUNNEL_BY_TAG, PD_PERIOD_DAY, NULL));
  pd_table *t = NULL;
  ck_assert_int_eq(pd_funnel_run(s, sp, NULL, &t), PD_ERR_INVALID); /* no segment yet */
  pd_userset *vip, *churned, *grp, *nobody;
  PD_CHECK(pd_segment_eval(s, "vip", NULL, &vip));
  PD_CHECK(pd_segment_eval(s, "churned", NULL, &churned));
  PD_CHECK(pd_segment_eval_expr(s, "acquired_via = group", NULL, &grp));
  PD_CHECK(pd_userset_new(&nobody, s));
  PD_CHECK(pd_funnel_spec_add_segment(sp, "vip", vip));
  PD_CHECK(pd_funnel_spec_add_segment(sp, "churned", churned));
  PD_CHECK(pd_funnel_spec_add_segment(sp, "grp", grp));
  PD_CHECK(pd_funnel_spec_add_segment(sp, "nobody", nobody));
  pd_userset_free(vip); /* the spec keeps copies */
  pd_userset_free(churned);
  pd_userset_free(grp);
  pd_userset_free(nobody);
  PD_CHECK(pd_funnel_run(s, sp, NULL, &t));
  char *csv = table_text(t);
  ck_assert_str_eq(csv,
                   "group,step,step_name,users,conv_prev,conv_first,dropoff,dropoff_rate,time_mean_ms,time_median_ms,"
                   "time_p90_ms,excluded\n"
                   "vip,1,acquire,2,,1,,,,,,0\n"
                   "vip,2,purchase,2,1,1,0,0,129600000,129600000,164160000,0\n"
                   "churned,1,acquire,0,,,,,,,,0\n"
                   "churned,2,purchase,0,,,0,,,,,0\n"
                   "grp,1,acquire,2,,1,,,,,,0\n"
                   "grp,2,purchase,1,0.5,0.5,1,0.5,172800000,172800000,172800000,0\n"
                   "nobody,1,acquire,0,,,,,,,,0\n"
                   "nobody,2,purchase,0,,,0,,,,,0\n");
  g_free(csv);
  pd_table_free(t);
  pd_funnel_spec_free(sp);
  pd_store_close(s);
}
END_TEST

/* Referral with a segment: r1 refers x1 and x2, x1 refers y1, r2 refers
 * z1; r1 sent 2 invites, x1 1, r2 1; y1 bought 30.00. The forest is the
 * whole forest; S = {r1, x1} describes r1 and x1 as referrers:
 * users 2, roots 1 (r1), referred = direct referees of r1 and x1 = 3
 * (x1, x2, y1), invites 3, i = 1.5, c = 1, K = 1.5, max depth 1 (x1),
 * revenue 0; unfiltered: users 6, roots 2, referred 4, K = 4/6. */
START_TEST(referral_segment) {
  char *dir = path_in("ref");
  pd_store *s = pd_test_open(dir, 1);
  g_free(dir);
  pd_writer *w;
  PD_CHECK(pd_writer_open(&w, s));
  const char *names[] = {"r1", "x1", "x2", "y1", "r2", "z1"};
  uint32_t id[6];
  for (int i = 0; i < 6; i++) PD_CHECK(pd_writer_user(w, names[i], &id[i]));
  const int parent[] = {-1, 0, 0, 1, -1, 4};
  for (int i = 0; i < 6; i++) {
    pd_event e = {T0 + i * DAY, id[i], PD_EV_ACQUIRE, PD_NONE, parent[i] < 0 ? PD_NONE : id[parent[i]], 0};
    PD_CHECK(pd_writer_append(w, &e));
  }
  const int inviter[] = {0, 0, 1, 4};
  for (int i = 0; i < 4; i++) {
    pd_event e = {T0 + 10 * DAY + i, id[inviter[i]], PD_EV_INVITE, PD_NONE, PD_NONE, 0};
    PD_CHECK(pd_writer_append(w, &e));
  }
  pd_event buy = {T0 + 12 * DAY, id[3], PD_EV_PURCHASE, PD_NONE, PD_NONE, 3000};
  PD_CHECK(pd_writer_append(w, &buy));
  PD_CHECK(pd_writer_commit(w));
  pd_writer_close(w);
  pd_userset *set;
  PD_CHECK(pd_userset_new(&set, s));
  pd_userset_add(set, id[0]);
  pd_userset_add(set, id[1]);
  pd_referral_options o = PD_REFERRAL_OPTIONS_INIT;
  o.users = set;
  pd_referral *r;
  PD_CHECK(pd_referral_run(s, &o, &r));
  pd_userset_free(set); /* borrowed for the call only */
  static const struct {
    const char *metric;
    double want;
  } want[] = {{"users", 2},    {"roots", 1}, {"referred", 3}, {"invites", 3},   {"i", 1.5}, {"c", 1},
              {"k", 1.5},      {"max_depth", 1}, {"revenue", 0}, {"cycle_time_n", 3}, {"beyond_cap_users", 0}};
  for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
    double v;
    PD_CHECK(pd_referral_metric(r, want[i].metric, &v));
    ck_assert_msg(fabs(v - want[i].want) < 1e-12, "%s = %g, want %g", want[i].metric, v, want[i].want);
  }
  /* Cycle times of S's edges: x1 1 day after r1, x2 2 days after r1, y1 2
   * days after x1: median 48 h. */
  double med;
  PD_CHECK(pd_referral_metric(r, "cycle_time_median_h", &med));
  ck_assert_double_eq_tol(med, 48, 1e-9);
  pd_table *t;
  PD_CHECK(pd_referral_table(r, PD_REFERRAL_FOREST, &t));
  ck_assert_uint_eq(pd_table_n_rows(t), 2);
  ck_assert_double_eq(cell(t, 1, "descendants"), 1); /* x1 -> y1, from the whole forest */
  pd_table_free(t);
  PD_CHECK(pd_referral_table(r, PD_REFERRAL_TOP, &t));
  ck_assert_uint_eq(pd_table_n_rows(t), 2);
  ck_assert_double_eq(cell(t, 0, "user"), id[0]);
  ck_assert_double_eq(cell(t, 0, "descendants"), 3);
  pd_table_free(t);
  PD_CHECK(pd_referral_table(r, PD_REFERRAL_TREES, &t)); /* r1's tree only, whole */
  ck_assert_uint_eq(pd_table_n_rows(t), 1);
  ck_assert_double_eq(cell(t, 0, "users"), 4);
  ck_assert_double_eq(cell(t, 0, "revenue"), 3000);
  pd_table_free(t);
  PD_CHECK(pd_referral_table(r, PD_REFERRAL_DEPTH, &t)); /* r1 at 0, x1 at 1 */
  ck_assert_uint_eq(pd_table_n_rows(t), 2);
  ck_assert_double_eq(cell(t, 0, "users"), 1);
  ck_assert_double_eq(cell(t, 1, "users"), 1);
  pd_table_free(t);
  PD_CHECK(pd_referral_table(r, PD_REFERRAL_GROUPS, &t));
  ck_assert_double_eq(cell(t, 0, "users"), 2);
  ck_assert_double_eq(cell(t, 0, "referred"), 3);
  ck_assert_double_eq_tol(cell(t, 0, "k"), 1.5, 1e-12);
  pd_table_free(t);
  pd_referral_free(r);
  PD_CHECK(pd_referral_run(s, NULL, &r));
  double v;
  PD_CHECK(pd_referral_metric(r, "users", &v));
  ck_assert_double_eq(v, 6);
  PD_CHECK(pd_referral_metric(r, "referred", &v));
  ck_assert_double_eq(v, 4);
  PD_CHECK(pd_referral_metric(r, "k", &v));
  ck_assert_double_eq_tol(v, 4.0 / 6.0, 1e-12);
  pd_referral_free(r);
  pd_store_close(s);
}
END_TEST

int main(void) {
  Suite *s = suite_create("segments");
  TCase *tc = tcase_create("tags");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, tag_ingest_formats);
  tcase_add_test(tc, tag_ingest_unknown_users);
  tcase_add_test(tc, tag_ingest_malformed);
  suite_add_tcase(s, tc);
  tc = tcase_create("segments");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, segment_eval);
  tcase_add_test(tc, segment_parse_errors);
  tcase_add_test(tc, segment_definitions);
  tcase_add_test(tc, segment_breakdown);
  tcase_add_test(tc, segment_names_segments);
  suite_add_tcase(s, tc);
  tc = tcase_create("filters");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, filter_equals_subset_store);
  tcase_add_test(tc, filter_keeps_store_end);
  tcase_add_test(tc, filter_old_option_sizes);
  tcase_add_test(tc, funnel_by_segment);
  tcase_add_test(tc, referral_segment);
  suite_add_tcase(s, tc);
  return pd_test_run(s);
}
