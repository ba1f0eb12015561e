/* Times pd_touchpoint_scorecard on a store, apart from opening it (the
 * peer's time in bench-touchpoints.sh is a query on already loaded data):
 *   touchpoints-bench STORE FROM_MS TO_MS TZ THREADS REPEAT OUT.csv
 * Prints open_seconds, scorecard_seconds and scorecard_cpu_seconds (best of
 * REPEAT; CPU of the whole process, every scan thread included) and writes
 * the last scorecard as CSV to OUT.csv. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <privdomain.h>

static double clock_s(clockid_t id) {
  struct timespec ts;
  clock_gettime(id, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  if (argc != 8) {
    fprintf(stderr, "usage: touchpoints-bench STORE FROM_MS TO_MS TZ THREADS REPEAT OUT.csv\n");
    return 2;
  }
  double t0 = clock_s(CLOCK_MONOTONIC);
  pd_store_options so = PD_STORE_OPTIONS_INIT;
  so.read_only = 1;
  pd_store *store = NULL;
  if (pd_store_open(&store, argv[1], &so) != PD_OK) {
    fprintf(stderr, "touchpoints-bench: %s\n", pd_last_error());
    return 1;
  }
  double open_s = clock_s(CLOCK_MONOTONIC) - t0;
  pd_touchpoint_options o = PD_TOUCHPOINT_OPTIONS_INIT;
  o.from_ms = strtoll(argv[2], NULL, 10);
  o.to_ms = strtoll(argv[3], NULL, 10);
  o.tz = argv[4];
  o.threads = (unsigned)atoi(argv[5]);
  double best = 1e30, best_cpu = 1e30;
  pd_table *t = NULL;
  for (int r = 0; r < atoi(argv[6]); r++) {
    pd_table_free(t);
    t = NULL;
    double a = clock_s(CLOCK_MONOTONIC), c = clock_s(CLOCK_PROCESS_CPUTIME_ID);
    if (pd_touchpoint_scorecard(store, &o, &t) != PD_OK) {
      fprintf(stderr, "touchpoints-bench: %s\n", pd_last_error());
      return 1;
    }
    double s = clock_s(CLOCK_MONOTONIC) - a, cs = clock_s(CLOCK_PROCESS_CPUTIME_ID) - c;
    if (s < best) best = s;
    if (cs < best_cpu) best_cpu = cs;
  }
  printf("open_seconds %.4f\nscorecard_seconds %.4f\nscorecard_cpu_seconds %.4f\n", open_s, best, best_cpu);
  FILE *f = fopen(argv[7], "w");
  int bad = !f || !t || pd_table_write(t, f, PD_FORMAT_CSV) != PD_OK;
  if (f && fclose(f)) bad = 1;
  if (bad) fprintf(stderr, "touchpoints-bench: cannot write %s\n", argv[7]);
  pd_table_free(t);
  pd_store_close(store);
  return bad;
}
