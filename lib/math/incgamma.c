/* log of the upper incomplete gamma function Gamma(a, z) for real a, z > 0.
 * Needed by DERT (Pareto/NBD), where a = 1 - s can have either sign. */
#include <math.h>

#include "special.h"

#define EPS 1e-16
#define MAX_ITER 100000

/* Continued fraction (modified Lentz) for Gamma(a,z) e^z z^-a; converges
 * for every real a when z > 0, fast when z >= max(1, a + 1). */
static double log_cf(double a, double z) {
  const double tiny = 1e-300;
  double b = z + 1.0 - a, c = 1.0 / tiny, d = 1.0 / b, h = d;
  for (int i = 1; i < MAX_ITER; i++) {
    double an = -i * (i - a);
    b += 2.0;
    d = an * d + b;
    if (fabs(d) < tiny) d = tiny;
    c = b + an / c;
    if (fabs(c) < tiny) c = tiny;
    d = 1.0 / d;
    double del = d * c;
    h *= del;
    if (fabs(del - 1.0) < EPS) return log(h) - z + a * log(z);
  }
  return NAN;
}

/* log of the lower gamma by its series, for a > 0:
 * gamma(a,z) = z^a e^-z sum z^n / (a)_(n+1). */
static double log_lower_series(double a, double z) {
  double ap = a, del = 1.0 / a, sum = del;
  for (int i = 0; i < MAX_ITER; i++) {
    ap += 1.0;
    del *= z / ap;
    sum += del;
    if (fabs(del) < fabs(sum) * EPS) break;
  }
  return log(sum) - z + a * log(z);
}

/* E1(z) = Gamma(0, z) for 0 < z < a few, by its power series. */
static double expint_e1(double z) {
  const double euler = 0.57721566490153286061;
  double sum = 0.0, term = 1.0;
  for (int k = 1; k < MAX_ITER; k++) {
    term *= -z / k;
    double d = term / k;
    sum += d;
    if (fabs(d) < EPS * fabs(sum)) break;
  }
  return -euler - log(z) - sum;
}

double pd__log_upper_gamma(double a, double z) {
  if (!isfinite(a) || !(z > 0.0) || isinf(z)) return NAN;
  if (z >= 1.0 && z >= a + 1.0) return log_cf(a, z);
  if (a > 0.0) /* Gamma(a) - gamma(a, z), in logs so large a cannot overflow. */
    return pd__lgamma(a) + pd__logsubexp(0.0, log_lower_series(a, z) - pd__lgamma(a));
  /* a <= 0 and z < a + 1 (so z < 1): step up to a + k in [0, 1), then
   * come down with Gamma(s, z) = (Gamma(s + 1, z) - z^s e^-z) / s. */
  if (z >= 1.0) return log_cf(a, z);
  int k = (int)ceil(-a);
  double base = a + k;
  double g = base == 0.0 ? expint_e1(z) : tgamma(base) - exp(log_lower_series(base, z));
  for (int j = k - 1; j >= 0; j--) {
    double s = a + j;
    g = (g - exp(s * log(z) - z)) / s;
  }
  return g > 0 ? log(g) : NAN;
}
