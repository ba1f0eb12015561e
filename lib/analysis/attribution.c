/* Attribution credit split with exact integer conservation. */
#include "privdomain/attribution.h"

#include <math.h>
#include <stdlib.h>

#include "pd_internal.h"

static double weight(pd_attribution_model model, size_t i, size_t n, const int64_t *times,
                     int64_t conv, const pd_attribution_params *p) {
  switch (model) {
  case PD_ATTRIBUTION_FIRST: return i == 0 ? 1.0 : 0.0;
  case PD_ATTRIBUTION_LAST: return i == n - 1 ? 1.0 : 0.0;
  case PD_ATTRIBUTION_LINEAR: return 1.0;
  case PD_ATTRIBUTION_DECAY: {
    int64_t age = conv - times[i];
    if (age < 0) age = 0;
    return exp2(-(double)age / (double)p->half_life_ms);
  }
  case PD_ATTRIBUTION_POSITION: {
    double f = p->first_permille, l = p->last_permille, mid = 1000.0 - f - l;
    if (n == 1) return 1.0;
    if (n == 2) {
      double s = f + l;
      if (s == 0) return 1.0;
      return (i == 0 ? f : l) * (1.0 + mid / s);
    }
    if (i == 0) return f;
    if (i == n - 1) return l;
    return mid / (double)(n - 2);
  }
  }
  return 0.0;
}

pd_status pd_attribution_split(pd_attribution_model model, size_t n, const int64_t *times,
                               int64_t conversion_time, int64_t value,
                               const pd_attribution_params *params, int64_t *credit) {
  pd_attribution_params p = PD_ATTRIBUTION_PARAMS_INIT;
  if (params) {
    if (params->size < sizeof p) return pd__error(PD_ERR_INVALID, "attribution params: bad size");
    p = *params;
  }
  if (n == 0 || !credit || value < 0 || (int)model < 0 || model > PD_ATTRIBUTION_POSITION)
    return pd__error(PD_ERR_INVALID, "attribution: bad argument");
  if (model == PD_ATTRIBUTION_DECAY && (!times || p.half_life_ms <= 0))
    return pd__error(PD_ERR_INVALID, "attribution: decay needs times and half_life_ms > 0");
  if (model == PD_ATTRIBUTION_POSITION && (uint64_t)p.first_permille + p.last_permille > 1000)
    return pd__error(PD_ERR_INVALID, "attribution: first + last permille > 1000");
  double *frac = malloc(n * sizeof *frac);
  if (!frac) return pd__error(PD_ERR_NOMEM, "attribution: out of memory");
  double sum = 0;
  for (size_t i = 0; i < n; i++) sum += (frac[i] = weight(model, i, n, times, conversion_time, &p));
  if (!(sum > 0)) { /* every weight underflowed: fall back to last touch */
    for (size_t i = 0; i < n; i++) frac[i] = i == n - 1;
    sum = 1;
  }
  int64_t given = 0;
  for (size_t i = 0; i < n; i++) {
    long double share = (long double)value * frac[i] / sum;
    int64_t c = (int64_t)floorl(share);
    if (c < 0) c = 0;
    if (c > value - given) c = value - given;
    credit[i] = c;
    frac[i] = (double)(share - (long double)c);
    given += c;
  }
  /* Remaining units: one each to the largest fractional parts, ties to the earlier touch. */
  for (int64_t r = value - given; r > 0; r--) {
    size_t best = 0;
    for (size_t i = 1; i < n; i++)
      if (frac[i] > frac[best]) best = i;
    credit[best]++;
    frac[best] -= 1.0;
  }
  free(frac);
  return PD_OK;
}
