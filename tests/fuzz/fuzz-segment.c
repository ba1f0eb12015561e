/* Fuzz target: the segment expression language (segments.h). Every input is
 * checked, and where it parses, evaluated on a small store built once
 * (twelve users, two touchpoints, three tags, a spread of events). Invariants:
 * a parse error names a column; evaluation fails only with a documented
 * status and a message; a result never holds more users than the store, is
 * the same when evaluated again, and NOT of it is exactly its complement. */
#include <glib.h>
#include <string.h>

#include "fuzz.h"
#include "privdomain/segments.h"

static pd_store *store;
static char *store_dir;

static void drop_store(void) {
  pd_store_close(store);
  char *argv[] = {"rm", "-rf", store_dir, NULL};
  g_spawn_sync(NULL, argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, NULL, NULL);
  g_free(store_dir);
}

static void build_store(void) {
  store_dir = g_dir_make_tmp("pd-fuzz-segment-XXXXXX", NULL);
  FUZZ_CHECK(store_dir != NULL);
  pd_store_options o = PD_STORE_OPTIONS_INIT;
  o.create = 1;
  o.durability = PD_DURABILITY_BATCH;
  FUZZ_CHECK(pd_store_open(&store, store_dir, &o) == PD_OK);
  atexit(drop_store);
  pd_writer *w = NULL;
  FUZZ_CHECK(pd_writer_open(&w, store) == PD_OK);
  pd_touchpoint_def wecom = PD_TOUCHPOINT_DEF_INIT, ads = PD_TOUCHPOINT_DEF_INIT;
  wecom.name = "wecom";
  wecom.domain = PD_DOMAIN_PRIVATE;
  wecom.carrier = PD_CARRIER_WECOM;
  ads.name = "广告";
  ads.domain = PD_DOMAIN_PUBLIC;
  ads.carrier = PD_CARRIER_FEED_AD;
  uint32_t tp[2];
  FUZZ_CHECK(pd_writer_touchpoint(w, &wecom, &tp[0]) == PD_OK);
  FUZZ_CHECK(pd_writer_touchpoint(w, &ads, &tp[1]) == PD_OK);
  const char *tags[] = {"vip", "new", "churn risk"};
  for (uint32_t i = 0; i < 12; i++) {
    char name[16];
    snprintf(name, sizeof name, "u%u", i);
    uint32_t u;
    FUZZ_CHECK(pd_writer_user(w, name, &u) == PD_OK);
    if (i % 4 != 3) FUZZ_CHECK(pd_writer_tag(w, u, tags[i % 3]) == PD_OK); /* 3, 7, 11: untagged */
    if (i == 11) continue; /* a user without events */
    int64_t t0 = INT64_C(1700000000000) + (int64_t)i * 86400000;
    pd_event e = {t0, u, PD_EV_ACQUIRE, i % 5 == 0 ? PD_NONE : tp[i % 2], PD_NONE, 0};
    FUZZ_CHECK(pd_writer_append(w, &e) == PD_OK);
    for (uint32_t k = 0; k < i % 4; k++) {
      pd_event p = {t0 + (int64_t)(k + 1) * 3600000, u, PD_EV_PURCHASE, tp[0], PD_NONE, 1000 * (int64_t)(i + k)};
      FUZZ_CHECK(pd_writer_append(w, &p) == PD_OK);
    }
    if (i % 3 == 0) {
      pd_event r = {t0 + 7200000, u, PD_EV_INVITE, tp[0], PD_NONE, 0};
      FUZZ_CHECK(pd_writer_append(w, &r) == PD_OK);
    }
  }
  FUZZ_CHECK(pd_writer_commit(w) == PD_OK);
  pd_writer_close(w);
}

static int eval_count(const char *expr, uint64_t *count) {
  pd_segment_options o = PD_SEGMENT_OPTIONS_INIT;
  o.threads = 1;
  pd_userset *set = NULL;
  pd_status st = pd_segment_eval_expr(store, expr, &o, &set);
  if (st != PD_OK) {
    FUZZ_CHECK(set == NULL);
    FUZZ_CHECK(st == PD_ERR_NOT_FOUND || st == PD_ERR_PARSE || st == PD_ERR_INVALID || st == PD_ERR_RANGE);
    FUZZ_CHECK(pd_last_error()[0] != '\0');
    return (int)st;
  }
  *count = pd_userset_count(set);
  pd_userset_free(set);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > 4096) return 0;
  if (!store) build_store();
  char *expr = g_strndup((const char *)data, size); /* stops at an embedded NUL */
  pd_status st = pd_segment_check(expr);
  if (st != PD_OK) {
    FUZZ_CHECK(st == PD_ERR_PARSE || st == PD_ERR_INVALID);
    if (st == PD_ERR_PARSE) FUZZ_CHECK(strstr(pd_last_error(), "column ") != NULL);
    g_free(expr);
    return 0;
  }
  uint64_t n = 0, again = 0, negated = 0;
  int rc = eval_count(expr, &n);
  if (rc == 0) {
    FUZZ_CHECK(n <= pd_store_n_users(store));
    FUZZ_CHECK(eval_count(expr, &again) == 0 && again == n);
    char *not_expr = g_strconcat("not (", expr, ")", NULL);
    if (pd_segment_check(not_expr) == PD_OK) {
      FUZZ_CHECK(eval_count(not_expr, &negated) == 0);
      FUZZ_CHECK(n + negated == pd_store_n_users(store));
    } else { /* only the nesting limit may refuse it */
      FUZZ_CHECK(strstr(pd_last_error(), "nested at most") != NULL);
    }
    g_free(not_expr);
  }
  g_free(expr);
  return 0;
}
