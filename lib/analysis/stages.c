/* AARRR / RARRA stage report: one pass over users, per-worker counts,
 * merged, then one row per metric (definitions in privdomain/stages.h). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "privdomain/stages.h"
#include "funnel_internal.h"
#include "tz.h"

typedef struct counts {
  uint64_t new_users, activated, retained, active, active_both, paying, repeat_payers, inviters, invites,
      referred_new;
  int64_t revenue, revenue_earlier, refunds;
  uint64_t by_domain[4];
  uint64_t *by_tp; /* n_tp + 1 entries; the last is "no touchpoint" */
  pd_status status;
} counts;

typedef struct stage_ctx {
  const pd_stage_options *o;
  int64_t prev_from, act_ms, ret_ms;
  const uint8_t *domains;
  size_t n_tp;
  counts *c; /* per worker */
} stage_ctx;

static int stage_user(void *vctx, unsigned worker, const pd_user_events *ev) {
  const stage_ctx *x = vctx;
  counts *c = &x->c[worker];
  const int64_t from = x->o->from_ms, to = x->o->to_ms;
  size_t acq = 0;
  for (size_t i = 0; i < ev->n; i++)
    if (ev->type[i] == PD_EV_ACQUIRE) {
      acq = i;
      break;
    }
  const int64_t t_acq = ev->time[acq];
  const bool is_new = t_acq >= from && t_acq < to;
  bool active = false, active_prev = false, activated = false, retained = false;
  uint64_t purchases = 0, invites = 0;
  int64_t revenue = 0, refunds = 0;
  for (size_t i = 0; i < ev->n; i++) {
    const int64_t t = ev->time[i];
    const bool in = t >= from && t < to;
    active |= in;
    active_prev |= t >= x->prev_from && t < from;
    if (is_new) {
      if (ev->type[i] == PD_EV_ACTIVATE && t >= t_acq && t - t_acq <= x->act_ms) activated = true;
      if (t - t_acq >= x->ret_ms && t - t_acq < x->ret_ms + PD_MS_PER_DAY) retained = true;
    }
    if (!in) continue;
    switch (ev->type[i]) {
    case PD_EV_PURCHASE:
      purchases++;
      revenue += ev->amount[i];
      break;
    case PD_EV_REFUND:
      refunds += ev->amount[i];
      break;
    case PD_EV_INVITE:
      invites++;
      break;
    default:
      break;
    }
  }
  if (is_new) {
    c->new_users++;
    c->activated += activated;
    c->retained += retained;
    uint32_t tp = ev->touchpoint[acq];
    c->by_tp[tp < x->n_tp ? tp : x->n_tp]++;
    int d = tp < x->n_tp ? x->domains[tp] : PD_DOMAIN_UNKNOWN;
    c->by_domain[d >= 0 && d < 4 ? d : 0]++;
    c->referred_new += ev->referrer[acq] != PD_NONE;
  }
  if (active) {
    c->active++;
    c->active_both += active_prev;
  }
  if (purchases) {
    c->paying++;
    c->repeat_payers += purchases >= 2;
    if (t_acq < from) c->revenue_earlier += revenue;
  }
  c->revenue += revenue;
  c->refunds += refunds;
  if (invites) {
    c->inviters++;
    c->invites += invites;
  }
  return 0;
}

/* ---- rows ------------------------------------------------------------------- */

typedef struct rows {
  pd_table *t;
  size_t c_stage, c_metric, c_bd, c_value, c_num, c_den;
} rows;

static void row(rows *r, const char *stage, const char *metric, const char *bd, double value, int value_null,
                int64_t num, int64_t den, int has_den) {
  size_t i = pd__table_add_row(r->t);
  pd__table_set_string(r->t, i, r->c_stage, stage);
  pd__table_set_string(r->t, i, r->c_metric, metric);
  pd__table_set_string(r->t, i, r->c_bd, bd ? bd : "");
  if (!value_null) pd__table_set_double(r->t, i, r->c_value, value);
  pd__table_set_int64(r->t, i, r->c_num, num);
  if (has_den) pd__table_set_int64(r->t, i, r->c_den, den);
}

static void ratio(rows *r, const char *stage, const char *metric, const char *bd, int64_t num, int64_t den) {
  row(r, stage, metric, bd, den ? (double)num / (double)den : 0, den == 0, num, den, 1);
}

static void count(rows *r, const char *stage, const char *metric, int64_t v) {
  row(r, stage, metric, NULL, (double)v, 0, v, 0, 0);
}

static void stage_acquisition(rows *r, const counts *c, pd_store *store, size_t n_tp) {
  const char *S = "acquisition";
  count(r, S, "new_users", (int64_t)c->new_users);
  for (size_t tp = 0; tp <= n_tp; tp++) {
    if (!c->by_tp[tp]) continue;
    pd_touchpoint_def d = PD_TOUCHPOINT_DEF_INIT;
    const char *name = "(none)";
    if (tp < n_tp && pd_store_touchpoint(store, (uint32_t)tp, &d) == PD_OK && d.name) name = d.name;
    row(r, S, "new_users_touchpoint", name, (double)c->by_tp[tp], 0, (int64_t)c->by_tp[tp], (int64_t)c->new_users, 1);
  }
  static const int order[4] = {PD_DOMAIN_PRIVATE, PD_DOMAIN_PUBLIC, PD_DOMAIN_SEMI, PD_DOMAIN_UNKNOWN};
  for (int i = 0; i < 4; i++)
    ratio(r, S, "domain_share", pd_domain_name((pd_domain)order[i]), (int64_t)c->by_domain[order[i]],
          (int64_t)c->new_users);
}

static void stage_activation(rows *r, const counts *c) {
  ratio(r, "activation", "activation_rate", NULL, (int64_t)c->activated, (int64_t)c->new_users);
}

static void stage_retention(rows *r, const counts *c) {
  ratio(r, "retention", "returning_rate", NULL, (int64_t)c->active_both, (int64_t)c->active);
  ratio(r, "retention", "new_user_retention", NULL, (int64_t)c->retained, (int64_t)c->new_users);
}

static void stage_revenue(rows *r, const counts *c) {
  const char *S = "revenue";
  count(r, S, "revenue", c->revenue);
  count(r, S, "paying_users", (int64_t)c->paying);
  ratio(r, S, "arpu", NULL, c->revenue, (int64_t)c->active);
  ratio(r, S, "arppu", NULL, c->revenue, (int64_t)c->paying);
  ratio(r, S, "repeat_purchase_rate", NULL, (int64_t)c->repeat_payers, (int64_t)c->paying);
  ratio(r, S, "earlier_cohort_revenue_share", NULL, c->revenue_earlier, c->revenue);
  count(r, S, "refunds", c->refunds);
}

static void stage_referral(rows *r, const counts *c) {
  const char *S = "referral";
  ratio(r, S, "k_factor", NULL, (int64_t)c->referred_new, (int64_t)c->active);
  ratio(r, S, "inviter_share", NULL, (int64_t)c->inviters, (int64_t)c->active);
  ratio(r, S, "invites_per_inviter", NULL, (int64_t)c->invites, (int64_t)c->inviters);
  ratio(r, S, "invite_conversion", NULL, (int64_t)c->referred_new, (int64_t)c->invites);
}

pd_status pd_stage_report(pd_store *store, const pd_stage_options *opts, pd_table **out) {
  if (!store || !opts || !out || opts->size < sizeof(size_t))
    return pd__error(PD_ERR_INVALID, "pd_stage_report: NULL argument or options size not set");
  pd_stage_options o = PD_STAGE_OPTIONS_INIT;
  memcpy(&o, opts, opts->size < sizeof o ? opts->size : sizeof o);
  o.size = sizeof o;
  if (o.to_ms <= o.from_ms) return pd__error(PD_ERR_INVALID, "stage report: empty period (to <= from)");
  if (o.order != PD_STAGES_AARRR && o.order != PD_STAGES_RARRA)
    return pd__error(PD_ERR_INVALID, "stage report: unknown order %d", (int)o.order);
  if (o.activation_days < 0 || o.retention_days < 0)
    return pd__error(PD_ERR_INVALID, "stage report: negative number of days");
  stage_ctx x = {&o, 0, 0, 0, NULL, 0, NULL};
  x.prev_from = o.prev_from_ms != INT64_MIN ? o.prev_from_ms : o.from_ms - (o.to_ms - o.from_ms);
  x.act_ms = (o.activation_days ? o.activation_days : 7) * PD_MS_PER_DAY;
  x.ret_ms = (o.retention_days ? o.retention_days : 7) * PD_MS_PER_DAY;
  uint8_t *domains = NULL;
  pd_status rc = pd__store_domains(store, &domains, &x.n_tp);
  if (rc) return rc;
  x.domains = domains;
  pd_scan_options so = PD_SCAN_OPTIONS_INIT;
  so.threads = o.threads;
  so.users = o.users;
  unsigned nw = pd_scan_workers(&so);
  x.c = calloc(nw, sizeof *x.c);
  rows r = {0};
  if (!x.c) goto oom;
  for (unsigned w = 0; w < nw; w++)
    if (!(x.c[w].by_tp = calloc(x.n_tp + 1, sizeof(uint64_t)))) goto oom;
  if ((rc = pd_scan(store, &so, stage_user, &x))) goto done;
  counts *c = &x.c[0];
  for (unsigned w = 1; w < nw; w++) {
    const counts *d = &x.c[w];
    c->new_users += d->new_users;
    c->activated += d->activated;
    c->retained += d->retained;
    c->active += d->active;
    c->active_both += d->active_both;
    c->paying += d->paying;
    c->repeat_payers += d->repeat_payers;
    c->inviters += d->inviters;
    c->invites += d->invites;
    c->referred_new += d->referred_new;
    c->revenue += d->revenue;
    c->revenue_earlier += d->revenue_earlier;
    c->refunds += d->refunds;
    for (int k = 0; k < 4; k++) c->by_domain[k] += d->by_domain[k];
    for (size_t k = 0; k <= x.n_tp; k++) c->by_tp[k] += d->by_tp[k];
  }
  if (!(r.t = pd__table_new("stages"))) goto oom;
  r.c_stage = pd__table_add_col(r.t, "stage", PD_TYPE_STRING);
  r.c_metric = pd__table_add_col(r.t, "metric", PD_TYPE_STRING);
  r.c_bd = pd__table_add_col(r.t, "breakdown", PD_TYPE_STRING);
  r.c_value = pd__table_add_col(r.t, "value", PD_TYPE_DOUBLE);
  r.c_num = pd__table_add_col(r.t, "numerator", PD_TYPE_INT64);
  r.c_den = pd__table_add_col(r.t, "denominator", PD_TYPE_INT64);
  if (o.order == PD_STAGES_AARRR) {
    stage_acquisition(&r, c, store, x.n_tp);
    stage_activation(&r, c);
    stage_retention(&r, c);
    stage_revenue(&r, c);
    stage_referral(&r, c);
  } else {
    stage_retention(&r, c);
    stage_activation(&r, c);
    stage_referral(&r, c);
    stage_revenue(&r, c);
    stage_acquisition(&r, c, store, x.n_tp);
  }
  rc = pd__table_finish(r.t, out);
  r.t = NULL;
  goto done;
oom:
  rc = pd__error(PD_ERR_NOMEM, "stage report: out of memory");
done:
  pd_table_free(r.t);
  if (x.c)
    for (unsigned w = 0; w < nw; w++) free(x.c[w].by_tp);
  free(x.c);
  free(domains);
  return rc;
}

/* ---- periods ------------------------------------------------------------------ */

pd_status pd_stage_order_parse(const char *text, pd_stage_order *out) {
  if (!text || !out) return pd__error(PD_ERR_INVALID, "pd_stage_order_parse: NULL argument");
  if (strcasecmp(text, "aarrr") == 0)
    *out = PD_STAGES_AARRR;
  else if (strcasecmp(text, "rarra") == 0)
    *out = PD_STAGES_RARRA;
  else
    return pd__error(PD_ERR_INVALID, "unknown stage order \"%s\" (aarrr or rarra)", text);
  return PD_OK;
}

/* Reads exactly `digits` digits. */
static bool num(const char **p, int digits, int *out) {
  int v = 0;
  for (int i = 0; i < digits; i++, (*p)++) {
    if (!isdigit((unsigned char)**p)) return false;
    v = v * 10 + (**p - '0');
  }
  *out = v;
  return true;
}

static bool valid_date(int y, int m, int d) {
  static const int mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (m < 1 || m > 12 || d < 1 || d > mdays[m - 1]) return false;
  return !(m == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0));
}

/* "YYYY-MM-DD" at *p: days since 1970-01-01. */
static bool date_days(const char **p, int64_t *days) {
  int y, m, d;
  if (!num(p, 4, &y) || *(*p)++ != '-' || !num(p, 2, &m) || *(*p)++ != '-' || !num(p, 2, &d)) return false;
  if (!valid_date(y, m, d)) return false;
  *days = pd__days_from_civil(y, (unsigned)m, (unsigned)d);
  return true;
}

static int64_t iso_week1_monday(int y) {
  int64_t jan4 = pd__days_from_civil(y, 1, 4);
  int64_t wd = ((jan4 + 3) % 7 + 7) % 7; /* Monday = 0; 1970-01-01 was a Thursday */
  return jan4 - wd;
}

pd_status pd_stage_period_parse(const char *text, const char *tz, int64_t *from, int64_t *to, int64_t *prev) {
  if (!text || !from || !to || !prev) return pd__error(PD_ERR_INVALID, "pd_stage_period_parse: NULL argument");
  pd__tz *z = NULL;
  pd_status rc = pd__tz_open(tz, &z);
  if (rc) return rc;
  const char *p = text;
  int y, m, w;
  int64_t d0, d1, dp; /* local days: [d0, d1), previous from dp */
  bool ok = num(&p, 4, &y);
  if (ok && *p == 0) { /* year */
    d0 = pd__days_from_civil(y, 1, 1);
    d1 = pd__days_from_civil(y + 1, 1, 1);
    dp = pd__days_from_civil(y - 1, 1, 1);
  } else if (ok && p[0] == '-' && p[1] == 'W') { /* ISO week */
    p += 2;
    ok = num(&p, 2, &w) && *p == 0 && w >= 1 && w <= 53;
    if (ok && w == 53 && iso_week1_monday(y + 1) - iso_week1_monday(y) < 53 * 7) ok = false;
    d0 = iso_week1_monday(y) + (int64_t)(ok ? w - 1 : 0) * 7;
    d1 = d0 + 7;
    dp = d0 - 7;
  } else if (ok && p[0] == '-' && strlen(p) == 3) { /* month */
    p++;
    ok = num(&p, 2, &m) && m >= 1 && m <= 12;
    d0 = ok ? pd__days_from_civil(y, (unsigned)m, 1) : 0;
    d1 = ok ? (m == 12 ? pd__days_from_civil(y + 1, 1, 1) : pd__days_from_civil(y, (unsigned)m + 1, 1)) : 0;
    dp = ok ? (m == 1 ? pd__days_from_civil(y - 1, 12, 1) : pd__days_from_civil(y, (unsigned)m - 1, 1)) : 0;
  } else { /* a day or a day range */
    p = text;
    int64_t last;
    ok = date_days(&p, &d0);
    last = d0;
    if (ok && strncmp(p, "..", 2) == 0) {
      p += 2;
      ok = date_days(&p, &last) && last >= d0;
    }
    ok = ok && *p == 0;
    d1 = last + 1;
    dp = d0 - (d1 - d0);
  }
  if (!ok) {
    pd__tz_free(z);
    return pd__error(PD_ERR_PARSE,
                     "period \"%s\": expected 2024, 2024-03, 2024-W10, 2024-03-05 or 2024-03-01..2024-03-15", text);
  }
  *from = pd__tz_to_utc(z, d0 * PD_MS_PER_DAY);
  *to = pd__tz_to_utc(z, d1 * PD_MS_PER_DAY);
  *prev = pd__tz_to_utc(z, dp * PD_MS_PER_DAY);
  pd__tz_free(z);
  return PD_OK;
}
