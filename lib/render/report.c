/* The operator's report: page frame, section list, shared HTML helpers.
 * Sections live in report_*.c; this file knows only their ids, titles and
 * functions (the `sections` table below). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "report_internal.h"
#include "svg.h"

typedef struct section {
  const char *id;
  const char *title;
  const char *blurb; /* one line under the heading saying what it answers */
  pd_status (*fn)(pd__report *r);
} section;

/* Order of the page. Add a line per new section (see report_internal.h). */
static const section sections[] = {
    {"overview", "Overview", "What is in the store: users, events, time span, touchpoints.", pd__report_overview},
    {"stages", "Growth stages", "Headline figures of each stage of the loop for the latest complete period.",
     pd__report_stages},
    {"activity", "Activity", "Active users, new users and net revenue per period.", pd__report_activity},
    {"funnel", "Funnel", "How many acquired users activate, buy once and buy again, and where they drop off.",
     pd__report_funnel},
    {"retention", "Retention", "How each acquisition cohort keeps coming back, and what it has paid so far.",
     pd__report_retention},
    {"lifecycle", "Pool lifecycle", "How the pool of active users changes: who is new, who stays, who comes back, who "
     "goes dormant.", pd__report_lifecycle},
    {"referral", "Referral", "How much referral (fission) brings, how deep the chains go, and what it saves.",
     pd__report_referral},
    {"touchpoints", "Touchpoints", "The touchpoint scorecard: what the users each touchpoint acquired cost, do and are worth, whether we can reach them and whether they stay.", pd__report_touchpoints},
    {"clv", "Customer value", "What customers are likely to be worth, who is still alive, who has gone dormant.",
     pd__report_clv},
    {"rfm", "RFM layers", "Paying customers in the eight classic RFM layers, with what to do for each.",
     pd__report_rfm},
};
#define N_SECTIONS (sizeof sections / sizeof sections[0])

const char *pd_report_section_id(size_t i) { return i < N_SECTIONS ? sections[i].id : NULL; }

static const char css[] =
    ":root{--ink:#222;--muted:#666;--line:#e3e3e3;--bg:#f5f6f8;--card:#fff;--accent:#4e79a7;--bad:#b03a2e}"
    "*{box-sizing:border-box}"
    "body{margin:0;background:var(--bg);color:var(--ink);font:14px/1.5 " PD__FONT_FAMILY "}"
    "header.pd-head{background:#24324a;color:#fff;padding:20px 24px}"
    "header.pd-head h1{margin:0 0 4px;font-size:22px}"
    "header.pd-head p{margin:0;color:#c9d3e3;font-size:13px}"
    "nav.pd-nav{display:flex;flex-wrap:wrap;gap:6px 14px;margin-top:12px}"
    "nav.pd-nav a{color:#fff;text-decoration:none;font-size:13px;border-bottom:1px dotted #8fa3c4}"
    "main{max-width:1120px;margin:0 auto;padding:16px}"
    "section.pd-section{background:var(--card);border:1px solid var(--line);border-radius:6px;"
    "padding:16px 20px;margin:0 0 16px}"
    "section.pd-section h2{margin:0 0 2px;font-size:18px}"
    "p.pd-blurb{margin:0 0 12px;color:var(--muted);font-size:13px}"
    "p.pd-note{color:var(--muted);font-size:12.5px;margin:6px 0}"
    ".pd-kpis{display:grid;grid-template-columns:repeat(auto-fill,minmax(160px,1fr));gap:10px;margin:8px 0 14px}"
    ".pd-kpi{border:1px solid var(--line);border-radius:6px;padding:10px 12px;background:#fafbfc}"
    ".pd-kpi .pd-label{color:var(--muted);font-size:12px}"
    ".pd-kpi .pd-value{font-size:22px;font-weight:600;font-variant-numeric:tabular-nums}"
    ".pd-kpi .pd-sub{color:var(--muted);font-size:11.5px}"
    ".pd-chart{margin:8px 0 14px;overflow-x:auto}"
    ".pd-chart svg{max-width:100%;min-width:560px;height:auto;display:block}"
    ".pd-table-wrap{overflow-x:auto;margin:8px 0 12px}"
    "table.pd-table{border-collapse:collapse;font-size:12.5px;min-width:50%}"
    "table.pd-table th,table.pd-table td{padding:4px 10px;border-bottom:1px solid var(--line);white-space:nowrap}"
    /* long text (advice, long names) wraps rather than widening the table */
    "table.pd-table td:not(.pd-num){white-space:normal;min-width:8em;max-width:24em}"
    "table.pd-table th{text-align:left;background:#f0f2f5;font-weight:600}"
    "table.pd-table td.pd-num{text-align:right;font-variant-numeric:tabular-nums}"
    ".pd-error{color:var(--bad);background:#fdf0ee;border:1px solid #f1c4bd;border-radius:4px;padding:8px 10px}"
    "h3.pd-stage{margin:14px 0 0;font-size:14px;color:#24324a;text-transform:none}"
    "details summary{cursor:pointer;color:var(--accent);font-size:13px}"
    "footer{color:var(--muted);font-size:12px;text-align:center;padding:8px 0 24px}"
    "@media (max-width:600px){main{padding:8px}section.pd-section{padding:12px}"
    ".pd-kpi .pd-value{font-size:18px}header.pd-head h1{font-size:19px}"
    /* phones: charts keep their 560 px (readable text) and scroll sideways
     * from edge to edge of the section, saying so */
    ".pd-chart{margin-left:-12px;margin-right:-12px}"
    ".pd-chart::before{content:\"\\2194  swipe sideways for the whole chart\";display:block;"
    "padding:0 12px 2px;color:var(--muted);font-size:11px}}";

/* ---- helpers for sections ---------------------------------------------- */

void pd__report_fmt(const pd__report *r, double v, pd_value_format f, char *buf, size_t size) {
  pd__format_value(v, f == PD_VALUE_AUTO ? PD_VALUE_PLAIN : f, r->o.currency_symbol, -1, buf, size);
}

const char *pd__report_period_name(const pd__report *r) {
  switch (r->o.period) {
  case PD_PERIOD_DAY: return "day";
  case PD_PERIOD_MONTH: return "month";
  default: return "week";
  }
}

void pd__report_chart(pd__report *r, const pd_table *t, const pd_chart_spec *spec) {
  pd_chart_spec s = *spec;
  if (!s.currency_symbol) s.currency_symbol = r->o.currency_symbol;
  char *svg = NULL;
  pd_status st = pd_chart_svg(t, &s, &svg);
  if (st != PD_OK) {
    pd__buf_puts(r->b, "<p class=\"pd-error\">chart failed: ");
    pd__buf_escape(r->b, pd_last_error());
    pd__buf_puts(r->b, "</p>");
    return;
  }
  pd__buf_puts(r->b, "<div class=\"pd-chart\">");
  pd__buf_puts(r->b, svg);
  pd__buf_puts(r->b, "</div>");
  pd_free(svg);
}

static bool in_list(const char *list, const char *name) {
  if (!list || !name) return false;
  size_t n = strlen(name);
  for (const char *p = list; *p;) {
    const char *comma = strchr(p, ',');
    size_t len = comma ? (size_t)(comma - p) : strlen(p);
    if (len == n && strncmp(p, name, n) == 0) return true;
    p += len + (comma ? 1 : 0);
  }
  return false;
}

void pd__report_table(pd__report *r, const pd_table *t, const char *currency_cols, const char *percent_cols,
                      size_t max_rows) {
  size_t nc = pd_table_n_cols(t), nr = pd_table_n_rows(t);
  size_t shown = max_rows && nr > max_rows ? max_rows : nr;
  pd__buf *b = r->b;
  pd__buf_puts(b, "<div class=\"pd-table-wrap\"><table class=\"pd-table\"><thead><tr>");
  for (size_t c = 0; c < nc; c++) {
    pd__buf_puts(b, "<th>");
    pd__buf_escape(b, pd_table_col_name(t, c));
    pd__buf_puts(b, "</th>");
  }
  pd__buf_puts(b, "</tr></thead><tbody>");
  char buf[512];
  for (size_t i = 0; i < shown; i++) {
    pd__buf_puts(b, "<tr>");
    for (size_t c = 0; c < nc; c++) {
      pd_type ty = pd_table_col_type(t, c);
      const char *name = pd_table_col_name(t, c);
      bool num = ty != PD_TYPE_STRING;
      pd__buf_puts(b, num ? "<td class=\"pd-num\">" : "<td>");
      if (pd_table_is_null(t, i, c)) {
        pd__buf_puts(b, "\xE2\x80\x93");
      } else if (!num) {
        pd__buf_escape(b, pd_table_get_string(t, i, c));
      } else {
        double v = ty == PD_TYPE_INT64 ? (double)pd_table_get_int64(t, i, c) : pd_table_get_double(t, i, c);
        /* identifiers read as plain numbers, without thousands separators */
        bool id = ty == PD_TYPE_INT64 && in_list("user,root,referrer,node,parent,id,row,cohort_start,period_start", name);
        if (id) {
          snprintf(buf, sizeof buf, "%lld", (long long)pd_table_get_int64(t, i, c));
          pd__buf_escape(b, buf);
          pd__buf_puts(b, "</td>");
          continue;
        }
        pd_value_format f = in_list(currency_cols, name)  ? PD_VALUE_CURRENCY
                            : in_list(percent_cols, name) ? PD_VALUE_PERCENT
                            : ty == PD_TYPE_INT64         ? PD_VALUE_INTEGER
                                                          : PD_VALUE_PLAIN;
        pd__report_fmt(r, v, f, buf, sizeof buf);
        pd__buf_escape(b, buf);
      }
      pd__buf_puts(b, "</td>");
    }
    pd__buf_puts(b, "</tr>");
  }
  pd__buf_puts(b, "</tbody></table></div>");
  if (shown < nr) {
    snprintf(buf, sizeof buf, "First %zu of %zu rows.", shown, nr);
    pd__report_note(r, buf);
  }
}

void pd__report_kpis_begin(pd__report *r) { pd__buf_puts(r->b, "<div class=\"pd-kpis\">"); }
void pd__report_kpis_end(pd__report *r) { pd__buf_puts(r->b, "</div>"); }

void pd__report_kpi(pd__report *r, const char *label, const char *value, const char *note) {
  pd__buf_puts(r->b, "<div class=\"pd-kpi\"><div class=\"pd-label\">");
  pd__buf_escape(r->b, label);
  pd__buf_puts(r->b, "</div><div class=\"pd-value\">");
  pd__buf_escape(r->b, value);
  pd__buf_puts(r->b, "</div>");
  if (note && *note) {
    pd__buf_puts(r->b, "<div class=\"pd-sub\">");
    pd__buf_escape(r->b, note);
    pd__buf_puts(r->b, "</div>");
  }
  pd__buf_puts(r->b, "</div>");
}

void pd__report_note(pd__report *r, const char *text) {
  pd__buf_puts(r->b, "<p class=\"pd-note\">");
  pd__buf_escape(r->b, text);
  pd__buf_puts(r->b, "</p>");
}

int64_t pd__report_lookup(const pd_table *t, const char *key_col, const char *key, const char *value_col) {
  long k = pd_table_col_index(t, key_col), v = pd_table_col_index(t, value_col);
  if (k < 0 || v < 0) return -1;
  for (size_t i = 0; i < pd_table_n_rows(t); i++) {
    const char *s = pd_table_get_string(t, i, (size_t)k);
    if (s && strcmp(s, key) == 0 && !pd_table_is_null(t, i, (size_t)v)) return pd_table_get_int64(t, i, (size_t)v);
  }
  return -1;
}

/* ---- the page ------------------------------------------------------------ */

static pd_status normalise(const pd_report_options *opts, pd_report_options *o) {
  pd_report_options init = PD_REPORT_OPTIONS_INIT;
  *o = init;
  if (opts) {
    if (opts->size < offsetof(pd_report_options, tz))
      return pd__error(PD_ERR_INVALID, "pd_report: options.size %zu too small", opts->size);
    memcpy(o, opts, opts->size < sizeof *o ? opts->size : sizeof *o);
    o->size = sizeof *o;
  }
  if (!o->title) o->title = "Private-domain report";
  if (!o->currency_symbol) o->currency_symbol = "\xC2\xA5";
  if (o->referral_cap <= 0) o->referral_cap = 2;
  if (o->period < PD_PERIOD_DAY || o->period > PD_PERIOD_MONTH)
    return pd__error(PD_ERR_INVALID, "pd_report: unknown period %d", (int)o->period);
  if (o->sections) { /* every requested id must exist */
    const char *p = o->sections;
    while (*p) {
      const char *comma = strchr(p, ',');
      size_t len = comma ? (size_t)(comma - p) : strlen(p);
      bool found = len == 0;
      for (size_t i = 0; i < N_SECTIONS && !found; i++)
        found = strlen(sections[i].id) == len && strncmp(sections[i].id, p, len) == 0;
      if (!found) return pd__error(PD_ERR_INVALID, "pd_report: unknown section \"%.*s\"", (int)len, p);
      p += len + (comma ? 1 : 0);
    }
  }
  return PD_OK;
}

static void page_head(pd__report *r) {
  pd__buf *b = r->b;
  pd__buf_puts(b, "<!DOCTYPE html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\"/>"
                  "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>"
                  "<meta name=\"generator\" content=\"libprivdomain ");
  pd__buf_escape(b, pd_version_string());
  pd__buf_puts(b, "\"/><link rel=\"icon\" href=\"data:,\"/><title>");
  pd__buf_escape(b, r->o.title);
  pd__buf_puts(b, "</title><style>");
  pd__buf_puts(b, css);
  pd__buf_puts(b, "</style></head>\n<body><header class=\"pd-head\"><h1>");
  pd__buf_escape(b, r->o.title);
  pd__buf_puts(b, "</h1><p>");
  char when[64] = "";
  time_t now = time(NULL);
  struct tm tm;
  if (gmtime_r(&now, &tm)) strftime(when, sizeof when, "%Y-%m-%d %H:%M UTC", &tm);
  char line[256];
  snprintf(line, sizeof line, "Generated %s \xC2\xB7 time zone %s \xC2\xB7 period: %s \xC2\xB7 stage order %s", when,
           pd__tz_name(r->tz), pd__report_period_name(r), r->o.rarra ? "RARRA" : "AARRR");
  pd__buf_escape(b, line);
  pd__buf_puts(b, "</p><nav class=\"pd-nav\">");
  for (size_t i = 0; i < N_SECTIONS; i++) {
    if (r->o.sections && !in_list(r->o.sections, sections[i].id)) continue;
    pd__buf_printf(b, "<a href=\"#%s\">", sections[i].id);
    pd__buf_escape(b, sections[i].title);
    pd__buf_puts(b, "</a>");
  }
  pd__buf_puts(b, "</nav></header>\n<main>\n");
}

pd_status pd_report_html(pd_store *store, const pd_report_options *opts, char **out_html) {
  if (out_html) *out_html = NULL;
  if (!store || !out_html) return pd__error(PD_ERR_INVALID, "pd_report_html: NULL argument");
  pd__report r;
  memset(&r, 0, sizeof r);
  r.store = store;
  pd_status st = normalise(opts, &r.o);
  if (st != PD_OK) return st;
  if ((st = pd__tz_open(r.o.tz, &r.tz)) != PD_OK) return st;
  pd__buf b = {0};
  r.b = &b;
  page_head(&r);
  for (size_t i = 0; i < N_SECTIONS; i++) {
    const section *s = &sections[i];
    if (r.o.sections && !in_list(r.o.sections, s->id)) continue;
    pd__buf_printf(&b, "<section class=\"pd-section\" id=\"%s\"><h2>", s->id);
    pd__buf_escape(&b, s->title);
    pd__buf_puts(&b, "</h2><p class=\"pd-blurb\">");
    pd__buf_escape(&b, s->blurb);
    pd__buf_puts(&b, "</p>");
    size_t mark = b.len;
    pd_clear_error();
    pd_status sst = s->fn(&r);
    if (sst == PD_ERR_NOMEM || b.failed) {
      st = PD_ERR_NOMEM;
      break;
    }
    if (sst != PD_OK) { /* keep the page: say what failed in the section's place */
      if (b.len > mark) b.len = mark, b.data[mark] = '\0';
      pd__buf_puts(&b, "<p class=\"pd-error\">This section could not be computed: ");
      pd__buf_escape(&b, *pd_last_error() ? pd_last_error() : pd_status_str(sst));
      pd__buf_puts(&b, "</p>");
    }
    pd__buf_puts(&b, "</section>\n");
  }
  pd__buf_puts(&b, "</main><footer>libprivdomain ");
  pd__buf_escape(&b, pd_version_string());
  pd__buf_puts(&b, " \xC2\xB7 amounts in minor units are shown in major units \xC2\xB7 "
                   "this page needs no network</footer></body></html>\n");
  pd__tz_free(r.tz);
  if (st != PD_OK) {
    pd__buf_clear(&b);
    return pd__error(st, "pd_report_html: out of memory");
  }
  char *html = pd__buf_take(&b);
  if (!html) return pd__error(PD_ERR_NOMEM, "pd_report_html: out of memory");
  *out_html = html;
  return PD_OK;
}

pd_status pd_report_write(pd_store *store, const pd_report_options *opts, const char *path) {
  if (!path) return pd__error(PD_ERR_INVALID, "pd_report_write: NULL path");
  char *html;
  pd_status st = pd_report_html(store, opts, &html);
  if (st != PD_OK) return st;
  size_t plen = strlen(path);
  char *tmp = malloc(plen + 16);
  if (!tmp) {
    pd_free(html);
    return pd__error(PD_ERR_NOMEM, "pd_report_write: out of memory");
  }
  snprintf(tmp, plen + 16, "%s.tmp%ld", path, (long)getpid() % 100000);
  FILE *f = fopen(tmp, "wb");
  if (!f) {
    st = pd__error(PD_ERR_IO, "pd_report_write: cannot create %s: %s", tmp, strerror(errno));
  } else {
    size_t len = strlen(html);
    bool ok = fwrite(html, 1, len, f) == len;
    ok = fclose(f) == 0 && ok;
    if (!ok)
      st = pd__error(PD_ERR_IO, "pd_report_write: cannot write %s", tmp);
    else if (rename(tmp, path) != 0)
      st = pd__error(PD_ERR_IO, "pd_report_write: cannot rename to %s: %s", path, strerror(errno));
    if (st != PD_OK) remove(tmp);
  }
  free(tmp);
  pd_free(html);
  return st;
}
