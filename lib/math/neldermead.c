/* Nelder-Mead simplex search with the dimension-adaptive coefficients of
 * Gao & Han (2012); a derivative-free fallback for starts where BFGS
 * stalls (flat or non-finite regions of a likelihood). */
#include <math.h>
#include <string.h>

#include "optim.h"
#include "pd_internal.h"

#define NMAX PD__OPTIM_MAX_N

static double eval(pd__objective f, void *ctx, const double *x, pd__optim_result *res) {
  res->evaluations++;
  double v = f(x, NULL, ctx);
  return isnan(v) ? INFINITY : v;
}

pd_status pd__nelder_mead(size_t n, pd__objective f, void *ctx, double *x, double step,
                          const pd__optim_options *opts, pd__optim_result *res) {
  if (n == 0 || n > NMAX) return pd__error(PD_ERR_INVALID, "nelder-mead: bad dimension %zu", n);
  int max_eval = opts && opts->max_iter > 0 ? opts->max_iter : 4000;
  double ftol = opts && opts->ftol > 0 ? opts->ftol : 1e-12;
  double dn = (double)n;
  double alpha = 1.0, beta = 1.0 + 2.0 / dn, gam = 0.75 - 1.0 / (2.0 * dn), delta = 1.0 - 1.0 / dn;
  double v[NMAX + 1][NMAX], fv[NMAX + 1], c[NMAX], xr[NMAX], xe[NMAX];
  memset(res, 0, sizeof *res);
  for (size_t i = 0; i <= n; i++) {
    memcpy(v[i], x, n * sizeof *x);
    if (i > 0) v[i][i - 1] += step;
    fv[i] = eval(f, ctx, v[i], res);
  }
  if (!isfinite(fv[0])) return pd__error(PD_ERR_NUMERIC, "nelder-mead: objective not finite at the starting point");
  while (res->evaluations < max_eval) {
    /* Order the vertices by f (insertion sort, n is tiny). */
    for (size_t i = 1; i <= n; i++)
      for (size_t j = i; j > 0 && fv[j] < fv[j - 1]; j--) {
        double t = fv[j];
        fv[j] = fv[j - 1];
        fv[j - 1] = t;
        for (size_t k = 0; k < n; k++) {
          t = v[j][k];
          v[j][k] = v[j - 1][k];
          v[j - 1][k] = t;
        }
      }
    double size = 0.0;
    for (size_t i = 1; i <= n; i++)
      for (size_t k = 0; k < n; k++) size = fmax(size, fabs(v[i][k] - v[0][k]));
    if (fabs(fv[n] - fv[0]) <= ftol * (1.0 + fabs(fv[0])) && size < 1e-8) {
      res->converged = 1;
      break;
    }
    res->iterations++;
    for (size_t k = 0; k < n; k++) {
      c[k] = 0.0;
      for (size_t i = 0; i < n; i++) c[k] += v[i][k] / dn;
      xr[k] = c[k] + alpha * (c[k] - v[n][k]);
    }
    double fr = eval(f, ctx, xr, res);
    if (fr < fv[0]) {
      for (size_t k = 0; k < n; k++) xe[k] = c[k] + beta * (xr[k] - c[k]);
      double fe = eval(f, ctx, xe, res);
      if (fe < fr) {
        memcpy(v[n], xe, n * sizeof *xe);
        fv[n] = fe;
      } else {
        memcpy(v[n], xr, n * sizeof *xr);
        fv[n] = fr;
      }
      continue;
    }
    if (fr < fv[n - 1]) {
      memcpy(v[n], xr, n * sizeof *xr);
      fv[n] = fr;
      continue;
    }
    /* Contraction: outside when the reflection improved on the worst. */
    int outside = fr < fv[n];
    for (size_t k = 0; k < n; k++)
      xe[k] = outside ? c[k] + gam * (xr[k] - c[k]) : c[k] - gam * (c[k] - v[n][k]);
    double fc = eval(f, ctx, xe, res);
    if (fc < (outside ? fr : fv[n])) {
      memcpy(v[n], xe, n * sizeof *xe);
      fv[n] = fc;
      continue;
    }
    for (size_t i = 1; i <= n; i++) { /* shrink towards the best vertex */
      for (size_t k = 0; k < n; k++) v[i][k] = v[0][k] + delta * (v[i][k] - v[0][k]);
      fv[i] = eval(f, ctx, v[i], res);
    }
  }
  size_t best = 0;
  for (size_t i = 1; i <= n; i++)
    if (fv[i] < fv[best]) best = i;
  memcpy(x, v[best], n * sizeof *x);
  res->f = fv[best];
  res->gmax = NAN;
  return PD_OK;
}
