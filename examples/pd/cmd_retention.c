/* pd retention, pd lifecycle, pd stickiness: cohort retention and revenue,
 * pool flows per period, active days per week. Public API only. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* Resolves event type names (or decimal ids) into ids[]. Returns 0 or an exit code. */
static int event_ids(const char *cmd, pd_store *st, const pd_cli_list *names, uint32_t *ids) {
  for (size_t i = 0; i < names->n; i++) {
    char *end;
    unsigned long v = strtoul(names->items[i], &end, 10);
    if (*names->items[i] && !*end) {
      ids[i] = (uint32_t)v;
    } else if (pd_store_find_event_type(st, names->items[i], &ids[i]) != PD_OK) {
      return pd_cli_error(cmd, "unknown event type \"%s\"", names->items[i]);
    }
  }
  return 0;
}

static int touchpoint_ids(const char *cmd, pd_store *st, const pd_cli_list *names, uint32_t *ids) {
  for (size_t i = 0; i < names->n; i++)
    if (pd_store_find_touchpoint(st, names->items[i], &ids[i]) != PD_OK)
      return pd_cli_error(cmd, "unknown touchpoint \"%s\"", names->items[i]);
  return 0;
}

static int write_svg(const char *cmd, const pd_table *t, const pd_chart_spec *spec, const char *path) {
  pd_status st = pd_chart_write(t, spec, path);
  return st == PD_OK ? 0 : pd_cli_fail(cmd, st);
}

static const char *period_word(pd_period p) {
  switch (p) {
  case PD_PERIOD_DAY: return "day";
  case PD_PERIOD_MONTH: return "month";
  default: return "week";
  }
}

/* Segment breakdowns: one run per segment with that segment's users. */
typedef struct seg_run {
  pd_store *store;
  const void *opts; /* the command's analysis options */
  unsigned threads;
  int which;        /* retention: the pd_retention_table */
} seg_run;

static pd_status run_retention(void *ctx, const pd_userset *users, pd_table **out) {
  const seg_run *c = ctx;
  pd_scan_options so = PD_SCAN_OPTIONS_INIT;
  so.threads = c->threads;
  so.users = users;
  return pd_retention_run(c->store, c->opts, &so, c->which == PD_RETENTION_TABLE_LONG ? out : NULL, NULL,
                          c->which == PD_RETENTION_TABLE_LONG ? NULL : out);
}

static pd_status run_lifecycle(void *ctx, const pd_userset *users, pd_table **out) {
  const seg_run *c = ctx;
  pd_scan_options so = PD_SCAN_OPTIONS_INIT;
  so.threads = c->threads;
  so.users = users;
  return pd_lifecycle_run(c->store, c->opts, &so, out);
}

static pd_status run_stickiness(void *ctx, const pd_userset *users, pd_table **out) {
  const seg_run *c = ctx;
  pd_scan_options so = PD_SCAN_OPTIONS_INIT;
  so.threads = c->threads;
  so.users = users;
  return pd_stickiness_run(c->store, c->opts, &so, out);
}

#define SEGMENT_BY_HELP "segment:NAME1,NAME2 (one table stacked per stored segment or tag) or tags (every tag)"

/* ---- pd retention ------------------------------------------------------ */

int pd_cmd_retention(int argc, char **argv) {
  pd_format fmt = PD_FORMAT_TEXT;
  pd_period period = PD_PERIOD_WEEK;
  const char *tz = NULL, *svg = NULL, *segment = NULL, *by_name = "none";
  int mode = 0, by = 0, table = 0, recurring = 0, rolling = 0, domain = 0, complete = 0;
  int64_t window = 0, as_of = INT64_MIN;
  unsigned periods = 0, threads = 0;
  pd_cli_list start = {0}, returns = {0}, tps = {0};
  const pd_cli_opt opts[] = {
      PD_CLI_OPT_FORMAT(&fmt),
      PD_CLI_OPT_TZ(&tz),
      {"period", 'p', PD_CLI_PERIOD, &period, NULL, "cohort period: day, week (ISO, Monday), week_sunday, month (default week)", NULL},
      {"periods", 'n', PD_CLI_UINT, &periods, "N", "periods k = 0..N-1 (default: every observable period)", NULL},
      {"mode", 'm', PD_CLI_CHOICE, &mode, NULL, "classic: returned in exactly period k; on_or_after: in k or later", "classic|on_or_after"},
      {"start", 0, PD_CLI_LIST, &start, "TYPES", "event types that start a cohort (default acquire)", NULL},
      {"returns", 0, PD_CLI_LIST, &returns, "TYPES", "event types that count as a return (default: any other than the start types)", NULL},
      {"return-touchpoints", 0, PD_CLI_LIST, &tps, "NAMES", "count returns only at these touchpoints", NULL},
      {"return-domain", 0, PD_CLI_CHOICE, &domain, NULL, "count returns only at touchpoints of this domain", "any|unknown|public|private|semi"},
      {"recurring", 'r', PD_CLI_FLAG, &recurring, NULL, "every period with a start event is a cohort of the user (default: the first only)", NULL},
      {"rolling", 0, PD_CLI_FLAG, &rolling, NULL, "rolling 24-hour windows from each user's start instead of calendar periods", NULL},
      {"window", 'w', PD_CLI_DURATION, &window, "DUR", "rolling windows of this length (e.g. 7d) instead of calendar periods", NULL},
      {"by", 'b', PD_CLI_STRING, &by_name, "KEY",
       "break down by the first acquire's touchpoint or its domain (none|touchpoint|domain), or by\n"
       SEGMENT_BY_HELP ": the average table (long with --table long)", NULL},
      PD_CLI_OPT_SEGMENT(&segment),
      {"as-of", 0, PD_CLI_TIME, &as_of, "TIME", "data end (default: the latest event)", NULL},
      {"complete-only", 'c', PD_CLI_FLAG, &complete, NULL, "leave out periods that have not ended by the data end (the partial last one)", NULL},
      {"table", 't', PD_CLI_CHOICE, &table, NULL, "rates: cohort x k matrix (with the weighted average); long: one row per cell with counts and revenue; average", "rates|long|average"},
      {"svg", 0, PD_CLI_STRING, &svg, "FILE", "write a heat map of the rates (cohorts x periods) as SVG", NULL},
      PD_CLI_OPT_THREADS(&threads),
      PD_CLI_OPT_END};
  const pd_cli_spec spec = {"retention", "STORE",
                            "Cohort retention and cohort revenue (net of refunds): for each cohort (the period of a\n"
                            "user's first start event), the share of users who return in period k, and revenue per\n"
                            "period and cumulative revenue per cohort user. Cells not yet observable are empty.",
                            opts, 1, 1};
  pd_cli_args args;
  int rc = pd_cli_parse(&spec, argc, argv, &args);
  if (rc != PD_CLI_CONTINUE) goto out;
  if (rolling && window) {
    rc = pd_cli_usage_error(&spec, "--rolling and --window exclude each other");
    goto out;
  }
  const char *by_segments = pd_cli_is_segment_by(by_name) ? by_name : NULL;
  if (!by_segments) {
    static const char *const names[] = {"none", "touchpoint", "domain"};
    for (by = 0; by < 3 && strcmp(names[by], by_name) != 0; by++) {}
    if (by == 3) {
      rc = pd_cli_usage_error(&spec, "unknown --by \"%s\"", by_name);
      goto out;
    }
  } else if (svg) {
    rc = pd_cli_usage_error(&spec, "--svg does not draw a segment breakdown");
    goto out;
  }
  pd_store *st;
  pd_userset *filter = NULL;
  if ((rc = pd_cli_open_store("retention", args.v[0], PD_CLI_READ, &st))) goto out;
  if ((rc = pd_cli_segment_users("retention", st, segment, &filter))) goto close;
  uint32_t start_ids[PD_CLI_LIST_MAX], ret_ids[PD_CLI_LIST_MAX], tp_ids[PD_CLI_LIST_MAX];
  if ((rc = event_ids("retention", st, &start, start_ids)) || (rc = event_ids("retention", st, &returns, ret_ids)) ||
      (rc = touchpoint_ids("retention", st, &tps, tp_ids)))
    goto close;
  pd_retention_options o = PD_RETENTION_OPTIONS_INIT;
  o.period = period;
  o.tz = tz;
  o.mode = mode ? PD_RETENTION_ON_OR_AFTER : PD_RETENTION_CLASSIC;
  o.start_types = start_ids;
  o.n_start_types = start.n;
  o.return_types = ret_ids;
  o.n_return_types = returns.n;
  o.return_touchpoints = tp_ids;
  o.n_return_touchpoints = tps.n;
  o.return_domain = domain - 1;
  o.recurring = recurring;
  o.window_ms = rolling ? PD_CLI_DAY_MS : window;
  o.n_periods = periods;
  o.by = (pd_retention_by)by;
  o.as_of_ms = as_of;
  o.complete_only = complete;
  if (by_segments) { /* each segment is observed to the store's data end (retention.h) */
    seg_run c = {st, &o, threads, table == 1 ? PD_RETENTION_TABLE_LONG : PD_RETENTION_TABLE_AVERAGE};
    pd_table *t = NULL;
    if (!(rc = pd_cli_segment_breakdown("retention", st, by_segments, filter, run_retention, &c, &t)))
      rc = pd_cli_print_table("retention", t, fmt);
    pd_table_free(t);
    goto close;
  }
  pd_scan_options so = PD_SCAN_OPTIONS_INIT;
  so.threads = threads;
  so.users = filter;
  pd_table *tl = NULL, *tr = NULL, *ta = NULL;
  bool want_long = table == 1 || (svg && !by); /* the heat map pivots the long table */
  pd_status s = pd_retention_run(st, &o, &so, want_long ? &tl : NULL, table == 0 ? &tr : NULL, &ta);
  if (s != PD_OK) {
    rc = pd_cli_fail("retention", s);
    goto close;
  }
  if (table == 0) {
    const pd_table *both[2] = {tr, ta};
    rc = pd_cli_print_tables("retention", both, 2, fmt);
  } else {
    rc = pd_cli_print_table("retention", table == 1 ? tl : ta, fmt);
  }
  if (!rc && svg) {
    /* Ungrouped: cohorts x k from the long table; grouped: groups x k from the averages. */
    {
      char title[128], sub[192];
      snprintf(title, sizeof title, "%s retention by %s cohort", mode ? "On-or-after" : "Classic", period_word(period));
      snprintf(sub, sizeof sub, "share of each cohort returning in %s k%s; time zone %s", o.window_ms ? "window" : "period",
               by ? ", averaged over cohorts per group" : "", tz ? tz : "UTC");
      pd_chart_spec cs = PD_CHART_SPEC_INIT;
      cs.kind = PD_CHART_HEATMAP;
      cs.title = title;
      cs.subtitle = sub;
      cs.label_col = by ? "group" : "cohort";
      cs.series_col = "k";
      cs.value_cols = "rate";
      cs.note_col = by ? NULL : "cohort_users";
      cs.x_title = by ? (by == 1 ? "acquisition touchpoint" : "acquisition domain") : "cohort (users)";
      cs.y_title = o.window_ms ? "window k" : "period k";
      cs.format = PD_VALUE_PERCENT;
      rc = write_svg("retention", by ? ta : tl, &cs, svg);
    }
  }
  pd_table_free(tl);
  pd_table_free(tr);
  pd_table_free(ta);
close:
  pd_userset_free(filter);
  pd_store_close(st);
out:
  pd_cli_list_free(&start);
  pd_cli_list_free(&returns);
  pd_cli_list_free(&tps);
  return rc == PD_CLI_CONTINUE ? PD_EXIT_OK : rc;
}

/* ---- pd lifecycle ------------------------------------------------------ */

int pd_cmd_lifecycle(int argc, char **argv) {
  pd_format fmt = PD_FORMAT_TEXT;
  pd_period period = PD_PERIOD_WEEK;
  const char *tz = NULL, *svg = NULL, *segment = NULL, *by = NULL;
  unsigned threads = 0;
  pd_cli_list active = {0};
  const pd_cli_opt opts[] = {
      PD_CLI_OPT_FORMAT(&fmt),
      PD_CLI_OPT_TZ(&tz),
      {"period", 'p', PD_CLI_PERIOD, &period, NULL, "day, week (ISO, Monday), week_sunday or month (default week)", NULL},
      PD_CLI_OPT_SEGMENT(&segment),
      {"by", 'b', PD_CLI_STRING, &by, "KEY", SEGMENT_BY_HELP, NULL},
      {"active", 0, PD_CLI_LIST, &active, "TYPES", "event types that make a user active (default any)", NULL},
      {"svg", 0, PD_CLI_STRING, &svg, "FILE", "write stacked bars (new, returning, resurrecting up; dormant down) as SVG", NULL},
      PD_CLI_OPT_THREADS(&threads),
      PD_CLI_OPT_END};
  const pd_cli_spec spec = {"lifecycle", "STORE",
                            "The pool's flows per period: new (first active period), returning (active in the previous\n"
                            "period too), resurrecting (back after a gap) and dormant (active in the previous period,\n"
                            "not in this one). active = new + returning + resurrecting; active_prev = returning + dormant.",
                            opts, 1, 1};
  pd_cli_args args;
  int rc = pd_cli_parse(&spec, argc, argv, &args);
  if (rc != PD_CLI_CONTINUE) goto out;
  if (by && !pd_cli_is_segment_by(by)) {
    rc = pd_cli_usage_error(&spec, "--by takes segment:NAME1,NAME2 or tags");
    goto out;
  }
  if (by && svg) {
    rc = pd_cli_usage_error(&spec, "--svg does not draw a segment breakdown");
    goto out;
  }
  pd_store *st;
  if ((rc = pd_cli_open_store("lifecycle", args.v[0], PD_CLI_READ, &st))) goto out;
  uint32_t ids[PD_CLI_LIST_MAX];
  pd_userset *filter = NULL;
  if (!(rc = event_ids("lifecycle", st, &active, ids)) && !(rc = pd_cli_segment_users("lifecycle", st, segment, &filter))) {
    pd_lifecycle_options o = PD_LIFECYCLE_OPTIONS_INIT;
    o.period = period;
    o.tz = tz;
    o.active_types = ids;
    o.n_active_types = active.n;
    pd_scan_options so = PD_SCAN_OPTIONS_INIT;
    so.threads = threads;
    so.users = filter;
    pd_table *t = NULL;
    pd_status s = PD_OK;
    seg_run c = {st, &o, threads, 0};
    if (by) rc = pd_cli_segment_breakdown("lifecycle", st, by, filter, run_lifecycle, &c, &t);
    else s = pd_lifecycle_run(st, &o, &so, &t);
    if (rc) {
      /* reported by the breakdown */
    } else if (s != PD_OK) {
      rc = pd_cli_fail("lifecycle", s);
    } else {
      rc = pd_cli_print_table("lifecycle", t, fmt);
      if (!rc && svg) {
        char title[64], sub[128];
        snprintf(title, sizeof title, "Pool lifecycle per %s", period_word(period));
        snprintf(sub, sizeof sub, "users; dormant drawn below the axis; time zone %s", tz ? tz : "UTC");
        pd_chart_spec cs = PD_CHART_SPEC_INIT;
        cs.kind = PD_CHART_STACKED_BAR;
        cs.title = title;
        cs.subtitle = sub;
        cs.label_col = "period";
        cs.value_cols = "new,returning,resurrecting,dormant_neg";
        cs.x_title = period_word(period);
        cs.y_title = "users";
        cs.format = PD_VALUE_INTEGER;
        rc = write_svg("lifecycle", t, &cs, svg);
      }
    }
    pd_table_free(t);
  }
  pd_userset_free(filter);
  pd_store_close(st);
out:
  pd_cli_list_free(&active);
  return rc == PD_CLI_CONTINUE ? PD_EXIT_OK : rc;
}

/* ---- pd stickiness ----------------------------------------------------- */

int pd_cmd_stickiness(int argc, char **argv) {
  pd_format fmt = PD_FORMAT_TEXT;
  pd_period period = PD_PERIOD_WEEK;
  const char *tz = NULL, *svg = NULL, *segment = NULL, *by = NULL;
  unsigned threads = 0;
  int per_period = 0;
  pd_cli_list active = {0};
  const pd_cli_opt opts[] = {
      PD_CLI_OPT_FORMAT(&fmt),
      PD_CLI_OPT_TZ(&tz),
      {"period", 'p', PD_CLI_PERIOD, &period, NULL, "week or week_sunday: active days per week; month: active ISO weeks per month", NULL},
      {"active", 0, PD_CLI_LIST, &active, "TYPES", "event types that make a user active (default any)", NULL},
      {"per-period", 0, PD_CLI_FLAG, &per_period, NULL, "one histogram per period (default: pooled over all periods)", NULL},
      PD_CLI_OPT_SEGMENT(&segment),
      {"by", 'b', PD_CLI_STRING, &by, "KEY", SEGMENT_BY_HELP, NULL},
      {"svg", 0, PD_CLI_STRING, &svg, "FILE", "write the pooled histogram as an SVG bar chart", NULL},
      PD_CLI_OPT_THREADS(&threads),
      PD_CLI_OPT_END};
  const pd_cli_spec spec = {"stickiness", "STORE",
                            "How sticky the pool is: users (user-weeks when pooled) by the number of days they were\n"
                            "active in a week, or of weeks they were active in a month.",
                            opts, 1, 1};
  pd_cli_args args;
  int rc = pd_cli_parse(&spec, argc, argv, &args);
  if (rc != PD_CLI_CONTINUE) goto out;
  if (period == PD_PERIOD_DAY) {
    rc = pd_cli_usage_error(&spec, "--period must be week, week_sunday or month");
    goto out;
  }
  if (svg && per_period) {
    rc = pd_cli_usage_error(&spec, "--svg draws the pooled histogram: leave out --per-period");
    goto out;
  }
  if (by && !pd_cli_is_segment_by(by)) {
    rc = pd_cli_usage_error(&spec, "--by takes segment:NAME1,NAME2 or tags");
    goto out;
  }
  if (by && svg) {
    rc = pd_cli_usage_error(&spec, "--svg does not draw a segment breakdown");
    goto out;
  }
  pd_store *st;
  if ((rc = pd_cli_open_store("stickiness", args.v[0], PD_CLI_READ, &st))) goto out;
  uint32_t ids[PD_CLI_LIST_MAX];
  pd_userset *filter = NULL;
  if (!(rc = event_ids("stickiness", st, &active, ids)) && !(rc = pd_cli_segment_users("stickiness", st, segment, &filter))) {
    pd_stickiness_options o = PD_STICKINESS_OPTIONS_INIT;
    o.period = period;
    o.tz = tz;
    o.active_types = ids;
    o.n_active_types = active.n;
    o.per_period = per_period;
    pd_scan_options so = PD_SCAN_OPTIONS_INIT;
    so.threads = threads;
    so.users = filter;
    pd_table *t = NULL;
    pd_status s = PD_OK;
    seg_run c = {st, &o, threads, 0};
    if (by) rc = pd_cli_segment_breakdown("stickiness", st, by, filter, run_stickiness, &c, &t);
    else s = pd_stickiness_run(st, &o, &so, &t);
    if (rc) {
      /* reported by the breakdown */
    } else if (s != PD_OK) {
      rc = pd_cli_fail("stickiness", s);
    } else {
      rc = pd_cli_print_table("stickiness", t, fmt);
      if (!rc && svg) {
        bool month = period == PD_PERIOD_MONTH;
        pd_chart_spec cs = PD_CHART_SPEC_INIT;
        cs.kind = PD_CHART_BAR;
        cs.title = month ? "Stickiness: active weeks per month" : "Stickiness: active days per week";
        cs.subtitle = month ? "share of user-months" : "share of user-weeks";
        cs.label_col = "active_units";
        cs.value_cols = "share";
        cs.x_title = month ? "active weeks in the month" : "active days in the week";
        cs.y_title = "share";
        cs.format = PD_VALUE_PERCENT;
        rc = write_svg("stickiness", t, &cs, svg);
      }
    }
    pd_table_free(t);
  }
  pd_userset_free(filter);
  pd_store_close(st);
out:
  pd_cli_list_free(&active);
  return rc == PD_CLI_CONTINUE ? PD_EXIT_OK : rc;
}
