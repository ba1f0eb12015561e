/* Numerical derivatives and the covariance algebra for standard errors. */
#include <math.h>
#include <string.h>

#include "optim.h"
#include "pd_internal.h"

/* Step for central differences: cube root of machine epsilon, scaled. */
static double diff_step(double xi) { return 6e-6 * fmax(1.0, fabs(xi)); }

void pd__numgrad(size_t n, pd__objective f, void *ctx, const double *x, double *grad) {
  double xt[PD__OPTIM_MAX_N];
  memcpy(xt, x, n * sizeof *x);
  for (size_t i = 0; i < n; i++) {
    double h = diff_step(x[i]);
    xt[i] = x[i] + h;
    double fp = f(xt, NULL, ctx);
    xt[i] = x[i] - h;
    double fm = f(xt, NULL, ctx);
    xt[i] = x[i];
    grad[i] = (fp - fm) / (2.0 * h);
  }
}

pd_status pd__hessian(size_t n, pd__objective f, void *ctx, const double *x, double *H) {
  if (n == 0 || n > PD__OPTIM_MAX_N) return pd__error(PD_ERR_INVALID, "hessian: bad dimension %zu", n);
  double xt[PD__OPTIM_MAX_N], gp[PD__OPTIM_MAX_N], gm[PD__OPTIM_MAX_N];
  memcpy(xt, x, n * sizeof *x);
  for (size_t i = 0; i < n; i++) {
    double h = 1e-4 * fmax(1.0, fabs(x[i]));
    xt[i] = x[i] + h;
    double fp = f(xt, gp, ctx);
    xt[i] = x[i] - h;
    double fm = f(xt, gm, ctx);
    xt[i] = x[i];
    if (!isfinite(fp) || !isfinite(fm)) return pd__error(PD_ERR_NUMERIC, "hessian: objective not finite near the optimum");
    for (size_t j = 0; j < n; j++) H[i * n + j] = (gp[j] - gm[j]) / (2.0 * h);
  }
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < i; j++) {
      double m = 0.5 * (H[i * n + j] + H[j * n + i]);
      H[i * n + j] = H[j * n + i] = m;
    }
  for (size_t i = 0; i < n * n; i++)
    if (!isfinite(H[i])) return pd__error(PD_ERR_NUMERIC, "hessian: not finite");
  return PD_OK;
}

pd_status pd__spd_inverse(size_t n, const double *a, double *inv) {
  if (n == 0 || n > PD__OPTIM_MAX_N) return pd__error(PD_ERR_INVALID, "inverse: bad dimension %zu", n);
  double L[PD__OPTIM_MAX_N * PD__OPTIM_MAX_N] = {0};
  for (size_t j = 0; j < n; j++) {
    double d = a[j * n + j];
    for (size_t k = 0; k < j; k++) d -= L[j * n + k] * L[j * n + k];
    if (!(d > 0.0)) return pd__error(PD_ERR_NUMERIC, "matrix is not positive definite");
    L[j * n + j] = sqrt(d);
    for (size_t i = j + 1; i < n; i++) {
      double s = a[i * n + j];
      for (size_t k = 0; k < j; k++) s -= L[i * n + k] * L[j * n + k];
      L[i * n + j] = s / L[j * n + j];
    }
  }
  /* inv = L^-T L^-1, column by column: solve L L^T x = e_c. */
  double out[PD__OPTIM_MAX_N * PD__OPTIM_MAX_N];
  for (size_t c = 0; c < n; c++) {
    double z[PD__OPTIM_MAX_N];
    for (size_t i = 0; i < n; i++) {
      double s = i == c ? 1.0 : 0.0;
      for (size_t k = 0; k < i; k++) s -= L[i * n + k] * z[k];
      z[i] = s / L[i * n + i];
    }
    for (size_t i = n; i-- > 0;) {
      double s = z[i];
      for (size_t k = i + 1; k < n; k++) s -= L[k * n + i] * out[k * n + c];
      out[i * n + c] = s / L[i * n + i];
    }
  }
  memcpy(inv, out, n * n * sizeof *inv);
  return PD_OK;
}
