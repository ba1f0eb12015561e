/* Referral analytics, shared between referral.c (per-user accumulation,
 * partials, API), referral_forest.c (forest, breaking, aggregates) and
 * referral_tables.c (result tables). Internal. */
#ifndef PD_REFERRAL_INTERNAL_H
#define PD_REFERRAL_INTERNAL_H

#include "pd_internal.h"
#include "tz.h"

#define PD__REF_UNKNOWN_TIME INT64_MIN

/* One user's summary, made by accumulate from the user's whole history. */
typedef struct pd__ref_rec {
  int64_t first_time;     /* first event */
  int64_t acq_time;       /* first acquire/referral_signup, else first event */
  int64_t signup_time;    /* the winning attribution, or PD__REF_UNKNOWN_TIME */
  int64_t conflict_time;  /* first conflicting attribution */
  int64_t revenue;        /* purchases - refunds */
  uint32_t user, referrer, acq_tp, invites, conflicts, conflict_referrer;
  uint8_t purchaser;
} pd__ref_rec;

struct pd_referral_builder {
  pd_referral_options opts;
  char *tz;
  pd__ref_rec *recs;
  size_t n, cap;
  bool oom;
};

enum {
  PD__REF_NODE = 1,        /* has a node: events or referees */
  PD__REF_EVENTS = 2,      /* has events */
  PD__REF_PURCHASER = 4,
  PD__REF_SELF = 8,        /* self-referral removed */
  PD__REF_CYCLE_CUT = 16,  /* its edge was cut to break a cycle */
  PD__REF_IN = 32          /* a node of the users the metrics describe (opts.users) */
};

typedef enum pd__ref_issue_kind {
  PD__ISSUE_SELF = 0,
  PD__ISSUE_CYCLE,
  PD__ISSUE_CONFLICT,
  PD__ISSUE_EARLY,
  PD__ISSUE_NO_EVENTS,
  PD__ISSUE_KINDS
} pd__ref_issue_kind;

typedef struct pd__ref_issue {
  uint32_t user, referrer;
  int64_t time;
  char *detail; /* malloc'd or NULL */
} pd__ref_issue;

/* Groups: sorted distinct int64 keys of one breakdown dimension. */
typedef struct pd__ref_groups {
  int64_t *keys;
  size_t n;
} pd__ref_groups;

struct pd_referral {
  pd_referral_options opts;
  char *tz_name;
  pd__tz *tz;
  const pd_store *store;   /* for user names, or NULL */
  pd_touchpoint_def *tps;  /* copies (names owned) */
  size_t n_tps;

  void *slab;              /* one block holding every per-user array below */
  uint32_t n;              /* array length: max id + 1 */
  uint32_t n_nodes;
  uint8_t *flags;
  uint32_t *attributed, *parent, *root, *depth, *children, *desc, *acq_tp, *invites, *conflicts;
  uint32_t *conflict_referrer;
  int64_t *revenue, *desc_revenue, *acq, *first, *signup, *conflict_time;

  uint32_t max_depth;      /* deepest node */
  uint64_t issue_count[PD__ISSUE_KINDS];
  pd__ref_issue *issues[PD__ISSUE_KINDS];
  size_t n_issues[PD__ISSUE_KINDS];
  uint64_t cycle_members;

  int64_t *cycle_times;    /* non-negative cycle times, sorted */
  size_t n_cycle_times;
  uint64_t negative_cycle_times;

  double summary[40];      /* indexed like summary_names in referral_tables.c */
};

/* A node counted by the metrics: in opts.users (every node without a filter). */
static inline bool pd__referral_counted(const pd_referral *r, uint32_t u) { return r->flags[u] & PD__REF_IN; }

/* referral_forest.c: fills parent..desc_revenue, issues, cycle times. */
pd_status pd__referral_build_forest(pd_referral *r);
/* Appends an issue example (up to max_examples) and counts it. detail is
 * taken over (freed on failure). */
pd_status pd__referral_issue(pd_referral *r, pd__ref_issue_kind kind, uint32_t user, uint32_t referrer,
                             int64_t time, char *detail);

/* referral_tables.c */
pd_status pd__referral_summary_compute(pd_referral *r);
int64_t pd__referral_key(const pd_referral *r, pd_referral_by by, uint32_t u);
void pd__referral_key_label(const pd_referral *r, pd_referral_by by, int64_t key, char *buf, size_t size);
/* "2024-03-01T08:00:00Z" (empty for PD__REF_UNKNOWN_TIME); buf >= 32 bytes. */
void pd__format_time_iso(int64_t ms, char *buf, size_t size);
/* User name for tables: the store's name or NULL. */
const char *pd__referral_name(const pd_referral *r, uint32_t u);

/* Builder finishing with names from a store (borrowed). */
pd_status pd__referral_finish(pd_referral_builder *b, const pd_touchpoint_def *tps, size_t n_tps,
                              const pd_store *store, pd_referral **out);

#endif
