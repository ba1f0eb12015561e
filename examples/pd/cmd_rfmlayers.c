/* pd rfm --layers (RFM scores and the eight layers) and pd membership
 * (members vs non-members, stored-value users vs others, before vs after
 * joining). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* Reads exactly n numbers from a --flag list ("10,2,500"). */
static int numbers(const char *cmd, const char *flag, const pd_cli_list *l, size_t n, double *out) {
  if (l->n != n) return pd_cli_error(cmd, "--%s takes %zu comma-separated numbers, got %zu", flag, n, l->n);
  for (size_t i = 0; i < n; i++) {
    char *end;
    out[i] = strtod(l->items[i], &end);
    if (end == l->items[i] || *end || !isfinite(out[i]))
      return pd_cli_error(cmd, "--%s: \"%s\" is not a number", flag, l->items[i]);
  }
  return 0;
}

/* The layer table of a set of users (a segment breakdown's run). */
typedef struct layer_ctx {
  pd_store *store;
  const pd_rfm_options *summary_opts;
  const pd_rfm_layer_options *o;
  int window;
} layer_ctx;

static pd_status layers_of(void *ctx, const pd_userset *users, pd_table **out) {
  const layer_ctx *c = ctx;
  pd_rfm_layer_options o = *c->o;
  if (c->window) {
    o.users = users;
    return pd_rfm_layers_from_store(c->store, &o, NULL, out, NULL);
  }
  pd_rfm_options so = *c->summary_opts;
  so.users = users;
  pd_table *rfm = NULL;
  pd_status st = pd_rfm_from_store(c->store, &so, &rfm);
  if (!st) st = pd_rfm_layers_from_summary(rfm, &o, NULL, out, NULL);
  pd_table_free(rfm);
  return st;
}

int pd_cli_rfm_layers(pd_store *store, const pd_rfm_options *summary_opts, const pd_cli_rfm_layer_args *a,
                      pd_format fmt) {
  pd_rfm_layer_options o = PD_RFM_LAYER_OPTIONS_INIT;
  double split[3], cuts[3][20];
  int rc;
  o.bins = a->bins;
  if (o.bins < 2 || o.bins > 20) return pd_cli_error("rfm", "--bins must be 2..20");
  if (a->thresholds->n) {
    if ((rc = numbers("rfm", "thresholds", a->thresholds, 3, split))) return rc;
    o.split = PD_RFM_SPLIT_THRESHOLDS;
    o.r_split = split[0], o.f_split = split[1], o.m_split = split[2];
  }
  const pd_cli_list *cl[3] = {a->r_cuts, a->f_cuts, a->m_cuts};
  int n_cuts = (cl[0]->n > 0) + (cl[1]->n > 0) + (cl[2]->n > 0);
  if (n_cuts && n_cuts < 3) return pd_cli_error("rfm", "give all of --r-cuts, --f-cuts and --m-cuts, or none");
  if (n_cuts) {
    static const char *const names[3] = {"r-cuts", "f-cuts", "m-cuts"};
    for (int d = 0; d < 3; d++)
      if ((rc = numbers("rfm", names[d], cl[d], o.bins - 1, cuts[d]))) return rc;
    o.score_method = PD_RFM_SCORE_THRESHOLDS;
    o.r_cuts = cuts[0], o.f_cuts = cuts[1], o.m_cuts = cuts[2];
  }
  pd_table *users = NULL, *layers = NULL, *th = NULL, *rfm = NULL;
  pd_status st;
  int window = a->since != INT64_MIN || a->until != INT64_MIN;
  if (window) {
    o.tz = summary_opts->tz;
    o.threads = summary_opts->threads;
    o.window_begin = a->since != INT64_MIN ? a->since : PD_RFM_LAYERS_NO_TIME;
    o.window_end = a->until != INT64_MIN ? a->until : PD_RFM_LAYERS_NO_TIME;
    o.users = summary_opts->users;
  }
  if (a->by) {
    layer_ctx c = {store, summary_opts, &o, window};
    if (!(rc = pd_cli_segment_breakdown("rfm", store, a->by, summary_opts->users, layers_of, &c, &layers)))
      rc = pd_cli_print_table("rfm", layers, fmt);
    pd_table_free(layers);
    return rc;
  }
  if (window) {
    st = pd_rfm_layers_from_store(store, &o, a->scores ? &users : NULL, &layers, &th);
  } else {
    st = pd_rfm_from_store(store, summary_opts, &rfm);
    if (!st) st = pd_rfm_layers_from_summary(rfm, &o, a->scores ? &users : NULL, &layers, &th);
  }
  if (st) {
    rc = pd_cli_fail("rfm", st);
  } else {
    const pd_table *out[] = {layers, th, users};
    rc = pd_cli_print_tables("rfm", out, 3, fmt);
  }
  if (!rc && a->svg) {
    pd_chart_spec cs = PD_CHART_SPEC_INIT;
    cs.kind = PD_CHART_HBAR;
    cs.title = "Customers by RFM layer";
    cs.subtitle = "R, F, M each high or low; beside each layer its Chinese name";
    cs.label_col = "layer_name";
    cs.note_col = "layer_zh";
    cs.value_cols = "users";
    cs.x_title = "layer";
    cs.y_title = "customers (count)";
    cs.format = PD_VALUE_INTEGER;
    if ((st = pd_chart_write(layers, &cs, a->svg))) rc = pd_cli_fail("rfm", st);
  }
  pd_table_free(users);
  pd_table_free(layers);
  pd_table_free(th);
  pd_table_free(rfm);
  return rc;
}

static pd_status membership_of(void *ctx, const pd_userset *users, pd_table **out) {
  const pd_membership_options *base = ((void **)ctx)[1];
  pd_membership_options o = *base;
  o.users = users;
  return pd_membership_compare(((void **)ctx)[0], &o, out, NULL);
}

int pd_cmd_membership(int argc, char **argv) {
  pd_format fmt = PD_FORMAT_TEXT;
  const char *member = NULL, *stored = NULL, *svg = NULL, *segment = NULL, *by = NULL;
  unsigned threads = 0;
  int64_t end = INT64_MIN;
  double min_days = 7;
  const pd_cli_opt opts[] = {
      PD_CLI_OPT_FORMAT(&fmt),
      PD_CLI_OPT_THREADS(&threads),
      {"end", 'e', PD_CLI_TIME, &end, "DATE", "observation end, inclusive (default: the latest event)", NULL},
      {"min-days", 0, PD_CLI_DOUBLE, &min_days, "D", "before/after: least observed days on each side (default 7)", NULL},
      {"member-event", 0, PD_CLI_STRING, &member, "TYPE", "event type of joining (default member_join)", NULL},
      {"stored-value-event", 0, PD_CLI_STRING, &stored, "TYPE", "event type of a top-up (default stored_value)", NULL},
      {"svg", 0, PD_CLI_STRING, &svg, "FILE", "draw revenue per user and purchases per 30 days by group", NULL},
      PD_CLI_OPT_SEGMENT(&segment),
      {"by", 'b', PD_CLI_STRING, &by, "KEY", "segment:NAME1,NAME2 (stored segments or tags) or tags (every tag): the comparison table of each segment, stacked\n"
       "(observed to the store's latest event unless --end)", NULL},
      PD_CLI_OPT_END};
  const pd_cli_spec spec = {
      "membership", "STORE",
      "Members (member_join) vs non-members and stored-value users (stored_value) vs others:\n"
      "buyers, repurchase rate (2+ purchases / buyers), purchases per buyer and per 30 observed\n"
      "days, net revenue per user (historical LTV). Then each group before vs after joining:\n"
      "purchases and revenue per 30 days, over users observed at least --min-days on both sides.",
      opts, 1, 1};
  pd_cli_args args;
  int rc = pd_cli_parse(&spec, argc, argv, &args);
  if (rc != PD_CLI_CONTINUE) return rc;
  if (!(min_days >= 0)) return pd_cli_usage_error(&spec, "--min-days must be >= 0");
  if (by && (!pd_cli_is_segment_by(by) || svg))
    return pd_cli_usage_error(&spec, "--by takes segment:NAME1,NAME2 or tags (and no --svg)");
  pd_store *store;
  if ((rc = pd_cli_open_store("membership", args.v[0], PD_CLI_READ, &store))) return rc;
  pd_userset *filter = NULL;
  if ((rc = pd_cli_segment_users("membership", store, segment, &filter))) {
    pd_store_close(store);
    return rc;
  }
  pd_membership_options o = PD_MEMBERSHIP_OPTIONS_INIT;
  o.users = filter;
  o.end = end != INT64_MIN ? end : PD_MEMBERSHIP_NO_TIME;
  o.min_days = min_days;
  o.threads = threads;
  const char *names[2] = {member, stored};
  uint32_t *types[2] = {&o.member_type, &o.stored_value_type};
  for (int k = 0; k < 2 && !rc; k++)
    if (names[k] && pd_store_find_event_type(store, names[k], types[k]) != PD_OK)
      rc = pd_cli_error("membership", "no event type \"%s\" in the store", names[k]);
  pd_table *g = NULL, *ba = NULL;
  pd_status st = PD_OK;
  if (!rc && by) {
    void *ctx[2] = {store, &o};
    if (!(rc = pd_cli_segment_breakdown("membership", store, by, filter, membership_of, ctx, &g)))
      rc = pd_cli_print_table("membership", g, fmt);
    pd_table_free(g);
    pd_userset_free(filter);
    pd_store_close(store);
    return rc;
  }
  if (!rc && (st = pd_membership_compare(store, &o, &g, &ba))) rc = pd_cli_fail("membership", st);
  if (!rc) {
    const pd_table *out[] = {g, ba};
    rc = pd_cli_print_tables("membership", out, 2, fmt);
  }
  if (!rc && svg) {
    pd_chart_spec cs = PD_CHART_SPEC_INIT;
    cs.kind = PD_CHART_HBAR;
    cs.title = "Net revenue per user by group";
    cs.subtitle = "beside each group: purchases per 30 observed days";
    cs.label_col = "group";
    cs.value_cols = "revenue_per_user";
    cs.note_col = "purchases_per_30d";
    cs.x_title = "group";
    cs.y_title = "net revenue per user";
    cs.format = PD_VALUE_CURRENCY;
    if ((st = pd_chart_write(g, &cs, svg))) rc = pd_cli_fail("membership", st);
  }
  pd_table_free(g);
  pd_table_free(ba);
  pd_userset_free(filter);
  pd_store_close(store);
  return rc;
}
