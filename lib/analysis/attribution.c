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

static inline bool before(const frac_idx *x, const frac_idx *y) { return by_frac_desc(x, y) < 0; }

/* Moves the k first elements of the order by_frac_desc (a strict total
 * order) to a[0..k), in no particular order: quickselect, O(n) expected. */
static void select_top(frac_idx *a, size_t n, size_t k) {
  size_t lo = 0, hi = n; /* the boundary k lies in [lo, hi) */
  while (hi - lo > 1) {
    size_t mid = lo + (hi - lo) / 2;
    /* median of three as the pivot, moved to hi - 1 */
    frac_idx *x = &a[lo], *y = &a[mid], *z = &a[hi - 1], t;
    frac_idx *m = before(x, y) ? (before(y, z) ? y : before(x, z) ? z : x) : (before(x, z) ? x : before(y, z) ? z : y);
    t = *m, *m = a[hi - 1], a[hi - 1] = t;
    frac_idx piv = a[hi - 1];
    size_t store = lo;
    for (size_t i = lo; i + 1 < hi; i++)
      if (before(&a[i], &piv)) t = a[i], a[i] = a[store], a[store] = t, store++;
    t = a[store], a[store] = a[hi - 1], a[hi - 1] = t;
    if (store == k || store + 1 == k) return; /* a[0..store] precede everything after */
    if (store > k)
      hi = store;
    else
      lo = store + 1;
  }
}

/* credit[i] = floor(value * w[i] / sum); remaining units to the largest
 * fractional parts, ties to the lower index. fi: n entries of scratch.
 * In double: the floors may be off by one where a share is within rounding
 * of an integer, which the remainder step repairs; the sum is always exact. */
static void apportion(size_t n, const double *w, double sum, int64_t value, int64_t *credit, frac_idx *fi) {
  int64_t given = 0;
  for (size_t i = 0; i < n; i++) {
    double share = (double)value * w[i] / sum;
    int64_t c = share > 0 ? (int64_t)share : 0;
    if (c > value - given) c = value - given;
    credit[i] = c;
    fi[i].frac = share - (double)c;
    fi[i].i = i;
    given += c;
  }
  int64_t r = value - given;
  if (r <= 0) return;
  if (r <= 4) { /* few units: scan, no sort */
    for (; r > 0; r--) {
      size_t best = 0;
      for (size_t i = 1; i < n; i++)
        if (fi[i].frac > fi[best].frac) best = i;
      credit[best]++;
      fi[best].frac -= 1.0;
    }
    return;
  }
  while ((uint64_t)r >= n) { /* only when rounding lost whole units: everyone gets one */
    for (size_t i = 0; i < n; i++) credit[i]++;
    r -= (int64_t)n;
  }
  if (r == 0) return;
  select_top(fi, n, (size_t)r);
  for (size_t j = 0; j < (size_t)r; j++) credit[fi[j].i]++;
}

void pd__apportion(size_t n, const double *w, int64_t value, int64_t *credit, void *scratch) {
  double sum = 0;
  for (size_t i = 0; i < n; i++) sum += w[i];
  apportion(n, w, sum, value, credit, scratch);
}

/* POSITION in exact integers. Scaled by (n - 2) the weights are
 * f (n - 2), 1000 - f - l for each middle touch, l (n - 2), summing to
 * 1000 (n - 2); with two touches f and l (1 and 1 when both are 0). Every
 * middle touch has the same remainder, so the leftover units go by group:
 * larger remainder first, then the earlier group (first, middle, last), and
 * within the middle group to the earliest touches. */
static void position_split(size_t n, int64_t value, uint32_t f, uint32_t l, int64_t *credit) {
  typedef unsigned __int128 u128;
  uint64_t wf, wl, wm, sum;
  if (n == 2) {
    wf = f, wl = l, wm = 0, sum = (uint64_t)f + l;
    if (sum == 0) wf = wl = 1, sum = 2;
  } else {
    wf = (uint64_t)f * (n - 2), wl = (uint64_t)l * (n - 2), wm = 1000u - f - l, sum = 1000u * (uint64_t)(n - 2);
  }
  u128 v = (u128)value;
  int64_t cf = (int64_t)(v * wf / sum), cl = (int64_t)(v * wl / sum), cm = (int64_t)(v * wm / sum);
  uint64_t rf = (uint64_t)(v * wf % sum), rl = (uint64_t)(v * wl % sum), rm = (uint64_t)(v * wm % sum);
  credit[0] = cf;
  credit[n - 1] = cl;
  for (size_t i = 1; i + 1 < n; i++) credit[i] = cm;
  int64_t left = value - cf - cl - cm * (int64_t)(n - 2);
  /* groups in order of (remainder desc, position asc) */
  struct {
    uint64_t rem;
    int g;
  } grp[3] = {{rf, 0}, {rm, 1}, {rl, 2}}, t;
  for (int a = 0; a < 3; a++)
    for (int b = a + 1; b < 3; b++)
      if (grp[b].rem > grp[a].rem || (grp[b].rem == grp[a].rem && grp[b].g < grp[a].g)) t = grp[a], grp[a] = grp[b], grp[b] = t;
  for (int k = 0; k < 3 && left > 0; k++) {
    if (grp[k].g == 0) {
      credit[0]++, left--;
    } else if (grp[k].g == 2) {
      credit[n - 1]++, left--;
    } else {
      for (size_t i = 1; i + 1 < n && left > 0; i++) credit[i]++, left--;
    }
  }
}

void pd__attribution_split(pd_attribution_model model, size_t n, const int64_t *times, int64_t conv, int64_t value,
                           const pd_attribution_params *p, int64_t *credit, int64_t value2, int64_t *credit2,
                           void *scratch) {
  if (model == PD_ATTRIBUTION_FIRST || model == PD_ATTRIBUTION_LAST || n == 1) {
    size_t at = model == PD_ATTRIBUTION_FIRST ? 0 : n - 1;
    memset(credit, 0, n * sizeof *credit);
    credit[at] = value;
    if (credit2) {
      memset(credit2, 0, n * sizeof *credit2);
      credit2[at] = value2;
    }
    return;
  }
  if (model == PD_ATTRIBUTION_LINEAR) { /* equal fractional parts: the remainder to the earliest touches */
    int64_t q = value / (int64_t)n, r = value % (int64_t)n;
    for (size_t i = 0; i < n; i++) credit[i] = q + ((int64_t)i < r);
    if (credit2) {
      q = value2 / (int64_t)n, r = value2 % (int64_t)n;
      for (size_t i = 0; i < n; i++) credit2[i] = q + ((int64_t)i < r);
    }
    return;
  }
  if (model == PD_ATTRIBUTION_POSITION) {
    position_split(n, value, p->first_permille, p->last_permille, credit);
    if (credit2) position_split(n, value2, p->first_permille, p->last_permille, credit2);
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
  if (credit2) apportion(n, w, sum, value2, credit2, fi);
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
  pd__attribution_split(model, n, times, conversion_time, value, &p, credit, 0, NULL, scratch);
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
