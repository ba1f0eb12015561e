/* SVG charts from a pd_table: bars, grouped and stacked bars, lines, heat
 * maps and funnels (trees are in tree.c). Layout is computed here from a
 * rough text-width estimate; no fonts are embedded, the font list covers
 * Chinese on Linux, Windows and macOS. */
#include <glib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "svg.h"

static const char *const palette[] = {"#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2",
                                      "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"};
#define N_PALETTE (sizeof palette / sizeof palette[0])
#define ALERT "#d62728"
#define FONT 12.0
#define SMALL 10.5

/* ---- common SVG pieces ------------------------------------------------ */

double pd__svg_begin(pd__buf *b, double w, double h, const char *title, const char *subtitle) {
  pd__buf_printf(b,
                 "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
                 "viewBox=\"0 0 %.0f %.0f\" font-family=\"" PD__FONT_FAMILY "\" font-size=\"%.0f\" "
                 "role=\"img\">",
                 w, h, w, h, FONT);
  pd__buf_puts(b, "<title>");
  pd__buf_escape(b, title);
  pd__buf_puts(b, "</title>");
  pd__buf_printf(b, "<rect x=\"0\" y=\"0\" width=\"%.0f\" height=\"%.0f\" fill=\"#ffffff\"/>", w, h);
  char fit[512];
  pd__text_fit(title, 16, w - 24, fit, sizeof fit);
  pd__svg_text(b, 12, 24, "start", "font-size=\"16\" font-weight=\"bold\" fill=\"#222222\"", fit);
  double y = 34;
  if (subtitle && *subtitle) {
    pd__text_fit(subtitle, FONT, w - 24, fit, sizeof fit);
    pd__svg_text(b, 12, 44, "start", "fill=\"#666666\"", fit);
    y = 52;
  }
  return y;
}

void pd__svg_end(pd__buf *b) { pd__buf_puts(b, "</svg>\n"); }

void pd__svg_text(pd__buf *b, double x, double y, const char *anchor, const char *attrs, const char *text) {
  pd__buf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\"%s%s>", x, y, anchor, *attrs ? " " : "",
                 attrs);
  pd__buf_escape(b, text);
  pd__buf_puts(b, "</text>");
}

void pd__svg_message(pd__buf *b, double w, double h, const char *title, const char *subtitle, const char *msg) {
  double top = pd__svg_begin(b, w, h, title, subtitle);
  pd__buf_printf(b,
                 "<rect x=\"12\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#fafafa\" "
                 "stroke=\"#dddddd\"/>",
                 top + 4, w - 24, h - top - 16);
  pd__svg_text(b, w / 2, top + (h - top) / 2, "middle", "font-size=\"16\" fill=\"#888888\"", msg);
  pd__svg_end(b);
}

void pd__cell_text(const pd_table *t, size_t row, size_t col, char *buf, size_t size, bool *is_null) {
  bool null = pd_table_is_null(t, row, col);
  if (is_null) *is_null = null;
  buf[0] = '\0';
  if (null) return;
  switch (pd_table_col_type(t, col)) {
  case PD_TYPE_STRING: snprintf(buf, size, "%s", pd_table_get_string(t, row, col)); break;
  case PD_TYPE_INT64: snprintf(buf, size, "%lld", (long long)pd_table_get_int64(t, row, col)); break;
  case PD_TYPE_DOUBLE: snprintf(buf, size, "%g", pd_table_get_double(t, row, col)); break;
  default: break;
  }
}

/* ---- data extracted from the table ------------------------------------ */

typedef struct chart {
  pd_chart_spec s;
  pd__buf *b;
  double w, h;
  size_t n_cat, n_ser;
  char **cat;   /* category labels */
  char **note;  /* notes beside categories, or NULL */
  char **ser;   /* series names */
  double *v;    /* n_cat x n_ser, NaN for null */
  size_t dropped; /* categories beyond max_items */
  bool *hl;       /* n_cat: drawn in the alert colour, or NULL */
  const char *value_name; /* for the default value-axis title */
  const char *label_name;
} chart;

#define V(c, i, j) ((c)->v[(i) * (c)->n_ser + (j)])

static void chart_free(chart *c) {
  for (size_t i = 0; c->cat && i < c->n_cat; i++) free(c->cat[i]);
  for (size_t i = 0; c->note && i < c->n_cat; i++) free(c->note[i]);
  for (size_t i = 0; c->ser && i < c->n_ser; i++) free(c->ser[i]);
  free(c->cat);
  free(c->note);
  free(c->ser);
  free(c->v);
  free(c->hl);
}

static pd_status find_col(const pd_table *t, const char *name, const char *what, long *out) {
  *out = pd_table_col_index(t, name);
  if (*out < 0) return pd__error(PD_ERR_NOT_FOUND, "chart: %s column \"%s\" not in table \"%s\"", what, name,
                                 pd_table_name(t) ? pd_table_name(t) : "");
  return PD_OK;
}

static bool numeric(const pd_table *t, long col) {
  pd_type ty = pd_table_col_type(t, (size_t)col);
  return ty == PD_TYPE_INT64 || ty == PD_TYPE_DOUBLE;
}

static double cell_value(const pd_table *t, size_t row, long col) {
  if (pd_table_is_null(t, row, (size_t)col)) return NAN;
  if (pd_table_col_type(t, (size_t)col) == PD_TYPE_INT64) return (double)pd_table_get_int64(t, row, (size_t)col);
  return pd_table_get_double(t, row, (size_t)col);
}

static char *dup_text(const pd_table *t, size_t row, long col) {
  char buf[512];
  bool null;
  pd__cell_text(t, row, (size_t)col, buf, sizeof buf, &null);
  return strdup(null ? "\xE2\x80\x93" : buf);
}

/* A note cell: numbers formatted for people. */
static char *dup_note(const pd_table *t, size_t row, long col) {
  if (pd_table_is_null(t, row, (size_t)col)) return strdup("");
  char buf[64];
  switch (pd_table_col_type(t, (size_t)col)) {
  case PD_TYPE_INT64:
    pd__format_value((double)pd_table_get_int64(t, row, (size_t)col), PD_VALUE_INTEGER, NULL, 0, buf, sizeof buf);
    return strdup(buf);
  case PD_TYPE_DOUBLE:
    pd__format_value(pd_table_get_double(t, row, (size_t)col), PD_VALUE_PLAIN, NULL, -1, buf, sizeof buf);
    return strdup(buf);
  default: return dup_text(t, row, col);
  }
}

static bool single_series_kind(pd_chart_kind k) {
  return k == PD_CHART_BAR || k == PD_CHART_HBAR || k == PD_CHART_FUNNEL;
}

/* Resolves columns and fills c->cat, c->ser, c->v. */
static pd_status chart_load(chart *c, const pd_table *t) {
  const pd_chart_spec *s = &c->s;
  size_t ncols = pd_table_n_cols(t), nrows = pd_table_n_rows(t);
  long label = -1, series = -1, note = -1;
  pd_status st;
  if (s->label_col) {
    if ((st = find_col(t, s->label_col, "label", &label))) return st;
  } else {
    for (size_t i = 0; i < ncols && label < 0; i++)
      if (pd_table_col_type(t, i) == PD_TYPE_STRING) label = (long)i;
    if (label < 0 && ncols > 0) label = 0;
  }
  if (s->series_col && (st = find_col(t, s->series_col, "series", &series))) return st;
  if (s->note_col && (st = find_col(t, s->note_col, "note", &note))) return st;

  /* value columns */
  long vals[64];
  char legends[64][128]; /* "column=legend": the series' name in the legend ("" = the column's) */
  size_t nv = 0;
  if (s->value_cols) {
    const char *p = s->value_cols;
    while (*p) {
      const char *comma = strchr(p, ',');
      size_t len = comma ? (size_t)(comma - p) : strlen(p);
      char name[256];
      if (len >= sizeof name) return pd__error(PD_ERR_INVALID, "chart: value column name too long");
      memcpy(name, p, len);
      name[len] = '\0';
      char *eq = strchr(name, '=');
      if (eq) *eq++ = '\0';
      if (len > 0) {
        if (nv == sizeof vals / sizeof vals[0]) return pd__error(PD_ERR_INVALID, "chart: more than 64 value columns");
        snprintf(legends[nv], sizeof legends[nv], "%s", eq ? eq : "");
        if ((st = find_col(t, name, "value", &vals[nv]))) return st;
        if (!numeric(t, vals[nv]))
          return pd__error(PD_ERR_INVALID, "chart: value column \"%s\" is not numeric", name);
        nv++;
      }
      p += len + (comma ? 1 : 0);
    }
  } else {
    for (size_t i = 0; i < ncols && nv < 64; i++)
      if ((long)i != label && (long)i != series && (long)i != note && numeric(t, (long)i)) {
        legends[nv][0] = '\0';
        vals[nv++] = (long)i;
      }
  }
  if (nv == 0) {
    if (nrows == 0) return PD_OK; /* drawn as "no data" */
    return pd__error(PD_ERR_INVALID, "chart: table \"%s\" has no numeric value column", pd_table_name(t));
  }
  if (series >= 0 || single_series_kind(s->kind)) nv = 1;
  c->label_name = label >= 0 ? pd_table_col_name(t, (size_t)label) : "";
  c->value_name = pd_table_col_name(t, (size_t)vals[0]);
  if (s->format == PD_VALUE_AUTO) {
    c->s.format = PD_VALUE_INTEGER;
    for (size_t j = 0; j < nv; j++)
      if (pd_table_col_type(t, (size_t)vals[j]) != PD_TYPE_INT64) c->s.format = PD_VALUE_PLAIN;
  }
  size_t max_cat = s->max_items ? s->max_items : 60;

  if (series < 0) {
    c->n_cat = nrows < max_cat ? nrows : max_cat;
    c->dropped = nrows - c->n_cat;
    c->n_ser = nv;
    c->cat = calloc(c->n_cat + 1, sizeof *c->cat);
    c->note = note >= 0 ? calloc(c->n_cat + 1, sizeof *c->note) : NULL;
    c->ser = calloc(nv, sizeof *c->ser);
    c->v = malloc((c->n_cat * nv + 1) * sizeof *c->v);
    if (!c->cat || !c->ser || !c->v || (note >= 0 && !c->note)) return pd__error(PD_ERR_NOMEM, "chart: out of memory");
    for (size_t j = 0; j < nv; j++)
      if (!(c->ser[j] = strdup(legends[j][0] ? legends[j] : pd_table_col_name(t, (size_t)vals[j]))))
        return pd__error(PD_ERR_NOMEM, "chart: out of memory");
    if (s->highlight_col) {
      long hc;
      if ((st = find_col(t, s->highlight_col, "highlight", &hc))) return st;
      if (!numeric(t, hc)) return pd__error(PD_ERR_INVALID, "chart: highlight column \"%s\" is not numeric", s->highlight_col);
      if (!(c->hl = calloc(c->n_cat + 1, sizeof *c->hl))) return pd__error(PD_ERR_NOMEM, "chart: out of memory");
      for (size_t i = 0; i < c->n_cat; i++) {
        double h = cell_value(t, i, hc);
        c->hl[i] = isfinite(h) && h != 0;
      }
    }
    for (size_t i = 0; i < c->n_cat; i++) {
      if (!(c->cat[i] = dup_text(t, i, label))) return pd__error(PD_ERR_NOMEM, "chart: out of memory");
      if (c->note && !(c->note[i] = dup_note(t, i, note))) return pd__error(PD_ERR_NOMEM, "chart: out of memory");
      for (size_t j = 0; j < nv; j++) V(c, i, j) = cell_value(t, i, vals[j]);
    }
    return PD_OK;
  }

  /* long table: pivot (label, series) -> value */
  GHashTable *cats = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  GHashTable *sers = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  GPtrArray *cat_list = g_ptr_array_new_with_free_func(g_free), *ser_list = g_ptr_array_new_with_free_func(g_free);
  size_t *ci = malloc((nrows + 1) * sizeof *ci), *si = malloc((nrows + 1) * sizeof *si);
  st = PD_OK;
  if (!ci || !si) st = pd__error(PD_ERR_NOMEM, "chart: out of memory");
  for (size_t r = 0; r < nrows && st == PD_OK; r++) {
    char buf[512];
    bool null;
    pd__cell_text(t, r, (size_t)label, buf, sizeof buf, &null);
    gpointer idx;
    if (g_hash_table_lookup_extended(cats, buf, NULL, &idx)) {
      ci[r] = GPOINTER_TO_SIZE(idx);
    } else if (cat_list->len < max_cat) {
      ci[r] = cat_list->len;
      g_hash_table_insert(cats, g_strdup(buf), GSIZE_TO_POINTER(ci[r]));
      g_ptr_array_add(cat_list, g_strdup(null ? "\xE2\x80\x93" : buf));
    } else {
      ci[r] = SIZE_MAX;
      g_hash_table_insert(cats, g_strdup(buf), GSIZE_TO_POINTER(SIZE_MAX));
      c->dropped++;
    }
    pd__cell_text(t, r, (size_t)series, buf, sizeof buf, &null);
    if (g_hash_table_lookup_extended(sers, buf, NULL, &idx)) {
      si[r] = GPOINTER_TO_SIZE(idx);
    } else if (ser_list->len < 200) {
      si[r] = ser_list->len;
      g_hash_table_insert(sers, g_strdup(buf), GSIZE_TO_POINTER(si[r]));
      g_ptr_array_add(ser_list, g_strdup(null ? "\xE2\x80\x93" : buf));
    } else {
      si[r] = SIZE_MAX;
    }
  }
  if (st == PD_OK) {
    c->n_cat = cat_list->len;
    c->n_ser = ser_list->len;
    c->cat = calloc(c->n_cat + 1, sizeof *c->cat);
    c->note = note >= 0 ? calloc(c->n_cat + 1, sizeof *c->note) : NULL;
    c->ser = calloc(c->n_ser + 1, sizeof *c->ser);
    c->v = malloc((c->n_cat * c->n_ser + 1) * sizeof *c->v);
    if (!c->cat || !c->ser || !c->v || (note >= 0 && !c->note)) {
      st = pd__error(PD_ERR_NOMEM, "chart: out of memory");
    } else {
      for (size_t i = 0; i < c->n_cat * c->n_ser; i++) c->v[i] = NAN;
      for (size_t i = 0; i < c->n_cat && st == PD_OK; i++)
        if (!(c->cat[i] = strdup(cat_list->pdata[i]))) st = pd__error(PD_ERR_NOMEM, "chart: out of memory");
      for (size_t j = 0; j < c->n_ser && st == PD_OK; j++)
        if (!(c->ser[j] = strdup(ser_list->pdata[j]))) st = pd__error(PD_ERR_NOMEM, "chart: out of memory");
      for (size_t r = 0; r < nrows && st == PD_OK; r++) {
        if (ci[r] == SIZE_MAX || si[r] == SIZE_MAX) continue;
        V(c, ci[r], si[r]) = cell_value(t, r, vals[0]);
        if (c->note && !c->note[ci[r]] && !(c->note[ci[r]] = dup_note(t, r, note)))
          st = pd__error(PD_ERR_NOMEM, "chart: out of memory");
      }
      for (size_t i = 0; c->note && i < c->n_cat && st == PD_OK; i++)
        if (!c->note[i] && !(c->note[i] = strdup(""))) st = pd__error(PD_ERR_NOMEM, "chart: out of memory");
    }
  }
  g_ptr_array_free(cat_list, TRUE);
  g_ptr_array_free(ser_list, TRUE);
  g_hash_table_destroy(cats);
  g_hash_table_destroy(sers);
  free(ci);
  free(si);
  if (st == PD_OK) c->label_name = pd_table_col_name(t, (size_t)label);
  return st;
}

/* ---- formatting and scales --------------------------------------------- */

static void fmt_value(const chart *c, double v, char *buf, size_t size) {
  pd__format_value(v, c->s.format, c->s.currency_symbol, c->s.decimals, buf, size);
}

/* A tick label: as many decimals as the tick step needs. */
static void fmt_tick(const chart *c, double v, double step, char *buf, size_t size) {
  double shown = step;
  if (c->s.format == PD_VALUE_PERCENT) shown = step * 100;
  if (c->s.format == PD_VALUE_CURRENCY) shown = step / 100;
  int d = 0;
  if (c->s.format != PD_VALUE_INTEGER && shown > 0 && shown < 1) d = (int)ceil(-log10(shown) - 1e-9);
  if (d > 6) d = 6;
  if (fabs(v) < step * 1e-9) v = 0;
  pd__format_value(v, c->s.format, c->s.currency_symbol, d, buf, size);
}

static const char *unit_of(const chart *c) {
  switch (c->s.format) {
  case PD_VALUE_PERCENT: return " (%)";
  case PD_VALUE_CURRENCY: return NULL; /* symbol, filled by caller */
  default: return "";
  }
}

static void value_title(const chart *c, char *buf, size_t size) {
  if (c->s.y_title) {
    snprintf(buf, size, "%s", c->s.y_title);
    return;
  }
  const char *name = c->n_ser > 1 && !c->s.series_col ? "value" : c->value_name;
  const char *u = unit_of(c);
  if (u)
    snprintf(buf, size, "%s%s", name ? name : "value", u);
  else
    snprintf(buf, size, "%s (%s)", name ? name : "value", c->s.currency_symbol ? c->s.currency_symbol : "\xC2\xA5");
}

static void category_title(const chart *c, char *buf, size_t size) {
  snprintf(buf, size, "%s", c->s.x_title ? c->s.x_title : (c->label_name ? c->label_name : ""));
}

static double nice_step(double range, int target) {
  if (!(range > 0)) return 1;
  double raw = range / target;
  double mag = pow(10, floor(log10(raw)));
  double f = raw / mag;
  double nice = f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10;
  return nice * mag;
}

typedef struct scale {
  double lo, hi, step;
} scale;

static scale make_scale(const chart *c, double lo, double hi) {
  if (lo > 0) lo = 0;
  if (hi < 0) hi = 0;
  if (c->s.has_ref && isfinite(c->s.ref_value)) {
    if (c->s.ref_value < lo) lo = c->s.ref_value;
    if (c->s.ref_value > hi) hi = c->s.ref_value;
  }
  if (hi - lo <= 0) hi = lo + (c->s.format == PD_VALUE_PERCENT ? 1 : c->s.format == PD_VALUE_CURRENCY ? 10000 : 1);
  scale sc;
  sc.step = nice_step(hi - lo, 5);
  if (c->s.format == PD_VALUE_INTEGER && sc.step < 1) sc.step = 1;
  if (c->s.format == PD_VALUE_CURRENCY && sc.step < 1) sc.step = 1;
  sc.lo = floor(lo / sc.step + 1e-9) * sc.step;
  sc.hi = ceil(hi / sc.step - 1e-9) * sc.step;
  if (sc.hi <= sc.lo) sc.hi = sc.lo + sc.step;
  return sc;
}

static double value_range(const chart *c, bool stacked, double *hi_out) {
  double lo = INFINITY, hi = -INFINITY;
  for (size_t i = 0; i < c->n_cat; i++) {
    double pos = 0, neg = 0;
    for (size_t j = 0; j < c->n_ser; j++) {
      double v = V(c, i, j);
      if (!isfinite(v)) continue;
      if (stacked) {
        if (v > 0) pos += v; else neg += v;
      } else {
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
    }
    if (stacked) {
      if (neg < lo) lo = neg;
      if (pos > hi) hi = pos;
    }
  }
  if (!isfinite(lo)) lo = 0;
  if (!isfinite(hi)) hi = 0;
  *hi_out = hi;
  return lo;
}

static const char *series_color(size_t j) { return palette[j % N_PALETTE]; }

/* Dark or light text on a fill colour "#rrggbb". */
static const char *text_on(const char *fill) {
  unsigned r = 0, g = 0, bl = 0;
  if (sscanf(fill, "#%02x%02x%02x", &r, &g, &bl) != 3) return "#222222";
  double lum = 0.299 * r + 0.587 * g + 0.114 * bl;
  return lum > 150 ? "#222222" : "#ffffff";
}

/* Legend flowing left to right under the title; returns its height. */
static double legend(chart *c, double y, bool draw) {
  if (c->n_ser < 2) return 0;
  double x = 12, rows = 1;
  for (size_t j = 0; j < c->n_ser; j++) {
    char name[128];
    pd__text_fit(c->ser[j], FONT, 200, name, sizeof name);
    double wdt = 18 + pd__text_width(name, FONT) + 14;
    if (x + wdt > c->w - 12 && x > 12) {
      x = 12;
      rows++;
    }
    double yy = y + (rows - 1) * 18;
    if (draw) {
      pd__buf_printf(c->b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"12\" height=\"12\" rx=\"2\" fill=\"%s\"/>", x,
                     yy, series_color(j));
      pd__svg_text(c->b, x + 16, yy + 10.5, "start", "fill=\"#333333\"", name);
    }
    x += wdt;
  }
  return rows * 18 + 4;
}

/* A one-entry legend for highlighted bars, right-aligned; returns its height. */
static double highlight_legend(chart *c, double y) {
  bool any = false;
  for (size_t i = 0; c->hl && i < c->n_cat; i++) any = any || c->hl[i];
  if (!any) return 0;
  const char *label = c->s.highlight_label ? c->s.highlight_label : c->s.highlight_col;
  char fit[256];
  pd__text_fit(label, FONT, c->w / 2, fit, sizeof fit);
  double tw = pd__text_width(fit, FONT);
  double x = c->w - 16 - tw - 16;
  pd__buf_printf(c->b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"12\" height=\"12\" rx=\"2\" fill=\"" ALERT "\"/>", x, y);
  pd__svg_text(c->b, x + 16, y + 10.5, "start", "fill=\"#333333\"", fit);
  return 18;
}

static void note_dropped(chart *c) {
  if (!c->dropped) return;
  char msg[160];
  snprintf(msg, sizeof msg, "%zu more rows not shown", c->dropped);
  pd__svg_text(c->b, c->w - 12, c->h - 6, "end", "font-size=\"10\" fill=\"#888888\"", msg);
}

static void tooltip(chart *c, const char *a, const char *b2, double v) {
  char num[64];
  fmt_value(c, v, num, sizeof num);
  pd__buf_puts(c->b, "<title>");
  pd__buf_escape(c->b, a);
  if (b2) {
    pd__buf_puts(c->b, " \xC2\xB7 ");
    pd__buf_escape(c->b, b2);
  }
  pd__buf_puts(c->b, ": ");
  pd__buf_escape(c->b, num);
  pd__buf_puts(c->b, "</title>");
}

/* ---- vertical charts: bar, grouped, stacked, line ------------------------ */

static void draw_vertical(chart *c) {
  pd_chart_kind kind = c->s.kind;
  bool stacked = kind == PD_CHART_STACKED_BAR;
  double hi, lo = value_range(c, stacked, &hi);
  scale sc = make_scale(c, lo, hi);
  char buf[512], title[256];

  double top = pd__svg_begin(c->b, c->w, c->h, c->s.title, c->s.subtitle);
  double leg = legend(c, top + 2, true);
  if (leg == 0) leg = highlight_legend(c, top + 2);
  top += leg + 12;
  double tick_w = 0;
  for (double v = sc.lo; v <= sc.hi + sc.step * 1e-6; v += sc.step) {
    fmt_tick(c, v, sc.step, buf, sizeof buf);
    double tw = pd__text_width(buf, SMALL);
    if (tw > tick_w) tick_w = tw;
  }
  double left = 12 + 18 + tick_w + 8, right = c->w - 16;
  double bottom = c->h - 12 - 18 - 22;
  if (c->dropped) bottom -= 10;
  double pw = right - left, ph = bottom - top;
  if (pw < 20) pw = 20;
  if (ph < 20) ph = 20;
#define Y(v) (bottom - ((v) - sc.lo) / (sc.hi - sc.lo) * ph)

  /* grid and value ticks */
  for (double v = sc.lo; v <= sc.hi + sc.step * 1e-6; v += sc.step) {
    double y = Y(v);
    pd__buf_printf(c->b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#e6e6e6\"/>", left, y, right, y);
    fmt_tick(c, v, sc.step, buf, sizeof buf);
    pd__svg_text(c->b, left - 6, y + 4, "end", "font-size=\"10.5\" fill=\"#555555\"", buf);
  }
  pd__buf_printf(c->b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#999999\"/>", left, Y(0), right, Y(0));
  pd__buf_printf(c->b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#999999\"/>", left, top, left, bottom);

  /* axis titles */
  value_title(c, title, sizeof title);
  pd__buf_printf(c->b, "<text transform=\"translate(%.1f %.1f) rotate(-90)\" text-anchor=\"middle\" fill=\"#333333\">",
                 12 + 12.0, top + ph / 2);
  pd__buf_escape(c->b, title);
  pd__buf_puts(c->b, "</text>");
  category_title(c, title, sizeof title);
  pd__svg_text(c->b, left + pw / 2, bottom + 42, "middle", "fill=\"#333333\"", title);

  /* category labels, thinned so they do not overlap */
  size_t n = c->n_cat;
  double band = pw / (double)n;
  double maxw = 0;
  for (size_t i = 0; i < n; i++) {
    pd__text_fit(c->cat[i], SMALL, 160, buf, sizeof buf);
    double tw = pd__text_width(buf, SMALL);
    if (tw > maxw) maxw = tw;
  }
  size_t every = (size_t)ceil((maxw + 8) / band);
  if (every < 1) every = 1;
  for (size_t i = 0; i < n; i += every) {
    pd__text_fit(c->cat[i], SMALL, every * band - 4 > 160 ? 160 : every * band - 4, buf, sizeof buf);
    pd__svg_text(c->b, left + band * (i + 0.5), bottom + 16, "middle", "font-size=\"10.5\" fill=\"#444444\"", buf);
  }

  if (kind == PD_CHART_LINE) {
    for (size_t j = 0; j < c->n_ser; j++) {
      pd__buf_printf(c->b, "<path fill=\"none\" stroke=\"%s\" stroke-width=\"2\" stroke-linejoin=\"round\" d=\"",
                     series_color(j));
      bool pen = false, any = false;
      for (size_t i = 0; i < n; i++) {
        double v = V(c, i, j);
        if (!isfinite(v)) {
          pen = false;
          continue;
        }
        pd__buf_printf(c->b, "%s%.1f %.1f ", pen ? "L" : "M", left + band * (i + 0.5), Y(v));
        pen = any = true;
      }
      if (!any) pd__buf_printf(c->b, "M%.1f %.1f", left, bottom);
      pd__buf_puts(c->b, "\"/>");
      for (size_t i = 0; i < n && n <= 80; i++) {
        double v = V(c, i, j);
        if (!isfinite(v)) continue;
        pd__buf_printf(c->b, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\">", left + band * (i + 0.5), Y(v),
                       series_color(j));
        tooltip(c, c->cat[i], c->n_ser > 1 ? c->ser[j] : NULL, v);
        pd__buf_puts(c->b, "</circle>");
        if (c->n_ser == 1 && band >= 44) {
          fmt_value(c, v, buf, sizeof buf);
          pd__svg_text(c->b, left + band * (i + 0.5), Y(v) - 7, "middle", "font-size=\"10\" fill=\"#333333\"", buf);
        }
      }
    }
  } else {
    double inner = band * 0.72;
    /* value labels over bars: on every bar or on none, never a few */
    double slot = kind == PD_CHART_GROUPED_BAR ? inner / (double)c->n_ser : inner + band * 0.25;
    bool labels = !stacked;
    for (size_t i = 0; i < n * c->n_ser && labels; i++) {
      fmt_value(c, c->v[i], buf, sizeof buf);
      if (pd__text_width(buf, 10) + 2 > slot) labels = false;
    }
    for (size_t i = 0; i < n; i++) {
      double x0 = left + band * i + (band - inner) / 2;
      double pos = 0, neg = 0;
      for (size_t j = 0; j < c->n_ser; j++) {
        double v = V(c, i, j);
        if (!isfinite(v)) continue;
        double x = x0, wdt = inner, base = 0;
        if (kind == PD_CHART_GROUPED_BAR) {
          wdt = inner / (double)c->n_ser;
          x = x0 + wdt * j;
        } else if (stacked) {
          base = v >= 0 ? pos : neg;
          if (v >= 0) pos += v; else neg += v;
        }
        double y1 = Y(base + v), y0 = Y(base);
        double ytop = y1 < y0 ? y1 : y0, hgt = fabs(y0 - y1);
        const char *fill = c->n_ser == 1 ? (c->hl && c->hl[i] ? ALERT : palette[0]) : series_color(j);
        pd__buf_printf(c->b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\">", x, ytop,
                       wdt > 1 ? wdt - (kind == PD_CHART_GROUPED_BAR ? 1 : 0) : 1, hgt, fill);
        tooltip(c, c->cat[i], c->n_ser > 1 ? c->ser[j] : NULL, v);
        pd__buf_puts(c->b, "</rect>");
        fmt_value(c, v, buf, sizeof buf);
        double tw = pd__text_width(buf, 10);
        if (stacked && hgt >= 14 && tw + 4 <= wdt) {
          char attrs[80];
          snprintf(attrs, sizeof attrs, "font-size=\"10\" fill=\"%s\"", text_on(fill));
          pd__svg_text(c->b, x + wdt / 2, ytop + hgt / 2 + 3.5, "middle", attrs, buf);
        } else if (labels) {
          double ty = v >= 0 ? ytop - 4 : ytop + hgt + 11;
          pd__svg_text(c->b, x + wdt / 2, ty, "middle", "font-size=\"10\" fill=\"#333333\"", buf);
        }
      }
    }
  }
  if (c->s.has_ref && isfinite(c->s.ref_value)) {
    double y = Y(c->s.ref_value);
    pd__buf_printf(c->b,
                   "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"" ALERT "\" "
                   "stroke-width=\"1.5\" stroke-dasharray=\"6 4\"/>",
                   left, y, right, y);
    char num[64];
    fmt_value(c, c->s.ref_value, num, sizeof num);
    snprintf(buf, sizeof buf, "%s %s", c->s.ref_label ? c->s.ref_label : "reference", num);
    pd__svg_text(c->b, right - 2, y - 5, "end", "font-size=\"10.5\" fill=\"" ALERT "\"", buf);
  }
#undef Y
  note_dropped(c);
  pd__svg_end(c->b);
}

/* ---- horizontal bars ------------------------------------------------------ */

static double label_column_width(chart *c, double font, double cap) {
  double w = 0;
  char buf[512];
  for (size_t i = 0; i < c->n_cat; i++) {
    pd__text_fit(c->cat[i], font, cap, buf, sizeof buf);
    double tw = pd__text_width(buf, font);
    if (tw > w) w = tw;
  }
  return w;
}

static double note_column_width(chart *c, double font) {
  double w = 0;
  for (size_t i = 0; c->note && i < c->n_cat; i++) {
    double tw = pd__text_width(c->note[i], font);
    if (tw > w) w = tw;
  }
  return c->note ? w + 10 : 0;
}

static void draw_hbar(chart *c) {
  double hi, lo = value_range(c, false, &hi);
  scale sc = make_scale(c, lo, hi);
  char buf[512], title[256];
  double top = pd__svg_begin(c->b, c->w, c->h, c->s.title, c->s.subtitle);
  top += highlight_legend(c, top + 2) + 10;
  double labw = label_column_width(c, FONT, c->w * 0.32);
  double notew = note_column_width(c, SMALL);
  double left = 12 + 26 + labw + notew + 10;
  double valw = 0;
  for (size_t i = 0; i < c->n_cat; i++) {
    fmt_value(c, V(c, i, 0), buf, sizeof buf);
    double tw = pd__text_width(buf, 10);
    if (tw > valw) valw = tw;
  }
  double right = c->w - 16 - valw - 6;
  double bottom = c->h - 12 - 18 - 22 - (c->dropped ? 10 : 0);
  double pw = right - left, ph = bottom - top;
  if (pw < 20) pw = 20;
  double rowh = ph / (double)c->n_cat;
#define X(v) (left + ((v) - sc.lo) / (sc.hi - sc.lo) * pw)
  for (double v = sc.lo; v <= sc.hi + sc.step * 1e-6; v += sc.step) {
    double x = X(v);
    pd__buf_printf(c->b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#e6e6e6\"/>", x, top, x, bottom);
    fmt_tick(c, v, sc.step, buf, sizeof buf);
    pd__svg_text(c->b, x, bottom + 16, "middle", "font-size=\"10.5\" fill=\"#555555\"", buf);
  }
  pd__buf_printf(c->b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#999999\"/>", X(0), top, X(0), bottom);
  value_title(c, title, sizeof title);
  pd__svg_text(c->b, left + pw / 2, bottom + 42, "middle", "fill=\"#333333\"", title);
  category_title(c, title, sizeof title);
  pd__buf_printf(c->b, "<text transform=\"translate(%.1f %.1f) rotate(-90)\" text-anchor=\"middle\" fill=\"#333333\">",
                 24.0, top + ph / 2);
  pd__buf_escape(c->b, title);
  pd__buf_puts(c->b, "</text>");
  double font = rowh >= 16 ? FONT : rowh >= 10 ? 9 : 0;
  for (size_t i = 0; i < c->n_cat; i++) {
    double y = top + rowh * i, v = V(c, i, 0);
    char attrs[64];
    snprintf(attrs, sizeof attrs, "font-size=\"%.0f\" fill=\"#333333\"", font);
    if (font > 0) {
      pd__text_fit(c->cat[i], font, c->w * 0.32, buf, sizeof buf);
      pd__svg_text(c->b, 12 + 26 + labw, y + rowh / 2 + font * 0.35, "end", attrs, buf);
      if (c->note) pd__svg_text(c->b, 12 + 26 + labw + notew, y + rowh / 2 + font * 0.35, "end",
                                "font-size=\"10.5\" fill=\"#777777\"", c->note[i]);
    }
    if (!isfinite(v)) continue;
    double x0 = X(0), x1 = X(v);
    pd__buf_printf(c->b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\">",
                   x0 < x1 ? x0 : x1, y + rowh * 0.15, fabs(x1 - x0), rowh * 0.7,
                   c->hl && c->hl[i] ? ALERT : palette[0]);
    tooltip(c, c->cat[i], NULL, v);
    pd__buf_puts(c->b, "</rect>");
    if (font > 0) {
      fmt_value(c, v, buf, sizeof buf);
      pd__svg_text(c->b, v >= 0 ? x1 + 4 : x1 - 4, y + rowh / 2 + 3.5, v >= 0 ? "start" : "end",
                   "font-size=\"10\" fill=\"#333333\"", buf);
    }
  }
  if (c->s.has_ref && isfinite(c->s.ref_value)) {
    double x = X(c->s.ref_value);
    pd__buf_printf(c->b,
                   "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"" ALERT "\" "
                   "stroke-width=\"1.5\" stroke-dasharray=\"6 4\"/>",
                   x, top - 6, x, bottom);
    pd__svg_text(c->b, x + 3, top - 2, "start", "font-size=\"10.5\" fill=\"" ALERT "\"",
                 c->s.ref_label ? c->s.ref_label : "reference");
  }
#undef X
  note_dropped(c);
  pd__svg_end(c->b);
}

/* ---- heat map -------------------------------------------------------------- */

static void heat_color(double t, char *out, size_t size) {
  /* sequential blues, light to dark */
  static const double stops[][3] = {{247, 251, 255}, {198, 219, 239}, {107, 174, 214}, {33, 113, 181}, {8, 48, 107}};
  if (!(t >= 0)) t = 0;
  if (t > 1) t = 1;
  double pos = t * 4;
  int k = (int)pos;
  if (k > 3) k = 3;
  double f = pos - k;
  unsigned rgb[3];
  for (int i = 0; i < 3; i++) rgb[i] = (unsigned)lround(stops[k][i] + (stops[k + 1][i] - stops[k][i]) * f);
  snprintf(out, size, "#%02x%02x%02x", rgb[0], rgb[1], rgb[2]);
}

static void draw_heatmap(chart *c) {
  char buf[512], title[256], fill[16];
  double lo = INFINITY, hi = -INFINITY;
  for (size_t i = 0; i < c->n_cat * c->n_ser; i++) {
    if (!isfinite(c->v[i])) continue;
    if (c->v[i] < lo) lo = c->v[i];
    if (c->v[i] > hi) hi = c->v[i];
  }
  if (!isfinite(lo)) lo = hi = 0;
  if (c->s.format == PD_VALUE_PERCENT && lo >= 0 && hi <= 1) lo = 0; /* rates: colour from 0 */
  double span = hi - lo > 0 ? hi - lo : 1;
  double top = pd__svg_begin(c->b, c->w, c->h, c->s.title, c->s.subtitle);
  double labw = label_column_width(c, SMALL, c->w * 0.25);
  double notew = note_column_width(c, SMALL);
  double left = 12 + 26 + labw + notew + 8, right = c->w - 12;
  double head = top + 18 + 18; /* series axis title, then column labels */
  double bottom = c->h - 12 - 30 - (c->dropped ? 10 : 0);
  double cw = (right - left) / (double)c->n_ser, rh = (bottom - head) / (double)c->n_cat;
  value_title(c, title, sizeof title);
  pd__svg_text(c->b, left + (right - left) / 2, top + 12, "middle", "fill=\"#333333\"", title);
  category_title(c, title, sizeof title);
  pd__buf_printf(c->b, "<text transform=\"translate(%.1f %.1f) rotate(-90)\" text-anchor=\"middle\" fill=\"#333333\">",
                 24.0, head + (bottom - head) / 2);
  pd__buf_escape(c->b, title);
  pd__buf_puts(c->b, "</text>");
  if (c->note && c->s.note_col) {
    pd__svg_text(c->b, left - 8, head - 6, "end", "font-size=\"10\" fill=\"#777777\"", c->s.note_col);
  }
  /* column labels, thinned */
  double maxw = 0;
  for (size_t j = 0; j < c->n_ser; j++) {
    double tw = pd__text_width(c->ser[j], 10);
    if (tw > maxw) maxw = tw;
  }
  size_t every = (size_t)ceil((maxw + 4) / cw);
  if (every < 1) every = 1;
  for (size_t j = 0; j < c->n_ser; j += every) {
    pd__text_fit(c->ser[j], 10, cw * every - 2, buf, sizeof buf);
    pd__svg_text(c->b, left + cw * (j + 0.5), head - 6, "middle", "font-size=\"10\" fill=\"#444444\"", buf);
  }
  /* the font that fits the widest number in a cell */
  double cell_font = rh - 4 < 11 ? rh - 4 : 11;
  double numw = 0;
  for (size_t i = 0; i < c->n_cat * c->n_ser; i++) {
    if (!isfinite(c->v[i])) continue;
    fmt_value(c, c->v[i], buf, sizeof buf);
    double tw = pd__text_width(buf, 1);
    if (tw > numw) numw = tw;
  }
  if (numw > 0 && numw * cell_font > cw - 3) cell_font = (cw - 3) / numw;
  bool numbers = cell_font >= 7.5;
  double lab_font = rh >= 13 ? SMALL : rh >= 8 ? rh - 2 : 0;
  for (size_t i = 0; i < c->n_cat; i++) {
    double y = head + rh * i;
    if (lab_font > 0) {
      char attrs[64];
      snprintf(attrs, sizeof attrs, "font-size=\"%.1f\" fill=\"#333333\"", lab_font);
      pd__text_fit(c->cat[i], lab_font, c->w * 0.25, buf, sizeof buf);
      pd__svg_text(c->b, 12 + 26 + labw, y + rh / 2 + lab_font * 0.35, "end", attrs, buf);
      if (c->note) {
        snprintf(attrs, sizeof attrs, "font-size=\"%.1f\" fill=\"#777777\"", lab_font);
        pd__svg_text(c->b, left - 8, y + rh / 2 + lab_font * 0.35, "end", attrs, c->note[i]);
      }
    }
    for (size_t j = 0; j < c->n_ser; j++) {
      double v = V(c, i, j);
      double x = left + cw * j;
      if (!isfinite(v)) {
        pd__buf_printf(c->b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#f4f4f4\"/>", x, y,
                       cw - 1, rh - 1);
        continue;
      }
      heat_color((v - lo) / span, fill, sizeof fill);
      pd__buf_printf(c->b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\">", x, y,
                     cw - 1 > 0.5 ? cw - 1 : 0.5, rh - 1 > 0.5 ? rh - 1 : 0.5, fill);
      tooltip(c, c->cat[i], c->ser[j], v);
      pd__buf_puts(c->b, "</rect>");
      if (numbers) {
        char attrs[64];
        fmt_value(c, v, buf, sizeof buf);
        snprintf(attrs, sizeof attrs, "font-size=\"%.1f\" fill=\"%s\"", cell_font, text_on(fill));
        pd__svg_text(c->b, x + cw / 2 - 0.5, y + rh / 2 + cell_font * 0.35, "middle", attrs, buf);
      }
    }
  }
  /* colour legend: five swatches from low to high */
  double lx = left, ly = bottom + 12;
  pd__svg_text(c->b, lx, ly + 10, "start", "font-size=\"10\" fill=\"#555555\"", "colour scale:");
  lx += 72;
  for (int k = 0; k < 5; k++) {
    double v = lo + span * k / 4.0;
    heat_color(k / 4.0, fill, sizeof fill);
    pd__buf_printf(c->b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"14\" height=\"12\" fill=\"%s\" stroke=\"#cccccc\"/>", lx,
                   ly, fill);
    fmt_value(c, v, buf, sizeof buf);
    pd__svg_text(c->b, lx + 18, ly + 10, "start", "font-size=\"10\" fill=\"#555555\"", buf);
    lx += 18 + pd__text_width(buf, 10) + 12;
  }
  note_dropped(c);
  pd__svg_end(c->b);
}

/* ---- funnel ---------------------------------------------------------------- */

static void draw_funnel(chart *c) {
  char buf[512], title[256];
  double top = pd__svg_begin(c->b, c->w, c->h, c->s.title, c->s.subtitle) + 8;
  double labw = label_column_width(c, FONT, c->w * 0.3);
  double left = 12 + 26 + labw + 12, right = c->w - 150;
  double bottom = c->h - 12 - 22 - (c->dropped ? 10 : 0);
  double n = (double)c->n_cat;
  double slot = (bottom - top) / n, barh = slot * 0.58;
  double first = V(c, 0, 0), maxv = 0;
  for (size_t i = 0; i < c->n_cat; i++)
    if (isfinite(V(c, i, 0)) && V(c, i, 0) > maxv) maxv = V(c, i, 0);
  double mid = (left + right) / 2, pw = right - left;
  category_title(c, title, sizeof title);
  pd__buf_printf(c->b, "<text transform=\"translate(%.1f %.1f) rotate(-90)\" text-anchor=\"middle\" fill=\"#333333\">",
                 24.0, top + (bottom - top) / 2);
  pd__buf_escape(c->b, title);
  pd__buf_puts(c->b, "</text>");
  value_title(c, title, sizeof title);
  snprintf(buf, sizeof buf, "bar width: %s; %% of the first step", title);
  pd__svg_text(c->b, mid, c->h - 14, "middle", "fill=\"#333333\"", buf);
  for (size_t i = 0; i < c->n_cat; i++) {
    double v = V(c, i, 0), y = top + slot * i;
    pd__text_fit(c->cat[i], FONT, c->w * 0.3, buf, sizeof buf);
    pd__svg_text(c->b, 12 + 26 + labw, y + barh / 2 + 4, "end", "fill=\"#333333\"", buf);
    double wdt = isfinite(v) && maxv > 0 && v > 0 ? v / maxv * pw : 0;
    pd__buf_printf(c->b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" rx=\"2\" fill=\"%s\">",
                   mid - wdt / 2, y, wdt > 1 ? wdt : 1, barh, palette[0]);
    tooltip(c, c->cat[i], NULL, v);
    pd__buf_puts(c->b, "</rect>");
    char num[64], pct[64];
    fmt_value(c, v, num, sizeof num);
    double share = first > 0 && isfinite(v) ? v / first : NAN;
    pd__format_value(share, PD_VALUE_PERCENT, NULL, 1, pct, sizeof pct);
    snprintf(buf, sizeof buf, "%s (%s)", num, pct);
    double tw = pd__text_width(buf, 11);
    if (tw + 8 < wdt)
      pd__svg_text(c->b, mid, y + barh / 2 + 4, "middle", "font-size=\"11\" fill=\"#ffffff\"", buf);
    else
      pd__svg_text(c->b, mid + wdt / 2 + 6, y + barh / 2 + 4, "start", "font-size=\"11\" fill=\"#333333\"", buf);
    if (i + 1 < c->n_cat) {
      double next = V(c, i + 1, 0);
      double conv = isfinite(v) && isfinite(next) && v > 0 ? next / v : NAN;
      char cs[64], ds[64], lost[64];
      pd__format_value(conv, PD_VALUE_PERCENT, NULL, 1, cs, sizeof cs);
      pd__format_value(isfinite(conv) ? 1 - conv : NAN, PD_VALUE_PERCENT, NULL, 1, ds, sizeof ds);
      fmt_value(c, isfinite(v) && isfinite(next) ? v - next : NAN, lost, sizeof lost);
      if (isfinite(conv) && conv > 1) /* a later step larger than the one before */
        snprintf(buf, sizeof buf, "\xE2\x86\x91 %s of the previous step", cs);
      else
        snprintf(buf, sizeof buf, "\xE2\x86\x93 %s continue \xC2\xB7 %s drop off (%s)", cs, ds, lost);
      double ty = y + barh + (slot - barh) / 2 + 4;
      pd__svg_text(c->b, mid, ty, "middle", "font-size=\"10.5\" fill=\"#b03a2e\"", buf);
    }
  }
  note_dropped(c);
  pd__svg_end(c->b);
}

/* ---- entry points ------------------------------------------------------------ */

static double auto_height(const chart *c) {
  size_t n = c->n_cat ? c->n_cat : 1;
  switch (c->s.kind) {
  case PD_CHART_HBAR: return 120 + 26.0 * n;
  case PD_CHART_HEATMAP: return 150 + 24.0 * n;
  case PD_CHART_FUNNEL: return 90 + 56.0 * n;
  default: return 420;
  }
}

pd_status pd_chart_svg(const pd_table *t, const pd_chart_spec *spec, char **out_svg) {
  if (out_svg) *out_svg = NULL;
  if (!t || !spec || !out_svg) return pd__error(PD_ERR_INVALID, "pd_chart_svg: NULL argument");
  if (spec->size < offsetof(pd_chart_spec, subtitle))
    return pd__error(PD_ERR_INVALID, "pd_chart_svg: spec.size %zu too small", spec->size);
  chart c;
  memset(&c, 0, sizeof c);
  pd_chart_spec init = PD_CHART_SPEC_INIT;
  c.s = init;
  memcpy(&c.s, spec, spec->size < sizeof c.s ? spec->size : sizeof c.s);
  c.s.size = sizeof c.s;
  if (c.s.kind < PD_CHART_BAR || c.s.kind > PD_CHART_TREE)
    return pd__error(PD_ERR_INVALID, "pd_chart_svg: unknown chart kind %d", (int)c.s.kind);
  if (c.s.format < PD_VALUE_AUTO || c.s.format > PD_VALUE_PLAIN)
    return pd__error(PD_ERR_INVALID, "pd_chart_svg: unknown value format %d", (int)c.s.format);
  if (!c.s.title) c.s.title = pd_table_name(t) ? pd_table_name(t) : "";
  pd__buf b = {0};
  c.b = &b;
  pd_status st;
  if (c.s.kind == PD_CHART_TREE) {
    st = pd__chart_tree(t, &c.s, &b);
  } else {
    st = chart_load(&c, t);
    if (st == PD_OK) {
      c.w = c.s.width > 0 ? c.s.width : 760;
      c.h = c.s.height > 0 ? c.s.height : auto_height(&c);
      if (c.w < 240) c.w = 240;
      if (c.w > 8000) c.w = 8000;
      if (c.h < 160) c.h = 160;
      if (c.h > 20000) c.h = 20000;
      if (c.n_cat == 0 || c.n_ser == 0) {
        pd__svg_message(&b, c.w, c.h < 240 ? c.h : 240, c.s.title, c.s.subtitle, "no data");
      } else {
        switch (c.s.kind) {
        case PD_CHART_HBAR: draw_hbar(&c); break;
        case PD_CHART_HEATMAP: draw_heatmap(&c); break;
        case PD_CHART_FUNNEL: draw_funnel(&c); break;
        default: draw_vertical(&c); break;
        }
      }
    }
  }
  chart_free(&c);
  if (st != PD_OK) {
    pd__buf_clear(&b);
    return st;
  }
  char *svg = pd__buf_take(&b);
  if (!svg) return pd__error(PD_ERR_NOMEM, "pd_chart_svg: out of memory");
  *out_svg = svg;
  return PD_OK;
}

pd_status pd_chart_write(const pd_table *t, const pd_chart_spec *spec, const char *path) {
  if (!path) return pd__error(PD_ERR_INVALID, "pd_chart_write: NULL path");
  char *svg;
  pd_status st = pd_chart_svg(t, spec, &svg);
  if (st != PD_OK) return st;
  FILE *f = fopen(path, "wb");
  if (!f) {
    pd_free(svg);
    return pd__error(PD_ERR_IO, "pd_chart_write: cannot open %s", path);
  }
  size_t len = strlen(svg);
  bool ok = fwrite(svg, 1, len, f) == len;
  ok = (fclose(f) == 0) && ok;
  pd_free(svg);
  if (!ok) return pd__error(PD_ERR_IO, "pd_chart_write: cannot write %s", path);
  return PD_OK;
}
