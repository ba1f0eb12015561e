/* Times the referral forest and its depth histogram through the library on
 * an already opened store: prints open_seconds and the best of REPEATS
 * referral_seconds (pd_referral_run + the DEPTH table; wall, and CPU of all
 * threads as referral_cpu_seconds), and writes the depth
 * table as CSV to OUT.
 * Usage: referral-bench STORE REPEATS OUT.csv   (run by bench-referral.sh) */
#include <privdomain.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double clock_s(clockid_t c) {
  struct timespec t;
  clock_gettime(c, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}
static double now(void) { return clock_s(CLOCK_MONOTONIC); }
/* CPU time of the whole process (all threads): what a run costs, whatever the load. */
static double cpu(void) { return clock_s(CLOCK_PROCESS_CPUTIME_ID); }

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: referral-bench STORE REPEATS OUT.csv\n");
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
  double best = 1e30, best_cpu = 1e30;
  pd_table *t = NULL;
  for (int i = 0; i < (reps > 0 ? reps : 1); i++) {
    pd_table_free(t);
    t = NULL;
    double a = now(), c = cpu();
    pd_referral *r = NULL;
    if (pd_referral_run(st, NULL, &r) != PD_OK || pd_referral_table(r, PD_REFERRAL_DEPTH, &t) != PD_OK) {
      fprintf(stderr, "referral: %s\n", pd_last_error());
      return 1;
    }
    double b = now() - a, bc = cpu() - c;
    if (b < best) best = b;
    if (bc < best_cpu) best_cpu = bc;
    if (i == 0) printf("referral_nodes %u\n", pd_referral_n_nodes(r));
    pd_referral_free(r);
  }
  printf("referral_seconds %.4f\n", best);
  printf("referral_cpu_seconds %.4f\n", best_cpu);
  FILE *f = fopen(argv[3], "w");
  if (!f || pd_table_write(t, f, PD_FORMAT_CSV) != PD_OK || fclose(f) != 0) {
    fprintf(stderr, "write %s failed\n", argv[3]);
    return 1;
  }
  pd_table_free(t);
  pd_store_close(st);
  return 0;
}
