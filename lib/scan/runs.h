/* Per-user event runs over a store's sealed segment and committed log
 * tail: the one place that knows where a user's events live. Used by the
 * scan (in parallel) and by compaction (in user order). */
#ifndef PD_RUNS_H
#define PD_RUNS_H

#include "store_internal.h"

/* User u's run in the segment, pointing into its columns (ev->n = 0 when
 * u has none there): a plain store's whole run. */
static inline void pd__runs_segment_events(const pd__segment *g, uint32_t u, pd_user_events *ev) {
  uint64_t a = u < g->n_users ? g->user_off[u] : 0, n = u < g->n_users ? g->user_off[u + 1] - a : 0;
  *ev = (pd_user_events){u, n, g->time + a, g->type + a, g->tp + a, g->ref + a, g->amount + a};
}

typedef struct pd__runs {
  const pd_store *s;
  uint32_t n_users;
  bool plain;             /* no merges, no log events: every run is the segment's (canon, tail_start NULL) */
  uint32_t *canon;        /* resolved canonical user of every user id */
  bool remap_seg;         /* merges happened after sealing: segment runs need merging/remapping */
  uint32_t *member_start; /* remap_seg: merged users m of canonical u are member_list[member_start[u]..] */
  uint32_t *member_list;
  /* The committed tail grouped by canonical user, time-sorted within a
   * user (stable: insertion order breaks ties), referrers canonical. */
  uint64_t *tail_start;   /* n_users + 1 */
  int64_t *t_time;
  uint16_t *t_type;
  uint32_t *t_tp, *t_ref;
  int64_t *t_amount;
} pd__runs;

/* A worker's scratch space for runs that must be merged or remapped. */
typedef struct pd__run_buf {
  size_t cap;
  int64_t *time;
  uint16_t *type;
  uint32_t *tp, *ref;
  int64_t *amount;
  uint32_t *order, *tmp; /* merge-sort permutation */
  int64_t *time2;
  uint16_t *type2;
  uint32_t *tp2, *ref2;
  int64_t *amount2;
} pd__run_buf;

pd_status pd__runs_prepare(const pd_store *s, pd__runs *out);
void pd__runs_free(pd__runs *r);
/* Number of events of user u (0 for merged-away or inactive users). */
uint64_t pd__runs_count(const pd__runs *r, uint32_t u);
/* Fills *ev with user u's run (borrowed from the store or from buf). */
pd_status pd__runs_get(const pd__runs *r, pd__run_buf *buf, uint32_t u, pd_user_events *ev);
void pd__run_buf_free(pd__run_buf *b);

#endif
