/* Report section "rfm": the eight classic RFM layers. Each paying customer
 * is high or low on recency (days since the last purchase at most the
 * mean), frequency (purchase days at least the mean) and monetary value
 * (net revenue at least the mean): pd_rfm_layers_from_summary()
 * (rfm_layers.h) over pd_rfm_from_store() (rfm.h): R = T - recency,
 * F = frequency + 1, M = revenue. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report_internal.h"

static double get(const pd_table *t, size_t row, const char *col) {
  long c = pd_table_col_index(t, col);
  if (c < 0 || pd_table_is_null(t, row, (size_t)c)) return NAN;
  if (pd_table_col_type(t, (size_t)c) == PD_TYPE_INT64) return (double)pd_table_get_int64(t, row, (size_t)c);
  return pd_table_get_double(t, row, (size_t)c);
}

pd_status pd__report_rfm(pd__report *r) {
  pd_rfm_options ro = PD_RFM_OPTIONS_INIT;
  ro.tz = r->o.tz;
  ro.threads = r->o.threads;
  pd_table *rfm = NULL, *ly = NULL, *th = NULL;
  pd_status st = pd_rfm_from_store(r->store, &ro, &rfm);
  if (st == PD_OK) st = pd_rfm_layers_from_summary(rfm, NULL, NULL, &ly, &th);
  pd_table_free(rfm);
  if (st != PD_OK) return st;
  int64_t count[8], used = 0;
  double revenue[8], lay_r[8], lay_f[8], total_rev = 0;
  char name[8][96];
  for (size_t k = 0; k < 8; k++) {
    count[k] = (int64_t)get(ly, k, "users");
    revenue[k] = get(ly, k, "revenue");
    lay_r[k] = get(ly, k, "mean_recency");
    lay_f[k] = get(ly, k, "mean_frequency");
    snprintf(name[k], sizeof name[k], "%s %s", pd_rfm_layer_name_zh((int)k + 1), pd_rfm_layer_name((int)k + 1));
    used += count[k];
    total_rev += revenue[k];
  }
  double mean_r = get(th, 0, "mean"), mean_f = get(th, 1, "mean"), mean_m = get(th, 2, "mean");
  pd_table_free(ly);
  pd_table_free(th);
  if (used == 0) {
    pd__report_note(r, "No paying customers yet.");
    return PD_OK;
  }
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
    pd__table_set_string(t, row, c_name, name[k]);
    pd__table_set_int64(t, row, c_n, count[k]);
    pd__table_set_double(t, row, c_share, (double)count[k] / (double)used);
    pd__table_set_int64(t, row, c_rv, (int64_t)llround(revenue[k]));
    if (total_rev != 0) pd__table_set_double(t, row, c_rs, revenue[k] / total_rev);
    if (count[k]) {
      pd__table_set_double(t, row, c_days, lay_r[k]);
      pd__table_set_double(t, row, c_pf, lay_f[k]);
    }
    pd__table_set_string(t, row, c_act, pd_rfm_layer_action(k + 1));
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
    pd__table_set_string(t2, row, a, name[k]);
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
