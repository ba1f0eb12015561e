/* Full scan of a store through the public pd_scan(), best of several runs,
 * with two visitors that read every event's time, type and amount:
 *  - "sums": adds each column up (what the scan engine delivers: the
 *    visitor costs about one instruction a value, so the scan runs at
 *    memory speed): scan_events, scan_seconds, scan_events_per_s and
 *    scan_gbps (bytes of the three columns, 8+2+8 per event, / time);
 *  - "revenue": revenue and count per event type plus the time span, an
 *    analysis-like visitor whose scattered table updates bound it by the
 *    core rather than by memory: scan_revenue_seconds, scan_revenue_gbps.
 * Usage: scan-bench STORE [threads] [repeats]. */
#include <privdomain.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Per-type sums go to four interleaved tables (event i to table i % 4),
 * added up after the scan: consecutive events of one type then do not wait
 * for each other's read-modify-write of one counter (store forwarding), so
 * the visitor does the same work without being bound by it. */
typedef struct partial {
  int64_t amount[4][64];
  uint64_t count[4][64];
  int64_t tmin, tmax, tsum;
  uint64_t events;
  char pad[64];
} partial;

static int visit(void *ctx, unsigned worker, const pd_user_events *ev) {
  partial *p = &((partial *)ctx)[worker];
  const int64_t *time = ev->time, *amount = ev->amount;
  const uint16_t *type = ev->type;
  const int64_t t0 = time[0];
  int64_t tsum = 0;
  size_t i = 0, n = ev->n;
  for (; i + 4 <= n; i += 4)
    for (size_t j = 0; j < 4; j++) {
      unsigned t = type[i + j] & 63;
      p->amount[j][t] += amount[i + j];
      p->count[j][t]++;
      tsum += time[i + j] - t0; /* every time is read */
    }
  for (; i < n; i++) {
    unsigned t = type[i] & 63;
    p->amount[0][t] += amount[i];
    p->count[0][t]++;
    tsum += time[i] - t0;
  }
  p->tsum += tsum;
  if (t0 < p->tmin) p->tmin = t0;
  if (time[n - 1] > p->tmax) p->tmax = time[n - 1];
  p->events += n;
  return 0;
}

typedef struct sums { /* one cache line a worker */
  int64_t time, amount, type;
  char pad[40];
} sums;

static int visit_sums(void *ctx, unsigned worker, const pd_user_events *ev) {
  sums *p = &((sums *)ctx)[worker];
  const int64_t *time = ev->time, *amount = ev->amount;
  const uint16_t *type = ev->type;
  int64_t a = 0, b = 0, c = 0;
  for (size_t i = 0; i < ev->n; i++) {
    a += time[i];
    b += amount[i];
    c += type[i];
  }
  p->time += a;
  p->amount += b;
  p->type += c;
  return 0;
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: scan-bench STORE [threads] [repeats]\n");
    return 2;
  }
  pd_scan_options so = PD_SCAN_OPTIONS_INIT;
  so.threads = argc > 2 ? (unsigned)atoi(argv[2]) : 0;
  int repeats = argc > 3 ? atoi(argv[3]) : 5;
  pd_store_options o = PD_STORE_OPTIONS_INIT;
  o.read_only = 1;
  pd_store *store;
  if (pd_store_open(&store, argv[1], &o) != PD_OK) {
    fprintf(stderr, "scan-bench: %s\n", pd_last_error());
    return 1;
  }
  unsigned workers = pd_scan_workers(&so);
  partial *parts = malloc(workers * sizeof *parts);
  sums *sp = aligned_alloc(64, workers * sizeof *sp);
  double best_sums = 1e30;
  int64_t amount_sum = 0;
  for (int r = 0; r < repeats && sp; r++) {
    memset(sp, 0, workers * sizeof *sp);
    double t0 = now();
    if (pd_scan(store, &so, visit_sums, sp) != PD_OK) {
      fprintf(stderr, "scan-bench: %s\n", pd_last_error());
      return 1;
    }
    double secs = now() - t0;
    if (secs < best_sums) best_sums = secs;
    amount_sum = 0;
    for (unsigned w = 0; w < workers; w++) amount_sum += sp[w].amount;
  }
  double best = 1e30;
  uint64_t events = 0;
  int64_t purchase = 0, tsum = 0;
  for (int r = 0; r < repeats && parts; r++) {
    for (unsigned w = 0; w < workers; w++) {
      memset(&parts[w], 0, sizeof parts[w]);
      parts[w].tmin = INT64_MAX;
      parts[w].tmax = INT64_MIN;
    }
    double t0 = now();
    if (pd_scan(store, &so, visit, parts) != PD_OK) {
      fprintf(stderr, "scan-bench: %s\n", pd_last_error());
      return 1;
    }
    double secs = now() - t0;
    events = 0;
    purchase = 0;
    tsum = 0;
    for (unsigned w = 0; w < workers; w++) {
      events += parts[w].events;
      for (int j = 0; j < 4; j++) purchase += parts[w].amount[j][PD_EV_PURCHASE];
      tsum += parts[w].tsum;
    }
    if (secs < best) best = secs;
  }
  int64_t all_amounts = 0;
  for (unsigned w = 0; w < workers && parts; w++)
    for (int j = 0; j < 4; j++)
      for (int t = 0; t < 64; t++) all_amounts += parts[w].amount[j][t];
  if (!sp || amount_sum != all_amounts) {
    fprintf(stderr, "scan-bench: the two visitors disagree on the amounts\n");
    return 1;
  }
  if (!parts || events != pd_store_n_events(store)) {
    fprintf(stderr, "scan-bench: saw %llu events, store has %llu\n", (unsigned long long)events,
            (unsigned long long)pd_store_n_events(store));
    return 1;
  }
  printf("scan_events %llu\nscan_workers %u\nscan_seconds %.4f\nscan_events_per_s %.0f\nscan_gbps %.2f\n"
         "scan_revenue_seconds %.4f\nscan_revenue_gbps %.2f\nscan_purchase_total %lld\nscan_check %lld\n",
         (unsigned long long)events, workers, best_sums, (double)events / best_sums, (double)events * 18 / best_sums / 1e9,
         best, (double)events * 18 / best / 1e9, (long long)purchase, (long long)(tsum & 0xffff));
  free(parts);
  free(sp);
  pd_store_close(store);
  return 0;
}
