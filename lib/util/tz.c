/* Time zones as offset-transition tables, and calendar periods. */
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tz.h"

struct pd__tz {
  char *name;
  size_t n;          /* transitions */
  int64_t *at_ms;    /* UTC instant from which offset_ms[i] applies; at_ms[0] = INT64_MIN */
  int64_t *offset_ms;
};

/* Transitions are found between these years; outside, the edge offsets hold. */
#define SCAN_FROM_S INT64_C(-2208988800) /* 1900-01-01 */
#define SCAN_TO_S INT64_C(4102444800)    /* 2100-01-01 */

static int64_t offset_at(GTimeZone *z, int64_t s) {
  int iv = g_time_zone_find_interval(z, G_TIME_TYPE_UNIVERSAL, s);
  return (int64_t)g_time_zone_get_offset(z, iv < 0 ? 0 : iv) * 1000;
}

static bool push(pd__tz *tz, size_t *cap, int64_t at, int64_t off) {
  if (tz->n == *cap) {
    *cap = *cap ? *cap * 2 : 64;
    int64_t *a = realloc(tz->at_ms, *cap * sizeof *a);
    if (!a) return false;
    tz->at_ms = a;
    int64_t *o = realloc(tz->offset_ms, *cap * sizeof *o);
    if (!o) return false;
    tz->offset_ms = o;
  }
  tz->at_ms[tz->n] = at;
  tz->offset_ms[tz->n] = off;
  tz->n++;
  return true;
}

pd_status pd__tz_open(const char *name, pd__tz **out) {
  bool utc = !name || !*name || strcmp(name, "UTC") == 0 || strcmp(name, "Etc/UTC") == 0;
  GTimeZone *z = NULL;
  if (!utc) {
    z = g_time_zone_new_identifier(name);
    if (!z) return pd__error(PD_ERR_INVALID, "unknown time zone \"%s\" (expected an IANA name such as Asia/Shanghai)", name);
  }
  pd__tz *tz = calloc(1, sizeof *tz);
  size_t cap = 0;
  bool ok = tz && (tz->name = strdup(utc ? "UTC" : name)) != NULL;
  if (ok && utc) ok = push(tz, &cap, INT64_MIN, 0);
  if (ok && !utc) {
    /* Walk in 6-hour steps and bisect each change to the second: zones
     * change offset at most a few times a year, never twice in 6 hours. */
    int64_t prev = offset_at(z, SCAN_FROM_S);
    ok = push(tz, &cap, INT64_MIN, prev);
    for (int64_t s = SCAN_FROM_S; ok && s < SCAN_TO_S; s += 6 * 3600) {
      int64_t next = offset_at(z, s + 6 * 3600);
      if (next == prev) continue;
      int64_t lo = s, hi = s + 6 * 3600; /* offset(lo) == prev, offset(hi) == next */
      while (hi - lo > 1) {
        int64_t mid = lo + (hi - lo) / 2;
        if (offset_at(z, mid) == prev) lo = mid;
        else hi = mid;
      }
      ok = push(tz, &cap, hi * 1000, next);
      prev = next;
    }
  }
  if (z) g_time_zone_unref(z);
  if (!ok) {
    pd__tz_free(tz);
    return pd__error(PD_ERR_NOMEM, "out of memory loading time zone");
  }
  *out = tz;
  return PD_OK;
}

void pd__tz_free(pd__tz *tz) {
  if (!tz) return;
  free(tz->name);
  free(tz->at_ms);
  free(tz->offset_ms);
  free(tz);
}

const char *pd__tz_name(const pd__tz *tz) { return tz->name; }

int64_t pd__tz_offset_ms(const pd__tz *tz, int64_t utc_ms) {
  size_t lo = 0, hi = tz->n; /* at_ms[lo] <= utc_ms < at_ms[hi] */
  while (hi - lo > 1) {
    size_t mid = lo + (hi - lo) / 2;
    if (tz->at_ms[mid] <= utc_ms) lo = mid;
    else hi = mid;
  }
  return tz->offset_ms[lo];
}

int64_t pd__tz_to_utc(const pd__tz *tz, int64_t local_ms) {
  /* Candidates: local - offset for every offset in use near that time.
   * Checking the offsets of the instants 1 day either side covers any
   * single transition. */
  int64_t best = INT64_MAX;
  int64_t offs[2] = {pd__tz_offset_ms(tz, local_ms - PD_MS_PER_DAY), pd__tz_offset_ms(tz, local_ms + PD_MS_PER_DAY)};
  for (int i = 0; i < 2; i++) {
    int64_t u = local_ms - offs[i];
    if (pd__tz_local_ms(tz, u) == local_ms && u < best) best = u;
  }
  if (best != INT64_MAX) return best;
  return local_ms - offs[0]; /* in a gap: the offset before it */
}

/* Howard Hinnant's civil-date algorithms (public domain formulas). */
int64_t pd__days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = pd__floor_div(y, 400);
  const unsigned yoe = (unsigned)(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + (int64_t)doe - 719468;
}

void pd__civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d) {
  z += 719468;
  const int64_t era = pd__floor_div(z, 146097);
  const unsigned doe = (unsigned)(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

/* 1970-01-01 was a Thursday: day 0 is weekday 3 counting Monday = 0. */
int64_t pd__period_index(const pd__tz *tz, pd_period period, int64_t utc_ms) {
  int64_t day = pd__floor_div(pd__tz_local_ms(tz, utc_ms), PD_MS_PER_DAY);
  switch (period) {
  case PD_PERIOD_DAY: return day;
  case PD_PERIOD_WEEK: return pd__floor_div(day + 3, 7);
  case PD_PERIOD_WEEK_SUNDAY: return pd__floor_div(day + 4, 7);
  case PD_PERIOD_MONTH: {
    int64_t y;
    unsigned m, d;
    pd__civil_from_days(day, &y, &m, &d);
    return (y - 1970) * 12 + (m - 1);
  }
  }
  return day;
}

static int64_t period_first_day(pd_period period, int64_t index) {
  switch (period) {
  case PD_PERIOD_DAY: return index;
  case PD_PERIOD_WEEK: return index * 7 - 3;
  case PD_PERIOD_WEEK_SUNDAY: return index * 7 - 4;
  case PD_PERIOD_MONTH: return pd__days_from_civil(1970 + pd__floor_div(index, 12), (unsigned)(index - pd__floor_div(index, 12) * 12) + 1, 1);
  }
  return index;
}

int64_t pd__period_start_utc(const pd__tz *tz, pd_period period, int64_t index) {
  return pd__tz_to_utc(tz, period_first_day(period, index) * PD_MS_PER_DAY);
}

void pd__period_label(pd_period period, int64_t index, char *buf, size_t size) {
  int64_t y;
  unsigned m, d;
  int64_t first = period_first_day(period, index);
  if (period == PD_PERIOD_WEEK) {
    /* ISO week-year is the year of the week's Thursday. */
    pd__civil_from_days(first + 3, &y, &m, &d);
    int64_t week = (first + 3 - pd__days_from_civil(y, 1, 1)) / 7 + 1;
    snprintf(buf, size, "%04lld-W%02lld", (long long)y, (long long)week);
    return;
  }
  pd__civil_from_days(first, &y, &m, &d);
  if (period == PD_PERIOD_MONTH) snprintf(buf, size, "%04lld-%02u", (long long)y, m);
  else snprintf(buf, size, "%04lld-%02u-%02u", (long long)y, m, d);
}
