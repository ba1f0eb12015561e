/* pd_attribution_run: conversions, their lookback paths, every model's
 * credit per touchpoint (definitions in include/privdomain/attribution.h).
 * One partial per pd_scan() worker: per-touchpoint credit sums, direct
 * conversions, totals and the Markov transition counts; partials merge by
 * addition, and finishing solves the chain and builds the table. */
#include "privdomain/attribution.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attribution_internal.h"
#include "funnel_internal.h"
#include "retention_internal.h"

#define N_RULE 5       /* FIRST..POSITION */
#define N_MODELS 6     /* + MARKOV */
#define MICRO INT64_C(1000000)

static const uint32_t default_touch_types[] = {PD_EV_ACQUIRE, PD_EV_ACTIVATE, PD_EV_VISIT, PD_EV_MESSAGE_OPEN,
                                               PD_EV_REFERRAL_SIGNUP, PD_EV_MEMBER_JOIN};

typedef struct cfg {
  pd_attribution_options o;
  pd_funnel_pred conv;
  pd_attribution_params params;
  unsigned mask; /* bit m: model m computed */
  bool markov;
  pd__typeset touch;
  uint8_t *domains;
  size_t n_domains;
  size_t ntp; /* touchpoints in the store */
} cfg;

/* Transition counts: open addressing, key = (from << 32 | to) + 1, 0 = empty. */
typedef struct tmap {
  uint64_t *key, *val;
  size_t cap, n;
} tmap;

typedef struct part {
  const cfg *c;
  int64_t *rev, *micro; /* ntp x N_MODELS */
  int64_t *paths;
  uint8_t *seen;
  uint64_t *stamp, serial;
  int64_t total_n, total_v, direct_n, direct_v;
  tmap tm;
  /* per-user scratch */
  size_t *touch, tcap;
  int64_t *ptime, *credit, *credit2;
  void *scratch;
  size_t pcap;
} part;

static size_t slot_of(uint64_t key, size_t cap) { return (size_t)((key * UINT64_C(0x9E3779B97F4A7C15)) >> 20) & (cap - 1); }

static bool tmap_add(tmap *m, uint64_t key, uint64_t add) {
  if ((m->n + 1) * 2 > m->cap) {
    size_t nc = m->cap ? m->cap * 2 : 1024;
    uint64_t *nk = calloc(nc, sizeof *nk), *nv = calloc(nc, sizeof *nv);
    if (!nk || !nv) {
      free(nk);
      free(nv);
      return false;
    }
    for (size_t i = 0; i < m->cap; i++) {
      if (!m->key[i]) continue;
      size_t s = slot_of(m->key[i], nc);
      while (nk[s]) s = (s + 1) & (nc - 1);
      nk[s] = m->key[i];
      nv[s] = m->val[i];
    }
    free(m->key);
    free(m->val);
    m->key = nk;
    m->val = nv;
    m->cap = nc;
  }
  size_t s = slot_of(key, m->cap);
  while (m->key[s] && m->key[s] != key) s = (s + 1) & (m->cap - 1);
  if (!m->key[s]) {
    m->key[s] = key;
    m->n++;
  }
  m->val[s] += add;
  return true;
}

static inline uint64_t tkey(uint32_t from, uint32_t to) { return ((uint64_t)from << 32 | to) + 1; }

static void part_free(part *p) {
  if (!p) return;
  free(p->rev);
  free(p->micro);
  free(p->paths);
  free(p->seen);
  free(p->stamp);
  free(p->tm.key);
  free(p->tm.val);
  free(p->touch);
  free(p->ptime);
  free(p->credit);
  free(p->credit2);
  free(p->scratch);
  free(p);
}

static part *part_new(const cfg *c) {
  part *p = calloc(1, sizeof *p);
  if (!p) return NULL;
  size_t n = c->ntp ? c->ntp : 1;
  p->c = c;
  p->rev = calloc(n * N_MODELS, sizeof *p->rev);
  p->micro = calloc(n * N_MODELS, sizeof *p->micro);
  p->paths = calloc(n, sizeof *p->paths);
  p->seen = calloc(n, 1);
  p->stamp = calloc(n, sizeof *p->stamp);
  if (!p->rev || !p->micro || !p->paths || !p->seen || !p->stamp) {
    part_free(p);
    return NULL;
  }
  return p;
}

static bool grow_path(part *p, size_t n) {
  if (n <= p->pcap) return true;
  size_t nc = p->pcap ? p->pcap : 64;
  while (nc < n) nc *= 2;
  int64_t *t = realloc(p->ptime, nc * sizeof *t);
  if (t) p->ptime = t;
  int64_t *c = realloc(p->credit, nc * sizeof *c);
  if (c) p->credit = c;
  int64_t *c2 = realloc(p->credit2, nc * sizeof *c2);
  if (c2) p->credit2 = c2;
  void *s = realloc(p->scratch, nc * (sizeof(double) + sizeof(size_t) + sizeof(double)));
  if (s) p->scratch = s;
  if (!t || !c || !c2 || !s) return false;
  p->pcap = nc;
  return true;
}

static inline bool is_conversion(const cfg *c, const pd_user_events *ev, size_t i) {
  const pd_funnel_pred *q = &c->conv;
  if (q->event_type != PD_NONE && ev->type[i] != q->event_type) return false;
  uint32_t tp = ev->touchpoint[i];
  if (q->touchpoint != PD_NONE && tp != q->touchpoint) return false;
  if (q->domain >= 0 && (tp == PD_NONE || tp >= c->n_domains || c->domains[tp] != q->domain)) return false;
  return ev->amount[i] >= q->min_amount;
}

static inline bool is_touch(const cfg *c, const pd_user_events *ev, size_t i) {
  return ev->touchpoint[i] < c->ntp && pd__typeset_has(&c->touch, ev->type[i]);
}

/* START -> t_0 -> ... -> t_{n-1} -> end, consecutive repeats collapsed. */
static bool chain_add(part *p, const pd_user_events *ev, const size_t *touch, size_t n, uint32_t end) {
  uint32_t start = (uint32_t)p->c->ntp, prev = start;
  for (size_t j = 0; j < n; j++) {
    uint32_t tp = ev->touchpoint[touch[j]];
    if (tp == prev) continue;
    if (!tmap_add(&p->tm, tkey(prev, tp), 1)) return false;
    prev = tp;
  }
  return tmap_add(&p->tm, tkey(prev, end), 1);
}

static pd_status conversion(part *p, const pd_user_events *ev, const size_t *touch, size_t n, int64_t t,
                            int64_t value) {
  const cfg *c = p->c;
  p->total_n++;
  p->total_v += value;
  if (n == 0) {
    p->direct_n++;
    p->direct_v += value;
    return PD_OK;
  }
  p->serial++;
  for (size_t j = 0; j < n; j++) {
    uint32_t tp = ev->touchpoint[touch[j]];
    if (p->stamp[tp] != p->serial) {
      p->stamp[tp] = p->serial;
      p->paths[tp]++;
      p->seen[tp] = 1;
    }
  }
  int64_t sign = value < 0 ? -1 : 1;
  int64_t av = value < 0 ? (value == INT64_MIN ? INT64_MAX : -value) : value;
  if (c->mask & ((1u << PD_ATTRIBUTION_LINEAR) | (1u << PD_ATTRIBUTION_DECAY) | (1u << PD_ATTRIBUTION_POSITION))) {
    if (!grow_path(p, n)) return pd__error(PD_ERR_NOMEM, "attribution: out of memory");
    if (c->mask & (1u << PD_ATTRIBUTION_DECAY))
      for (size_t j = 0; j < n; j++) p->ptime[j] = ev->time[touch[j]];
  }
  for (int m = 0; m < N_RULE; m++) {
    if (!(c->mask & (1u << m))) continue;
    if (m == PD_ATTRIBUTION_FIRST || m == PD_ATTRIBUTION_LAST) {
      uint32_t tp = ev->touchpoint[touch[m == PD_ATTRIBUTION_FIRST ? 0 : n - 1]];
      p->rev[(size_t)tp * N_MODELS + m] += value;
      p->micro[(size_t)tp * N_MODELS + m] += MICRO;
      continue;
    }
    pd__attribution_split((pd_attribution_model)m, n, p->ptime, t, av, &c->params, p->credit, MICRO, p->credit2,
                          p->scratch);
    for (size_t j = 0; j < n; j++) {
      size_t at = (size_t)ev->touchpoint[touch[j]] * N_MODELS + (size_t)m;
      p->rev[at] += sign * p->credit[j];
      p->micro[at] += p->credit2[j];
    }
  }
  if (c->markov && !chain_add(p, ev, touch, n, (uint32_t)c->ntp)) return pd__error(PD_ERR_NOMEM, "attribution: out of memory");
  return PD_OK;
}

static pd_status part_add(void *vp, const pd_user_events *ev) {
  part *p = vp;
  const cfg *c = p->c;
  if (ev->n > p->tcap) {
    size_t nc = p->tcap ? p->tcap : 256;
    while (nc < ev->n) nc *= 2;
    size_t *t = realloc(p->touch, nc * sizeof *t);
    if (!t) return pd__error(PD_ERR_NOMEM, "attribution: out of memory");
    p->touch = t;
    p->tcap = nc;
  }
  int64_t L = c->o.lookback_ms;
  size_t nt = 0, lo = 0, after_last = 0;
  for (size_t i = 0; i < ev->n; i++) {
    if (is_conversion(c, ev, i)) {
      int64_t t = ev->time[i];
      int64_t from = t < INT64_MIN + L ? INT64_MIN : t - L;
      while (lo < nt && ev->time[p->touch[lo]] < from) lo++;
      pd_status rc = conversion(p, ev, p->touch + lo, nt - lo, t, ev->amount[i]);
      if (rc) return rc;
      after_last = nt;
    }
    if (is_touch(c, ev, i)) p->touch[nt++] = i;
  }
  if (c->markov && nt > after_last) { /* the non-converting path after the last conversion */
    int64_t anchor = ev->time[p->touch[nt - 1]];
    int64_t from = anchor < INT64_MIN + L ? INT64_MIN : anchor - L;
    size_t k = after_last;
    while (ev->time[p->touch[k]] < from) k++;
    for (size_t j = k; j < nt; j++) p->seen[ev->touchpoint[p->touch[j]]] = 1;
    if (!chain_add(p, ev, p->touch + k, nt - k, (uint32_t)c->ntp + 1))
      return pd__error(PD_ERR_NOMEM, "attribution: out of memory");
  }
  return PD_OK;
}

static pd_status part_merge(void *vinto, const void *vfrom) {
  part *a = vinto;
  const part *b = vfrom;
  size_t n = a->c->ntp;
  for (size_t i = 0; i < n * N_MODELS; i++) {
    a->rev[i] += b->rev[i];
    a->micro[i] += b->micro[i];
  }
  for (size_t i = 0; i < n; i++) {
    a->paths[i] += b->paths[i];
    a->seen[i] |= b->seen[i];
  }
  a->total_n += b->total_n;
  a->total_v += b->total_v;
  a->direct_n += b->direct_n;
  a->direct_v += b->direct_v;
  for (size_t i = 0; i < b->tm.cap; i++)
    if (b->tm.key[i] && !tmap_add(&a->tm, b->tm.key[i], b->tm.val[i]))
      return pd__error(PD_ERR_NOMEM, "attribution: out of memory");
  return PD_OK;
}

/* Solves the chain and writes MARKOV credit into p->rev/micro; re[tp] gets
 * the removal effects (NaN for touchpoints not in the chain). */
static pd_status markov_finish(part *p, double *re) {
  const cfg *c = p->c;
  size_t ntp = c->ntp, k = 0;
  for (size_t i = 0; i < ntp; i++) re[i] = NAN;
  uint32_t *dense = malloc((ntp + 1) * sizeof *dense), *back = malloc((ntp + 1) * sizeof *back);
  if (!dense || !back) {
    free(dense);
    free(back);
    return pd__error(PD_ERR_NOMEM, "attribution: out of memory");
  }
  for (size_t i = 0; i < ntp; i++) dense[i] = PD_NONE;
  for (size_t i = 0; i < p->tm.cap; i++) {
    if (!p->tm.key[i]) continue;
    uint32_t from = (uint32_t)((p->tm.key[i] - 1) >> 32);
    if (from < ntp && dense[from] == PD_NONE) dense[from] = 0; /* mark */
  }
  for (size_t i = 0; i < ntp; i++)
    if (dense[i] != PD_NONE) {
      dense[i] = (uint32_t)k;
      back[k++] = (uint32_t)i;
    }
  pd_status rc = PD_OK;
  if (k > PD_ATTRIBUTION_MARKOV_MAX_STATES) {
    rc = pd__error(PD_ERR_RANGE, "attribution: Markov chain of %zu touchpoints (at most %d)", k,
                   PD_ATTRIBUTION_MARKOV_MAX_STATES);
    goto done;
  }
  size_t w = k + 2;
  double *counts = calloc((k + 1) * w, sizeof *counts), *r = malloc((k + 1) * sizeof *r);
  int64_t *credit = malloc((k + 1) * sizeof *credit);
  void *scratch = malloc((k + 1) * (sizeof(double) + sizeof(size_t)));
  if (!counts || !r || !credit || !scratch) {
    rc = pd__error(PD_ERR_NOMEM, "attribution: out of memory");
  } else {
    for (size_t i = 0; i < p->tm.cap; i++) {
      if (!p->tm.key[i]) continue;
      uint64_t key = p->tm.key[i] - 1;
      uint32_t from = (uint32_t)(key >> 32), to = (uint32_t)key;
      size_t row = from == ntp ? k : dense[from];
      size_t col = to < ntp ? dense[to] : to == ntp ? k : k + 1;
      counts[row * w + col] += (double)p->tm.val[i];
    }
    double pconv;
    rc = pd__attribution_markov(k, counts, r, &pconv);
    if (!rc && k) {
      double sum = 0;
      for (size_t j = 0; j < k; j++) sum += r[j];
      if (!(sum > 0)) /* no converting path with touches */
        for (size_t j = 0; j < k; j++) r[j] = 1;
      int64_t tv = p->total_v - p->direct_v, tn = p->total_n - p->direct_n;
      int64_t sign = tv < 0 ? -1 : 1;
      pd__apportion(k, r, tv < 0 ? -tv : tv, credit, scratch);
      for (size_t j = 0; j < k; j++) p->rev[(size_t)back[j] * N_MODELS + PD_ATTRIBUTION_MARKOV] = sign * credit[j];
      pd__apportion(k, r, tn * MICRO, credit, scratch);
      for (size_t j = 0; j < k; j++) p->micro[(size_t)back[j] * N_MODELS + PD_ATTRIBUTION_MARKOV] = credit[j];
      if (sum > 0)
        for (size_t j = 0; j < k; j++) re[back[j]] = r[j];
      else
        for (size_t j = 0; j < k; j++) re[back[j]] = 0;
    }
  }
  free(counts);
  free(r);
  free(credit);
  free(scratch);
done:
  free(dense);
  free(back);
  return rc;
}

static void set_share(pd_table *t, size_t row, size_t col, double v, double total) {
  if (total != 0) pd__table_set_double(t, row, col, v / total);
}

static pd_status finish(part *p, pd_store *store, pd_table **out) {
  const cfg *c = p->c;
  size_t ntp = c->ntp;
  double *re = malloc((ntp ? ntp : 1) * sizeof *re);
  if (!re) return pd__error(PD_ERR_NOMEM, "attribution: out of memory");
  pd_status rc = PD_OK;
  if (c->markov && (rc = markov_finish(p, re))) {
    free(re);
    return rc;
  }
  bool all = c->o.model == PD_ATTRIBUTION_ALL;
  int one = (int)c->o.model;
  pd_table *t = pd__table_new("attribution");
  size_t c_tp = pd__table_add_col(t, "touchpoint", PD_TYPE_STRING);
  size_t c_dom = pd__table_add_col(t, "domain", PD_TYPE_STRING);
  size_t c_paths = pd__table_add_col(t, "paths", PD_TYPE_INT64);
  size_t c_conv[N_MODELS], c_rev[N_MODELS], c_cs = 0, c_rs = 0, c_re = 0;
  if (all) {
    char name[64];
    for (int m = 0; m < N_MODELS; m++) {
      snprintf(name, sizeof name, "%s_conversions", pd_attribution_model_name((pd_attribution_model)m));
      c_conv[m] = pd__table_add_col(t, name, PD_TYPE_DOUBLE);
      snprintf(name, sizeof name, "%s_revenue", pd_attribution_model_name((pd_attribution_model)m));
      c_rev[m] = pd__table_add_col(t, name, PD_TYPE_INT64);
    }
    c_re = pd__table_add_col(t, "markov_removal_effect", PD_TYPE_DOUBLE);
  } else {
    c_conv[one] = pd__table_add_col(t, "conversions", PD_TYPE_DOUBLE);
    c_rev[one] = pd__table_add_col(t, "revenue", PD_TYPE_INT64);
    c_cs = pd__table_add_col(t, "conversion_share", PD_TYPE_DOUBLE);
    c_rs = pd__table_add_col(t, "revenue_share", PD_TYPE_DOUBLE);
    if (c->markov) c_re = pd__table_add_col(t, "removal_effect", PD_TYPE_DOUBLE);
  }
  for (size_t tp = 0; tp < ntp; tp++) {
    if (!p->seen[tp]) continue;
    size_t row = pd__table_add_row(t);
    pd_touchpoint_def d = PD_TOUCHPOINT_DEF_INIT;
    if (pd_store_touchpoint(store, (uint32_t)tp, &d) == PD_OK && d.name) {
      pd__table_set_string(t, row, c_tp, d.name);
      pd__table_set_string(t, row, c_dom, pd_domain_name(d.domain));
    } else {
      char name[32];
      snprintf(name, sizeof name, "#%zu", tp);
      pd__table_set_string(t, row, c_tp, name);
    }
    pd__table_set_int64(t, row, c_paths, p->paths[tp]);
    for (int m = 0; m < N_MODELS; m++) {
      if (!(c->mask & (1u << m))) continue;
      const int64_t *rv = p->rev + tp * N_MODELS, *mc = p->micro + tp * N_MODELS;
      pd__table_set_double(t, row, c_conv[m], (double)mc[m] / (double)MICRO);
      pd__table_set_int64(t, row, c_rev[m], rv[m]);
      if (!all) {
        set_share(t, row, c_cs, (double)mc[m] / (double)MICRO, (double)p->total_n);
        set_share(t, row, c_rs, (double)rv[m], (double)p->total_v);
      }
    }
    if (c->markov && !isnan(re[tp])) pd__table_set_double(t, row, c_re, re[tp]);
  }
  if (p->direct_n) {
    size_t row = pd__table_add_row(t);
    pd__table_set_string(t, row, c_tp, "(none)");
    pd__table_set_int64(t, row, c_paths, p->direct_n);
    for (int m = 0; m < N_MODELS; m++) {
      if (!(c->mask & (1u << m))) continue;
      pd__table_set_double(t, row, c_conv[m], (double)p->direct_n);
      pd__table_set_int64(t, row, c_rev[m], p->direct_v);
      if (!all) {
        set_share(t, row, c_cs, (double)p->direct_n, (double)p->total_n);
        set_share(t, row, c_rs, (double)p->direct_v, (double)p->total_v);
      }
    }
  }
  free(re);
  return pd__table_finish(t, out);
}

static pd_status make_cfg(pd_store *store, const pd_attribution_options *opts, cfg *c) {
  pd_attribution_options o = PD_ATTRIBUTION_OPTIONS_INIT;
  if (opts) {
    if (opts->size < sizeof o)
      return pd__error(PD_ERR_INVALID, "attribution: options size %zu (use PD_ATTRIBUTION_OPTIONS_INIT)", opts->size);
    o = *opts;
    o.size = sizeof o;
  }
  if ((int)o.model < 0 || o.model > PD_ATTRIBUTION_ALL)
    return pd__error(PD_ERR_INVALID, "attribution: unknown model %d", (int)o.model);
  if (o.lookback_ms < 0) return pd__error(PD_ERR_INVALID, "attribution: lookback must be >= 0");
  if (o.half_life_ms <= 0) return pd__error(PD_ERR_INVALID, "attribution: half-life must be > 0");
  if ((uint64_t)o.first_permille + o.last_permille > 1000)
    return pd__error(PD_ERR_INVALID, "attribution: position-based first + last shares exceed 100%%");
  if (o.n_touch_types && !o.touch_types) return pd__error(PD_ERR_INVALID, "attribution: touch type count without types");
  pd_funnel_pred q = PD_FUNNEL_PRED_INIT;
  q.event_type = PD_EV_PURCHASE;
  if (o.conversion) {
    if (o.conversion->size < sizeof q)
      return pd__error(PD_ERR_INVALID, "attribution: conversion predicate size (use PD_FUNNEL_PRED_INIT)");
    q = *o.conversion;
  }
  c->conv = q;
  o.conversion = NULL;
  o.touch_types = NULL;
  pd_attribution_params pa = {sizeof pa, o.half_life_ms, o.first_permille, o.last_permille};
  c->params = pa;
  c->mask = o.model == PD_ATTRIBUTION_ALL ? (1u << N_MODELS) - 1 : 1u << o.model;
  c->markov = (c->mask >> PD_ATTRIBUTION_MARKOV) & 1;
  memset(&c->touch, 0, sizeof c->touch);
  if (opts && opts->n_touch_types)
    for (size_t i = 0; i < opts->n_touch_types; i++) pd__typeset_add(&c->touch, opts->touch_types[i]);
  else
    for (size_t i = 0; i < sizeof default_touch_types / sizeof default_touch_types[0]; i++)
      pd__typeset_add(&c->touch, default_touch_types[i]);
  c->o = o;
  c->ntp = pd_store_n_touchpoints(store);
  return pd__store_domains(store, &c->domains, &c->n_domains);
}

pd_status pd_attribution_run(pd_store *store, const pd_attribution_options *opts, const pd_scan_options *scan,
                             pd_table **out) {
  if (!store || !out) return pd__error(PD_ERR_INVALID, "pd_attribution_run: NULL argument");
  cfg *c = calloc(1, sizeof *c);
  if (!c) return pd__error(PD_ERR_NOMEM, "attribution: out of memory");
  pd_status rc = make_cfg(store, opts, c);
  if (rc) {
    free(c);
    return rc;
  }
  unsigned nw = pd_scan_workers(scan);
  void **parts = calloc(nw, sizeof *parts);
  if (!parts) rc = pd__error(PD_ERR_NOMEM, "attribution: out of memory");
  for (unsigned w = 0; !rc && w < nw; w++)
    if (!(parts[w] = part_new(c))) rc = pd__error(PD_ERR_NOMEM, "attribution: out of memory");
  if (!rc) rc = pd__scan_partials(store, scan, parts, nw, part_add, part_merge);
  if (!rc) rc = finish(parts[0], store, out);
  for (unsigned w = 0; parts && w < nw; w++) part_free(parts[w]);
  free(parts);
  free(c->domains);
  free(c);
  return rc;
}
