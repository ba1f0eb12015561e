/* libprivdomain: status codes, errors, version, memory.
 *
 * Conventions used by every public header:
 *  - Functions that can fail return pd_status; PD_OK (0) is success and
 *    every error is negative. The values are pinned forever.
 *  - After a failure, pd_last_error() returns this thread's message
 *    (file, line, column, offset... whatever locates the problem).
 *  - "owned by the caller" means the caller releases it with the named
 *    function; "borrowed" means the library keeps ownership and says for
 *    how long the pointer stays valid. Callers never free() library memory.
 */
#ifndef PRIVDOMAIN_COMMON_H
#define PRIVDOMAIN_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "privdomain/version.h"

#ifdef __cplusplus
extern "C" {
#endif

#if defined(PD_BUILDING_LIBRARY) && defined(__GNUC__)
#define PD_API __attribute__((visibility("default")))
#else
#define PD_API
#endif

/* Status codes. Pinned: never renumbered, only appended. */
typedef enum pd_status {
  PD_OK = 0,
  PD_ERR_INVALID = -1,   /* bad argument or option */
  PD_ERR_NOMEM = -2,     /* out of memory */
  PD_ERR_IO = -3,        /* operating-system I/O failure */
  PD_ERR_CORRUPT = -4,   /* on-disk data failed a checksum or sanity check */
  PD_ERR_LOCKED = -5,    /* another writer holds the store */
  PD_ERR_VERSION = -6,   /* file written by a newer, unknown format version */
  PD_ERR_PARSE = -7,     /* malformed input data (file:line:column in message) */
  PD_ERR_NOT_FOUND = -8, /* named user, touchpoint, column... does not exist */
  PD_ERR_EXISTS = -9,    /* would overwrite or duplicate something */
  PD_ERR_RANGE = -10,    /* value out of the representable range */
  PD_ERR_NUMERIC = -11,  /* numerical failure (no convergence, singular) */
  PD_ERR_CANCELLED = -12,/* a callback asked to stop */
  PD_ERR_READONLY = -13  /* write attempted through a read-only handle */
} pd_status;

/* Static English name of a status ("PD_ERR_IO: I/O error"). Never NULL. */
PD_API const char *pd_status_str(pd_status status);

/* The detailed message of the last failure on the calling thread.
 * Borrowed: valid until the next libprivdomain call on this thread.
 * Returns "" when no failure has been recorded. */
PD_API const char *pd_last_error(void);

/* Clears this thread's last error. */
PD_API void pd_clear_error(void);

/* Runtime version, to compare with the PD_VERSION_* macros compiled in. */
PD_API int pd_version_number(void);   /* MAJOR*10000 + MINOR*100 + PATCH */
PD_API const char *pd_version_string(void); /* static, e.g. "0.1.0" */

/* Releases memory the library handed to the caller as a plain buffer
 * (e.g. the text of pd_table_format()). Accepts NULL. */
PD_API void pd_free(void *p);

/* Sentinel for "no user", "no touchpoint", "no referrer". */
#define PD_NONE UINT32_MAX

#ifdef __cplusplus
}
#endif
#endif
