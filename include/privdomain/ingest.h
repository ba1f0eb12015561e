/* Ingest: CSV (RFC 4180), TSV and JSON Lines files, plain or .gz, into a store.
 *
 * Columns are mapped by header name (JSON: by member name). Defaults:
 * ts, user, event, touchpoint, amount, referrer. Only ts, user and event
 * are required. Timestamps: ISO 8601 with Z or an offset
 * ("2024-03-01T08:00:00+08:00"), "YYYY-MM-DD HH:MM:SS[.fff]" or
 * "YYYY-MM-DD" read in opts->tz, epoch seconds (10 digits or fewer) or
 * milliseconds (more digits). Amounts: decimal text in major units,
 * converted exactly to minor units with opts->amount_decimals.
 * Every bad value is reported as "file:line:column: expected ..., got ...".
 */
#ifndef PRIVDOMAIN_INGEST_H
#define PRIVDOMAIN_INGEST_H

#include "privdomain/writer.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum pd_input_format {
  PD_INPUT_AUTO = 0, /* from the extension: .csv, .tsv, .jsonl/.ndjson (+ .gz) */
  PD_INPUT_CSV = 1,
  PD_INPUT_TSV = 2,
  PD_INPUT_JSONL = 3
} pd_input_format;

/* Progress: bytes of input consumed so far and the total (0 if unknown,
 * e.g. gzip). Return nonzero to cancel (the file's batch is rolled back). */
typedef int (*pd_progress_fn)(void *ctx, uint64_t done, uint64_t total);

typedef struct pd_ingest_options {
  size_t size;                 /* sizeof(pd_ingest_options) */
  pd_input_format format;
  int lenient;                 /* 0 strict: first error rolls back the file;
                                  1 lenient: bad rows go to rejects, good rows commit */
  const char *rejects_path;    /* lenient: where bad rows and their error go (NULL: dropped) */
  const char *tz;              /* IANA zone for local timestamps; NULL = UTC */
  int amount_decimals;         /* minor-unit digits, default 2 */
  /* Column names; NULL = default name. */
  const char *col_time, *col_user, *col_event, *col_touchpoint, *col_amount, *col_referrer;
  pd_progress_fn progress;
  void *progress_ctx;
} pd_ingest_options;
#define PD_INGEST_OPTIONS_INIT \
  {sizeof(pd_ingest_options), PD_INPUT_AUTO, 0, NULL, NULL, 2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL}

typedef struct pd_ingest_result {
  size_t size;           /* sizeof(pd_ingest_result) */
  uint64_t rows_read;    /* data rows seen */
  uint64_t rows_committed;
  uint64_t rows_rejected;
  uint64_t bytes_read;   /* of the (decompressed) input */
} pd_ingest_result;
#define PD_INGEST_RESULT_INIT {sizeof(pd_ingest_result), 0, 0, 0, 0}

/* Ingests one file through `w` and commits it (strict: all or nothing).
 * Any uncommitted appends already in `w` are committed with it.
 * result may be NULL. */
PD_API pd_status pd_ingest_file(pd_writer *w, const char *path, const pd_ingest_options *opts,
                                pd_ingest_result *result);

/* Ingests touchpoint definitions: CSV/TSV with header
 * name,domain,carrier,daily_spend (spend in major units). Commits. */
PD_API pd_status pd_ingest_touchpoints(pd_writer *w, const char *path, const pd_ingest_options *opts);

/* Parses a timestamp as the ingest does (see above); tz may be NULL (UTC).
 * Returns PD_ERR_PARSE with a message naming what was expected. */
PD_API pd_status pd_time_parse(const char *text, size_t len, const char *tz, int64_t *out_ms);

#ifdef __cplusplus
}
#endif
#endif
