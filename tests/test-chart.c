/* SVG charts: well-formed XML for every kind, escaping, Chinese text,
 * number formatting, empty tables, null and NaN cells, trees with cycles. */
#include <check.h>
#include <glib.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fmt.h"
#include "pd_internal.h"

#define NASTY "<b>&\"x\"'"

/* ---- a GMarkup parse that collects element names and text ------------- */

typedef struct parsed {
  int depth, elements, svg_roots, rects, circles, paths;
  GString *text;         /* all character data, unescaped, joined by '|' */
  bool has_id, has_script, has_href;
} parsed;

static void on_start(GMarkupParseContext *ctx, const char *name, const char **an, const char **av, gpointer ud,
                     GError **err) {
  (void)ctx;
  (void)av;
  (void)err;
  parsed *p = ud;
  if (p->depth == 0 && strcmp(name, "svg") == 0) p->svg_roots++;
  p->depth++;
  p->elements++;
  if (strcmp(name, "rect") == 0) p->rects++;
  if (strcmp(name, "circle") == 0) p->circles++;
  if (strcmp(name, "path") == 0) p->paths++;
  if (strcmp(name, "script") == 0) p->has_script = true;
  for (int i = 0; an[i]; i++) {
    if (strcmp(an[i], "id") == 0) p->has_id = true;
    if (strstr(an[i], "href")) p->has_href = true;
  }
}

static void on_end(GMarkupParseContext *ctx, const char *name, gpointer ud, GError **err) {
  (void)ctx;
  (void)name;
  (void)err;
  ((parsed *)ud)->depth--;
}

static void on_text(GMarkupParseContext *ctx, const char *text, gsize len, gpointer ud, GError **err) {
  (void)ctx;
  (void)err;
  parsed *p = ud;
  g_string_append_len(p->text, text, (gssize)len);
  g_string_append_c(p->text, '|');
}

/* Parses svg; fails the test unless it is one well-formed <svg> document. */
static parsed parse_svg(const char *svg) {
  GMarkupParser parser = {on_start, on_end, on_text, NULL, NULL};
  parsed p;
  memset(&p, 0, sizeof p);
  p.text = g_string_new("");
  GMarkupParseContext *ctx = g_markup_parse_context_new(&parser, 0, &p, NULL);
  GError *err = NULL;
  gboolean ok = g_markup_parse_context_parse(ctx, svg, -1, &err) && g_markup_parse_context_end_parse(ctx, &err);
  if (!ok) {
    fprintf(stderr, "SVG:\n%s\n", svg);
    ck_abort_msg("SVG not well formed: %s", err ? err->message : "?");
  }
  g_markup_parse_context_free(ctx);
  ck_assert_int_eq(p.svg_roots, 1);
  ck_assert_int_eq(p.depth, 0);
  ck_assert(g_utf8_validate(svg, -1, NULL));
  ck_assert(g_str_has_prefix(svg, "<svg xmlns=\"http://www.w3.org/2000/svg\""));
  ck_assert(!p.has_id);     /* many charts share one HTML page */
  ck_assert(!p.has_script);
  ck_assert(!p.has_href);   /* self-contained */
  return p;
}

static void parsed_free(parsed *p) { g_string_free(p->text, TRUE); }

/* ---- sample tables ------------------------------------------------------ */

/* Wide: (touchpoint, users, buyers, revenue, rate) with Chinese names, an
 * XML-hostile name, a null and a NaN. */
static pd_table *wide(void) {
  pd_table *t = pd__table_new("touchpoints");
  size_t name = pd__table_add_col(t, "touchpoint", PD_TYPE_STRING);
  size_t users = pd__table_add_col(t, "users", PD_TYPE_INT64);
  size_t buyers = pd__table_add_col(t, "buyers", PD_TYPE_INT64);
  size_t revenue = pd__table_add_col(t, "revenue", PD_TYPE_INT64);
  size_t rate = pd__table_add_col(t, "rate", PD_TYPE_DOUBLE);
  const char *names[] = {"企业微信", "公众号", NASTY, "直播间", "门店"};
  int64_t u[] = {1234567, 800000, 120, 45000, 3000};
  int64_t by[] = {12000, -500, 7, 4500, 0};
  for (size_t i = 0; i < 5; i++) {
    size_t r = pd__table_add_row(t);
    pd__table_set_string(t, r, name, names[i]);
    pd__table_set_int64(t, r, users, u[i]);
    if (i != 3) pd__table_set_int64(t, r, buyers, by[i]); /* null */
    pd__table_set_int64(t, r, revenue, u[i] * 100 + 56);
    pd__table_set_double(t, r, rate, i == 2 ? NAN : (double)(i + 1) / 10.0);
  }
  pd_table *out;
  ck_assert_int_eq(pd__table_finish(t, &out), PD_OK);
  return out;
}

/* Long: (cohort, k, rate, size), one row per cell, one cell missing. */
static pd_table *long_retention(void) {
  pd_table *t = pd__table_new("retention");
  size_t cohort = pd__table_add_col(t, "cohort", PD_TYPE_STRING);
  size_t k = pd__table_add_col(t, "k", PD_TYPE_INT64);
  size_t rate = pd__table_add_col(t, "rate", PD_TYPE_DOUBLE);
  size_t size = pd__table_add_col(t, "users", PD_TYPE_INT64);
  for (int c = 0; c < 4; c++)
    for (int j = 0; j < 4 - c; j++) {
      if (c == 1 && j == 2) continue;
      size_t r = pd__table_add_row(t);
      char name[32];
      snprintf(name, sizeof name, "2024-W%02d", 10 + c);
      pd__table_set_string(t, r, cohort, name);
      pd__table_set_int64(t, r, k, j);
      pd__table_set_double(t, r, rate, j == 0 ? 1.0 : 0.5 / (j + c));
      pd__table_set_int64(t, r, size, 1000 + c);
    }
  pd_table *out;
  ck_assert_int_eq(pd__table_finish(t, &out), PD_OK);
  return out;
}

static pd_table *empty(void) {
  pd_table *t = pd__table_new("empty");
  pd__table_add_col(t, "step", PD_TYPE_STRING);
  pd__table_add_col(t, "users", PD_TYPE_INT64);
  pd_table *out;
  ck_assert_int_eq(pd__table_finish(t, &out), PD_OK);
  return out;
}

static char *render(const pd_table *t, pd_chart_spec *spec) {
  char *svg = NULL;
  pd_status st = pd_chart_svg(t, spec, &svg);
  ck_assert_msg(st == PD_OK, "pd_chart_svg: %s", pd_last_error());
  ck_assert_ptr_nonnull(svg);
  return svg;
}

/* ---- number formatting ------------------------------------------------- */

static const char *fmt(double v, pd_value_format f, const char *sym, int dec) {
  static char buf[128];
  size_t n = pd_chart_format_value(v, f, sym, dec, buf, sizeof buf);
  ck_assert_uint_eq(n, strlen(buf));
  return buf;
}

START_TEST(format_numbers) {
  ck_assert_str_eq(fmt(1234567, PD_VALUE_INTEGER, NULL, -1), "1,234,567");
  ck_assert_str_eq(fmt(-1234567, PD_VALUE_INTEGER, NULL, -1), "-1,234,567");
  ck_assert_str_eq(fmt(999, PD_VALUE_INTEGER, NULL, -1), "999");
  ck_assert_str_eq(fmt(1000, PD_VALUE_INTEGER, NULL, -1), "1,000");
  ck_assert_str_eq(fmt(0, PD_VALUE_INTEGER, NULL, -1), "0");
  ck_assert_str_eq(fmt(2.5e9, PD_VALUE_INTEGER, NULL, -1), "2,500,000,000");
  ck_assert_str_eq(fmt(123456, PD_VALUE_CURRENCY, NULL, -1), "\xC2\xA5" "1,234.56");
  ck_assert_str_eq(fmt(-123456, PD_VALUE_CURRENCY, NULL, -1), "-\xC2\xA5" "1,234.56");
  ck_assert_str_eq(fmt(5, PD_VALUE_CURRENCY, "$", -1), "$0.05");
  ck_assert_str_eq(fmt(100000000, PD_VALUE_CURRENCY, "US$", 0), "US$1,000,000");
  ck_assert_str_eq(fmt(0.1234, PD_VALUE_PERCENT, NULL, -1), "12.3%");
  ck_assert_str_eq(fmt(1, PD_VALUE_PERCENT, NULL, 0), "100%");
  ck_assert_str_eq(fmt(12.5, PD_VALUE_PERCENT, NULL, -1), "1,250.0%");
  ck_assert_str_eq(fmt(-0.0001, PD_VALUE_PERCENT, NULL, -1), "0.0%"); /* no "-0.0%" */
  ck_assert_str_eq(fmt(12345.678, PD_VALUE_PLAIN, NULL, -1), "12,345.68");
  ck_assert_str_eq(fmt(12345.678, PD_VALUE_AUTO, NULL, 1), "12,345.7");
  ck_assert_str_eq(fmt(999.999, PD_VALUE_PLAIN, NULL, -1), "1,000.00"); /* carry into a new group */
  ck_assert_str_eq(fmt(NAN, PD_VALUE_INTEGER, NULL, -1), "\xE2\x80\x93");
  ck_assert_str_eq(fmt(INFINITY, PD_VALUE_PERCENT, NULL, -1), "\xE2\x80\x93");
  /* snprintf-like truncation */
  char small[5];
  ck_assert_uint_eq(pd_chart_format_value(1234567, PD_VALUE_INTEGER, NULL, -1, small, sizeof small), 9);
  ck_assert_str_eq(small, "1,23");
  ck_assert_uint_eq(pd_chart_format_value(1234567, PD_VALUE_INTEGER, NULL, -1, NULL, 0), 9);
}
END_TEST

START_TEST(escaping) {
  pd__buf b = {0};
  pd__buf_escape(&b, "a<b>&\"c\"'d 微信 \x01\xff" "e");
  char *s = pd__buf_take(&b);
  ck_assert_str_eq(s, "a&lt;b&gt;&amp;&quot;c&quot;&#39;d 微信 \xEF\xBF\xBD" "e");
  free(s);
}
END_TEST

START_TEST(text_width) {
  /* CJK characters are twice as wide as digits, roughly */
  double cjk = pd__text_width("微信群", 10), digits = pd__text_width("123", 10);
  ck_assert(cjk > 1.5 * digits);
  char buf[64];
  pd__text_fit("企业微信客户群运营中心", 10, 45, buf, sizeof buf);
  ck_assert(pd__text_width(buf, 10) <= 45);
  ck_assert(g_utf8_validate(buf, -1, NULL));
  ck_assert(g_str_has_suffix(buf, "\xE2\x80\xA6"));
}
END_TEST

/* ---- every kind is well formed and escapes its text -------------------- */

START_TEST(every_kind_well_formed) {
  pd_table *t = wide();
  pd_chart_kind kinds[] = {PD_CHART_BAR, PD_CHART_HBAR, PD_CHART_GROUPED_BAR, PD_CHART_STACKED_BAR,
                           PD_CHART_LINE, PD_CHART_HEATMAP, PD_CHART_FUNNEL};
  for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
    pd_chart_spec spec = PD_CHART_SPEC_INIT;
    spec.kind = kinds[i];
    spec.title = "触点 " NASTY;
    spec.subtitle = "sub & title";
    spec.value_cols = kinds[i] == PD_CHART_BAR || kinds[i] == PD_CHART_HBAR || kinds[i] == PD_CHART_FUNNEL
                          ? "users"
                          : "users,buyers";
    spec.has_ref = 1;
    spec.ref_value = 500000;
    spec.ref_label = "目标 <cap>";
    char *svg = render(t, &spec);
    parsed p = parse_svg(svg);
    ck_assert_msg(strstr(p.text->str, "触点 " NASTY) != NULL, "kind %d: title", kinds[i]);
    ck_assert_msg(strstr(p.text->str, "sub & title") != NULL, "kind %d: subtitle", kinds[i]);
    ck_assert_msg(strstr(p.text->str, "企业微信") != NULL, "kind %d: Chinese label", kinds[i]);
    /* the hostile label appears, unescaped after parsing (maybe cut with …) */
    ck_assert_msg(strstr(p.text->str, "<b>&") != NULL, "kind %d: escaped label", kinds[i]);
    ck_assert_msg(strstr(p.text->str, "touchpoint") != NULL, "kind %d: category axis title", kinds[i]);
    ck_assert_msg(strstr(svg, "Noto Sans CJK SC") != NULL, "font list");
    if (kinds[i] == PD_CHART_LINE)
      ck_assert_int_ge(p.circles, 4);
    else
      ck_assert_int_ge(p.rects, 5);
    parsed_free(&p);
    pd_free(svg);
  }
  pd_table_free(t);
}
END_TEST

START_TEST(bar_values_and_units) {
  pd_table *t = wide();
  pd_chart_spec spec = PD_CHART_SPEC_INIT;
  spec.kind = PD_CHART_HBAR;
  spec.value_cols = "revenue";
  spec.format = PD_VALUE_CURRENCY;
  char *svg = render(t, &spec);
  parsed p = parse_svg(svg);
  ck_assert(strstr(p.text->str, "|\xC2\xA5" "1,234,567.56|") != NULL); /* 1234567*100+56 fen */
  ck_assert(strstr(p.text->str, "revenue (\xC2\xA5)") != NULL);          /* unit in the axis title */
  ck_assert(strstr(p.text->str, "|touchpoints|") != NULL);                /* default title */
  parsed_free(&p);
  pd_free(svg);

  spec.kind = PD_CHART_BAR;
  spec.value_cols = "rate";
  spec.format = PD_VALUE_PERCENT;
  spec.y_title = "conversion (%)";
  svg = render(t, &spec);
  p = parse_svg(svg);
  ck_assert(strstr(p.text->str, "|10.0%|") != NULL);
  ck_assert(strstr(p.text->str, "|conversion (%)|") != NULL);
  /* the NaN row has a tooltip with a dash, and no bar */
  ck_assert(strstr(p.text->str, "<b>&\"x\"' \xC2\xB7") == NULL);
  parsed_free(&p);
  pd_free(svg);

  /* integers get thousands separators in labels */
  spec.value_cols = "users";
  spec.format = PD_VALUE_AUTO;
  spec.y_title = NULL;
  svg = render(t, &spec);
  p = parse_svg(svg);
  ck_assert(strstr(p.text->str, "1,234,567") != NULL);
  parsed_free(&p);
  pd_free(svg);
  pd_table_free(t);
}
END_TEST

/* value_cols "column=legend" names a series in the legend (attribution's model comparison). */
START_TEST(series_legends) {
  pd_table *t = wide();
  pd_chart_spec spec = PD_CHART_SPEC_INIT;
  spec.kind = PD_CHART_GROUPED_BAR;
  spec.value_cols = "users=all users,buyers";
  char *svg = render(t, &spec);
  parsed p = parse_svg(svg);
  ck_assert(strstr(p.text->str, "|all users|") != NULL);
  ck_assert(strstr(p.text->str, "|buyers|") != NULL);
  ck_assert(strstr(p.text->str, "|users|") == NULL);
  parsed_free(&p);
  pd_free(svg);
  spec.value_cols = "nothing=legend";
  char *bad = NULL;
  ck_assert_int_eq(pd_chart_svg(t, &spec, &bad), PD_ERR_NOT_FOUND);
  pd_table_free(t);
}
END_TEST

START_TEST(highlighted_bars) {
  pd_table *t = wide();
  for (int k = PD_CHART_BAR; k <= PD_CHART_HBAR; k++) {
    pd_chart_spec spec = PD_CHART_SPEC_INIT;
    spec.kind = (pd_chart_kind)k;
    spec.value_cols = "users";
    spec.highlight_col = "buyers"; /* nonzero: 企业微信, 公众号, NASTY; null and 0 are not */
    spec.highlight_label = "超过上限 beyond cap";
    char *svg = render(t, &spec);
    parsed p = parse_svg(svg);
    ck_assert(strstr(p.text->str, "|超过上限 beyond cap|") != NULL);
    int alert = 0;
    for (const char *q = svg; (q = strstr(q, "fill=\"#d62728\"><title>")); q++) alert++;
    ck_assert_int_eq(alert, 3);
    ck_assert(strstr(svg, "fill=\"#d62728\"><title>直播间") == NULL);
    parsed_free(&p);
    pd_free(svg);
    spec.highlight_col = "nope";
    ck_assert_int_eq(pd_chart_svg(t, &spec, &svg), PD_ERR_NOT_FOUND);
    spec.highlight_col = "touchpoint";
    ck_assert_int_eq(pd_chart_svg(t, &spec, &svg), PD_ERR_INVALID);
  }
  pd_table_free(t);
}
END_TEST

START_TEST(stacked_negative_and_null) {
  pd_table *t = wide();
  pd_chart_spec spec = PD_CHART_SPEC_INIT;
  spec.kind = PD_CHART_STACKED_BAR;
  spec.value_cols = "buyers,users";
  char *svg = render(t, &spec);
  parsed p = parse_svg(svg);
  /* legend names both series */
  ck_assert(strstr(p.text->str, "|buyers|") != NULL);
  ck_assert(strstr(p.text->str, "|users|") != NULL);
  /* the negative value is drawn (tooltip) */
  ck_assert(strstr(p.text->str, "buyers: -500") != NULL);
  /* null buyers of 直播间 has no bar: no tooltip for it */
  ck_assert(strstr(p.text->str, "直播间 \xC2\xB7 buyers") == NULL);
  ck_assert(strstr(p.text->str, "直播间 \xC2\xB7 users: 45,000") != NULL);
  parsed_free(&p);
  pd_free(svg);
  pd_table_free(t);
}
END_TEST

START_TEST(line_breaks_on_nan) {
  pd_table *t = wide();
  pd_chart_spec spec = PD_CHART_SPEC_INIT;
  spec.kind = PD_CHART_LINE;
  spec.value_cols = "rate";
  char *svg = render(t, &spec);
  parse_svg(svg);
  /* NaN at row 2 starts a new sub-path: two M commands */
  const char *d = strstr(svg, " d=\"M");
  ck_assert_ptr_nonnull(d);
  const char *end = strchr(d + 4, '"');
  int moves = 0;
  for (const char *q = d + 4; q < end; q++) moves += *q == 'M';
  ck_assert_int_eq(moves, 2);
  pd_free(svg);
  pd_table_free(t);
}
END_TEST

START_TEST(heatmap_pivot) {
  pd_table *t = long_retention();
  pd_chart_spec spec = PD_CHART_SPEC_INIT;
  spec.kind = PD_CHART_HEATMAP;
  spec.label_col = "cohort";
  spec.series_col = "k";
  spec.value_cols = "rate";
  spec.note_col = "users";
  spec.format = PD_VALUE_PERCENT;
  char *svg = render(t, &spec);
  parsed p = parse_svg(svg);
  /* numbers in cells: 0.5/(1+0) = 50.0%, 0.5/(2+1) = 16.7% */
  ck_assert(strstr(p.text->str, "|50.0%|") != NULL);
  ck_assert(strstr(p.text->str, "|16.7%|") != NULL);
  ck_assert(strstr(p.text->str, "|2024-W13|") != NULL);
  ck_assert(strstr(p.text->str, "|1,003|") != NULL); /* cohort size note */
  /* 4 cohorts x 4 periods, 9 cells present: 9 coloured cells with tooltips,
   * the rest grey */
  int tips = 0;
  for (const char *q = svg; (q = strstr(q, "<rect")); q++)
    if (strncmp(strchr(q, '>') + 1, "<title>", 7) == 0) tips++;
  ck_assert_int_eq(tips, 9);
  /* the darkest colour belongs to the 100% cells */
  ck_assert(strstr(svg, "fill=\"#08306b\"><title>2024-W10 \xC2\xB7 0: 100.0%") != NULL);
  parsed_free(&p);
  pd_free(svg);
  pd_table_free(t);
}
END_TEST

START_TEST(funnel_dropoff) {
  pd_table *t = pd__table_new("funnel");
  size_t step = pd__table_add_col(t, "step", PD_TYPE_STRING);
  size_t users = pd__table_add_col(t, "users", PD_TYPE_INT64);
  const char *steps[] = {"添加企业微信", "进群", "首单", "复购"};
  int64_t n[] = {10000, 6000, 1500, 0};
  for (int i = 0; i < 4; i++) {
    size_t r = pd__table_add_row(t);
    pd__table_set_string(t, r, step, steps[i]);
    pd__table_set_int64(t, r, users, n[i]);
  }
  pd_table *ft;
  ck_assert_int_eq(pd__table_finish(t, &ft), PD_OK);
  pd_chart_spec spec = PD_CHART_SPEC_INIT;
  spec.kind = PD_CHART_FUNNEL;
  char *svg = render(ft, &spec);
  parsed p = parse_svg(svg);
  ck_assert(strstr(p.text->str, "10,000 (100.0%)") != NULL);
  ck_assert(strstr(p.text->str, "1,500 (15.0%)") != NULL);
  ck_assert(strstr(p.text->str, "60.0% continue \xC2\xB7 40.0% drop off (4,000)") != NULL);
  ck_assert(strstr(p.text->str, "25.0% continue \xC2\xB7 75.0% drop off (4,500)") != NULL);
  ck_assert(strstr(p.text->str, "0.0% continue \xC2\xB7 100.0% drop off (1,500)") != NULL);
  parsed_free(&p);
  pd_free(svg);
  pd_table_free(ft);
}
END_TEST

START_TEST(empty_tables) {
  pd_table *t = empty();
  for (int k = PD_CHART_BAR; k <= PD_CHART_FUNNEL; k++) {
    pd_chart_spec spec = PD_CHART_SPEC_INIT;
    spec.kind = (pd_chart_kind)k;
    char *svg = render(t, &spec);
    parsed p = parse_svg(svg);
    ck_assert(strstr(p.text->str, "no data") != NULL);
    ck_assert(strstr(p.text->str, "|empty|") != NULL);
    parsed_free(&p);
    pd_free(svg);
  }
  pd_table_free(t);
  /* a table with no columns at all */
  pd_table *none;
  ck_assert_int_eq(pd__table_finish(pd__table_new("nothing"), &none), PD_OK);
  pd_chart_spec spec = PD_CHART_SPEC_INIT;
  char *svg = render(none, &spec);
  parsed p = parse_svg(svg);
  ck_assert(strstr(p.text->str, "no data") != NULL);
  parsed_free(&p);
  pd_free(svg);
  pd_table_free(none);
}
END_TEST

START_TEST(all_null_values) {
  pd_table *t = pd__table_new("nulls");
  pd__table_add_col(t, "step", PD_TYPE_STRING);
  pd__table_add_col(t, "v", PD_TYPE_DOUBLE);
  for (int i = 0; i < 3; i++) pd__table_add_row(t);
  pd_table *out;
  ck_assert_int_eq(pd__table_finish(t, &out), PD_OK);
  for (int k = PD_CHART_BAR; k <= PD_CHART_FUNNEL; k++) {
    pd_chart_spec spec = PD_CHART_SPEC_INIT;
    spec.kind = (pd_chart_kind)k;
    char *svg = render(out, &spec);
    parsed p = parse_svg(svg);
    parsed_free(&p);
    ck_assert(strstr(svg, "nan") == NULL && strstr(svg, "inf") == NULL);
    pd_free(svg);
  }
  pd_table_free(out);
}
END_TEST

START_TEST(errors) {
  pd_table *t = wide();
  pd_chart_spec spec = PD_CHART_SPEC_INIT;
  char *svg = (char *)1;
  spec.value_cols = "missing";
  ck_assert_int_eq(pd_chart_svg(t, &spec, &svg), PD_ERR_NOT_FOUND);
  ck_assert_ptr_null(svg);
  ck_assert(strstr(pd_last_error(), "missing") != NULL);
  spec.value_cols = "touchpoint";
  ck_assert_int_eq(pd_chart_svg(t, &spec, &svg), PD_ERR_INVALID);
  spec.value_cols = NULL;
  spec.kind = (pd_chart_kind)99;
  ck_assert_int_eq(pd_chart_svg(t, &spec, &svg), PD_ERR_INVALID);
  spec.kind = PD_CHART_BAR;
  spec.label_col = "nope";
  ck_assert_int_eq(pd_chart_svg(t, &spec, &svg), PD_ERR_NOT_FOUND);
  ck_assert_int_eq(pd_chart_svg(NULL, &spec, &svg), PD_ERR_INVALID);
  spec.label_col = NULL;
  spec.size = 4;
  ck_assert_int_eq(pd_chart_svg(t, &spec, &svg), PD_ERR_INVALID);
  /* an older, shorter spec still works: fields past its size are defaults */
  spec.size = offsetof(pd_chart_spec, x_title);
  spec.x_title = "ignored";
  svg = render(t, &spec);
  ck_assert(strstr(svg, "ignored") == NULL);
  pd_free(svg);
  spec.size = sizeof spec;
  ck_assert_int_eq(pd_chart_write(t, &spec, "/nonexistent-dir/x.svg"), PD_ERR_IO);
  pd_table_free(t);
}
END_TEST

START_TEST(many_rows_capped) {
  pd_table *t = pd__table_new("many");
  size_t day = pd__table_add_col(t, "day", PD_TYPE_INT64);
  size_t v = pd__table_add_col(t, "v", PD_TYPE_DOUBLE);
  for (int i = 0; i < 500; i++) {
    size_t r = pd__table_add_row(t);
    pd__table_set_int64(t, r, day, i);
    pd__table_set_double(t, r, v, sin(i / 10.0) * 1e6);
  }
  pd_table *out;
  ck_assert_int_eq(pd__table_finish(t, &out), PD_OK);
  pd_chart_spec spec = PD_CHART_SPEC_INIT;
  spec.kind = PD_CHART_LINE;
  spec.max_items = 400;
  char *svg = render(out, &spec);
  parsed p = parse_svg(svg);
  ck_assert(strstr(p.text->str, "100 more rows not shown") != NULL);
  parsed_free(&p);
  pd_free(svg);
  pd_table_free(out);
}
END_TEST

/* ---- trees ------------------------------------------------------------- */

static pd_table *tree_table(bool with_cycle) {
  pd_table *t = pd__table_new("referral tree");
  size_t node = pd__table_add_col(t, "node", PD_TYPE_INT64);
  size_t parent = pd__table_add_col(t, "parent", PD_TYPE_INT64);
  size_t label = pd__table_add_col(t, "label", PD_TYPE_STRING);
  /* 1 -> 2 -> 4 -> 6 (depth 3), 1 -> 3, 2 -> 5; 7 alone; 9 has an unknown parent */
  int64_t rows[][2] = {{1, -1}, {2, 1}, {3, 1}, {4, 2}, {5, 2}, {6, 4}, {7, -1}, {9, 99}};
  for (size_t i = 0; i < 8; i++) {
    size_t r = pd__table_add_row(t);
    pd__table_set_int64(t, r, node, rows[i][0]);
    if (rows[i][1] >= 0) pd__table_set_int64(t, r, parent, rows[i][1]);
    char name[32];
    snprintf(name, sizeof name, "用户%lld", (long long)rows[i][0]);
    pd__table_set_string(t, r, label, i == 2 ? NASTY : name);
  }
  if (with_cycle) { /* 10 -> 11 -> 12 -> 10 */
    int64_t cyc[][2] = {{10, 12}, {11, 10}, {12, 11}};
    for (size_t i = 0; i < 3; i++) {
      size_t r = pd__table_add_row(t);
      pd__table_set_int64(t, r, node, cyc[i][0]);
      pd__table_set_int64(t, r, parent, cyc[i][1]);
    }
  }
  pd_table *out;
  ck_assert_int_eq(pd__table_finish(t, &out), PD_OK);
  return out;
}

START_TEST(tree_basic) {
  pd_table *t = tree_table(false);
  pd_chart_spec spec = PD_CHART_SPEC_INIT;
  spec.kind = PD_CHART_TREE;
  spec.has_ref = 1;
  spec.ref_value = 2;
  char *svg = render(t, &spec);
  parsed p = parse_svg(svg);
  ck_assert_int_eq(p.circles, 8);
  ck_assert_int_eq(p.paths, 5); /* one edge per non-root node */
  ck_assert(strstr(p.text->str, "8 nodes, 3 roots, deepest level 3") != NULL);
  ck_assert(strstr(p.text->str, "cap: depth 2") != NULL);
  ck_assert(strstr(p.text->str, "用户6 (depth 3)") != NULL);
  ck_assert(strstr(p.text->str, NASTY " (depth 1)") != NULL);
  /* the node beyond the cap is drawn in the alert colour */
  ck_assert(strstr(svg, "fill=\"#d62728\" stroke=\"#ffffff\"><title>用户6") != NULL);
  ck_assert(strstr(svg, "fill=\"#d62728\" stroke=\"#ffffff\"><title>用户4") == NULL);
  parsed_free(&p);
  pd_free(svg);
  pd_table_free(t);
}
END_TEST

START_TEST(tree_cycle_and_cap) {
  pd_table *t = tree_table(true);
  pd_chart_spec spec = PD_CHART_SPEC_INIT;
  spec.kind = PD_CHART_TREE;
  char *svg = render(t, &spec);
  parsed p = parse_svg(svg);
  ck_assert_int_eq(p.circles, 11);
  ck_assert(strstr(p.text->str, "11 nodes, 4 roots") != NULL); /* cycle cut once */
  parsed_free(&p);
  pd_free(svg);
  spec.max_items = 5;
  svg = render(t, &spec);
  p = parse_svg(svg);
  ck_assert_int_eq(p.circles, 5);
  ck_assert(strstr(p.text->str, "6 more nodes not shown") != NULL);
  parsed_free(&p);
  pd_free(svg);
  spec.node_col = "nope";
  ck_assert_int_eq(pd_chart_svg(t, &spec, &svg), PD_ERR_NOT_FOUND);
  pd_table_free(t);
  pd_table *e = empty();
  spec.node_col = "step";
  spec.parent_col = "users";
  svg = render(e, &spec);
  p = parse_svg(svg);
  ck_assert(strstr(p.text->str, "no data") != NULL);
  parsed_free(&p);
  pd_free(svg);
  pd_table_free(e);
}
END_TEST

/* Writes sample SVGs of every kind into a directory given by the
 * environment (used by tests/render-charts.sh to screenshot them). */
START_TEST(write_samples) {
  const char *dir = getenv("PD_CHART_SAMPLES");
  if (!dir) return;
  pd_table *w = wide(), *r = long_retention(), *tr = tree_table(true);
  struct {
    const char *file;
    pd_chart_kind kind;
    const pd_table *t;
    const char *values;
    pd_value_format f;
  } s[] = {
      {"bar.svg", PD_CHART_BAR, w, "users", PD_VALUE_INTEGER},
      {"hbar.svg", PD_CHART_HBAR, w, "revenue", PD_VALUE_CURRENCY},
      {"grouped.svg", PD_CHART_GROUPED_BAR, w, "users,buyers", PD_VALUE_AUTO},
      {"stacked.svg", PD_CHART_STACKED_BAR, w, "buyers,users", PD_VALUE_AUTO},
      {"line.svg", PD_CHART_LINE, w, "rate", PD_VALUE_PERCENT},
      {"heatmap.svg", PD_CHART_HEATMAP, r, "rate", PD_VALUE_PERCENT},
      {"funnel.svg", PD_CHART_FUNNEL, w, "users", PD_VALUE_INTEGER},
      {"tree.svg", PD_CHART_TREE, tr, NULL, PD_VALUE_AUTO},
  };
  for (size_t i = 0; i < sizeof s / sizeof s[0]; i++) {
    pd_chart_spec spec = PD_CHART_SPEC_INIT;
    spec.kind = s[i].kind;
    spec.value_cols = s[i].values;
    spec.format = s[i].f;
    spec.title = "触点表现 sample <chart> & \"quotes\"";
    if (s[i].kind == PD_CHART_HEATMAP) {
      spec.label_col = "cohort";
      spec.series_col = "k";
      spec.note_col = "users";
      spec.y_title = "weeks since first visit";
    }
    if (s[i].kind == PD_CHART_TREE) {
      spec.has_ref = 1;
      spec.ref_value = 2;
    }
    if (s[i].kind == PD_CHART_BAR) {
      spec.has_ref = 1;
      spec.ref_value = 600000;
      spec.ref_label = "目标";
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, s[i].file);
    ck_assert_msg(pd_chart_write(s[i].t, &spec, path) == PD_OK, "%s", pd_last_error());
  }
  pd_table_free(w);
  pd_table_free(r);
  pd_table_free(tr);
}
END_TEST

int main(void) {
  Suite *s = suite_create("chart");
  TCase *tc = tcase_create("chart");
  tcase_add_test(tc, format_numbers);
  tcase_add_test(tc, escaping);
  tcase_add_test(tc, text_width);
  tcase_add_test(tc, every_kind_well_formed);
  tcase_add_test(tc, bar_values_and_units);
  tcase_add_test(tc, highlighted_bars);
  tcase_add_test(tc, series_legends);
  tcase_add_test(tc, stacked_negative_and_null);
  tcase_add_test(tc, line_breaks_on_nan);
  tcase_add_test(tc, heatmap_pivot);
  tcase_add_test(tc, funnel_dropoff);
  tcase_add_test(tc, empty_tables);
  tcase_add_test(tc, all_null_values);
  tcase_add_test(tc, errors);
  tcase_add_test(tc, many_rows_capped);
  tcase_add_test(tc, tree_basic);
  tcase_add_test(tc, tree_cycle_and_cap);
  tcase_add_test(tc, write_samples);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
