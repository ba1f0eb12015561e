/* Report sections that need only the store: overview (store facts),
 * activity (active and new users, net revenue per period, from one scan with
 * per-worker partials merged after it) and touchpoints (the touchpoint
 * scorecard of touchpoints.h). */
#include <glib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report_internal.h"

/* ---- overview ------------------------------------------------------------ */

pd_status pd__report_overview(pd__report *r) {
  pd_table *info = NULL;
  pd_status st = pd_store_info(r->store, &info);
  if (st != PD_OK) return st;
  char buf[128];
  long key = pd_table_col_index(info, "key"), detail = pd_table_col_index(info, "detail");
  pd__report_kpis_begin(r);
  static const struct {
    const char *key, *label;
  } kpis[] = {{"users", "Users"}, {"events", "Events"}, {"touchpoints", "Touchpoints"}};
  for (size_t i = 0; i < sizeof kpis / sizeof kpis[0]; i++) {
    int64_t v = pd__report_lookup(info, "key", kpis[i].key, "value");
    pd__report_fmt(r, v < 0 ? NAN : (double)v, PD_VALUE_INTEGER, buf, sizeof buf);
    pd__report_kpi(r, kpis[i].label, buf, NULL);
  }
  const char *from = NULL, *to = NULL;
  for (size_t i = 0; key >= 0 && detail >= 0 && i < pd_table_n_rows(info); i++) {
    const char *k = pd_table_get_string(info, i, (size_t)key);
    if (k && strcmp(k, "time_min_ms") == 0) from = pd_table_get_string(info, i, (size_t)detail);
    if (k && strcmp(k, "time_max_ms") == 0) to = pd_table_get_string(info, i, (size_t)detail);
  }
  if (from && to) {
    char span[160];
    snprintf(span, sizeof span, "%.10s \xE2\x80\x93 %.10s", from, to);
    pd__report_kpi(r, "Time span (UTC)", span, NULL);
  }
  pd__report_kpis_end(r);

  /* events by type, from the "events:<type>" rows */
  pd_table *t = pd__table_new("Events by type");
  size_t c_type = pd__table_add_col(t, "event type", PD_TYPE_STRING);
  size_t c_n = pd__table_add_col(t, "events", PD_TYPE_INT64);
  long value = pd_table_col_index(info, "value");
  for (size_t i = 0; key >= 0 && value >= 0 && i < pd_table_n_rows(info); i++) {
    const char *k = pd_table_get_string(info, i, (size_t)key);
    if (!k || strncmp(k, "events:", 7) != 0 || pd_table_get_int64(info, i, (size_t)value) == 0) continue;
    size_t row = pd__table_add_row(t);
    pd__table_set_string(t, row, c_type, k + 7);
    pd__table_set_int64(t, row, c_n, pd_table_get_int64(info, i, (size_t)value));
  }
  pd_table *by_type = NULL;
  if ((st = pd__table_finish(t, &by_type)) == PD_OK) {
    pd_chart_spec spec = PD_CHART_SPEC_INIT;
    spec.kind = PD_CHART_HBAR;
    spec.title = "Events by type";
    spec.y_title = "events (count)";
    pd__report_chart(r, by_type, &spec);
    pd_table_free(by_type);
    pd__buf_puts(r->b, "<details><summary>All store facts</summary>");
    pd__report_table(r, info, NULL, NULL, 0);
    pd__buf_puts(r->b, "</details>");
  }
  pd_table_free(info);
  return st;
}

/* ---- one scan: per-period activity ---------------------------------------- */

typedef struct period_cell {
  int64_t period; /* key */
  int64_t active, new_users, events, revenue;
} period_cell;

typedef struct worker {
  GHashTable *cells; /* &period -> period_cell */
  bool nomem;
} worker;

typedef struct scan_ctx {
  const pd__report *r;
  worker *w;
} scan_ctx;

static period_cell *cell_of(worker *w, int64_t period) {
  period_cell *c = g_hash_table_lookup(w->cells, &period);
  if (c) return c;
  c = calloc(1, sizeof *c);
  if (!c) return NULL;
  c->period = period;
  g_hash_table_insert(w->cells, &c->period, c);
  return c;
}

static int64_t net_amount(uint16_t type, int64_t amount) {
  if (type == PD_EV_PURCHASE) return amount;
  if (type == PD_EV_REFUND) return -llabs(amount); /* a refund reduces revenue whatever its sign */
  return 0;
}

static int on_user(void *vctx, unsigned worker_id, const pd_user_events *ev) {
  scan_ctx *ctx = vctx;
  worker *w = &ctx->w[worker_id];
  int64_t prev = INT64_MIN;
  period_cell *c = NULL;
  for (size_t k = 0; k < ev->n; k++) {
    int64_t p = pd__period_index(ctx->r->tz, ctx->r->o.period, ev->time[k]);
    if (p != prev || !c) {
      if (!(c = cell_of(w, p))) {
        w->nomem = true;
        return 1;
      }
      c->active++;
      if (k == 0) c->new_users++;
      prev = p;
    }
    c->events++;
    c->revenue += net_amount(ev->type[k], ev->amount[k]);
  }
  return 0;
}

typedef struct basic {
  period_cell *cells; /* merged, sorted by period */
  size_t n_cells;
} basic;

static void basic_free(basic *b) { free(b->cells); }

static int cmp_cell(const void *a, const void *b) {
  const period_cell *x = a, *y = b;
  return x->period < y->period ? -1 : x->period > y->period;
}

static pd_status basic_scan(pd__report *r, basic *out) {
  memset(out, 0, sizeof *out);
  pd_scan_options so = PD_SCAN_OPTIONS_INIT;
  so.threads = r->o.threads;
  unsigned nw = pd_scan_workers(&so);
  scan_ctx ctx = {r, calloc(nw, sizeof(worker))};
  pd_status st = ctx.w ? PD_OK : pd__error(PD_ERR_NOMEM, "report: out of memory");
  for (unsigned i = 0; i < nw && st == PD_OK; i++)
    ctx.w[i].cells = g_hash_table_new_full(g_int64_hash, g_int64_equal, NULL, free);
  if (st == PD_OK) {
    st = pd_scan(r->store, &so, on_user, &ctx);
    for (unsigned i = 0; i < nw; i++)
      if (ctx.w[i].nomem) st = pd__error(PD_ERR_NOMEM, "report: out of memory");
  }
  /* merge the partials */
  GHashTable *all = g_hash_table_new(g_int64_hash, g_int64_equal);
  for (unsigned i = 0; st == PD_OK && i < nw; i++) {
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, ctx.w[i].cells);
    while (g_hash_table_iter_next(&it, &k, &v)) {
      period_cell *src = v, *dst = g_hash_table_lookup(all, k);
      if (!dst) {
        g_hash_table_insert(all, k, src); /* borrowed from worker i, copied below */
        continue;
      }
      dst->active += src->active;
      dst->new_users += src->new_users;
      dst->events += src->events;
      dst->revenue += src->revenue;
    }
  }
  if (st == PD_OK) {
    out->n_cells = g_hash_table_size(all);
    out->cells = malloc((out->n_cells + 1) * sizeof *out->cells);
    if (!out->cells) {
      st = pd__error(PD_ERR_NOMEM, "report: out of memory");
    } else {
      GHashTableIter it;
      gpointer k, v;
      size_t n = 0;
      g_hash_table_iter_init(&it, all);
      while (g_hash_table_iter_next(&it, &k, &v)) out->cells[n++] = *(period_cell *)v;
      qsort(out->cells, n, sizeof *out->cells, cmp_cell);
    }
  }
  g_hash_table_destroy(all);
  for (unsigned i = 0; ctx.w && i < nw; i++) {
    if (ctx.w[i].cells) g_hash_table_destroy(ctx.w[i].cells);
  }
  free(ctx.w);
  if (st != PD_OK) basic_free(out);
  return st;
}

/* ---- activity ------------------------------------------------------------ */

pd_status pd__report_activity(pd__report *r) {
  basic bs;
  pd_status st = basic_scan(r, &bs);
  if (st != PD_OK) return st;
  const char *pname = pd__report_period_name(r);
  char col_period[32];
  snprintf(col_period, sizeof col_period, "%s", pname);
  pd_table *t = pd__table_new("activity");
  size_t c_p = pd__table_add_col(t, col_period, PD_TYPE_STRING);
  size_t c_a = pd__table_add_col(t, "active users", PD_TYPE_INT64);
  size_t c_n = pd__table_add_col(t, "new users", PD_TYPE_INT64);
  size_t c_e = pd__table_add_col(t, "events", PD_TYPE_INT64);
  size_t c_r = pd__table_add_col(t, "net revenue", PD_TYPE_INT64);
  int64_t total_rev = 0, peak = 0, total_new = 0;
  for (size_t i = 0; i < bs.n_cells; i++) {
    char label[32];
    pd__period_label(r->o.period, bs.cells[i].period, label, sizeof label);
    size_t row = pd__table_add_row(t);
    pd__table_set_string(t, row, c_p, label);
    pd__table_set_int64(t, row, c_a, bs.cells[i].active);
    pd__table_set_int64(t, row, c_n, bs.cells[i].new_users);
    pd__table_set_int64(t, row, c_e, bs.cells[i].events);
    pd__table_set_int64(t, row, c_r, bs.cells[i].revenue);
    total_rev += bs.cells[i].revenue;
    total_new += bs.cells[i].new_users;
    if (bs.cells[i].active > peak) peak = bs.cells[i].active;
  }
  size_t n_cells = bs.n_cells;
  int64_t last_active = n_cells ? bs.cells[n_cells - 1].active : 0;
  basic_free(&bs);
  pd_table *act = NULL;
  if ((st = pd__table_finish(t, &act)) != PD_OK) return st;

  char buf[128], note[128];
  pd__report_kpis_begin(r);
  pd__report_fmt(r, (double)total_new, PD_VALUE_INTEGER, buf, sizeof buf);
  pd__report_kpi(r, "Users (first seen)", buf, NULL);
  pd__report_fmt(r, (double)peak, PD_VALUE_INTEGER, buf, sizeof buf);
  snprintf(note, sizeof note, "most active users in one %s", pname);
  pd__report_kpi(r, "Peak active", buf, note);
  pd__report_fmt(r, (double)last_active, PD_VALUE_INTEGER, buf, sizeof buf);
  snprintf(note, sizeof note, "in the last %s (may be partial)", pname);
  pd__report_kpi(r, "Active, latest", buf, note);
  pd__report_fmt(r, (double)total_rev, PD_VALUE_CURRENCY, buf, sizeof buf);
  pd__report_kpi(r, "Net revenue", buf, "purchases minus refunds");
  pd__report_kpis_end(r);

  char title[96], x_title[96];
  snprintf(x_title, sizeof x_title, "%s (%s)", pname, pd__tz_name(r->tz));
  pd_chart_spec spec = PD_CHART_SPEC_INIT;
  spec.kind = PD_CHART_LINE;
  snprintf(title, sizeof title, "Active and new users per %s", pname);
  spec.title = title;
  spec.value_cols = "active users,new users";
  spec.x_title = x_title;
  spec.y_title = "users (count)";
  spec.max_items = 1000;
  pd__report_chart(r, act, &spec);
  pd_chart_spec rev = PD_CHART_SPEC_INIT;
  rev.kind = PD_CHART_BAR;
  snprintf(title, sizeof title, "Net revenue per %s", pname);
  rev.title = title;
  rev.value_cols = "net revenue";
  rev.format = PD_VALUE_CURRENCY;
  rev.decimals = 0;
  rev.x_title = x_title;
  rev.max_items = 1000;
  pd__report_chart(r, act, &rev);
  pd__buf_puts(r->b, "<details><summary>Figures per period</summary>");
  pd__report_table(r, act, "net revenue", NULL, 0);
  pd__buf_puts(r->b, "</details>");
  pd_table_free(act);
  return PD_OK;
}

/* ---- touchpoints: the scorecard (touchpoints.h) over the whole store ------ */

typedef struct tp_order {
  size_t row;
  int64_t acquired;
} tp_order;

static int cmp_tp(const void *a, const void *b) {
  const tp_order *x = a, *y = b;
  if (x->acquired != y->acquired) return x->acquired > y->acquired ? -1 : 1;
  return x->row < y->row ? -1 : x->row > y->row;
}

/* Copies cell (row, src column `from`) of `s` into (row, col) of `t`, null stays null. */
static void copy_cell(pd_table *t, size_t row, size_t col, const pd_table *s, size_t srow, const char *from) {
  long c = pd_table_col_index(s, from);
  if (c < 0 || pd_table_is_null(s, srow, (size_t)c)) return;
  switch (pd_table_col_type(s, (size_t)c)) {
    case PD_TYPE_INT64: pd__table_set_int64(t, row, col, pd_table_get_int64(s, srow, (size_t)c)); break;
    case PD_TYPE_DOUBLE: pd__table_set_double(t, row, col, pd_table_get_double(s, srow, (size_t)c)); break;
    default: pd__table_set_string(t, row, col, pd_table_get_string(s, srow, (size_t)c)); break;
  }
}

static int64_t col_sum(const pd_table *s, const char *name, const char *domain) {
  long c = pd_table_col_index(s, name), d = pd_table_col_index(s, "domain");
  int64_t sum = 0;
  for (size_t i = 0; c >= 0 && i < pd_table_n_rows(s); i++) {
    if (domain && (d < 0 || pd_table_is_null(s, i, (size_t)d) || strcmp(pd_table_get_string(s, i, (size_t)d), domain)))
      continue;
    if (!pd_table_is_null(s, i, (size_t)c)) sum += pd_table_get_int64(s, i, (size_t)c);
  }
  return sum;
}

pd_status pd__report_touchpoints(pd__report *r) {
  pd_touchpoint_options o = PD_TOUCHPOINT_OPTIONS_INIT;
  o.tz = pd__tz_name(r->tz);
  o.threads = r->o.threads;
  pd_table *card = NULL;
  pd_status st = pd_touchpoint_scorecard(r->store, &o, &card);
  if (st != PD_OK) return st;
  size_t n = pd_table_n_rows(card);
  tp_order *ord = malloc((n ? n : 1) * sizeof *ord);
  if (!ord) {
    pd_table_free(card);
    return pd__error(PD_ERR_NOMEM, "report: out of memory");
  }
  long c_acq = pd_table_col_index(card, "acquired");
  for (size_t i = 0; i < n; i++) ord[i] = (tp_order){i, pd_table_get_int64(card, i, (size_t)c_acq)};
  qsort(ord, n, sizeof *ord, cmp_tp);
  /* the operator's view: a few columns with people's names, by users acquired */
  static const struct {
    const char *from, *to;
  } cols[] = {{"touchpoint", "touchpoint"}, {"domain", "domain"}, {"carrier", "carrier"},
              {"acquired", "acquired"}, {"spend", "spend"}, {"cac", "CAC"},
              {"retention_7", "7-day retention"}, {"retention_30", "30-day retention"},
              {"open_rate", "message open rate"}, {"ltv", "LTV"}, {"ltv_cac", "LTV:CAC"}, {"k", "referral K"},
              {"private_share", "private purchases"}, {"accessibility", "accessibility"},
              {"connection", "connection"}, {"endurance", "endurance"}, {"score", "score"}, {"label", "label"}};
  pd_table *t = pd__table_new("touchpoint scorecard");
  size_t ncols = sizeof cols / sizeof cols[0], out_col[sizeof cols / sizeof cols[0]];
  for (size_t j = 0; j < ncols; j++)
    out_col[j] = pd__table_add_col(t, cols[j].to, pd_table_col_type(card, (size_t)pd_table_col_index(card, cols[j].from)));
  for (size_t i = 0; i < n; i++) {
    size_t row = pd__table_add_row(t);
    for (size_t j = 0; j < ncols; j++) copy_cell(t, row, out_col[j], card, ord[i].row, cols[j].from);
  }
  free(ord);
  int64_t priv = col_sum(card, "acquired", "private"), pub = col_sum(card, "acquired", "public");
  int64_t acquired = col_sum(card, "acquired", NULL), tps = col_sum(card, "touchpoints", NULL);
  long days_col = pd_table_col_index(card, "days");
  int64_t days = n && days_col >= 0 ? pd_table_get_int64(card, 0, (size_t)days_col) : 0;
  pd_table_free(card);
  pd_table *tv = NULL;
  if ((st = pd__table_finish(t, &tv)) != PD_OK) return st;

  char buf[64], note[160];
  pd__report_kpis_begin(r);
  pd__report_fmt(r, (double)tps, PD_VALUE_INTEGER, buf, sizeof buf);
  pd__report_kpi(r, "Touchpoints", buf, NULL);
  pd__report_fmt(r, (double)priv, PD_VALUE_INTEGER, buf, sizeof buf);
  pd__report_kpi(r, "Acquired in the private domain", buf, "users (first acquire event)");
  pd__report_fmt(r, (double)pub, PD_VALUE_INTEGER, buf, sizeof buf);
  pd__report_kpi(r, "Acquired in the public domain", buf, "users (first acquire event)");
  pd__report_fmt(r, (double)acquired, PD_VALUE_INTEGER, buf, sizeof buf);
  snprintf(note, sizeof note, "spend counted over %lld days", (long long)days);
  pd__report_kpi(r, "Acquired, all touchpoints", buf, note);
  pd__report_kpis_end(r);

  pd_chart_spec acq = PD_CHART_SPEC_INIT;
  acq.kind = PD_CHART_HBAR;
  acq.title = "Users acquired by touchpoint";
  acq.value_cols = "acquired";
  acq.y_title = "users acquired (count)";
  acq.max_items = 30;
  pd__report_chart(r, tv, &acq);
  pd_chart_spec heat = PD_CHART_SPEC_INIT;
  heat.kind = PD_CHART_HEATMAP;
  heat.title = "Accessibility, connection, endurance";
  heat.subtitle = "open rate; share of activity via a person or group; 30-day retention; their mean";
  heat.value_cols = "accessibility,connection,endurance,score";
  heat.note_col = "acquired";
  heat.format = PD_VALUE_PERCENT;
  heat.x_title = "touchpoint";
  heat.y_title = "component (0-100%)";
  heat.max_items = 30;
  pd__report_chart(r, tv, &heat);
  pd_chart_spec ratio = PD_CHART_SPEC_INIT;
  ratio.kind = PD_CHART_HBAR;
  ratio.title = "LTV:CAC by touchpoint";
  ratio.value_cols = "LTV:CAC";
  ratio.format = PD_VALUE_PLAIN;
  ratio.y_title = "historical LTV / CAC";
  ratio.has_ref = 1;
  ratio.ref_value = 1;
  ratio.ref_label = "LTV = CAC";
  ratio.max_items = 30;
  pd__report_chart(r, tv, &ratio);
  pd__report_table(r, tv, "spend,CAC,LTV",
                   "7-day retention,30-day retention,message open rate,private purchases,accessibility,connection,"
                   "endurance,score",
                   50);
  pd__report_note(r, "Users are counted at their first acquire event's touchpoint; CAC = daily spend \xC3\x97 days / "
                     "users acquired (\xE2\x80\x93 without spend or users); retention: active again 7 / 30 days "
                     "after acquisition or later; LTV: net revenue per acquired user since acquisition. "
                     "Definitions: docs/TOUCHPOINTS.md.");
  pd_table_free(tv);
  return PD_OK;
}
