/* Report section "referral": K-factor and its parts, the depth histogram
 * with the platform's compliance cap (levels beyond it in red), the
 * largest referral tree, top referrers and the acquisition cost referral
 * saves. Uses only the referral API (referral.h). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "report_internal.h"

static double metric(const pd_referral *ref, const char *name) {
  double v = NAN;
  if (pd_referral_metric(ref, name, &v) != PD_OK) return NAN;
  return v;
}

pd_status pd__report_referral(pd__report *r) {
  pd_referral_options o = PD_REFERRAL_OPTIONS_INIT;
  o.threads = r->o.threads;
  o.max_depth = r->o.referral_cap;
  o.tz = r->o.tz;
  o.period = r->o.period;
  o.top_n = 10;
  o.tree_nodes = 300;
  pd_referral *ref = NULL;
  pd_status st = pd_referral_run(r->store, &o, &ref);
  if (st != PD_OK) return st;
  char buf[64], note[160];
  double beyond = metric(ref, "beyond_cap_users");
  pd__report_kpis_begin(r);
  pd__report_fmt(r, metric(ref, "k"), PD_VALUE_PLAIN, buf, sizeof buf);
  snprintf(note, sizeof note, "referred users per user (i \xC3\x97 c)");
  pd__report_kpi(r, "K-factor", buf, note);
  pd__report_fmt(r, metric(ref, "i"), PD_VALUE_PLAIN, buf, sizeof buf);
  pd__report_kpi(r, "Invites per user (i)", buf, NULL);
  pd__report_fmt(r, metric(ref, "c"), PD_VALUE_PERCENT, buf, sizeof buf);
  pd__report_kpi(r, "Invite conversion (c)", buf, NULL);
  pd__report_fmt(r, metric(ref, "referred"), PD_VALUE_INTEGER, buf, sizeof buf);
  pd__report_kpi(r, "Referred users", buf, NULL);
  pd__report_fmt(r, metric(ref, "max_depth"), PD_VALUE_INTEGER, buf, sizeof buf);
  snprintf(note, sizeof note, "compliance cap: %d levels", r->o.referral_cap);
  pd__report_kpi(r, "Deepest referral level", buf, note);
  pd__report_fmt(r, beyond, PD_VALUE_INTEGER, buf, sizeof buf);
  pd__report_kpi(r, "Users beyond the cap", buf, beyond > 0 ? "review: platform rules forbid these chains" : "none");
  double paid = metric(ref, "cac_paid"), with = metric(ref, "cac_with_referral");
  if (isfinite(paid) && isfinite(with)) {
    pd__report_fmt(r, with, PD_VALUE_CURRENCY, buf, sizeof buf);
    char p[64];
    pd__report_fmt(r, paid, PD_VALUE_CURRENCY, p, sizeof p);
    snprintf(note, sizeof note, "%s counting paid users only", p);
    pd__report_kpi(r, "CAC with referral", buf, note);
  }
  pd__report_kpis_end(r);

  pd_table *depth = NULL, *tree = NULL, *top = NULL, *cost = NULL;
  if ((st = pd_referral_table(ref, PD_REFERRAL_DEPTH, &depth)) == PD_OK) {
    pd_chart_spec s = PD_CHART_SPEC_INIT;
    s.kind = PD_CHART_BAR;
    s.title = "Users by referral depth";
    snprintf(note, sizeof note, "depth 0: users nobody referred; deeper than %d levels breaks the platform's rules",
             r->o.referral_cap);
    s.subtitle = note;
    s.label_col = "depth";
    s.value_cols = "users";
    s.highlight_col = "beyond_cap";
    s.highlight_label = "beyond the compliance cap";
    s.x_title = "referral depth (levels below the root)";
    s.y_title = "users (count)";
    s.height = 340;
    pd__report_chart(r, depth, &s);
    pd__buf_puts(r->b, "<details><summary>Depth table</summary>");
    pd__report_table(r, depth, "revenue", NULL, 0);
    pd__buf_puts(r->b, "</details>");
  }
  if (st == PD_OK && (st = pd_referral_table(ref, PD_REFERRAL_LARGEST_TREE, &tree)) == PD_OK) {
    pd_chart_spec s = PD_CHART_SPEC_INIT;
    s.kind = PD_CHART_TREE;
    s.title = "The largest referral tree";
    s.has_ref = 1;
    s.ref_value = r->o.referral_cap;
    snprintf(note, sizeof note, "compliance cap: depth %d", r->o.referral_cap);
    s.ref_label = note;
    s.max_items = 300;
    pd__report_chart(r, tree, &s);
  }
  if (st == PD_OK && (st = pd_referral_table(ref, PD_REFERRAL_TOP, &top)) == PD_OK) {
    pd__buf_puts(r->b, "<h3 class=\"pd-stage\">Top referrers</h3>");
    pd__report_table(r, top, "descendants_revenue", NULL, 10);
  }
  if (st == PD_OK && (st = pd_referral_table(ref, PD_REFERRAL_COST, &cost)) == PD_OK) {
    pd__buf_puts(r->b, "<h3 class=\"pd-stage\">Acquisition cost saved by referral</h3>");
    pd__report_table(r, cost, "spend,cac_paid,cac_with_referral", "saving", 0);
  }
  pd_table_free(depth);
  pd_table_free(tree);
  pd_table_free(top);
  pd_table_free(cost);
  pd_referral_free(ref);
  return st;
}
