/* A tiny "CRM" that embeds libprivdomain (public API only).
 *
 * It keeps its customers' purchases in a store on local disk: events are
 * appended as they happen and committed at the end of each business day.
 * Then, as a CRM would before a campaign, it fits a customer-lifetime-value
 * model (BG/NBD for how often and how long customers keep buying,
 * Gamma-Gamma for how much they spend) on the store's RFM summary, asks for
 * each customer's probability of still being a customer (P(alive)) and
 * expected value over the next 12 months, and prints what to do with them.
 *
 *   crm-example STORE              simulate 540 days of shop life, then advise on
 *                                  a few customers (and the whole list with --all)
 *   crm-example STORE CUSTOMER...  advise on these customers (ids like "wx:lin")
 *
 * An existing store is reused: the simulation only adds the days it has not
 * written yet, so a second run appends nothing and gives the same answers.
 *
 * Build: cc crm-example.c $(pkg-config --cflags --libs privdomain)
 */
#include <privdomain.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DAY_MS INT64_C(86400000)
/* "Today" of the simulation: 2025-06-30 00:00 UTC. Fixed, so runs repeat. */
#define TODAY_MS INT64_C(1751241600000)
#define HISTORY_DAYS 540
#define CROWD 80 /* customers besides the named ones */

/* The named customers the CRM operator asks about by default. */
typedef struct profile {
  const char *id;
  const char *who;
  int first_day; /* days before today of the first purchase */
  int last_day;  /* days before today of the last one */
  int every;     /* days between purchases */
  int64_t spend; /* minor units (fen) per purchase */
} profile;

static const profile named[] = {
    {"wx:lin", "buys every week, last bought yesterday", 365, 1, 7, 8800},
    {"wx:chen", "buys every month, last bought 12 days ago", 402, 12, 30, 25600},
    {"wx:zhao", "bought weekly for four months, silent for a year", 498, 365, 7, 9900},
    {"wx:wang", "bought twice, the last time 200 days ago", 230, 200, 30, 4500},
    {"wx:sun", "one purchase, 40 days ago", 40, 40, 1, 16800},
};
#define N_NAMED (sizeof named / sizeof named[0])

/* A small deterministic generator (xorshift), so the crowd repeats. */
static uint64_t rng_state = 0x9E3779B97F4A7C15u;
static double uniform(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return (double)(rng_state >> 11) / 9007199254740992.0;
}

/* The crowd: each customer joins some day, buys every few days to weeks
 * and, for most, stops at some point (the "buy till you die" story). */
typedef struct crowd_member {
  int first_day, last_day, every;
  int64_t spend;
} crowd_member;

static void make_crowd(crowd_member *c) {
  for (int i = 0; i < CROWD; i++) {
    c[i].first_day = 30 + (int)(uniform() * (HISTORY_DAYS - 30));
    c[i].every = 5 + (int)(uniform() * 50);
    int life = (int)(uniform() * 400);
    if (uniform() < 0.35) life = HISTORY_DAYS; /* still a customer */
    c[i].last_day = c[i].first_day - life > 0 ? c[i].first_day - life : 0;
    c[i].spend = 2000 + (int64_t)(uniform() * 30000);
  }
}

/* Appends day `d`'s purchases (d days before today) as the shop's till
 * would, then commits the day. */
static pd_status write_day(pd_writer *w, int d, const crowd_member *crowd, const uint32_t *ids, uint32_t shop) {
  int64_t t = TODAY_MS - (int64_t)d * DAY_MS + 11 * INT64_C(3600000); /* 11:00 UTC = 19:00 in Shanghai */
  pd_status st = PD_OK;
  for (size_t i = 0; i < N_NAMED + CROWD && st == PD_OK; i++) {
    int first, last, every;
    int64_t spend;
    if (i < N_NAMED) {
      first = named[i].first_day, last = named[i].last_day, every = named[i].every, spend = named[i].spend;
    } else {
      const crowd_member *c = &crowd[i - N_NAMED];
      first = c->first_day, last = c->last_day, every = c->every, spend = c->spend;
    }
    if (d > first || d < last || (first - d) % every != 0) continue;
    if (d == first) { /* the customer is acquired at the till with the first purchase */
      pd_event acq = {t - 60000, ids[i], PD_EV_ACQUIRE, shop, PD_NONE, 0};
      st = pd_writer_append(w, &acq);
    }
    /* baskets vary around the customer's usual spend: 60% to 140% */
    uint64_t h = ((uint64_t)i * 0x9E3779B97F4A7C15u) ^ ((uint64_t)d * 0xC2B2AE3D27D4EB4Fu);
    h ^= h >> 29;
    h *= 0xBF58476D1CE4E5B9u;
    h ^= h >> 32;
    int64_t basket = spend * (60 + (int64_t)(h % 81)) / 100;
    pd_event buy = {t, ids[i], PD_EV_PURCHASE, shop, PD_NONE, basket};
    if (st == PD_OK) st = pd_writer_append(w, &buy);
  }
  if (st == PD_OK) st = pd_writer_commit(w);
  return st;
}

/* Writes the days the store does not have yet. */
static pd_status simulate(pd_store *store) {
  crowd_member crowd[CROWD];
  make_crowd(crowd);
  /* the newest event already stored says where a previous run stopped */
  int from = HISTORY_DAYS;
  if (pd_store_n_events(store) > 0) {
    pd_table *info;
    pd_status st = pd_store_info(store, &info);
    if (st != PD_OK) return st;
    long key = pd_table_col_index(info, "key"), value = pd_table_col_index(info, "value");
    for (size_t i = 0; key >= 0 && value >= 0 && i < pd_table_n_rows(info); i++)
      if (strcmp(pd_table_get_string(info, i, (size_t)key), "time_max_ms") == 0) /* a purchase at 11:00 of day d */
        from = (int)((TODAY_MS + 11 * INT64_C(3600000) - pd_table_get_int64(info, i, (size_t)value)) / DAY_MS) - 1;
    pd_table_free(info);
  }
  if (from < 1) return PD_OK; /* up to date */
  pd_writer *w;
  pd_status st = pd_writer_open(&w, store);
  if (st != PD_OK) return st;
  uint32_t ids[N_NAMED + CROWD], shop;
  pd_touchpoint_def till = PD_TOUCHPOINT_DEF_INIT;
  till.name = "门店收银·上海"; /* the shop's till in Shanghai */
  till.domain = PD_DOMAIN_PRIVATE;
  till.carrier = PD_CARRIER_STORE;
  st = pd_writer_touchpoint(w, &till, &shop);
  for (size_t i = 0; i < N_NAMED + CROWD && st == PD_OK; i++) {
    char id[32];
    if (i < N_NAMED) snprintf(id, sizeof id, "%s", named[i].id);
    else snprintf(id, sizeof id, "wx:member%03zu", i - N_NAMED);
    st = pd_writer_user(w, id, &ids[i]);
  }
  for (int d = from; d >= 1 && st == PD_OK; d--) st = write_day(w, d, crowd, ids, shop); /* up to yesterday */
  pd_writer_close(w);
  return st;
}

/* What the CRM does with a customer. */
static const char *advice(double purchases, double days_ago, double p_alive, double clv, double top_clv) {
  /* BG/NBD cannot tell a one-time buyer's P(alive) (it is 1 by construction):
   * go by how long ago that purchase was */
  if (purchases <= 1) return days_ago <= 60 ? "new: send a second-purchase coupon"
                                            : "one-time buyer, long quiet: send a win-back coupon";
  if (p_alive < 0.3) return "likely dormant: send a win-back coupon";
  if (p_alive < 0.7) return "cooling down: a personal message from their shop assistant";
  if (clv >= top_clv) return "active and valuable: invite to the VIP member group";
  return "active: keep in the regular weekly push";
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  if (argc < 2 || strcmp(argv[1], "--help") == 0) {
    fprintf(stderr, "usage: crm-example STORE [--all | CUSTOMER...]\n");
    return 2;
  }
  int all = argc > 2 && strcmp(argv[2], "--all") == 0;
  pd_store_options so = PD_STORE_OPTIONS_INIT;
  so.create = 1;
  pd_store *store = NULL;
  pd_table *rfm = NULL, *scores = NULL;
  pd_clv_model *count = NULL, *spend = NULL;
  double *clvs = NULL;
  int rc = 1;
  if (pd_store_open(&store, argv[1], &so) != PD_OK || simulate(store) != PD_OK) goto fail;
  printf("store %s: %u customers, %llu events up to %s\n", argv[1], pd_store_n_users(store),
         (unsigned long long)pd_store_n_events(store), "2025-06-30");

  /* RFM in days up to today; BG/NBD and Gamma-Gamma fitted on it */
  pd_rfm_options ro = PD_RFM_OPTIONS_INIT;
  ro.tz = "Asia/Shanghai";
  ro.calibration_end = TODAY_MS - DAY_MS; /* through yesterday (its whole day) */
  pd_clv_fit_options fo = PD_CLV_FIT_OPTIONS_INIT;
  fo.penalty = 0.001; /* a light L2 penalty keeps BG/NBD finite on a small shop; not for Gamma-Gamma,
                         whose scale parameter is in fen and would be pulled to 0 */
  if (pd_rfm_from_store(store, &ro, &rfm) != PD_OK || pd_clv_fit_table(PD_CLV_BGNBD, rfm, &fo, &count) != PD_OK ||
      pd_clv_fit_table(PD_CLV_GAMMA_GAMMA, rfm, NULL, &spend) != PD_OK)
    goto fail;
  /* per customer: P(alive), purchases in the next 30 days, CLV over 12 months
   * (1% a month discount, 30 days a month) */
  if (pd_clv_score_table(count, spend, rfm, 30, 12, 0.01, 30, &scores) != PD_OK) goto fail;
  printf("model: BG/NBD%s on %zu paying customers\n", pd_clv_model_converged(count) ? "" : " (not converged)",
         pd_table_n_rows(rfm));

  long c_id = pd_table_col_index(scores, "external_id"), c_f = pd_table_col_index(scores, "frequency"),
       c_r = pd_table_col_index(scores, "recency"), c_T = pd_table_col_index(scores, "T"),
       c_a = pd_table_col_index(scores, "p_alive"), c_e = pd_table_col_index(scores, "expected_purchases"),
       c_v = pd_table_col_index(scores, "clv");
  if (c_id < 0 || c_f < 0 || c_a < 0 || c_e < 0 || c_v < 0) {
    fprintf(stderr, "crm-example: unexpected score table\n");
    goto done;
  }
  /* "valuable" = the top quarter of predicted value */
  size_t n = pd_table_n_rows(scores);
  if (!(clvs = malloc((n + 1) * sizeof *clvs))) goto done;
  for (size_t i = 0; i < n; i++) clvs[i] = pd_table_get_double(scores, i, (size_t)c_v);
  qsort(clvs, n, sizeof *clvs, cmp_double);
  double top = n ? clvs[(3 * n) / 4] : 0;

  printf("\n%-14s %9s %9s %9s %8s %14s  %s\n", "customer", "purchases", "days_ago", "p_alive", "next_30d", "clv_12m",
         "recommendation");
  int asked = all ? 0 : argc > 2 ? argc - 2 : (int)N_NAMED;
  size_t answered = 0;
  for (size_t i = 0; i < n; i++) {
    const char *id = pd_table_get_string(scores, i, (size_t)c_id);
    int want = all;
    for (int k = 0; !want && k < asked; k++) want = strcmp(id, argc > 2 ? argv[2 + k] : named[k].id) == 0;
    if (!want) continue;
    double x = pd_table_get_double(scores, i, (size_t)c_f), tx = pd_table_get_double(scores, i, (size_t)c_r),
           T = pd_table_get_double(scores, i, (size_t)c_T), pa = pd_table_get_double(scores, i, (size_t)c_a),
           e30 = pd_table_get_double(scores, i, (size_t)c_e), clv = pd_table_get_double(scores, i, (size_t)c_v);
    char money[48];
    pd_chart_format_value(clv, PD_VALUE_CURRENCY, "\xC2\xA5", 2, money, sizeof money);
    /* purchase days = frequency + 1; T - recency = days from the last
     * purchase day to yesterday, the calibration end */
    double ago = T - tx + 1;
    printf("%-14s %9.0f %9.0f %8.1f%% %8.2f %14s  %s\n", id, x + 1, ago, pa * 100, e30, money,
           advice(x + 1, ago, pa, clv, top));
    answered++;
  }
  if (!all && answered < (size_t)asked) printf("(%zu customer(s) asked for: unknown or no purchase yet)\n",
                                               (size_t)asked - answered);
  rc = 0;
  goto done;
fail:
  fprintf(stderr, "crm-example: %s\n", pd_last_error());
done:
  free(clvs);
  pd_table_free(scores);
  pd_table_free(rfm);
  pd_clv_model_free(count);
  pd_clv_model_free(spend);
  pd_store_close(store);
  return rc;
}
