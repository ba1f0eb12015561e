/* The operator's report: one self-contained HTML page.
 *
 * pd_report_write() runs the library's analyses on a store and writes one
 * HTML file with inline CSS and inline SVG charts (chart.h): no scripts, no
 * external fonts, images or links, so it opens offline and can be mailed.
 * Sections, in order: overview, stages (AARRR or RARRA headline figures),
 * activity, funnel (with drop-offs), retention (heat map and cohort revenue
 * curves), lifecycle (new / returning / resurrecting / dormant per period),
 * referral (depth histogram with the compliance cap), touchpoints
 * (scorecard), clv (value distribution, P(alive), dormant users), rfm. A
 * section whose
 * analysis this build does not have is left out; pd_report_section_id()
 * lists the sections this build writes. Each section is an element
 * <section id="ID" class="pd-section">.
 */
#ifndef PRIVDOMAIN_REPORT_H
#define PRIVDOMAIN_REPORT_H

#include "privdomain/common.h"
#include "privdomain/model.h"
#include "privdomain/store.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pd_report_options {
  size_t size;                 /* sizeof(pd_report_options) */
  const char *title;           /* NULL: "Private-domain report" */
  const char *tz;              /* IANA zone for days, weeks, months; NULL: UTC */
  pd_period period;            /* cohort and trend period (default week) */
  const char *currency_symbol; /* NULL: "¥" */
  int rarra;                   /* nonzero: stages in RARRA order (retention
                                  first) instead of AARRR */
  int referral_cap;            /* deepest allowed referral level; 0: 2 */
  const char *sections;        /* comma-separated section ids to write, NULL: all */
  unsigned threads;            /* scan threads, 0: one per core */
} pd_report_options;
#define PD_REPORT_OPTIONS_INIT {sizeof(pd_report_options), NULL, NULL, PD_PERIOD_WEEK, NULL, 0, 0, NULL, 0}

/* Builds the report of `store` as HTML (UTF-8). opts may be NULL.
 * *out_html is owned by the caller, free with pd_free().
 * A section whose analysis fails shows the error in its place (class
 * "pd-error") and the report still succeeds; PD_ERR_INVALID for bad
 * options or an unknown section id, PD_ERR_NOMEM. */
PD_API pd_status pd_report_html(pd_store *store, const pd_report_options *opts, char **out_html);

/* Writes the report of pd_report_html() to `path` (written to a temporary
 * file beside it, then renamed over it). */
PD_API pd_status pd_report_write(pd_store *store, const pd_report_options *opts, const char *path);

/* The id of the i-th section this build can write ("overview", ...), or
 * NULL when i is past the last. Static strings. */
PD_API const char *pd_report_section_id(size_t i);

#ifdef __cplusplus
}
#endif
#endif
