/* A slow, independent reference for cohort retention, and its agreement
 * test on a generated 100,000-user store (included by test-retention.c).
 *
 * The reference works event by event with pd__period_index() (no period
 * cursor, no growable cohort arrays, no marks): it sorts each user's
 * events by (time, insertion), finds the first acquire, and keeps a hash
 * table keyed by (cohort start, k) of returned users and revenue. */

typedef struct ref_cfg {
  pd_period period;
  const char *tz;
  pd_retention_mode mode;
  pd__tz *z;
  GHashTable *cells;   /* (cohort start, k) -> ref_cell */
  GHashTable *sizes;   /* cohort start -> users */
  int64_t max_time;
} ref_cfg;

typedef struct ref_cell {
  int64_t users, revenue;
} ref_cell;

static int64_t *ref_key(int64_t cstart, int64_t k) {
  int64_t *key = g_new(int64_t, 1);
  *key = cstart * 8192 + k;
  return key;
}

static ref_cell *ref_get(GHashTable *h, int64_t cstart, int64_t k) {
  int64_t key = cstart * 8192 + k;
  ref_cell *c = g_hash_table_lookup(h, &key);
  if (!c) {
    c = g_new0(ref_cell, 1);
    g_hash_table_insert(h, ref_key(cstart, k), c);
  }
  return c;
}

/* One user's events in store order (time, then insertion). */
static void ref_user_add(ref_cfg *cfg, const ev *e, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (e[i].t > cfg->max_time) cfg->max_time = e[i].t;
  size_t s = 0;
  while (s < n && e[s].type != ACQ) s++;
  if (s == n) return;
  int64_t c = pd__period_index(cfg->z, cfg->period, e[s].t);
  int64_t cstart = pd__period_start_utc(cfg->z, cfg->period, c);
  int64_t key = cstart;
  int64_t *size = g_hash_table_lookup(cfg->sizes, &key);
  if (!size) {
    size = g_new0(int64_t, 1);
    int64_t *k0 = g_new(int64_t, 1);
    *k0 = cstart;
    g_hash_table_insert(cfg->sizes, k0, size);
  }
  ++*size;
  bool returned[4096] = {false};
  int64_t maxk = -1;
  for (size_t i = s; i < n; i++) {
    int64_t k = pd__period_index(cfg->z, cfg->period, e[i].t) - c;
    ck_assert(k >= 0 && k < 4096);
    if (e[i].type == BUY) ref_get(cfg->cells, cstart, k)->revenue += e[i].amount;
    if (e[i].type == REFUND) ref_get(cfg->cells, cstart, k)->revenue -= e[i].amount;
    if (i > s && e[i].type != ACQ) {
      returned[k] = true;
      if (k > maxk) maxk = k;
    }
  }
  for (int64_t k = 0; k <= maxk; k++)
    if (cfg->mode == PD_RETENTION_ON_OR_AFTER || returned[k]) ref_get(cfg->cells, cstart, k)->users++;
}

/* Checks a LONG table against the reference: every row, and that no
 * reference cell with data is missing from the table. */
static void ref_check(ref_cfg *cfg, const pd_table *t) {
  int64_t p_end = pd__period_index(cfg->z, cfg->period, cfg->max_time);
  size_t matched = 0, cohorts = 0;
  for (size_t r = 0; r < pd_table_n_rows(t); r++) {
    int64_t cstart = pd_table_get_int64(t, r, col(t, "cohort_start"));
    int64_t k = pd_table_get_int64(t, r, col(t, "k"));
    int64_t key = cstart;
    int64_t *size = g_hash_table_lookup(cfg->sizes, &key);
    ck_assert_msg(size != NULL, "period %d tz %s mode %d: cohort %s (start %lld) k %lld not in the reference",
                  (int)cfg->period, cfg->tz, (int)cfg->mode, pd_table_get_string(t, r, col(t, "cohort")),
                  (long long)cstart, (long long)k);
    ck_assert_int_eq(pd_table_get_int64(t, r, col(t, "cohort_users")), *size);
    int64_t c = pd__period_index(cfg->z, cfg->period, cstart);
    bool observable = c + k <= p_end;
    ck_assert_int_eq(pd_table_get_int64(t, r, col(t, "eligible")), observable ? *size : 0);
    key = cstart * 8192 + k;
    ref_cell *cell = g_hash_table_lookup(cfg->cells, &key);
    ref_cell zero = {0, 0};
    if (!cell) cell = &zero;
    else matched++;
    if (k == 0) cohorts++;
    ck_assert_int_eq(pd_table_get_int64(t, r, col(t, "users")), cell->users);
    if (observable) {
      ck_assert_int_eq(pd_table_get_int64(t, r, col(t, "revenue")), cell->revenue);
      ck_assert_double_eq_tol(pd_table_get_double(t, r, col(t, "rate")), (double)cell->users / (double)*size, 1e-12);
    } else {
      ck_assert(pd_table_is_null(t, r, col(t, "rate")));
    }
  }
  ck_assert_uint_eq(matched, g_hash_table_size(cfg->cells));
  ck_assert_uint_eq(cohorts, g_hash_table_size(cfg->sizes));
}

/* splitmix64 */
static uint64_t ref_rand(uint64_t *s) {
  uint64_t z = (*s += UINT64_C(0x9e3779b97f4a7c15));
  z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
  z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
  return z ^ (z >> 31);
}
static int64_t ref_range(uint64_t *s, int64_t n) { return (int64_t)(ref_rand(s) % (uint64_t)n); }

/* Generates one user: events in insertion order (times not sorted for
 * every third user), and the same events in store order into `sorted`. */
static size_t ref_gen_user(uint64_t *rng, ev *ins, ev *sorted) {
  size_t n = 1 + (size_t)ref_range(rng, 30);
  int64_t t = utc(2024, 1, 1, 0, 0) + ref_range(rng, 180 * 24) * H;
  bool starts_acq = ref_range(rng, 10) != 0;
  for (size_t i = 0; i < n; i++) {
    if (i) t += ref_range(rng, 4) == 0 ? 0 : ref_range(rng, 24 * 40) * H / (ref_range(rng, 3) + 1);
    uint16_t ty;
    int64_t r = ref_range(rng, 100);
    if (i == 0 && starts_acq) ty = ACQ;
    else if (r < 5) ty = ACQ;
    else if (r < 20) ty = BUY;
    else if (r < 24) ty = REFUND;
    else if (r < 40) ty = PD_EV_MESSAGE_OPEN;
    else ty = VISIT;
    sorted[i] = (ev){t, ty, (uint32_t)ref_range(rng, 3), ty == BUY || ty == REFUND ? 1 + ref_range(rng, 50000) : 0};
  }
  /* insertion order: reversed for every third user, then store order is
   * the stable sort by time of the insertion order */
  bool rev = ref_range(rng, 3) == 0;
  for (size_t i = 0; i < n; i++) ins[i] = sorted[rev ? n - 1 - i : i];
  for (size_t i = 0; i < n; i++) sorted[i] = ins[i];
  for (size_t i = 1; i < n; i++) { /* insertion sort: stable */
    ev x = sorted[i];
    size_t j = i;
    while (j > 0 && sorted[j - 1].t > x.t) {
      sorted[j] = sorted[j - 1];
      j--;
    }
    sorted[j] = x;
  }
  return n;
}

/* 100,000 generated users written out of order (a third reversed), with a
 * compaction half-way; day (Asia/Shanghai), week (Europe/Berlin) and month
 * (Asia/Shanghai), classic and on-or-after, through pd_retention_run on two
 * threads, against the reference. */
START_TEST(store_agreement_100k) {
  const uint32_t N = 100000;
  ref_cfg cfg[6];
  static const pd_period periods[3] = {PD_PERIOD_DAY, PD_PERIOD_WEEK, PD_PERIOD_MONTH};
  static const char *zones[3] = {"Asia/Shanghai", "Europe/Berlin", "Asia/Shanghai"};
  for (int i = 0; i < 6; i++) {
    cfg[i] = (ref_cfg){periods[i / 2], zones[i / 2], i % 2 ? PD_RETENTION_ON_OR_AFTER : PD_RETENTION_CLASSIC, NULL,
                       g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, g_free),
                       g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, g_free), INT64_MIN};
    ck_assert_int_eq(pd__tz_open(cfg[i].tz, &cfg[i].z), PD_OK);
  }
  char *dir = pd_test_tmpdir("retention100k");
  pd_store *st = pd_test_open(dir, 1);
  pd_writer *w = NULL;
  PD_CHECK(pd_writer_open(&w, st));
  for (uint32_t i = 0; i < 3; i++) {
    char name[8];
    snprintf(name, sizeof name, "tp%u", i);
    uint32_t id;
    PD_CHECK(pd_writer_touchpoint_name(w, name, &id));
  }
  uint64_t rng = UINT64_C(20241122);
  ev ins[32], sorted[32];
  for (uint32_t id = 0; id < N; id++) {
    size_t n = ref_gen_user(&rng, ins, sorted);
    char name[16];
    snprintf(name, sizeof name, "u%u", id);
    uint32_t uid;
    PD_CHECK(pd_writer_user(w, name, &uid));
    for (size_t i = 0; i < n; i++) {
      pd_event e = {ins[i].t, uid, ins[i].type, ins[i].tp, PD_NONE, ins[i].amount};
      PD_CHECK(pd_writer_append(w, &e));
    }
    for (int c = 0; c < 6; c++) ref_user_add(&cfg[c], sorted, n);
    if (id % 10000 == 9999) PD_CHECK(pd_writer_commit(w));
    if (id == N / 2) {
      PD_CHECK(pd_writer_commit(w));
      PD_CHECK(pd_store_compact(st));
    }
  }
  PD_CHECK(pd_writer_commit(w));
  pd_writer_close(w);
  for (int c = 0; c < 6; c++) {
    pd_retention_options o = PD_RETENTION_OPTIONS_INIT;
    o.period = cfg[c].period;
    o.tz = cfg[c].tz;
    o.mode = cfg[c].mode;
    pd_scan_options so = PD_SCAN_OPTIONS_INIT;
    so.threads = 2;
    pd_table *t = NULL;
    PD_CHECK(pd_retention_run(st, &o, &so, &t, NULL, NULL));
    ck_assert_uint_gt(pd_table_n_rows(t), 10);
    ref_check(&cfg[c], t);
    pd_table_free(t);
    g_hash_table_destroy(cfg[c].cells);
    g_hash_table_destroy(cfg[c].sizes);
    pd__tz_free(cfg[c].z);
  }
  pd_store_close(st);
  pd_test_rmdir(dir);
  g_free(dir);
}
END_TEST
