/* Gamma-family functions and log-sum-exp. */
#include <math.h>

#include "special.h"

double pd__lgamma(double x) {
  int sign;
  return lgamma_r(x, &sign);
}

double pd__lbeta(double a, double b) {
  if (!(a > 0) || !(b > 0)) return NAN;
  return pd__lgamma(a) + pd__lgamma(b) - pd__lgamma(a + b);
}

double pd__digamma(double x) {
  if (isnan(x) || isinf(x)) return x > 0 ? x : NAN;
  double acc = 0.0;
  if (x <= 0.0) {
    /* Reflection: psi(1 - x) - psi(x) = pi cot(pi x); poles at 0, -1, ... */
    if (x == floor(x)) return NAN;
    return pd__digamma(1.0 - x) - M_PI / tan(M_PI * x);
  }
  /* Recurrence psi(x) = psi(x + 1) - 1/x up to where the asymptotic series is exact. */
  while (x < 10.0) {
    acc -= 1.0 / x;
    x += 1.0;
  }
  double r = 1.0 / (x * x);
  /* log x - 1/(2x) - sum B_2k / (2k x^2k) */
  double series = r * (1.0 / 12 - r * (1.0 / 120 - r * (1.0 / 252 - r * (1.0 / 240 - r * (1.0 / 132)))));
  return acc + log(x) - 0.5 / x - series;
}

double pd__trigamma(double x) {
  if (isnan(x) || isinf(x)) return x > 0 ? 0.0 : NAN;
  if (x <= 0.0) {
    /* Reflection: psi'(1 - x) + psi'(x) = pi^2 / sin^2(pi x) */
    if (x == floor(x)) return NAN;
    double s = sin(M_PI * x);
    return -pd__trigamma(1.0 - x) + M_PI * M_PI / (s * s);
  }
  /* Recurrence psi'(x) = psi'(x + 1) + 1/x^2, then the asymptotic series */
  double acc = 0.0;
  while (x < 10.0) {
    acc += 1.0 / (x * x);
    x += 1.0;
  }
  double r = 1.0 / (x * x);
  /* 1/x + 1/(2x^2) + sum B_2k / x^(2k+1) */
  double series = r * (1.0 / 6 - r * (1.0 / 30 - r * (1.0 / 42 - r * (1.0 / 30 - r * (5.0 / 66)))));
  return acc + (1.0 + 0.5 / x + series) / x;
}

double pd__logaddexp(double a, double b) {
  if (isnan(a) || isnan(b)) return NAN;
  if (a == -INFINITY) return b;
  if (b == -INFINITY) return a;
  double m = a > b ? a : b;
  return m + log1p(exp(-fabs(a - b)));
}

double pd__logsubexp(double a, double b) {
  if (isnan(a) || isnan(b) || a < b) return NAN;
  if (b == -INFINITY) return a;
  if (a == b) return -INFINITY;
  double d = b - a; /* < 0 */
  /* log(1 - e^d): log(-expm1(d)) near 0, log1p(-exp(d)) for large |d|. */
  return a + (d > -M_LN2 ? log(-expm1(d)) : log1p(-exp(d)));
}

double pd__logsumexp(const double *v, size_t n) {
  double m = -INFINITY;
  for (size_t i = 0; i < n; i++) {
    if (isnan(v[i])) return NAN;
    if (v[i] > m) m = v[i];
  }
  if (m == -INFINITY || m == INFINITY) return m;
  double s = 0.0;
  for (size_t i = 0; i < n; i++) s += exp(v[i] - m);
  return m + log(s);
}
