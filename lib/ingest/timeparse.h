/* Timestamp parsing for ingest (internal).
 *
 * A pd__timeparse keeps the zone for local times and a one-entry cache of
 * the last date seen ("2024-03-01" -> day number and that day's UTC
 * offset), so a file of rows sorted by time parses most timestamps with a
 * 10-byte compare and a few digit conversions. Not thread-safe: one per
 * ingest. Accepted forms are listed in include/privdomain/ingest.h. */
#ifndef PD_TIMEPARSE_H
#define PD_TIMEPARSE_H

#include "tz.h"

typedef struct pd__timeparse {
  const pd__tz *tz;     /* borrowed; NULL = UTC */
  bool have_date;
  char date[10];        /* "YYYY-MM-DD" of the cached day */
  int64_t day;          /* its days since 1970-01-01 */
  bool day_fixed;       /* the zone's offset is constant across that local day */
  int64_t day_offset_ms;/* local minus UTC on that day when day_fixed */
} pd__timeparse;

void pd__timeparse_init(pd__timeparse *tp, const pd__tz *tz);

/* Parses text[0..len) into ms since the epoch UTC. On failure returns
 * PD_ERR_PARSE (or PD_ERR_RANGE) with a message "expected ..., got \"...\""
 * and leaves *out_ms alone. */
pd_status pd__timeparse_run(pd__timeparse *tp, const char *text, size_t len, int64_t *out_ms);

/* A zone loaded once per process and kept (borrowed, valid until exit).
 * name must not be a UTC name (NULL, "", "UTC", "Etc/UTC": use no zone).
 * Thread-safe. PD_ERR_INVALID for an unknown zone. */
pd_status pd__tz_cached(const char *name, const pd__tz **out);

/* Renders text for a "got ..." message: double-quoted, control bytes and
 * quotes escaped, cut at about `max` bytes with "...". buf gets at most
 * size-1 bytes plus NUL. Returns buf. */
char *pd__quote_text(char *buf, size_t size, const char *text, size_t len, size_t max);

#endif
