/* Time zones and calendar periods for queries (internal).
 *
 * A pd__tz holds a zone's UTC-offset transitions (from GLib's tzdata
 * reader) as a sorted array, so the hot path is a binary search with no
 * allocation and no locale. Period indexes are integers that sort in time
 * order: days since 1970-01-01 (local), weeks since the week holding
 * 1970-01-01, months since 1970-01. */
#ifndef PD_TZ_H
#define PD_TZ_H

#include "pd_internal.h"

typedef struct pd__tz pd__tz;

#define PD_MS_PER_DAY INT64_C(86400000)

/* name NULL, "" or "UTC" is UTC. PD_ERR_INVALID for an unknown zone. */
pd_status pd__tz_open(const char *name, pd__tz **out);
void pd__tz_free(pd__tz *tz);
const char *pd__tz_name(const pd__tz *tz);

/* Local time minus UTC, in ms, at the instant utc_ms. */
int64_t pd__tz_offset_ms(const pd__tz *tz, int64_t utc_ms);
static inline int64_t pd__tz_local_ms(const pd__tz *tz, int64_t utc_ms) {
  return utc_ms + pd__tz_offset_ms(tz, utc_ms);
}
/* The UTC instant of a local wall-clock time. In a gap (spring forward)
 * the wall time is read with the offset before the gap; in an overlap
 * (fall back) the earlier instant wins. */
int64_t pd__tz_to_utc(const pd__tz *tz, int64_t local_ms);

/* Days since 1970-01-01 <-> civil date (proleptic Gregorian). */
int64_t pd__days_from_civil(int64_t y, unsigned m, unsigned d);
void pd__civil_from_days(int64_t days, int64_t *y, unsigned *m, unsigned *d);
static inline int64_t pd__floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

/* Period index of an instant, and the UTC start of a period. */
int64_t pd__period_index(const pd__tz *tz, pd_period period, int64_t utc_ms);
int64_t pd__period_start_utc(const pd__tz *tz, pd_period period, int64_t index);
/* "2024-03-05", "2024-W10" (ISO week-year), "2024-03-03" (Sunday weeks:
 * the start date), "2024-03". buf of at least 16 bytes. */
void pd__period_label(pd_period period, int64_t index, char *buf, size_t size);

#endif
