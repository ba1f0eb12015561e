/* Report section "stages": the AARRR (or RARRA) stage report of the latest
 * complete period, each headline figure beside its value in the period
 * before, plus new users by acquisition touchpoint and domain. Uses only
 * the stage-report API (stages.h). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "report_internal.h"

/* How a metric's value reads (stages.h lists them). */
static pd_value_format metric_format(const char *m) {
  if (strcmp(m, "revenue") == 0 || strcmp(m, "refunds") == 0 || strcmp(m, "arpu") == 0 || strcmp(m, "arppu") == 0)
    return PD_VALUE_CURRENCY;
  if (strcmp(m, "k_factor") == 0 || strcmp(m, "invites_per_inviter") == 0) return PD_VALUE_PLAIN;
  if (strstr(m, "rate") || strstr(m, "share") || strstr(m, "retention") || strstr(m, "conversion"))
    return PD_VALUE_PERCENT;
  return PD_VALUE_INTEGER;
}

static const char *metric_label(const char *m) {
  static const struct {
    const char *m, *label;
  } labels[] = {
      {"new_users", "New users"},
      {"activation_rate", "Activation rate"},
      {"returning_rate", "Returning active users"},
      {"new_user_retention", "Day-7 retention of new users"},
      {"revenue", "Revenue (gross)"},
      {"paying_users", "Paying users"},
      {"arpu", "ARPU"},
      {"arppu", "ARPPU"},
      {"repeat_purchase_rate", "Repeat purchase rate"},
      {"earlier_cohort_revenue_share", "Revenue from earlier cohorts"},
      {"refunds", "Refunds"},
      {"k_factor", "K-factor"},
      {"inviter_share", "Users who invite"},
      {"invites_per_inviter", "Invites per inviter"},
      {"invite_conversion", "Invite conversion"},
  };
  for (size_t i = 0; i < sizeof labels / sizeof labels[0]; i++)
    if (strcmp(labels[i].m, m) == 0) return labels[i].label;
  return m;
}

/* The latest period whose last day the data reaches, as [from, to) and
 * the period before. false when the store has no events. */
static bool latest_period(pd__report *r, int64_t *from, int64_t *to, int64_t *prev, char *label, size_t size) {
  pd_table *info = NULL;
  if (pd_store_info(r->store, &info) != PD_OK) return false;
  int64_t lo = pd__report_lookup(info, "key", "time_min_ms", "value");
  int64_t hi = pd__report_lookup(info, "key", "time_max_ms", "value");
  bool have = pd__report_lookup(info, "key", "events", "value") > 0;
  pd_table_free(info);
  if (!have) return false;
  int64_t p = pd__period_index(r->tz, r->o.period, hi);
  int64_t first = pd__period_index(r->tz, r->o.period, lo);
  if (p > first && pd__period_start_utc(r->tz, r->o.period, p + 1) - hi > PD_MS_PER_DAY) p--; /* last one partial */
  *from = pd__period_start_utc(r->tz, r->o.period, p);
  *to = pd__period_start_utc(r->tz, r->o.period, p + 1);
  *prev = pd__period_start_utc(r->tz, r->o.period, p - 1);
  pd__period_label(r->o.period, p, label, size);
  return true;
}

static pd_status stage_report(pd__report *r, int64_t from, int64_t to, int64_t prev, pd_table **out) {
  pd_stage_options o = PD_STAGE_OPTIONS_INIT;
  o.from_ms = from;
  o.to_ms = to;
  o.prev_from_ms = prev;
  o.order = r->o.rarra ? PD_STAGES_RARRA : PD_STAGES_AARRR;
  o.threads = r->o.threads;
  return pd_stage_report(r->store, &o, out);
}

/* The value of (metric, breakdown "") in a stage table, NaN if absent or null. */
static double value_of(const pd_table *t, const char *metric) {
  long m = pd_table_col_index(t, "metric"), b = pd_table_col_index(t, "breakdown"), v = pd_table_col_index(t, "value");
  if (!t || m < 0 || b < 0 || v < 0) return NAN;
  for (size_t i = 0; i < pd_table_n_rows(t); i++) {
    const char *mm = pd_table_get_string(t, i, (size_t)m), *bb = pd_table_get_string(t, i, (size_t)b);
    if (mm && strcmp(mm, metric) == 0 && (!bb || !*bb))
      return pd_table_is_null(t, i, (size_t)v) ? NAN : pd_table_get_double(t, i, (size_t)v);
  }
  return NAN;
}

static void change_note(pd__report *r, double now, double before, pd_value_format f, char *buf, size_t size) {
  char b[64];
  pd__report_fmt(r, before, f, b, sizeof b);
  if (!isfinite(now) || !isfinite(before)) {
    snprintf(buf, size, "period before: %s", b);
  } else if (f == PD_VALUE_PERCENT) { /* rates change in points */
    snprintf(buf, size, "%s%.1f pts vs %s", now >= before ? "\xE2\x96\xB2 +" : "\xE2\x96\xBC ", (now - before) * 100, b);
  } else if (before != 0) {
    double rel = (now - before) / fabs(before);
    snprintf(buf, size, "%s%.1f%% vs %s", rel >= 0 ? "\xE2\x96\xB2 +" : "\xE2\x96\xBC ", rel * 100, b);
  } else {
    snprintf(buf, size, "period before: %s", b);
  }
}

pd_status pd__report_stages(pd__report *r) {
  int64_t from, to, prev;
  char plabel[32];
  if (!latest_period(r, &from, &to, &prev, plabel, sizeof plabel)) {
    pd__report_note(r, "No events yet.");
    return PD_OK;
  }
  pd_table *now = NULL, *before = NULL;
  pd_status st = stage_report(r, from, to, prev, &now);
  if (st == PD_OK) st = stage_report(r, prev, from, pd__period_start_utc(r->tz, r->o.period,
                                                                       pd__period_index(r->tz, r->o.period, prev) - 1),
                                     &before);
  if (st != PD_OK) {
    pd_table_free(now);
    return st;
  }
  char text[256];
  snprintf(text, sizeof text, "%s %s (%s), compared with the %s before. Stage order: %s.", pd__report_period_name(r),
           plabel, pd__tz_name(r->tz), pd__report_period_name(r), r->o.rarra ? "RARRA (retention first)" : "AARRR");
  text[0] = (char)(text[0] - 'a' + 'A');
  pd__report_note(r, text);

  /* one tile per stage-level metric, in the report's stage order */
  long c_stage = pd_table_col_index(now, "stage"), c_metric = pd_table_col_index(now, "metric"),
       c_bd = pd_table_col_index(now, "breakdown");
  const char *stage = NULL;
  bool open = false;
  for (size_t i = 0; c_stage >= 0 && c_metric >= 0 && c_bd >= 0 && i < pd_table_n_rows(now); i++) {
    const char *bd = pd_table_get_string(now, i, (size_t)c_bd);
    if (bd && *bd) continue;
    const char *s = pd_table_get_string(now, i, (size_t)c_stage), *m = pd_table_get_string(now, i, (size_t)c_metric);
    if (!s || !m) continue;
    if (!stage || strcmp(stage, s) != 0) { /* a row of tiles per stage */
      if (open) pd__report_kpis_end(r);
      pd__buf_puts(r->b, "<h3 class=\"pd-stage\">");
      pd__buf_printf(r->b, "%c", s[0] >= 'a' && s[0] <= 'z' ? s[0] - 'a' + 'A' : s[0]);
      pd__buf_escape(r->b, s + 1);
      pd__buf_puts(r->b, "</h3>");
      pd__report_kpis_begin(r);
      open = true;
      stage = s;
    }
    pd_value_format f = metric_format(m);
    double v = value_of(now, m), w = value_of(before, m);
    char val[64], note[128];
    pd__report_fmt(r, v, f, val, sizeof val);
    change_note(r, v, w, f, note, sizeof note);
    pd__report_kpi(r, metric_label(m), val, note);
  }
  if (open) pd__report_kpis_end(r);

  /* new users by acquisition touchpoint */
  pd_table *t = pd__table_new("new users by touchpoint");
  size_t c_name = pd__table_add_col(t, "touchpoint", PD_TYPE_STRING);
  size_t c_n = pd__table_add_col(t, "new users", PD_TYPE_INT64);
  pd_table *d = pd__table_new("domain share");
  size_t d_name = pd__table_add_col(d, "domain", PD_TYPE_STRING);
  size_t d_share = pd__table_add_col(d, "share of new users", PD_TYPE_DOUBLE);
  long c_val = pd_table_col_index(now, "value");
  for (size_t i = 0; c_metric >= 0 && c_val >= 0 && i < pd_table_n_rows(now); i++) {
    const char *m = pd_table_get_string(now, i, (size_t)c_metric), *bd = pd_table_get_string(now, i, (size_t)c_bd);
    if (!m || !bd || pd_table_is_null(now, i, (size_t)c_val)) continue;
    double v = pd_table_get_double(now, i, (size_t)c_val);
    if (strcmp(m, "new_users_touchpoint") == 0) {
      size_t row = pd__table_add_row(t);
      pd__table_set_string(t, row, c_name, bd);
      pd__table_set_int64(t, row, c_n, (int64_t)llround(v));
    } else if (strcmp(m, "domain_share") == 0) {
      size_t row = pd__table_add_row(d);
      pd__table_set_string(d, row, d_name, bd);
      pd__table_set_double(d, row, d_share, v);
    }
  }
  pd_table *by_tp = NULL, *by_dom = NULL;
  pd_status s1 = pd__table_finish(t, &by_tp), s2 = pd__table_finish(d, &by_dom);
  if (s1 == PD_OK && s2 == PD_OK && !(value_of(now, "new_users") > 0)) {
    snprintf(text, sizeof text, "No new users were acquired in %s.", plabel);
    pd__report_note(r, text);
  } else if (s1 == PD_OK && s2 == PD_OK) {
    char title[96];
    pd_chart_spec spec = PD_CHART_SPEC_INIT;
    spec.kind = PD_CHART_HBAR;
    snprintf(title, sizeof title, "New users by acquisition touchpoint, %s", plabel);
    spec.title = title;
    spec.value_cols = "new users";
    spec.y_title = "new users (count)";
    pd__report_chart(r, by_tp, &spec);
    pd_chart_spec ds = PD_CHART_SPEC_INIT;
    ds.kind = PD_CHART_BAR;
    snprintf(title, sizeof title, "Where new users were acquired, %s", plabel);
    ds.title = title;
    ds.format = PD_VALUE_PERCENT;
    ds.y_title = "share of new users (%)";
    ds.height = 300;
    pd__report_chart(r, by_dom, &ds);
  }
  pd_table_free(by_tp);
  pd_table_free(by_dom);
  pd_table_free(now);
  pd_table_free(before);
  return s1 != PD_OK ? s1 : s2;
}
