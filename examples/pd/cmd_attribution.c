/* pd attribution: credit for conversions per touchpoint, by model or every
 * model side by side, with an SVG comparing the models. Public API only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* "40,20,40": first, middle, last percentages adding up to 100. */
static int parse_position(const char *text, uint32_t *first, uint32_t *last) {
  double v[3];
  int used = 0;
  if (sscanf(text, "%lf,%lf,%lf%n", &v[0], &v[1], &v[2], &used) != 3 || text[used]) return -1;
  long p[3];
  for (int i = 0; i < 3; i++) {
    if (!(v[i] >= 0 && v[i] <= 100)) return -1;
    p[i] = (long)(v[i] * 10 + 0.5);
  }
  if (p[0] + p[1] + p[2] != 1000) return -1;
  *first = (uint32_t)p[0];
  *last = (uint32_t)p[2];
  return 0;
}

static void duration_text(int64_t ms, char *buf, size_t size) {
  if (ms == INT64_MAX)
    snprintf(buf, size, "unlimited");
  else if (ms % PD_CLI_DAY_MS == 0)
    snprintf(buf, size, "%lldd", (long long)(ms / PD_CLI_DAY_MS));
  else if (ms % PD_CLI_HOUR_MS == 0)
    snprintf(buf, size, "%lldh", (long long)(ms / PD_CLI_HOUR_MS));
  else
    snprintf(buf, size, "%lldms", (long long)ms);
}

typedef struct seg_ctx {
  pd_store *store;
  const pd_attribution_options *o;
  unsigned threads;
} seg_ctx;

static pd_status run_segment(void *ctx, const pd_userset *users, pd_table **out) {
  const seg_ctx *c = ctx;
  pd_scan_options so = PD_SCAN_OPTIONS_INIT;
  so.threads = c->threads;
  so.users = users;
  return pd_attribution_run(c->store, c->o, &so, out);
}

int pd_cmd_attribution(int argc, char **argv) {
  pd_format fmt = PD_FORMAT_TEXT;
  const char *model_name = "all", *position = "40,20,40", *conversion = "purchase", *svg = NULL;
  const char *segment = NULL, *by = NULL;
  pd_userset *filter = NULL;
  int64_t lookback = 30 * PD_CLI_DAY_MS, half_life = 7 * PD_CLI_DAY_MS;
  unsigned threads = 0;
  pd_cli_list touches = {0};
  const pd_cli_opt opts[] = {
      {"model", 'm', PD_CLI_STRING, &model_name, "MODEL",
       "first, last, linear, decay, position, markov or all (side by side; default)", NULL},
      {"lookback", 'l', PD_CLI_DURATION, &lookback, "DUR", "touches up to DUR before each conversion (default 30d)", NULL},
      {"half-life", 0, PD_CLI_DURATION, &half_life, "DUR", "time-decay half-life (default 7d)", NULL},
      {"position", 0, PD_CLI_STRING, &position, "F,M,L",
       "position-based shares of the first, middle and last touches in % (default 40,20,40)", NULL},
      {"conversion", 'c', PD_CLI_STRING, &conversion, "PRED",
       "conversion events: TYPE[@TOUCHPOINT][:DOMAIN][>=AMOUNT] as in pd funnel (default purchase)", NULL},
      {"touches", 't', PD_CLI_LIST, &touches, "TYPES",
       "event types that are touches (default acquire,activate,visit,message_open,referral_signup,member_join)",
       NULL},
      {"svg", 0, PD_CLI_STRING, &svg, "FILE", "write grouped bars of revenue credit per touchpoint by model", NULL},
      PD_CLI_OPT_SEGMENT(&segment),
      {"by", 'b', PD_CLI_STRING, &by, "KEY", "segment:NAME1,NAME2 (stored segments or tags) or tags (every tag): one table per segment, stacked", NULL},
      PD_CLI_OPT_FORMAT(&fmt),
      PD_CLI_OPT_THREADS(&threads),
      PD_CLI_OPT_END};
  const pd_cli_spec spec = {
      "attribution", "STORE",
      "Credit for conversions per touchpoint: first touch, last touch, linear, time decay, position-based\n"
      "and the Markov-chain removal effect (include/privdomain/attribution.h, docs/ATTRIBUTION.md).\n"
      "Revenue credit is in minor units and adds up exactly to the value of all conversions for every\n"
      "model; conversions with no touch in the lookback are the row \"(none)\".",
      opts, 1, 1};
  pd_cli_args args;
  pd_store *store = NULL;
  pd_table *t = NULL, *cmp = NULL;
  int rc = pd_cli_parse(&spec, argc, argv, &args);
  if (rc != PD_CLI_CONTINUE) goto out;
  pd_attribution_options o = PD_ATTRIBUTION_OPTIONS_INIT;
  if (pd_attribution_model_from_name(model_name, &o.model) != PD_OK) {
    rc = pd_cli_usage_error(&spec, "%s", pd_last_error());
    goto out;
  }
  if (parse_position(position, &o.first_permille, &o.last_permille)) {
    rc = pd_cli_usage_error(&spec, "--position \"%s\": expected three percentages adding up to 100 (40,20,40)",
                            position);
    goto out;
  }
  if (half_life <= 0) {
    rc = pd_cli_usage_error(&spec, "--half-life must be more than 0");
    goto out;
  }
  if (by && (!pd_cli_is_segment_by(by) || svg)) {
    rc = pd_cli_usage_error(&spec, "--by takes segment:NAME1,NAME2 or tags (and no --svg)");
    goto out;
  }
  o.lookback_ms = lookback;
  o.half_life_ms = half_life;
  if ((rc = pd_cli_open_store("attribution", args.v[0], PD_CLI_READ, &store))) goto out;
  if ((rc = pd_cli_segment_users("attribution", store, segment, &filter))) goto out;
  pd_funnel_pred q;
  char label[256];
  if ((rc = pd_cli_parse_pred("attribution", store, conversion, &q, label, sizeof label))) goto out;
  o.conversion = &q;
  uint32_t types[PD_CLI_LIST_MAX];
  for (size_t i = 0; i < touches.n; i++)
    if (pd_store_find_event_type(store, touches.items[i], &types[i]) != PD_OK) {
      rc = pd_cli_error("attribution", "no event type \"%s\" in the store", touches.items[i]);
      goto out;
    }
  o.touch_types = types;
  o.n_touch_types = touches.n;
  pd_scan_options so = PD_SCAN_OPTIONS_INIT;
  so.threads = threads;
  so.users = filter;
  if (by) {
    seg_ctx c = {store, &o, threads};
    if (!(rc = pd_cli_segment_breakdown("attribution", store, by, filter, run_segment, &c, &t)))
      rc = pd_cli_print_table("attribution", t, fmt);
    goto out;
  }
  pd_status st = pd_attribution_run(store, &o, &so, &t);
  if (st) {
    rc = pd_cli_fail("attribution", st);
    goto out;
  }
  rc = pd_cli_print_table("attribution", t, fmt);
  if (!rc && svg) {
    /* the comparison needs every model: run them side by side unless that is what we have */
    if (o.model != PD_ATTRIBUTION_ALL) {
      o.model = PD_ATTRIBUTION_ALL;
      if ((st = pd_attribution_run(store, &o, &so, &cmp))) {
        rc = pd_cli_fail("attribution", st);
        goto out;
      }
    }
    char lb[32], hl[32], sub[640];
    duration_text(lookback, lb, sizeof lb);
    duration_text(half_life, hl, sizeof hl);
    snprintf(sub, sizeof sub, "conversions: %s; lookback %s; time decay half-life %s; position-based %s", label,
             lb, hl, position);
    pd_chart_spec cs = PD_CHART_SPEC_INIT;
    cs.kind = PD_CHART_GROUPED_BAR;
    cs.title = "Attribution: revenue credit per touchpoint by model";
    cs.subtitle = sub;
    cs.label_col = "touchpoint";
    cs.value_cols = "first_revenue=first touch,last_revenue=last touch,linear_revenue=linear,"
                    "decay_revenue=time decay,position_revenue=position-based,markov_revenue=Markov";
    cs.format = PD_VALUE_CURRENCY;
    cs.x_title = "touchpoint";
    cs.y_title = "revenue credited";
    if ((st = pd_chart_write(cmp ? cmp : t, &cs, svg))) rc = pd_cli_fail("attribution", st);
  }
out:
  pd_table_free(t);
  pd_table_free(cmp);
  pd_userset_free(filter);
  pd_store_close(store);
  pd_cli_list_free(&touches);
  return rc;
}
