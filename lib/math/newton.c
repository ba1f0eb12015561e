/* Damped Newton minimisation with an exact Hessian. */
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

/* step = -(H + lambda I)^-1 g; 0 when H + lambda I is not positive definite. */
static int solve(size_t n, const double *H, double lambda, const double *g, double *step) {
  double A[PD__OPTIM_MAX_N * PD__OPTIM_MAX_N], Ai[PD__OPTIM_MAX_N * PD__OPTIM_MAX_N];
  memcpy(A, H, n * n * sizeof *A);
  for (size_t i = 0; i < n; i++) A[i * n + i] += lambda;
  if (pd__spd_inverse(n, A, Ai) != PD_OK) return 0;
  for (size_t i = 0; i < n; i++) {
    step[i] = 0.0;
    for (size_t j = 0; j < n; j++) step[i] -= Ai[i * n + j] * g[j];
  }
  return isfinite(max_abs(n, step));
}

pd_status pd__newton(size_t n, pd__objective2 f, void *ctx, double *x, const pd__optim_options *opts, double *H,
                     pd__optim_result *res) {
  if (n == 0 || n > PD__OPTIM_MAX_N) return pd__error(PD_ERR_INVALID, "newton: bad dimension %zu", n);
  int max_iter = opts && opts->max_iter > 0 ? opts->max_iter : 100;
  double gtol = opts && opts->gtol > 0 ? opts->gtol : 1e-8;
  double xtol = opts && opts->xtol > 0 ? opts->xtol : 1e-6;
  double g[PD__OPTIM_MAX_N], step[PD__OPTIM_MAX_N];
  double xn[PD__OPTIM_MAX_N], gn[PD__OPTIM_MAX_N], Hn[PD__OPTIM_MAX_N * PD__OPTIM_MAX_N];
  memset(res, 0, sizeof *res);
  double fx = f(x, g, H, ctx);
  res->evaluations = 1;
  if (!isfinite(fx) || !isfinite(max_abs(n, g)) || !isfinite(max_abs(n * n, H)))
    return pd__error(PD_ERR_NUMERIC, "newton: objective not finite at the starting point");
  double lambda = 0.0; /* Levenberg damping, only while H is not positive definite or steps fail */
  int it, fails = 0;
  for (it = 0; it < max_iter; it++) {
    if (max_abs(n, g) <= gtol) {
      res->converged = 1;
      break;
    }
    while (!solve(n, H, lambda, g, step)) {
      double scale = 0.0;
      for (size_t i = 0; i < n; i++) scale = fmax(scale, fabs(H[i * n + i]));
      lambda = lambda > 0 ? 4.0 * lambda : 1e-6 * fmax(scale, 1e-12);
      if (!(lambda < 1e300)) goto done;
    }
    double smax = max_abs(n, step);
    if (lambda == 0.0 && smax <= xtol) { /* the full Newton step is negligible: H is at x */
      res->converged = 1;
      break;
    }
    /* keep a step moderate in log-parameter space */
    double t = smax > 2.0 ? 2.0 / smax : 1.0, slope = 0.0;
    for (size_t i = 0; i < n; i++) slope += step[i] * g[i];
    int ok = 0;
    for (int ls = 0; ls < 30 && slope < 0; ls++) {
      for (size_t i = 0; i < n; i++) xn[i] = x[i] + t * step[i];
      double fn = f(xn, gn, Hn, ctx);
      res->evaluations++;
      /* Armijo; or, at the rounding floor of f, a step that shrinks the gradient */
      if (isfinite(fn) && isfinite(max_abs(n, gn)) && isfinite(max_abs(n * n, Hn)) &&
          (fn <= fx + 1e-4 * t * slope || (fn <= fx + 8e-16 * fabs(fx) && max_abs(n, gn) < max_abs(n, g)))) {
        memcpy(x, xn, n * sizeof *x);
        memcpy(g, gn, n * sizeof *g);
        memcpy(H, Hn, n * n * sizeof *H);
        fx = fn;
        ok = 1;
        break;
      }
      t *= 0.5;
    }
    if (ok) {
      fails = 0;
      lambda = lambda > 0 && t == 1.0 ? 0.1 * lambda : lambda; /* undamp once full steps work */
      if (lambda < 1e-10) lambda = 0.0;
    } else {
      if (++fails >= 4) break; /* no decrease along damped steps either: leave it to the caller */
      double scale = 0.0;
      for (size_t i = 0; i < n; i++) scale = fmax(scale, fabs(H[i * n + i]));
      lambda = lambda > 0 ? 10.0 * lambda : 1e-3 * fmax(scale, 1e-12);
      if (!(lambda < 1e300)) break;
    }
  }
done:
  res->f = fx;
  res->gmax = max_abs(n, g);
  if (res->gmax <= gtol) res->converged = 1;
  res->iterations = it;
  return PD_OK;
}
