/* Report section "rfm": the eight classic RFM layers. Each paying customer
 * is high or low on recency (days since the last purchase at most the
 * mean), frequency (purchase days at least the mean) and monetary value
 * (net revenue at least the mean), computed from pd_rfm_from_store()
 * (rfm.h): R = T - recency, F = frequency + 1, M = revenue. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report_internal.h"

/* Index = (R high ? 0 : 4) + (F high ? 0 : 2) ... ordered by value below. */
static const struct {
  int r, f, m;
  const char *name, *action;
} layers[8] = {
    {1, 1, 1, "\xE9\x87\x8D\xE8\xA6\x81\xE4\xBB\xB7\xE5\x80\xBC Important value", "keep close: VIP service, early access"},
    {1, 0, 1, "\xE9\x87\x8D\xE8\xA6\x81\xE5\x8F\x91\xE5\xB1\x95 Important develop", "raise frequency: membership, bundles"},
    {0, 1, 1, "\xE9\x87\x8D\xE8\xA6\x81\xE4\xBF\x9D\xE6\x8C\x81 Important keep", "slipping: reach out one to one now"},
    {0, 0, 1, "\xE9\x87\x8D\xE8\xA6\x81\xE6\x8C\xBD\xE7\x95\x99 Important win back", "high spenders gone quiet: win back"},
    {1, 1, 0, "\xE4\xB8\x80\xE8\x88\xAC\xE4\xBB\xB7\xE5\x80\xBC General value", "upsell: higher-value offers"},
    {1, 0, 0, "\xE4\xB8\x80\xE8\x88\xAC\xE5\x8F\x91\xE5\xB1\x95 General develop", "nurture: content, second-purchase coupons"},
    {0, 1, 0, "\xE4\xB8\x80\xE8\x88\xAC\xE4\xBF\x9D\xE6\x8C\x81 General keep", "reactivate: reminders, group campaigns"},
    {0, 0, 0, "\xE4\xB8\x80\xE8\x88\xAC\xE6\x8C\xBD\xE7\x95\x99 General win back", "low priority: mass, low-cost touches"},
};

static double cell(const pd_table *t, size_t row, long col) {
  if (col < 0 || pd_table_is_null(t, row, (size_t)col)) return NAN;
  if (pd_table_col_type(t, (size_t)col) == PD_TYPE_INT64) return (double)pd_table_get_int64(t, row, (size_t)col);
  return pd_table_get_double(t, row, (size_t)col);
}

pd_status pd__report_rfm(pd__report *r) {
  pd_rfm_options ro = PD_RFM_OPTIONS_INIT;
  ro.tz = r->o.tz;
  ro.threads = r->o.threads;
  pd_table *rfm = NULL;
  pd_status st = pd_rfm_from_store(r->store, &ro, &rfm);
  if (st != PD_OK) return st;
  size_t n = pd_table_n_rows(rfm);
  long c_f = pd_table_col_index(rfm, "frequency"), c_rec = pd_table_col_index(rfm, "recency"),
       c_T = pd_table_col_index(rfm, "T"), c_rev = pd_table_col_index(rfm, "revenue");
  if (c_f < 0 || c_rec < 0 || c_T < 0 || c_rev < 0) {
    pd_table_free(rfm);
    return pd__error(PD_ERR_NOT_FOUND, "rfm section: the RFM table lacks frequency, recency, T or revenue");
  }
  double mean_r = 0, mean_f = 0, mean_m = 0;
  size_t used = 0;
  for (size_t i = 0; i < n; i++) {
    double R = cell(rfm, i, c_T) - cell(rfm, i, c_rec), F = cell(rfm, i, c_f) + 1, M = cell(rfm, i, c_rev);
    if (!isfinite(R) || !isfinite(F) || !isfinite(M)) continue;
    mean_r += R, mean_f += F, mean_m += M, used++;
  }
  if (used == 0) {
    pd__report_note(r, "No paying customers yet.");
    pd_table_free(rfm);
    return PD_OK;
  }
  mean_r /= (double)used, mean_f /= (double)used, mean_m /= (double)used;
  int64_t count[8] = {0};
  double revenue[8] = {0}, sum_r[8] = {0}, sum_f[8] = {0}, total_rev = 0;
  for (size_t i = 0; i < n; i++) {
    double R = cell(rfm, i, c_T) - cell(rfm, i, c_rec), F = cell(rfm, i, c_f) + 1, M = cell(rfm, i, c_rev);
    if (!isfinite(R) || !isfinite(F) || !isfinite(M)) continue;
    int rh = R <= mean_r, fh = F >= mean_f, mh = M >= mean_m;
    for (int k = 0; k < 8; k++)
      if (layers[k].r == rh && layers[k].f == fh && layers[k].m == mh) {
        count[k]++, revenue[k] += M, sum_r[k] += R, sum_f[k] += F;
        break;
      }
    total_rev += M;
  }
  pd_table_free(rfm);
  pd_table *t = pd__table_new("rfm layers");
  size_t c_name = pd__table_add_col(t, "layer", PD_TYPE_STRING);
  size_t c_n = pd__table_add_col(t, "customers", PD_TYPE_INT64);
  size_t c_share = pd__table_add_col(t, "share of customers", PD_TYPE_DOUBLE);
  size_t c_rv = pd__table_add_col(t, "revenue", PD_TYPE_INT64);
  size_t c_rs = pd__table_add_col(t, "share of revenue", PD_TYPE_DOUBLE);
  size_t c_days = pd__table_add_col(t, "mean days since last purchase", PD_TYPE_DOUBLE);
  size_t c_pf = pd__table_add_col(t, "mean purchase days", PD_TYPE_DOUBLE);
  size_t c_act = pd__table_add_col(t, "suggested treatment", PD_TYPE_STRING);
  for (int k = 0; k < 8; k++) {
    size_t row = pd__table_add_row(t);
    pd__table_set_string(t, row, c_name, layers[k].name);
    pd__table_set_int64(t, row, c_n, count[k]);
    pd__table_set_double(t, row, c_share, (double)count[k] / (double)used);
    pd__table_set_int64(t, row, c_rv, (int64_t)llround(revenue[k]));
    if (total_rev != 0) pd__table_set_double(t, row, c_rs, revenue[k] / total_rev);
    if (count[k]) {
      pd__table_set_double(t, row, c_days, sum_r[k] / (double)count[k]);
      pd__table_set_double(t, row, c_pf, sum_f[k] / (double)count[k]);
    }
    pd__table_set_string(t, row, c_act, layers[k].action);
  }
  pd_table *lt = NULL;
  if ((st = pd__table_finish(t, &lt)) != PD_OK) return st;
  char buf[64], note[256], m[64];
  pd__report_fmt(r, mean_m, PD_VALUE_CURRENCY, m, sizeof m);
  pd__report_fmt(r, (double)used, PD_VALUE_INTEGER, buf, sizeof buf);
  snprintf(note, sizeof note,
           "Thresholds are the means over %s paying customers: last purchase within %.1f days, %.2f purchase days, "
           "net revenue %s.",
           buf, mean_r, mean_f, m);
  pd__report_note(r, note);
  pd__report_kpis_begin(r);
  pd__report_fmt(r, (double)count[0], PD_VALUE_INTEGER, buf, sizeof buf);
  pd__report_fmt(r, total_rev != 0 ? revenue[0] / total_rev : NAN, PD_VALUE_PERCENT, m, sizeof m);
  snprintf(note, sizeof note, "bring %s of revenue", m);
  pd__report_kpi(r, "Important value customers", buf, note);
  pd__report_fmt(r, (double)(count[2] + count[3]), PD_VALUE_INTEGER, buf, sizeof buf);
  pd__report_kpi(r, "High spenders gone quiet", buf, "important keep + win back");
  pd__report_kpis_end(r);
  pd_chart_spec s = PD_CHART_SPEC_INIT;
  s.kind = PD_CHART_HBAR;
  s.title = "Customers by RFM layer";
  s.subtitle = "beside each layer: its share of net revenue";
  s.value_cols = "customers";
  s.y_title = "customers (count)";
  pd_table *with_note = NULL;
  /* the note column must be text: format the revenue share */
  pd_table *t2 = pd__table_new("rfm layers");
  size_t a = pd__table_add_col(t2, "layer", PD_TYPE_STRING), b = pd__table_add_col(t2, "customers", PD_TYPE_INT64),
         c = pd__table_add_col(t2, "revenue share", PD_TYPE_STRING);
  for (int k = 0; k < 8; k++) {
    size_t row = pd__table_add_row(t2);
    pd__table_set_string(t2, row, a, layers[k].name);
    pd__table_set_int64(t2, row, b, count[k]);
    pd__report_fmt(r, total_rev != 0 ? revenue[k] / total_rev : NAN, PD_VALUE_PERCENT, buf, sizeof buf);
    pd__table_set_string(t2, row, c, buf);
  }
  if ((st = pd__table_finish(t2, &with_note)) == PD_OK) {
    s.note_col = "revenue share";
    pd__report_chart(r, with_note, &s);
    pd_table_free(with_note);
  }
  pd__report_table(r, lt, "revenue", "share of customers,share of revenue", 0);
  pd_table_free(lt);
  return st;
}
