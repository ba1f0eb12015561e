/* Special functions for likelihood work (internal). All are thread-safe
 * and never abort; invalid arguments give NaN. */
#ifndef PD_MATH_SPECIAL_H
#define PD_MATH_SPECIAL_H

#include <stddef.h>

/* log|Gamma(x)| (lgamma_r: no global signgam, so safe on any thread). */
double pd__lgamma(double x);
/* log B(a, b) = lgamma(a) + lgamma(b) - lgamma(a + b), for a, b > 0. */
double pd__lbeta(double a, double b);
/* The digamma function psi(x) = d/dx log Gamma(x); |error| < 1e-13. */
double pd__digamma(double x);
/* The trigamma function psi'(x); |relative error| < 1e-13. */
double pd__trigamma(double x);

/* log(exp(a) + exp(b)) without overflow; -inf when both are -inf. */
double pd__logaddexp(double a, double b);
/* log(exp(a) - exp(b)) for a >= b; -inf when a == b, NaN when a < b. */
double pd__logsubexp(double a, double b);
/* log(sum exp(v[i])) over n values; -inf for n == 0. */
double pd__logsumexp(const double *v, size_t n);

/* log 2F1(a, b; c; z), the Gauss hypergeometric function, for z < 1 and
 * c not a non-positive integer. The series is summed with a running log
 * scale, so parameters in the thousands do not overflow; Euler's and
 * Pfaff's transformations keep the series short. *sign (may be NULL)
 * receives the sign of 2F1 (+1 or -1). Returns NaN when the series does
 * not converge (z too close to 1 for its parameters) or on bad input. */
double pd__log_hyp2f1(double a, double b, double c, double z, int *sign);

/* log Gamma(a, z), the upper incomplete gamma function, for any real a and
 * z > 0 (Gamma(a, z) > 0 there). NaN on bad input. */
double pd__log_upper_gamma(double a, double z);

#endif
