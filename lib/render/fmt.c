/* Output buffer, XML escaping, number formatting and text widths shared by
 * the charts and the report. */
#include <glib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fmt.h"

static bool buf_reserve(pd__buf *b, size_t extra) {
  if (b->failed) return false;
  if (extra > SIZE_MAX / 2 - b->len) {
    b->failed = true;
    return false;
  }
  size_t need = b->len + extra + 1;
  if (need <= b->cap) return true;
  size_t cap = b->cap ? b->cap : 1024;
  while (cap < need) cap *= 2;
  char *p = realloc(b->data, cap);
  if (!p) {
    b->failed = true;
    return false;
  }
  b->data = p;
  b->cap = cap;
  return true;
}

void pd__buf_append(pd__buf *b, const char *s, size_t n) {
  if (!buf_reserve(b, n)) return;
  memcpy(b->data + b->len, s, n);
  b->len += n;
  b->data[b->len] = '\0';
}

void pd__buf_puts(pd__buf *b, const char *s) { pd__buf_append(b, s, strlen(s)); }

void pd__buf_printf(pd__buf *b, const char *fmt, ...) {
  char small[256];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(small, sizeof small, fmt, ap);
  va_end(ap);
  if (n < 0) {
    b->failed = true;
    return;
  }
  if ((size_t)n < sizeof small) {
    pd__buf_append(b, small, (size_t)n);
    return;
  }
  if (!buf_reserve(b, (size_t)n)) return;
  va_start(ap, fmt);
  vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
  va_end(ap);
  b->len += (size_t)n;
}

void pd__buf_escape(pd__buf *b, const char *s) {
  if (!s) return;
  const char *p = s;
  const char *end = s + strlen(s);
  while (p < end) {
    const char *run = p; /* copy plain printable ASCII in runs */
    while (p < end && (unsigned char)*p >= 0x20 && (unsigned char)*p < 0x80 && *p != '&' && *p != '<' &&
           *p != '>' && *p != '"' && *p != '\'')
      p++;
    if (p > run) pd__buf_append(b, run, (size_t)(p - run));
    if (p >= end) break;
    unsigned char c = (unsigned char)*p;
    if (c < 0x80) {
      switch (c) {
      case '&': pd__buf_puts(b, "&amp;"); break;
      case '<': pd__buf_puts(b, "&lt;"); break;
      case '>': pd__buf_puts(b, "&gt;"); break;
      case '"': pd__buf_puts(b, "&quot;"); break;
      case '\'': pd__buf_puts(b, "&#39;"); break;
      case '\t': case '\n': case '\r': pd__buf_append(b, " ", 1); break;
      default: break; /* other control characters are not allowed in XML */
      }
      p++;
      continue;
    }
    gunichar u = g_utf8_get_char_validated(p, (gssize)(end - p));
    if (u == (gunichar)-1 || u == (gunichar)-2) {
      pd__buf_puts(b, "\xEF\xBF\xBD"); /* U+FFFD for a bad byte */
      p++;
      continue;
    }
    const char *next = g_utf8_next_char(p);
    if (u != 0xFFFE && u != 0xFFFF) pd__buf_append(b, p, (size_t)(next - p));
    p = next;
  }
}

char *pd__buf_take(pd__buf *b) {
  char *out = NULL;
  if (!b->failed) {
    if (!b->data) buf_reserve(b, 0);
    if (!b->failed) {
      out = b->data;
      b->data = NULL;
    }
  }
  pd__buf_clear(b);
  return out;
}

void pd__buf_clear(pd__buf *b) {
  free(b->data);
  b->data = NULL;
  b->len = b->cap = 0;
  b->failed = false;
}

int pd__format_default_decimals(pd_value_format format) {
  switch (format) {
  case PD_VALUE_INTEGER: return 0;
  case PD_VALUE_PERCENT: return 1;
  case PD_VALUE_CURRENCY: return 2;
  default: return 2;
  }
}

size_t pd__format_value(double v, pd_value_format format, const char *symbol, int decimals, char *buf,
                        size_t size) {
  char out[600];
  if (!isfinite(v)) {
    snprintf(out, sizeof out, "\xE2\x80\x93"); /* en dash */
  } else {
    if (decimals < 0) decimals = pd__format_default_decimals(format);
    if (decimals > 9) decimals = 9;
    double x = v;
    const char *prefix = "", *suffix = "";
    if (format == PD_VALUE_CURRENCY) {
      x = v / 100.0;
      prefix = symbol ? symbol : "\xC2\xA5"; /* ¥ */
    } else if (format == PD_VALUE_PERCENT) {
      x = v * 100.0;
      suffix = "%";
    }
    char digits[400];
    int n = snprintf(digits, sizeof digits, "%.*f", decimals, fabs(x));
    if (n < 0 || (size_t)n >= sizeof digits) {
      snprintf(out, sizeof out, "%g", v);
    } else {
      bool zero = true; /* no "-0" when the shown digits are all zero */
      for (const char *d = digits; *d; d++)
        if (*d >= '1' && *d <= '9') zero = false;
      const char *dot = strchr(digits, '.');
      size_t int_len = dot ? (size_t)(dot - digits) : strlen(digits);
      size_t o = 0;
      if (x < 0 && !zero) out[o++] = '-';
      o += (size_t)snprintf(out + o, sizeof out - o, "%s", prefix);
      for (size_t i = 0; i < int_len && o + 2 < sizeof out; i++) {
        if (i > 0 && (int_len - i) % 3 == 0) out[o++] = ',';
        out[o++] = digits[i];
      }
      out[o] = '\0';
      snprintf(out + o, sizeof out - o, "%s%s", dot ? dot : "", suffix);
    }
  }
  size_t len = strlen(out);
  if (buf && size > 0) {
    size_t c = len < size - 1 ? len : size - 1;
    memcpy(buf, out, c);
    buf[c] = '\0';
  }
  return len;
}

size_t pd_chart_format_value(double v, pd_value_format format, const char *currency_symbol, int decimals,
                             char *buf, size_t size) {
  return pd__format_value(v, format == PD_VALUE_AUTO ? PD_VALUE_PLAIN : format, currency_symbol, decimals,
                          buf, size);
}

static double char_em(gunichar c) {
  if (g_unichar_iswide(c) || g_unichar_iswide_cjk(c)) return 1.0;
  if (c >= '0' && c <= '9') return 0.56;
  if (c == ' ') return 0.28;
  if (c == 'i' || c == 'l' || c == 'j' || c == '.' || c == ',' || c == ':' || c == ';' || c == '\'' ||
      c == '|' || c == '!')
    return 0.28;
  if (c == 'm' || c == 'w' || c == 'M' || c == 'W') return 0.85;
  if (c >= 'A' && c <= 'Z') return 0.66;
  if (c >= 'a' && c <= 'z') return 0.53;
  return 0.6;
}

double pd__text_width(const char *s, double font_px) {
  if (!s) return 0;
  double em = 0;
  const char *end = s + strlen(s);
  for (const char *p = s; p < end;) {
    gunichar u = g_utf8_get_char_validated(p, (gssize)(end - p));
    if (u == (gunichar)-1 || u == (gunichar)-2) {
      em += 1.0;
      p++;
      continue;
    }
    em += char_em(u);
    p = g_utf8_next_char(p);
  }
  return em * font_px;
}

void pd__text_fit(const char *s, double font_px, double max_px, char *buf, size_t size) {
  if (size == 0) return;
  buf[0] = '\0';
  if (!s) return;
  if (pd__text_width(s, font_px) <= max_px) {
    snprintf(buf, size, "%s", s);
    return;
  }
  const char *ell = "\xE2\x80\xA6"; /* … */
  double budget = max_px - font_px * 1.0;
  double em = 0;
  const char *end = s + strlen(s);
  const char *p = s;
  while (p < end) {
    gunichar u = g_utf8_get_char_validated(p, (gssize)(end - p));
    if (u == (gunichar)-1 || u == (gunichar)-2) break;
    if ((em + char_em(u)) * font_px > budget) break;
    em += char_em(u);
    p = g_utf8_next_char(p);
  }
  size_t n = (size_t)(p - s);
  if (n + 4 > size) n = size > 4 ? size - 4 : 0;
  /* never cut inside a UTF-8 sequence */
  while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80) n--;
  memcpy(buf, s, n);
  memcpy(buf + n, ell, 4);
}
