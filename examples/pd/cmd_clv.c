/* pd rfm, pd clv, pd ltv: RFM summaries, BTYD customer-lifetime-value
 * models, historical value and LTV:CAC by acquisition touchpoint. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* Time units in a month, per --unit (day, week): the convention of clv.h
 * and lifetimes (30 days, 4.345 weeks), shared with the report and the
 * touchpoint scorecard so all of them give one CLV. */
static const double units_per_month[] = {30.0, 4.345};

static const char *const unit_names = "day|week";
static const double unit_days[] = {1.0, 7.0};

static int rfm_options(const char *cmd, int unit, const char *tz, pd_period period, unsigned multiple, int64_t cal_end,
                       int64_t hold_end, unsigned threads, pd_rfm_options *o) {
  pd_rfm_options r = PD_RFM_OPTIONS_INIT;
  r.tz = tz;
  r.period = period;
  r.period_multiple = multiple;
  r.unit_days = unit_days[unit];
  r.calibration_end = cal_end;
  r.holdout_end = hold_end;
  r.threads = threads;
  if (hold_end != PD_RFM_NO_TIME && cal_end == PD_RFM_NO_TIME)
    return pd_cli_error(cmd, "--holdout-end needs --calibration-end");
  *o = r;
  return 0;
}

/* Segment breakdowns of rfm and ltv: one table per segment. */
typedef struct seg_ctx {
  pd_store *store;
  const void *opts;
} seg_ctx;

static pd_status run_rfm(void *ctx, const pd_userset *users, pd_table **out) {
  const seg_ctx *c = ctx;
  pd_rfm_options o = *(const pd_rfm_options *)c->opts;
  o.users = users;
  return pd_rfm_from_store(c->store, &o, out);
}

static pd_status run_ltv(void *ctx, const pd_userset *users, pd_table **out) {
  const seg_ctx *c = ctx;
  pd_ltv_options o = *(const pd_ltv_options *)c->opts;
  o.users = users;
  return pd_ltv_history(c->store, &o, NULL, NULL, out);
}

/* Each segment's own model: the purchase model's parameters. */
typedef struct clv_seg_ctx {
  pd_store *store;
  const pd_rfm_options *o;
  pd_clv_kind kind;
  const pd_clv_fit_options *fo;
} clv_seg_ctx;

static pd_status run_clv(void *ctx, const pd_userset *users, pd_table **out) {
  const clv_seg_ctx *c = ctx;
  pd_rfm_options o = *c->o;
  o.users = users;
  pd_table *rfm = NULL;
  pd_clv_model *m = NULL;
  pd_status st = pd_rfm_from_store(c->store, &o, &rfm);
  if (!st) st = pd_clv_fit_table(c->kind, rfm, c->fo, &m);
  if (!st) st = pd_clv_model_table(m, out);
  pd_clv_model_free(m);
  pd_table_free(rfm);
  return st;
}

int pd_cmd_rfm(int argc, char **argv) {
  pd_format fmt = PD_FORMAT_TEXT;
  const char *tz = NULL, *segment = NULL, *by = NULL;
  int unit = 0;
  pd_period period = PD_PERIOD_DAY;
  unsigned multiple = 1, threads = 0;
  int64_t cal_end = PD_RFM_NO_TIME, hold_end = PD_RFM_NO_TIME;
  int layers = 0;
  pd_cli_list thresholds = {0}, r_cuts = {0}, f_cuts = {0}, m_cuts = {0};
  pd_cli_rfm_layer_args la = {0, 5, &thresholds, &r_cuts, &f_cuts, &m_cuts, INT64_MIN, INT64_MIN, NULL, NULL};
  const pd_cli_opt opts[] = {
      PD_CLI_OPT_FORMAT(&fmt),
      PD_CLI_OPT_TZ(&tz),
      PD_CLI_OPT_THREADS(&threads),
      {"layers", 'l', PD_CLI_FLAG, &layers, NULL, "RFM scores and the eight RFM layers instead of the summary", NULL},
      {"scores", 's', PD_CLI_FLAG, &la.scores, NULL, "--layers: also print every customer's scores and layer", NULL},
      {"thresholds", 0, PD_CLI_LIST, &thresholds, "R,F,M", "--layers: high/low splits (R <= r is high) instead of the means", NULL},
      {"bins", 0, PD_CLI_UINT, &la.bins, "N", "--layers: scores 1..N (default 5)", NULL},
      {"r-cuts", 0, PD_CLI_LIST, &r_cuts, "A,B,..", "--layers: N-1 increasing recency bounds (<= A scores N) instead of quantiles", NULL},
      {"f-cuts", 0, PD_CLI_LIST, &f_cuts, "A,B,..", "--layers: N-1 increasing frequency bounds (<= A scores 1)", NULL},
      {"m-cuts", 0, PD_CLI_LIST, &m_cuts, "A,B,..", "--layers: N-1 increasing revenue bounds, minor units", NULL},
      {"since", 0, PD_CLI_TIME, &la.since, "DATE", "--layers: R, F, M over a window from DATE (F = purchase events)", NULL},
      {"until", 0, PD_CLI_TIME, &la.until, "DATE", "--layers: window end, exclusive (default: all)", NULL},
      {"svg", 0, PD_CLI_STRING, &la.svg, "FILE", "--layers: draw customers per layer", NULL},
      PD_CLI_OPT_SEGMENT(&segment),
      {"by", 'b', PD_CLI_STRING, &by, "KEY", "segment:NAME1,NAME2 (stored segments or tags) or tags (every tag): the summary (with --layers: the layer table) of\n"
       "each segment, stacked; each segment's customers are scored and split among themselves", NULL},
      {"unit", 'u', PD_CLI_CHOICE, &unit, "UNIT", "time unit of recency and T: day or week (default day)", unit_names},
      {"period", 'p', PD_CLI_PERIOD, &period, "PERIOD", "purchases in one period merge: day (default), week, month", NULL},
      {"period-multiple", 0, PD_CLI_UINT, &multiple, "N", "merge N consecutive periods (e.g. 3-day periods)", NULL},
      {"calibration-end", 'c', PD_CLI_TIME, &cal_end, "DATE", "observation end, whole day included (default: latest purchase day)", NULL},
      {"holdout-end", 0, PD_CLI_TIME, &hold_end, "DATE", "add holdout columns up to DATE (needs --calibration-end)", NULL},
      PD_CLI_OPT_END};
  const pd_cli_spec spec = {"rfm", "STORE",
                            "Per-customer RFM summary as the BTYD literature and lifetimes define it: frequency\n"
                            "(repeat purchase periods), recency and T (from the first purchase period), mean\n"
                            "spend of repeat periods (minor units, net of refunds), acquisition touchpoint.\n"
                            "With --layers: RFM scores 1..5 (quantiles as pandas.qcut, or --r-cuts/--f-cuts/\n"
                            "--m-cuts) and the eight layers (R, F, M high/low against the means or --thresholds)\n"
                            "from that summary (R = T - recency, F = purchase periods, M = net revenue), or over\n"
                            "--since/--until (R in days to the window end, F = purchase events). See docs/RFM.md.",
                            opts, 1, 1};
  pd_cli_args args;
  int rc = pd_cli_parse(&spec, argc, argv, &args);
  if (rc != PD_CLI_CONTINUE) goto out;
  pd_rfm_options o;
  if (!layers && (la.scores || la.svg || thresholds.n || r_cuts.n || f_cuts.n || m_cuts.n || la.since != INT64_MIN ||
                  la.until != INT64_MIN)) {
    rc = pd_cli_error("rfm", "--scores, --thresholds, --*-cuts, --since, --until and --svg need --layers");
    goto out;
  }
  if ((rc = rfm_options("rfm", unit, tz, period, multiple, cal_end, hold_end, threads, &o))) goto out;
  if (by && (!pd_cli_is_segment_by(by) || la.svg || la.scores)) {
    rc = pd_cli_error("rfm", "--by takes segment:NAME1,NAME2 or tags (and no --svg or --scores)");
    goto out;
  }
  pd_store *store;
  pd_userset *filter = NULL;
  if ((rc = pd_cli_open_store("rfm", args.v[0], PD_CLI_READ, &store))) goto out;
  if (!(rc = pd_cli_segment_users("rfm", store, segment, &filter))) {
    o.users = filter;
    la.by = by;
    if (layers) {
      rc = pd_cli_rfm_layers(store, &o, &la, fmt);
    } else if (by) {
      seg_ctx c = {store, &o};
      pd_table *t = NULL;
      if (!(rc = pd_cli_segment_breakdown("rfm", store, by, filter, run_rfm, &c, &t))) rc = pd_cli_print_table("rfm", t, fmt);
      pd_table_free(t);
    } else {
      pd_table *t = NULL;
      pd_status st = pd_rfm_from_store(store, &o, &t);
      rc = st ? pd_cli_fail("rfm", st) : pd_cli_print_table("rfm", t, fmt);
      pd_table_free(t);
    }
  }
  pd_userset_free(filter);
  pd_store_close(store);
out:
  pd_cli_list_free(&thresholds);
  pd_cli_list_free(&r_cuts);
  pd_cli_list_free(&f_cuts);
  pd_cli_list_free(&m_cuts);
  return rc;
}

/* Charts of a fitted model: frequency/recency heat maps and, with a
 * holdout, calibration vs holdout purchases. */
static int write_svgs(const char *prefix, const pd_clv_model *m, const pd_table *rfm, const pd_table *holdout,
                      double horizon_units, const char *unit_name) {
  double T = 0, fmax_seen = 0;
  long cT = pd_table_col_index(rfm, "T"), cf = pd_table_col_index(rfm, "frequency");
  for (size_t i = 0; i < pd_table_n_rows(rfm); i++) {
    T = fmax(T, pd_table_get_double(rfm, i, (size_t)cT));
    fmax_seen = fmax(fmax_seen, pd_table_get_double(rfm, i, (size_t)cf));
  }
  if (!(T > 0)) return pd_cli_error("clv", "--svg: every customer has T = 0, nothing to draw");
  unsigned maxf = fmax_seen > 25 ? 25 : (unsigned)fmax_seen;
  pd_table *fr = NULL;
  pd_status st = pd_clv_frequency_recency_table(m, T, maxf, 20, horizon_units, &fr);
  if (st) return pd_cli_fail("clv", st);
  char path[4096], title[128], xt[64];
  snprintf(xt, sizeof xt, "recency (%ss)", unit_name);
  const struct {
    const char *file, *col, *title;
    pd_value_format fmt;
  } maps[] = {{"frequency_recency.svg", "expected_purchases", "Expected purchases by frequency and recency", PD_VALUE_PLAIN},
              {"p_alive.svg", "p_alive", "P(alive) by frequency and recency", PD_VALUE_PERCENT}};
  int rc = 0;
  for (size_t k = 0; k < 2 && !rc; k++) {
    pd_chart_spec cs = PD_CHART_SPEC_INIT;
    cs.kind = PD_CHART_HEATMAP;
    snprintf(title, sizeof title, "%s", maps[k].title);
    cs.title = title;
    cs.label_col = "recency";
    cs.series_col = "frequency";
    cs.value_cols = maps[k].col;
    cs.x_title = xt;
    cs.y_title = "frequency (repeat purchases)";
    cs.format = maps[k].fmt;
    cs.decimals = k == 0 ? 1 : 0;
    snprintf(path, sizeof path, "%s_%s", prefix, maps[k].file);
    if ((st = pd_chart_write(fr, &cs, path))) rc = pd_cli_fail("clv", st);
  }
  if (!rc && holdout) {
    pd_chart_spec cs = PD_CHART_SPEC_INIT;
    cs.kind = PD_CHART_GROUPED_BAR;
    cs.title = "Calibration vs holdout: mean holdout purchases";
    cs.label_col = "frequency";
    cs.value_cols = "actual,predicted";
    cs.x_title = "purchases in calibration (frequency)";
    cs.y_title = "mean purchases in holdout";
    cs.format = PD_VALUE_PLAIN;
    snprintf(path, sizeof path, "%s_holdout.svg", prefix);
    if ((st = pd_chart_write(holdout, &cs, path))) rc = pd_cli_fail("clv", st);
  }
  pd_table_free(fr);
  return rc;
}

int pd_cmd_clv(int argc, char **argv) {
  pd_format fmt = PD_FORMAT_TEXT;
  const char *tz = NULL, *svg = NULL, *segment = NULL, *by = NULL;
  int unit = 1, model = 0;
  unsigned threads = 0;
  double horizon = 12, discount = 0.01, penalty = 0, dormant = 0;
  int64_t cal_end = PD_RFM_NO_TIME, hold_end = PD_RFM_NO_TIME;
  const pd_clv_kind kinds[] = {PD_CLV_BGNBD, PD_CLV_PNBD, PD_CLV_MBGNBD};
  const pd_cli_opt opts[] = {
      PD_CLI_OPT_FORMAT(&fmt),
      PD_CLI_OPT_TZ(&tz),
      PD_CLI_OPT_THREADS(&threads),
      {"model", 'm', PD_CLI_CHOICE, &model, "MODEL", "purchase model: bgnbd (default), pnbd or mbgnbd", "bgnbd|pnbd|mbgnbd"},
      {"horizon", 'H', PD_CLI_DOUBLE, &horizon, "MONTHS", "prediction horizon in months (default 12)", NULL},
      {"discount", 'd', PD_CLI_DOUBLE, &discount, "RATE", "monthly discount rate of the CLV (default 0.01)", NULL},
      {"unit", 'u', PD_CLI_CHOICE, &unit, "UNIT", "model time unit: day or week (default week)", unit_names},
      {"calibration-end", 'c', PD_CLI_TIME, &cal_end, "DATE", "fit on purchases up to DATE (default: all)", NULL},
      {"holdout-end", 0, PD_CLI_TIME, &hold_end, "DATE", "compare predictions with purchases after the calibration end up to DATE", NULL},
      {"penalty", 0, PD_CLI_DOUBLE, &penalty, "C", "L2 penalty on the parameters (default 0)", NULL},
      {"dormant", 0, PD_CLI_DOUBLE, &dormant, "P", "add dormant contacts (P(alive) < P) by touchpoint", NULL},
      {"svg", 0, PD_CLI_STRING, &svg, "PREFIX", "draw PREFIX_frequency_recency.svg, PREFIX_p_alive.svg (and PREFIX_holdout.svg)", NULL},
      PD_CLI_OPT_SEGMENT(&segment),
      {"by", 'b', PD_CLI_STRING, &by, "KEY", "segment:NAME1,NAME2 (stored segments or tags) or tags (every tag): the purchase model fitted to each segment's\n"
       "customers alone: its parameters, stacked", NULL},
      PD_CLI_OPT_END};
  const pd_cli_spec spec = {
      "clv", "STORE",
      "Fits a BTYD purchase model (BG/NBD, Pareto/NBD or MBG/NBD) and the Gamma-Gamma spend\n"
      "model to the store's RFM summary, and scores every customer: P(alive), expected\n"
      "purchases over the horizon, expected spend, and the CLV discounted monthly\n"
      "(sum over months of spend x expected purchases that month / (1 + discount)^month;\n"
      "a month is 30 days or 4.345 weeks, as in lifetimes). Amounts are in minor units.",
      opts, 1, 1};
  pd_cli_args args;
  int rc = pd_cli_parse(&spec, argc, argv, &args);
  if (rc != PD_CLI_CONTINUE) return rc;
  if (!(horizon >= 0 && horizon <= 1200 && horizon == floor(horizon)))
    return pd_cli_usage_error(&spec, "--horizon must be a whole number of months in 0..1200");
  if (!(discount > -1)) return pd_cli_usage_error(&spec, "--discount must be > -1");
  if (!(penalty >= 0)) return pd_cli_usage_error(&spec, "--penalty must be >= 0");
  if (!(dormant >= 0 && dormant <= 1)) return pd_cli_usage_error(&spec, "--dormant must be in [0, 1]");
  if (by && (!pd_cli_is_segment_by(by) || svg))
    return pd_cli_usage_error(&spec, "--by takes segment:NAME1,NAME2 or tags (and no --svg)");
  pd_rfm_options o;
  if ((rc = rfm_options("clv", unit, tz, PD_PERIOD_DAY, 1, cal_end, hold_end, threads, &o))) return rc;
  pd_store *store;
  if ((rc = pd_cli_open_store("clv", args.v[0], PD_CLI_READ, &store))) return rc;
  pd_userset *filter = NULL;
  if ((rc = pd_cli_segment_users("clv", store, segment, &filter))) {
    pd_store_close(store);
    return rc;
  }
  o.users = filter;
  double upm = units_per_month[unit];
  pd_table *rfm = NULL, *params = NULL, *gparams = NULL, *scores = NULL, *hold = NULL, *dorm = NULL;
  pd_clv_model *m = NULL, *gg = NULL;
  pd_clv_fit_options fo = PD_CLV_FIT_OPTIONS_INIT;
  fo.penalty = penalty;
  if (by) {
    clv_seg_ctx c = {store, &o, kinds[model], &fo};
    if (!(rc = pd_cli_segment_breakdown("clv", store, by, filter, run_clv, &c, &params)))
      rc = pd_cli_print_table("clv", params, fmt);
    goto done;
  }
  pd_status st = pd_rfm_from_store(store, &o, &rfm);
  if (!st && pd_table_n_rows(rfm) == 0) {
    rc = pd_cli_error("clv", "no customer with a purchase%s", cal_end != PD_RFM_NO_TIME ? " before the calibration end" : "");
    goto done;
  }
  if (!st) st = pd_clv_fit_table(kinds[model], rfm, &fo, &m);
  if (!st) st = pd_clv_model_table(m, &params);
  if (st) {
    rc = pd_cli_fail("clv", st);
    goto done;
  }
  if (!pd_clv_model_converged(m)) fprintf(stderr, "pd clv: warning: the %s fit did not converge\n", pd_clv_kind_name(kinds[model]));
  if (pd_clv_fit_table(PD_CLV_GAMMA_GAMMA, rfm, &fo, &gg) != PD_OK || pd_clv_model_param(gg, 1) <= 1) {
    fprintf(stderr, "pd clv: warning: no spend model (%s); CLV columns left out\n",
            gg ? "q <= 1: mean spend undefined" : pd_last_error());
    pd_clv_model_free(gg);
    gg = NULL;
  } else if ((st = pd_clv_model_table(gg, &gparams))) {
    rc = pd_cli_fail("clv", st);
    goto done;
  }
  if ((st = pd_clv_score_table(m, gg, rfm, horizon * upm, horizon, discount, upm, &scores))) {
    rc = pd_cli_fail("clv", st);
    goto done;
  }
  if (hold_end != PD_RFM_NO_TIME) {
    pd_clv_summary s;
    double *storage = NULL, *xh = NULL;
    long ch = pd_table_col_index(rfm, "frequency_holdout"), cd = pd_table_col_index(rfm, "duration_holdout");
    st = pd_clv_summary_from_table(rfm, &s, &storage);
    if (!st) {
      xh = malloc((s.n ? s.n : 1) * sizeof *xh);
      if (!xh) st = PD_ERR_NOMEM;
      for (size_t i = 0; xh && i < s.n; i++) xh[i] = pd_table_get_double(rfm, i, (size_t)ch);
    }
    if (!st) st = pd_clv_holdout_table(m, &s, xh, pd_table_get_double(rfm, 0, (size_t)cd), 7, &hold);
    free(xh);
    pd_free(storage);
    if (st) {
      rc = pd_cli_fail("clv", st);
      goto done;
    }
  }
  if (dormant > 0 && (st = pd_ltv_dormant(m, rfm, dormant, NULL, &dorm))) {
    rc = pd_cli_fail("clv", st);
    goto done;
  }
  const pd_table *out[] = {params, gparams, hold, dorm, scores};
  rc = pd_cli_print_tables("clv", out, sizeof out / sizeof out[0], fmt);
  if (!rc && svg) rc = write_svgs(svg, m, rfm, hold, horizon * upm, unit ? "week" : "day");
done:
  pd_table_free(rfm);
  pd_table_free(params);
  pd_table_free(gparams);
  pd_table_free(scores);
  pd_table_free(hold);
  pd_table_free(dorm);
  pd_clv_model_free(m);
  pd_clv_model_free(gg);
  pd_userset_free(filter);
  pd_store_close(store);
  return rc;
}

int pd_cmd_ltv(int argc, char **argv) {
  pd_format fmt = PD_FORMAT_TEXT;
  const char *tz = NULL;
  unsigned threads = 0;
  pd_period cohort = PD_PERIOD_MONTH;
  int64_t as_of = INT64_MAX;
  int users = 0;
  const char *segment = NULL, *by = NULL;
  const pd_cli_opt opts[] = {
      PD_CLI_OPT_FORMAT(&fmt),
      PD_CLI_OPT_TZ(&tz),
      PD_CLI_OPT_THREADS(&threads),
      {"cohort", 'p', PD_CLI_PERIOD, &cohort, "PERIOD", "cohort period of acquisition: day, week, month (default)", NULL},
      {"as-of", 0, PD_CLI_TIME, &as_of, "DATE", "count events up to DATE (default: all)", NULL},
      {"users", 0, PD_CLI_FLAG, &users, NULL, "also print the per-user table", NULL},
      PD_CLI_OPT_SEGMENT(&segment),
      {"by", 'b', PD_CLI_STRING, &by, "KEY", "segment:NAME1,NAME2 (stored segments or tags) or tags (every tag): the touchpoint table of each segment, stacked", NULL},
      PD_CLI_OPT_END};
  const pd_cli_spec spec = {"ltv", "STORE",
                            "Historical customer value: net revenue per acquired customer by acquisition\n"
                            "touchpoint (with spend, CAC and LTV:CAC where the touchpoint's daily spend is\n"
                            "known) and by cohort x touchpoint. Amounts are in minor units.",
                            opts, 1, 1};
  pd_cli_args args;
  int rc = pd_cli_parse(&spec, argc, argv, &args);
  if (rc != PD_CLI_CONTINUE) return rc;
  if (by && (!pd_cli_is_segment_by(by) || users))
    return pd_cli_usage_error(&spec, "--by takes segment:NAME1,NAME2 or tags (and no --users)");
  pd_store *store;
  if ((rc = pd_cli_open_store("ltv", args.v[0], PD_CLI_READ, &store))) return rc;
  pd_userset *filter = NULL;
  if ((rc = pd_cli_segment_users("ltv", store, segment, &filter))) {
    pd_store_close(store);
    return rc;
  }
  pd_ltv_options o = PD_LTV_OPTIONS_INIT;
  o.tz = tz;
  o.cohort_period = cohort;
  o.as_of = as_of;
  o.threads = threads;
  o.users = filter;
  pd_table *tu = NULL, *tc = NULL, *tt = NULL;
  pd_status st = PD_OK;
  if (by) {
    seg_ctx c = {store, &o};
    if (!(rc = pd_cli_segment_breakdown("ltv", store, by, filter, run_ltv, &c, &tt))) rc = pd_cli_print_table("ltv", tt, fmt);
  } else {
    st = pd_ltv_history(store, &o, users ? &tu : NULL, &tc, &tt);
  }
  if (by) {
    /* printed (or reported) above */
  } else if (st) {
    rc = pd_cli_fail("ltv", st);
  } else {
    const pd_table *out[] = {tt, tc, tu};
    rc = pd_cli_print_tables("ltv", out, 3, fmt);
  }
  pd_table_free(tu);
  pd_table_free(tc);
  pd_table_free(tt);
  pd_userset_free(filter);
  pd_store_close(store);
  return rc;
}
