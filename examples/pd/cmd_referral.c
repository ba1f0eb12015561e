/* pd referral: the referral ("fission") forest of a store: K-factor and its
 * parts, generations, viral cycle time, depth against the compliance cap,
 * top referrers, acquisition cost saved. Public API only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* The views printed without --view. */
static const pd_referral_view default_views[] = {PD_REFERRAL_SUMMARY, PD_REFERRAL_GROUPS, PD_REFERRAL_DEPTH,
                                                 PD_REFERRAL_TOP, PD_REFERRAL_COST, PD_REFERRAL_ISSUES};
#define N_DEFAULT_VIEWS (sizeof default_views / sizeof *default_views)

/* width="W" height="H" of an SVG document's root element; 0 when absent. */
static void svg_size(const char *svg, double *w, double *h) {
  *w = *h = 0;
  const char *end = strchr(svg, '>');
  const char *p = strstr(svg, "width=\"");
  if (p && (!end || p < end)) *w = strtod(p + 7, NULL);
  p = strstr(svg, "height=\"");
  if (p && (!end || p < end)) *h = strtod(p + 8, NULL);
}

/* Writes the two charts one above the other as one SVG document: each
 * chart stays a complete <svg> element, nested and moved down by y. */
static int write_stacked_svg(const char *cmd, const char *path, char *const *charts, size_t n) {
  double w = 0, h = 0, cw, ch;
  for (size_t i = 0; i < n; i++) {
    svg_size(charts[i], &cw, &ch);
    if (cw > w) w = cw;
    h += ch;
  }
  FILE *f;
  if (pd_cli_open_out(cmd, path, &f)) return PD_EXIT_RUNTIME;
  fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\">\n",
          w, h, w, h);
  double y = 0;
  for (size_t i = 0; i < n; i++) {
    const char *s = charts[i];
    if (strncmp(s, "<svg", 4) != 0) return pd_cli_error(cmd, "chart %zu is not an SVG document", i);
    fprintf(f, "<svg x=\"0\" y=\"%.0f\"%s\n", y, s + 4);
    svg_size(s, &cw, &ch);
    y += ch;
  }
  fputs("</svg>\n", f);
  return pd_cli_close_out(cmd, f);
}

/* The depth histogram (levels beyond the cap in the alert colour) above a
 * drawing of the largest tree (nodes beyond the cap marked). `depth` is an
 * ungrouped DEPTH table. */
static int write_svg(const char *cmd, const pd_referral *r, const pd_table *depth, int cap, const char *path) {
  pd_table *tree = NULL;
  pd_status st = pd_referral_table(r, PD_REFERRAL_LARGEST_TREE, &tree);
  if (st != PD_OK) return pd_cli_fail(cmd, st);
  double k = 0, users = 0, beyond = 0;
  pd_referral_metric(r, "k", &k);
  pd_referral_metric(r, "users", &users);
  pd_referral_metric(r, "beyond_cap_users", &beyond);
  char sub[256], cap_label[64], tsub[160];
  snprintf(sub, sizeof sub,
           "%.0f users, K = %.3f; depth 0 = users nobody referred; %.0f users deeper than the cap of %d level%s (red)",
           users, k, beyond, cap, cap == 1 ? "" : "s");
  snprintf(cap_label, sizeof cap_label, "compliance cap: depth %d", cap);
  pd_chart_spec hs = PD_CHART_SPEC_INIT;
  hs.kind = PD_CHART_BAR;
  hs.title = "Users by referral depth";
  hs.subtitle = sub;
  hs.label_col = "depth";
  hs.value_cols = "users";
  hs.highlight_col = "beyond_cap";
  hs.highlight_label = "beyond the compliance cap";
  hs.x_title = "referral depth (levels below the root)";
  hs.y_title = "users (count)";
  hs.format = PD_VALUE_INTEGER;
  hs.height = 360;
  size_t nodes = pd_table_n_rows(tree);
  snprintf(tsub, sizeof tsub, "%zu node%s drawn, breadth first from the root; %s", nodes, nodes == 1 ? "" : "s",
           cap_label);
  pd_chart_spec ts = PD_CHART_SPEC_INIT;
  ts.kind = PD_CHART_TREE;
  ts.title = "The largest referral tree";
  ts.subtitle = tsub;
  ts.label_col = "label";
  ts.has_ref = 1;
  ts.ref_value = cap;
  ts.ref_label = cap_label;
  char *charts[2] = {NULL, NULL};
  int rc = PD_EXIT_OK;
  if ((st = pd_chart_svg(depth, &hs, &charts[0])) != PD_OK || (st = pd_chart_svg(tree, &ts, &charts[1])) != PD_OK)
    rc = pd_cli_fail(cmd, st);
  else
    rc = write_stacked_svg(cmd, path, charts, 2);
  pd_free(charts[0]);
  pd_free(charts[1]);
  pd_table_free(tree);
  return rc;
}

/* --by segment:...: each segment's K and its parts (the GROUPS row of an
 * unbroken-down run), over the whole forest (see referral.h). */
typedef struct seg_ctx {
  pd_store *store;
  pd_referral_options o;
} seg_ctx;

static pd_status run_segment(void *ctx, const pd_userset *users, pd_table **out) {
  seg_ctx *c = ctx;
  pd_referral_options o = c->o;
  o.by = PD_REFERRAL_BY_NONE;
  o.users = users;
  pd_referral *r = NULL;
  pd_status st = pd_referral_run(c->store, &o, &r);
  if (st == PD_OK) st = pd_referral_table(r, PD_REFERRAL_GROUPS, out);
  pd_referral_free(r);
  return st;
}

int pd_cmd_referral(int argc, char **argv) {
  pd_format fmt = PD_FORMAT_TEXT;
  pd_period period = PD_PERIOD_MONTH;
  const char *tz = NULL, *svg = NULL, *segment = NULL, *by_name = "none";
  int by = 0, no_acquire = 0;
  int64_t max_depth = 2, cost_from = INT64_MIN, cost_to = INT64_MIN;
  unsigned threads = 0, top = 20, cycles = 10, examples = 20, tree_nodes = 400;
  double seed = 0;
  pd_cli_list views = {0};
  const pd_cli_opt opts[] = {
      {"max-depth", 'd', PD_CLI_INT, &max_depth, "N",
       "compliance cap: users deeper than N levels below their root are listed (default 2)", NULL},
      {"by", 'b', PD_CLI_STRING, &by_name, "KEY",
       "break down groups (by the referrer's acquisition), depth and cost (by the root's acquisition):\n"
       "none, period, touchpoint or domain; or segment:NAME1,NAME2 / tags: the groups row (users, referred,\n"
       "i, c, K) of each segment as referrers, over the whole forest",
       NULL},
      PD_CLI_OPT_SEGMENT(&segment),
      {"period", 'p', PD_CLI_PERIOD, &period, NULL, "period of --by period: day, week, week_sunday, month (default month)", NULL},
      {"view", 'v', PD_CLI_LIST, &views, "NAMES",
       "tables: summary, groups, depth, cycle_time, top, trees, beyond_cap, cost, projection, issues, forest, "
       "largest_tree (default summary,depth,top,cost,issues; groups too with --by)", NULL},
      {"top", 0, PD_CLI_UINT, &top, "N", "rows of top and trees (default 20)", NULL},
      {"cost-from", 0, PD_CLI_TIME, &cost_from, "TIME", "start of the acquisition-cost window (with --cost-to)", NULL},
      {"cost-to", 0, PD_CLI_TIME, &cost_to, "TIME",
       "end (exclusive) of the window (default: the days from the first to the last acquisition)", NULL},
      {"cycles", 0, PD_CLI_UINT, &cycles, "N", "projection: cycles after cycle 0 (default 10)", NULL},
      {"seed", 0, PD_CLI_DOUBLE, &seed, "S", "projection: seed users (default: the number of roots)", NULL},
      {"no-acquire-referrer", 0, PD_CLI_FLAG, &no_acquire, NULL,
       "only referral_signup events attribute a referrer (default: acquire events with a referrer too)", NULL},
      {"examples", 0, PD_CLI_UINT, &examples, "N", "issues listed per kind (default 20)", NULL},
      {"tree-nodes", 0, PD_CLI_UINT, &tree_nodes, "N", "most nodes of largest_tree and its drawing (default 400)", NULL},
      {"svg", 0, PD_CLI_STRING, &svg, "FILE",
       "write the depth histogram (cap marked) and a drawing of the largest tree as one SVG", NULL},
      PD_CLI_OPT_FORMAT(&fmt),
      PD_CLI_OPT_TZ(&tz),
      PD_CLI_OPT_THREADS(&threads),
      PD_CLI_OPT_END};
  const pd_cli_spec spec = {
      "referral", "STORE",
      "The referral forest: a user's referrer is the first referral_signup (or acquire) naming one; users\n"
      "without one are roots (depth 0). i = invites per user, c = referred / invites, K = i x c, K_d = users\n"
      "at depth d+1 / users at depth d; cycle time = referee's sign-up - referrer's acquisition. Self-\n"
      "referrals, cycles, conflicting attributions and sign-ups before the referrer's first event are\n"
      "reported (issues) and cycles broken deterministically. Definitions: docs/REFERRAL.md.",
      opts, 1, 1};
  pd_cli_args args;
  int rc = pd_cli_parse(&spec, argc, argv, &args);
  if (rc != PD_CLI_CONTINUE) goto out;
  const char *by_segments = pd_cli_is_segment_by(by_name) ? by_name : NULL;
  if (!by_segments) {
    static const char *const names[] = {"none", "period", "touchpoint", "domain"};
    for (by = 0; by < 4 && strcmp(names[by], by_name) != 0; by++) {}
    if (by == 4) {
      rc = pd_cli_usage_error(&spec, "unknown --by \"%s\"", by_name);
      goto out;
    }
  } else if (svg || views.n) {
    rc = pd_cli_usage_error(&spec, "--by segment:... prints the groups of each segment (no --view, no --svg)");
    goto out;
  }
  if (max_depth < 0 || max_depth > 1000000) {
    rc = pd_cli_usage_error(&spec, "--max-depth must be between 0 and 1000000");
    goto out;
  }
  if ((cost_from == INT64_MIN) != (cost_to == INT64_MIN)) {
    rc = pd_cli_usage_error(&spec, "give both --cost-from and --cost-to, or neither");
    goto out;
  }
  if (cost_from != INT64_MIN && cost_to <= cost_from) {
    rc = pd_cli_usage_error(&spec, "--cost-to must be after --cost-from");
    goto out;
  }
  if (seed < 0) {
    rc = pd_cli_usage_error(&spec, "--seed must be >= 0");
    goto out;
  }
  pd_referral_view want[PD_CLI_LIST_MAX];
  size_t n_want = 0;
  for (size_t i = 0; i < views.n; i++) {
    int v = pd_referral_view_from_name(views.items[i]);
    if (v < 0) {
      rc = pd_cli_usage_error(&spec, "unknown view \"%s\"", views.items[i]);
      goto out;
    }
    want[n_want++] = (pd_referral_view)v;
  }
  if (!n_want) {
    for (size_t i = 0; i < N_DEFAULT_VIEWS; i++)
      if (default_views[i] != PD_REFERRAL_GROUPS || by) want[n_want++] = default_views[i];
  }
  pd_store *st;
  pd_userset *filter = NULL;
  if ((rc = pd_cli_open_store("referral", args.v[0], PD_CLI_READ, &st))) goto out;
  if ((rc = pd_cli_segment_users("referral", st, segment, &filter))) goto close;
  pd_referral_options o = PD_REFERRAL_OPTIONS_INIT;
  o.users = filter;
  o.threads = threads;
  o.max_depth = (int)max_depth;
  o.by = (pd_referral_by)by;
  o.period = period;
  o.tz = tz;
  o.acquire_attributes = !no_acquire;
  if (cost_from != INT64_MIN) {
    o.cost_begin = cost_from;
    o.cost_end = cost_to;
  }
  o.projection_cycles = cycles;
  o.projection_seed = seed;
  o.top_n = top;
  o.max_examples = examples;
  o.tree_nodes = tree_nodes;
  if (by_segments) {
    seg_ctx c = {st, o};
    pd_table *t = NULL;
    if (!(rc = pd_cli_segment_breakdown("referral", st, by_segments, filter, run_segment, &c, &t)))
      rc = pd_cli_print_table("referral", t, fmt);
    pd_table_free(t);
    goto close;
  }
  pd_referral *r = NULL;
  pd_status s = pd_referral_run(st, &o, &r);
  if (s != PD_OK) {
    rc = pd_cli_fail("referral", s);
    goto close;
  }
  pd_table *tables[PD_CLI_LIST_MAX] = {NULL};
  for (size_t i = 0; i < n_want && s == PD_OK; i++) s = pd_referral_table(r, want[i], &tables[i]);
  if (s != PD_OK) rc = pd_cli_fail("referral", s);
  else if (n_want == 1) rc = pd_cli_print_table("referral", tables[0], fmt);
  else rc = pd_cli_print_tables("referral", (const pd_table *const *)tables, n_want, fmt);
  for (size_t i = 0; i < n_want; i++) pd_table_free(tables[i]);
  if (!rc && svg) {
    /* The histogram is of the whole forest: a breakdown needs an ungrouped run. */
    pd_referral *whole = r;
    if (by) {
      o.by = PD_REFERRAL_BY_NONE;
      s = pd_referral_run(st, &o, &whole);
    }
    pd_table *depth = NULL;
    if (s == PD_OK) s = pd_referral_table(whole, PD_REFERRAL_DEPTH, &depth);
    rc = s != PD_OK ? pd_cli_fail("referral", s) : write_svg("referral", whole, depth, (int)max_depth, svg);
    pd_table_free(depth);
    if (whole != r) pd_referral_free(whole);
  }
  pd_referral_free(r);
close:
  pd_userset_free(filter);
  pd_store_close(st);
out:
  pd_cli_list_free(&views);
  return rc == PD_CLI_CONTINUE ? PD_EXIT_OK : rc;
}
