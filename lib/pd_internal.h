/* Internal helpers shared by every file of the library (never installed). */
#ifndef PD_INTERNAL_H
#define PD_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>

#include "privdomain.h"

#if defined(__GNUC__)
#define PD_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define PD_PRINTF(f, a)
#endif

/* Records this thread's last error message and returns `status`, so that
 * call sites read `return pd__error(PD_ERR_IO, "open %s: %s", ...)`. */
pd_status pd__error(pd_status status, const char *fmt, ...) PD_PRINTF(2, 3);
pd_status pd__verror(pd_status status, const char *fmt, va_list ap);
/* Prefixes the current message with more context ("ingest a.csv: ..."). */
void pd__error_prefix(const char *fmt, ...) PD_PRINTF(1, 2);

/* ---- table builder (lib/table.c) -------------------------------------
 * Builders never fail midway: an allocation failure sets a flag, later
 * calls become no-ops, and pd__table_finish() reports PD_ERR_NOMEM. */
pd_table *pd__table_new(const char *name);
size_t pd__table_add_col(pd_table *t, const char *name, pd_type type);
size_t pd__table_add_row(pd_table *t);          /* all cells null */
void pd__table_set_int64(pd_table *t, size_t row, size_t col, int64_t v);
void pd__table_set_double(pd_table *t, size_t row, size_t col, double v);
void pd__table_set_string(pd_table *t, size_t row, size_t col, const char *s);
/* Hands the table to the caller (*out) or frees it and returns an error. */
pd_status pd__table_finish(pd_table *t, pd_table **out);

#endif
