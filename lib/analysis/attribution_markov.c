/* The Markov-chain removal-effect model: solving the chain (attribution.h
 * says how it is built and why the formula below is the removal effect). */
#include "privdomain/attribution.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "attribution_internal.h"

/* Inverts the k x k matrix a in place (Gauss-Jordan, partial pivoting).
 * inv receives the inverse; a is destroyed. Returns false when singular. */
static bool invert(size_t k, double *a, double *inv) {
  for (size_t i = 0; i < k; i++)
    for (size_t j = 0; j < k; j++) inv[i * k + j] = i == j;
  for (size_t c = 0; c < k; c++) {
    size_t piv = c;
    for (size_t r = c + 1; r < k; r++)
      if (fabs(a[r * k + c]) > fabs(a[piv * k + c])) piv = r;
    if (!(fabs(a[piv * k + c]) > 1e-300)) return false;
    if (piv != c) {
      for (size_t j = 0; j < k; j++) {
        double t = a[c * k + j];
        a[c * k + j] = a[piv * k + j];
        a[piv * k + j] = t;
        t = inv[c * k + j];
        inv[c * k + j] = inv[piv * k + j];
        inv[piv * k + j] = t;
      }
    }
    double d = 1.0 / a[c * k + c];
    for (size_t j = 0; j < k; j++) {
      a[c * k + j] *= d;
      inv[c * k + j] *= d;
    }
    for (size_t r = 0; r < k; r++) {
      if (r == c) continue;
      double f = a[r * k + c];
      if (f == 0) continue;
      double *ar = a + r * k, *ac = a + c * k, *ir = inv + r * k, *ic = inv + c * k;
      for (size_t j = 0; j < k; j++) {
        ar[j] -= f * ac[j];
        ir[j] -= f * ic[j];
      }
    }
  }
  return true;
}

pd_status pd__attribution_markov(size_t k, const double *counts, double *re, double *p_conv) {
  *p_conv = 0;
  for (size_t i = 0; i < k; i++) re[i] = 0;
  if (k == 0) return PD_OK;
  if (k > PD_ATTRIBUTION_MARKOV_MAX_STATES)
    return pd__error(PD_ERR_RANGE, "attribution: Markov chain of %zu touchpoints (at most %d)", k,
                     PD_ATTRIBUTION_MARKOV_MAX_STATES);
  size_t w = k + 2; /* columns of counts */
  double *a = malloc(k * k * sizeof *a), *g = malloc(k * k * sizeof *g);
  double *b = malloc(k * sizeof *b), *s = malloc(k * sizeof *s), *x = malloc(k * sizeof *x),
         *v = malloc(k * sizeof *v);
  pd_status rc = PD_OK;
  if (!a || !g || !b || !s || !x || !v) {
    rc = pd__error(PD_ERR_NOMEM, "attribution: out of memory (Markov chain of %zu touchpoints)", k);
    goto done;
  }
  /* A = I - Q; b = P(i -> CONVERSION); s = P(START -> i). */
  for (size_t i = 0; i < k; i++) {
    const double *row = counts + i * w;
    double tot = 0;
    for (size_t j = 0; j < w; j++) tot += row[j];
    if (!(tot > 0)) {
      rc = pd__error(PD_ERR_INVALID, "attribution: Markov state %zu has no transitions", i);
      goto done;
    }
    for (size_t j = 0; j < k; j++) a[i * k + j] = (i == j) - row[j] / tot;
    b[i] = row[k] / tot;
  }
  {
    const double *row = counts + k * w;
    double tot = 0;
    for (size_t j = 0; j < w; j++) tot += row[j];
    if (!(tot > 0)) goto done; /* no paths at all */
    for (size_t j = 0; j < k; j++) s[j] = row[j] / tot;
    *p_conv = row[k] / tot; /* START -> CONVERSION directly (no touch): not removable */
  }
  if (!invert(k, a, g)) {
    rc = pd__error(PD_ERR_INVALID, "attribution: singular Markov chain");
    goto done;
  }
  /* x = G b, v = s G */
  for (size_t i = 0; i < k; i++) {
    double acc = 0;
    for (size_t j = 0; j < k; j++) acc += g[i * k + j] * b[j];
    x[i] = acc;
    v[i] = 0;
  }
  for (size_t i = 0; i < k; i++) {
    if (s[i] == 0) continue;
    for (size_t j = 0; j < k; j++) v[j] += s[i] * g[i * k + j];
  }
  double p = *p_conv;
  for (size_t i = 0; i < k; i++) p += s[i] * x[i];
  *p_conv = p;
  if (p > 0)
    for (size_t i = 0; i < k; i++) {
      double r = g[i * k + i] > 0 ? v[i] / g[i * k + i] * x[i] / p : 0;
      re[i] = r < 0 ? 0 : r > 1 ? 1 : r;
    }
done:
  free(a);
  free(g);
  free(b);
  free(s);
  free(x);
  free(v);
  return rc;
}
