/* Thread-local last-error message and static status names. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pd_internal.h"

static _Thread_local char last_error[1024];

const char *pd_status_str(pd_status status) {
  switch (status) {
  case PD_OK: return "PD_OK: success";
  case PD_ERR_INVALID: return "PD_ERR_INVALID: invalid argument";
  case PD_ERR_NOMEM: return "PD_ERR_NOMEM: out of memory";
  case PD_ERR_IO: return "PD_ERR_IO: I/O error";
  case PD_ERR_CORRUPT: return "PD_ERR_CORRUPT: corrupt data";
  case PD_ERR_LOCKED: return "PD_ERR_LOCKED: store is locked by another writer";
  case PD_ERR_VERSION: return "PD_ERR_VERSION: unsupported format version";
  case PD_ERR_PARSE: return "PD_ERR_PARSE: malformed input";
  case PD_ERR_NOT_FOUND: return "PD_ERR_NOT_FOUND: not found";
  case PD_ERR_EXISTS: return "PD_ERR_EXISTS: already exists";
  case PD_ERR_RANGE: return "PD_ERR_RANGE: value out of range";
  case PD_ERR_NUMERIC: return "PD_ERR_NUMERIC: numerical failure";
  case PD_ERR_CANCELLED: return "PD_ERR_CANCELLED: cancelled";
  case PD_ERR_READONLY: return "PD_ERR_READONLY: store opened read-only";
  }
  return "unknown pd_status";
}

const char *pd_last_error(void) { return last_error; }

void pd_clear_error(void) { last_error[0] = '\0'; }

pd_status pd__verror(pd_status status, const char *fmt, va_list ap) {
  char msg[sizeof last_error]; /* an argument may be pd_last_error() itself */
  vsnprintf(msg, sizeof msg, fmt, ap);
  memcpy(last_error, msg, sizeof msg);
  return status;
}

pd_status pd__error(pd_status status, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  pd__verror(status, fmt, ap);
  va_end(ap);
  return status;
}

void pd__error_prefix(const char *fmt, ...) {
  char old[sizeof last_error];
  memcpy(old, last_error, sizeof old);
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(last_error, sizeof last_error, fmt, ap);
  va_end(ap);
  if (n < 0 || (size_t)n >= sizeof last_error - 2) return;
  last_error[n] = ':';
  last_error[n + 1] = ' ';
  size_t room = sizeof last_error - (size_t)n - 2;
  size_t len = strnlen(old, room - 1);
  memcpy(last_error + n + 2, old, len);
  last_error[n + 2 + len] = '\0';
}

int pd_version_number(void) { return PD_VERSION_NUMBER; }

const char *pd_version_string(void) { return PD_VERSION_STRING; }

void pd_free(void *p) { free(p); }
