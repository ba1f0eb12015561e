/* Report sections that need only the store: overview (store facts),
 * activity (active and new users, net revenue per period) and touchpoints
 * (first-touch users and revenue, spend). The activity and first-touch
 * figures come from one scan with per-worker partials merged after it. */
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

/* ---- one scan: per-period activity and first-touch figures --------------- */

typedef struct period_cell {
  int64_t period; /* key */
  int64_t active, new_users, events, revenue;
} period_cell;

typedef struct worker {
  GHashTable *cells; /* &period -> period_cell */
  int64_t *tp_users, *tp_revenue; /* by first touchpoint; slot n_tp = none */
  bool nomem;
} worker;

typedef struct scan_ctx {
  const pd__report *r;
  uint32_t n_tp;
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
  int64_t prev = INT64_MIN, user_revenue = 0;
  uint32_t first_tp = PD_NONE;
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
    int64_t net = net_amount(ev->type[k], ev->amount[k]);
    c->revenue += net;
    user_revenue += net;
    if (first_tp == PD_NONE && ev->touchpoint[k] != PD_NONE && ev->touchpoint[k] < ctx->n_tp)
      first_tp = ev->touchpoint[k];
  }
  size_t slot = first_tp == PD_NONE ? ctx->n_tp : first_tp;
  w->tp_users[slot]++;
  w->tp_revenue[slot] += user_revenue;
  return 0;
}

typedef struct basic {
  period_cell *cells; /* merged, sorted by period */
  size_t n_cells;
  int64_t *tp_users, *tp_revenue;
  uint32_t n_tp;
} basic;

static void basic_free(basic *b) {
  free(b->cells);
  free(b->tp_users);
  free(b->tp_revenue);
}

static int cmp_cell(const void *a, const void *b) {
  const period_cell *x = a, *y = b;
  return x->period < y->period ? -1 : x->period > y->period;
}

static pd_status basic_scan(pd__report *r, basic *out) {
  memset(out, 0, sizeof *out);
  pd_scan_options so = PD_SCAN_OPTIONS_INIT;
  so.threads = r->o.threads;
  unsigned nw = pd_scan_workers(&so);
  scan_ctx ctx = {r, pd_store_n_touchpoints(r->store), calloc(nw, sizeof(worker))};
  out->n_tp = ctx.n_tp;
  pd_status st = ctx.w ? PD_OK : pd__error(PD_ERR_NOMEM, "report: out of memory");
  for (unsigned i = 0; i < nw && st == PD_OK; i++) {
    ctx.w[i].cells = g_hash_table_new_full(g_int64_hash, g_int64_equal, NULL, free);
    ctx.w[i].tp_users = calloc(ctx.n_tp + 1, sizeof(int64_t));
    ctx.w[i].tp_revenue = calloc(ctx.n_tp + 1, sizeof(int64_t));
    if (!ctx.w[i].tp_users || !ctx.w[i].tp_revenue) st = pd__error(PD_ERR_NOMEM, "report: out of memory");
  }
  if (st == PD_OK) {
    st = pd_scan(r->store, &so, on_user, &ctx);
    for (unsigned i = 0; i < nw; i++)
      if (ctx.w[i].nomem) st = pd__error(PD_ERR_NOMEM, "report: out of memory");
  }
  /* merge the partials */
  GHashTable *all = g_hash_table_new(g_int64_hash, g_int64_equal);
  out->tp_users = calloc(ctx.n_tp + 1, sizeof(int64_t));
  out->tp_revenue = calloc(ctx.n_tp + 1, sizeof(int64_t));
  if (st == PD_OK && (!out->tp_users || !out->tp_revenue)) st = pd__error(PD_ERR_NOMEM, "report: out of memory");
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
    for (uint32_t t = 0; t <= ctx.n_tp; t++) {
      out->tp_users[t] += ctx.w[i].tp_users[t];
      out->tp_revenue[t] += ctx.w[i].tp_revenue[t];
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
    free(ctx.w[i].tp_users);
    free(ctx.w[i].tp_revenue);
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

/* ---- touchpoints ------------------------------------------------------------ */

typedef struct tp_row {
  uint32_t tp;
  int64_t users, revenue;
} tp_row;

static int cmp_tp(const void *a, const void *b) {
  const tp_row *x = a, *y = b;
  if (x->users != y->users) return x->users > y->users ? -1 : 1;
  return x->tp < y->tp ? -1 : x->tp > y->tp;
}

pd_status pd__report_touchpoints(pd__report *r) {
  basic bs;
  pd_status st = basic_scan(r, &bs);
  if (st != PD_OK) return st;
  tp_row *rows = malloc((bs.n_tp + 1) * sizeof *rows);
  if (!rows) {
    basic_free(&bs);
    return pd__error(PD_ERR_NOMEM, "report: out of memory");
  }
  for (uint32_t i = 0; i <= bs.n_tp; i++) rows[i] = (tp_row){i, bs.tp_users[i], bs.tp_revenue[i]};
  qsort(rows, bs.n_tp + 1, sizeof *rows, cmp_tp);
  pd_table *t = pd__table_new("touchpoints");
  size_t c_name = pd__table_add_col(t, "touchpoint", PD_TYPE_STRING);
  size_t c_dom = pd__table_add_col(t, "domain", PD_TYPE_STRING);
  size_t c_car = pd__table_add_col(t, "carrier", PD_TYPE_STRING);
  size_t c_users = pd__table_add_col(t, "first-touch users", PD_TYPE_INT64);
  size_t c_rev = pd__table_add_col(t, "their net revenue", PD_TYPE_INT64);
  size_t c_arpu = pd__table_add_col(t, "revenue per user", PD_TYPE_DOUBLE);
  size_t c_spend = pd__table_add_col(t, "daily spend", PD_TYPE_INT64);
  int64_t priv = 0, pub = 0;
  for (uint32_t i = 0; i <= bs.n_tp; i++) {
    if (rows[i].users == 0 && rows[i].tp == bs.n_tp) continue;
    size_t row = pd__table_add_row(t);
    if (rows[i].tp == bs.n_tp) {
      pd__table_set_string(t, row, c_name, "(no touchpoint)");
    } else {
      pd_touchpoint_def d = PD_TOUCHPOINT_DEF_INIT;
      if ((st = pd_store_touchpoint(r->store, rows[i].tp, &d)) != PD_OK) break;
      pd__table_set_string(t, row, c_name, d.name);
      pd__table_set_string(t, row, c_dom, pd_domain_name(d.domain));
      pd__table_set_string(t, row, c_car, pd_carrier_name(d.carrier));
      if (d.daily_spend >= 0) pd__table_set_int64(t, row, c_spend, d.daily_spend);
      if (d.domain == PD_DOMAIN_PRIVATE) priv += rows[i].users;
      if (d.domain == PD_DOMAIN_PUBLIC) pub += rows[i].users;
    }
    pd__table_set_int64(t, row, c_users, rows[i].users);
    pd__table_set_int64(t, row, c_rev, rows[i].revenue);
    if (rows[i].users > 0) pd__table_set_double(t, row, c_arpu, (double)rows[i].revenue / (double)rows[i].users);
  }
  uint32_t n_tp = bs.n_tp;
  free(rows);
  basic_free(&bs);
  pd_table *tps = NULL;
  pd_status fst = pd__table_finish(t, &tps);
  if (st != PD_OK) {
    pd_table_free(tps);
    return st;
  }
  if (fst != PD_OK) return fst;
  char buf[64];
  pd__report_kpis_begin(r);
  pd__report_fmt(r, (double)n_tp, PD_VALUE_INTEGER, buf, sizeof buf);
  pd__report_kpi(r, "Touchpoints", buf, NULL);
  pd__report_fmt(r, (double)priv, PD_VALUE_INTEGER, buf, sizeof buf);
  pd__report_kpi(r, "First touch in private domain", buf, "users");
  pd__report_fmt(r, (double)pub, PD_VALUE_INTEGER, buf, sizeof buf);
  pd__report_kpi(r, "First touch in public domain", buf, "users");
  pd__report_kpis_end(r);
  pd_chart_spec spec = PD_CHART_SPEC_INIT;
  spec.kind = PD_CHART_HBAR;
  spec.title = "Users by first touchpoint";
  spec.value_cols = "first-touch users";
  spec.y_title = "users (count)";
  spec.max_items = 30;
  pd__report_chart(r, tps, &spec);
  pd__report_table(r, tps, "their net revenue,revenue per user,daily spend", NULL, 50);
  pd__report_note(r, "First touch: the touchpoint of a user's first event that has one. Revenue is net of refunds.");
  pd_table_free(tps);
  return PD_OK;
}
