/* The HTML report's framework, shared by its section files (internal).
 *
 * To add a section: write `pd_status pd__report_<id>(pd__report *r)` in a
 * file report_<area>.c that appends HTML to r->b with the helpers below
 * (call the area's public API, draw with pd__report_chart()), declare it
 * here and add one line to the `sections` table in report.c. The framework
 * writes the <section> element, its heading and the navigation; a section
 * that returns an error is shown with its message. */
#ifndef PD_REPORT_INTERNAL_H
#define PD_REPORT_INTERNAL_H

#include "fmt.h"
#include "tz.h"

typedef struct pd__report {
  pd_store *store;
  pd_report_options o; /* normalised: every field set */
  pd__tz *tz;
  pd__buf *b;
} pd__report;

/* ---- helpers ---- */
/* An inline chart; a drawing failure becomes an error note. */
void pd__report_chart(pd__report *r, const pd_table *t, const pd_chart_spec *spec);
/* A table as HTML (at most max_rows rows, 0: all). Columns named in
 * currency_cols (minor units) and percent_cols (ratios), comma-separated,
 * are formatted as such; other numbers get thousands separators. */
void pd__report_table(pd__report *r, const pd_table *t, const char *currency_cols, const char *percent_cols,
                      size_t max_rows);
/* Headline figures: kpis_begin, one kpi per figure, kpis_end. */
void pd__report_kpis_begin(pd__report *r);
void pd__report_kpi(pd__report *r, const char *label, const char *value, const char *note);
void pd__report_kpis_end(pd__report *r);
/* A paragraph of escaped text with class "pd-note". */
void pd__report_note(pd__report *r, const char *text);
/* Formats v as the report shows values of a format (currency symbol of the options). */
void pd__report_fmt(const pd__report *r, double v, pd_value_format f, char *buf, size_t size);
/* A human label of the report's period ("week", "day", "month"). */
const char *pd__report_period_name(const pd__report *r);
/* A row count of info-like tables: the int64 `value` of the row whose
 * string column `key` equals key, or -1. */
/* A duration in ms for people: "45 s", "12 min", "3.2 h", "2.1 d"; NaN "–". */
void pd__report_duration(double ms, char *buf, size_t size);
int64_t pd__report_lookup(const pd_table *t, const char *key_col, const char *key, const char *value_col);

/* ---- sections (one function each) ---- */
pd_status pd__report_overview(pd__report *r);
pd_status pd__report_activity(pd__report *r);
pd_status pd__report_touchpoints(pd__report *r);
pd_status pd__report_funnel(pd__report *r);      /* report_funnel.c */
pd_status pd__report_stages(pd__report *r);      /* report_stages.c */
pd_status pd__report_referral(pd__report *r);    /* report_referral.c */
pd_status pd__report_clv(pd__report *r);         /* report_clv.c */
pd_status pd__report_rfm(pd__report *r);         /* report_rfm.c */
pd_status pd__report_retention(pd__report *r);   /* report_retention.c */
pd_status pd__report_lifecycle(pd__report *r);   /* report_retention.c */

#endif
