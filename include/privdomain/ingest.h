/* Ingest: CSV (RFC 4180), TSV and JSON Lines files, plain or .gz, into a store.
 *
 * Input. CSV: comma-separated, fields may be quoted ("a,b", "say ""hi""",
 * line breaks inside quotes). TSV: tab-separated, no quoting, the escapes
 * \t \n \r \\ are decoded. JSON Lines: one object per line (json-glib);
 * string or number values, null = absent. gzip input is recognised by its
 * magic bytes. A UTF-8 byte order mark, CRLF or LF line ends, blank lines
 * and a missing final line break are all accepted.
 *
 * Columns are mapped by header name (ASCII case-insensitive; JSON: by member
 * name, exact). Defaults: ts, user, event, touchpoint, amount, referrer.
 * Only ts, user and event are required; a column named explicitly in the
 * options must exist. Other columns are ignored. Empty optional values
 * mean: no touchpoint, amount 0, no referrer. `referrer` is the external
 * id of the referring user (interned like `user`).
 *
 * Timestamps: ISO 8601 with Z or an offset ("2024-03-01T08:00:00+08:00",
 * "+0800", "+08"), "YYYY-MM-DD HH:MM[:SS[.fff]]" (T or space) or
 * "YYYY-MM-DD" read in opts->tz, epoch seconds (10 digits or fewer) or
 * milliseconds (more digits). Fractions beyond milliseconds are truncated.
 * In a DST gap a local time is read with the offset before the gap; in an
 * overlap the earlier instant wins. Amounts: decimal text in major units,
 * converted exactly to minor units with opts->amount_decimals (see
 * pd_amount_parse()); a JSON number is read as the shortest decimal that
 * gives back the same double (12.34 stays 12.34).
 *
 * Errors. Every bad value is reported (pd_last_error()) as
 * "FILE:LINE:COLUMN: expected ..., got ...". FILE is the path as given;
 * LINE counts physical lines from 1 (line breaks inside quoted fields
 * count); COLUMN is the 1-based character (UTF-8 code point) column within
 * that line, not counting a byte order mark, of:
 *  - a bad value: where its field starts (its opening quote if quoted), or
 *    for JSON where the member's value starts (1 when the member is absent);
 *  - a quoting error: the offending character (the opening quote of a
 *    field never closed); a JSON syntax error: where json-glib stopped;
 *  - too few fields: just past the end of the record; too many: where the
 *    first extra field starts;
 *  - a header error, unreadable gzip data: 1.
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

/* Progress: bytes of the file on disk consumed so far (compressed bytes for
 * .gz) and its size (0 if unknown, e.g. a pipe). Called after every block
 * read (about 1 MiB) and once at the end. Return nonzero to cancel: the
 * file's batch is rolled back and PD_ERR_CANCELLED returned. */
typedef int (*pd_progress_fn)(void *ctx, uint64_t done, uint64_t total);

typedef struct pd_ingest_options {
  size_t size;                 /* sizeof(pd_ingest_options) */
  pd_input_format format;
  int lenient;                 /* 0 strict: the first error rolls back the file;
                                  1 lenient: bad rows go to rejects, good rows commit.
                                  Even lenient, a bad header, unreadable gzip data,
                                  a record over 64 MiB or an I/O error roll back the file. */
  const char *rejects_path;    /* lenient: CSV file the bad rows are appended to, with
                                  columns error,record (the message and the record's
                                  text without its line break); the header line is
                                  written when the file is new or empty. NULL: dropped. */
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
  uint64_t rows_read;    /* data rows seen (not the header, not blank lines) */
  uint64_t rows_committed; /* rows appended and committed (0 when the call fails) */
  uint64_t rows_rejected;  /* lenient: rows sent to the rejects */
  uint64_t bytes_read;   /* of the (decompressed) input */
} pd_ingest_result;
#define PD_INGEST_RESULT_INIT {sizeof(pd_ingest_result), 0, 0, 0, 0}

/* Ingests one file through `w` and commits it. Strict: all or nothing.
 * Any uncommitted appends already in `w` are committed with it, or rolled
 * back with it when the call fails. `w` and `path` are borrowed for the
 * call; opts may be NULL (defaults); result may be NULL, else filled (also
 * on failure) up to result->size. Returns PD_ERR_PARSE for bad input,
 * PD_ERR_CORRUPT for bad gzip data, PD_ERR_IO, PD_ERR_INVALID (bad options,
 * unknown time zone), PD_ERR_CANCELLED. */
PD_API pd_status pd_ingest_file(pd_writer *w, const char *path, const pd_ingest_options *opts,
                                pd_ingest_result *result);

/* Ingests touchpoint definitions: CSV, TSV or JSON Lines with columns
 * name (required), domain (public, private, semi, unknown), carrier (see
 * pd_carrier_from_name()), daily_spend (major units, >= 0; empty =
 * unknown). A name already defined gets the new attributes. Uses format,
 * lenient, rejects_path and amount_decimals of opts (may be NULL); errors
 * and commit as pd_ingest_file(). */
PD_API pd_status pd_ingest_touchpoints(pd_writer *w, const char *path, const pd_ingest_options *opts);

/* Ingests user tags: CSV, TSV or JSON Lines with columns user (the
 * external id of a user or any of its aliases; opts->col_user renames it)
 * and tag (required; 1 to 65,535 bytes of UTF-8). Each row tags the
 * (surviving, after merges) user with the tag; a tag is created on first
 * use; a row repeating a tag the user already has changes nothing.
 * Unknown users: create_users nonzero creates them (as pd_writer_user());
 * 0 makes the row bad: "FILE:LINE:COLUMN: expected a known user (external
 * id or alias), got "x"", COLUMN where the user field starts. Bad rows
 * (strict: the first error rolls back the whole file; lenient: to the
 * rejects), positions, format detection and commit are as pd_ingest_file();
 * uses format, lenient, rejects_path and col_user of opts (may be NULL).
 * result may be NULL; rows_committed counts the rows applied. */
PD_API pd_status pd_ingest_tags(pd_writer *w, const char *path, const pd_ingest_options *opts, int create_users,
                                pd_ingest_result *result);

/* Parses a timestamp as the ingest does (see above); tz may be NULL (UTC).
 * Returns PD_ERR_PARSE with a message "expected ..., got ..." (no
 * position), PD_ERR_INVALID for an unknown zone. Thread-safe; zones are
 * loaded once per process and kept. */
PD_API pd_status pd_time_parse(const char *text, size_t len, const char *tz, int64_t *out_ms);

#ifdef __cplusplus
}
#endif
#endif
