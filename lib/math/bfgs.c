/* BFGS quasi-Newton minimisation with a backtracking line search. */
#include <math.h>
#include <string.h>

#include "optim.h"
#include "pd_internal.h"

static double max_abs(size_t n, const double *v) {
  double m = 0.0;
  for (size_t i = 0; i < n; i++)
    if (!(fabs(v[i]) <= m)) m = fabs(v[i]); /* NaN propagates */
  return m;
}

/* max |H g|: the quasi-Newton step still to go, in parameter units. */
static double newton_step(size_t n, const double *H, const double *g) {
  double m = 0.0;
  for (size_t i = 0; i < n; i++) {
    double v = 0.0;
    for (size_t j = 0; j < n; j++) v += H[i * n + j] * g[j];
    if (!(fabs(v) <= m)) m = fabs(v);
  }
  return m;
}

/* g'Hg / 2: the decrease of f a quasi-Newton step still promises. Once it
 * is below the rounding noise of f, no line search can make progress. */
static double decrement(size_t n, const double *H, const double *g) {
  double d = 0.0;
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < n; j++) d += g[i] * H[i * n + j] * g[j];
  return 0.5 * d;
}

pd_status pd__bfgs(size_t n, pd__objective f, void *ctx, double *x, const pd__optim_options *opts,
                   pd__optim_result *res) {
  if (n == 0 || n > PD__OPTIM_MAX_N) return pd__error(PD_ERR_INVALID, "bfgs: bad dimension %zu", n);
  int max_iter = opts && opts->max_iter > 0 ? opts->max_iter : 500;
  double gtol = opts && opts->gtol > 0 ? opts->gtol : 1e-8;
  double xtol = opts && opts->xtol > 0 ? opts->xtol : 1e-9;
  double H[PD__OPTIM_MAX_N * PD__OPTIM_MAX_N];
  double g[PD__OPTIM_MAX_N], gn[PD__OPTIM_MAX_N], p[PD__OPTIM_MAX_N], xn[PD__OPTIM_MAX_N];
  double s[PD__OPTIM_MAX_N], y[PD__OPTIM_MAX_N], Hy[PD__OPTIM_MAX_N];
  memset(res, 0, sizeof *res);
  double fx = f(x, g, ctx);
  res->evaluations = 1;
  if (!isfinite(fx) || !isfinite(max_abs(n, g)))
    return pd__error(PD_ERR_NUMERIC, "bfgs: objective not finite at the starting point");
  memset(H, 0, sizeof H);
  for (size_t i = 0; i < n; i++) H[i * n + i] = 1.0;
  int first = 1, it, updates = 0;
  for (it = 0; it < max_iter; it++) {
    if (max_abs(n, g) <= gtol || (updates >= 1 && (newton_step(n, H, g) <= xtol ||
                                                    decrement(n, H, g) <= 1e-13 * (1.0 + fabs(fx))))) {
      res->converged = 1;
      break;
    }
    double slope = 0.0;
    for (size_t i = 0; i < n; i++) {
      p[i] = 0.0;
      for (size_t j = 0; j < n; j++) p[i] -= H[i * n + j] * g[j];
      slope += p[i] * g[i];
    }
    if (!(slope < 0.0)) { /* lost descent: restart from steepest descent */
      memset(H, 0, sizeof H);
      for (size_t i = 0; i < n; i++) {
        H[i * n + i] = 1.0;
        p[i] = -g[i];
      }
      slope = 0.0;
      for (size_t i = 0; i < n; i++) slope -= g[i] * g[i];
      first = 1;
      updates = 0;
    }
    /* Keep the first trial step moderate in log-parameter space. */
    double pmax = max_abs(n, p), step = pmax > 2.0 ? 2.0 / pmax : 1.0;
    double fn = NAN;
    int ok = 0;
    for (int ls = 0; ls < 30; ls++) {
      for (size_t i = 0; i < n; i++) xn[i] = x[i] + step * p[i];
      fn = f(xn, gn, ctx);
      res->evaluations++;
      /* Armijo; or, at the rounding floor of f, any step that does not raise f
       * beyond rounding and shrinks the gradient. */
      int armijo = fn <= fx + 1e-4 * step * slope;
      int floor_ok = fn <= fx + 8e-16 * fabs(fx) && max_abs(n, gn) < max_abs(n, g);
      if (isfinite(fn) && (armijo || floor_ok) && isfinite(max_abs(n, gn))) {
        ok = 1;
        break;
      }
      /* Quadratic interpolation of the step, kept within [0.1, 0.5] of the old one. */
      double next = 0.5 * step;
      if (isfinite(fn)) {
        double denom = 2.0 * (fn - fx - slope * step);
        if (denom > 0) next = -slope * step * step / denom;
        if (next < 0.1 * step) next = 0.1 * step;
        if (next > 0.5 * step) next = 0.5 * step;
      }
      step = next;
    }
    if (!ok) break; /* no decrease possible along p: we are at the precision floor */
    double sy = 0.0, yy = 0.0, ss = 0.0;
    for (size_t i = 0; i < n; i++) {
      s[i] = xn[i] - x[i];
      y[i] = gn[i] - g[i];
      sy += s[i] * y[i];
      yy += y[i] * y[i];
      ss += s[i] * s[i];
    }
    double fold = fx;
    memcpy(x, xn, n * sizeof *x);
    memcpy(g, gn, n * sizeof *g);
    fx = fn;
    if (sy > 1e-10 * sqrt(ss * yy)) { /* curvature condition, else skip the update */
      if (first) { /* scale the initial inverse Hessian (Nocedal & Wright 6.20) */
        for (size_t i = 0; i < n * n; i++) H[i] *= sy / yy;
        first = 0;
      }
      double yHy = 0.0;
      for (size_t i = 0; i < n; i++) {
        Hy[i] = 0.0;
        for (size_t j = 0; j < n; j++) Hy[i] += H[i * n + j] * y[j];
        yHy += y[i] * Hy[i];
      }
      double rho = 1.0 / sy;
      updates++;
      for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++)
          H[i * n + j] += -rho * (Hy[i] * s[j] + s[i] * Hy[j]) + (rho * rho * yHy + rho) * s[i] * s[j];
    }
    if (fold - fx == 0.0 && max_abs(n, s) < 1e-15) break;
  }
  res->f = fx;
  res->gmax = max_abs(n, g);
  if (res->gmax <= gtol ||
      (updates >= 1 && (newton_step(n, H, g) <= xtol || decrement(n, H, g) <= 1e-13 * (1.0 + fabs(fx)))))
    res->converged = 1;
  res->iterations = it;
  return PD_OK;
}
