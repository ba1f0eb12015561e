/* The scorecard and migration tables from a touchpoint scan (ratios, nulls
 * where undefined, the accessibility / endurance summary). Definitions in
 * include/privdomain/touchpoints.h. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "touchpoints_internal.h"

static const char *const by_names[] = {"touchpoint", "domain", "carrier"};

const char *pd_touchpoint_by_name(pd_touchpoint_by by) {
  return (unsigned)by < 3 ? by_names[by] : NULL;
}

pd_status pd_touchpoint_by_from_name(const char *name, pd_touchpoint_by *out) {
  for (unsigned i = 0; name && out && i < 3; i++)
    if (strcmp(name, by_names[i]) == 0) {
      *out = (pd_touchpoint_by)i;
      return PD_OK;
    }
  return pd__error(PD_ERR_INVALID, "touchpoints: unknown breakdown \"%s\" (touchpoint, domain or carrier)",
                   name ? name : "(null)");
}

/* A ratio, or NAN (written as null) when the denominator is 0. */
static double ratio(double num, double den) {
  return den != 0 ? num / den : NAN;
}

static void set_d(pd_table *t, size_t row, size_t col, double v) {
  if (isfinite(v)) pd__table_set_double(t, row, col, v);
}

typedef struct cols {
  size_t name, dom, car, ntp, acq, days, spend, cac, act, act_rate, e7, r7, ret7, e30, r30, ret30;
  size_t messaged, sends, opens, open_rate, user_open, opens_pu, buyers, revenue, ltv, clv, ltv_cac, clv_cac;
  size_t invites, referred, ipu, ic, k, conv, pconv, pshare, touch, personal;
  size_t access, connect, endure, score, label, weakest;
} cols;

static void add_cols(pd_table *t, pd_touchpoint_by by, cols *c) {
  c->name = pd__table_add_col(t, by_names[by], PD_TYPE_STRING);
  c->dom = by == PD_TOUCHPOINT_BY_TOUCHPOINT ? pd__table_add_col(t, "domain", PD_TYPE_STRING) : SIZE_MAX;
  c->car = by == PD_TOUCHPOINT_BY_TOUCHPOINT ? pd__table_add_col(t, "carrier", PD_TYPE_STRING) : SIZE_MAX;
#define I(f, n) c->f = pd__table_add_col(t, n, PD_TYPE_INT64)
#define D(f, n) c->f = pd__table_add_col(t, n, PD_TYPE_DOUBLE)
  I(ntp, "touchpoints");
  I(acq, "acquired");
  I(days, "days");
  I(spend, "spend");
  D(cac, "cac");
  I(act, "activated");
  D(act_rate, "activation_rate");
  I(e7, "eligible_7");
  I(r7, "retained_7");
  D(ret7, "retention_7");
  I(e30, "eligible_30");
  I(r30, "retained_30");
  D(ret30, "retention_30");
  I(messaged, "messaged");
  I(sends, "sends");
  I(opens, "opens");
  D(open_rate, "open_rate");
  D(user_open, "user_open_rate");
  D(opens_pu, "opens_per_user");
  I(buyers, "buyers");
  I(revenue, "revenue");
  D(ltv, "ltv");
  D(clv, "clv");
  D(ltv_cac, "ltv_cac");
  D(clv_cac, "clv_cac");
  I(invites, "invites");
  I(referred, "referred");
  D(ipu, "invites_per_user");
  D(ic, "invite_conversion");
  D(k, "k");
  I(conv, "conversions");
  I(pconv, "private_conversions");
  D(pshare, "private_share");
  I(touch, "touch_events");
  I(personal, "personal_events");
  D(access, "accessibility");
  D(connect, "connection");
  D(endure, "endurance");
  D(score, "score");
#undef I
#undef D
  c->label = pd__table_add_col(t, "label", PD_TYPE_STRING);
  c->weakest = pd__table_add_col(t, "weakest", PD_TYPE_STRING);
}

/* One row from a group's sums; spend < 0: unknown. */
static void put_row(pd_table *t, const cols *c, const pd__tp_run *r, const pd__tp_acc *a, int64_t ntp, int64_t spend,
                    int with_clv) {
  size_t row = pd__table_add_row(t);
  double acq = (double)a->acquired;
  pd__table_set_int64(t, row, c->ntp, ntp);
  pd__table_set_int64(t, row, c->acq, a->acquired);
  pd__table_set_int64(t, row, c->days, r->days);
  double cac = NAN;
  if (spend >= 0) {
    pd__table_set_int64(t, row, c->spend, spend);
    if (spend > 0 && a->acquired > 0) cac = (double)spend / acq;
  }
  set_d(t, row, c->cac, cac);
  pd__table_set_int64(t, row, c->act, a->activated);
  set_d(t, row, c->act_rate, ratio((double)a->activated, acq));
  pd__table_set_int64(t, row, c->e7, a->elig7);
  pd__table_set_int64(t, row, c->r7, a->ret7);
  set_d(t, row, c->ret7, ratio((double)a->ret7, (double)a->elig7));
  pd__table_set_int64(t, row, c->e30, a->elig30);
  pd__table_set_int64(t, row, c->r30, a->ret30);
  double ret30 = ratio((double)a->ret30, (double)a->elig30);
  set_d(t, row, c->ret30, ret30);
  pd__table_set_int64(t, row, c->messaged, a->messaged);
  pd__table_set_int64(t, row, c->sends, a->sends);
  pd__table_set_int64(t, row, c->opens, a->opens);
  double open_rate = ratio((double)a->opens, (double)a->sends);
  set_d(t, row, c->open_rate, open_rate);
  set_d(t, row, c->user_open, ratio(ldexp((double)a->uo_hi, 2) + ldexp((double)a->uo_lo, -62), (double)a->messaged));
  set_d(t, row, c->opens_pu, ratio((double)a->opens, (double)a->messaged));
  pd__table_set_int64(t, row, c->buyers, a->buyers);
  pd__table_set_int64(t, row, c->revenue, a->revenue);
  double ltv = ratio((double)a->revenue, acq), clv = with_clv ? ratio(a->clv_sum, acq) : NAN;
  set_d(t, row, c->ltv, ltv);
  set_d(t, row, c->clv, clv);
  set_d(t, row, c->ltv_cac, ltv / cac);
  set_d(t, row, c->clv_cac, clv / cac);
  pd__table_set_int64(t, row, c->invites, a->invites);
  pd__table_set_int64(t, row, c->referred, a->referred);
  set_d(t, row, c->ipu, ratio((double)a->invites, acq));
  set_d(t, row, c->ic, ratio((double)a->referred, (double)a->invites));
  set_d(t, row, c->k, ratio((double)a->referred, acq));
  pd__table_set_int64(t, row, c->conv, a->conversions);
  pd__table_set_int64(t, row, c->pconv, a->private_conv);
  set_d(t, row, c->pshare, ratio((double)a->private_conv, (double)a->conversions));
  pd__table_set_int64(t, row, c->touch, a->touch_events);
  pd__table_set_int64(t, row, c->personal, a->personal_events);
  /* the summary: three components in [0, 1], their mean, a label */
  static const char *const comp_names[] = {"accessibility", "connection", "endurance"};
  double comp[3] = {open_rate > 1 ? 1 : open_rate, ratio((double)a->personal_events, (double)a->touch_events),
                    ret30};
  size_t comp_cols[3] = {c->access, c->connect, c->endure};
  double sum = 0;
  int n = 0, weakest = -1;
  for (int i = 0; i < 3; i++) {
    if (!isfinite(comp[i])) continue;
    set_d(t, row, comp_cols[i], comp[i]);
    sum += comp[i];
    n++;
    if (weakest < 0 || comp[i] < comp[weakest]) weakest = i;
  }
  if (n) {
    double score = sum / n;
    set_d(t, row, c->score, score);
    pd__table_set_string(t, row, c->label, score >= 0.6 ? "strong" : score >= 0.3 ? "moderate" : "weak");
    pd__table_set_string(t, row, c->weakest, comp_names[weakest]);
  }
}

/* Finishes the table t (always consumed); an earlier failure st wins. */
static pd_status finish(pd_table *t, pd_status st, pd_table **out) {
  pd_table *res = NULL;
  pd_status fst = pd__table_finish(t, &res);
  if (st != PD_OK) {
    pd_table_free(res);
    return st;
  }
  if (fst == PD_OK) *out = res;
  return fst;
}

pd_status pd_touchpoint_scorecard(pd_store *store, const pd_touchpoint_options *opts, pd_table **out) {
  if (!out) return pd__error(PD_ERR_INVALID, "pd_touchpoint_scorecard: out is NULL");
  *out = NULL;
  pd__tp_run r;
  pd_status st = pd__tp_run_compute(store, opts, 0, &r);
  if (st != PD_OK) return st;
  int with_clv = r.o.clv && r.o.gg;
  /* group attributes: names, touchpoint counts, spend (-1 = unknown) */
  uint32_t ng = r.none_group;
  int64_t *ntp = calloc(ng + 1, sizeof *ntp), *spend = malloc((ng + 1) * sizeof *spend);
  if (!ntp || !spend) {
    free(ntp);
    free(spend);
    pd__tp_run_free(&r);
    return pd__error(PD_ERR_NOMEM, "touchpoints: out of memory");
  }
  for (uint32_t g = 0; g <= ng; g++) spend[g] = -1;
  pd_table *t = pd__table_new("touchpoint_scorecard");
  cols c;
  add_cols(t, r.o.by, &c);
  for (uint32_t tp = 0; tp < r.n_tp && st == PD_OK; tp++) {
    pd_touchpoint_def d = PD_TOUCHPOINT_DEF_INIT;
    if ((st = pd_store_touchpoint(store, tp, &d)) != PD_OK) break;
    uint32_t g = r.group_of_tp[tp];
    ntp[g]++;
    int64_t cost, sum;
    if (d.daily_spend >= 0) {
      if (__builtin_mul_overflow(d.daily_spend, r.days, &cost) ||
          __builtin_add_overflow(spend[g] < 0 ? 0 : spend[g], cost, &sum)) {
        st = pd__error(PD_ERR_RANGE, "touchpoints: the spend of \"%s\" over %lld days overflows", d.name,
                       (long long)r.days);
        break;
      }
      spend[g] = sum;
    }
    if (r.o.by == PD_TOUCHPOINT_BY_TOUCHPOINT) { /* row tp */
      put_row(t, &c, &r, &r.acc[tp], 1, spend[tp], with_clv);
      pd__table_set_string(t, tp, c.name, d.name);
      pd__table_set_string(t, tp, c.dom, pd_domain_name(d.domain));
      pd__table_set_string(t, tp, c.car, pd_carrier_name(d.carrier));
    }
  }
  for (uint32_t g = 0; st == PD_OK && r.o.by != PD_TOUCHPOINT_BY_TOUCHPOINT && g < ng; g++) { /* row g */
    put_row(t, &c, &r, &r.acc[g], ntp[g], spend[g], with_clv);
    pd__table_set_string(t, g, c.name,
                         r.o.by == PD_TOUCHPOINT_BY_DOMAIN ? pd_domain_name((pd_domain)g)
                                                           : pd_carrier_name((pd_carrier)g));
  }
  if (st == PD_OK && r.has_none) {
    put_row(t, &c, &r, &r.acc[ng], 0, -1, with_clv);
    pd__table_set_string(t, ng, c.name, "(none)");
  }
  free(ntp);
  free(spend);
  pd__tp_run_free(&r);
  return finish(t, st, out);
}

/* Nearest-rank quantile of sorted v[0..n-1] (n > 0): the value at rank ceil(q n). */
static int64_t nearest_rank(const int64_t *v, size_t n, double q) {
  double k = ceil(q * (double)n);
  size_t i = k < 1 ? 0 : (size_t)k - 1;
  return v[i < n ? i : n - 1];
}

static int cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

pd_status pd_touchpoint_migration(pd_store *store, const pd_touchpoint_options *opts, pd_table **out) {
  if (!out) return pd__error(PD_ERR_INVALID, "pd_touchpoint_migration: out is NULL");
  *out = NULL;
  pd_touchpoint_options o = PD_TOUCHPOINT_OPTIONS_INIT;
  if (opts) {
    if (opts->size < sizeof o)
      return pd__error(PD_ERR_INVALID, "touchpoints: options size not set (use PD_TOUCHPOINT_OPTIONS_INIT)");
    o = *opts;
  }
  o.by = PD_TOUCHPOINT_BY_TOUCHPOINT;
  pd__tp_run r;
  pd_status st = pd__tp_run_compute(store, &o, 1, &r);
  if (st != PD_OK) return st;
  int with_clv = r.o.clv && r.o.gg;
  pd_table *t = pd__table_new("touchpoint_migration");
  size_t c_dir = pd__table_add_col(t, "direction", PD_TYPE_STRING);
  size_t c_tp = pd__table_add_col(t, "touchpoint", PD_TYPE_STRING);
  size_t c_car = pd__table_add_col(t, "carrier", PD_TYPE_STRING);
  size_t c_acq = pd__table_add_col(t, "acquired", PD_TYPE_INT64);
  size_t c_moved = pd__table_add_col(t, "moved", PD_TYPE_INT64);
  size_t c_share = pd__table_add_col(t, "moved_share", PD_TYPE_DOUBLE);
  size_t c_med = pd__table_add_col(t, "hours_median", PD_TYPE_DOUBLE);
  size_t c_p90 = pd__table_add_col(t, "hours_p90", PD_TYPE_DOUBLE);
  static const char *const metric[] = {"retention_7", "retention_30", "revenue_per_user", "clv_per_user"};
  size_t c_side[4][2];
  for (int m = 0; m < 4; m++)
    for (int s = 0; s < 2; s++) {
      char name[64];
      snprintf(name, sizeof name, "%s_%s", s == 0 ? "moved" : "stayed", metric[m]);
      c_side[m][s] = pd__table_add_col(t, name, PD_TYPE_DOUBLE);
    }
  for (int pass = 0; pass < 2 && st == PD_OK; pass++) {
    pd_domain want = pass == 0 ? PD_DOMAIN_PUBLIC : PD_DOMAIN_PRIVATE;
    for (uint32_t tp = 0; tp < r.n_tp && st == PD_OK; tp++) {
      if (r.domain_of_tp[tp] != want) continue;
      pd_touchpoint_def d = PD_TOUCHPOINT_DEF_INIT;
      if ((st = pd_store_touchpoint(store, tp, &d)) != PD_OK) break;
      pd__mig_acc *m = &r.mig[tp];
      size_t row = pd__table_add_row(t);
      int64_t moved = m->side[0].users, acq = moved + m->side[1].users;
      pd__table_set_string(t, row, c_dir, pass == 0 ? "public_to_private" : "private_to_public");
      pd__table_set_string(t, row, c_tp, d.name);
      pd__table_set_string(t, row, c_car, pd_carrier_name(d.carrier));
      pd__table_set_int64(t, row, c_acq, acq);
      pd__table_set_int64(t, row, c_moved, moved);
      set_d(t, row, c_share, ratio((double)moved, (double)acq));
      if (m->n_times) {
        qsort(m->times, m->n_times, sizeof *m->times, cmp_i64);
        pd__table_set_double(t, row, c_med, (double)nearest_rank(m->times, m->n_times, 0.5) / 3600000.0);
        pd__table_set_double(t, row, c_p90, (double)nearest_rank(m->times, m->n_times, 0.9) / 3600000.0);
      }
      for (int s = 0; s < 2; s++) {
        const pd__mig_side *x = &m->side[s];
        set_d(t, row, c_side[0][s], ratio((double)x->ret7, (double)x->elig7));
        set_d(t, row, c_side[1][s], ratio((double)x->ret30, (double)x->elig30));
        set_d(t, row, c_side[2][s], ratio((double)x->revenue, (double)x->users));
        if (with_clv) set_d(t, row, c_side[3][s], ratio(x->clv_sum, (double)x->users));
      }
    }
  }
  pd__tp_run_free(&r);
  return finish(t, st, out);
}
