/* Attribution credit split with exact integer conservation; model names. */
#include "privdomain/attribution.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "attribution_internal.h"

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
  default: return 0.0;
  }
}

typedef struct frac_idx {
  double frac;
  size_t i;
} frac_idx;

static int by_frac_desc(const void *a, const void *b) {
  const frac_idx *x = a, *y = b;
  if (x->frac != y->frac) return x->frac > y->frac ? -1 : 1;
  return x->i < y->i ? -1 : x->i > y->i;
}

/* credit[i] = floor(value * w[i] / sum); remaining units to the largest
 * fractional parts, ties to the lower index. fi: n entries of scratch. */
static void apportion(size_t n, const double *w, double sum, int64_t value, int64_t *credit, frac_idx *fi) {
  int64_t given = 0;
  for (size_t i = 0; i < n; i++) {
    long double share = (long double)value * w[i] / sum;
    int64_t c = (int64_t)floorl(share);
    if (c < 0) c = 0;
    if (c > value - given) c = value - given;
    credit[i] = c;
    fi[i].frac = (double)(share - (long double)c);
    fi[i].i = i;
    given += c;
  }
  int64_t r = value - given;
  if (r <= 0) return;
  if ((uint64_t)r <= 4) { /* few units: scan, no sort */
    for (; r > 0; r--) {
      size_t best = 0;
      for (size_t i = 1; i < n; i++)
        if (fi[i].frac > fi[best].frac) best = i;
      credit[best]++;
      fi[best].frac -= 1.0;
    }
    return;
  }
  qsort(fi, n, sizeof *fi, by_frac_desc);
  /* r < n always holds (each floor loses less than one unit), but stay safe */
  for (size_t j = 0; r > 0; j = (j + 1) % n, r--) credit[fi[j].i]++;
}

void pd__apportion(size_t n, const double *w, int64_t value, int64_t *credit, void *scratch) {
  double sum = 0;
  for (size_t i = 0; i < n; i++) sum += w[i];
  apportion(n, w, sum, value, credit, scratch);
}

void pd__attribution_split(pd_attribution_model model, size_t n, const int64_t *times, int64_t conv, int64_t value,
                           const pd_attribution_params *p, int64_t *credit, void *scratch) {
  if (model == PD_ATTRIBUTION_FIRST || model == PD_ATTRIBUTION_LAST || n == 1) {
    memset(credit, 0, n * sizeof *credit);
    credit[model == PD_ATTRIBUTION_FIRST ? 0 : n - 1] = value;
    return;
  }
  if (model == PD_ATTRIBUTION_LINEAR) { /* equal fractional parts: the remainder to the earliest touches */
    int64_t q = value / (int64_t)n, r = value % (int64_t)n;
    for (size_t i = 0; i < n; i++) credit[i] = q + ((int64_t)i < r);
    return;
  }
  frac_idx *fi = scratch;
  double *w = (double *)(fi + n);
  double sum = 0;
  for (size_t i = 0; i < n; i++) sum += (w[i] = weight(model, i, n, times, conv, p));
  if (!(sum > 0)) { /* every weight underflowed: fall back to last touch */
    for (size_t i = 0; i < n; i++) w[i] = i == n - 1;
    sum = 1;
  }
  apportion(n, w, sum, value, credit, fi);
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
  if (n > SIZE_MAX / (sizeof(frac_idx) + sizeof(double))) return pd__error(PD_ERR_NOMEM, "attribution: out of memory");
  void *scratch = malloc(n * (sizeof(frac_idx) + sizeof(double)));
  if (!scratch) return pd__error(PD_ERR_NOMEM, "attribution: out of memory");
  pd__attribution_split(model, n, times, conversion_time, value, &p, credit, scratch);
  free(scratch);
  return PD_OK;
}

static const char *const model_names[] = {"first", "last", "linear", "decay", "position", "markov", "all"};

const char *pd_attribution_model_name(pd_attribution_model model) {
  return (int)model >= 0 && model <= PD_ATTRIBUTION_ALL ? model_names[model] : NULL;
}

pd_status pd_attribution_model_from_name(const char *name, pd_attribution_model *out) {
  static const struct {
    const char *name;
    pd_attribution_model m;
  } aliases[] = {{"first_touch", PD_ATTRIBUTION_FIRST}, {"last_touch", PD_ATTRIBUTION_LAST},
                 {"time_decay", PD_ATTRIBUTION_DECAY}, {"position_based", PD_ATTRIBUTION_POSITION}};
  if (!name || !out) return pd__error(PD_ERR_INVALID, "attribution: NULL argument");
  for (int m = 0; m <= PD_ATTRIBUTION_ALL; m++)
    if (strcmp(name, model_names[m]) == 0) {
      *out = (pd_attribution_model)m;
      return PD_OK;
    }
  for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
    if (strcmp(name, aliases[i].name) == 0) {
      *out = aliases[i].m;
      return PD_OK;
    }
  return pd__error(PD_ERR_INVALID,
                   "unknown attribution model \"%s\" (first, last, linear, decay, position, markov or all)", name);
}
