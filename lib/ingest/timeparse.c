/* Timestamp parsing: ISO 8601 with Z or offsets, local "YYYY-MM-DD
 * HH:MM:SS" in a zone, dates, epoch seconds or milliseconds. */
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "timeparse.h"

#define EXPECTED_TS \
  "a timestamp (ISO 8601 like 2024-03-01T08:00:00+08:00, YYYY-MM-DD HH:MM:SS[.fff], YYYY-MM-DD, " \
  "or epoch seconds/milliseconds)"

void pd__timeparse_init(pd__timeparse *tp, const pd__tz *tz) {
  memset(tp, 0, sizeof *tp);
  tp->tz = tz;
}

char *pd__quote_text(char *buf, size_t size, const char *text, size_t len, size_t max) {
  static const char hex[] = "0123456789abcdef";
  size_t o = 0;
  bool cut = false;
  if (len > max) {
    len = max;
    /* Do not split a UTF-8 sequence. */
    while (len > 0 && ((unsigned char)text[len] & 0xC0) == 0x80) len--;
    cut = true;
  }
  if (size < 8) {
    if (size) buf[0] = '\0';
    return buf;
  }
  buf[o++] = '"';
  for (size_t i = 0; i < len && o + 8 < size; i++) {
    unsigned char c = (unsigned char)text[i];
    if (c == '"' || c == '\\') {
      buf[o++] = '\\';
      buf[o++] = (char)c;
    } else if (c == '\n' || c == '\r' || c == '\t') {
      buf[o++] = '\\';
      buf[o++] = c == '\n' ? 'n' : c == '\r' ? 'r' : 't';
    } else if (c < 0x20 || c == 0x7f) {
      buf[o++] = '\\';
      buf[o++] = 'x';
      buf[o++] = hex[c >> 4];
      buf[o++] = hex[c & 15];
    } else {
      buf[o++] = (char)c;
    }
  }
  buf[o++] = '"';
  if (cut && o + 4 < size) {
    memcpy(buf + o, "...", 3);
    o += 3;
  }
  buf[o] = '\0';
  return buf;
}

static pd_status fail(const char *what, const char *text, size_t len) {
  char got[160];
  return pd__error(PD_ERR_PARSE, "expected %s, got %s", what, pd__quote_text(got, sizeof got, text, len, 64));
}

static inline bool is_digit(char c) { return c >= '0' && c <= '9'; }

/* n digits at s; false if any is not a digit. */
static inline bool digits(const char *s, int n, int *out) {
  int v = 0;
  for (int i = 0; i < n; i++) {
    if (!is_digit(s[i])) return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

static bool is_leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

static int days_in_month(int y, int m) {
  static const int dm[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : dm[m - 1];
}

/* Two fixed-size loads instead of a memcmp call: this runs on every row. */
static inline bool same_date(const char *a, const char *b) {
  uint64_t a8, b8;
  uint16_t a2, b2;
  memcpy(&a8, a, 8);
  memcpy(&b8, b, 8);
  memcpy(&a2, a + 8, 2);
  memcpy(&b2, b + 8, 2);
  return a8 == b8 && a2 == b2;
}

static pd_status parse_epoch(const char *s, size_t len, int64_t *out) {
  size_t i = 0;
  bool neg = s[0] == '-';
  if (neg) i++;
  size_t nd = len - i;
  if (nd == 0 || nd > 18) return fail("epoch seconds (up to 10 digits) or milliseconds (up to 18 digits)", s, len);
  int64_t v = 0;
  for (; i < len; i++) v = v * 10 + (s[i] - '0');
  if (nd <= 10) v *= 1000;
  *out = neg ? -v : v;
  return PD_OK;
}

/* Parses and caches the date in s[0..10). */
static pd_status parse_date(pd__timeparse *tp, const char *s, size_t len) {
  int y, m, d;
  if (!digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &m) || s[7] != '-' || !digits(s + 8, 2, &d))
    return fail(EXPECTED_TS, s, len);
  if (m < 1 || m > 12) return fail("a month 01-12", s, len);
  int dim = days_in_month(y, m);
  if (d < 1 || d > dim) {
    char what[64];
    snprintf(what, sizeof what, "a day 01-%02d for %04d-%02d", dim, y, m);
    return fail(what, s, len);
  }
  tp->day = pd__days_from_civil(y, (unsigned)m, (unsigned)d);
  memcpy(tp->date, s, 10);
  tp->have_date = true;
  tp->day_fixed = true;
  tp->day_offset_ms = 0;
  if (tp->tz) {
    /* One offset for the whole local day unless a transition falls in it. */
    int64_t lo = tp->day * PD_MS_PER_DAY, hi = lo + PD_MS_PER_DAY - 1;
    int64_t ulo = pd__tz_to_utc(tp->tz, lo), uhi = pd__tz_to_utc(tp->tz, hi);
    int64_t olo = pd__tz_offset_ms(tp->tz, ulo), ohi = pd__tz_offset_ms(tp->tz, uhi);
    tp->day_fixed = olo == ohi && ulo + olo == lo && uhi + ohi == hi;
    tp->day_offset_ms = olo;
  }
  return PD_OK;
}

pd_status pd__timeparse_run(pd__timeparse *tp, const char *s, size_t len, int64_t *out_ms) {
  /* The common form, "YYYY-MM-DDTHH:MM:SSZ" on the cached day, checked and
   * computed directly; anything else (and every error) takes the full
   * parser below, which gives the same value. */
  if (len == 20 && s[19] == 'Z' && s[10] == 'T' && s[13] == ':' && s[16] == ':' && tp->have_date &&
      same_date(s, tp->date) && is_digit(s[11]) && is_digit(s[12]) && is_digit(s[14]) && is_digit(s[15]) &&
      is_digit(s[17]) && is_digit(s[18])) {
    int hh = (s[11] - '0') * 10 + (s[12] - '0'), mm = (s[14] - '0') * 10 + (s[15] - '0'),
        ss = (s[17] - '0') * 10 + (s[18] - '0');
    if (hh <= 23 && mm <= 59 && ss <= 59) {
      *out_ms = tp->day * PD_MS_PER_DAY + ((int64_t)hh * 3600 + mm * 60 + ss) * 1000;
      return PD_OK;
    }
  }
  if (len == 0) return fail(EXPECTED_TS, s, len);
  /* Epoch: all digits, optionally negative. */
  size_t i = s[0] == '-' ? 1 : 0;
  while (i < len && is_digit(s[i])) i++;
  if (i == len) return parse_epoch(s, len, out_ms);

  if (len < 10) return fail(EXPECTED_TS, s, len);
  if (!(tp->have_date && same_date(s, tp->date))) {
    pd_status st = parse_date(tp, s, len);
    if (st != PD_OK) return st;
  }
  int64_t tod = 0;
  bool has_offset = false;
  int64_t offset = 0;
  size_t p = 10;
  if (len > 10) {
    if (s[10] != 'T' && s[10] != 't' && s[10] != ' ') return fail(EXPECTED_TS, s, len);
    int hh, mm, ss = 0;
    if (len < 16 || !digits(s + 11, 2, &hh) || s[13] != ':' || !digits(s + 14, 2, &mm))
      return fail(EXPECTED_TS, s, len);
    p = 16;
    if (p < len && s[p] == ':') {
      if (len < p + 3 || !digits(s + p + 1, 2, &ss)) return fail(EXPECTED_TS, s, len);
      p += 3;
    }
    if (hh > 23) return fail("an hour 00-23", s, len);
    if (mm > 59) return fail("minutes 00-59", s, len);
    if (ss > 59) return fail("seconds 00-59", s, len);
    int ms = 0;
    if (p < len && (s[p] == '.' || s[p] == ',')) {
      size_t f = ++p;
      for (; p < len && is_digit(s[p]); p++)
        if (p - f < 3) ms = ms * 10 + (s[p] - '0');
      if (p == f) return fail(EXPECTED_TS, s, len);
      for (size_t k = p - f; k < 3; k++) ms *= 10;
    }
    tod = ((int64_t)hh * 3600 + mm * 60 + ss) * 1000 + ms;
    if (p < len) {
      char c = s[p];
      if (c == 'Z' || c == 'z') {
        has_offset = true;
        p++;
      } else if (c == '+' || c == '-') {
        int oh, om = 0;
        size_t q = p + 1;
        if (len < q + 2 || !digits(s + q, 2, &oh)) return fail("a UTC offset such as Z, +08:00 or -0530", s, len);
        q += 2;
        bool colon = q < len && s[q] == ':';
        if (colon) q++;
        if (colon || q < len) {
          if (len < q + 2 || !digits(s + q, 2, &om)) return fail("a UTC offset such as Z, +08:00 or -0530", s, len);
          q += 2;
        }
        if (oh > 23 || om > 59) return fail("a UTC offset such as Z, +08:00 or -0530", s, len);
        offset = ((int64_t)oh * 60 + om) * 60000;
        if (c == '-') offset = -offset;
        has_offset = true;
        p = q;
      }
    }
  }
  if (p != len) return fail(EXPECTED_TS, s, len);
  int64_t local = tp->day * PD_MS_PER_DAY + tod;
  if (has_offset) *out_ms = local - offset;
  else if (!tp->tz) *out_ms = local;
  else if (tp->day_fixed) *out_ms = local - tp->day_offset_ms;
  else *out_ms = pd__tz_to_utc(tp->tz, local);
  return PD_OK;
}

/* Zones opened by pd_time_parse(), kept for the life of the process: a zone
 * is read-only once built, there are only a few hundred names, and loading
 * one walks two centuries of transitions, far more than parsing a
 * timestamp. */
static GMutex zone_lock;
static pd__tz **zones;
static size_t n_zones, cap_zones;

pd_status pd__tz_cached(const char *name, const pd__tz **out) {
  pd_status st = PD_OK;
  g_mutex_lock(&zone_lock);
  size_t i = 0;
  while (i < n_zones && strcmp(pd__tz_name(zones[i]), name) != 0) i++;
  if (i < n_zones) {
    *out = zones[i];
  } else {
    pd__tz *tz = NULL;
    st = pd__tz_open(name, &tz);
    if (st == PD_OK && n_zones == cap_zones) {
      size_t cap = cap_zones ? cap_zones * 2 : 8;
      pd__tz **z = realloc(zones, cap * sizeof *z);
      if (z) {
        zones = z;
        cap_zones = cap;
      } else {
        pd__tz_free(tz);
        st = pd__error(PD_ERR_NOMEM, "out of memory caching time zone %s", name);
      }
    }
    if (st == PD_OK) {
      zones[n_zones++] = tz;
      *out = tz;
    }
  }
  g_mutex_unlock(&zone_lock);
  return st;
}

pd_status pd_time_parse(const char *text, size_t len, const char *tz, int64_t *out_ms) {
  if (!text || !out_ms) return pd__error(PD_ERR_INVALID, "pd_time_parse: text and out_ms must not be NULL");
  const pd__tz *zone = NULL;
  if (tz && *tz && strcmp(tz, "UTC") != 0 && strcmp(tz, "Etc/UTC") != 0) { /* the names pd__tz_open reads as UTC */
    pd_status st = pd__tz_cached(tz, &zone);
    if (st != PD_OK) return st;
  }
  pd__timeparse tp;
  pd__timeparse_init(&tp, zone);
  return pd__timeparse_run(&tp, text, len, out_ms);
}
