/* CLV benchmark driver (public API only; built by meson, not a test).
 *   clv-bench gen N SEED FILE  simulate N BG/NBD customers with Gamma-Gamma
 *                              spend; write x,t_x,T,m as CSV (weeks, whole days)
 *   clv-bench run FILE         fit BG/NBD and Gamma-Gamma, predict for all,
 *                              print one "step seconds" line per step and
 *                              the estimates (tests/bench/bench-clv.sh) */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <privdomain.h>

static uint64_t rng_state;
static double uniform(void) { /* splitmix64 -> (0, 1) */
  uint64_t z = (rng_state += 0x9E3779B97F4A7C15u);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
  z ^= z >> 31;
  return ((double)(z >> 11) + 0.5) / 9007199254740992.0;
}
static double normal(void) { return sqrt(-2 * log(uniform())) * cos(2 * M_PI * uniform()); }
/* Gamma(shape k, scale 1): Marsaglia & Tsang, with the k < 1 boost. */
static double gamma1(double k) {
  if (k < 1) return gamma1(k + 1) * pow(uniform(), 1 / k);
  double d = k - 1.0 / 3, c = 1 / sqrt(9 * d);
  for (;;) {
    double z = normal(), v = 1 + c * z;
    if (v <= 0) continue;
    v = v * v * v;
    double u = uniform();
    if (log(u) < 0.5 * z * z + d - d * v + d * log(v)) return d * v;
  }
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}
/* CPU time of the process (all threads): what a step costs on a shared machine */
static double cpu(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int gen(long n, unsigned long seed, const char *path) {
  /* BG/NBD truth near the CDNOW estimates; spend p = 6, q = 4, gamma = 15 */
  const double r = 0.25, alpha = 4.0, a = 0.8, b = 2.5, gp = 6, gq = 4, gg = 15;
  rng_state = seed * 0x2545F4914F6CDD1Du + 1;
  FILE *f = fopen(path, "w");
  if (!f) return 1;
  fprintf(f, "x,t_x,T,m\n");
  for (long i = 0; i < n; i++) {
    double lambda = gamma1(r) / alpha, ga = gamma1(a), p = ga / (ga + gamma1(b));
    /* Observed 26 to 52 weeks after the first purchase, in whole days as
     * pd_rfm_* reports them: purchases on the same day merge into one. */
    long T_days = 182 + (long)(183 * uniform()), last_day = 0, x = 0;
    double t = 0, sum = 0, nu = gamma1(gq) / gg;
    for (;;) { /* repeat purchases until T or the dropout after one */
      t += -log(uniform()) / lambda;
      long day = (long)floor(t * 7);
      if (day > T_days) break;
      double spend = gamma1(gp) / nu;
      if (x > 0 && day == last_day) {
        sum += spend;
      } else if (day > 0) {
        x++;
        sum += spend;
        last_day = day;
      }
      if (uniform() < p) break;
    }
    fprintf(f, "%ld,%.17g,%.17g,%.9g\n", x, last_day / 7.0, T_days / 7.0, x ? sum / x : 0.0);
  }
  return fclose(f) != 0;
}

static int run(const char *path) {
  FILE *f = fopen(path, "r");
  if (!f) return 1;
  size_t cap = 1 << 20, n = 0;
  double *x = malloc(cap * sizeof *x), *tx = malloc(cap * sizeof *tx), *T = malloc(cap * sizeof *T),
         *m = malloc(cap * sizeof *m);
  char line[256];
  if (!fgets(line, sizeof line, f)) return 1;
  while (fgets(line, sizeof line, f)) {
    if (n == cap) {
      cap *= 2;
      x = realloc(x, cap * sizeof *x);
      tx = realloc(tx, cap * sizeof *tx);
      T = realloc(T, cap * sizeof *T);
      m = realloc(m, cap * sizeof *m);
    }
    if (sscanf(line, "%lf,%lf,%lf,%lf", &x[n], &tx[n], &T[n], &m[n]) != 4) return 1;
    n++;
  }
  fclose(f);
  pd_clv_summary s = PD_CLV_SUMMARY_INIT;
  s.n = n;
  s.x = x;
  s.t_x = tx;
  s.T = T;
  s.monetary = m;
  pd_clv_model *bg = NULL, *gg = NULL;
  double *alive = malloc(n * sizeof *alive), *purch = malloc(n * sizeof *purch), *spend = malloc(n * sizeof *spend),
         *value = malloc(n * sizeof *value);
  double t0 = now(), c0 = cpu();
  if (pd_clv_fit(PD_CLV_BGNBD, &s, NULL, &bg)) goto fail;
  double t1 = now(), c1 = cpu();
  if (pd_clv_fit(PD_CLV_GAMMA_GAMMA, &s, NULL, &gg)) goto fail;
  double t2 = now(), c2 = cpu();
  if (pd_clv_predict_alive(bg, &s, alive) || pd_clv_predict_purchases(bg, &s, 52.0, purch) ||
      pd_clv_predict_spend(gg, &s, spend))
    goto fail;
  double t3 = now(), c3 = cpu();
  if (pd_clv_predict_value(bg, gg, &s, 12, 0.01, 4.345, value)) goto fail;
  double t4 = now(), c4 = cpu();
  printf("customers %zu\n", n);
  /* "step wall_seconds cpu cpu_seconds" */
  printf("fit_bgnbd %.4f cpu %.4f\nfit_gg %.4f cpu %.4f\npredict %.4f cpu %.4f\nclv12 %.4f cpu %.4f\n", t1 - t0,
         c1 - c0, t2 - t1, c2 - c1, t3 - t2, c3 - c2, t4 - t3, c4 - c3);
  printf("total %.4f cpu %.4f\n", t4 - t0, c4 - c0);
  printf("bgnbd %.6f %.6f %.6f %.6f ll %.4f converged %d evals %d\n", pd_clv_model_param(bg, 0),
         pd_clv_model_param(bg, 1), pd_clv_model_param(bg, 2), pd_clv_model_param(bg, 3), pd_clv_model_loglik(bg),
         pd_clv_model_converged(bg), pd_clv_model_evaluations(bg));
  printf("gg %.6f %.6f %.6f ll %.4f converged %d evals %d\n", pd_clv_model_param(gg, 0), pd_clv_model_param(gg, 1),
         pd_clv_model_param(gg, 2), pd_clv_model_loglik(gg), pd_clv_model_converged(gg), pd_clv_model_evaluations(gg));
  double sa = 0, sp = 0, ss = 0, sv = 0;
  for (size_t i = 0; i < n; i++) {
    sa += alive[i];
    sp += purch[i];
    ss += spend[i];
    sv += value[i];
  }
  printf("stderr bgnbd %.6f %.6f %.6f %.6f gg %.6f %.6f %.6f\n", pd_clv_model_stderr(bg, 0), pd_clv_model_stderr(bg, 1),
         pd_clv_model_stderr(bg, 2), pd_clv_model_stderr(bg, 3), pd_clv_model_stderr(gg, 0), pd_clv_model_stderr(gg, 1),
         pd_clv_model_stderr(gg, 2));
  printf("sums p_alive %.6f purchases52 %.6f spend %.6f clv12 %.6f\n", sa, sp, ss, sv);
  /* per-customer values for the cross-check with the reference */
  const char *dump = getenv("CLV_BENCH_DUMP");
  if (dump) {
    FILE *o = fopen(dump, "w");
    if (!o) goto fail;
    for (size_t i = 0; i < n; i++) fprintf(o, "%.17g,%.17g,%.17g,%.17g\n", alive[i], purch[i], spend[i], value[i]);
    fclose(o);
  }
  pd_clv_model_free(bg);
  pd_clv_model_free(gg);
  free(x);
  free(tx);
  free(T);
  free(m);
  free(alive);
  free(purch);
  free(spend);
  free(value);
  return 0;
fail:
  fprintf(stderr, "clv-bench: %s\n", pd_last_error());
  return 1;
}

int main(int argc, char **argv) {
  if (argc == 5 && strcmp(argv[1], "gen") == 0) return gen(atol(argv[2]), strtoul(argv[3], NULL, 10), argv[4]);
  if (argc == 3 && strcmp(argv[1], "run") == 0) return run(argv[2]);
  fprintf(stderr, "usage: clv-bench gen N SEED FILE | clv-bench run FILE\n");
  return 2;
}
