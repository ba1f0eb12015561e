/* Report section "clv": predicted customer value (BG/NBD for purchases,
 * Gamma-Gamma for spend, 12 months, 1% monthly discount) as a distribution,
 * P(alive) and the dormant ("zombie") contacts by touchpoint. Uses only the
 * public RFM, CLV and LTV APIs (rfm.h, clv.h, ltv.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report_internal.h"

#define MIN_CUSTOMERS 30
#define DORMANT_P_ALIVE 0.3
#define MONTHS 12

/* Histogram of CLV (minor units) in fixed yuan buckets. */
static pd_status clv_histogram(pd__report *r, const double *clv, size_t n, pd_table **out) {
  static const double edges[] = {0, 1000, 5000, 10000, 20000, 50000, 100000, 200000, 500000}; /* fen */
  enum { NB = sizeof edges / sizeof edges[0] };
  int64_t counts[NB] = {0};
  for (size_t i = 0; i < n; i++) {
    double v = clv[i];
    if (!isfinite(v)) continue;
    size_t b = 0;
    while (b + 1 < NB && v >= edges[b + 1]) b++;
    counts[b]++;
  }
  size_t last = 0;
  for (size_t b = 0; b < NB; b++)
    if (counts[b]) last = b;
  pd_table *t = pd__table_new("clv distribution");
  size_t c_b = pd__table_add_col(t, "predicted 12-month value", PD_TYPE_STRING);
  size_t c_n = pd__table_add_col(t, "customers", PD_TYPE_INT64);
  for (size_t b = 0; b <= last; b++) {
    char lo[32], hi[32], label[80];
    pd__format_value(edges[b], PD_VALUE_CURRENCY, r->o.currency_symbol, 0, lo, sizeof lo);
    if (b + 1 < NB) {
      pd__format_value(edges[b + 1], PD_VALUE_CURRENCY, r->o.currency_symbol, 0, hi, sizeof hi);
      snprintf(label, sizeof label, "%s\xE2\x80\x93%s", lo, hi);
    } else {
      snprintf(label, sizeof label, "%s+", lo);
    }
    size_t row = pd__table_add_row(t);
    pd__table_set_string(t, row, c_b, label);
    pd__table_set_int64(t, row, c_n, counts[b]);
  }
  return pd__table_finish(t, out);
}

/* Customers by P(alive) in tenths; the buckets below the dormant threshold
 * are flagged for the alert colour. */
static pd_status alive_histogram(const pd_table *pred, pd_table **out) {
  int64_t counts[10] = {0};
  long c = pd_table_col_index(pred, "p_alive");
  for (size_t i = 0; c >= 0 && i < pd_table_n_rows(pred); i++) {
    if (pd_table_is_null(pred, i, (size_t)c)) continue;
    double p = pd_table_get_double(pred, i, (size_t)c);
    if (!isfinite(p)) continue;
    int b = (int)floor(p * 10);
    counts[b < 0 ? 0 : b > 9 ? 9 : b]++;
  }
  pd_table *t = pd__table_new("p_alive distribution");
  size_t c_b = pd__table_add_col(t, "P(alive)", PD_TYPE_STRING);
  size_t c_n = pd__table_add_col(t, "customers", PD_TYPE_INT64);
  size_t c_d = pd__table_add_col(t, "dormant", PD_TYPE_INT64);
  for (int b = 0; b < 10; b++) {
    char label[32];
    snprintf(label, sizeof label, "%d\xE2\x80\x93%d%%", b * 10, b * 10 + 10);
    size_t row = pd__table_add_row(t);
    pd__table_set_string(t, row, c_b, label);
    pd__table_set_int64(t, row, c_n, counts[b]);
    pd__table_set_int64(t, row, c_d, (b + 1) * 0.1 <= DORMANT_P_ALIVE + 1e-9);
  }
  return pd__table_finish(t, out);
}

static double column_sum(const pd_table *t, const char *col, size_t *n) {
  long c = pd_table_col_index(t, col);
  double s = 0;
  *n = 0;
  for (size_t i = 0; c >= 0 && i < pd_table_n_rows(t); i++) {
    if (pd_table_is_null(t, i, (size_t)c)) continue;
    double v = pd_table_col_type(t, (size_t)c) == PD_TYPE_INT64 ? (double)pd_table_get_int64(t, i, (size_t)c)
                                                                : pd_table_get_double(t, i, (size_t)c);
    if (isfinite(v)) s += v, (*n)++;
  }
  return s;
}

pd_status pd__report_clv(pd__report *r) {
  pd_rfm_options ro = PD_RFM_OPTIONS_INIT;
  ro.tz = r->o.tz;
  ro.threads = r->o.threads;
  pd_table *rfm = NULL, *pred = NULL, *hist = NULL, *dormant = NULL, *params = NULL, *alive_h = NULL;
  pd_clv_model *m = NULL, *gg = NULL;
  double *storage = NULL, *adj = NULL, *clv = NULL;
  const char *how = "BG/NBD purchases \xC3\x97 Gamma-Gamma spend, discounted 1% a month";
  pd_status st = pd_rfm_from_store(r->store, &ro, &rfm);
  if (st != PD_OK) return st;
  size_t customers = pd_table_n_rows(rfm);
  char buf[64], note[200];
  if (customers < MIN_CUSTOMERS) {
    snprintf(note, sizeof note, "%zu paying customers: too few to fit a CLV model (at least %d needed).", customers,
             MIN_CUSTOMERS);
    pd__report_note(r, note);
    pd_table_free(rfm);
    return PD_OK;
  }
  pd_clv_summary sum = PD_CLV_SUMMARY_INIT;
  pd_clv_fit_options fo = PD_CLV_FIT_OPTIONS_INIT;
  fo.penalty = 0.001; /* a light L2 penalty keeps the fit finite on small pools */
  if ((st = pd_clv_summary_from_table(rfm, &sum, &storage)) != PD_OK) goto done;
  if ((st = pd_clv_fit(PD_CLV_BGNBD, &sum, &fo, &m)) != PD_OK) goto done;
  /* Gamma-Gamma needs a positive mean repeat spend: refunds can make it 0 or
   * less. Fit it on the customers whose is positive; predict the others
   * with the population mean spend (as if their spend were unknown). */
  if (!sum.monetary) {
    st = pd__error(PD_ERR_NOT_FOUND, "clv section: the RFM table has no monetary_value");
    goto done;
  }
  if (!(adj = malloc((4 * sum.n + 1) * sizeof *adj)) || !(clv = malloc((sum.n + 1) * sizeof *clv))) {
    st = pd__error(PD_ERR_NOMEM, "report: out of memory");
    goto done;
  }
  double *gx = adj, *gt = adj + sum.n, *gm = adj + 2 * sum.n, *pm = adj + 3 * sum.n;
  for (size_t i = 0; i < sum.n; i++) {
    bool ok = sum.x[i] > 0 && sum.monetary[i] > 0 && isfinite(sum.monetary[i]);
    gx[i] = ok ? sum.x[i] : 0;
    gt[i] = ok ? sum.t_x[i] : 0;
    gm[i] = ok ? sum.monetary[i] : 0;
  }
  pd_clv_summary gsum = sum;
  gsum.x = gx;
  gsum.t_x = gt;
  gsum.monetary = gm;
  /* no penalty for Gamma-Gamma: its scale gamma is in minor units (thousands
   * of fen), where the L2 term would drag it, and q with it, towards 0 */
  if ((st = pd_clv_fit(PD_CLV_GAMMA_GAMMA, &gsum, NULL, &gg)) != PD_OK) goto done;
  double p = pd_clv_model_param(gg, 0), q = pd_clv_model_param(gg, 1), g = pd_clv_model_param(gg, 2);
  double pop = q > 1 ? p * g / (q - 1) : NAN;
  if (pop > 0 && isfinite(pop)) {
    for (size_t i = 0; i < sum.n; i++) pm[i] = sum.x[i] > 0 && !(sum.monetary[i] > 0) ? pop : sum.monetary[i];
    pd_clv_summary psum = sum;
    psum.monetary = pm;
    if ((st = pd_clv_predict_table(m, gg, &psum, 30, MONTHS, 0.01, 30, &pred)) != PD_OK) goto done;
    long c = pd_table_col_index(pred, "clv");
    for (size_t i = 0; i < sum.n; i++)
      clv[i] = c >= 0 && !pd_table_is_null(pred, i, (size_t)c) ? pd_table_get_double(pred, i, (size_t)c) : NAN;
  } else {
    /* q <= 1: the fitted spend distribution has no finite mean (heavy tail).
     * Fall back to each customer's own mean repeat spend (the mean over
     * customers for those without one) times expected purchases, undiscounted. */
    how = "BG/NBD purchases \xC3\x97 observed mean spend (Gamma-Gamma had no finite mean), undiscounted";
    double msum = 0;
    size_t mn = 0;
    for (size_t i = 0; i < sum.n; i++)
      if (sum.x[i] > 0 && sum.monetary[i] > 0 && isfinite(sum.monetary[i])) msum += sum.monetary[i], mn++;
    double mean_spend = mn ? msum / (double)mn : 0;
    if ((st = pd_clv_predict_table(m, NULL, &sum, 30, MONTHS, 0.01, 30, &pred)) != PD_OK) goto done;
    if ((st = pd_clv_predict_purchases(m, &sum, MONTHS * 30.0, clv)) != PD_OK) goto done;
    for (size_t i = 0; i < sum.n; i++)
      clv[i] *= sum.x[i] > 0 && sum.monetary[i] > 0 && isfinite(sum.monetary[i]) ? sum.monetary[i] : mean_spend;
  }
  if ((st = clv_histogram(r, clv, sum.n, &hist)) != PD_OK) goto done;
  if ((st = pd_ltv_dormant(m, rfm, DORMANT_P_ALIVE, NULL, &dormant)) != PD_OK) goto done;
  if ((st = alive_histogram(pred, &alive_h)) != PD_OK) goto done;

  size_t n_clv = 0, n_alive, n_buy;
  double total = 0, alive = column_sum(pred, "p_alive", &n_alive);
  for (size_t i = 0; i < sum.n; i++)
    if (isfinite(clv[i])) {
      total += clv[i];
      n_clv++;
    }
  double buys = column_sum(pred, "expected_purchases", &n_buy);
  double dormant_total = 0;
  long c_d = pd_table_col_index(dormant, "dormant");
  for (size_t i = 0; c_d >= 0 && i < pd_table_n_rows(dormant); i++) {
    if (pd_table_is_null(dormant, i, (size_t)c_d)) continue;
    dormant_total += pd_table_col_type(dormant, (size_t)c_d) == PD_TYPE_INT64
                         ? (double)pd_table_get_int64(dormant, i, (size_t)c_d)
                         : pd_table_get_double(dormant, i, (size_t)c_d);
  }
  pd__report_kpis_begin(r);
  pd__report_fmt(r, (double)customers, PD_VALUE_INTEGER, buf, sizeof buf);
  pd__report_kpi(r, "Paying customers", buf, NULL);
  pd__report_fmt(r, total, PD_VALUE_CURRENCY, buf, sizeof buf);
  pd__report_kpi(r, "Predicted value, next 12 months", buf, "all paying customers");
  pd__report_fmt(r, n_clv ? total / (double)n_clv : NAN, PD_VALUE_CURRENCY, buf, sizeof buf);
  pd__report_kpi(r, "Mean predicted CLV", buf, "per customer");
  pd__report_fmt(r, buys, PD_VALUE_PLAIN, buf, sizeof buf);
  pd__report_kpi(r, "Expected purchases, next 30 days", buf, NULL);
  pd__report_fmt(r, n_alive ? alive / (double)n_alive : NAN, PD_VALUE_PERCENT, buf, sizeof buf);
  pd__report_kpi(r, "Mean P(alive)", buf, NULL);
  pd__report_fmt(r, dormant_total, PD_VALUE_INTEGER, buf, sizeof buf);
  snprintf(note, sizeof note, "P(alive) below %.0f%%", DORMANT_P_ALIVE * 100);
  pd__report_kpi(r, "Dormant customers", buf, note);
  pd__report_kpis_end(r);

  pd_chart_spec h = PD_CHART_SPEC_INIT;
  h.kind = PD_CHART_BAR;
  h.title = "Customers by predicted 12-month value";
  h.subtitle = how;
  h.y_title = "customers (count)";
  h.height = 340;
  pd__report_chart(r, hist, &h);
  pd_chart_spec a = PD_CHART_SPEC_INIT;
  a.kind = PD_CHART_BAR;
  a.title = "Customers by probability of being alive";
  snprintf(note, sizeof note, "P(alive) under the BG/NBD fit, from each customer's purchase count and recency; "
           "below %.0f%%: dormant", DORMANT_P_ALIVE * 100);
  a.subtitle = note;
  a.value_cols = "customers";
  a.highlight_col = "dormant";
  a.highlight_label = "dormant";
  a.x_title = "P(alive)";
  a.y_title = "customers (count)";
  a.height = 320;
  pd__report_chart(r, alive_h, &a);
  pd_chart_spec d = PD_CHART_SPEC_INIT;
  d.kind = PD_CHART_HBAR;
  d.title = "Dormant share of customers by acquisition touchpoint";
  snprintf(note, sizeof note, "dormant: P(alive) below %.0f%% under the BG/NBD fit; beside each name: its customers",
           DORMANT_P_ALIVE * 100);
  d.subtitle = note;
  d.label_col = "touchpoint";
  d.value_cols = "dormant_share";
  d.note_col = "customers";
  d.format = PD_VALUE_PERCENT;
  d.y_title = "dormant customers (% of the touchpoint's customers)";
  pd__report_chart(r, dormant, &d);
  if (pd_clv_model_table(m, &params) == PD_OK) {
    pd__buf_puts(r->b, "<details><summary>BG/NBD parameters (time unit: days)</summary>");
    pd__report_table(r, params, NULL, NULL, 0);
    pd__buf_puts(r->b, "</details>");
  }
done:
  pd_table_free(rfm);
  pd_table_free(pred);
  pd_table_free(hist);
  pd_table_free(dormant);
  pd_table_free(params);
  pd_table_free(alive_h);
  pd_clv_model_free(m);
  pd_clv_model_free(gg);
  pd_free(storage);
  free(adj);
  free(clv);
  return st;
}
