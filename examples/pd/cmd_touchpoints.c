/* pd touchpoints: the touchpoint scorecard for a period (per touchpoint,
 * domain or carrier kind), optionally the public -> private migration
 * table, a CLV model fitted on the spot, and scorecard bars as SVG.
 * Public API only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* "2024", "2024-03" or "2024-03-05": [start, end) of that local year, month
 * or day in tz. Returns 0, or -1 when malformed. */
static int parse_period(const char *text, const char *tz, int64_t *from, int64_t *to) {
  static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  int y, m = 0, d = 0, used = 0;
  char a[32], b[32];
  size_t len = strlen(text);
  if (len == 10 && sscanf(text, "%4d-%2d-%2d%n", &y, &m, &d, &used) == 3 && used == 10) {
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (m < 1 || m > 12 || d < 1 || d > mdays[m - 1] + (m == 2 && leap)) return -1;
    int ny = y, nm = m, nd = d + 1; /* the next calendar date */
    if (nd > mdays[m - 1] + (m == 2 && leap)) {
      nd = 1;
      if (++nm > 12) {
        nm = 1;
        ny++;
      }
    }
    snprintf(a, sizeof a, "%04d-%02d-%02d", y, m, d);
    snprintf(b, sizeof b, "%04d-%02d-%02d", ny, nm, nd);
  } else if (len == 7 && sscanf(text, "%4d-%2d%n", &y, &m, &used) == 2 && used == 7) {
    if (m < 1 || m > 12) return -1;
    snprintf(a, sizeof a, "%04d-%02d-01", y, m);
    snprintf(b, sizeof b, "%04d-%02d-01", m == 12 ? y + 1 : y, m == 12 ? 1 : m + 1);
  } else if (len == 4 && sscanf(text, "%4d%n", &y, &used) == 1 && used == 4) {
    snprintf(a, sizeof a, "%04d-01-01", y);
    snprintf(b, sizeof b, "%04d-01-01", y + 1);
  } else {
    return -1;
  }
  return pd_cli_parse_time(a, tz, from) || pd_cli_parse_time(b, tz, to) ? -1 : 0;
}

typedef struct seg_ctx {
  pd_store *store;
  const pd_touchpoint_options *o;
  int migration;
} seg_ctx;

/* One segment of a --by segment:A,B breakdown: its scorecard (or migration table). */
static pd_status run_segment(void *ctx, const pd_userset *users, pd_table **out) {
  const seg_ctx *c = ctx;
  pd_touchpoint_options o = *c->o;
  o.users = users;
  return c->migration ? pd_touchpoint_migration(c->store, &o, out) : pd_touchpoint_scorecard(c->store, &o, out);
}

int pd_cmd_touchpoints(int argc, char **argv) {
  pd_format fmt = PD_FORMAT_TEXT;
  const char *tz = NULL, *period = NULL, *svg = NULL, *segment = NULL, *by_name = "touchpoint";
  int migration = 0, clv = 0;
  int64_t from = INT64_MIN, to = INT64_MAX, as_of = INT64_MIN;
  unsigned threads = 0;
  double months = 12, discount = 0.01;
  const pd_cli_opt opts[] = {
      {"period", 'p', PD_CLI_STRING, &period, "PERIOD",
       "acquisition period: 2024, 2024-03 or 2024-03-05, local in --tz (default: all time)", NULL},
      {"from", 0, PD_CLI_TIME, &from, "TIME", "period start instead of --period (inclusive)", NULL},
      {"to", 0, PD_CLI_TIME, &to, "TIME", "period end instead of --period (exclusive)", NULL},
      {"as-of", 0, PD_CLI_TIME, &as_of, "TIME", "observation end (default: the latest event)", NULL},
      {"by", 'b', PD_CLI_STRING, &by_name, "BY",
       "rows: touchpoint (default), domain or carrier; or segment:NAME1,NAME2 / tags: the per-touchpoint "
       "scorecard of each segment, stacked", NULL},
      {"migration", 'M', PD_CLI_FLAG, &migration, NULL,
       "also the public -> private migration table (and the reverse flow)", NULL},
      {"clv", 0, PD_CLI_CHOICE, &clv, "MODEL",
       "predicted CLV: fit none (default), bgnbd, pnbd or mbgnbd + Gamma-Gamma on the store (days)",
       "none|bgnbd|pnbd|mbgnbd"},
      {"horizon", 'H', PD_CLI_DOUBLE, &months, "MONTHS", "CLV horizon in months (default 12)", NULL},
      {"discount", 'd', PD_CLI_DOUBLE, &discount, "RATE", "monthly discount rate of the CLV (default 0.01)", NULL},
      {"segment", 's', PD_CLI_STRING, &segment, "SEG",
       "only the users of SEG: a stored segment, a tag or an expression (see pd segment --help)", NULL},
      {"svg", 0, PD_CLI_STRING, &svg, "FILE", "write scorecard bars (accessibility, connection, endurance)", NULL},
      PD_CLI_OPT_FORMAT(&fmt),
      PD_CLI_OPT_TZ(&tz),
      PD_CLI_OPT_THREADS(&threads),
      PD_CLI_OPT_END};
  const pd_cli_spec spec = {
      "touchpoints", "STORE",
      "Touchpoint scorecard of the users each touchpoint acquired (first acquire event) in a period:\n"
      "spend, CAC, activation, 7/30-day retention, message reach, revenue, LTV, CLV, LTV:CAC, referral K,\n"
      "share of purchases in the private domain, and accessibility / connection / endurance (0-1) with a\n"
      "label. Null where undefined (CAC without spend or users). Definitions: include/privdomain/touchpoints.h,\n"
      "docs/TOUCHPOINTS.md. Money in minor units.",
      opts, 1, 1};
  pd_cli_args args;
  pd_store *store = NULL;
  pd_table *card = NULL, *mig = NULL, *rfm = NULL;
  pd_clv_model *m = NULL, *gg = NULL;
  pd_userset *users = NULL;
  int rc = pd_cli_parse(&spec, argc, argv, &args);
  if (rc != PD_CLI_CONTINUE) return rc;
  pd_touchpoint_by by = PD_TOUCHPOINT_BY_TOUCHPOINT;
  int by_segments = pd_cli_is_segment_by(by_name);
  if (!by_segments && pd_touchpoint_by_from_name(by_name, &by) != PD_OK)
    return pd_cli_usage_error(&spec, "--by takes touchpoint, domain, carrier, segment:NAME1,NAME2 or tags");
  if (by_segments && svg) return pd_cli_usage_error(&spec, "--svg draws one scorecard: not with a segment breakdown");
  if (period && (from != INT64_MIN || to != INT64_MAX))
    return pd_cli_usage_error(&spec, "give either --period or --from/--to");
  if (period && parse_period(period, tz, &from, &to))
    return pd_cli_usage_error(&spec, "--period \"%s\": expected YYYY, YYYY-MM or YYYY-MM-DD", period);
  if (from >= to) return pd_cli_usage_error(&spec, "the period is empty (--from must be before --to)");
  if (!(months > 0 && months <= 1200)) return pd_cli_usage_error(&spec, "--horizon must be in (0, 1200]");
  if (!(discount >= 0 && discount < 10)) return pd_cli_usage_error(&spec, "--discount must be in [0, 10)");
  if ((rc = pd_cli_open_store("touchpoints", args.v[0], PD_CLI_READ, &store))) return rc;
  pd_status st = PD_OK;
  if ((rc = pd_cli_segment_users("touchpoints", store, segment, &users))) goto out;
  if (clv) {
    static const pd_clv_kind kinds[] = {PD_CLV_BGNBD, PD_CLV_BGNBD, PD_CLV_PNBD, PD_CLV_MBGNBD};
    pd_rfm_options ro = PD_RFM_OPTIONS_INIT;
    ro.tz = tz;
    ro.threads = threads;
    if (as_of != INT64_MIN) ro.calibration_end = as_of;
    if ((st = pd_rfm_from_store(store, &ro, &rfm)) || (st = pd_clv_fit_table(kinds[clv], rfm, NULL, &m)) ||
        (st = pd_clv_fit_table(PD_CLV_GAMMA_GAMMA, rfm, NULL, &gg))) {
      rc = pd_cli_fail("touchpoints", st);
      goto out;
    }
    if (pd_clv_model_param(gg, 1) <= 1) {
      fprintf(stderr, "pd touchpoints: warning: Gamma-Gamma q <= 1 (mean spend undefined): no CLV\n");
      pd_clv_model_free(gg);
      gg = NULL;
    }
  }
  pd_touchpoint_options o = PD_TOUCHPOINT_OPTIONS_INIT;
  o.from_ms = from;
  o.to_ms = to;
  o.tz = tz;
  o.by = by;
  o.as_of_ms = as_of;
  o.users = users;
  o.clv = m;
  o.gg = gg;
  o.clv_months = months;
  o.clv_monthly_discount = discount;
  o.threads = threads;
  if (by_segments) {
    seg_ctx sc = {store, &o, 0}, sm = {store, &o, 1};
    if (!(rc = pd_cli_segment_breakdown("touchpoints", store, by_name, users, run_segment, &sc, &card)) && migration)
      rc = pd_cli_segment_breakdown("touchpoints", store, by_name, users, run_segment, &sm, &mig);
    if (!rc) {
      const pd_table *both[2] = {card, mig};
      rc = migration ? pd_cli_print_tables("touchpoints", both, 2, fmt) : pd_cli_print_table("touchpoints", card, fmt);
    }
    goto out;
  }
  if ((st = pd_touchpoint_scorecard(store, &o, &card)) || (migration && (st = pd_touchpoint_migration(store, &o, &mig)))) {
    rc = pd_cli_fail("touchpoints", st);
    goto out;
  }
  if (migration) {
    const pd_table *both[2] = {card, mig};
    rc = pd_cli_print_tables("touchpoints", both, 2, fmt);
  } else {
    rc = pd_cli_print_table("touchpoints", card, fmt);
  }
  if (!rc && svg) {
    char sub[200];
    snprintf(sub, sizeof sub, "users acquired %s%s; accessibility = open rate, connection = share via person/group, "
             "endurance = 30-day retention", period ? "in " : "", period ? period : "over all time");
    pd_chart_spec cs = PD_CHART_SPEC_INIT;
    cs.kind = PD_CHART_GROUPED_BAR;
    cs.title = "Touchpoint scorecard";
    cs.subtitle = sub;
    cs.label_col = pd_touchpoint_by_name(by);
    cs.value_cols = "accessibility,connection,endurance";
    cs.format = PD_VALUE_PERCENT;
    cs.x_title = cs.label_col;
    cs.y_title = "score (0-100%)";
    size_t rows = pd_table_n_rows(card);
    cs.width = rows > 8 ? (int)(rows < 40 ? rows : 40) * 125 : 760; /* room for every touchpoint's name */
    if ((st = pd_chart_write(card, &cs, svg))) rc = pd_cli_fail("touchpoints", st);
  }
out:
  pd_table_free(card);
  pd_table_free(mig);
  pd_table_free(rfm);
  pd_clv_model_free(m);
  pd_clv_model_free(gg);
  pd_userset_free(users);
  pd_store_close(store);
  return rc;
}
