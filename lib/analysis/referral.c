/* Referral analytics: per-user accumulation into partials (builders),
 * merging, the pd_scan driver and the result accessors. The forest itself
 * is built in referral_forest.c, the tables in referral_tables.c. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "privdomain/referral.h"
#include "referral_internal.h"

static const char *const view_names[PD_REFERRAL_VIEW_COUNT] = {
    "summary", "groups", "depth", "cycle_time", "top", "trees", "beyond_cap", "cost",
    "projection", "issues", "forest", "largest_tree"};

const char *pd_referral_view_name(pd_referral_view view) {
  return (unsigned)view < PD_REFERRAL_VIEW_COUNT ? view_names[view] : NULL;
}

int pd_referral_view_from_name(const char *name) {
  if (!name) return -1;
  for (int i = 0; i < PD_REFERRAL_VIEW_COUNT; i++)
    if (strcmp(name, view_names[i]) == 0) return i;
  return -1;
}

/* Copies caller options over the defaults (a caller built against an older
 * header passes a smaller size) and validates them. */
static pd_status read_options(const pd_referral_options *in, pd_referral_options *o) {
  pd_referral_options d = PD_REFERRAL_OPTIONS_INIT;
  *o = d;
  if (in) {
    if (in->size < sizeof(size_t) + sizeof(unsigned))
      return pd__error(PD_ERR_INVALID, "referral: options size not set (use PD_REFERRAL_OPTIONS_INIT)");
    memcpy(o, in, in->size < sizeof *o ? in->size : sizeof *o);
    o->size = sizeof *o;
  }
  if (o->max_depth < 0) return pd__error(PD_ERR_INVALID, "referral: max_depth %d is negative", o->max_depth);
  if ((unsigned)o->by > PD_REFERRAL_BY_DOMAIN) return pd__error(PD_ERR_INVALID, "referral: unknown breakdown %d", (int)o->by);
  if ((unsigned)o->period > PD_PERIOD_MONTH) return pd__error(PD_ERR_INVALID, "referral: unknown period %d", (int)o->period);
  if (o->cost_end < o->cost_begin)
    return pd__error(PD_ERR_INVALID, "referral: cost window ends before it begins");
  if (!(o->projection_seed >= 0) || isinf(o->projection_seed))
    return pd__error(PD_ERR_INVALID, "referral: projection_seed must be a finite number >= 0");
  if (o->projection_cycles > 10000) return pd__error(PD_ERR_INVALID, "referral: projection_cycles above 10000");
  return PD_OK;
}

pd_status pd_referral_builder_new(const pd_referral_options *opts, pd_referral_builder **out) {
  if (!out) return pd__error(PD_ERR_INVALID, "pd_referral_builder_new: NULL out");
  *out = NULL;
  pd_referral_builder *b = calloc(1, sizeof *b);
  if (!b) return pd__error(PD_ERR_NOMEM, "out of memory");
  pd_status st = read_options(opts, &b->opts);
  if (st != PD_OK) {
    free(b);
    return st;
  }
  if (b->opts.tz) {
    b->tz = strdup(b->opts.tz);
    if (!b->tz) {
      free(b);
      return pd__error(PD_ERR_NOMEM, "out of memory");
    }
  }
  b->opts.tz = b->tz;
  b->opts.users = NULL; /* pd_referral_run only */
  *out = b;
  return PD_OK;
}

void pd_referral_builder_free(pd_referral_builder *b) {
  if (!b) return;
  free(b->recs);
  free(b->tz);
  free(b);
}

static bool reserve(pd_referral_builder *b, size_t more) {
  if (b->n + more <= b->cap) return true;
  size_t cap = b->cap ? b->cap : 1024;
  while (cap < b->n + more) cap *= 2;
  pd__ref_rec *p = realloc(b->recs, cap * sizeof *p);
  if (!p) return false;
  b->recs = p;
  b->cap = cap;
  return true;
}

/* Event classes for the per-user pass (built-in types only; custom ones are 0). */
enum { C_OTHER = 0, C_ATTR, C_INVITE, C_PURCHASE, C_REFUND };
static const uint8_t event_class[PD_EVENT_BUILTIN_COUNT] = {
    [PD_EV_ACQUIRE] = C_ATTR, [PD_EV_REFERRAL_SIGNUP] = C_ATTR, [PD_EV_INVITE] = C_INVITE,
    [PD_EV_PURCHASE] = C_PURCHASE, [PD_EV_REFUND] = C_REFUND};

/* The per-user step: one pass over the user's events, no allocation.
 * Invites, purchases and refunds are counted without branches (the event
 * mix is unpredictable); acquisitions and attributions, one or two per
 * user, take the branch. */
static void accumulate(const pd_referral_options *o, const pd_user_events *ev, pd__ref_rec *r) {
  memset(r, 0, sizeof *r);
  r->user = ev->user;
  r->first_time = ev->time[0];
  r->acq_time = PD__REF_UNKNOWN_TIME;
  r->signup_time = PD__REF_UNKNOWN_TIME;
  r->conflict_time = PD__REF_UNKNOWN_TIME;
  r->referrer = r->conflict_referrer = PD_NONE;
  r->acq_tp = PD_NONE;
  uint32_t invites = 0, purchases = 0;
  int64_t revenue = 0;
  for (size_t i = 0; i < ev->n; i++) {
    uint16_t ty = ev->type[i];
    unsigned cls = ty < PD_EVENT_BUILTIN_COUNT ? event_class[ty] : C_OTHER;
    int64_t a = ev->amount[i], abs_a = a < 0 ? -a : a;
    invites += cls == C_INVITE;
    purchases += cls == C_PURCHASE;
    revenue += (cls == C_PURCHASE ? a : 0) - (cls == C_REFUND ? abs_a : 0);
    if (cls == C_ATTR) {
      if (r->acq_time == PD__REF_UNKNOWN_TIME) {
        r->acq_time = ev->time[i];
        r->acq_tp = ev->touchpoint[i];
      }
      uint32_t ref = ev->referrer[i];
      if (ref == PD_NONE || (ty == PD_EV_ACQUIRE && !o->acquire_attributes)) continue;
      if (r->referrer == PD_NONE) {
        r->referrer = ref;
        r->signup_time = ev->time[i];
      } else if (ref != r->referrer) {
        if (r->conflicts++ == 0) {
          r->conflict_referrer = ref;
          r->conflict_time = ev->time[i];
        }
      }
    }
  }
  r->invites = invites;
  r->purchaser = purchases > 0;
  r->revenue = revenue;
  if (r->acq_time == PD__REF_UNKNOWN_TIME) {
    r->acq_time = ev->time[0];
    r->acq_tp = ev->touchpoint[0];
  }
}

pd_status pd_referral_builder_add(pd_referral_builder *b, const pd_user_events *ev) {
  if (!b || !ev) return pd__error(PD_ERR_INVALID, "pd_referral_builder_add: NULL argument");
  if (ev->n == 0) return PD_OK;
  if (!ev->time || !ev->type || !ev->touchpoint || !ev->referrer || !ev->amount)
    return pd__error(PD_ERR_INVALID, "pd_referral_builder_add: NULL column");
  if (ev->user == PD_NONE) return pd__error(PD_ERR_INVALID, "pd_referral_builder_add: user id PD_NONE");
  if (!reserve(b, 1)) return pd__error(PD_ERR_NOMEM, "out of memory adding a user to a referral partial");
  accumulate(&b->opts, ev, &b->recs[b->n++]);
  return PD_OK;
}

pd_status pd_referral_builder_merge(pd_referral_builder *into, pd_referral_builder *from) {
  if (!into || !from) return pd__error(PD_ERR_INVALID, "pd_referral_builder_merge: NULL argument");
  if (into == from || from->n == 0) return PD_OK;
  if (!reserve(into, from->n)) return pd__error(PD_ERR_NOMEM, "out of memory merging referral partials");
  memcpy(into->recs + into->n, from->recs, from->n * sizeof *from->recs);
  into->n += from->n;
  from->n = 0;
  return PD_OK;
}

/* ---- result ---------------------------------------------------------- */

void pd_referral_free(pd_referral *r) {
  if (!r) return;
  for (size_t i = 0; i < r->n_tps; i++) free((char *)r->tps[i].name);
  free(r->tps);
  for (int k = 0; k < PD__ISSUE_KINDS; k++) {
    for (size_t i = 0; i < r->n_issues[k]; i++) free(r->issues[k][i].detail);
    free(r->issues[k]);
  }
  free(r->slab); /* every per-user array */
  free(r->cycle_times);
  pd__tz_free(r->tz);
  free(r->tz_name);
  free(r);
}

/* The per-user arrays, carved out of one block: one allocation instead of
 * seventeen, and for a large forest a 2 MiB-aligned block with transparent
 * huge pages, so first touch costs a few dozen page faults, not thousands. */
static pd_status alloc_arrays(pd_referral *r) {
  const size_t huge = 2u << 20;
  size_t n = r->n ? r->n : 1, n8 = (n + 7) & ~(size_t)7;
  size_t size = n8 * (6 * sizeof(int64_t) + 10 * sizeof(uint32_t) + 1);
  void *slab = NULL;
  if (size >= huge) {
    if (posix_memalign(&slab, huge, size) != 0) slab = NULL;
    else madvise(slab, size, MADV_HUGEPAGE);
  } else {
    slab = malloc(size);
  }
  if (!slab) return pd__error(PD_ERR_NOMEM, "out of memory for a referral forest of %u users", r->n);
  r->slab = slab;
  char *p = slab;
#define CARVE(f, type) (r->f = (type *)(void *)p, p += n8 * sizeof(type))
  CARVE(revenue, int64_t); CARVE(desc_revenue, int64_t); CARVE(acq, int64_t); CARVE(first, int64_t);
  CARVE(signup, int64_t); CARVE(conflict_time, int64_t);
  CARVE(attributed, uint32_t); CARVE(parent, uint32_t); CARVE(root, uint32_t); CARVE(depth, uint32_t);
  CARVE(children, uint32_t); CARVE(desc, uint32_t); CARVE(acq_tp, uint32_t); CARVE(invites, uint32_t);
  CARVE(conflicts, uint32_t); CARVE(conflict_referrer, uint32_t);
  CARVE(flags, uint8_t);
#undef CARVE
  memset(r->flags, 0, n);
  for (uint32_t u = 0; u < r->n; u++) {
    r->attributed[u] = r->parent[u] = r->conflict_referrer[u] = PD_NONE;
    r->acq_tp[u] = PD_NONE;
    r->invites[u] = r->conflicts[u] = r->children[u] = r->desc[u] = r->root[u] = r->depth[u] = 0;
    r->revenue[u] = r->desc_revenue[u] = 0;
    r->acq[u] = r->first[u] = r->signup[u] = r->conflict_time[u] = PD__REF_UNKNOWN_TIME;
  }
  return PD_OK;
}

/* A result with options, zone and touchpoint copies, no arrays yet. */
static pd_status result_new(const pd_referral_options *o, const pd_touchpoint_def *tps, size_t n_tps,
                            const pd_store *store, pd_referral **out) {
  *out = NULL;
  pd_referral *r = calloc(1, sizeof *r);
  if (!r) return pd__error(PD_ERR_NOMEM, "out of memory");
  r->opts = *o;
  r->store = store;
  pd_status st = PD_OK;
  if (o->tz && !(r->tz_name = strdup(o->tz))) st = pd__error(PD_ERR_NOMEM, "out of memory");
  r->opts.tz = r->tz_name;
  if (st == PD_OK) st = pd__tz_open(r->tz_name, &r->tz);
  if (st == PD_OK && n_tps) {
    r->tps = calloc(n_tps, sizeof *r->tps);
    if (!r->tps) st = pd__error(PD_ERR_NOMEM, "out of memory");
    for (size_t i = 0; st == PD_OK && i < n_tps; i++) {
      r->tps[i] = tps[i];
      r->tps[i].size = sizeof r->tps[i];
      r->tps[i].name = NULL;
      r->n_tps = i + 1;
      if (tps[i].name && !(r->tps[i].name = strdup(tps[i].name))) st = pd__error(PD_ERR_NOMEM, "out of memory");
    }
  }
  if (st != PD_OK) {
    pd_referral_free(r);
    return st;
  }
  *out = r;
  return PD_OK;
}

/* One user's summary into the result's arrays (its own slots only). */
static void put_rec(pd_referral *r, const pd__ref_rec *x) {
  uint32_t u = x->user;
  r->flags[u] |= PD__REF_NODE | PD__REF_EVENTS | (x->purchaser ? PD__REF_PURCHASER : 0);
  r->attributed[u] = x->referrer;
  r->acq_tp[u] = x->acq_tp;
  r->invites[u] = x->invites;
  r->conflicts[u] = x->conflicts;
  r->conflict_referrer[u] = x->conflict_referrer;
  r->revenue[u] = x->revenue;
  r->acq[u] = x->acq_time;
  r->first[u] = x->first_time;
  r->signup[u] = x->signup_time;
  r->conflict_time[u] = x->conflict_time;
}

/* The forest and the summary once every user's slots are filled. */
static pd_status result_build(pd_referral *r) {
  const pd_userset *set = r->opts.users;
  r->opts.users = NULL; /* borrowed for the call only */
  for (uint32_t u = 0; u < r->n; u++)
    if ((r->flags[u] & PD__REF_NODE) && (!set || pd_userset_contains(set, u))) r->flags[u] |= PD__REF_IN;
  pd_status st = pd__referral_build_forest(r);
  if (st == PD_OK) st = pd__referral_summary_compute(r);
  return st;
}

pd_status pd__referral_finish(pd_referral_builder *b, const pd_touchpoint_def *tps, size_t n_tps,
                              const pd_store *store, pd_referral **out) {
  if (!b || !out) return pd__error(PD_ERR_INVALID, "pd_referral_builder_finish: NULL argument");
  if (n_tps && !tps) return pd__error(PD_ERR_INVALID, "pd_referral_builder_finish: NULL touchpoints");
  *out = NULL;
  pd_referral *r;
  pd_status st = result_new(&b->opts, tps, n_tps, store, &r);
  if (st != PD_OK) return st;
  /* Nodes: every user with events and every referrer they name. */
  uint64_t max_id = 0;
  bool any = false;
  for (size_t i = 0; i < b->n; i++) {
    const pd__ref_rec *x = &b->recs[i];
    if (!any || x->user > max_id) max_id = x->user;
    if (x->referrer != PD_NONE && x->referrer > max_id) max_id = x->referrer;
    any = true;
  }
  r->n = any ? (uint32_t)(max_id + 1) : 0;
  if (st == PD_OK) st = alloc_arrays(r);
  for (size_t i = 0; st == PD_OK && i < b->n; i++) {
    const pd__ref_rec *x = &b->recs[i];
    uint32_t u = x->user;
    if (r->flags[u] & PD__REF_EVENTS) {
      st = pd__error(PD_ERR_INVALID, "referral: user %u was added twice (partials must hold disjoint users)", u);
      break;
    }
    put_rec(r, x);
    if (x->referrer != PD_NONE) r->flags[x->referrer] |= PD__REF_NODE;
  }
  b->n = 0;
  if (st == PD_OK) st = result_build(r);
  if (st != PD_OK) {
    pd_referral_free(r);
    return st;
  }
  *out = r;
  return PD_OK;
}

pd_status pd_referral_builder_finish(pd_referral_builder *b, const pd_touchpoint_def *tps, size_t n_tps,
                                     pd_referral **out) {
  return pd__referral_finish(b, tps, n_tps, NULL, out);
}

/* ---- store driver ---------------------------------------------------- */

/* On a store the user ids are known in advance and every worker sees
 * disjoint users, so workers write each user's summary straight into the
 * result's per-user arrays: no partial records, no merge, no copy. (The
 * builders are the same computation for hand-fed or sharded input.) */
typedef struct scan_ctx {
  pd_referral *r;
  const pd_referral_options *o;
  volatile bool bad_id; /* set by a worker that saw a user id beyond the store's users */
} scan_ctx;

static int scan_user(void *ctx, unsigned worker, const pd_user_events *ev) {
  (void)worker;
  scan_ctx *c = ctx;
  if (ev->n == 0) return 0;
  if (ev->user >= c->r->n) {
    c->bad_id = true;
    return 1;
  }
  pd__ref_rec x;
  accumulate(c->o, ev, &x);
  put_rec(c->r, &x);
  return 0;
}

pd_status pd_referral_run(pd_store *store, const pd_referral_options *opts, pd_referral **out) {
  if (!store || !out) return pd__error(PD_ERR_INVALID, "pd_referral_run: NULL argument");
  *out = NULL;
  pd_referral_options o;
  pd_status st = read_options(opts, &o);
  if (st != PD_OK) return st;
  /* Touchpoint attributes (names, domains, spend) for groups and cost. */
  uint32_t n_tps = pd_store_n_touchpoints(store);
  pd_touchpoint_def *tps = NULL;
  if (n_tps && !(tps = calloc(n_tps, sizeof *tps))) return pd__error(PD_ERR_NOMEM, "out of memory");
  for (uint32_t i = 0; st == PD_OK && i < n_tps; i++) {
    tps[i].size = sizeof tps[i];
    st = pd_store_touchpoint(store, i, &tps[i]);
  }
  pd_referral *r = NULL;
  if (st == PD_OK) st = result_new(&o, tps, n_tps, store, &r);
  free(tps);
  if (st != PD_OK) return st;
  r->n = pd_store_n_users(store);
  st = alloc_arrays(r);
  if (st == PD_OK) {
    pd_scan_options so = PD_SCAN_OPTIONS_INIT;
    so.threads = o.threads;
    scan_ctx c = {r, &r->opts, false};
    st = pd_scan(store, &so, scan_user, &c);
    if (c.bad_id) st = pd__error(PD_ERR_CORRUPT, "referral: a scanned user id is beyond the store's users");
  }
  /* Referrers are nodes too (after the scan: they may belong to another worker). */
  for (uint32_t u = 0; st == PD_OK && u < r->n; u++) {
    uint32_t p = r->attributed[u];
    if (p == PD_NONE) continue;
    if (p >= r->n) st = pd__error(PD_ERR_CORRUPT, "referral: referrer id %u of user %u is beyond the store's users", p, u);
    else r->flags[p] |= PD__REF_NODE;
  }
  if (st == PD_OK) st = result_build(r);
  if (st != PD_OK) {
    pd_referral_free(r);
    return st;
  }
  *out = r;
  return PD_OK;
}

/* ---- accessors ------------------------------------------------------- */

uint32_t pd_referral_n_nodes(const pd_referral *r) { return r ? r->n_nodes : 0; }

pd_status pd_referral_user(const pd_referral *r, uint32_t u, pd_referral_user_info *out) {
  if (!r || !out) return pd__error(PD_ERR_INVALID, "pd_referral_user: NULL argument");
  if (out->size < sizeof *out) return pd__error(PD_ERR_INVALID, "pd_referral_user: size not set");
  if (u >= r->n || !(r->flags[u] & PD__REF_NODE)) return pd__error(PD_ERR_NOT_FOUND, "referral: user %u has no node", u);
  out->referrer = r->parent[u];
  out->attributed = r->attributed[u];
  out->root = r->root[u];
  out->depth = r->depth[u];
  out->direct_referees = r->children[u];
  out->descendants = r->desc[u];
  out->revenue = r->revenue[u];
  out->descendants_revenue = r->desc_revenue[u];
  out->acquired = r->acq[u];
  out->touchpoint = r->acq_tp[u];
  out->invites = r->invites[u];
  out->purchaser = !!(r->flags[u] & PD__REF_PURCHASER);
  out->has_events = !!(r->flags[u] & PD__REF_EVENTS);
  return PD_OK;
}

const char *pd__referral_name(const pd_referral *r, uint32_t u) {
  return r->store ? pd_store_user_name(r->store, u) : NULL;
}
