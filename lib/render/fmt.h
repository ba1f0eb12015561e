/* Text helpers shared by the SVG charts and the HTML report (internal):
 * a growable output buffer, XML escaping, number formatting for people and
 * a rough text-width estimate used for layout. */
#ifndef PD_RENDER_FMT_H
#define PD_RENDER_FMT_H

#include "pd_internal.h"

/* Growable NUL-terminated buffer. An allocation failure sets `failed` and
 * makes later appends no-ops, so callers check once at the end. */
typedef struct pd__buf {
  char *data;
  size_t len, cap;
  bool failed;
} pd__buf;

void pd__buf_append(pd__buf *b, const char *s, size_t n);
void pd__buf_puts(pd__buf *b, const char *s);
void pd__buf_printf(pd__buf *b, const char *fmt, ...) PD_PRINTF(2, 3);
/* Appends text escaped for XML/HTML text and attribute values (&<>"'),
 * with invalid UTF-8 replaced by U+FFFD and control characters dropped. */
void pd__buf_escape(pd__buf *b, const char *s);
/* Takes the text (caller frees with free()) or NULL after a failure;
 * the buffer is reset either way. */
char *pd__buf_take(pd__buf *b);
void pd__buf_clear(pd__buf *b);

/* Number formatting, see pd_chart_format_value(). */
size_t pd__format_value(double v, pd_value_format format, const char *symbol, int decimals,
                        char *buf, size_t size);
/* The default digits after the point of a format. */
int pd__format_default_decimals(pd_value_format format);

/* Estimated rendered width in pixels of UTF-8 text at a font size: wide
 * (CJK, fullwidth) characters count 1 em, digits and Latin about 0.6 em. */
double pd__text_width(const char *s, double font_px);
/* Copies s into buf, cut to at most max_px wide with an ellipsis. */
void pd__text_fit(const char *s, double font_px, double max_px, char *buf, size_t size);

#endif
