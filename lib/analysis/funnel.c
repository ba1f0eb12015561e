/* Ordered funnels: spec builder, per-user attempt evaluation, partials.
 * Definitions of every mode are in include/privdomain/funnel.h. */
#include <ctype.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "privdomain/funnel.h"
#include "privdomain/segments.h"
#include "funnel_internal.h"
#include "tz.h"

#define KEY_NONE INT64_MAX

typedef struct fstep {
  pd_funnel_pred pred;
  char *label;
} fstep;

typedef struct fexcl {
  pd_funnel_pred pred;
  unsigned from, to; /* 1-based */
} fexcl;

struct pd_funnel_spec {
  fstep steps[PD_FUNNEL_MAX_STEPS];
  unsigned n_steps;
  fexcl excl[PD_FUNNEL_MAX_EXCLUSIONS];
  unsigned n_excl;
  int64_t window;
  pd_funnel_mode mode;
  pd_funnel_by by;
  pd_period period;
  char *tz;
  uint8_t *domains;
  size_t n_domains;
  /* PD_FUNNEL_BY_TAG: named user sets, group k = segment k */
  char **seg_names;
  pd_userset **seg_sets;
  size_t n_segs;
};

/* ---- spec builder ------------------------------------------------------ */

pd_status pd_funnel_spec_new(pd_funnel_spec **out) {
  if (!out) return pd__error(PD_ERR_INVALID, "pd_funnel_spec_new: out is NULL");
  pd_funnel_spec *s = calloc(1, sizeof *s);
  if (!s) return pd__error(PD_ERR_NOMEM, "pd_funnel_spec_new: out of memory");
  s->window = PD_MS_DAY;
  s->mode = PD_FUNNEL_DEFAULT;
  s->by = PD_FUNNEL_BY_NONE;
  s->period = PD_PERIOD_DAY;
  *out = s;
  return PD_OK;
}

void pd_funnel_spec_free(pd_funnel_spec *s) {
  if (!s) return;
  for (unsigned i = 0; i < s->n_steps; i++) free(s->steps[i].label);
  free(s->tz);
  free(s->domains);
  for (size_t i = 0; i < s->n_segs; i++) {
    free(s->seg_names[i]);
    pd_userset_free(s->seg_sets[i]);
  }
  free(s->seg_names);
  free(s->seg_sets);
  free(s);
}

static pd_status copy_pred(pd_funnel_pred *dst, const pd_funnel_pred *src, const char *what) {
  if (!src || src->size < sizeof(size_t)) return pd__error(PD_ERR_INVALID, "%s: predicate missing or size not set", what);
  pd_funnel_pred d = PD_FUNNEL_PRED_INIT;
  memcpy(&d, src, src->size < sizeof d ? src->size : sizeof d);
  d.size = sizeof d;
  if (d.domain < -1 || d.domain > PD_DOMAIN_SEMI) return pd__error(PD_ERR_INVALID, "%s: bad domain %d", what, d.domain);
  if (d.event_type != PD_NONE && d.event_type > UINT16_MAX)
    return pd__error(PD_ERR_INVALID, "%s: event type %" PRIu32 " out of range", what, d.event_type);
  *dst = d;
  return PD_OK;
}

pd_status pd_funnel_spec_add_step(pd_funnel_spec *s, const pd_funnel_pred *pred, const char *label) {
  if (!s) return pd__error(PD_ERR_INVALID, "pd_funnel_spec_add_step: spec is NULL");
  if (s->n_steps >= PD_FUNNEL_MAX_STEPS) return pd__error(PD_ERR_RANGE, "funnel: at most %d steps", PD_FUNNEL_MAX_STEPS);
  fstep *st = &s->steps[s->n_steps];
  pd_status rc = copy_pred(&st->pred, pred, "pd_funnel_spec_add_step");
  if (rc) return rc;
  char buf[32];
  if (!label) {
    snprintf(buf, sizeof buf, "step %u", s->n_steps + 1);
    label = buf;
  }
  st->label = strdup(label);
  if (!st->label) return pd__error(PD_ERR_NOMEM, "pd_funnel_spec_add_step: out of memory");
  s->n_steps++;
  return PD_OK;
}

pd_status pd_funnel_spec_add_exclusion(pd_funnel_spec *s, const pd_funnel_pred *pred, unsigned from, unsigned to) {
  if (!s) return pd__error(PD_ERR_INVALID, "pd_funnel_spec_add_exclusion: spec is NULL");
  if (s->n_excl >= PD_FUNNEL_MAX_EXCLUSIONS)
    return pd__error(PD_ERR_RANGE, "funnel: at most %d exclusions", PD_FUNNEL_MAX_EXCLUSIONS);
  if (from < 1 || to <= from || to > PD_FUNNEL_MAX_STEPS)
    return pd__error(PD_ERR_INVALID, "funnel exclusion: need 1 <= from_step < to_step <= %d (got %u, %u)",
                     PD_FUNNEL_MAX_STEPS, from, to);
  fexcl *x = &s->excl[s->n_excl];
  pd_status rc = copy_pred(&x->pred, pred, "pd_funnel_spec_add_exclusion");
  if (rc) return rc;
  x->from = from;
  x->to = to;
  s->n_excl++;
  return PD_OK;
}

pd_status pd_funnel_spec_set_window(pd_funnel_spec *s, int64_t window_ms) {
  if (!s || window_ms < 0) return pd__error(PD_ERR_INVALID, "pd_funnel_spec_set_window: window must be >= 0");
  s->window = window_ms;
  return PD_OK;
}

pd_status pd_funnel_spec_set_mode(pd_funnel_spec *s, pd_funnel_mode mode) {
  if (!s || (int)mode < PD_FUNNEL_DEFAULT || mode > PD_FUNNEL_UNORDERED)
    return pd__error(PD_ERR_INVALID, "pd_funnel_spec_set_mode: unknown mode %d", (int)mode);
  s->mode = mode;
  return PD_OK;
}

pd_status pd_funnel_spec_set_breakdown(pd_funnel_spec *s, pd_funnel_by by, pd_period period, const char *tz) {
  if (!s) return pd__error(PD_ERR_INVALID, "pd_funnel_spec_set_breakdown: spec is NULL");
  if ((int)by < PD_FUNNEL_BY_NONE || by > PD_FUNNEL_BY_TAG)
    return pd__error(PD_ERR_INVALID, "funnel: unknown breakdown %d", (int)by);
  if ((int)period < PD_PERIOD_DAY || period > PD_PERIOD_MONTH)
    return pd__error(PD_ERR_INVALID, "funnel: unknown period %d", (int)period);
  pd__tz *z = NULL;
  pd_status rc = pd__tz_open(tz, &z); /* validate the name now */
  if (rc) return rc;
  pd__tz_free(z);
  char *copy = NULL;
  if (tz && !(copy = strdup(tz))) return pd__error(PD_ERR_NOMEM, "funnel: out of memory");
  free(s->tz);
  s->tz = copy;
  s->by = by;
  s->period = period;
  return PD_OK;
}

pd_status pd_funnel_spec_add_segment(pd_funnel_spec *s, const char *name, const pd_userset *users) {
  if (!s || !name || !users) return pd__error(PD_ERR_INVALID, "pd_funnel_spec_add_segment: NULL argument");
  if (s->n_segs >= PD_FUNNEL_MAX_SEGMENTS)
    return pd__error(PD_ERR_RANGE, "funnel: more than %d segments", PD_FUNNEL_MAX_SEGMENTS);
  char **names = realloc(s->seg_names, (s->n_segs + 1) * sizeof *names);
  if (!names) return pd__error(PD_ERR_NOMEM, "funnel: out of memory");
  s->seg_names = names;
  pd_userset **sets = realloc(s->seg_sets, (s->n_segs + 1) * sizeof *sets);
  if (!sets) return pd__error(PD_ERR_NOMEM, "funnel: out of memory");
  s->seg_sets = sets;
  char *copy = strdup(name);
  if (!copy) return pd__error(PD_ERR_NOMEM, "funnel: out of memory");
  pd_status rc = pd_userset_copy(&s->seg_sets[s->n_segs], users);
  if (rc) {
    free(copy);
    return rc;
  }
  s->seg_names[s->n_segs++] = copy;
  return PD_OK;
}

pd_status pd_funnel_spec_set_domains(pd_funnel_spec *s, const uint8_t *domains, size_t n) {
  if (!s || (n && !domains)) return pd__error(PD_ERR_INVALID, "pd_funnel_spec_set_domains: bad arguments");
  uint8_t *d = NULL;
  if (n) {
    if (!(d = malloc(n))) return pd__error(PD_ERR_NOMEM, "funnel: out of memory");
    memcpy(d, domains, n);
  }
  free(s->domains);
  s->domains = d;
  s->n_domains = n;
  return PD_OK;
}

void pd__funnel_spec_get_view(const pd_funnel_spec *s, pd__funnel_spec_view *v) {
  memset(v, 0, sizeof *v);
  v->n_steps = s->n_steps;
  v->n_excl = s->n_excl;
  for (unsigned i = 0; i < s->n_steps; i++) v->steps[i] = &s->steps[i].pred;
  for (unsigned i = 0; i < s->n_excl; i++) {
    v->excl[i] = &s->excl[i].pred;
    v->excl_from[i] = s->excl[i].from;
    v->excl_to[i] = s->excl[i].to;
  }
  v->window = s->window;
  v->mode = s->mode;
  v->by = s->by;
  v->period = s->period;
  v->tz = s->tz;
  v->domains = s->domains;
  v->n_domains = s->n_domains;
}

size_t pd_funnel_spec_n_steps(const pd_funnel_spec *s) { return s ? s->n_steps : 0; }

pd_status pd_funnel_parse_window(const char *text, int64_t *out) {
  if (!text || !out) return pd__error(PD_ERR_INVALID, "pd_funnel_parse_window: NULL argument");
  const char *p = text;
  if (!isdigit((unsigned char)*p)) return pd__error(PD_ERR_PARSE, "window \"%s\": expected a number and a unit (7d)", text);
  int64_t v = 0;
  while (isdigit((unsigned char)*p)) {
    if (v > (INT64_MAX - 9) / 10) return pd__error(PD_ERR_RANGE, "window \"%s\": too large", text);
    v = v * 10 + (*p++ - '0');
  }
  static const struct {
    const char *u;
    int64_t ms;
  } units[] = {{"", 1},           {"ms", 1},          {"s", PD_MS_SECOND}, {"m", PD_MS_MINUTE}, {"min", PD_MS_MINUTE},
               {"h", PD_MS_HOUR}, {"d", PD_MS_DAY},   {"w", PD_MS_WEEK},   {"mo", PD_MS_MONTH}, {"month", PD_MS_MONTH},
               {"months", PD_MS_MONTH}};
  for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
    if (strcmp(p, units[i].u) == 0) {
      if (v > INT64_MAX / units[i].ms) return pd__error(PD_ERR_RANGE, "window \"%s\": too large", text);
      *out = v * units[i].ms;
      return PD_OK;
    }
  return pd__error(PD_ERR_PARSE, "window \"%s\": unknown unit \"%s\" (ms, s, m, h, d, w, mo)", text, p);
}

static const char *const mode_names[] = {"default",         "strict_order", "strict_deduplication",
                                         "strict_increase", "strict_once",  "unordered"};

const char *pd_funnel_mode_name(pd_funnel_mode mode) {
  return (int)mode >= 0 && mode <= PD_FUNNEL_UNORDERED ? mode_names[mode] : NULL;
}

pd_status pd_funnel_parse_mode(const char *text, pd_funnel_mode *out) {
  if (!text || !out) return pd__error(PD_ERR_INVALID, "pd_funnel_parse_mode: NULL argument");
  for (int i = 0; i <= PD_FUNNEL_UNORDERED; i++)
    if (strcmp(text, mode_names[i]) == 0) {
      *out = (pd_funnel_mode)i;
      return PD_OK;
    }
  return pd__error(PD_ERR_INVALID,
                   "unknown funnel mode \"%s\" (default, strict_order, strict_deduplication, strict_increase, "
                   "strict_once, unordered)",
                   text);
}

/* ---- partial state ----------------------------------------------------- */

typedef struct tvec {
  int64_t *v;
  size_t n, cap;
} tvec;

typedef struct group {
  uint64_t reached[PD_FUNNEL_MAX_STEPS];
  uint64_t excluded;
  tvec times[PD_FUNNEL_MAX_STEPS]; /* [k] = time from step k to step k+1 */
} group;

/* One breakdown key of the user being evaluated, with its best attempt. */
typedef struct ukey {
  int64_t key;
  bool any;      /* had an attempt */
  bool best_set; /* has a non-disqualified attempt */
  pd__funnel_attempt best;
} ukey;

struct pd_funnel_partial {
  const pd_funnel_spec *spec;
  unsigned n;
  uint8_t *domains;
  size_t n_domains;
  pd__tz *tz;
  /* compiled predicates: steps (bit k = step k+1) and exclusions by type */
  uint64_t *type_mask;               /* steps | exclusions << 32, by type < n_types */
  size_t n_types;
  uint32_t any_smask, any_xmask;     /* predicates with no event type */
  uint32_t plain_smask, plain_xmask; /* predicates with nothing but a type */
  uint32_t spec_smask, spec_xmask;   /* all steps, all exclusions */
  GHashTable *groups;                /* int64 key -> group* */
  bool oom;
  /* per-user scratch: the events that matter to this funnel (all of them in
   * strict_order, else those matching a step or an exclusion), compacted */
  int64_t *ct;
  uint32_t *m, *x, *idx;
  size_t cn, cap;
  ukey *keys;
  size_t n_keys, cap_keys;
};

static void group_free(gpointer g) {
  group *gr = g;
  for (unsigned k = 0; k < PD_FUNNEL_MAX_STEPS; k++) free(gr->times[k].v);
  free(gr);
}

pd_status pd__funnel_partial_new_ex(const pd_funnel_spec *spec, const uint8_t *domains, size_t n_domains,
                                    pd_funnel_partial **out) {
  if (!spec || !out) return pd__error(PD_ERR_INVALID, "pd_funnel_partial_new: NULL argument");
  if (spec->n_steps < 2) return pd__error(PD_ERR_INVALID, "funnel: need at least 2 steps (have %u)", spec->n_steps);
  if (spec->by == PD_FUNNEL_BY_TAG && spec->n_segs == 0)
    return pd__error(PD_ERR_INVALID, "funnel: a breakdown by segment needs segments (pd_funnel_spec_add_segment)");
  for (unsigned i = 0; i < spec->n_excl; i++)
    if (spec->excl[i].to > spec->n_steps)
      return pd__error(PD_ERR_INVALID, "funnel exclusion %u: step %u does not exist (%u steps)", i + 1, spec->excl[i].to,
                       spec->n_steps);
  pd_funnel_partial *p = calloc(1, sizeof *p);
  if (!p) return pd__error(PD_ERR_NOMEM, "funnel: out of memory");
  p->spec = spec;
  p->n = spec->n_steps;
  /* a table only as long as the highest type named: small enough to stay in L1 */
  p->n_types = 1;
  for (unsigned k = 0; k < spec->n_steps; k++)
    if (spec->steps[k].pred.event_type != PD_NONE && spec->steps[k].pred.event_type >= p->n_types)
      p->n_types = spec->steps[k].pred.event_type + 1;
  for (unsigned k = 0; k < spec->n_excl; k++)
    if (spec->excl[k].pred.event_type != PD_NONE && spec->excl[k].pred.event_type >= p->n_types)
      p->n_types = spec->excl[k].pred.event_type + 1;
  p->type_mask = calloc(p->n_types, sizeof(uint64_t));
  p->groups = g_hash_table_new_full(g_int64_hash, g_int64_equal, free, group_free);
  if (n_domains) {
    p->domains = malloc(n_domains);
    if (p->domains) memcpy(p->domains, domains, n_domains);
    p->n_domains = n_domains;
  }
  if (!p->type_mask || (n_domains && !p->domains)) {
    pd_funnel_partial_free(p);
    return pd__error(PD_ERR_NOMEM, "funnel: out of memory");
  }
  pd_status rc = pd__tz_open(spec->tz, &p->tz);
  if (rc) {
    pd_funnel_partial_free(p);
    return rc;
  }
  for (unsigned k = 0; k < spec->n_steps; k++) {
    const pd_funnel_pred *q = &spec->steps[k].pred;
    uint32_t bit = UINT32_C(1) << k;
    p->spec_smask |= bit;
    if (q->event_type == PD_NONE)
      p->any_smask |= bit;
    else
      p->type_mask[q->event_type] |= bit;
    if (q->touchpoint == PD_NONE && q->domain < 0 && q->min_amount == INT64_MIN) p->plain_smask |= bit;
  }
  for (unsigned k = 0; k < spec->n_excl; k++) {
    const pd_funnel_pred *q = &spec->excl[k].pred;
    uint32_t bit = UINT32_C(1) << k;
    p->spec_xmask |= bit;
    if (q->event_type == PD_NONE)
      p->any_xmask |= bit;
    else
      p->type_mask[q->event_type] |= (uint64_t)bit << 32;
    if (q->touchpoint == PD_NONE && q->domain < 0 && q->min_amount == INT64_MIN) p->plain_xmask |= bit;
  }
  *out = p;
  return PD_OK;
}

pd_status pd_funnel_partial_new(const pd_funnel_spec *spec, pd_funnel_partial **out) {
  if (!spec) return pd__error(PD_ERR_INVALID, "pd_funnel_partial_new: spec is NULL");
  return pd__funnel_partial_new_ex(spec, spec->domains, spec->n_domains, out);
}

void pd_funnel_partial_free(pd_funnel_partial *p) {
  if (!p) return;
  free(p->type_mask);
  free(p->domains);
  if (p->groups) g_hash_table_destroy(p->groups);
  pd__tz_free(p->tz);
  free(p->ct);
  free(p->m);
  free(p->x);
  free(p->idx);
  free(p->keys);
  free(p);
}

static int domain_of(const pd_funnel_partial *p, uint32_t tp) {
  return tp != PD_NONE && tp < p->n_domains ? p->domains[tp] : PD_DOMAIN_UNKNOWN;
}

static bool pred_extra_ok(const pd_funnel_partial *p, const pd_funnel_pred *q, uint32_t tp, int64_t amount) {
  if (q->touchpoint != PD_NONE && q->touchpoint != tp) return false;
  if (q->domain >= 0 && (tp == PD_NONE || domain_of(p, tp) != q->domain)) return false;
  return amount >= q->min_amount;
}

/* Step and exclusion masks of the user's events, keeping (compacted into
 * p->ct/m/x/idx) only those that can matter: every event in strict_order
 * (any event may break a chain there), else those that match a step or an
 * exclusion. Returns false on OOM (a user's run fits uint32 indexes). */
static bool compute_masks(pd_funnel_partial *p, const pd_user_events *ev) {
  if (ev->n > p->cap) {
    size_t cap = ev->n + ev->n / 2 + 16;
    int64_t *ct = realloc(p->ct, cap * sizeof *ct);
    if (!ct) return false;
    p->ct = ct;
    uint32_t *m = realloc(p->m, cap * sizeof *m);
    if (!m) return false;
    p->m = m;
    uint32_t *x = realloc(p->x, cap * sizeof *x);
    if (!x) return false;
    p->x = x;
    uint32_t *idx = realloc(p->idx, cap * sizeof *idx);
    if (!idx) return false;
    p->idx = idx;
    p->cap = cap;
  }
  const pd_funnel_spec *s = p->spec;
  const bool keep_all = s->mode == PD_FUNNEL_STRICT_ORDER;
  const uint64_t *type_mask = p->type_mask;
  const size_t n_types = p->n_types;
  size_t cn = 0;
  if (!(p->any_smask | p->any_xmask) && !(~p->plain_smask & p->spec_smask) && !(~p->plain_xmask & p->spec_xmask)) {
    /* Every predicate is an event type alone: the masks come from the type
     * table. Everything in locals and restrict pointers, so the loop keeps
     * its state in registers (stores to the scratch arrays cannot alias
     * the partial's fields). */
    int64_t *restrict ct = p->ct;
    uint32_t *restrict m = p->m, *restrict x = p->x, *restrict idx = p->idx;
    const uint16_t *restrict type = ev->type;
    const int64_t *restrict time = ev->time;
    const size_t n = ev->n;
    const uint64_t keep = keep_all ? 1 : 0;
    for (size_t i = 0; i < n; i++) {
      uint16_t ty = type[i];
      uint64_t tm = ty < n_types ? type_mask[ty] : 0;
      ct[cn] = time[i];
      m[cn] = (uint32_t)tm;
      x[cn] = (uint32_t)(tm >> 32);
      idx[cn] = (uint32_t)i;
      cn += (size_t)((tm | keep) != 0);
    }
    p->cn = cn;
    return true;
  }
  for (size_t i = 0; i < ev->n; i++) {
    uint16_t ty = ev->type[i];
    uint64_t tm = ty < n_types ? type_mask[ty] : 0;
    uint32_t sm = (uint32_t)tm | p->any_smask, xm = (uint32_t)(tm >> 32) | p->any_xmask;
    uint32_t check = sm & ~p->plain_smask;
    while (check) {
      int k = __builtin_ctz(check);
      check &= check - 1;
      if (!pred_extra_ok(p, &s->steps[k].pred, ev->touchpoint[i], ev->amount[i])) sm &= ~(UINT32_C(1) << k);
    }
    check = xm & ~p->plain_xmask;
    while (check) {
      int k = __builtin_ctz(check);
      check &= check - 1;
      if (!pred_extra_ok(p, &s->excl[k].pred, ev->touchpoint[i], ev->amount[i])) xm &= ~(UINT32_C(1) << k);
    }
    /* Branch-free compaction: always write the slot, advance only for a
     * relevant event. Which events are relevant is data-dependent and
     * unpredictable, so a branch here costs more than the stores. */
    p->ct[cn] = ev->time[i];
    p->m[cn] = sm;
    p->x[cn] = xm;
    p->idx[cn] = (uint32_t)i;
    cn += (size_t)((sm | xm) != 0 || keep_all);
  }
  p->cn = cn;
  return true;
}

/* ---- one attempt --------------------------------------------------------- */

/* Kuhn's augmenting path: can step `k` get an event of the group, moving
 * earlier assignments if needed? match[j] = step of group event j or -1. */
static bool augment(const uint32_t *gm, size_t gn, int k, int *match, uint64_t *seen) {
  for (size_t j = 0; j < gn; j++) {
    if (!(gm[j] >> k & 1) || (seen[j / 64] >> (j % 64) & 1)) continue;
    seen[j / 64] |= UINT64_C(1) << (j % 64);
    if (match[j] < 0 || augment(gm, gn, match[j], match, seen)) {
      match[j] = k;
      return true;
    }
  }
  return false;
}

/* strict_once within one instant: how many of the steps L, L+1, ... (0-based)
 * can be given distinct events of [gb, ge) (the start event excluded). */
static int once_fill(const uint32_t *m, size_t gb, size_t ge, size_t skip, int L, int n) {
  if (ge - gb == 1) return skip == gb ? 0 : (m[gb] >> L & 1);
  size_t gn = 0;
  uint32_t small[64];
  uint32_t *gm = ge - gb <= 64 ? small : malloc((ge - gb) * sizeof *gm);
  int *match = malloc((ge - gb) * sizeof *match);
  uint64_t *seen = malloc(((ge - gb) / 64 + 1) * sizeof *seen);
  int r = 0;
  if (!gm || !match || !seen) goto done; /* treated as no fill; OOM is not signalled here */
  for (size_t i = gb; i < ge; i++)
    if (i != skip && m[i]) gm[gn++] = m[i];
  for (size_t j = 0; j < gn; j++) match[j] = -1;
  for (int k = L; k < n; k++) {
    memset(seen, 0, (gn / 64 + 1) * sizeof *seen);
    if (!augment(gm, gn, k, match, seen)) break;
    r++;
  }
done:
  if (gm != small) free(gm);
  free(match);
  free(seen);
  return r;
}

/* Evaluates the attempt starting at event `start`. */
static void eval_attempt(const pd_funnel_partial *p, size_t start, pd__funnel_attempt *a) {
  const pd_funnel_spec *s = p->spec;
  const int n = (int)p->n;
  const uint32_t *m = p->m, *x = p->x;
  const int64_t *time = p->ct;
  const size_t nev = p->cn;
  const int64_t t0 = time[start];
  const int64_t deadline = t0 > INT64_MAX - s->window ? INT64_MAX : t0 + s->window;
  const pd_funnel_mode mode = s->mode;
  size_t g0 = start;
  while (g0 > 0 && time[g0 - 1] == t0) g0--;
  a->start = start;
  a->disqualified = false;
  int L = 0;
  if (mode != PD_FUNNEL_UNORDERED) {
    L = 1;
    a->t[0] = t0;
  }
  uint32_t seen = 0; /* unordered: steps reached */
  for (size_t gb = g0; gb < nev && time[gb] <= deadline;) {
    const int64_t t = time[gb];
    size_t ge = gb;
    uint32_t U = 0, D = 0, X = 0;
    bool unrelated = false;
    for (; ge < nev && time[ge] == t; ge++) {
      D |= U & m[ge];
      U |= m[ge];
      X |= x[ge];
      unrelated |= m[ge] == 0;
    }
    bool end = false;
    switch (mode) {
    case PD_FUNNEL_UNORDERED: {
      uint32_t add = U & ~seen;
      seen |= add;
      for (int c = __builtin_popcount(add); c > 0; c--) a->t[L++] = t;
      break;
    }
    case PD_FUNNEL_STRICT_ONCE: {
      int r = once_fill(m, gb, ge, gb == g0 ? start : SIZE_MAX, L, n);
      for (; r > 0; r--) a->t[L++] = t;
      break;
    }
    default:
      if (mode == PD_FUNNEL_STRICT_ORDER && unrelated && gb != g0) {
        end = true;
        break;
      }
      for (uint32_t bits = U; bits && !end; bits &= bits - 1) {
        int k = __builtin_ctz(bits); /* step k+1 */
        if (k == L) {
          if (mode == PD_FUNNEL_STRICT_INCREASE && t <= a->t[L - 1]) continue;
          a->t[L++] = t;
          if (mode == PD_FUNNEL_STRICT_DEDUPLICATION && (D >> k & 1)) end = true;
        } else if (k < L) {
          if (mode == PD_FUNNEL_STRICT_DEDUPLICATION && k >= 1) end = true;
        } else if (mode == PD_FUNNEL_STRICT_ORDER) {
          end = true;
        }
      }
      break;
    }
    /* exclusions: strictly after step `from`, and step `to` still ahead */
    for (uint32_t bits = X; bits; bits &= bits - 1) {
      const fexcl *e = &s->excl[__builtin_ctz(bits)];
      if (L >= (int)e->from && a->t[e->from - 1] < t && L < (int)e->to) {
        a->disqualified = true;
        a->level = L;
        return;
      }
    }
    if (end || L == n) break;
    gb = ge;
  }
  a->level = L;
}

/* ---- one user ------------------------------------------------------------ */

static bool attempt_level_key(pd_funnel_by by) {
  return by == PD_FUNNEL_BY_STEP1_TOUCHPOINT || by == PD_FUNNEL_BY_ENTRY_PERIOD;
}

static ukey *find_key(pd_funnel_partial *p, int64_t key) {
  for (size_t i = p->n_keys; i > 0; i--)
    if (p->keys[i - 1].key == key) return &p->keys[i - 1];
  if (p->n_keys == p->cap_keys) {
    size_t cap = p->cap_keys * 2 + 4;
    ukey *k = realloc(p->keys, cap * sizeof *k);
    if (!k) return NULL;
    p->keys = k;
    p->cap_keys = cap;
  }
  ukey *k = &p->keys[p->n_keys++];
  k->key = key;
  k->any = false;
  k->best_set = false;
  k->best.level = 0;
  return k;
}

/* Whether event i starts an attempt. Unordered: the first event of its
 * instant that satisfies any step (attempts at one instant are equal). */
static bool is_start(const pd_funnel_partial *p, size_t i) {
  if (p->spec->mode != PD_FUNNEL_UNORDERED) return p->m[i] & 1;
  if (!p->m[i]) return false;
  for (size_t j = i; j > 0 && p->ct[j - 1] == p->ct[i]; j--)
    if (p->m[j - 1]) return false;
  return true;
}

/* Only the times of the steps reached are ever read: copying those (not
 * the whole array of PD_FUNNEL_MAX_STEPS) keeps the per-attempt cost small. */
static inline void copy_attempt(pd__funnel_attempt *dst, const pd__funnel_attempt *src) {
  dst->level = src->level;
  dst->disqualified = src->disqualified;
  dst->start = src->start;
  for (int s = 0; s < src->level; s++) dst->t[s] = src->t[s];
}

/* Evaluates every attempt; fills p->keys with each key's best attempt.
 * user_key is the key of user-level breakdowns. Returns false on OOM. */
static bool eval_keys(pd_funnel_partial *p, const pd_user_events *ev, pd_funnel_by by, int64_t user_key) {
  p->n_keys = 0;
  const int n = (int)p->n;
  const bool per_attempt = attempt_level_key(by);
  const bool same_time_same_result = p->spec->mode != PD_FUNNEL_STRICT_ONCE;
  pd__funnel_attempt a, prev;
  prev.level = 0; /* not the whole struct: its times are written as reached */
  prev.disqualified = false;
  prev.start = 0;
  bool have_prev = false;
  for (size_t i = 0; i < p->cn; i++) {
    if (!is_start(p, i)) continue;
    int64_t key = user_key;
    if (by == PD_FUNNEL_BY_STEP1_TOUCHPOINT) {
      uint32_t tp = ev->touchpoint[p->idx[i]];
      key = tp == PD_NONE ? KEY_NONE : (int64_t)tp;
    } else if (by == PD_FUNNEL_BY_ENTRY_PERIOD) {
      key = pd__period_index(p->tz, p->spec->period, p->ct[i]);
    }
    ukey *k = find_key(p, key);
    if (!k) return false;
    k->any = true;
    if (k->best_set && k->best.level == n) {
      if (!per_attempt) break; /* nothing can beat a complete attempt */
      continue;
    }
    if (have_prev && same_time_same_result && p->ct[prev.start] == p->ct[i]) {
      copy_attempt(&a, &prev);
      a.start = i;
    } else {
      eval_attempt(p, i, &a);
    }
    copy_attempt(&prev, &a);
    have_prev = true;
    if (!a.disqualified && (!k->best_set || a.level > k->best.level)) {
      copy_attempt(&k->best, &a);
      k->best_set = true;
    }
  }
  for (size_t i = 0; i < p->n_keys; i++) /* back to indexes into the user's run */
    if (p->keys[i].best_set) p->keys[i].best.start = p->idx[p->keys[i].best.start];
  return true;
}

int pd__funnel_eval_user(pd_funnel_partial *p, const pd_user_events *ev, pd__funnel_attempt *out, bool *all_excluded) {
  *all_excluded = false;
  out->level = 0;
  if (!ev || ev->n == 0 || !compute_masks(p, ev) || !eval_keys(p, ev, PD_FUNNEL_BY_NONE, 0)) return 0;
  if (p->n_keys == 0) return 0;
  if (!p->keys[0].best_set) {
    *all_excluded = true;
    return 0;
  }
  *out = p->keys[0].best;
  return out->level;
}

static bool tvec_push(tvec *v, int64_t x) {
  if (v->n == v->cap) {
    size_t cap = v->cap * 2 + 8;
    int64_t *nv = realloc(v->v, cap * sizeof *nv);
    if (!nv) return false;
    v->v = nv;
    v->cap = cap;
  }
  v->v[v->n++] = x;
  return true;
}

static group *get_group(pd_funnel_partial *p, int64_t key) {
  group *g = g_hash_table_lookup(p->groups, &key);
  if (g) return g;
  g = calloc(1, sizeof *g);
  int64_t *kp = malloc(sizeof *kp);
  if (!g || !kp) {
    free(g);
    free(kp);
    return NULL;
  }
  *kp = key;
  g_hash_table_insert(p->groups, kp, g);
  return g;
}

pd_status pd_funnel_partial_add(pd_funnel_partial *p, const pd_user_events *ev) {
  if (!p || !ev) return pd__error(PD_ERR_INVALID, "pd_funnel_partial_add: NULL argument");
  if (p->oom) return pd__error(PD_ERR_NOMEM, "funnel: out of memory");
  if (ev->n == 0) return PD_OK;
  if (!compute_masks(p, ev)) goto oom;
  pd_funnel_by by = p->spec->by;
  int64_t user_key = 0;
  if (by == PD_FUNNEL_BY_ACQ_TOUCHPOINT || by == PD_FUNNEL_BY_ACQ_DOMAIN || by == PD_FUNNEL_BY_COHORT) {
    user_key = KEY_NONE;
    for (size_t i = 0; i < ev->n; i++)
      if (ev->type[i] == PD_EV_ACQUIRE) {
        uint32_t tp = ev->touchpoint[i];
        if (by == PD_FUNNEL_BY_COHORT)
          user_key = pd__period_index(p->tz, p->spec->period, ev->time[i]);
        else if (tp != PD_NONE)
          user_key = by == PD_FUNNEL_BY_ACQ_TOUCHPOINT ? (int64_t)tp : domain_of(p, tp);
        break;
      }
  }
  const pd_funnel_spec *sp = p->spec;
  if (by == PD_FUNNEL_BY_TAG) { /* user-level, but a user may be in several groups */
    size_t nk = 0;
    for (size_t k = 0; k < sp->n_segs; k++) nk += pd_userset_contains(sp->seg_sets[k], ev->user) != 0;
    if (nk == 0) return PD_OK; /* in no segment named: in no group */
  }
  if (!eval_keys(p, ev, by == PD_FUNNEL_BY_TAG ? PD_FUNNEL_BY_NONE : by, user_key)) goto oom;
  size_t n_groups = by == PD_FUNNEL_BY_TAG ? sp->n_segs : 1;
  for (size_t gk = 0; gk < n_groups; gk++) {
    if (by == PD_FUNNEL_BY_TAG && !pd_userset_contains(sp->seg_sets[gk], ev->user)) continue;
    for (size_t i = 0; i < p->n_keys; i++) {
      const ukey *k = &p->keys[i];
      group *g = get_group(p, by == PD_FUNNEL_BY_TAG ? (int64_t)gk : k->key);
      if (!g) goto oom;
      if (!k->best_set) {
        g->excluded++;
        continue;
      }
      for (int s = 0; s < k->best.level; s++) {
        g->reached[s]++;
        if (s > 0 && !tvec_push(&g->times[s], k->best.t[s] - k->best.t[s - 1])) goto oom;
      }
    }
  }
  return PD_OK;
oom:
  p->oom = true;
  return pd__error(PD_ERR_NOMEM, "funnel: out of memory");
}

pd_status pd_funnel_partial_merge(pd_funnel_partial *into, const pd_funnel_partial *from) {
  if (!into || !from) return pd__error(PD_ERR_INVALID, "pd_funnel_partial_merge: NULL argument");
  if (into->spec != from->spec && into->n != from->n)
    return pd__error(PD_ERR_INVALID, "pd_funnel_partial_merge: partials of different funnels");
  if (into->oom || from->oom) return pd__error(PD_ERR_NOMEM, "funnel: out of memory");
  GHashTableIter it;
  gpointer kp, vp;
  g_hash_table_iter_init(&it, from->groups);
  while (g_hash_table_iter_next(&it, &kp, &vp)) {
    const group *src = vp;
    group *dst = get_group(into, *(const int64_t *)kp);
    if (!dst) goto oom;
    dst->excluded += src->excluded;
    for (unsigned s = 0; s < into->n; s++) {
      dst->reached[s] += src->reached[s];
      const tvec *sv = &src->times[s];
      tvec *dv = &dst->times[s];
      if (!sv->n) continue;
      if (dv->n + sv->n > dv->cap) {
        int64_t *nv = realloc(dv->v, (dv->n + sv->n) * sizeof *nv);
        if (!nv) goto oom;
        dv->v = nv;
        dv->cap = dv->n + sv->n;
      }
      memcpy(dv->v + dv->n, sv->v, sv->n * sizeof *sv->v);
      dv->n += sv->n;
    }
  }
  return PD_OK;
oom:
  into->oom = true;
  return pd__error(PD_ERR_NOMEM, "funnel: out of memory");
}

/* ---- finish ---------------------------------------------------------------- */

static int cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

/* Rearranges v so that v[k] is the k-th smallest, smaller ones before it and
 * larger ones after (quickselect, median of three; O(n) expected). */
static void select_kth(int64_t *v, size_t n, size_t k) {
  ptrdiff_t lo = 0, hi = (ptrdiff_t)n - 1, kk = (ptrdiff_t)k;
  while (hi > lo) {
    ptrdiff_t mid = lo + (hi - lo) / 2;
    int64_t a = v[lo], b = v[mid], c = v[hi];
    int64_t pivot = a < b ? (b < c ? b : (a < c ? c : a)) : (a < c ? a : (b < c ? c : b));
    ptrdiff_t i = lo, j = hi;
    while (i <= j) { /* Hoare: [lo, j] <= pivot <= [i, hi] */
      while (v[i] < pivot) i++;
      while (v[j] > pivot) j--;
      if (i <= j) {
        int64_t t = v[i];
        v[i++] = v[j];
        v[j--] = t;
      }
    }
    if (kk <= j)
      hi = j;
    else if (kk >= i)
      lo = i;
    else
      return; /* j < k < i: v[k] == pivot, in place */
  }
}

double pd__quantile(int64_t *v, size_t n, double q) {
  if (n == 0) return 0.0;
  double pos = q * (double)(n - 1);
  size_t lo = (size_t)pos;
  if (lo >= n - 1) lo = n - 1;
  select_kth(v, n, lo);
  double frac = pos - (double)lo;
  if (lo == n - 1 || frac == 0.0) return (double)v[lo];
  int64_t next = v[lo + 1];
  for (size_t i = lo + 2; i < n; i++)
    if (v[i] < next) next = v[i];
  return (double)v[lo] + frac * (double)(next - v[lo]);
}

static void group_label(const pd_funnel_partial *p, int64_t key, pd__funnel_tp_namer namer, void *ctx, char *buf,
                        size_t size) {
  if (key == KEY_NONE) {
    snprintf(buf, size, "(none)");
    return;
  }
  switch (p->spec->by) {
  case PD_FUNNEL_BY_ACQ_TOUCHPOINT:
  case PD_FUNNEL_BY_STEP1_TOUCHPOINT:
    if (namer)
      namer(ctx, (uint32_t)key, buf, size);
    else
      snprintf(buf, size, "#%" PRId64, key);
    break;
  case PD_FUNNEL_BY_ACQ_DOMAIN:
    snprintf(buf, size, "%s", pd_domain_name((pd_domain)key));
    break;
  case PD_FUNNEL_BY_COHORT:
  case PD_FUNNEL_BY_ENTRY_PERIOD:
    pd__period_label(p->spec->period, key, buf, size);
    break;
  case PD_FUNNEL_BY_TAG:
    snprintf(buf, size, "%s", key >= 0 && (size_t)key < p->spec->n_segs ? p->spec->seg_names[key] : "?");
    break;
  default:
    snprintf(buf, size, "all");
  }
}

static void set_ratio(pd_table *t, size_t row, size_t col, uint64_t num, uint64_t den) {
  if (den) pd__table_set_double(t, row, col, (double)num / (double)den);
}

pd_status pd__funnel_finish(const pd_funnel_partial *p, pd__funnel_tp_namer namer, void *ctx, pd_table **out) {
  if (!p || !out) return pd__error(PD_ERR_INVALID, "pd_funnel_partial_finish: NULL argument");
  if (p->oom) return pd__error(PD_ERR_NOMEM, "funnel: out of memory");
  const pd_funnel_spec *s = p->spec;
  size_t ng = g_hash_table_size(p->groups);
  int64_t *keys = malloc((ng + s->n_segs + 1) * sizeof *keys);
  if (!keys) return pd__error(PD_ERR_NOMEM, "funnel: out of memory");
  if (s->by == PD_FUNNEL_BY_TAG) { /* every segment named has its rows, in the order given */
    for (ng = 0; ng < s->n_segs; ng++) keys[ng] = (int64_t)ng;
  } else {
    GHashTableIter it;
    gpointer kp, vp;
    size_t i = 0;
    g_hash_table_iter_init(&it, p->groups);
    while (g_hash_table_iter_next(&it, &kp, &vp)) keys[i++] = *(const int64_t *)kp;
    qsort(keys, ng, sizeof *keys, cmp_i64);
  }
  bool grouped = s->by != PD_FUNNEL_BY_NONE;
  if (!grouped && ng == 0) keys[ng++] = 0; /* an empty funnel still has its rows */
  pd_table *t = pd__table_new("funnel");
  if (!t) {
    free(keys);
    return pd__error(PD_ERR_NOMEM, "funnel: out of memory");
  }
  size_t c_group = grouped ? pd__table_add_col(t, "group", PD_TYPE_STRING) : 0;
  size_t c_step = pd__table_add_col(t, "step", PD_TYPE_INT64);
  size_t c_name = pd__table_add_col(t, "step_name", PD_TYPE_STRING);
  size_t c_users = pd__table_add_col(t, "users", PD_TYPE_INT64);
  size_t c_cprev = pd__table_add_col(t, "conv_prev", PD_TYPE_DOUBLE);
  size_t c_cfirst = pd__table_add_col(t, "conv_first", PD_TYPE_DOUBLE);
  size_t c_drop = pd__table_add_col(t, "dropoff", PD_TYPE_INT64);
  size_t c_droprate = pd__table_add_col(t, "dropoff_rate", PD_TYPE_DOUBLE);
  size_t c_mean = pd__table_add_col(t, "time_mean_ms", PD_TYPE_DOUBLE);
  size_t c_med = pd__table_add_col(t, "time_median_ms", PD_TYPE_DOUBLE);
  size_t c_p90 = pd__table_add_col(t, "time_p90_ms", PD_TYPE_DOUBLE);
  size_t c_excl = pd__table_add_col(t, "excluded", PD_TYPE_INT64);
  static const group empty;
  int64_t *sorted = NULL;
  size_t sorted_cap = 0;
  pd_status rc = PD_OK;
  for (size_t gi = 0; gi < ng; gi++) {
    const group *g = g_hash_table_lookup(p->groups, &keys[gi]);
    if (!g) g = &empty;
    char label[PD_SEGMENT_NAME_MAX + 1];
    group_label(p, keys[gi], namer, ctx, label, sizeof label);
    for (unsigned k = 0; k < p->n; k++) {
      size_t r = pd__table_add_row(t);
      if (grouped) pd__table_set_string(t, r, c_group, label);
      pd__table_set_int64(t, r, c_step, k + 1);
      pd__table_set_string(t, r, c_name, s->steps[k].label);
      pd__table_set_int64(t, r, c_users, (int64_t)g->reached[k]);
      set_ratio(t, r, c_cfirst, g->reached[k], g->reached[0]);
      pd__table_set_int64(t, r, c_excl, (int64_t)g->excluded);
      if (k == 0) continue;
      set_ratio(t, r, c_cprev, g->reached[k], g->reached[k - 1]);
      pd__table_set_int64(t, r, c_drop, (int64_t)(g->reached[k - 1] - g->reached[k]));
      set_ratio(t, r, c_droprate, g->reached[k - 1] - g->reached[k], g->reached[k - 1]);
      const tvec *v = &g->times[k];
      if (!v->n) continue;
      if (v->n > sorted_cap) {
        free(sorted);
        sorted_cap = v->n;
        if (!(sorted = malloc(sorted_cap * sizeof *sorted))) {
          rc = pd__error(PD_ERR_NOMEM, "funnel: out of memory");
          goto done;
        }
      }
      memcpy(sorted, v->v, v->n * sizeof *sorted);
      long double sum = 0; /* exact: 64-bit mantissa, times are far below 2^63 / n */
      for (size_t j = 0; j < v->n; j++) sum += sorted[j];
      pd__table_set_double(t, r, c_mean, (double)(sum / (long double)v->n));
      pd__table_set_double(t, r, c_med, pd__quantile(sorted, v->n, 0.5));
      pd__table_set_double(t, r, c_p90, pd__quantile(sorted, v->n, 0.9));
    }
  }
done:
  free(sorted);
  free(keys);
  if (rc) {
    pd_table_free(t);
    return rc;
  }
  return pd__table_finish(t, out);
}
