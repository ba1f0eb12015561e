/* Tags and segments: ingest of user,tag files, segment definitions and
 * their predicate language, evaluation, and the segment filter and
 * breakdown of each analysis. */
#include <zlib.h>

#include "testutil.h"

static char *tmp; /* scratch directory of the current test */

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

int main(void) {
  Suite *s = suite_create("segments");
  TCase *tc = tcase_create("tags");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, tag_ingest_formats);
  tcase_add_test(tc, tag_ingest_unknown_users);
  tcase_add_test(tc, tag_ingest_malformed);
  suite_add_tcase(s, tc);
  return pd_test_run(s);
}
