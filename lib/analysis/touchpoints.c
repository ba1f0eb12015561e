/* The touchpoint scan: one pass over every user's run fills per-worker sums
 * per group (and per migration source), merged after the scan; referrals
 * and CLV are joined afterwards through a per-user acquisition group. See
 * include/privdomain/touchpoints.h for the definitions. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "privdomain/rfm.h"
#include "privdomain/scan.h"
#include "store_internal.h"
#include "touchpoints_internal.h"

#define DAY_MS INT64_C(86400000)

typedef struct worker {
  pd__tp_acc *acc;              /* n_groups */
  pd__mig_acc *mig;             /* n_tp (want_mig) */
  int64_t *ms_sends, *ms_opens; /* per group, this user's messages; reset via touched */
  uint32_t *touched;
  size_t n_touched;
  uint32_t *referrers;          /* winning referrers of this worker's users */
  size_t n_ref, cap_ref;
  int nomem;
} worker;

typedef struct scan_ctx {
  pd__tp_run *r;
  worker *w;
} scan_ctx;

static int push_i64(int64_t **v, size_t *n, size_t *cap, int64_t x) {
  if (*n == *cap) {
    size_t c = *cap ? 2 * *cap : 64;
    int64_t *nv = realloc(*v, c * sizeof *nv);
    if (!nv) return -1;
    *v = nv;
    *cap = c;
  }
  (*v)[(*n)++] = x;
  return 0;
}

static int push_u32(uint32_t **v, size_t *n, size_t *cap, uint32_t x) {
  if (*n == *cap) {
    size_t c = *cap ? 2 * *cap : 256;
    uint32_t *nv = realloc(*v, c * sizeof *nv);
    if (!nv) return -1;
    *v = nv;
    *cap = c;
  }
  (*v)[(*n)++] = x;
  return 0;
}

static int on_user(void *vctx, unsigned wid, const pd_user_events *ev) {
  scan_ctx *c = vctx;
  pd__tp_run *r = c->r;
  worker *w = &c->w[wid];
  const int64_t *time = ev->time, from = r->o.from_ms, to = r->o.to_ms, as_of = r->as_of;
  const uint16_t *type = ev->type;
  const uint32_t *tps = ev->touchpoint, n_tp = r->n_tp;
  size_t n = ev->n;
  while (n && time[n - 1] > as_of) n--;

  /* acquisition: the first acquire event; the winning referrer: the first
   * acquire or referral_signup naming one (referral.h) */
  size_t a = SIZE_MAX;
  uint32_t referrer = PD_NONE;
  int ref_done = 0;
  for (size_t i = 0; i < n && (a == SIZE_MAX || !ref_done); i++) {
    uint16_t ty = type[i];
    if (ty != PD_EV_ACQUIRE && ty != PD_EV_REFERRAL_SIGNUP) continue;
    if (ty == PD_EV_ACQUIRE && a == SIZE_MAX) a = i;
    if (!ref_done && ev->referrer[i] != PD_NONE) {
      ref_done = 1;
      if (ev->referrer[i] != ev->user) referrer = ev->referrer[i];
    }
  }
  if (referrer != PD_NONE && push_u32(&w->referrers, &w->n_ref, &w->cap_ref, referrer)) goto oom;

  uint32_t g = PD_NONE, src = PD_NONE;
  int64_t t0 = INT64_MAX;
  uint8_t target = 0; /* migration: the other domain, 0 = none */
  if (a != SIZE_MAX && time[a] >= from && time[a] < to) {
    t0 = time[a];
    uint32_t tp = tps[a];
    g = tp < n_tp ? r->group_of_tp[tp] : r->none_group;
    if (r->want_mig && tp < n_tp) {
      if (r->domain_of_tp[tp] == PD_DOMAIN_PUBLIC) target = PD_DOMAIN_PRIVATE;
      if (r->domain_of_tp[tp] == PD_DOMAIN_PRIVATE) target = PD_DOMAIN_PUBLIC;
      if (target) src = tp;
    }
  }
  r->acq_group[ev->user] = g;

  int activated = 0, buyer = 0;
  int64_t revenue = 0, last_act = INT64_MIN, moved_at = INT64_MIN;
  pd__tp_acc *ga = g == PD_NONE ? NULL : &w->acc[g];
  for (size_t i = 0; i < n; i++) {
    int64_t t = time[i];
    uint16_t ty = type[i];
    uint32_t tp = tps[i];
    if ((ty == PD_EV_MESSAGE_SEND || ty == PD_EV_MESSAGE_OPEN) && tp < n_tp && t >= from && t < to) {
      uint32_t mg = r->group_of_tp[tp];
      if (w->ms_sends[mg] == 0 && w->ms_opens[mg] == 0) w->touched[w->n_touched++] = mg;
      if (ty == PD_EV_MESSAGE_SEND) {
        w->ms_sends[mg]++;
        w->acc[mg].sends++;
      } else {
        w->ms_opens[mg]++;
        w->acc[mg].opens++;
      }
    }
    if (!ga || t < t0) continue;
    switch (ty) {
      case PD_EV_PURCHASE:
        buyer = 1;
        revenue += ev->amount[i];
        ga->conversions++;
        ga->private_conv += tp < n_tp && r->domain_of_tp[tp] == PD_DOMAIN_PRIVATE;
        break;
      case PD_EV_REFUND: revenue -= llabs(ev->amount[i]); break;
      case PD_EV_ACTIVATE: activated = 1; break;
      case PD_EV_INVITE: ga->invites++; break;
      default: break;
    }
    if (ty != PD_EV_MESSAGE_SEND) {
      last_act = t;
      if (tp < n_tp) {
        ga->touch_events++;
        ga->personal_events += r->personal_tp[tp];
      }
    }
    if (target && moved_at == INT64_MIN && tp < n_tp && r->domain_of_tp[tp] == target) moved_at = t;
  }
  for (size_t k = 0; k < w->n_touched; k++) {
    uint32_t mg = w->touched[k];
    if (w->ms_sends[mg] > 0) {
      w->acc[mg].messaged++;
      double q = (double)w->ms_opens[mg] / (double)w->ms_sends[mg];
      pd__tp_uo_add(&w->acc[mg], (uint64_t)ldexp(q < 1 ? q : 1, 62), 0);
    }
    w->ms_sends[mg] = w->ms_opens[mg] = 0;
  }
  w->n_touched = 0;
  if (!ga) return 0;

  /* t0 <= last_act <= as_of: the unsigned differences are exact */
  uint64_t obs = (uint64_t)as_of - (uint64_t)t0, act = last_act == INT64_MIN ? 0 : (uint64_t)last_act - (uint64_t)t0;
  int e7 = obs >= 7 * DAY_MS, e30 = obs >= 30 * DAY_MS;
  int r7 = last_act != INT64_MIN && act >= 7 * DAY_MS, r30 = last_act != INT64_MIN && act >= 30 * DAY_MS;
  ga->acquired++;
  ga->activated += activated;
  ga->buyers += buyer;
  ga->revenue += revenue;
  ga->elig7 += e7;
  ga->ret7 += r7;
  ga->elig30 += e30;
  ga->ret30 += r30;
  if (src != PD_NONE) {
    pd__mig_acc *m = &w->mig[src];
    int moved = moved_at != INT64_MIN;
    pd__mig_side *s = &m->side[moved ? 0 : 1];
    s->users++;
    s->elig7 += e7;
    s->ret7 += r7;
    s->elig30 += e30;
    s->ret30 += r30;
    s->revenue += revenue;
    r->mig_state[ev->user] = moved ? 1 : 2;
    r->mig_src[ev->user] = src;
    if (moved && push_i64(&m->times, &m->n_times, &m->cap, moved_at - t0)) goto oom;
  }
  return 0;
oom:
  w->nomem = 1;
  return 1;
}

static void add_acc(pd__tp_acc *d, const pd__tp_acc *s) {
  d->acquired += s->acquired;
  d->activated += s->activated;
  d->elig7 += s->elig7;
  d->ret7 += s->ret7;
  d->elig30 += s->elig30;
  d->ret30 += s->ret30;
  d->messaged += s->messaged;
  d->sends += s->sends;
  d->opens += s->opens;
  d->buyers += s->buyers;
  d->revenue += s->revenue;
  d->invites += s->invites;
  d->referred += s->referred;
  d->conversions += s->conversions;
  d->private_conv += s->private_conv;
  d->touch_events += s->touch_events;
  d->personal_events += s->personal_events;
  pd__tp_uo_add(d, s->uo_lo, s->uo_hi);
  d->clv_sum += s->clv_sum;
}

static void add_side(pd__mig_side *d, const pd__mig_side *s) {
  d->users += s->users;
  d->elig7 += s->elig7;
  d->ret7 += s->ret7;
  d->elig30 += s->elig30;
  d->ret30 += s->ret30;
  d->revenue += s->revenue;
  d->clv_sum += s->clv_sum;
}

static int is_count_model(const pd_clv_model *m) {
  pd_clv_kind k = pd_clv_model_kind(m);
  return k == PD_CLV_BGNBD || k == PD_CLV_MBGNBD || k == PD_CLV_PNBD;
}

/* Predicted CLV per customer (pd_clv_score_table over the store's RFM
 * summary) summed into the acquisition groups and migration sides. */
static pd_status add_clv(pd__tp_run *r) {
  pd_rfm_options ro = PD_RFM_OPTIONS_INIT;
  ro.tz = r->o.tz;
  ro.calibration_end = r->as_of;
  ro.threads = r->o.threads;
  ro.users = r->o.users; /* calibration_end is set: the same observation end as without a filter */
  pd_table *rfm = NULL, *scores = NULL;
  pd_status st = pd_rfm_from_store(r->store, &ro, &rfm);
  if (st == PD_OK)
    st = pd_clv_score_table(r->o.clv, r->o.gg, rfm, 30.0, r->o.clv_months, r->o.clv_monthly_discount, 30.0,
                            &scores);
  if (st == PD_OK) {
    long cu = pd_table_col_index(scores, "user"), cv = pd_table_col_index(scores, "clv");
    if (cu < 0 || cv < 0) st = pd__error(PD_ERR_INVALID, "touchpoints: the CLV scores have no clv column");
    for (size_t i = 0; st == PD_OK && i < pd_table_n_rows(scores); i++) {
      int64_t u = pd_table_get_int64(scores, i, (size_t)cu);
      if (u < 0 || u >= (int64_t)r->n_users || pd_table_is_null(scores, i, (size_t)cv)) continue;
      double v = pd_table_get_double(scores, i, (size_t)cv);
      if (r->acq_group[u] != PD_NONE) r->acc[r->acq_group[u]].clv_sum += v;
      if (r->want_mig && r->mig_state[u]) r->mig[r->mig_src[u]].side[r->mig_state[u] - 1].clv_sum += v;
    }
  }
  pd_table_free(rfm);
  pd_table_free(scores);
  return st;
}

void pd__tp_run_free(pd__tp_run *r) {
  if (!r) return;
  pd__tz_free(r->tz);
  free(r->group_of_tp);
  free(r->domain_of_tp);
  free(r->personal_tp);
  free(r->acq_group);
  free(r->mig_state);
  free(r->mig_src);
  free(r->acc);
  if (r->mig)
    for (uint32_t i = 0; i < r->n_tp; i++) free(r->mig[i].times);
  free(r->mig);
  memset(r, 0, sizeof *r);
}

static pd_status setup(pd__tp_run *r) {
  pd__tp_run *x = r;
  x->n_tp = pd_store_n_touchpoints(x->store);
  switch (x->o.by) {
    case PD_TOUCHPOINT_BY_TOUCHPOINT: x->none_group = x->n_tp; break;
    case PD_TOUCHPOINT_BY_DOMAIN: x->none_group = 4; break;
    case PD_TOUCHPOINT_BY_CARRIER: x->none_group = PD_CARRIER_COUNT; break;
    default: return pd__error(PD_ERR_INVALID, "touchpoints: unknown breakdown %d", (int)x->o.by);
  }
  x->n_groups = x->none_group + 1;
  x->n_users = pd_store_n_users(x->store);
  size_t ntp = x->n_tp ? x->n_tp : 1;
  x->group_of_tp = malloc(ntp * sizeof *x->group_of_tp);
  x->domain_of_tp = calloc(ntp, 1);
  x->personal_tp = calloc(ntp, 1);
  x->acq_group = malloc((x->n_users ? x->n_users : 1) * sizeof *x->acq_group);
  x->acc = calloc(x->n_groups, sizeof *x->acc);
  if (!x->group_of_tp || !x->domain_of_tp || !x->personal_tp || !x->acq_group || !x->acc)
    return pd__error(PD_ERR_NOMEM, "touchpoints: out of memory");
  for (uint32_t u = 0; u < x->n_users; u++) x->acq_group[u] = PD_NONE;
  if (x->want_mig) {
    x->mig_state = calloc(x->n_users ? x->n_users : 1, 1);
    x->mig_src = malloc((x->n_users ? x->n_users : 1) * sizeof *x->mig_src);
    x->mig = calloc(ntp, sizeof *x->mig);
    if (!x->mig_state || !x->mig_src || !x->mig) return pd__error(PD_ERR_NOMEM, "touchpoints: out of memory");
  }
  for (uint32_t t = 0; t < x->n_tp; t++) {
    pd_touchpoint_def d = PD_TOUCHPOINT_DEF_INIT;
    pd_status st = pd_store_touchpoint(x->store, t, &d);
    if (st != PD_OK) return st;
    unsigned dom = (unsigned)d.domain <= PD_DOMAIN_SEMI ? (unsigned)d.domain : PD_DOMAIN_UNKNOWN;
    unsigned car = (unsigned)d.carrier < PD_CARRIER_COUNT ? (unsigned)d.carrier : PD_CARRIER_OTHER;
    x->domain_of_tp[t] = (uint8_t)dom;
    x->personal_tp[t] =
        car == PD_CARRIER_PERSONAL_ACCOUNT || car == PD_CARRIER_GROUP || car == PD_CARRIER_WECOM;
    x->group_of_tp[t] = x->o.by == PD_TOUCHPOINT_BY_TOUCHPOINT ? t : x->o.by == PD_TOUCHPOINT_BY_DOMAIN ? dom : car;
  }
  return PD_OK;
}

static pd_status scan_and_merge(pd__tp_run *r) {
  pd_scan_options so = PD_SCAN_OPTIONS_INIT;
  so.threads = r->o.threads;
  so.users = r->o.users;
  unsigned nw = pd_scan_workers(&so);
  worker *w = calloc(nw, sizeof *w);
  pd_status st = w ? PD_OK : pd__error(PD_ERR_NOMEM, "touchpoints: out of memory");
  size_t ntp = r->n_tp ? r->n_tp : 1;
  for (unsigned i = 0; st == PD_OK && i < nw; i++) {
    w[i].acc = calloc(r->n_groups, sizeof *w[i].acc);
    w[i].ms_sends = calloc(r->n_groups, sizeof(int64_t));
    w[i].ms_opens = calloc(r->n_groups, sizeof(int64_t));
    w[i].touched = malloc(r->n_groups * sizeof(uint32_t));
    if (r->want_mig) w[i].mig = calloc(ntp, sizeof *w[i].mig);
    if (!w[i].acc || !w[i].ms_sends || !w[i].ms_opens || !w[i].touched || (r->want_mig && !w[i].mig))
      st = pd__error(PD_ERR_NOMEM, "touchpoints: out of memory");
  }
  if (st == PD_OK) {
    scan_ctx ctx = {r, w};
    st = pd_scan(r->store, &so, on_user, &ctx);
    for (unsigned i = 0; i < nw; i++)
      if (w[i].nomem) st = pd__error(PD_ERR_NOMEM, "touchpoints: out of memory");
  }
  /* merge; referrals need every user's acquisition group, known only now */
  for (unsigned i = 0; st == PD_OK && i < nw; i++) {
    for (uint32_t g = 0; g < r->n_groups; g++) add_acc(&r->acc[g], &w[i].acc[g]);
    for (size_t k = 0; k < w[i].n_ref; k++) {
      uint32_t p = w[i].referrers[k];
      if (p < r->n_users && r->acq_group[p] != PD_NONE) r->acc[r->acq_group[p]].referred++;
    }
    for (uint32_t t = 0; r->want_mig && t < r->n_tp; t++) {
      pd__mig_acc *d = &r->mig[t], *s = &w[i].mig[t];
      add_side(&d->side[0], &s->side[0]);
      add_side(&d->side[1], &s->side[1]);
      for (size_t k = 0; k < s->n_times; k++)
        if (push_i64(&d->times, &d->n_times, &d->cap, s->times[k])) {
          st = pd__error(PD_ERR_NOMEM, "touchpoints: out of memory");
          break;
        }
    }
  }
  for (unsigned i = 0; w && i < nw; i++) {
    free(w[i].acc);
    free(w[i].ms_sends);
    free(w[i].ms_opens);
    free(w[i].touched);
    free(w[i].referrers);
    for (uint32_t t = 0; w[i].mig && t < r->n_tp; t++) free(w[i].mig[t].times);
    free(w[i].mig);
  }
  free(w);
  return st;
}

pd_status pd__tp_run_compute(pd_store *store, const pd_touchpoint_options *opts, int want_mig, pd__tp_run *r) {
  memset(r, 0, sizeof *r);
  if (!store) return pd__error(PD_ERR_INVALID, "touchpoints: store is NULL");
  pd_touchpoint_options o = PD_TOUCHPOINT_OPTIONS_INIT;
  if (opts) {
    if (opts->size < sizeof(pd_touchpoint_options))
      return pd__error(PD_ERR_INVALID, "touchpoints: options size not set (use PD_TOUCHPOINT_OPTIONS_INIT)");
    o = *opts;
  }
  if (o.from_ms >= o.to_ms) return pd__error(PD_ERR_INVALID, "touchpoints: the period is empty (from >= to)");
  if (o.clv && !is_count_model(o.clv))
    return pd__error(PD_ERR_INVALID, "touchpoints: clv must be a BG/NBD, MBG/NBD or Pareto/NBD model");
  if (o.gg && pd_clv_model_kind(o.gg) != PD_CLV_GAMMA_GAMMA)
    return pd__error(PD_ERR_INVALID, "touchpoints: gg must be a Gamma-Gamma model");
  if (!(o.clv_months > 0 && o.clv_months <= 1200) || !(o.clv_monthly_discount >= 0 && o.clv_monthly_discount < 10))
    return pd__error(PD_ERR_INVALID, "touchpoints: clv_months must be in (0, 1200], clv_monthly_discount in [0, 10)");
  r->store = store;
  r->o = o;
  r->want_mig = want_mig;
  pd_status st = pd__tz_open(o.tz, &r->tz);
  if (st == PD_OK) st = setup(r);
  if (st != PD_OK) {
    pd__tp_run_free(r);
    return st;
  }
  int64_t lo, hi;
  pd__store_time_range(store, &lo, &hi);
  r->as_of = o.as_of_ms != INT64_MIN ? o.as_of_ms : hi;
  /* local days of the period, open bounds closed by the data */
  int64_t first = o.from_ms != INT64_MIN ? o.from_ms : lo;
  int64_t last = o.to_ms != INT64_MAX ? o.to_ms - 1 : r->as_of;
  if (first != INT64_MAX && last != INT64_MIN && first <= last)
    r->days = pd__floor_div(pd__tz_local_ms(r->tz, last), DAY_MS) -
              pd__floor_div(pd__tz_local_ms(r->tz, first), DAY_MS) + 1;
  if (r->as_of != INT64_MIN) st = scan_and_merge(r);
  if (st == PD_OK && o.clv && o.gg && r->as_of != INT64_MIN) st = add_clv(r);
  r->has_none = r->acc[r->none_group].acquired > 0;
  if (st != PD_OK) pd__tp_run_free(r);
  return st;
}
