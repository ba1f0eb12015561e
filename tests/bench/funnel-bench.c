/* Times pd_funnel_run on a store, apart from opening it (the peer's time in
 * bench-funnel.sh is a query on already loaded data):
 *   funnel-bench STORE THREADS REPEAT   (steps acquire,activate,purchase,invite, 7 days)
 * Prints open_seconds, funnel_seconds (best of REPEAT) and the users per step. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <privdomain.h>

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: funnel-bench STORE THREADS REPEAT\n");
    return 2;
  }
  double t0 = now();
  pd_store_options so = PD_STORE_OPTIONS_INIT;
  so.read_only = 1;
  pd_store *store = NULL;
  if (pd_store_open(&store, argv[1], &so) != PD_OK) {
    fprintf(stderr, "funnel-bench: %s\n", pd_last_error());
    return 1;
  }
  double open_s = now() - t0;
  pd_funnel_spec *spec = NULL;
  pd_funnel_spec_new(&spec);
  const char *steps[4] = {"acquire", "activate", "purchase", "invite"};
  for (int i = 0; i < 4; i++) {
    pd_funnel_pred q = PD_FUNNEL_PRED_INIT;
    if (pd_store_find_event_type(store, steps[i], &q.event_type) != PD_OK) return 1;
    pd_funnel_spec_add_step(spec, &q, steps[i]);
  }
  pd_funnel_spec_set_window(spec, 7 * PD_MS_DAY);
  pd_scan_options o = PD_SCAN_OPTIONS_INIT;
  o.threads = (unsigned)atoi(argv[2]);
  double best = 1e30;
  pd_table *t = NULL;
  for (int r = 0; r < atoi(argv[3]); r++) {
    pd_table_free(t);
    t = NULL;
    double a = now();
    if (pd_funnel_run(store, spec, &o, &t) != PD_OK) {
      fprintf(stderr, "funnel-bench: %s\n", pd_last_error());
      return 1;
    }
    double s = now() - a;
    if (s < best) best = s;
  }
  printf("open_seconds %.4f\nfunnel_seconds %.4f\nworkers %u\n", open_s, best, pd_scan_workers(&o));
  for (size_t r = 0; t && r < pd_table_n_rows(t); r++)
    printf("users %zu %lld\n", r + 1, (long long)pd_table_get_int64(t, r, (size_t)pd_table_col_index(t, "users")));
  pd_table_free(t);
  pd_funnel_spec_free(spec);
  pd_store_close(store);
  return 0;
}
