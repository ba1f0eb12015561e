/* Charts: self-contained SVG drawn from a pd_table.
 *
 * One module draws every chart of the library: the CLI's --svg options and
 * the HTML report (report.h) both call pd_chart_svg() on the pd_table an
 * analysis returned. The SVG has no external fonts, scripts or links, uses
 * no element ids (so many charts can be inlined in one HTML page), escapes
 * all text, and names a font list that renders Chinese. Every chart has a
 * title and axis titles (defaulting to the column names, with the unit of
 * the value format); an empty table gives a valid SVG saying "no data".
 *
 * Table shapes understood:
 *  - wide: one row per category (label_col), one column per series
 *    (value_cols), e.g. lifecycle (period, new, returning, resurrecting);
 *  - long: one row per (category, series) pair; series_col names the
 *    column holding the series key and value_cols a single value column,
 *    e.g. retention (cohort, k, rate) pivots into a heat map.
 * Null, NaN and infinite cells are drawn as gaps and written as "–".
 */
#ifndef PRIVDOMAIN_CHART_H
#define PRIVDOMAIN_CHART_H

#include "privdomain/common.h"
#include "privdomain/table.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum pd_chart_kind {
  PD_CHART_BAR = 1,         /* vertical bars, one per row (first value column) */
  PD_CHART_HBAR = 2,        /* horizontal bars: long category names (touchpoints) */
  PD_CHART_GROUPED_BAR = 3, /* one bar per series, side by side */
  PD_CHART_STACKED_BAR = 4, /* series stacked; negative values stack downwards */
  PD_CHART_LINE = 5,        /* one line per series; nulls break the line */
  PD_CHART_HEATMAP = 6,     /* rows x series, colour by value, numbers in cells */
  PD_CHART_FUNNEL = 7,      /* one bar per step (row order), share of the first
                               step and the drop-off between steps */
  PD_CHART_TREE = 8         /* a tree from (node, parent, label) rows: node_col,
                               parent_col, label_col; parent null, empty, equal
                               to the node or unknown makes a root */
} pd_chart_kind;

typedef enum pd_value_format {
  PD_VALUE_AUTO = 0,     /* INT64 columns as integers, DOUBLE as plain numbers */
  PD_VALUE_INTEGER = 1,  /* 1234567 -> "1,234,567" (rounded) */
  PD_VALUE_CURRENCY = 2, /* minor units (fen, cents): 123456 -> "¥1,234.56" */
  PD_VALUE_PERCENT = 3,  /* a ratio: 0.1234 -> "12.3%" */
  PD_VALUE_PLAIN = 4     /* a double: 12345.678 -> "12,345.68" */
} pd_value_format;

/* What to draw. Strings are borrowed for the duration of the call; NULL
 * means the default given beside each field. Initialise with
 * PD_CHART_SPEC_INIT and set what you need. */
typedef struct pd_chart_spec {
  size_t size;             /* sizeof(pd_chart_spec) */
  pd_chart_kind kind;
  const char *title;       /* NULL: the table's name */
  const char *subtitle;    /* a line under the title, or NULL */
  const char *label_col;   /* categories (x of bars/lines, rows of a heat map,
                              steps of a funnel, node labels of a tree).
                              NULL: the first STRING column, else the first column */
  const char *value_cols;  /* comma-separated value columns, each optionally
                              "column=legend" to name its series in the legend
                              (wide tables). NULL: every numeric column other
                              than the label (only the first one for BAR, HBAR
                              and FUNNEL) */
  const char *series_col;  /* long tables: column whose distinct values become
                              the series (in order of first appearance), or NULL */
  const char *note_col;    /* a column shown beside each row label (HBAR, HEATMAP),
                              e.g. a cohort's size, or NULL */
  const char *x_title;     /* title of the category axis (horizontal for BAR and
                              LINE, vertical for HBAR, FUNNEL and HEATMAP rows;
                              the depth axis of a TREE). NULL: the label column's name */
  const char *y_title;     /* title of the value axis (for a HEATMAP: its columns).
                              NULL: the value column's name and unit */
  pd_value_format format;
  const char *currency_symbol; /* NULL: "¥" */
  int decimals;            /* digits after the point; -1: the format's default
                              (integer 0, currency 2, percent 1, plain 2) */
  int width, height;       /* pixels; 0: 760 wide, height by kind and rows */
  int has_ref;             /* nonzero: draw a reference line at ref_value (value
                              axis) or, for TREE, mark nodes deeper than ref_value */
  double ref_value;
  const char *ref_label;   /* caption of the reference line, or NULL */
  const char *node_col;    /* TREE: node id column, NULL: "node" */
  const char *parent_col;  /* TREE: parent id column, NULL: "parent" */
  size_t max_items;        /* most rows/nodes drawn (0: 60 categories, 400 nodes);
                              the rest is summarised in a note */
  const char *highlight_col; /* BAR, HBAR: a numeric column; rows where it is
                              nonzero are drawn in the alert colour (e.g. the
                              referral depths beyond the compliance cap), or NULL */
  const char *highlight_label; /* legend of the highlighted bars, or NULL */
} pd_chart_spec;

#define PD_CHART_SPEC_INIT                                                                  \
  {                                                                                         \
    sizeof(pd_chart_spec), PD_CHART_BAR, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,    \
        PD_VALUE_AUTO, NULL, -1, 0, 0, 0, 0.0, NULL, NULL, NULL, 0, NULL, NULL             \
  }

/* Draws `t` as an SVG document (UTF-8, starting with "<svg").
 * *out_svg is owned by the caller, free with pd_free().
 * PD_ERR_NOT_FOUND when a named column does not exist, PD_ERR_INVALID for
 * a bad spec (unknown kind, value column that is not numeric). */
PD_API pd_status pd_chart_svg(const pd_table *t, const pd_chart_spec *spec, char **out_svg);

/* Writes the SVG of pd_chart_svg() to the file `path` (replaced). */
PD_API pd_status pd_chart_write(const pd_table *t, const pd_chart_spec *spec, const char *path);

/* Formats one number as charts show it (format PD_VALUE_AUTO is read as
 * PLAIN; currency_symbol NULL is "¥"; decimals -1 is the default). NaN and
 * infinities give "–". Writes at most `size` bytes including the NUL into
 * buf and returns the length it needed (like snprintf). */
PD_API size_t pd_chart_format_value(double v, pd_value_format format, const char *currency_symbol,
                                    int decimals, char *buf, size_t size);

#ifdef __cplusplus
}
#endif
#endif
