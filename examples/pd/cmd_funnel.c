/* pd funnel, pd stages: ordered funnels and the AARRR / RARRA stage report. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* ---- step syntax: TYPE[@TOUCHPOINT][:DOMAIN][>=AMOUNT] ---------------------
 * TYPE is an event type name or "*"; AMOUNT is decimal currency (50.00). */
static int parse_pred(const char *cmd, pd_store *store, const char *text, pd_funnel_pred *q, char *label,
                      size_t label_size) {
  pd_funnel_pred p = PD_FUNNEL_PRED_INIT;
  snprintf(label, label_size, "%s", text);
  char buf[256];
  snprintf(buf, sizeof buf, "%s", text);
  char *amount = strstr(buf, ">=");
  if (amount) {
    *amount = 0;
    amount += 2;
    if (pd_amount_parse(amount, strlen(amount), 2, &p.min_amount) != PD_OK)
      return pd_cli_error(cmd, "step \"%s\": bad amount \"%s\"", text, amount);
  }
  char *domain = strchr(buf, ':');
  if (domain) {
    *domain++ = 0;
    p.domain = (int)pd_domain_from_name(domain);
    if (p.domain == PD_DOMAIN_UNKNOWN && strcmp(domain, "unknown") != 0)
      return pd_cli_error(cmd, "step \"%s\": domain must be public, private, semi or unknown", text);
  }
  char *tp = strchr(buf, '@');
  if (tp) {
    *tp++ = 0;
    if (pd_store_find_touchpoint(store, tp, &p.touchpoint) != PD_OK)
      return pd_cli_error(cmd, "step \"%s\": no touchpoint \"%s\" in the store", text, tp);
  }
  if (strcmp(buf, "*") != 0 && pd_store_find_event_type(store, buf, &p.event_type) != PD_OK)
    return pd_cli_error(cmd, "step \"%s\": no event type \"%s\" in the store", text, buf);
  *q = p;
  return 0;
}

/* --by values and what they mean. */
static const struct {
  const char *name;
  pd_funnel_by by;
  pd_period period;
} bys[] = {
    {"none", PD_FUNNEL_BY_NONE, PD_PERIOD_DAY},
    {"touchpoint", PD_FUNNEL_BY_ACQ_TOUCHPOINT, PD_PERIOD_DAY},
    {"domain", PD_FUNNEL_BY_ACQ_DOMAIN, PD_PERIOD_DAY},
    {"cohort-day", PD_FUNNEL_BY_COHORT, PD_PERIOD_DAY},
    {"cohort-week", PD_FUNNEL_BY_COHORT, PD_PERIOD_WEEK},
    {"cohort-month", PD_FUNNEL_BY_COHORT, PD_PERIOD_MONTH},
    {"step1-touchpoint", PD_FUNNEL_BY_STEP1_TOUCHPOINT, PD_PERIOD_DAY},
    {"entry-day", PD_FUNNEL_BY_ENTRY_PERIOD, PD_PERIOD_DAY},
    {"entry-week", PD_FUNNEL_BY_ENTRY_PERIOD, PD_PERIOD_WEEK},
    {"entry-month", PD_FUNNEL_BY_ENTRY_PERIOD, PD_PERIOD_MONTH},
    {"tag", PD_FUNNEL_BY_TAG, PD_PERIOD_DAY},
};

int pd_cmd_funnel(int argc, char **argv) {
  pd_format fmt = PD_FORMAT_TEXT;
  const char *tz = NULL, *mode_name = "default", *by_name = "none", *svg = NULL, *segment = NULL;
  int64_t window = 7 * PD_CLI_DAY_MS;
  unsigned threads = 0;
  pd_cli_list steps = {0}, excl = {0};
  const pd_cli_opt opts[] = {
      {"steps", 's', PD_CLI_LIST, &steps, "S1,S2,...",
       "2-32 steps, each TYPE[@TOUCHPOINT][:DOMAIN][>=AMOUNT] (TYPE * = any event)", NULL},
      {"window", 'w', PD_CLI_DURATION, &window, "DUR", "conversion window from step 1, inclusive (default 7d)", NULL},
      {"mode", 'm', PD_CLI_STRING, &mode_name, "MODE",
       "default, strict_order, strict_deduplication, strict_increase, strict_once or unordered", NULL},
      {"exclude", 'x', PD_CLI_LIST, &excl, "PRED:I-J",
       "an event matching PRED between steps I and J disqualifies the attempt (repeatable)", NULL},
      {"by", 'b', PD_CLI_STRING, &by_name, "KEY",
       "breakdown: touchpoint, domain, cohort-day|week|month, step1-touchpoint, entry-day|week|month (trend),\n"
       "segment:NAME1,NAME2 (stored segments or tags; a user in several counts in each) or tags (every tag)",
       NULL},
      PD_CLI_OPT_SEGMENT(&segment),
      {"svg", 0, PD_CLI_STRING, &svg, "FILE", "also draw the funnel as an SVG bar chart into FILE", NULL},
      PD_CLI_OPT_FORMAT(&fmt),
      PD_CLI_OPT_TZ(&tz),
      PD_CLI_OPT_THREADS(&threads),
      PD_CLI_OPT_END};
  const pd_cli_spec spec = {"funnel", "STORE",
                            "Users reaching each step of an ordered funnel within a window (ClickHouse windowFunnel\n"
                            "semantics; see include/privdomain/funnel.h), conversion, drop-off and time to convert.",
                            opts, 1, 1};
  pd_cli_args args;
  int rc = pd_cli_parse(&spec, argc, argv, &args);
  if (rc != PD_CLI_CONTINUE) goto out_lists;
  pd_funnel_mode mode;
  if (pd_funnel_parse_mode(mode_name, &mode) != PD_OK) {
    rc = pd_cli_usage_error(&spec, "%s", pd_last_error());
    goto out_lists;
  }
  size_t bi = 0;
  const char *by_segments = pd_cli_is_segment_by(by_name) ? by_name : NULL;
  if (by_segments) by_name = "tag";
  while (bi < sizeof bys / sizeof bys[0] && strcmp(bys[bi].name, by_name) != 0) bi++;
  if (bi == sizeof bys / sizeof bys[0]) {
    rc = pd_cli_usage_error(&spec, "unknown --by \"%s\"", by_name);
    goto out_lists;
  }
  if (steps.n < 2 || steps.n > PD_FUNNEL_MAX_STEPS) {
    rc = pd_cli_usage_error(&spec, "--steps needs 2 to %d steps", PD_FUNNEL_MAX_STEPS);
    goto out_lists;
  }
  pd_store *store = NULL;
  pd_funnel_spec *fs = NULL;
  pd_table *t = NULL;
  pd_userset *filter = NULL;
  if ((rc = pd_cli_open_store("funnel", args.v[0], PD_CLI_READ, &store))) goto out_lists;
  pd_status st = pd_funnel_spec_new(&fs);
  if (st) {
    rc = pd_cli_fail("funnel", st);
    goto out;
  }
  if ((rc = pd_cli_segment_users("funnel", store, segment, &filter))) goto out;
  if (by_segments) { /* one scan: every segment is a group of the funnel */
    pd_cli_list names;
    if ((rc = pd_cli_segment_names("funnel", store, by_segments, &names))) goto out;
    for (size_t i = 0; i < names.n && !rc; i++) {
      pd_userset *set = NULL;
      if ((st = pd_segment_eval(store, names.items[i], NULL, &set)) || (st = pd_funnel_spec_add_segment(fs, names.items[i], set)))
        rc = pd_cli_fail("funnel", st);
      pd_userset_free(set);
    }
    pd_cli_list_free(&names);
    if (rc) goto out;
  }
  for (size_t i = 0; i < steps.n; i++) {
    pd_funnel_pred q;
    char label[256];
    if ((rc = parse_pred("funnel", store, steps.items[i], &q, label, sizeof label))) goto out;
    if ((st = pd_funnel_spec_add_step(fs, &q, label))) {
      rc = pd_cli_fail("funnel", st);
      goto out;
    }
  }
  for (size_t i = 0; i < excl.n; i++) {
    char *colon = strrchr(excl.items[i], ':');
    unsigned a, b;
    char tail;
    if (!colon || sscanf(colon + 1, "%u-%u%c", &a, &b, &tail) != 2) {
      rc = pd_cli_usage_error(&spec, "--exclude \"%s\": expected PRED:I-J (e.g. refund:2-4)", excl.items[i]);
      goto out;
    }
    *colon = 0;
    pd_funnel_pred q;
    char label[256];
    if ((rc = parse_pred("funnel", store, excl.items[i], &q, label, sizeof label))) goto out;
    if ((st = pd_funnel_spec_add_exclusion(fs, &q, a, b))) {
      rc = pd_cli_fail("funnel", st);
      goto out;
    }
  }
  if ((st = pd_funnel_spec_set_window(fs, window)) || (st = pd_funnel_spec_set_mode(fs, mode)) ||
      (st = pd_funnel_spec_set_breakdown(fs, bys[bi].by, bys[bi].period, tz))) {
    rc = pd_cli_fail("funnel", st);
    goto out;
  }
  pd_scan_options so = PD_SCAN_OPTIONS_INIT;
  so.threads = threads;
  so.users = filter;
  if ((st = pd_funnel_run(store, fs, &so, &t))) {
    rc = pd_cli_fail("funnel", st);
    goto out;
  }
  rc = pd_cli_print_table("funnel", t, fmt);
  if (!rc && svg) {
    pd_chart_spec cs = PD_CHART_SPEC_INIT;
    int grouped = bys[bi].by != PD_FUNNEL_BY_NONE;
    cs.kind = grouped ? PD_CHART_GROUPED_BAR : PD_CHART_FUNNEL;
    cs.title = "Funnel";
    char sub[160];
    {
      /* the window in the unit it was most likely given in */
      char w[32];
      if (window % PD_CLI_DAY_MS == 0)
        snprintf(w, sizeof w, "%lldd", (long long)(window / PD_CLI_DAY_MS));
      else if (window % PD_CLI_HOUR_MS == 0)
        snprintf(w, sizeof w, "%lldh", (long long)(window / PD_CLI_HOUR_MS));
      else
        snprintf(w, sizeof w, "%lldms", (long long)window);
      snprintf(sub, sizeof sub, "%s mode, window %s%s%s%s%s", mode_name, w, grouped ? ", by " : "",
               grouped ? (by_segments ? by_segments : by_name) : "", segment ? ", segment " : "", segment ? segment : "");
    }
    cs.subtitle = sub;
    cs.label_col = "step_name";
    cs.value_cols = "users";
    cs.series_col = grouped ? "group" : NULL;
    cs.format = PD_VALUE_INTEGER;
    cs.x_title = "step";
    cs.y_title = "users";
    if ((st = pd_chart_write(t, &cs, svg))) rc = pd_cli_fail("funnel", st);
  }
out:
  pd_table_free(t);
  pd_userset_free(filter);
  pd_funnel_spec_free(fs);
  pd_store_close(store);
out_lists:
  pd_cli_list_free(&steps);
  pd_cli_list_free(&excl);
  return rc;
}

/* pd stages --by segment:...: the report of each segment. */
typedef struct stage_seg {
  pd_store *store;
  const pd_stage_options *o;
} stage_seg;

static pd_status run_stages(void *ctx, const pd_userset *users, pd_table **out) {
  const stage_seg *c = ctx;
  pd_stage_options o = *c->o;
  o.users = users;
  return pd_stage_report(c->store, &o, out);
}

int pd_cmd_stages(int argc, char **argv) {
  pd_format fmt = PD_FORMAT_TEXT;
  const char *tz = NULL, *period = NULL, *order_name = "aarrr", *segment = NULL, *by = NULL;
  int64_t act_days = 7, ret_days = 7;
  unsigned threads = 0;
  const pd_cli_opt opts[] = {
      {"period", 'p', PD_CLI_STRING, &period, "P",
       "2024, 2024-03, 2024-W10, 2024-03-05 or 2024-03-01..2024-03-15 (required)", NULL},
      {"order", 0, PD_CLI_STRING, &order_name, "ORDER", "aarrr (default) or rarra: order of the stages", NULL},
      {"activation-days", 0, PD_CLI_INT, &act_days, "N", "activation within N days of acquisition (default 7)", NULL},
      {"retention-days", 0, PD_CLI_INT, &ret_days, "N", "day-N retention of new users (default 7)", NULL},
      PD_CLI_OPT_SEGMENT(&segment),
      {"by", 'b', PD_CLI_STRING, &by, "KEY",
       "segment:NAME1,NAME2 (stored segments or tags) or tags (every tag): the report of each segment, stacked",
       NULL},
      PD_CLI_OPT_FORMAT(&fmt),
      PD_CLI_OPT_TZ(&tz),
      PD_CLI_OPT_THREADS(&threads),
      PD_CLI_OPT_END};
  const pd_cli_spec spec = {"stages", "STORE",
                            "Acquisition, activation, retention, revenue and referral for one period (AARRR, or\n"
                            "RARRA with retention first); metrics defined in include/privdomain/stages.h.",
                            opts, 1, 1};
  pd_cli_args args;
  int rc = pd_cli_parse(&spec, argc, argv, &args);
  if (rc != PD_CLI_CONTINUE) return rc;
  if (!period) return pd_cli_usage_error(&spec, "--period is required");
  if (by && !pd_cli_is_segment_by(by)) return pd_cli_usage_error(&spec, "--by takes segment:NAME1,NAME2 or tags");
  pd_stage_options o = PD_STAGE_OPTIONS_INIT;
  if (pd_stage_order_parse(order_name, &o.order) != PD_OK) return pd_cli_usage_error(&spec, "%s", pd_last_error());
  if (act_days < 1 || act_days > 3660 || ret_days < 1 || ret_days > 3660)
    return pd_cli_usage_error(&spec, "--activation-days and --retention-days must be 1..3660");
  if (pd_stage_period_parse(period, tz, &o.from_ms, &o.to_ms, &o.prev_from_ms) != PD_OK)
    return pd_cli_usage_error(&spec, "%s", pd_last_error());
  o.activation_days = (int)act_days;
  o.retention_days = (int)ret_days;
  o.threads = threads;
  pd_store *store = NULL;
  if ((rc = pd_cli_open_store("stages", args.v[0], PD_CLI_READ, &store))) return rc;
  pd_userset *filter = NULL;
  if ((rc = pd_cli_segment_users("stages", store, segment, &filter))) {
    pd_store_close(store);
    return rc;
  }
  o.users = filter;
  pd_table *t = NULL;
  pd_status st = PD_OK;
  if (by) {
    stage_seg c = {store, &o};
    if (!(rc = pd_cli_segment_breakdown("stages", store, by, filter, run_stages, &c, &t)))
      rc = pd_cli_print_table("stages", t, fmt);
    pd_table_free(t);
    pd_userset_free(filter);
    pd_store_close(store);
    return rc;
  }
  st = pd_stage_report(store, &o, &t);
  if (st) {
    rc = pd_cli_fail("stages", st);
  } else {
    if (fmt == PD_FORMAT_TEXT && pd_table_n_rows(t) > 0) {
      /* the headline of the first stage, then the full table */
      const char *metric = pd_table_get_string(t, 0, 1);
      char v[64];
      if (pd_table_is_null(t, 0, 3))
        snprintf(v, sizeof v, "n/a");
      else if (pd_table_is_null(t, 0, 5))
        pd_chart_format_value(pd_table_get_double(t, 0, 3), PD_VALUE_PLAIN, NULL, -1, v, sizeof v);
      else
        pd_chart_format_value(pd_table_get_double(t, 0, 3), PD_VALUE_PERCENT, NULL, 1, v, sizeof v);
      printf("%s %s, headline (%s): %s = %s\n\n", o.order == PD_STAGES_RARRA ? "RARRA" : "AARRR", period,
             pd_table_get_string(t, 0, 0), metric, v);
    }
    rc = pd_cli_print_table("stages", t, fmt);
  }
  pd_table_free(t);
  pd_userset_free(filter);
  pd_store_close(store);
  return rc;
}

/* The step syntax for other commands (pd attribution --conversion). */
int pd_cli_parse_pred(const char *cmd, pd_store *store, const char *text, pd_funnel_pred *q, char *label,
                      size_t label_size) {
  return parse_pred(cmd, store, text, q, label, label_size);
}
