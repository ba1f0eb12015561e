/* Report sections "retention" (cohort retention heat map, cohort revenue
 * curves) and "lifecycle" (the pool's new / returning / resurrecting /
 * dormant users per period). Uses only the retention and lifecycle API
 * (retention.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report_internal.h"

#define MAX_CURVES 8 /* cohort revenue curves drawn besides the average */

/* Most cohorts and periods k the heat map shows, by period. */
static size_t max_cohorts(const pd__report *r) { return r->o.period == PD_PERIOD_DAY ? 30 : r->o.period == PD_PERIOD_MONTH ? 24 : 26; }
static unsigned max_k(const pd__report *r) { return r->o.period == PD_PERIOD_DAY ? 15 : r->o.period == PD_PERIOD_MONTH ? 12 : 13; }

static double num(const pd_table *t, size_t row, long c) {
  if (c < 0 || pd_table_is_null(t, row, (size_t)c)) return NAN;
  if (pd_table_col_type(t, (size_t)c) == PD_TYPE_INT64) return (double)pd_table_get_int64(t, row, (size_t)c);
  return pd_table_get_double(t, row, (size_t)c);
}

/* The average table's row of period k, or -1. */
static long average_row(const pd_table *avg, int64_t k) {
  long ck = pd_table_col_index(avg, "k");
  for (size_t i = 0; ck >= 0 && i < pd_table_n_rows(avg); i++)
    if (!pd_table_is_null(avg, i, (size_t)ck) && pd_table_get_int64(avg, i, (size_t)ck) == k) return (long)i;
  return -1;
}

/* The distinct cohorts of the long table (in table order = time order). */
typedef struct cohort_ref {
  const char *label;
  int64_t users;
  size_t observable; /* periods k with a non-null rate */
} cohort_ref;

static size_t list_cohorts(const pd_table *lt, cohort_ref *out, size_t cap) {
  long cc = pd_table_col_index(lt, "cohort"), cu = pd_table_col_index(lt, "cohort_users"),
       cr = pd_table_col_index(lt, "rate");
  size_t n = 0;
  for (size_t i = 0; cc >= 0 && i < pd_table_n_rows(lt); i++) {
    const char *c = pd_table_get_string(lt, i, (size_t)cc);
    if (!c) continue;
    if (n == 0 || strcmp(out[n - 1].label, c) != 0) {
      if (n == cap) break;
      out[n].label = c;
      out[n].users = cu >= 0 ? (int64_t)num(lt, i, cu) : 0;
      out[n].observable = 0;
      n++;
    }
    if (cr >= 0 && !pd_table_is_null(lt, i, (size_t)cr)) out[n - 1].observable++;
  }
  return n;
}

static bool chosen(const cohort_ref *sel, size_t n, const char *label) {
  for (size_t i = 0; i < n; i++)
    if (strcmp(sel[i].label, label) == 0) return true;
  return false;
}

pd_status pd__report_retention(pd__report *r) {
  pd_retention_options o = PD_RETENTION_OPTIONS_INIT;
  o.period = r->o.period;
  o.tz = r->o.tz;
  o.complete_only = 1; /* the partial last period would read as a dip */
  o.n_periods = max_k(r);
  pd_scan_options so = PD_SCAN_OPTIONS_INIT;
  so.threads = r->o.threads;
  pd_table *lt = NULL, *avg = NULL, *heat = NULL, *curves = NULL;
  cohort_ref *all = NULL;
  pd_status st = pd_retention_run(r->store, &o, &so, &lt, NULL, &avg);
  if (st != PD_OK) return st;
  const char *pname = pd__report_period_name(r);
  char buf[64], note[256], title[128], xt[128];
  size_t n_rows = pd_table_n_rows(lt);
  if (!(all = malloc((n_rows + 1) * sizeof *all))) {
    st = pd__error(PD_ERR_NOMEM, "report: out of memory");
    goto done;
  }
  size_t n_all = list_cohorts(lt, all, n_rows + 1);
  if (n_all == 0) {
    pd__report_note(r, "No acquisition cohorts yet: retention counts users from their acquire event.");
    goto done;
  }

  /* headline: weighted average retention in periods 1 and 4, revenue per user */
  pd__report_kpis_begin(r);
  int64_t total_users = 0;
  for (size_t i = 0; i < n_all; i++) total_users += all[i].users;
  pd__report_fmt(r, (double)total_users, PD_VALUE_INTEGER, buf, sizeof buf);
  snprintf(note, sizeof note, "in %zu %s cohorts", n_all, pname);
  pd__report_kpi(r, "Acquired users", buf, note);
  long c_rate = pd_table_col_index(avg, "rate"), c_cum = pd_table_col_index(avg, "cum_revenue_per_user"),
       c_coh = pd_table_col_index(avg, "cohorts");
  static const int64_t ks[] = {1, 4};
  for (size_t i = 0; i < sizeof ks / sizeof ks[0]; i++) {
    long row = average_row(avg, ks[i]);
    if (row < 0) continue;
    pd__report_fmt(r, num(avg, (size_t)row, c_rate), PD_VALUE_PERCENT, buf, sizeof buf);
    char label[64];
    snprintf(label, sizeof label, "Back in %s %lld", pname, (long long)ks[i]);
    snprintf(note, sizeof note, "average over %.0f cohorts, weighted by size", num(avg, (size_t)row, c_coh));
    pd__report_kpi(r, label, buf, note);
  }
  /* the revenue per user of the latest k that at least a third of the cohorts reach */
  long best = -1;
  for (size_t i = 0; i < pd_table_n_rows(avg); i++)
    if (num(avg, i, c_coh) * 3 >= (double)n_all && isfinite(num(avg, i, c_cum))) best = (long)i;
  if (best >= 0) {
    long c_k = pd_table_col_index(avg, "k");
    double k = num(avg, (size_t)best, c_k);
    pd__report_fmt(r, num(avg, (size_t)best, c_cum), PD_VALUE_CURRENCY, buf, sizeof buf);
    snprintf(title, sizeof title, "Revenue per user by %s %.0f", pname, k);
    pd__report_kpi(r, title, buf, "cumulative, net of refunds");
  }
  pd__report_kpis_end(r);

  /* heat map: the latest cohorts (rows) x k */
  size_t first = n_all > max_cohorts(r) ? n_all - max_cohorts(r) : 0;
  pd_table *h = pd__table_new("retention");
  size_t h_c = pd__table_add_col(h, "cohort", PD_TYPE_STRING);
  size_t h_u = pd__table_add_col(h, "users", PD_TYPE_STRING);
  size_t h_k = pd__table_add_col(h, "k", PD_TYPE_STRING);
  size_t h_r = pd__table_add_col(h, "rate", PD_TYPE_DOUBLE);
  long cc = pd_table_col_index(lt, "cohort"), ck = pd_table_col_index(lt, "k"), cr = pd_table_col_index(lt, "rate"),
       cv = pd_table_col_index(lt, "cum_revenue_per_user");
  for (size_t i = 0; i < n_rows; i++) {
    const char *c = pd_table_get_string(lt, i, (size_t)cc);
    if (!c || !chosen(all + first, n_all - first, c)) continue;
    size_t row = pd__table_add_row(h);
    pd__table_set_string(h, row, h_c, c);
    for (size_t j = first; j < n_all; j++)
      if (strcmp(all[j].label, c) == 0) {
        pd__report_fmt(r, (double)all[j].users, PD_VALUE_INTEGER, buf, sizeof buf);
        pd__table_set_string(h, row, h_u, buf);
      }
    snprintf(buf, sizeof buf, "%lld", (long long)pd_table_get_int64(lt, i, (size_t)ck));
    pd__table_set_string(h, row, h_k, buf);
    if (!pd_table_is_null(lt, i, (size_t)cr)) pd__table_set_double(h, row, h_r, pd_table_get_double(lt, i, (size_t)cr));
  }
  if ((st = pd__table_finish(h, &heat)) != PD_OK) goto done;
  pd_chart_spec hs = PD_CHART_SPEC_INIT;
  hs.kind = PD_CHART_HEATMAP;
  snprintf(title, sizeof title, "Retention by acquisition %s", pname);
  hs.title = title;
  snprintf(note, sizeof note, "share of each cohort active again in %s k after acquisition (%s 0: the cohort's own %s); "
                              "blank: not over yet", pname, pname, pname);
  hs.subtitle = note;
  hs.label_col = "cohort";
  hs.series_col = "k";
  hs.value_cols = "rate";
  hs.note_col = "users";
  hs.format = PD_VALUE_PERCENT;
  hs.decimals = 0;
  snprintf(xt, sizeof xt, "cohort (%s acquired, users)", pname);
  hs.x_title = xt;
  char yt[96];
  snprintf(yt, sizeof yt, "%ss since acquisition (k)", pname);
  hs.y_title = yt;
  hs.max_items = max_cohorts(r);
  pd__report_chart(r, heat, &hs);
  if (first > 0) {
    snprintf(note, sizeof note, "The latest %zu of %zu cohorts.", n_all - first, n_all);
    pd__report_note(r, note);
  }

  /* revenue curves: the weighted average and up to MAX_CURVES cohorts spread
   * over time (older cohorts have the longer curves) */
  cohort_ref sel[MAX_CURVES];
  size_t n_sel = 0, n_obs = 0;
  for (size_t i = 0; i < n_all; i++) n_obs += all[i].observable >= 2;
  for (size_t i = 0, seen = 0; i < n_all; i++) {
    if (all[i].observable < 2) continue;
    /* the observable cohorts at ranks round(j * (n_obs - 1) / (MAX_CURVES - 1)) */
    size_t want = n_obs <= MAX_CURVES ? seen : (n_sel * (n_obs - 1) + (MAX_CURVES - 1) / 2) / (MAX_CURVES - 1);
    if (seen == want && n_sel < MAX_CURVES) sel[n_sel++] = all[i];
    seen++;
  }
  pd_table *cv_t = pd__table_new("cohort revenue");
  size_t v_k = pd__table_add_col(cv_t, "k", PD_TYPE_STRING);
  size_t v_s = pd__table_add_col(cv_t, "cohort", PD_TYPE_STRING);
  size_t v_v = pd__table_add_col(cv_t, "revenue per user", PD_TYPE_DOUBLE);
  long ak = pd_table_col_index(avg, "k");
  for (size_t i = 0; i < pd_table_n_rows(avg); i++) {
    size_t row = pd__table_add_row(cv_t);
    snprintf(buf, sizeof buf, "%lld", (long long)num(avg, i, ak));
    pd__table_set_string(cv_t, row, v_k, buf);
    pd__table_set_string(cv_t, row, v_s, "all cohorts (average)");
    double v = num(avg, i, c_cum);
    if (isfinite(v)) pd__table_set_double(cv_t, row, v_v, v);
  }
  for (size_t i = 0; i < n_rows; i++) {
    const char *c = pd_table_get_string(lt, i, (size_t)cc);
    if (!c || !chosen(sel, n_sel, c)) continue;
    size_t row = pd__table_add_row(cv_t);
    snprintf(buf, sizeof buf, "%lld", (long long)pd_table_get_int64(lt, i, (size_t)ck));
    pd__table_set_string(cv_t, row, v_k, buf);
    pd__table_set_string(cv_t, row, v_s, c);
    if (!pd_table_is_null(lt, i, (size_t)cv)) pd__table_set_double(cv_t, row, v_v, pd_table_get_double(lt, i, (size_t)cv));
  }
  if ((st = pd__table_finish(cv_t, &curves)) != PD_OK) goto done;
  pd_chart_spec cs = PD_CHART_SPEC_INIT;
  cs.kind = PD_CHART_LINE;
  snprintf(title, sizeof title, "Cumulative revenue per acquired user, by %s cohort", pname);
  cs.title = title;
  snprintf(note, sizeof note, "net revenue since acquisition divided by the cohort's users (historical LTV); "
                              "%zu of %zu cohorts and their weighted average", n_sel, n_all);
  cs.subtitle = note;
  cs.label_col = "k";
  cs.series_col = "cohort";
  cs.value_cols = "revenue per user";
  cs.format = PD_VALUE_CURRENCY;
  cs.decimals = 0;
  cs.x_title = yt;
  snprintf(xt, sizeof xt, "cumulative revenue per user (%s)", r->o.currency_symbol);
  cs.y_title = xt;
  pd__report_chart(r, curves, &cs);

  pd__buf_puts(r->b, "<details><summary>Average over cohorts</summary>");
  pd__report_table(r, avg, "revenue,cum_revenue_per_user", "rate", 0);
  pd__buf_puts(r->b, "</details>");
  pd__report_note(r, "A cohort is the users whose acquire event falls in one period; a user is back in period k when "
                     "any later event falls in it. Revenue is purchases minus refunds.");
done:
  free(all);
  pd_table_free(lt);
  pd_table_free(avg);
  pd_table_free(heat);
  pd_table_free(curves);
  return st;
}

/* ---- lifecycle ------------------------------------------------------------ */

pd_status pd__report_lifecycle(pd__report *r) {
  pd_lifecycle_options o = PD_LIFECYCLE_OPTIONS_INIT;
  o.period = r->o.period;
  o.tz = r->o.tz;
  pd_scan_options so = PD_SCAN_OPTIONS_INIT;
  so.threads = r->o.threads;
  pd_table *t = NULL, *info = NULL, *shown = NULL, *figures = NULL;
  pd_status st = pd_lifecycle_run(r->store, &o, &so, &t);
  if (st != PD_OK) return st;
  size_t n = pd_table_n_rows(t);
  const char *pname = pd__report_period_name(r);
  char buf[64], note[256], title[128];
  if (n == 0) {
    pd__report_note(r, "No active users yet.");
    pd_table_free(t);
    return PD_OK;
  }
  /* the last period is partial unless the data reaches its last day (for
   * days: its last hour) */
  if ((st = pd_store_info(r->store, &info)) != PD_OK) goto done;
  int64_t last_ms = pd__report_lookup(info, "key", "time_max_ms", "value");
  long c_start = pd_table_col_index(t, "period_start");
  bool partial = false;
  if (n > 1 && c_start >= 0) {
    int64_t p = pd__period_index(r->tz, r->o.period, pd_table_get_int64(t, n - 1, (size_t)c_start));
    int64_t slack = r->o.period == PD_PERIOD_DAY ? PD_MS_PER_DAY / 24 : PD_MS_PER_DAY;
    partial = pd__period_start_utc(r->tz, r->o.period, p + 1) - last_ms > slack;
  }
  size_t latest = partial ? n - 2 : n - 1;
  static const struct {
    const char *col, *label, *note;
  } figs[] = {
      {"active", "Active users", NULL},
      {"new", "New", "first active this period"},
      {"returning", "Returning", "also active the period before"},
      {"resurrecting", "Resurrecting", "back after a gap"},
      {"dormant", "Gone dormant", "active the period before, not now"},
  };
  char plabel[32] = "";
  long c_p = pd_table_col_index(t, "period");
  if (c_p >= 0 && pd_table_get_string(t, latest, (size_t)c_p))
    snprintf(plabel, sizeof plabel, "%s", pd_table_get_string(t, latest, (size_t)c_p));
  snprintf(note, sizeof note, "%c%s %s (%s)%s.", pname[0] - 'a' + 'A', pname + 1, plabel, pd__tz_name(r->tz),
           partial ? ", the latest complete one" : "");
  pd__report_note(r, note);
  pd__report_kpis_begin(r);
  double v[5];
  for (size_t i = 0; i < 5; i++) {
    v[i] = num(t, latest, pd_table_col_index(t, figs[i].col));
    pd__report_fmt(r, v[i], PD_VALUE_INTEGER, buf, sizeof buf);
    pd__report_kpi(r, figs[i].label, buf, figs[i].note);
  }
  /* growth accounting's quick ratio: users gained per user lost */
  pd__report_fmt(r, v[4] > 0 ? (v[1] + v[3]) / v[4] : NAN, PD_VALUE_PLAIN, buf, sizeof buf);
  pd__report_kpi(r, "Quick ratio", buf, "(new + resurrecting) / dormant; above 1 the pool grows");
  pd__report_kpis_end(r);

  /* the chart leaves out the partial last period, whose "dormant" is mostly
   * users who have not come back yet */
  pd_table *c = pd__table_new("lifecycle");
  size_t k_p = pd__table_add_col(c, pname, PD_TYPE_STRING);
  static const char *const cols[] = {"new", "returning", "resurrecting", "dormant_neg"};
  static const char *const names[] = {"new", "returning", "resurrecting", "gone dormant"};
  size_t k_v[4];
  for (size_t j = 0; j < 4; j++) k_v[j] = pd__table_add_col(c, names[j], PD_TYPE_INT64);
  for (size_t i = 0; i <= latest; i++) {
    size_t row = pd__table_add_row(c);
    if (c_p >= 0 && pd_table_get_string(t, i, (size_t)c_p)) pd__table_set_string(c, row, k_p, pd_table_get_string(t, i, (size_t)c_p));
    for (size_t j = 0; j < 4; j++) {
      double x = num(t, i, pd_table_col_index(t, cols[j]));
      if (isfinite(x)) pd__table_set_int64(c, row, k_v[j], (int64_t)x);
    }
  }
  if ((st = pd__table_finish(c, &shown)) != PD_OK) goto done;
  pd_chart_spec s = PD_CHART_SPEC_INIT;
  s.kind = PD_CHART_STACKED_BAR;
  snprintf(title, sizeof title, "Users by lifecycle state per %s", pname);
  s.title = title;
  s.subtitle = partial ? "active = new + returning + resurrecting (up); gone dormant drawn below the axis; "
                         "the partial last period is left out"
                       : "active = new + returning + resurrecting (up); gone dormant drawn below the axis";
  s.label_col = pname;
  s.value_cols = "new,returning,resurrecting,gone dormant";
  char xt[96];
  snprintf(xt, sizeof xt, "%s (%s)", pname, pd__tz_name(r->tz));
  s.x_title = xt;
  s.y_title = "users (count)";
  s.format = PD_VALUE_INTEGER;
  s.max_items = 1000;
  pd__report_chart(r, shown, &s);
  /* the figures, every period (the partial one too), as people read them */
  pd_table *f = pd__table_new("lifecycle figures");
  static const char *const fcols[] = {"active", "new", "returning", "resurrecting", "dormant"};
  size_t f_p = pd__table_add_col(f, pname, PD_TYPE_STRING), f_v[5];
  for (size_t j = 0; j < 5; j++) f_v[j] = pd__table_add_col(f, j == 4 ? "gone dormant" : fcols[j], PD_TYPE_INT64);
  for (size_t i = 0; i < n; i++) {
    size_t row = pd__table_add_row(f);
    if (c_p >= 0 && pd_table_get_string(t, i, (size_t)c_p))
      pd__table_set_string(f, row, f_p, pd_table_get_string(t, i, (size_t)c_p));
    for (size_t j = 0; j < 5; j++) {
      double x = num(t, i, pd_table_col_index(t, fcols[j]));
      if (isfinite(x)) pd__table_set_int64(f, row, f_v[j], (int64_t)x);
    }
  }
  if ((st = pd__table_finish(f, &figures)) != PD_OK) goto done;
  pd__buf_puts(r->b, "<details><summary>Figures per period</summary>");
  pd__report_table(r, figures, NULL, NULL, 0);
  pd__buf_puts(r->b, "</details>");
done:
  pd_table_free(t);
  pd_table_free(info);
  pd_table_free(shown);
  pd_table_free(figures);
  return st;
}
