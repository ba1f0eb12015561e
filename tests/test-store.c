/* Store, writer and scan: durability, recovery, corruption, locking,
 * aliases and merges, compaction, ordering, parallel scan. */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include "crc32.h"
#include "dict.h"
#include "format.h"
#include "store_internal.h"
#include "wal.h"
#include "testutil.h"

static int count_users(void *ctx, unsigned worker, const pd_user_events *ev) {
  (void)worker;
  (void)ev;
  __atomic_add_fetch((uint64_t *)ctx, 1, __ATOMIC_RELAXED);
  return 0;
}

/* ---- helpers ---------------------------------------------------------- */

static uint32_t user(pd_writer *w, const char *name) {
  uint32_t u;
  PD_CHECK(pd_writer_user(w, name, &u));
  return u;
}

static void append(pd_writer *w, uint32_t u, int64_t t, uint32_t type, uint32_t tp, uint32_t ref, int64_t amount) {
  pd_event e = {t, u, type, tp, ref, amount};
  PD_CHECK(pd_writer_append(w, &e));
}

/* A scan's result as text, one line per user, for whole-store comparisons. */
typedef struct digest {
  GString **per_user;
  uint32_t n;
  pthread_mutex_t lock; /* not GMutex: ThreadSanitizer sees pthread locks only */
  uint64_t events;
} digest;

static int digest_fn(void *ctx, unsigned worker, const pd_user_events *ev) {
  (void)worker;
  digest *d = ctx;
  ck_assert_uint_lt(ev->user, d->n);
  GString *s = g_string_new(NULL);
  for (size_t i = 0; i < ev->n; i++) {
    if (i) ck_assert_int_le(ev->time[i - 1], ev->time[i]);
    g_string_append_printf(s, "%lld/%u/%d/%d/%lld ", (long long)ev->time[i], ev->type[i], (int)ev->touchpoint[i],
                           (int)ev->referrer[i], (long long)ev->amount[i]);
  }
  pthread_mutex_lock(&d->lock);
  ck_assert_ptr_null(d->per_user[ev->user]); /* each user exactly once */
  d->per_user[ev->user] = s;
  d->events += ev->n;
  pthread_mutex_unlock(&d->lock);
  return 0;
}

static char *scan_digest(pd_store *s, unsigned threads, uint64_t *events) {
  digest d = {0};
  d.n = pd_store_n_users(s);
  d.per_user = g_new0(GString *, d.n + 1);
  pthread_mutex_init(&d.lock, NULL);
  pd_scan_options o = PD_SCAN_OPTIONS_INIT;
  o.threads = threads;
  PD_CHECK(pd_scan(s, &o, digest_fn, &d));
  GString *all = g_string_new(NULL);
  for (uint32_t u = 0; u < d.n; u++)
    if (d.per_user[u]) {
      g_string_append_printf(all, "%u: %s\n", u, d.per_user[u]->str);
      g_string_free(d.per_user[u], TRUE);
    }
  g_free(d.per_user);
  pthread_mutex_destroy(&d.lock);
  if (events) *events = d.events;
  return g_string_free(all, FALSE);
}

/* Writes `batches` commits of `per_batch` events over `users` users. */
static void fill(pd_writer *w, int batches, int per_batch, int users, uint32_t seed) {
  GRand *r = g_rand_new_with_seed(seed);
  uint32_t tp;
  PD_CHECK(pd_writer_touchpoint_name(w, "企业微信", &tp));
  for (int b = 0; b < batches; b++) {
    for (int i = 0; i < per_batch; i++) {
      char name[32];
      snprintf(name, sizeof name, "u%d", g_rand_int_range(r, 0, users));
      uint32_t u = user(w, name);
      append(w, u, g_rand_int_range(r, 0, 1000000), (uint32_t)g_rand_int_range(r, 0, PD_EVENT_BUILTIN_COUNT),
             g_rand_boolean(r) ? tp : PD_NONE, PD_NONE, g_rand_int_range(r, -100, 10000));
    }
    PD_CHECK(pd_writer_commit(w));
  }
  g_rand_free(r);
}

static char *wal_file(const char *dir) {
  GDir *d = g_dir_open(dir, 0, NULL);
  const char *name;
  char *found = NULL;
  while ((name = g_dir_read_name(d)))
    if (g_str_has_prefix(name, "wal-")) found = g_build_filename(dir, name, NULL);
  g_dir_close(d);
  ck_assert_ptr_nonnull(found);
  return found;
}

static char *seg_file(const char *dir) {
  GDir *d = g_dir_open(dir, 0, NULL);
  const char *name;
  char *found = NULL;
  while ((name = g_dir_read_name(d)))
    if (g_str_has_prefix(name, "seg-") && g_str_has_suffix(name, ".pds")) found = g_build_filename(dir, name, NULL);
  g_dir_close(d);
  ck_assert_ptr_nonnull(found);
  return found;
}

/* ---- tests ------------------------------------------------------------ */

START_TEST(create_append_reopen) {
  char *dir = pd_test_tmpdir("s");
  pd_store *s = NULL;
  ck_assert_int_eq(pd_store_open(&s, dir, NULL), PD_ERR_NOT_FOUND); /* no create */
  s = pd_test_open(dir, 1);
  pd_writer *w;
  PD_CHECK(pd_writer_open(&w, s));
  pd_touchpoint_def def = PD_TOUCHPOINT_DEF_INIT;
  def.name = "视频号直播";
  def.domain = PD_DOMAIN_PUBLIC;
  def.carrier = PD_CARRIER_LIVESTREAM;
  def.daily_spend = 150000;
  uint32_t tp, custom, a = user(w, "alice"), b = user(w, "bob");
  PD_CHECK(pd_writer_touchpoint(w, &def, &tp));
  PD_CHECK(pd_writer_event_type(w, "coupon_claim", &custom));
  ck_assert_uint_eq(custom, PD_EVENT_BUILTIN_COUNT);
  uint32_t purchase;
  PD_CHECK(pd_writer_event_type(w, "purchase", &purchase));
  ck_assert_uint_eq(purchase, PD_EV_PURCHASE);
  ck_assert_uint_eq(user(w, "alice"), a); /* interning is idempotent */
  append(w, a, 1000, PD_EV_ACQUIRE, tp, PD_NONE, 0);
  append(w, b, 2000, PD_EV_REFERRAL_SIGNUP, tp, a, 0);
  append(w, a, 3000, custom, PD_NONE, PD_NONE, 1234);
  PD_CHECK(pd_writer_commit(w));
  pd_writer_close(w);
  pd_store_close(s);

  s = pd_test_open(dir, 0);
  ck_assert_uint_eq(pd_store_n_users(s), 2);
  ck_assert_uint_eq(pd_store_n_events(s), 3);
  ck_assert_uint_eq(pd_store_n_event_types(s), PD_EVENT_BUILTIN_COUNT + 1);
  uint32_t got;
  PD_CHECK(pd_store_find_user(s, "bob", &got));
  ck_assert_uint_eq(got, b);
  ck_assert_int_eq(pd_store_find_user(s, "carol", &got), PD_ERR_NOT_FOUND);
  ck_assert_str_eq(pd_store_user_name(s, a), "alice");
  PD_CHECK(pd_store_find_touchpoint(s, "视频号直播", &got));
  pd_touchpoint_def back = PD_TOUCHPOINT_DEF_INIT;
  PD_CHECK(pd_store_touchpoint(s, got, &back));
  ck_assert_str_eq(back.name, "视频号直播");
  ck_assert_int_eq(back.domain, PD_DOMAIN_PUBLIC);
  ck_assert_int_eq(back.carrier, PD_CARRIER_LIVESTREAM);
  ck_assert_int_eq(back.daily_spend, 150000);
  ck_assert_str_eq(pd_store_event_type_name(s, custom), "coupon_claim");
  char *text = scan_digest(s, 1, NULL);
  char *want = g_strdup_printf("0: 1000/0/0/-1/0 3000/12/-1/-1/1234 \n1: 2000/8/0/0/0 \n");
  ck_assert_str_eq(text, want);
  g_free(text);
  g_free(want);
  pd_store_close(s);
  pd_test_rmdir(dir);
  g_free(dir);
}
END_TEST

START_TEST(rollback_discards_batch) {
  char *dir = pd_test_tmpdir("s");
  pd_store *s = pd_test_open(dir, 1);
  pd_writer *w;
  PD_CHECK(pd_writer_open(&w, s));
  uint32_t a = user(w, "a");
  append(w, a, 1, PD_EV_VISIT, PD_NONE, PD_NONE, 0);
  PD_CHECK(pd_writer_commit(w));
  uint32_t b = user(w, "b"), tp, ty;
  PD_CHECK(pd_writer_touchpoint_name(w, "tp", &tp));
  PD_CHECK(pd_writer_event_type(w, "custom", &ty));
  PD_CHECK(pd_writer_merge_users(w, a, b));
  PD_CHECK(pd_writer_alias(w, a, "a-phone"));
  append(w, b, 2, ty, tp, PD_NONE, 0);
  ck_assert_uint_eq(pd_writer_pending(w), 1);
  PD_CHECK(pd_writer_rollback(w));
  ck_assert_uint_eq(pd_writer_pending(w), 0);
  ck_assert_uint_eq(pd_store_n_users(s), 1);
  ck_assert_uint_eq(pd_store_n_events(s), 1);
  ck_assert_uint_eq(pd_store_n_touchpoints(s), 0);
  ck_assert_uint_eq(pd_store_n_event_types(s), PD_EVENT_BUILTIN_COUNT);
  uint32_t got;
  ck_assert_int_eq(pd_store_find_user(s, "a-phone", &got), PD_ERR_NOT_FOUND);
  ck_assert_int_eq(pd_store_find_user(s, "b", &got), PD_ERR_NOT_FOUND);
  /* The ids are handed out again, and the name "b" can be re-created. */
  ck_assert_uint_eq(user(w, "b"), b);
  append(w, b, 3, PD_EV_VISIT, PD_NONE, PD_NONE, 0);
  PD_CHECK(pd_writer_commit(w));
  pd_writer_close(w);
  pd_store_close(s);
  s = pd_test_open(dir, 0);
  ck_assert_uint_eq(pd_store_n_users(s), 2);
  ck_assert_uint_eq(pd_store_n_events(s), 2);
  ck_assert_uint_eq(pd_store_n_touchpoints(s), 0);
  ck_assert_uint_eq(pd_store_canonical_user(s, b), b);
  pd_store_close(s);
  pd_test_rmdir(dir);
  g_free(dir);
}
END_TEST

START_TEST(aliases_and_merges) {
  for (int compact_at = 0; compact_at < 3; compact_at++) {
    char *dir = pd_test_tmpdir("s");
    pd_store *s = pd_test_open(dir, 1);
    pd_writer *w;
    PD_CHECK(pd_writer_open(&w, s));
    uint32_t phone = user(w, "+8613800000000"), union_id = user(w, "wx-union-1"), card = user(w, "card-77");
    append(w, phone, 300, PD_EV_VISIT, PD_NONE, PD_NONE, 0);
    append(w, union_id, 100, PD_EV_ACQUIRE, PD_NONE, PD_NONE, 0);
    append(w, card, 200, PD_EV_PURCHASE, PD_NONE, union_id, 990);
    PD_CHECK(pd_writer_commit(w));
    if (compact_at == 1) PD_CHECK(pd_store_compact(s));
    PD_CHECK(pd_writer_alias(w, phone, "openid-xyz"));
    ck_assert_int_eq(pd_writer_alias(w, phone, "card-77"), PD_ERR_EXISTS); /* names another user */
    PD_CHECK(pd_writer_merge_users(w, phone, union_id));
    PD_CHECK(pd_writer_merge_users(w, union_id, card)); /* into a merged user: lands on phone */
    PD_CHECK(pd_writer_commit(w));
    if (compact_at == 2) PD_CHECK(pd_store_compact(s));
    /* The compacting handle (it keeps its dictionary) sees what a fresh one does. */
    char *live = scan_digest(s, 2, NULL);
    uint32_t live_ids[4];
    const char *live_names[] = {"+8613800000000", "wx-union-1", "card-77", "openid-xyz"};
    for (int i = 0; i < 4; i++) PD_CHECK(pd_store_find_user(s, live_names[i], &live_ids[i]));
    pd_writer_close(w);
    pd_store_close(s);
    s = pd_test_open(dir, 0);
    char *fresh = scan_digest(s, 2, NULL);
    ck_assert_str_eq(live, fresh);
    g_free(live);
    g_free(fresh);
    for (int i = 0; i < 4; i++) ck_assert_uint_eq(live_ids[i], phone);
    uint32_t got;
    const char *names[] = {"+8613800000000", "wx-union-1", "card-77", "openid-xyz"};
    for (int i = 0; i < 4; i++) {
      PD_CHECK(pd_store_find_user(s, names[i], &got));
      ck_assert_uint_eq(got, phone);
    }
    /* One user, all three events in time order, the referrer remapped. */
    char *text = scan_digest(s, 2, NULL);
    char *want = g_strdup_printf("%u: 100/0/-1/-1/0 200/5/-1/%u/990 300/2/-1/-1/0 \n", phone, phone);
    ck_assert_str_eq(text, want);
    g_free(text);
    g_free(want);
    pd_table *info;
    PD_CHECK(pd_store_info(s, &info));
    ck_assert_int_eq(pd_table_get_int64(info, 0, 1), 1); /* users after merges */
    pd_table_free(info);
    pd_store_close(s);
    pd_test_rmdir(dir);
    g_free(dir);
  }
}
END_TEST

START_TEST(scan_order_and_compaction) {
  char *dir = pd_test_tmpdir("s");
  pd_store *s = pd_test_open(dir, 1);
  pd_writer *w;
  PD_CHECK(pd_writer_open(&w, s));
  fill(w, 5, 4000, 3000, 7);
  uint32_t x = user(w, "ties");
  /* Equal times keep insertion order; earlier times inserted later move up. */
  append(w, x, 50, PD_EV_PURCHASE, PD_NONE, PD_NONE, 1);
  append(w, x, 50, PD_EV_PURCHASE, PD_NONE, PD_NONE, 2);
  append(w, x, 10, PD_EV_VISIT, PD_NONE, PD_NONE, 3);
  PD_CHECK(pd_writer_commit(w));
  uint64_t n1, n2, n3;
  char *before = scan_digest(s, 1, &n1);
  char *before2 = scan_digest(s, 2, &n2);
  ck_assert_str_eq(before, before2);
  ck_assert_uint_eq(n1, 20003);
  ck_assert_ptr_nonnull(strstr(before, "10/2/-1/-1/3 50/5/-1/-1/1 50/5/-1/-1/2 \n"));
  PD_CHECK(pd_store_compact(s));
  char *after = scan_digest(s, 2, &n3);
  ck_assert_str_eq(before, after);
  /* More events after compaction: segment and log tail interleave by time. */
  append(w, x, 20, PD_EV_VISIT, PD_NONE, PD_NONE, 4);
  append(w, x, 50, PD_EV_VISIT, PD_NONE, PD_NONE, 5);
  PD_CHECK(pd_writer_commit(w));
  pd_writer_close(w);
  pd_store_close(s);
  s = pd_test_open(dir, 0);
  char *mixed = scan_digest(s, 2, NULL);
  ck_assert_ptr_nonnull(strstr(mixed, "10/2/-1/-1/3 20/2/-1/-1/4 50/5/-1/-1/1 50/5/-1/-1/2 50/2/-1/-1/5 \n"));
  pd_table *info;
  PD_CHECK(pd_store_info(s, &info));
  bool saw_segment = false;
  for (size_t r = 0; r < pd_table_n_rows(info); r++)
    if (strcmp(pd_table_get_string(info, r, 0), "events_sealed") == 0) {
      ck_assert_int_eq(pd_table_get_int64(info, r, 1), 20003);
      saw_segment = true;
    }
  ck_assert(saw_segment);
  pd_table_free(info);
  g_free(before);
  g_free(before2);
  g_free(after);
  g_free(mixed);
  pd_store_close(s);
  pd_test_rmdir(dir);
  g_free(dir);
}
END_TEST

static int check_stable(void *ctx, unsigned worker, const pd_user_events *ev) {
  (void)worker;
  *(size_t *)ctx += ev->n;
  for (size_t i = 1; i < ev->n; i++) {
    ck_assert_int_le(ev->time[i - 1], ev->time[i]);
    if (ev->time[i - 1] == ev->time[i]) ck_assert_int_lt(ev->amount[i - 1], ev->amount[i]); /* insertion order */
  }
  return 0;
}

/* Large users ingested out of time order with many equal times: sorted,
 * ties in insertion order, in the log tail, after compaction, and when a
 * merge combines a sealed run with a log run. */
START_TEST(large_unsorted_users_stable) {
  char *dir = pd_test_tmpdir("s");
  pd_store *s = pd_test_open(dir, 1);
  pd_writer *w;
  PD_CHECK(pd_writer_open(&w, s));
  GRand *r = g_rand_new_with_seed(11);
  uint32_t a = user(w, "big-a"), b = user(w, "big-b");
  for (int i = 0; i < 5000; i++) append(w, i % 2 ? a : b, g_rand_int_range(r, 0, 300), PD_EV_VISIT, PD_NONE, PD_NONE, i);
  PD_CHECK(pd_writer_commit(w));
  size_t n = 0;
  PD_CHECK(pd_scan(s, NULL, check_stable, &n));
  ck_assert_uint_eq(n, 5000);
  PD_CHECK(pd_store_compact(s));
  for (int i = 5000; i < 6000; i++) append(w, a, g_rand_int_range(r, 0, 300), PD_EV_VISIT, PD_NONE, PD_NONE, i);
  PD_CHECK(pd_writer_merge_users(w, a, b));
  PD_CHECK(pd_writer_commit(w));
  n = 0;
  pd_scan_options o = PD_SCAN_OPTIONS_INIT;
  o.threads = 2;
  /* Merged: the sealed runs of a and b interleave with a's log run. Ties
   * across runs are not ordered by amount, so only check time order. */
  PD_CHECK(pd_scan(s, &o, count_users, &n));
  ck_assert_uint_eq(n, 1);
  char *d1 = scan_digest(s, 1, NULL);
  PD_CHECK(pd_store_compact(s));
  char *d2 = scan_digest(s, 2, NULL);
  ck_assert_str_eq(d1, d2);
  g_free(d1);
  g_free(d2);
  g_rand_free(r);
  pd_writer_close(w);
  pd_store_close(s);
  pd_test_rmdir(dir);
  g_free(dir);
}
END_TEST



/* Compaction in rounds, each merging the segment with new log events (no
 * merges: the old rows are read block by block from the old file), must
 * give exactly what a store that never compacts scans; then a merge makes
 * the last round rewrite the old rows in place. */
START_TEST(compact_rounds_equal_log) {
  /* _i 1: the file system cannot reserve space; segments are built as an
   * image in memory and written when sealed. */
  pd__segment_no_reserve = _i == 1;
  char *dir_a = pd_test_tmpdir("a"), *dir_b = pd_test_tmpdir("b");
  pd_store *sa = pd_test_open(dir_a, 1), *sb = pd_test_open(dir_b, 1);
  pd_writer *wa, *wb;
  PD_CHECK(pd_writer_open(&wa, sa));
  PD_CHECK(pd_writer_open(&wb, sb));
  GRand *r = g_rand_new_with_seed(2026);
  const int n_users = 2600; /* several blocks of 512 users */
  for (int round = 0, known = 0; round < 5; round++) {
    /* Each round adds users, so the old segment covers only some blocks,
     * the last of them partly. */
    for (int until = n_users * (round + 1) / 5; known < until; known++) {
      char name[16];
      snprintf(name, sizeof name, "u%d", known);
      ck_assert_uint_eq(user(wa, name), (uint32_t)known);
      ck_assert_uint_eq(user(wb, name), (uint32_t)known);
    }
    for (int i = 0; i < 6000; i++) {
      uint32_t u = (uint32_t)g_rand_int_range(r, 0, known);
      if (u == 7) u = 8; /* u7 has no events: see the merge below */
      uint32_t ref = g_rand_int_range(r, 0, 5) ? PD_NONE : (uint32_t)g_rand_int_range(r, 0, known);
      int64_t t = g_rand_int_range(r, 0, 200), amount = round * 100000 + i;
      uint16_t type = (uint16_t)g_rand_int_range(r, 0, PD_EVENT_BUILTIN_COUNT);
      append(wa, u, t, type, PD_NONE, ref, amount);
      append(wb, u, t, type, PD_NONE, ref, amount);
    }
    /* u7, a referrer only, merges into u3: the old rows' referrers are
     * remapped (the order of ties between two members' runs is by member,
     * so members with events would differ from the log's order). */
    if (round == 4) {
      PD_CHECK(pd_writer_merge_users(wa, 3, 7));
      PD_CHECK(pd_writer_merge_users(wb, 3, 7));
    }
    PD_CHECK(pd_writer_commit(wa));
    PD_CHECK(pd_writer_commit(wb));
    PD_CHECK(pd_store_compact(sa));
    ck_assert(pd__compact_staged == (round < 4)); /* the merge: in place */
    char *da = scan_digest(sa, 2, NULL), *db = scan_digest(sb, 2, NULL);
    ck_assert_msg(strcmp(da, db) == 0, "round %d differs", round);
    g_free(da);
    g_free(db);
  }
  ck_assert_uint_eq(pd_store_n_events(sa), 30000);
  g_rand_free(r);
  pd_writer_close(wa);
  pd_writer_close(wb);
  pd_store_close(sa);
  pd_store_close(sb);
  pd_test_rmdir(dir_a);
  pd_test_rmdir(dir_b);
  g_free(dir_a);
  g_free(dir_b);
}
END_TEST

static int stop_early(void *ctx, unsigned worker, const pd_user_events *ev) {
  (void)ctx;
  (void)worker;
  return ev->user == 5;
}

START_TEST(scan_range_and_cancel) {
  char *dir = pd_test_tmpdir("s");
  pd_store *s = pd_test_open(dir, 1);
  pd_writer *w;
  PD_CHECK(pd_writer_open(&w, s));
  for (int i = 0; i < 100; i++) {
    char name[16];
    snprintf(name, sizeof name, "u%03d", i);
    append(w, user(w, name), i, PD_EV_VISIT, PD_NONE, PD_NONE, 0);
  }
  PD_CHECK(pd_writer_commit(w));
  pd_writer_close(w);
  pd_scan_options o = PD_SCAN_OPTIONS_INIT;
  o.user_begin = 10;
  o.user_end = 25;
  o.threads = 3;
  uint64_t n = 0;
  PD_CHECK(pd_scan(s, &o, count_users, &n));
  ck_assert_uint_eq(n, 15);
  ck_assert_int_eq(pd_scan(s, NULL, stop_early, NULL), PD_ERR_CANCELLED);
  ck_assert_uint_ge(pd_scan_workers(NULL), 1);
  pd_store_close(s);
  pd_test_rmdir(dir);
  g_free(dir);
}
END_TEST

/* Truncate the log at every byte offset of its last block: reopening must
 * keep exactly the commits before it, report the dropped bytes, and a
 * writer must be able to continue. */
START_TEST(torn_tail_every_offset) {
  char *dir = pd_test_tmpdir("s");
  pd_store *s = pd_test_open(dir, 1);
  pd_writer *w;
  PD_CHECK(pd_writer_open(&w, s));
  fill(w, 3, 20, 10, 1);
  char *wal = wal_file(dir);
  struct stat st1;
  ck_assert_int_eq(stat(wal, &st1), 0);
  fill(w, 1, 20, 12, 2); /* the last batch: one data block and one commit block */
  pd_writer_close(w);
  pd_store_close(s);
  struct stat st2;
  ck_assert_int_eq(stat(wal, &st2), 0);
  gsize len;
  char *full;
  ck_assert(g_file_get_contents(wal, &full, &len, NULL));
  for (off_t cut = st1.st_size; cut <= st2.st_size; cut++) {
    ck_assert(g_file_set_contents(wal, full, cut, NULL));
    s = pd_test_open(dir, 0);
    uint64_t want = cut == st2.st_size ? 80 : 60;
    ck_assert_msg(pd_store_n_events(s) == want, "cut at %lld: %llu events", (long long)cut, (unsigned long long)pd_store_n_events(s));
    ck_assert_uint_eq(pd_store_recovered_bytes(s), cut == st2.st_size ? 0 : (uint64_t)(cut - st1.st_size));
    pd_store_close(s);
  }
  /* After the worst cut, a writer recovers (truncates) and appends. */
  ck_assert(g_file_set_contents(wal, full, st2.st_size - 1, NULL));
  s = pd_test_open(dir, 0);
  PD_CHECK(pd_writer_open(&w, s));
  fill(w, 1, 5, 3, 3);
  pd_writer_close(w);
  pd_store_close(s);
  s = pd_test_open(dir, 0);
  ck_assert_uint_eq(pd_store_n_events(s), 65);
  ck_assert_uint_eq(pd_store_recovered_bytes(s), 0);
  pd_store_close(s);
  g_free(full);
  g_free(wal);
  pd_test_rmdir(dir);
  g_free(dir);
}
END_TEST

/* A child process ingests batches and reports each commit through a pipe;
 * SIGKILL it midway. Every acknowledged batch must be there, and nothing
 * of a batch that was not committed. */
START_TEST(sigkill_during_ingest) {
  char *dir = pd_test_tmpdir("s");
  pd_store_close(pd_test_open(dir, 1));
  int fds[2];
  ck_assert_int_eq(pipe(fds), 0);
  const int per_batch = 5000;
  pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    close(fds[0]);
    pd_store *s = NULL;
    pd_writer *w = NULL;
    if (pd_store_open(&s, dir, NULL) != PD_OK || pd_writer_open(&w, s) != PD_OK) _exit(3);
    for (int b = 0;; b++) {
      for (int i = 0; i < per_batch; i++) {
        uint32_t u;
        char name[32];
        snprintf(name, sizeof name, "k%d", (b * per_batch + i) % 7919);
        pd_event e = {b * 1000 + i, 0, PD_EV_VISIT, PD_NONE, PD_NONE, i};
        if (pd_writer_user(w, name, &u) != PD_OK) _exit(4);
        e.user = u;
        if (pd_writer_append(w, &e) != PD_OK) _exit(4);
      }
      if (pd_writer_commit(w) != PD_OK) _exit(5);
      if (write(fds[1], &b, sizeof b) != sizeof b) _exit(6);
    }
  }
  close(fds[1]);
  int acked = -1, b;
  while (acked < 6 && read(fds[0], &b, sizeof b) == sizeof b) acked = b;
  ck_assert_int_eq(kill(pid, SIGKILL), 0);
  /* Drain what was acknowledged before the kill landed. */
  while (read(fds[0], &b, sizeof b) == sizeof b) acked = b;
  int status;
  waitpid(pid, &status, 0);
  ck_assert(WIFSIGNALED(status));
  close(fds[0]);
  pd_store *s = pd_test_open(dir, 0);
  uint64_t n = pd_store_n_events(s);
  ck_assert_uint_eq(n % per_batch, 0);
  ck_assert_uint_ge(n, (uint64_t)(acked + 1) * per_batch);
  ck_assert_uint_le(n, (uint64_t)(acked + 2) * per_batch); /* at most the batch in flight */
  pd_writer *w;
  PD_CHECK(pd_writer_open(&w, s)); /* the lock died with the child */
  pd_writer_close(w);
  pd_store_close(s);
  pd_test_rmdir(dir);
  g_free(dir);
}
END_TEST

/* A store of 2 * per_batch events in one sealed segment; returns the
 * segment's path, its bytes in *orig. */
static char *sealed_store(const char *dir, int per_batch, char **orig, gsize *len) {
  pd_store *s = pd_test_open(dir, 1);
  pd_writer *w;
  PD_CHECK(pd_writer_open(&w, s));
  fill(w, 2, per_batch, per_batch / 6, 9);
  pd_writer_close(w);
  PD_CHECK(pd_store_compact(s));
  pd_store_close(s);
  char *seg = seg_file(dir);
  ck_assert(g_file_get_contents(seg, orig, len, NULL));
  return seg;
}

/* Puts the segment's bytes back: the store opens whole again. Frees seg
 * and orig, removes the store. */
static void restore_store(const char *dir, char *seg, char *orig, gsize len, uint64_t events) {
  ck_assert(g_file_set_contents(seg, orig, (gssize)len, NULL));
  pd_store *s = pd_test_open(dir, 0);
  ck_assert_uint_eq(pd_store_n_events(s), events);
  pd_store_close(s);
  g_free(orig);
  g_free(seg);
  pd_test_rmdir(dir);
}

START_TEST(flipped_byte_in_segment) {
  char *dir = pd_test_tmpdir("s"), *orig;
  gsize len;
  char *seg = sealed_store(dir, 3000, &orig, &len);
  /* Every 97th byte of the file, from the header through every section. */
  int tried = 0;
  for (gsize off = 0; off < len; off += 97) {
    char *copy = g_memdup2(orig, len);
    copy[off] ^= 0x20;
    ck_assert(g_file_set_contents(seg, copy, len, NULL));
    g_free(copy);
    pd_store *bad = NULL;
    pd_status st = pd_store_open(&bad, dir, NULL);
    if (st == PD_OK) { /* only bytes no checksum covers (alignment padding) may pass */
      pd_store_close(bad);
      continue;
    }
    tried++;
    ck_assert_msg(st == PD_ERR_CORRUPT, "offset %zu: %s", (size_t)off, pd_status_str(st));
    ck_assert_ptr_nonnull(strstr(pd_last_error(), seg));
    ck_assert_ptr_null(bad);
  }
  ck_assert_int_gt(tried, (int)(len / 97) * 9 / 10);
  /* The message names the byte range of a flipped column byte. */
  char *copy = g_memdup2(orig, len);
  copy[len / 2] ^= 1;
  ck_assert(g_file_set_contents(seg, copy, len, NULL));
  pd_store *bad = NULL;
  ck_assert_int_eq(pd_store_open(&bad, dir, NULL), PD_ERR_CORRUPT);
  ck_assert_ptr_nonnull(strstr(pd_last_error(), "checksum mismatch in bytes"));
  g_free(copy);
  restore_store(dir, seg, orig, len, 6000);
  g_free(dir);
}
END_TEST

/* Recomputes every checksum of a segment image after a deliberate change,
 * as a faulty writer would have sealed it: only the checks of what the
 * columns mean can catch it. */
static void reseal(unsigned char *p) {
  uint64_t off[8], len[8];
  for (int i = 0; i < 8; i++) {
    memcpy(&off[i], p + 64 + 16 * i, 8);
    memcpy(&len[i], p + 64 + 16 * i + 8, 8);
  }
  for (uint64_t from = off[0], c = 0; from < off[7]; from += 1u << 20, c++) {
    uint32_t crc = (uint32_t)crc32_z(0, p + from, off[7] - from < (1u << 20) ? off[7] - from : 1u << 20);
    memcpy(p + off[7] + 4 * c, &crc, 4);
  }
  uint32_t crc = (uint32_t)crc32_z(0, p + off[7], len[7]);
  memcpy(p + 192, &crc, 4);
  crc = (uint32_t)crc32_z(0, p, 252);
  memcpy(p + 252, &crc, 4);
}

/* Writes orig with `bytes` (n of them) at offset `at`, resealed, and opens it. */
static pd_status open_forged(const char *dir, const char *seg, const char *orig, gsize len, uint64_t at, const void *bytes, size_t n) {
  unsigned char *copy = g_memdup2(orig, len);
  memcpy(copy + at, bytes, n);
  reseal(copy);
  ck_assert(g_file_set_contents(seg, (const char *)copy, (gssize)len, NULL));
  g_free(copy);
  pd_store *bad = NULL;
  pd_status st = pd_store_open(&bad, dir, NULL);
  if (bad) pd_store_close(bad);
  return st;
}

/* Forgeries of a sealed store of 2 * per_batch events. With 300,000 events
 * the file has eight 1 MiB chunks, verified on two threads: bad values sit
 * at columns' first and last events, and the touchpoint and referrer
 * columns end in the second thread's half, so both threads' findings count. */
static void forge_cases(int per_batch) {
  char *dir = pd_test_tmpdir("s"), *orig;
  gsize len;
  char *seg = sealed_store(dir, per_batch, &orig, &len);
  const uint64_t e = 2 * (uint64_t)per_batch;
  uint64_t off[8], sec_len[8];
  for (int i = 0; i < 8; i++) {
    memcpy(&off[i], orig + 64 + 16 * i, 8);
    memcpy(&sec_len[i], orig + 64 + 16 * i + 8, 8);
  }
  /* Resealed unchanged, it opens: reseal() itself is right. */
  ck_assert_int_eq(open_forged(dir, seg, orig, len, 0, orig, 1), PD_OK);
  /* An unknown type, touchpoint or referrer, each at a different event. */
  const uint16_t type = 999;
  const uint32_t tp = 5000, ref = 10000000, none = PD_NONE;
  char first[48], mid[48], last[48];
  snprintf(first, sizeof first, "event 0 refers");
  snprintf(mid, sizeof mid, "event %llu refers", (unsigned long long)(e / 2 + 17));
  snprintf(last, sizeof last, "event %llu refers", (unsigned long long)(e - 1));
  const struct {
    uint64_t at;
    const void *v;
    size_t n;
    const char *event;
  } cases[] = {{off[3], &type, 2, first},
               {off[3] + 2 * (e - 1), &type, 2, last},
               {off[4] + 4 * (e / 2 + 17), &tp, 4, mid},
               {off[4] + 4 * (e - 1), &tp, 4, last},
               {off[5] + 4 * (e - 1), &ref, 4, last},
               {off[5], &ref, 4, first}};
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    ck_assert_int_eq(open_forged(dir, seg, orig, len, cases[i].at, cases[i].v, cases[i].n), PD_ERR_CORRUPT);
    ck_assert_msg(strstr(pd_last_error(), cases[i].event) && strstr(pd_last_error(), seg), "case %zu: %s", i, pd_last_error());
  }
  /* "None" is a valid touchpoint and referrer anywhere. */
  ck_assert_int_eq(open_forged(dir, seg, orig, len, off[4] + 4 * (e - 1), &none, 4), PD_OK);
  ck_assert_int_eq(open_forged(dir, seg, orig, len, off[5], &none, 4), PD_OK);
  /* A header whose time range is not the time column's, either end. */
  for (int end = 0; end < 2; end++) {
    int64_t t;
    memcpy(&t, orig + 48 + 8 * end, 8);
    t += end ? 1 : -1;
    ck_assert_int_eq(open_forged(dir, seg, orig, len, 48 + 8 * (uint64_t)end, &t, 8), PD_ERR_CORRUPT);
    ck_assert_ptr_nonnull(strstr(pd_last_error(), "time range"));
  }
  /* A header that counts merges the dictionary does not hold (compaction
   * would take its rows' users for canonical). */
  const uint64_t merges = 5;
  ck_assert_int_eq(open_forged(dir, seg, orig, len, 40, &merges, 8), PD_ERR_CORRUPT);
  ck_assert_ptr_nonnull(strstr(pd_last_error(), "merges"));
  /* The type section moved past the checksums, into bytes appended to the
   * file (no checksum covers them): refused, never read. */
  gsize big = len + sec_len[3] + 64;
  char *grown = g_malloc0(big);
  memcpy(grown, orig, len);
  uint64_t moved = (len + 63) / 64 * 64;
  memcpy(grown + moved, orig + off[3], sec_len[3]);
  ck_assert_int_eq(open_forged(dir, seg, grown, big, 64 + 16 * 3, &moved, 8), PD_ERR_CORRUPT);
  ck_assert_msg(strstr(pd_last_error(), "section out of bounds"), "%s", pd_last_error());
  g_free(grown);
  restore_store(dir, seg, orig, len, e);
  g_free(dir);
}

/* A segment whose index gives rows to a merged user (compaction moves them
 * to the survivor): refused at open, checksums notwithstanding. */
START_TEST(forged_rows_of_merged_user) {
  char *dir = pd_test_tmpdir("s");
  pd_store *s = pd_test_open(dir, 1);
  pd_writer *w;
  PD_CHECK(pd_writer_open(&w, s));
  uint32_t a = user(w, "ann"), b = user(w, "bob");
  for (int i = 0; i < 10; i++) append(w, i % 2 ? a : b, i, PD_EV_VISIT, PD_NONE, PD_NONE, i);
  PD_CHECK(pd_writer_merge_users(w, a, b));
  PD_CHECK(pd_writer_commit(w));
  pd_writer_close(w);
  PD_CHECK(pd_store_compact(s));
  pd_store_close(s);
  char *seg = seg_file(dir), *orig;
  gsize len;
  ck_assert(g_file_get_contents(seg, &orig, &len, NULL));
  uint64_t index;
  memcpy(&index, orig + 64 + 16 * 1, 8);
  uint64_t nine = 9; /* ann's rows [0, 9), bob's [9, 10) */
  ck_assert_int_eq(open_forged(dir, seg, orig, len, index + 8 * 1, &nine, 8), PD_ERR_CORRUPT);
  ck_assert_msg(strstr(pd_last_error(), "events of user 1, merged into user 0"), "%s", pd_last_error());
  ck_assert(g_file_set_contents(seg, orig, (gssize)len, NULL));
  s = pd_test_open(dir, 0);
  ck_assert_uint_eq(pd_store_n_events(s), 10);
  pd_store_close(s);
  g_free(orig);
  g_free(seg);
  pd_test_rmdir(dir);
  g_free(dir);
}
END_TEST

START_TEST(forged_segment_refs) {
  forge_cases(3000);
  forge_cases(150000);
}
END_TEST

/* A loaded dictionary maps names on the first lookup; a name defined twice
 * is found then, and every later lookup reports it too. */
START_TEST(user_map_built_on_lookup) {
  pd__dict d;
  PD_CHECK(pd__dict_init(&d));
  pd__buf b = {0};
  PD_CHECK(pd__rec_user(&b, PD_REC_USER, 0, "ann", 3));
  PD_CHECK(pd__rec_user(&b, PD_REC_USER, 1, "bob", 3));
  PD_CHECK(pd__rec_user(&b, PD_REC_ALIAS, 0, "+8613800000000", 14));
  PD_CHECK(pd__dict_apply(&d, b.p, b.len, NULL, NULL, "test", 0));
  ck_assert(!d.user_map_built);
  uint32_t u = 9;
  PD_CHECK(pd__dict_find_user(&d, "+8613800000000", 14, &u));
  ck_assert_uint_eq(u, 0);
  ck_assert(d.user_map_built);
  ck_assert_int_eq(pd__dict_find_user(&d, "cat", 3, &u), PD_ERR_NOT_FOUND);
  /* Once built, records are checked as they come: a known name is refused. */
  pd__buf more = {0};
  PD_CHECK(pd__rec_user(&more, PD_REC_USER, 2, "bob", 3));
  ck_assert_int_eq(pd__dict_apply(&d, more.p, more.len, NULL, NULL, "test", 0), PD_ERR_CORRUPT);
  pd__buf_free(&more);
  pd__dict_free(&d);
  /* Loaded with a duplicate (an alias naming another user's name). */
  PD_CHECK(pd__dict_init(&d));
  PD_CHECK(pd__rec_user(&b, PD_REC_ALIAS, 1, "ann", 3));
  PD_CHECK(pd__dict_apply(&d, b.p, b.len, NULL, NULL, "test", 0));
  for (int i = 0; i < 2; i++) {
    ck_assert_int_eq(pd__dict_find_user(&d, "bob", 3, &u), PD_ERR_CORRUPT);
    ck_assert_str_eq(pd_last_error(), "user dictionary: \"ann\" is defined twice");
  }
  ck_assert_int_eq(pd__dict_add_user(&d, "dan", 3, &u), PD_ERR_CORRUPT);
  ck_assert_uint_eq(pd__dict_n_users(&d), 2);
  pd__buf_free(&b);
  pd__dict_free(&d);
}
END_TEST

/* Appends a committed block of records to the store's log after its
 * committed end, continuing the CRC chain (a faulty writer's block). */
static void forge_log_block(const char *dir, const pd__buf *records) {
  pd_store *s = pd_test_open(dir, 0);
  pd__wal rw;
  PD_CHECK(pd__wal_open(dir, s->generation, true, &rw));
  rw.committed_end = rw.end = s->wal.committed_end;
  rw.committed_crc = rw.crc = s->wal.committed_crc;
  PD_CHECK(pd__wal_append_block(&rw, PD_BLOCK_DATA, records->p, records->len));
  PD_CHECK(pd__wal_commit(&rw, true));
  pd__wal_close(&rw);
  pd_store_close(s);
}

/* A log whose checksums are right but which defines a user name twice (only
 * a faulty writer or a forger makes one): the store opens (the name map is
 * built lazily), every lookup reports the duplicate, and compaction refuses
 * to seal it, leaving the store as it was. */
START_TEST(duplicate_name_in_log) {
  char *dir = pd_test_tmpdir("s");
  pd_store *s = pd_test_open(dir, 1);
  pd_writer *w;
  PD_CHECK(pd_writer_open(&w, s));
  uint32_t a = user(w, "ann"), b = user(w, "bob");
  append(w, a, 10, PD_EV_VISIT, PD_NONE, PD_NONE, 0);
  append(w, b, 20, PD_EV_VISIT, PD_NONE, PD_NONE, 0);
  PD_CHECK(pd_writer_commit(w));
  pd_writer_close(w);
  PD_CHECK(pd_store_compact(s));
  pd_store_close(s);
  /* A committed block naming "ann" again, as user 2. */
  s = pd_test_open(dir, 0);
  uint64_t seg_gen = s->seg_generation;
  pd_store_close(s);
  pd__buf rec = {0};
  PD_CHECK(pd__rec_user(&rec, PD_REC_USER, 2, "ann", 3));
  forge_log_block(dir, &rec);
  pd__buf_free(&rec);
  s = pd_test_open(dir, 0);
  ck_assert_uint_eq(pd_store_n_users(s), 3);
  uint32_t u;
  for (int i = 0; i < 2; i++) {
    ck_assert_int_eq(pd_store_find_user(s, "bob", &u), PD_ERR_CORRUPT);
    ck_assert_str_eq(pd_last_error(), "user dictionary: \"ann\" is defined twice");
  }
  pd_store_close(s);
  s = pd_test_open(dir, 0);
  ck_assert_int_eq(pd_store_compact(s), PD_ERR_CORRUPT);
  ck_assert_ptr_nonnull(strstr(pd_last_error(), "\"ann\" is defined twice"));
  pd_store_close(s);
  s = pd_test_open(dir, 0);
  ck_assert_uint_eq(s->seg_generation, seg_gen);
  ck_assert_uint_eq(pd_store_n_events(s), 2);
  pd_store_close(s);
  pd_test_rmdir(dir);
  g_free(dir);
}
END_TEST

/* A refresh that fails part way through new log blocks leaves the reader's
 * snapshot as it was, and fails the same way when tried again. */
START_TEST(failed_refresh_keeps_snapshot) {
  char *dir = pd_test_tmpdir("s");
  pd_store *s = pd_test_open(dir, 1);
  pd_writer *w;
  PD_CHECK(pd_writer_open(&w, s));
  uint32_t a = user(w, "ann");
  append(w, a, 10, PD_EV_VISIT, PD_NONE, PD_NONE, 0);
  PD_CHECK(pd_writer_commit(w));
  pd_writer_close(w);
  pd_store_close(s);
  pd_store *r = pd_test_open(dir, 0);
  uint32_t u;
  PD_CHECK(pd_store_find_user(r, "ann", &u)); /* the name map is built: records are checked as applied */
  pd__buf rec = {0};
  PD_CHECK(pd__rec_user(&rec, PD_REC_USER, 1, "cat", 3)); /* fine */
  PD_CHECK(pd__rec_user(&rec, PD_REC_USER, 2, "ann", 3)); /* defined twice */
  forge_log_block(dir, &rec);
  pd__buf_free(&rec);
  for (int i = 0; i < 2; i++) {
    ck_assert_int_eq(pd_store_refresh(r), PD_ERR_CORRUPT);
    ck_assert_msg(strstr(pd_last_error(), "\"ann\" already exists"), "%s", pd_last_error());
    ck_assert_uint_eq(pd_store_n_users(r), 1);
    ck_assert_uint_eq(pd_store_n_events(r), 1);
    ck_assert_int_eq(pd_store_find_user(r, "cat", &u), PD_ERR_NOT_FOUND);
  }
  pd_store_close(r);
  pd_test_rmdir(dir);
  g_free(dir);
}
END_TEST

/* A compaction that is published but which this handle then fails to load
 * (simulated): the error says it is committed, the handle refuses further
 * writes (they would go to a log nobody reads), and a reopened store has
 * everything committed, by the log path and by a bulk ingest. */
START_TEST(stale_after_failed_reload) {
  for (int bulk = 0; bulk <= 1; bulk++) {
    char *dir = pd_test_tmpdir("s");
    pd_store *s = pd_test_open(dir, 1);
    pd_writer *w;
    PD_CHECK(pd_writer_open(&w, s));
    uint32_t a = user(w, "ann");
    append(w, a, 10, PD_EV_VISIT, PD_NONE, PD_NONE, 0);
    PD_CHECK(pd_writer_commit(w));
    pd__compact_fail_reload = true;
    if (bulk) {
      char *csv = g_build_filename(dir, "in.csv", NULL);
      ck_assert(g_file_set_contents(csv, "ts,user,event\n1000,bob,visit\n2000,ann,purchase\n", -1, NULL));
      pd_ingest_options o = PD_INGEST_OPTIONS_INIT;
      o.bulk = 1;
      pd_ingest_result res = PD_INGEST_RESULT_INIT;
      ck_assert_int_eq(pd_ingest_file(w, csv, &o, &res), PD_ERR_IO);
      g_free(csv);
    } else {
      ck_assert_int_eq(pd_store_compact(s), PD_ERR_IO);
    }
    ck_assert_msg(strstr(pd_last_error(), "(committed)") && strstr(pd_last_error(), "reopen") &&
                      !strstr(pd_last_error(), "rolled back"),
                  "%s", pd_last_error());
    pd__compact_fail_reload = false;
    append(w, a, 20, PD_EV_VISIT, PD_NONE, PD_NONE, 0);
    ck_assert_int_eq(pd_writer_commit(w), PD_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(pd_last_error(), "reopen"));
    ck_assert_int_eq(pd_store_compact(s), PD_ERR_INVALID);
    pd_writer_close(w);
    pd_writer *w2 = NULL;
    ck_assert_int_eq(pd_writer_open(&w2, s), PD_ERR_INVALID);
    pd_store_close(s);
    s = pd_test_open(dir, 0);
    ck_assert_uint_eq(pd_store_n_events(s), bulk ? 3 : 1);
    ck_assert_uint_eq(pd_store_n_users(s), bulk ? 2 : 1);
    ck_assert_uint_eq(s->tail.n_committed, 0); /* all in the new segment */
    PD_CHECK(pd_writer_open(&w, s)); /* a fresh handle writes again */
    append(w, a, 30, PD_EV_VISIT, PD_NONE, PD_NONE, 0);
    PD_CHECK(pd_writer_commit(w));
    pd_writer_close(w);
    pd_store_close(s);
    pd_test_rmdir(dir);
    g_free(dir);
  }
}
END_TEST

typedef struct finder {
  pd_store *s;
  int first, ok;
} finder;

static gpointer find_some(gpointer p) {
  finder *f = p;
  for (int i = f->first; i < 500; i += 4) {
    char name[16];
    uint32_t u;
    snprintf(name, sizeof name, "u%d", i);
    f->ok += pd_store_find_user(f->s, name, &u) == PD_OK && strcmp(pd_store_user_name(f->s, u), name) == 0;
  }
  return NULL;
}

/* The name map of a freshly opened store is built by whichever of several
 * threads looks up first; the others wait and all find their users. */
START_TEST(concurrent_first_lookups) {
  char *dir = pd_test_tmpdir("s"), *orig;
  gsize len;
  char *seg = sealed_store(dir, 3000, &orig, &len);
  for (int round = 0; round < 20; round++) {
    pd_store *s = pd_test_open(dir, 0);
    finder f[4];
    GThread *t[4];
    for (int i = 0; i < 4; i++) {
      f[i] = (finder){s, i, 0};
      t[i] = g_thread_new("find", find_some, &f[i]);
    }
    int ok = 0;
    for (int i = 0; i < 4; i++) {
      g_thread_join(t[i]);
      ok += f[i].ok;
    }
    ck_assert_int_eq(ok, 500);
    pd_store_close(s);
  }
  restore_store(dir, seg, orig, len, 6000);
  g_free(dir);
}
END_TEST

START_TEST(two_writers) {
  char *dir = pd_test_tmpdir("s");
  pd_store *s1 = pd_test_open(dir, 1), *s2 = pd_test_open(dir, 0);
  pd_writer *w1, *w2 = NULL;
  PD_CHECK(pd_writer_open(&w1, s1));
  ck_assert_int_eq(pd_writer_open(&w2, s2), PD_ERR_LOCKED);
  ck_assert_ptr_null(w2);
  ck_assert_ptr_nonnull(strstr(pd_last_error(), "LOCK"));
  ck_assert_int_eq(pd_store_compact(s2), PD_ERR_LOCKED);
  /* Another process is refused too. The child reports through a pipe and
   * ends by SIGKILL: a forked child's exit would make memory checkers
   * audit a copy of the parent's heap. */
  int fds[2];
  ck_assert_int_eq(pipe(fds), 0);
  pid_t pid = fork();
  if (pid == 0) {
    pd_store *s = NULL;
    pd_writer *w = NULL;
    char code = pd_store_open(&s, dir, NULL) != PD_OK ? 2 : pd_writer_open(&w, s) == PD_ERR_LOCKED ? 0 : 1;
    if (write(fds[1], &code, 1) != 1) code = 3;
    kill(getpid(), SIGKILL);
  }
  close(fds[1]);
  char code = 9;
  ck_assert_int_eq(read(fds[0], &code, 1), 1);
  close(fds[0]);
  int status;
  waitpid(pid, &status, 0);
  ck_assert_msg(code == 0, "child: %d", code);
  fill(w1, 1, 10, 5, 4);
  pd_writer_close(w1);
  /* Once released, the second handle writes, and sees the first's events. */
  PD_CHECK(pd_writer_open(&w2, s2));
  ck_assert_uint_eq(pd_store_n_events(s2), 10);
  fill(w2, 1, 10, 5, 5);
  pd_writer_close(w2);
  PD_CHECK(pd_store_refresh(s1));
  ck_assert_uint_eq(pd_store_n_events(s1), 20);
  pd_store_close(s1);
  pd_store_close(s2);
  pd_test_rmdir(dir);
  g_free(dir);
}
END_TEST

START_TEST(reader_during_writes) {
  char *dir = pd_test_tmpdir("s");
  pd_store *ws = pd_test_open(dir, 1);
  pd_writer *w;
  PD_CHECK(pd_writer_open(&w, ws));
  fill(w, 1, 100, 20, 1);
  pd_store_options ro = PD_STORE_OPTIONS_INIT;
  ro.read_only = 1;
  pd_store *r = NULL;
  PD_CHECK(pd_store_open(&r, dir, &ro));
  ck_assert_uint_eq(pd_store_n_events(r), 100);
  pd_writer *rw = NULL;
  ck_assert_int_eq(pd_writer_open(&rw, r), PD_ERR_READONLY);
  /* A batch in progress (flushed to the log but uncommitted) is invisible. */
  for (int i = 0; i < 40000; i++) append(w, 0, i, PD_EV_VISIT, PD_NONE, PD_NONE, 0);
  PD_CHECK(pd_store_refresh(r));
  ck_assert_uint_eq(pd_store_n_events(r), 100);
  PD_CHECK(pd_writer_commit(w));
  ck_assert_uint_eq(pd_store_n_events(r), 100); /* snapshot until refresh */
  PD_CHECK(pd_store_refresh(r));
  ck_assert_uint_eq(pd_store_n_events(r), 40100);
  /* A compaction by the writer: the reader keeps its snapshot, then moves on. */
  PD_CHECK(pd_store_compact(ws));
  ck_assert_uint_eq(pd_store_n_events(r), 40100);
  char *d1 = scan_digest(r, 2, NULL);
  fill(w, 1, 10, 20, 2);
  PD_CHECK(pd_store_refresh(r));
  ck_assert_uint_eq(pd_store_n_events(r), 40110);
  char *d2 = scan_digest(ws, 2, NULL), *d3 = scan_digest(r, 2, NULL);
  ck_assert_str_eq(d2, d3);
  ck_assert_str_ne(d1, d2);
  g_free(d1);
  g_free(d2);
  g_free(d3);
  pd_store_close(r);
  pd_writer_close(w);
  pd_store_close(ws);
  pd_test_rmdir(dir);
  g_free(dir);
}
END_TEST

static void set_version(const char *path, long off, uint32_t version, long crc_off, long crc_len) {
  gsize len;
  char *buf;
  ck_assert(g_file_get_contents(path, &buf, &len, NULL));
  memcpy(buf + off, &version, 4);
  if (crc_off >= 0) {
    uint32_t crc = (uint32_t)crc32_z(0, (unsigned char *)buf, (size_t)crc_len);
    memcpy(buf + crc_off, &crc, 4);
  }
  ck_assert(g_file_set_contents(path, buf, len, NULL));
  g_free(buf);
}

START_TEST(newer_format_refused) {
  char *dir = pd_test_tmpdir("s");
  pd_store *s = pd_test_open(dir, 1);
  pd_writer *w;
  PD_CHECK(pd_writer_open(&w, s));
  fill(w, 1, 10, 5, 1);
  pd_writer_close(w);
  PD_CHECK(pd_store_compact(s));
  pd_store_close(s);
  char *manifest = g_build_filename(dir, "MANIFEST", NULL), *seg = seg_file(dir), *wal = wal_file(dir);
  pd_store *bad = NULL;
  /* Each file in turn claims version 2 (with a valid checksum). */
  struct { const char *path; long crc_off; } files[] = {{manifest, 44}, {wal, 28}, {seg, 252}};
  for (int i = 0; i < 3; i++) {
    gsize len;
    char *keep;
    ck_assert(g_file_get_contents(files[i].path, &keep, &len, NULL));
    set_version(files[i].path, 8, 2, files[i].crc_off, files[i].crc_off);
    ck_assert_int_eq(pd_store_open(&bad, dir, NULL), PD_ERR_VERSION);
    ck_assert_ptr_nonnull(strstr(pd_last_error(), "newer"));
    ck_assert(g_file_set_contents(files[i].path, keep, len, NULL));
    g_free(keep);
  }
  s = pd_test_open(dir, 0);
  pd_store_close(s);
  /* Not a store at all. */
  ck_assert(g_file_set_contents(manifest, "hello", 5, NULL));
  ck_assert_int_eq(pd_store_open(&bad, dir, NULL), PD_ERR_CORRUPT);
  g_free(manifest);
  g_free(seg);
  g_free(wal);
  pd_test_rmdir(dir);
  g_free(dir);
}
END_TEST

START_TEST(bad_arguments) {
  pd_store *s = NULL;
  ck_assert_int_eq(pd_store_open(NULL, "x", NULL), PD_ERR_INVALID);
  ck_assert_int_eq(pd_store_open(&s, NULL, NULL), PD_ERR_INVALID);
  pd_store_close(NULL);
  pd_writer_close(NULL);
  char *dir = pd_test_tmpdir("s");
  s = pd_test_open(dir, 1);
  pd_writer *w;
  PD_CHECK(pd_writer_open(&w, s));
  pd_event e = {0, 42, PD_EV_VISIT, PD_NONE, PD_NONE, 0};
  ck_assert_int_eq(pd_writer_append(w, &e), PD_ERR_NOT_FOUND); /* unknown user */
  uint32_t u = user(w, "a");
  e.user = u;
  e.type = 999;
  ck_assert_int_eq(pd_writer_append(w, &e), PD_ERR_NOT_FOUND);
  e.type = PD_EV_VISIT;
  e.touchpoint = 3;
  ck_assert_int_eq(pd_writer_append(w, &e), PD_ERR_NOT_FOUND);
  ck_assert_int_eq(pd_writer_user(w, "", &u), PD_ERR_INVALID);
  ck_assert_int_eq(pd_writer_merge_users(w, 0, 77), PD_ERR_NOT_FOUND);
  pd_touchpoint_def d = PD_TOUCHPOINT_DEF_INIT;
  d.name = "x";
  d.domain = (pd_domain)9;
  ck_assert_int_eq(pd_writer_touchpoint(w, &d, &u), PD_ERR_INVALID);
  pd_writer *w2;
  ck_assert_int_eq(pd_writer_open(&w2, s), PD_ERR_LOCKED); /* one writer per handle */
  append(w, 0, 5, PD_EV_VISIT, PD_NONE, PD_NONE, 0);
  ck_assert_int_eq(pd_store_compact(s), PD_ERR_INVALID); /* uncommitted batch */
  PD_CHECK(pd_writer_commit(w));
  PD_CHECK(pd_store_compact(s)); /* compaction through the open writer */
  append(w, 0, 6, PD_EV_VISIT, PD_NONE, PD_NONE, 0);
  PD_CHECK(pd_writer_commit(w));
  pd_store_close(s); /* closes the writer too */
  s = pd_test_open(dir, 0);
  ck_assert_uint_eq(pd_store_n_events(s), 2);
  pd_store_close(s);
  pd_test_rmdir(dir);
  g_free(dir);
}
END_TEST

static int collect_users(void *ctx, unsigned worker, const pd_user_events *ev) {
  (void)worker;
  GString *s = ctx;
  g_string_append_printf(s, "%u,", ev->user); /* one worker: ascending order */
  return 0;
}

START_TEST(tags_and_usersets) {
  for (int compact = 0; compact < 2; compact++) {
    char *dir = pd_test_tmpdir("s");
    pd_store *s = pd_test_open(dir, 1);
    pd_writer *w;
    PD_CHECK(pd_writer_open(&w, s));
    uint32_t u[6];
    for (int i = 0; i < 6; i++) {
      char name[8];
      snprintf(name, sizeof name, "u%d", i);
      u[i] = user(w, name);
      append(w, u[i], i, PD_EV_VISIT, PD_NONE, PD_NONE, 0);
    }
    PD_CHECK(pd_writer_tag(w, u[1], "vip"));
    PD_CHECK(pd_writer_tag(w, u[2], "vip"));
    PD_CHECK(pd_writer_tag(w, u[2], "会员"));
    PD_CHECK(pd_writer_tag(w, u[4], "会员"));
    PD_CHECK(pd_writer_untag(w, u[5], "never-made")); /* no-op, creates nothing */
    PD_CHECK(pd_writer_commit(w));
    ck_assert_uint_eq(pd_store_n_tags(s), 2);
    /* A rolled-back batch leaves tags as they were. */
    PD_CHECK(pd_writer_tag(w, u[3], "vip"));
    PD_CHECK(pd_writer_untag(w, u[1], "vip"));
    PD_CHECK(pd_writer_tag(w, u[3], "temp"));
    PD_CHECK(pd_writer_rollback(w));
    ck_assert_uint_eq(pd_store_n_tags(s), 2);
    /* u5 merged into u4 brings its tag; untag u2 from vip. */
    PD_CHECK(pd_writer_tag(w, u[5], "vip"));
    PD_CHECK(pd_writer_merge_users(w, u[4], u[5]));
    PD_CHECK(pd_writer_untag(w, u[2], "vip"));
    PD_CHECK(pd_writer_commit(w));
    if (compact) PD_CHECK(pd_store_compact(s));
    pd_writer_close(w);
    pd_store_close(s);

    s = pd_test_open(dir, 0);
    uint32_t vip, member;
    PD_CHECK(pd_store_find_tag(s, "vip", &vip));
    PD_CHECK(pd_store_find_tag(s, "会员", &member));
    ck_assert_int_eq(pd_store_find_tag(s, "temp", &vip), PD_ERR_NOT_FOUND);
    PD_CHECK(pd_store_find_tag(s, "vip", &vip));
    ck_assert_str_eq(pd_store_tag_name(s, member), "会员");
    ck_assert_int_eq(pd_store_user_has_tag(s, u[1], vip), 1);
    ck_assert_int_eq(pd_store_user_has_tag(s, u[2], vip), 0);
    ck_assert_int_eq(pd_store_user_has_tag(s, u[4], vip), 1); /* through the merged u5 */
    ck_assert_int_eq(pd_store_user_has_tag(s, u[5], vip), 1); /* u5 is u4 now */
    pd_userset *a, *b;
    PD_CHECK(pd_userset_from_tag(&a, s, "vip"));     /* {1, 4} */
    PD_CHECK(pd_userset_from_tag(&b, s, "会员"));    /* {2, 4} */
    ck_assert_uint_eq(pd_userset_count(a), 2);
    ck_assert(pd_userset_contains(a, u[4]) && !pd_userset_contains(a, u[5]));
    pd_userset_and(a, b);
    ck_assert_uint_eq(pd_userset_count(a), 1);
    ck_assert(pd_userset_contains(a, u[4]));
    pd_userset_or(a, b);
    pd_userset_add(a, u[0]);
    pd_userset_add(a, 999); /* out of range: ignored */
    ck_assert_uint_eq(pd_userset_count(a), 3); /* {0, 2, 4} */
    /* The scan filter visits only the set's users. */
    pd_scan_options o = PD_SCAN_OPTIONS_INIT;
    o.threads = 1;
    o.users = a;
    GString *seen = g_string_new(NULL);
    PD_CHECK(pd_scan(s, &o, collect_users, seen));
    char *want = g_strdup_printf("%u,%u,%u,", u[0], u[2], u[4]);
    ck_assert_str_eq(seen->str, want);
    g_free(want);
    g_string_free(seen, TRUE);
    pd_userset_andnot(a, b);
    ck_assert_uint_eq(pd_userset_count(a), 1);
    /* Store a computed set as a tag, replacing its members. */
    PD_CHECK(pd_writer_open(&w, s));
    PD_CHECK(pd_writer_tag_set(w, "会员", a)); /* becomes {0} */
    pd_userset_remove(a, u[0]);
    PD_CHECK(pd_writer_tag_set(w, "empty-segment", a));
    PD_CHECK(pd_writer_commit(w));
    pd_writer_close(w);
    pd_table *t;
    PD_CHECK(pd_store_tags(s, &t));
    ck_assert_uint_eq(pd_table_n_rows(t), 3);
    ck_assert_str_eq(pd_table_get_string(t, 1, 0), "会员");
    ck_assert_int_eq(pd_table_get_int64(t, 1, 1), 1);
    ck_assert_int_eq(pd_table_get_int64(t, 2, 1), 0);
    pd_table_free(t);
    ck_assert_int_eq(pd_store_user_has_tag(s, u[0], member), 1);
    ck_assert_int_eq(pd_store_user_has_tag(s, u[2], member), 0);
    pd_userset_free(a);
    pd_userset_free(b);
    pd_userset_free(NULL);
    pd_store_close(s);
    pd_test_rmdir(dir);
    g_free(dir);
  }
}
END_TEST

/* The folded CRC-32 equals zlib's for every length, alignment and start
 * value, and the per-chunk form (threads) equals chunk-by-chunk. */
typedef struct crc_seen {
  const unsigned char *p;
  size_t bytes, calls;
  bool same;
} crc_seen;

static void crc_seen_chunk(void *ctx, unsigned thread, uint64_t at, const unsigned char *b, size_t n) {
  crc_seen *s = ctx;
  (void)thread;
  __atomic_add_fetch(&s->bytes, n, __ATOMIC_RELAXED);
  __atomic_add_fetch(&s->calls, 1, __ATOMIC_RELAXED);
  if (memcmp(b, s->p + at, n) != 0) s->same = false;
}

START_TEST(crc32_matches_zlib) {
  const size_t n = 3u << 20;
  unsigned char *p = g_malloc(n + 64);
  GRand *r = g_rand_new_with_seed(77);
  for (size_t i = 0; i < n + 64; i++) p[i] = (unsigned char)g_rand_int(r);
  for (size_t len = 0; len < 1200; len++) {
    uint32_t c0 = g_rand_int(r);
    size_t off = len % 61;
    ck_assert_uint_eq(pd__crc32(c0, p + off, len), (uint32_t)crc32_z(c0, p + off, len));
  }
  for (int k = 0; k < 200; k++) {
    size_t off = (size_t)g_rand_int_range(r, 0, 64), len = (size_t)g_rand_int_range(r, 0, (gint32)n);
    uint32_t c0 = k % 2 ? g_rand_int(r) : 0;
    ck_assert_uint_eq(pd__crc32(c0, p + off, len), (uint32_t)crc32_z(c0, p + off, len));
  }
  /* Chained: the CRC of a whole equals the CRC continued piece by piece. */
  uint32_t whole = pd__crc32(0, p, n), parts = pd__crc32(pd__crc32(0, p, 1000003), p + 1000003, n - 1000003);
  ck_assert_uint_eq(whole, parts);
  const size_t chunk = 1u << 18;
  size_t chunks = (n - 5 + chunk - 1) / chunk;
  uint32_t *got = g_new(uint32_t, chunks + 1); /* + 1: the range past the file's end below */
  /* The same chunks from memory and read from a file, on 1 to 3 threads;
   * the visitor sees every byte once, at its offset. */
  char *dir = pd_test_tmpdir("crc"), *path = g_build_filename(dir, "data", NULL);
  ck_assert_int_eq(g_mkdir_with_parents(dir, 0700), 0);
  ck_assert(g_file_set_contents(path, (const char *)p, (gssize)n, NULL));
  int fd = open(path, O_RDONLY);
  ck_assert_int_ge(fd, 0);
  for (int from_file = 0; from_file <= 1; from_file++)
    for (unsigned threads = 1; threads <= 3; threads++) {
      memset(got, 0, chunks * sizeof *got);
      crc_seen seen = {p, 0, 0, true};
      pd__crc_chunks_src src = {.mem = from_file ? NULL : p, .fd = fd, .start = 5, .n = n - 5, .chunk = chunk,
                                .each = crc_seen_chunk, .ctx = &seen};
      uint64_t bad = 1;
      ck_assert_int_eq(pd__crc32_chunks(&src, got, threads, &bad), 0);
      for (size_t c = 0; c < chunks; c++) {
        size_t from = 5 + c * chunk, len = n - from < chunk ? n - from : chunk;
        ck_assert_uint_eq(got[c], (uint32_t)crc32_z(0, p + from, len));
      }
      ck_assert_uint_eq(seen.bytes, n - 5);
      ck_assert(seen.same);
      ck_assert_uint_eq(seen.calls, chunks);
    }
  /* A file shorter than the range: EIO, at the chunk that runs past its end. */
  pd__crc_chunks_src past = {.fd = fd, .start = 5, .n = n + 100, .chunk = chunk};
  uint64_t bad = 0;
  ck_assert_int_eq(pd__crc32_chunks(&past, got, 2, &bad), EIO);
  ck_assert_uint_eq(bad, 5 + (n - 5) / chunk * chunk);
  close(fd);
  pd_test_rmdir(dir);
  g_free(dir);
  g_free(path);
  g_free(got);
  g_rand_free(r);
  g_free(p);
}
END_TEST

/* Test switches back to normal after every test, also when one fails
 * without a fork of its own. */
static void reset_switches(void) {
  pd__segment_no_reserve = false;
  pd__compact_fail_reload = false;
}

int main(void) {
  Suite *s = suite_create("store");
  TCase *tc = tcase_create("store");
  tcase_add_checked_fixture(tc, NULL, reset_switches);
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, create_append_reopen);
  tcase_add_test(tc, rollback_discards_batch);
  tcase_add_test(tc, aliases_and_merges);
  tcase_add_test(tc, scan_order_and_compaction);
  tcase_add_test(tc, scan_range_and_cancel);
  tcase_add_test(tc, large_unsorted_users_stable);
  tcase_add_loop_test(tc, compact_rounds_equal_log, 0, 2);
  tcase_add_test(tc, torn_tail_every_offset);
  tcase_add_test(tc, sigkill_during_ingest);
  tcase_add_test(tc, flipped_byte_in_segment);
  tcase_add_test(tc, forged_segment_refs);
  tcase_add_test(tc, forged_rows_of_merged_user);
  tcase_add_test(tc, user_map_built_on_lookup);
  tcase_add_test(tc, concurrent_first_lookups);
  tcase_add_test(tc, duplicate_name_in_log);
  tcase_add_test(tc, failed_refresh_keeps_snapshot);
  tcase_add_test(tc, stale_after_failed_reload);
  tcase_add_test(tc, two_writers);
  tcase_add_test(tc, reader_during_writes);
  tcase_add_test(tc, newer_format_refused);
  tcase_add_test(tc, bad_arguments);
  tcase_add_test(tc, tags_and_usersets);
  tcase_add_test(tc, crc32_matches_zlib);
  suite_add_tcase(s, tc);
  return pd_test_run(s);
}
