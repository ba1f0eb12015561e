/* Internal pieces of the SVG charts shared by svg.c and tree.c. */
#ifndef PD_RENDER_SVG_H
#define PD_RENDER_SVG_H

#include "fmt.h"

#define PD__FONT_FAMILY "Noto Sans CJK SC, Source Han Sans SC, Microsoft YaHei, PingFang SC, Hiragino Sans GB, WenQuanYi Micro Hei, sans-serif"

/* Opens <svg> with the background, the title and the subtitle; returns the
 * y where the content may start. */
double pd__svg_begin(pd__buf *b, double w, double h, const char *title, const char *subtitle);
void pd__svg_end(pd__buf *b);
/* <text> at x,y with the given anchor ("start", "middle", "end") and extra
 * attributes (may be ""), escaped content. */
void pd__svg_text(pd__buf *b, double x, double y, const char *anchor, const char *attrs, const char *text);
/* An empty-data chart: title and a centred message. */
void pd__svg_message(pd__buf *b, double w, double h, const char *title, const char *subtitle, const char *msg);

/* Reads a cell as text: strings as they are, numbers as integers or %g,
 * null as "" (sets *is_null when given). */
void pd__cell_text(const pd_table *t, size_t row, size_t col, char *buf, size_t size, bool *is_null);

/* The tree chart (tree.c); spec normalised by pd_chart_svg(). */
pd_status pd__chart_tree(const pd_table *t, const pd_chart_spec *spec, pd__buf *b);

#endif
