/* pd_table: the one result shape of every analysis.
 *
 * A table has a name, named typed columns and rows. Cells may be null
 * (e.g. a CAC where spend is zero: undefined, not infinity). Tables are
 * immutable once returned to the caller.
 */
#ifndef PRIVDOMAIN_TABLE_H
#define PRIVDOMAIN_TABLE_H

#include <stdio.h>

#include "privdomain/common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pd_table pd_table;

typedef enum pd_type {
  PD_TYPE_INT64 = 1,
  PD_TYPE_DOUBLE = 2,
  PD_TYPE_STRING = 3
} pd_type;

typedef enum pd_format {
  PD_FORMAT_TEXT = 0, /* aligned columns for a terminal; doubles rounded to six decimals */
  PD_FORMAT_CSV = 1,  /* RFC 4180, header row, "" for null */
  PD_FORMAT_JSON = 2  /* array of objects, null for null */
} pd_format;
/* CSV and JSON write doubles exactly: the shortest text that reads back as
 * the same double, whole numbers below 1e15 as integers ("49416000"). */

/* Releases a table. Accepts NULL. */
PD_API void pd_table_free(pd_table *t);

/* Borrowed, valid until pd_table_free(). */
PD_API const char *pd_table_name(const pd_table *t);
PD_API size_t pd_table_n_rows(const pd_table *t);
PD_API size_t pd_table_n_cols(const pd_table *t);
/* Column name (borrowed) or NULL when col is out of range. */
PD_API const char *pd_table_col_name(const pd_table *t, size_t col);
/* Column type, or 0 when col is out of range. */
PD_API pd_type pd_table_col_type(const pd_table *t, size_t col);
/* Index of the column named `name`, or -1. */
PD_API long pd_table_col_index(const pd_table *t, const char *name);

/* Cell access. Out-of-range row/col or a type mismatch returns 0, 0.0 or
 * NULL; pd_table_is_null() tells a real zero from a null cell.
 * A string is borrowed, valid until pd_table_free(). */
PD_API int pd_table_is_null(const pd_table *t, size_t row, size_t col);
PD_API int64_t pd_table_get_int64(const pd_table *t, size_t row, size_t col);
PD_API double pd_table_get_double(const pd_table *t, size_t row, size_t col);
PD_API const char *pd_table_get_string(const pd_table *t, size_t row, size_t col);

/* Writes the table to `out` in the given format. */
PD_API pd_status pd_table_write(const pd_table *t, FILE *out, pd_format format);

/* Renders the table to a NUL-terminated buffer.
 * *out is owned by the caller, free with pd_free(); *len (may be NULL)
 * receives its length without the NUL. */
PD_API pd_status pd_table_format(const pd_table *t, pd_format format, char **out, size_t *len);

#ifdef __cplusplus
}
#endif
#endif
