/* log of the Gauss hypergeometric function 2F1(a, b; c; z) for z < 1.
 *
 * BTYD likelihoods and predictions need 2F1 with parameters that grow
 * with a customer's frequency (r + x, b + x, ...): the plain series then
 * has terms far beyond DBL_MAX before it turns down. We sum it with a
 * running power-of-ten scale and pick, by Euler's transformation, whichever
 * of 2F1(a,b;c;z) = (1-z)^(c-a-b) 2F1(c-a,c-b;c;z) has the smaller
 * numerator parameters (for the BG/NBD forms that turns parameters of
 * size x into constants). Negative z goes through Pfaff's transformation
 * to z/(z-1) in (0, 1). */
#include <math.h>

#include "special.h"

#define MAX_TERMS 5000000L
#define SCALE 1e200
#define LOG_SCALE (200.0 * M_LN10)

/* log|series| for 0 <= z < 1, no transformation. */
static double log_series(double a, double b, double c, double z, int *sign) {
  double s = 1.0, t = 1.0, scale = 0.0;
  /* Past n_turn the term ratio stays below one (ratio ~ z (1 + (a+b-c-1)/n)). */
  double excess = a + b - c - 1.0;
  double n_turn = (excess > 0 && z > 0 ? z * excess / (1.0 - z) : 0.0) + fmax(0.0, fmax(-a, -b));
  for (long n = 0; n < MAX_TERMS; n++) {
    double dn = (double)n;
    double ratio = (a + dn) * (b + dn) / ((c + dn) * (dn + 1.0)) * z;
    t *= ratio;
    s += t;
    if (fabs(s) > SCALE || fabs(t) > SCALE) {
      s /= SCALE;
      t /= SCALE;
      scale += LOG_SCALE;
    }
    if (t == 0.0) break;
    double r = fabs(ratio);
    if (dn + 1.0 > n_turn && r < 1.0) {
      /* Remaining terms shrink at least geometrically at rate max(r, z). */
      double rho = fmax(r, z);
      if (fabs(t) * rho / (1.0 - rho) <= 2e-16 * fabs(s)) break;
    }
    if (n == MAX_TERMS - 1) return NAN;
  }
  if (s == 0.0) {
    if (sign) *sign = 0;
    return -INFINITY;
  }
  if (sign) *sign = s < 0 ? -1 : 1;
  return log(fabs(s)) + scale;
}

static double log_nonneg(double a, double b, double c, double z, int *sign) {
  if (z == 0.0) {
    if (sign) *sign = 1;
    return 0.0;
  }
  if (fabs(c - a) + fabs(c - b) < fabs(a) + fabs(b))
    return (c - a - b) * log1p(-z) + log_series(c - a, c - b, c, z, sign);
  return log_series(a, b, c, z, sign);
}

double pd__log_hyp2f1(double a, double b, double c, double z, int *sign) {
  if (sign) *sign = 0;
  if (!isfinite(a) || !isfinite(b) || !isfinite(c) || isnan(z) || !(z < 1.0)) return NAN;
  if (c <= 0.0 && c == floor(c)) return NAN;
  if (z >= 0.0) return log_nonneg(a, b, c, z, sign);
  /* Pfaff: 2F1(a,b;c;z) = (1-z)^(-a) 2F1(a, c-b; c; z/(z-1)), or the same with a, b swapped. */
  double w = z / (z - 1.0);
  double l1p = log1p(-z);
  if (fabs(a) + fabs(c - b) <= fabs(b) + fabs(c - a))
    return -a * l1p + log_nonneg(a, c - b, c, w, sign);
  return -b * l1p + log_nonneg(c - a, b, c, w, sign);
}
