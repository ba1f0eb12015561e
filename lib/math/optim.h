/* Small dense optimisers for maximum likelihood (internal).
 *
 * Problems have a handful of parameters (log-scale model parameters) and
 * an objective that is a sum over many customers, so every evaluation is
 * expensive and the linear algebra is not. */
#ifndef PD_MATH_OPTIM_H
#define PD_MATH_OPTIM_H

#include <stddef.h>

#include "privdomain/common.h"

#define PD__OPTIM_MAX_N 16

/* Returns f(x) (+inf or NaN outside the domain). When grad != NULL it also
 * fills grad[0..n-1], analytically or with pd__numgrad(). */
typedef double (*pd__objective)(const double *x, double *grad, void *ctx);

typedef struct pd__optim_options {
  int max_iter;  /* BFGS iterations / Nelder-Mead evaluations; 0 = default */
  double gtol;   /* converged when max |grad| <= gtol; 0 = 1e-8 */
  double ftol;   /* Nelder-Mead: spread of f over the simplex; 0 = 1e-12 */
  double xtol;   /* BFGS: also converged when the quasi-Newton step max |H g|
                    is below xtol (the gradient cannot always reach gtol at
                    the rounding floor of f); 0 = 1e-9. Also converged when
                    the decrease g'Hg/2 still promised is below 1e-13 (1 + |f|) */
} pd__optim_options;

typedef struct pd__optim_result {
  double f;        /* objective at the returned x */
  double gmax;     /* max |grad| there (NaN for Nelder-Mead) */
  int iterations;
  int evaluations;
  int converged;   /* 1 when the tolerance was met */
} pd__optim_result;

/* Central-difference gradient of f (calls f with grad == NULL). */
void pd__numgrad(size_t n, pd__objective f, void *ctx, const double *x, double *grad);

/* BFGS with a backtracking (Armijo) line search and curvature-guarded
 * inverse-Hessian updates. x holds the start and receives the best point.
 * Fails only for n out of range or a non-finite f at the start. */
pd_status pd__bfgs(size_t n, pd__objective f, void *ctx, double *x, const pd__optim_options *opts,
                   pd__optim_result *res);

/* Like pd__objective, plus the n*n row-major Hessian in hess (both
 * filled when f is finite). */
typedef double (*pd__objective2)(const double *x, double *grad, double *hess, void *ctx);

/* Damped Newton with an exact Hessian: Newton steps with an Armijo
 * backtracking line search (steps capped at 2 in max norm), Levenberg
 * damping while the Hessian is not positive definite or steps fail.
 * Converged when max |grad| <= gtol (0 = 1e-8) or the undamped Newton step
 * is below xtol (0 = 1e-6) in max norm; then H (n*n) is the Hessian at the
 * returned x (also when not converged: at the returned x). max_iter: 0 =
 * 100. Fails only for n out of range or a non-finite start. */
pd_status pd__newton(size_t n, pd__objective2 f, void *ctx, double *x, const pd__optim_options *opts, double *H,
                     pd__optim_result *res);

/* Nelder-Mead simplex (adaptive coefficients of Gao & Han 2012), for
 * starts where the gradient is useless; initial simplex step `step`. */
pd_status pd__nelder_mead(size_t n, pd__objective f, void *ctx, double *x, double step,
                          const pd__optim_options *opts, pd__optim_result *res);

/* Hessian of f at x by central differences of its gradient, symmetrised;
 * H is n*n row-major. Returns PD_ERR_NUMERIC when a value is not finite. */
pd_status pd__hessian(size_t n, pd__objective f, void *ctx, const double *x, double *H);

/* Inverse of a symmetric positive-definite n*n matrix by Cholesky
 * (inv may alias a). PD_ERR_NUMERIC when it is not positive definite. */
pd_status pd__spd_inverse(size_t n, const double *a, double *inv);

#endif
