/* Per-customer predictions over summary arrays, and the CLV table. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "clv_internal.h"
#include "special.h"

static pd_status check_model(const pd_clv_model *m, const char *fn, int need_counts) {
  if (!m) return pd__error(PD_ERR_INVALID, "%s: model is NULL", fn);
  if (need_counts && !m->fam->alive)
    return pd__error(PD_ERR_INVALID, "%s: %s is a spend model, not a purchase-count model", fn, m->fam->name);
  return PD_OK;
}

static pd_status check_rows(const pd_clv_model *m, const pd_clv_summary *data, const double *out, const char *fn,
                            int need_monetary) {
  if (!out && data && data->n) return pd__error(PD_ERR_INVALID, "%s: out is NULL", fn);
  pd_status st = pd__clv_validate(m->fam, data, need_monetary);
  if (st) pd__error_prefix("%s", fn);
  return st;
}

static pd_status numeric_guard(const double *out, size_t n, const char *fn) {
  for (size_t i = 0; i < n; i++)
    if (!isfinite(out[i])) return pd__error(PD_ERR_NUMERIC, "%s: prediction for row %zu is not finite", fn, i);
  return PD_OK;
}

pd_status pd_clv_expected_purchases(const pd_clv_model *m, double t_units, double *out) {
  pd_status st = check_model(m, "clv_expected_purchases", 1);
  if (st) return st;
  if (!out || !(t_units >= 0) || !isfinite(t_units))
    return pd__error(PD_ERR_INVALID, "clv_expected_purchases: t_units must be finite and >= 0");
  *out = m->fam->expected(m->p, t_units);
  return numeric_guard(out, 1, "clv_expected_purchases");
}

pd_status pd_clv_predict_purchases(const pd_clv_model *m, const pd_clv_summary *data, double t_units, double *out) {
  const char *fn = "clv_predict_purchases";
  pd_status st = check_model(m, fn, 1);
  if (st || (st = check_rows(m, data, out, fn, 0))) return st;
  if (!(t_units >= 0) || !isfinite(t_units)) return pd__error(PD_ERR_INVALID, "%s: t_units must be finite and >= 0", fn);
  const double one = 1.0; /* BG/NBD, MBG/NBD: the power-series fast path, one horizon, no discount */
  if (!(t_units > 0 && pd__bgnbd_discounted(m, data, &t_units, &one, 1, out) == 0))
    for (size_t i = 0; i < data->n; i++)
      out[i] = m->fam->cond_expected(m->p, data->x[i], data->t_x[i], data->T[i], t_units);
  return numeric_guard(out, data->n, fn);
}

typedef struct alive_job {
  const pd_clv_model *m;
  const pd_clv_summary *s;
  double *out;
} alive_job;

static void alive_chunk(void *vjob, size_t chunk, size_t begin, size_t end) {
  (void)chunk;
  alive_job *j = vjob;
  const pd_clv_summary *s = j->s;
  for (size_t i = begin; i < end; i++) j->out[i] = j->m->fam->alive(j->m->p, s->x[i], s->t_x[i], s->T[i]);
}

pd_status pd_clv_predict_alive(const pd_clv_model *m, const pd_clv_summary *data, double *out) {
  const char *fn = "clv_predict_alive";
  pd_status st = check_model(m, fn, 1);
  if (st || (st = check_rows(m, data, out, fn, 0))) return st;
  alive_job j = {m, data, out};
  pd__clv_parallel(data->n, 0, alive_chunk, &j);
  return numeric_guard(out, data->n, fn);
}

/* Expected spend of rows already validated (with monetary values). */
static pd_status spend_rows(const pd_clv_model *gg, const pd_clv_summary *data, double *out, const char *fn) {
  double p = gg->p[0], q = gg->p[1], v = gg->p[2];
  if (!(q > 1)) return pd__error(PD_ERR_INVALID, "%s: Gamma-Gamma q = %g <= 1 has no finite mean spend", fn, q);
  for (size_t i = 0; i < data->n; i++) {
    double x = data->x[i], mx = x > 0 ? data->monetary[i] : 0.0;
    /* weighted mean of the population mean p*gamma/(q-1) and the customer's own mean */
    out[i] = p * (v + x * mx) / (p * x + q - 1.0);
  }
  return numeric_guard(out, data->n, fn);
}

pd_status pd_clv_predict_spend(const pd_clv_model *gg, const pd_clv_summary *data, double *out) {
  const char *fn = "clv_predict_spend";
  if (!gg || gg->fam->kind != PD_CLV_GAMMA_GAMMA) return pd__error(PD_ERR_INVALID, "%s: needs a Gamma-Gamma model", fn);
  pd_status st = check_rows(gg, data, out, fn, 1);
  if (st) return st;
  return spend_rows(gg, data, out, fn);
}

static int continuous(const pd_clv_model *m) {
  return m->fam->kind == PD_CLV_BGNBD || m->fam->kind == PD_CLV_MBGNBD || m->fam->kind == PD_CLV_PNBD;
}

static pd_status discounted(const pd_clv_model *m, const pd_clv_summary *data, double months, double monthly_discount,
                            double units_per_month, double *out, int validated) {
  const char *fn = "clv_predict_value";
  pd_status st = check_model(m, fn, 1);
  if (st) return st;
  if (!continuous(m)) return pd__error(PD_ERR_INVALID, "%s: %s is not a continuous-time model", fn, m->fam->name);
  if (!(months >= 0 && months <= 1200 && months == floor(months)))
    return pd__error(PD_ERR_INVALID, "%s: months must be a whole number in [0, 1200]", fn);
  if (!(monthly_discount > -1 && isfinite(monthly_discount)))
    return pd__error(PD_ERR_INVALID, "%s: monthly_discount must be > -1", fn);
  if (!(units_per_month > 0 && isfinite(units_per_month)))
    return pd__error(PD_ERR_INVALID, "%s: units_per_month must be > 0", fn);
  if (!validated && (st = check_rows(m, data, out, fn, 0))) return st;
  size_t nm = (size_t)months;
  double *t = malloc((nm ? nm : 1) * 3 * sizeof *t), *disc = t + nm, *cur = t + 2 * nm;
  if (!t) return pd__error(PD_ERR_NOMEM, "%s: out of memory", fn);
  for (size_t k = 0; k < nm; k++) {
    t[k] = (double)(k + 1) * units_per_month;
    disc[k] = pow(1.0 + monthly_discount, (double)(k + 1));
  }
  if (pd__bgnbd_discounted(m, data, t, disc, nm, out) == 0) {
    free(t);
    return numeric_guard(out, data->n, fn);
  }
  for (size_t i = 0; i < data->n; i++) {
    if (m->fam->cond_multi) {
      m->fam->cond_multi(m->p, data->x[i], data->t_x[i], data->T[i], t, nm, cur);
    } else {
      for (size_t k = 0; k < nm; k++) cur[k] = m->fam->cond_expected(m->p, data->x[i], data->t_x[i], data->T[i], t[k]);
    }
    double prev = 0.0, v = 0.0;
    for (size_t k = 0; k < nm; k++) {
      v += (cur[k] - prev) / disc[k];
      prev = cur[k];
    }
    out[i] = v;
  }
  free(t);
  return numeric_guard(out, data->n, fn);
}

pd_status pd__clv_discounted_purchases(const pd_clv_model *m, const pd_clv_summary *data, double months,
                                       double monthly_discount, double units_per_month, double *out) {
  return discounted(m, data, months, monthly_discount, units_per_month, out, 0);
}

pd_status pd_clv_predict_value(const pd_clv_model *m, const pd_clv_model *gg, const pd_clv_summary *data,
                               double months, double monthly_discount, double units_per_month, double *out) {
  const char *fn = "clv_predict_value";
  pd_status st = check_model(m, fn, 1);
  if (st || (st = check_rows(m, data, out, fn, 1))) return st;
  size_t n = data->n;
  double *spend = malloc((n ? n : 1) * sizeof *spend);
  if (!spend) return pd__error(PD_ERR_NOMEM, "%s: out of memory", fn);
  /* the rows are validated once, above (with their monetary values) */
  if (!gg || gg->fam->kind != PD_CLV_GAMMA_GAMMA)
    st = pd__error(PD_ERR_INVALID, "%s: needs a Gamma-Gamma model", fn);
  if (st || (st = spend_rows(gg, data, spend, fn)) ||
      (st = discounted(m, data, months, monthly_discount, units_per_month, out, 1))) {
    free(spend);
    return st;
  }
  for (size_t i = 0; i < n; i++) out[i] *= spend[i];
  free(spend);
  return PD_OK;
}

pd_status pd_clv_predict_dert(const pd_clv_model *pnbd, const pd_clv_summary *data, double discount_per_unit,
                              double *out) {
  const char *fn = "clv_predict_dert";
  if (!pnbd || pnbd->fam->kind != PD_CLV_PNBD) return pd__error(PD_ERR_INVALID, "%s: needs a Pareto/NBD model", fn);
  if (!(discount_per_unit > 0 && isfinite(discount_per_unit)))
    return pd__error(PD_ERR_INVALID, "%s: discount_per_unit must be > 0", fn);
  pd_status st = check_rows(pnbd, data, out, fn, 0);
  if (st) return st;
  const double *p = pnbd->p;
  double r = p[0], al = p[1], s = p[2], be = p[3];
  for (size_t i = 0; i < data->n; i++) {
    double x = data->x[i], T = data->T[i], la, ld;
    pd__pnbd_parts(p, x, data->t_x[i], T, &la, &ld);
    double z = discount_per_unit * (be + T);
    /* P(alive) E[lambda] (beta+T) int_0^inf e^(-z u) (1+u)^(-s) du, the integral = e^z z^(s-1) G(1-s, z) */
    double li = z + (s - 1.0) * log(z) + pd__log_upper_gamma(1.0 - s, z);
    out[i] = exp(la - pd__logaddexp(la, ld) + log(r + x) - log(al + T) + log(be + T) + li);
  }
  return numeric_guard(out, data->n, fn);
}

pd_status pd_clv_predict_table(const pd_clv_model *m, const pd_clv_model *gg, const pd_clv_summary *data,
                               double horizon_units, double months, double monthly_discount, double units_per_month,
                               pd_table **out) {
  const char *fn = "clv_predict_table";
  if (!out) return pd__error(PD_ERR_INVALID, "%s: out is NULL", fn);
  *out = NULL;
  pd_status st = check_model(m, fn, 1);
  if (st || (st = pd__clv_validate(m->fam, data, 0))) return st;
  size_t n = data->n;
  int value = gg && data->monetary;
  double *buf = malloc((n ? n : 1) * 4 * sizeof *buf);
  if (!buf) return pd__error(PD_ERR_NOMEM, "%s: out of memory", fn);
  double *alive = buf, *purch = buf + n, *spend = buf + 2 * n, *clv = buf + 3 * n;
  if ((st = pd_clv_predict_alive(m, data, alive)) || (st = pd_clv_predict_purchases(m, data, horizon_units, purch)) ||
      (value && ((st = pd_clv_predict_spend(gg, data, spend)) ||
                 (st = pd_clv_predict_value(m, gg, data, months, monthly_discount, units_per_month, clv))))) {
    free(buf);
    return st;
  }
  pd_table *t = pd__table_new("clv_predictions");
  size_t c_row = pd__table_add_col(t, "row", PD_TYPE_INT64);
  size_t c_x = pd__table_add_col(t, "x", PD_TYPE_DOUBLE);
  size_t c_tx = pd__table_add_col(t, "t_x", PD_TYPE_DOUBLE);
  size_t c_T = pd__table_add_col(t, "T", PD_TYPE_DOUBLE);
  size_t c_al = pd__table_add_col(t, "p_alive", PD_TYPE_DOUBLE);
  size_t c_p = pd__table_add_col(t, "expected_purchases", PD_TYPE_DOUBLE);
  size_t c_s = value ? pd__table_add_col(t, "expected_spend", PD_TYPE_DOUBLE) : 0;
  size_t c_v = value ? pd__table_add_col(t, "clv", PD_TYPE_DOUBLE) : 0;
  for (size_t i = 0; i < n; i++) {
    size_t r = pd__table_add_row(t);
    pd__table_set_int64(t, r, c_row, (int64_t)i);
    pd__table_set_double(t, r, c_x, data->x[i]);
    pd__table_set_double(t, r, c_tx, data->t_x[i]);
    pd__table_set_double(t, r, c_T, data->T[i]);
    pd__table_set_double(t, r, c_al, alive[i]);
    pd__table_set_double(t, r, c_p, purch[i]);
    if (value) {
      pd__table_set_double(t, r, c_s, spend[i]);
      pd__table_set_double(t, r, c_v, clv[i]);
    }
  }
  free(buf);
  return pd__table_finish(t, out);
}

pd_status pd_clv_frequency_recency_table(const pd_clv_model *m, double T, unsigned max_frequency,
                                         unsigned recency_steps, double horizon_units, pd_table **out) {
  const char *fn = "clv_frequency_recency_table";
  if (!out) return pd__error(PD_ERR_INVALID, "%s: out is NULL", fn);
  *out = NULL;
  pd_status st = check_model(m, fn, 1);
  if (st) return st;
  if (!continuous(m)) return pd__error(PD_ERR_INVALID, "%s: %s is not a continuous-time model", fn, m->fam->name);
  if (!(T > 0 && isfinite(T)) || recency_steps == 0 || recency_steps > 1000 || max_frequency > 10000 ||
      !(horizon_units >= 0 && isfinite(horizon_units)))
    return pd__error(PD_ERR_INVALID, "%s: need T > 0, 1..1000 recency steps, frequency <= 10000, horizon >= 0", fn);
  pd_table *t = pd__table_new("clv_frequency_recency");
  size_t cr = pd__table_add_col(t, "recency", PD_TYPE_STRING), cf = pd__table_add_col(t, "frequency", PD_TYPE_INT64);
  size_t ctx = pd__table_add_col(t, "t_x", PD_TYPE_DOUBLE);
  size_t ce = pd__table_add_col(t, "expected_purchases", PD_TYPE_DOUBLE);
  size_t ca = pd__table_add_col(t, "p_alive", PD_TYPE_DOUBLE);
  for (unsigned k = 0; k <= recency_steps; k++) {
    double tx = T * (double)(recency_steps - k) / recency_steps;
    char label[32];
    snprintf(label, sizeof label, "%.1f", tx);
    for (unsigned f = 0; f <= max_frequency; f++) {
      size_t r = pd__table_add_row(t);
      pd__table_set_string(t, r, cr, label);
      pd__table_set_int64(t, r, cf, f);
      pd__table_set_double(t, r, ctx, tx);
      if (f == 0 && tx > 0) continue; /* no repeat purchase, yet a recency: impossible */
      double e = m->fam->cond_expected(m->p, f, tx, T, horizon_units), a = m->fam->alive(m->p, f, tx, T);
      if (isfinite(e)) pd__table_set_double(t, r, ce, e);
      if (isfinite(a)) pd__table_set_double(t, r, ca, a);
    }
  }
  return pd__table_finish(t, out);
}

pd_status pd_clv_holdout_table(const pd_clv_model *m, const pd_clv_summary *data, const double *x_holdout,
                               double holdout_units, unsigned max_frequency, pd_table **out) {
  const char *fn = "clv_holdout_table";
  if (!out) return pd__error(PD_ERR_INVALID, "%s: out is NULL", fn);
  *out = NULL;
  pd_status st = check_model(m, fn, 1);
  if (st) return st;
  if ((st = pd__clv_validate(m->fam, data, 0))) return st;
  if (data->n && !x_holdout) return pd__error(PD_ERR_INVALID, "%s: x_holdout is NULL", fn);
  if (max_frequency > 10000) return pd__error(PD_ERR_INVALID, "%s: max_frequency too large", fn);
  size_t nb = (size_t)max_frequency + 1;
  double *acc = calloc(nb * 3, sizeof *acc); /* customers (weighted), actual sum, predicted sum */
  if (!acc) return pd__error(PD_ERR_NOMEM, "%s: out of memory", fn);
  for (size_t i = 0; i < data->n; i++) {
    double w = data->weight ? data->weight[i] : 1.0, x = data->x[i];
    size_t b = x >= max_frequency ? max_frequency : (size_t)x;
    double e = m->fam->cond_expected(m->p, x, data->t_x[i], data->T[i], holdout_units);
    acc[3 * b] += w;
    acc[3 * b + 1] += w * x_holdout[i];
    acc[3 * b + 2] += w * e;
  }
  pd_table *t = pd__table_new("clv_holdout");
  size_t cf = pd__table_add_col(t, "frequency", PD_TYPE_STRING), cn = pd__table_add_col(t, "customers", PD_TYPE_DOUBLE);
  size_t ca = pd__table_add_col(t, "actual", PD_TYPE_DOUBLE), cp = pd__table_add_col(t, "predicted", PD_TYPE_DOUBLE);
  for (size_t b = 0; b < nb; b++) {
    size_t r = pd__table_add_row(t);
    char label[32];
    snprintf(label, sizeof label, b == max_frequency ? "%zu+" : "%zu", b);
    pd__table_set_string(t, r, cf, label);
    pd__table_set_double(t, r, cn, acc[3 * b]);
    if (acc[3 * b] > 0) {
      pd__table_set_double(t, r, ca, acc[3 * b + 1] / acc[3 * b]);
      pd__table_set_double(t, r, cp, acc[3 * b + 2] / acc[3 * b]);
    }
  }
  free(acc);
  return pd__table_finish(t, out);
}
