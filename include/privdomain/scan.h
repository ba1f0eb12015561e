/* Scan: every user's events in (time, insertion) order, in parallel.
 *
 * The callback sees one user at a time with the user's whole history as
 * parallel column arrays (borrowed: valid only during the call). Users are
 * split into contiguous id ranges across worker threads; the callback runs
 * concurrently on different workers, each worker's calls in ascending user
 * order. Keep per-worker state indexed by `worker` (0..threads-1) and merge
 * it after pd_scan() returns: no locking needed.
 * Merged users appear once, under the surviving id.
 */
#ifndef PRIVDOMAIN_SCAN_H
#define PRIVDOMAIN_SCAN_H

#include "privdomain/tags.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pd_user_events {
  uint32_t user;
  size_t n;                     /* events, >= 1 */
  const int64_t *time;          /* ms UTC, non-decreasing */
  const uint16_t *type;
  const uint32_t *touchpoint;   /* PD_NONE when absent */
  const uint32_t *referrer;     /* PD_NONE when absent; canonical user ids */
  const int64_t *amount;        /* minor units */
} pd_user_events;

/* Return 0 to continue, nonzero to stop the whole scan (PD_ERR_CANCELLED). */
typedef int (*pd_scan_fn)(void *ctx, unsigned worker, const pd_user_events *events);

typedef struct pd_scan_options {
  size_t size;          /* sizeof(pd_scan_options) */
  unsigned threads;     /* 0 = one per online core */
  uint32_t user_begin;  /* scan users in [user_begin, user_end) */
  uint32_t user_end;    /* PD_NONE = to the last user */
  const pd_userset *users; /* only these users (a segment); NULL = all. Borrowed for the call. */
} pd_scan_options;
#define PD_SCAN_OPTIONS_INIT {sizeof(pd_scan_options), 0, 0, PD_NONE, NULL}

/* Number of workers pd_scan() will use with these options (>= 1). */
PD_API unsigned pd_scan_workers(const pd_scan_options *opts);

/* Calls fn for every user with at least one event. opts may be NULL. */
PD_API pd_status pd_scan(pd_store *store, const pd_scan_options *opts, pd_scan_fn fn, void *ctx);

#ifdef __cplusplus
}
#endif
#endif
