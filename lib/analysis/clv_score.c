/* Fitting and scoring straight from RFM tables (the CLI's and Python's
 * path from a store to per-customer values). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "clv_internal.h"

/* For spend: a customer whose repeat periods net to <= 0 counts as having
 * no usable spend history (x = 0, population mean). */
static void spend_view(const pd_clv_summary *s, double *x_spend) {
  for (size_t i = 0; i < s->n; i++) x_spend[i] = s->monetary[i] > 0 ? s->x[i] : 0.0;
}

pd_status pd_clv_fit_table(pd_clv_kind kind, const pd_table *rfm, const pd_clv_fit_options *opts, pd_clv_model **out) {
  if (!out) return pd__error(PD_ERR_INVALID, "clv_fit_table: out is NULL");
  *out = NULL;
  pd_clv_summary s;
  double *storage = NULL, *xs = NULL;
  pd_status st = pd_clv_summary_from_table(rfm, &s, &storage);
  if (st) return st;
  if (kind == PD_CLV_GAMMA_GAMMA) {
    if (!s.monetary) {
      pd_free(storage);
      return pd__error(PD_ERR_NOT_FOUND, "clv_fit_table: Gamma-Gamma needs a monetary_value column");
    }
    xs = malloc((s.n ? s.n : 1) * sizeof *xs);
    if (!xs) {
      pd_free(storage);
      return pd__error(PD_ERR_NOMEM, "clv_fit_table: out of memory");
    }
    spend_view(&s, xs);
    s.x = xs;
    s.t_x = s.T = NULL; /* spend needs no times; a zeroed x must not meet its recency */
  }
  st = pd_clv_fit(kind, &s, opts, out);
  free(xs);
  pd_free(storage);
  return st;
}

pd_status pd_clv_score_table(const pd_clv_model *m, const pd_clv_model *gg, const pd_table *rfm, double horizon_units,
                             double months, double monthly_discount, double units_per_month, pd_table **out) {
  const char *fn = "clv_score_table";
  if (!out) return pd__error(PD_ERR_INVALID, "%s: out is NULL", fn);
  *out = NULL;
  if (!m || !rfm) return pd__error(PD_ERR_INVALID, "%s: NULL model or table", fn);
  pd_clv_summary s;
  double *storage = NULL;
  pd_status st = pd_clv_summary_from_table(rfm, &s, &storage);
  if (st) return st;
  size_t n = s.n;
  int value = gg && s.monetary;
  double *buf = malloc((n ? n : 1) * 5 * sizeof *buf);
  if (!buf) {
    pd_free(storage);
    return pd__error(PD_ERR_NOMEM, "%s: out of memory", fn);
  }
  double *alive = buf, *purch = buf + n, *spend = buf + 2 * n, *clv = buf + 3 * n, *xs = buf + 4 * n;
  if ((st = pd_clv_predict_alive(m, &s, alive)) || (st = pd_clv_predict_purchases(m, &s, horizon_units, purch)))
    goto done;
  if (value) {
    pd_clv_summary sv = s;
    spend_view(&s, xs);
    sv.x = xs;
    sv.t_x = sv.T = NULL;
    if ((st = pd_clv_predict_spend(gg, &sv, spend))) goto done;
    /* value = spend x discounted purchases, the purchases from the full history */
    st = pd__clv_discounted_purchases(m, &s, months, monthly_discount, units_per_month, clv);
    if (st) goto done;
    for (size_t i = 0; i < n; i++) clv[i] *= spend[i];
  }
  long c_user = pd_table_col_index(rfm, "user"), c_ext = pd_table_col_index(rfm, "external_id");
  long c_tp = pd_table_col_index(rfm, "touchpoint");
  pd_table *t = pd__table_new("clv_scores");
  size_t cu = c_user >= 0 ? pd__table_add_col(t, "user", PD_TYPE_INT64) : 0;
  size_t ce = c_ext >= 0 ? pd__table_add_col(t, "external_id", PD_TYPE_STRING) : 0;
  size_t ct = c_tp >= 0 ? pd__table_add_col(t, "touchpoint", PD_TYPE_STRING) : 0;
  size_t cf = pd__table_add_col(t, "frequency", PD_TYPE_DOUBLE), cr = pd__table_add_col(t, "recency", PD_TYPE_DOUBLE);
  size_t cT = pd__table_add_col(t, "T", PD_TYPE_DOUBLE), ca = pd__table_add_col(t, "p_alive", PD_TYPE_DOUBLE);
  size_t cp = pd__table_add_col(t, "expected_purchases", PD_TYPE_DOUBLE);
  size_t cm = 0, cs = 0, cv = 0;
  if (value) {
    cm = pd__table_add_col(t, "monetary_value", PD_TYPE_DOUBLE);
    cs = pd__table_add_col(t, "expected_spend", PD_TYPE_DOUBLE);
    cv = pd__table_add_col(t, "clv", PD_TYPE_DOUBLE);
  }
  for (size_t i = 0; i < n; i++) {
    size_t r = pd__table_add_row(t);
    if (c_user >= 0) pd__table_set_int64(t, r, cu, pd_table_get_int64(rfm, i, (size_t)c_user));
    if (c_ext >= 0 && !pd_table_is_null(rfm, i, (size_t)c_ext))
      pd__table_set_string(t, r, ce, pd_table_get_string(rfm, i, (size_t)c_ext));
    if (c_tp >= 0 && !pd_table_is_null(rfm, i, (size_t)c_tp))
      pd__table_set_string(t, r, ct, pd_table_get_string(rfm, i, (size_t)c_tp));
    pd__table_set_double(t, r, cf, s.x[i]);
    pd__table_set_double(t, r, cr, s.t_x[i]);
    pd__table_set_double(t, r, cT, s.T[i]);
    pd__table_set_double(t, r, ca, alive[i]);
    pd__table_set_double(t, r, cp, purch[i]);
    if (value) {
      pd__table_set_double(t, r, cm, s.monetary[i]);
      pd__table_set_double(t, r, cs, spend[i]);
      pd__table_set_double(t, r, cv, clv[i]);
    }
  }
  st = pd__table_finish(t, out);
done:
  free(buf);
  pd_free(storage);
  return st;
}
