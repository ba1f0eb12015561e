/* Times weekly cohort retention (13 periods, UTC, classic) through the
 * library on an already opened store: prints open_seconds and the best of
 * REPEATS retention_seconds, and writes the long table as CSV to OUT.
 * Usage: retention-bench STORE REPEATS OUT.csv   (run by bench-retention.sh) */
#include <privdomain.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: retention-bench STORE REPEATS OUT.csv\n");
    return 2;
  }
  pd_store_options so = PD_STORE_OPTIONS_INIT;
  so.read_only = 1;
  pd_store *st = NULL;
  double t0 = now();
  if (pd_store_open(&st, argv[1], &so) != PD_OK) {
    fprintf(stderr, "open: %s\n", pd_last_error());
    return 1;
  }
  printf("open_seconds %.4f\n", now() - t0);
  int reps = atoi(argv[2]);
  double best = 1e30;
  pd_table *t = NULL;
  for (int i = 0; i < (reps > 0 ? reps : 1); i++) {
    pd_retention_options o = PD_RETENTION_OPTIONS_INIT;
    o.period = PD_PERIOD_WEEK;
    o.n_periods = 13;
    pd_table_free(t);
    double a = now();
    if (pd_retention_run(st, &o, NULL, &t, NULL, NULL) != PD_OK) {
      fprintf(stderr, "retention: %s\n", pd_last_error());
      return 1;
    }
    double b = now() - a;
    if (b < best) best = b;
  }
  printf("retention_seconds %.4f\n", best);
  FILE *f = fopen(argv[3], "w");
  if (!f || pd_table_write(t, f, PD_FORMAT_CSV) != PD_OK || fclose(f) != 0) {
    fprintf(stderr, "write %s failed\n", argv[3]);
    return 1;
  }
  pd_table_free(t);
  pd_store_close(st);
  return 0;
}
