/* Report section "funnel": the main growth funnel (acquire -> activate ->
 * first purchase -> repeat purchase within 30 days, each event filling at
 * most one step), drawn with drop-offs, and its conversion by acquisition
 * domain. Uses only the funnel API (funnel.h). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "report_internal.h"

#define WINDOW_DAYS 30

static const struct {
  uint32_t type;
  const char *label;
} steps[] = {
    {PD_EV_ACQUIRE, "Acquired \xE8\x8E\xB7\xE5\xAE\xA2"},             /* 获客 */
    {PD_EV_ACTIVATE, "Activated \xE6\xBF\x80\xE6\xB4\xBB"},           /* 激活 */
    {PD_EV_PURCHASE, "First purchase \xE9\xA6\x96\xE5\x8D\x95"},      /* 首单 */
    {PD_EV_PURCHASE, "Repeat purchase \xE5\xA4\x8D\xE8\xB4\xAD"},     /* 复购 */
};
#define N_STEPS (sizeof steps / sizeof steps[0])

/* "45 s", "12 min", "3.2 h", "2.1 d" */
void pd__report_duration(double ms, char *buf, size_t size) {
  if (!isfinite(ms)) snprintf(buf, size, "\xE2\x80\x93");
  else if (ms < 60e3) snprintf(buf, size, "%.0f s", ms / 1e3);
  else if (ms < 3600e3) snprintf(buf, size, "%.0f min", ms / 60e3);
  else if (ms < 86400e3) snprintf(buf, size, "%.1f h", ms / 3600e3);
  else snprintf(buf, size, "%.1f d", ms / 86400e3);
}

static pd_status build_spec(pd__report *r, pd_funnel_by by, pd_funnel_spec **out) {
  pd_funnel_spec *spec;
  pd_status st = pd_funnel_spec_new(&spec);
  if (st != PD_OK) return st;
  for (size_t i = 0; i < N_STEPS && st == PD_OK; i++) {
    pd_funnel_pred p = PD_FUNNEL_PRED_INIT;
    p.event_type = steps[i].type;
    st = pd_funnel_spec_add_step(spec, &p, steps[i].label);
  }
  if (st == PD_OK) st = pd_funnel_spec_set_window(spec, WINDOW_DAYS * PD_MS_DAY);
  if (st == PD_OK) st = pd_funnel_spec_set_mode(spec, PD_FUNNEL_STRICT_ONCE);
  if (st == PD_OK && by != PD_FUNNEL_BY_NONE) st = pd_funnel_spec_set_breakdown(spec, by, r->o.period, r->o.tz);
  if (st != PD_OK) {
    pd_funnel_spec_free(spec);
    return st;
  }
  *out = spec;
  return PD_OK;
}

static pd_status run(pd__report *r, pd_funnel_by by, pd_table **out) {
  pd_funnel_spec *spec;
  pd_status st = build_spec(r, by, &spec);
  if (st != PD_OK) return st;
  pd_scan_options so = PD_SCAN_OPTIONS_INIT;
  so.threads = r->o.threads;
  st = pd_funnel_run(r->store, spec, &so, out);
  pd_funnel_spec_free(spec);
  return st;
}

static double num(const pd_table *t, size_t row, const char *col) {
  long c = pd_table_col_index(t, col);
  if (c < 0 || pd_table_is_null(t, row, (size_t)c)) return NAN;
  if (pd_table_col_type(t, (size_t)c) == PD_TYPE_INT64) return (double)pd_table_get_int64(t, row, (size_t)c);
  return pd_table_get_double(t, row, (size_t)c);
}

pd_status pd__report_funnel(pd__report *r) {
  pd_table *f = NULL, *by = NULL;
  pd_status st = run(r, PD_FUNNEL_BY_NONE, &f);
  if (st != PD_OK) return st;
  size_t n = pd_table_n_rows(f);
  char buf[96], note[160];
  /* headline: overall conversion and the worst step */
  double first = n ? num(f, 0, "users") : NAN, last = n ? num(f, n - 1, "users") : NAN;
  size_t worst = 0;
  double worst_rate = -1;
  for (size_t i = 1; i < n; i++) {
    double d = num(f, i, "dropoff_rate");
    if (isfinite(d) && d > worst_rate) worst_rate = d, worst = i;
  }
  pd__report_kpis_begin(r);
  pd__report_fmt(r, first, PD_VALUE_INTEGER, buf, sizeof buf);
  pd__report_kpi(r, "Entered the funnel", buf, "users with an acquire event");
  pd__report_fmt(r, first > 0 ? last / first : NAN, PD_VALUE_PERCENT, buf, sizeof buf);
  pd__report_kpi(r, "Acquired \xE2\x86\x92 repeat purchase", buf, "share of those who entered");
  if (worst > 0) {
    long name = pd_table_col_index(f, "step_name");
    pd__report_fmt(r, worst_rate, PD_VALUE_PERCENT, buf, sizeof buf);
    snprintf(note, sizeof note, "drop off before \"%s\"", name >= 0 ? pd_table_get_string(f, worst, (size_t)name) : "?");
    pd__report_kpi(r, "Largest drop-off", buf, note);
  }
  pd__report_kpis_end(r);

  pd_chart_spec spec = PD_CHART_SPEC_INIT;
  spec.kind = PD_CHART_FUNNEL;
  spec.title = "Main funnel";
  snprintf(note, sizeof note, "each step within %d days of the acquire event; one event fills one step", WINDOW_DAYS);
  spec.subtitle = note;
  spec.label_col = "step_name";
  spec.value_cols = "users";
  spec.x_title = "step";
  spec.y_title = "users (count)";
  pd__report_chart(r, f, &spec);

  /* a readable table: times as durations */
  pd_table *t = pd__table_new("funnel steps");
  size_t c_step = pd__table_add_col(t, "step", PD_TYPE_STRING);
  size_t c_users = pd__table_add_col(t, "users", PD_TYPE_INT64);
  size_t c_prev = pd__table_add_col(t, "from previous", PD_TYPE_DOUBLE);
  size_t c_first = pd__table_add_col(t, "from first", PD_TYPE_DOUBLE);
  size_t c_drop = pd__table_add_col(t, "drop-off", PD_TYPE_INT64);
  size_t c_med = pd__table_add_col(t, "median time from previous", PD_TYPE_STRING);
  size_t c_p90 = pd__table_add_col(t, "p90 time", PD_TYPE_STRING);
  long name = pd_table_col_index(f, "step_name");
  for (size_t i = 0; i < n; i++) {
    size_t row = pd__table_add_row(t);
    if (name >= 0) pd__table_set_string(t, row, c_step, pd_table_get_string(f, i, (size_t)name));
    double v;
    if (isfinite(v = num(f, i, "users"))) pd__table_set_int64(t, row, c_users, (int64_t)v);
    if (isfinite(v = num(f, i, "conv_prev"))) pd__table_set_double(t, row, c_prev, v);
    if (isfinite(v = num(f, i, "conv_first"))) pd__table_set_double(t, row, c_first, v);
    if (isfinite(v = num(f, i, "dropoff"))) pd__table_set_int64(t, row, c_drop, (int64_t)v);
    if (i > 0) {
      pd__report_duration(num(f, i, "time_median_ms"), buf, sizeof buf);
      pd__table_set_string(t, row, c_med, buf);
      pd__report_duration(num(f, i, "time_p90_ms"), buf, sizeof buf);
      pd__table_set_string(t, row, c_p90, buf);
    }
  }
  pd_table *steps_table = NULL;
  if ((st = pd__table_finish(t, &steps_table)) == PD_OK) {
    pd__report_table(r, steps_table, NULL, "from previous,from first", 0);
    pd_table_free(steps_table);
  }
  pd_table_free(f);
  if (st != PD_OK) return st;

  /* conversion by acquisition domain */
  if ((st = run(r, PD_FUNNEL_BY_ACQ_DOMAIN, &by)) != PD_OK) return st;
  pd_chart_spec g = PD_CHART_SPEC_INIT;
  g.kind = PD_CHART_GROUPED_BAR;
  g.title = "Reach of each step by acquisition domain";
  g.subtitle = "share of the group's users who entered the funnel";
  g.label_col = "step_name";
  g.series_col = "group";
  g.value_cols = "conv_first";
  g.format = PD_VALUE_PERCENT;
  g.decimals = 0;
  g.x_title = "step";
  g.y_title = "reached the step (% of entered)";
  pd__report_chart(r, by, &g);
  pd_table_free(by);
  return PD_OK;
}
