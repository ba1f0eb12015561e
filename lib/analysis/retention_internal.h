/* Internals shared by retention.c, lifecycle.c and stickiness.c. */
#ifndef PD_RETENTION_INTERNAL_H
#define PD_RETENTION_INTERNAL_H

#include "pd_internal.h"
#include "tz.h"

/* A set of event types (ids are 16-bit in event runs). */
typedef struct pd__typeset {
  uint8_t bits[65536 / 8];
} pd__typeset;

static inline bool pd__typeset_has(const pd__typeset *s, uint32_t type) {
  return type < 65536 && (s->bits[type >> 3] >> (type & 7)) & 1;
}
static inline void pd__typeset_add(pd__typeset *s, uint32_t type) {
  if (type < 65536) s->bits[type >> 3] |= (uint8_t)(1u << (type & 7));
}
/* Fills s with the listed types, or with every type when n is 0. */
void pd__typeset_fill(pd__typeset *s, const uint32_t *types, size_t n);

/* Period of an instant with the UTC bounds of the last period found
 * cached: events of a user come in time order, so most lookups are two
 * comparisons, and moving on to the next period one more. Period starts
 * are memoised (time-zone conversions are the slow part). A period is
 * [start(p), start(p+1)) in UTC. One cursor per worker: not shared. */
typedef struct pd__pcursor {
  const pd__tz *tz;
  pd_period period;
  int64_t lo, hi, idx;
  int64_t *memo; /* memo[i] = start of period mbase + i, INT64_MIN = not yet known */
  int64_t mbase;
  size_t mn;
} pd__pcursor;

static inline void pd__pcursor_init(pd__pcursor *c, const pd__tz *tz, pd_period period) {
  c->tz = tz;
  c->period = period;
  c->lo = 1;
  c->hi = 0; /* empty: the first lookup computes */
  c->idx = 0;
  c->memo = NULL;
  c->mbase = 0;
  c->mn = 0;
}
void pd__pcursor_free(pd__pcursor *c);
int64_t pd__pcursor_slow(pd__pcursor *c, int64_t t);
static inline int64_t pd__pcursor_index(pd__pcursor *c, int64_t t) {
  if (t >= c->lo && t < c->hi) return c->idx;
  return pd__pcursor_slow(c, t);
}

/* The checked period enum. */
bool pd__period_valid(pd_period p);

/* Runs pd_scan() with one partial per worker, then merges into parts[0].
 * add/merge are the analysis's partial functions. */
typedef pd_status (*pd__add_fn)(void *partial, const pd_user_events *ev);
typedef pd_status (*pd__merge_fn)(void *into, const void *from);
pd_status pd__scan_partials(pd_store *store, const pd_scan_options *scan, void **parts, unsigned nw, pd__add_fn add,
                            pd__merge_fn merge);

/* Growable int64 array helpers (zero-filled growth). */
bool pd__grow_i64(int64_t **a, size_t *cap, size_t need);

#endif
