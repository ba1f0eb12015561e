/* The touchpoint scan shared by the scorecard and the migration tables
 * (internal). See include/privdomain/touchpoints.h for the definitions. */
#ifndef PD_TOUCHPOINTS_INTERNAL_H
#define PD_TOUCHPOINTS_INTERNAL_H

#include "pd_internal.h"
#include "privdomain/touchpoints.h"
#include "tz.h"

/* Sums of one scorecard group. */
typedef struct pd__tp_acc {
  int64_t acquired, activated, elig7, ret7, elig30, ret30;
  int64_t messaged, sends, opens;
  int64_t buyers, revenue, invites, referred, conversions, private_conv;
  int64_t touch_events, personal_events;
  /* sum of the per-user open rates in fixed point (units of 2^-62) as a
   * 128-bit integer, so that it merges exactly in any order */
  uint64_t uo_lo, uo_hi;
  double clv_sum;
} pd__tp_acc;

/* Adds v (units of 2^-62) to a 128-bit sum. */
static inline void pd__tp_uo_add(pd__tp_acc *a, uint64_t lo, uint64_t hi) {
  a->uo_lo += lo;
  a->uo_hi += hi + (a->uo_lo < lo);
}

/* One side (moved / stayed) of a migration source. */
typedef struct pd__mig_side {
  int64_t users, elig7, ret7, elig30, ret30, revenue;
  double clv_sum;
} pd__mig_side;

typedef struct pd__mig_acc {
  pd__mig_side side[2]; /* 0: moved, 1: stayed */
  int64_t *times;       /* move times (ms) */
  size_t n_times, cap;
} pd__mig_acc;

typedef struct pd__tp_run {
  pd_store *store;
  pd_touchpoint_options o; /* normalised copy */
  pd__tz *tz;
  int64_t as_of, days;     /* observation end; local days of the period */
  uint32_t n_tp, n_groups, none_group; /* groups: by's groups, then "(none)" */
  uint32_t *group_of_tp;   /* n_tp */
  uint8_t *domain_of_tp;   /* n_tp */
  uint8_t *personal_tp;    /* n_tp: carrier is a person or a group */
  int want_mig;
  uint32_t n_users;
  uint32_t *acq_group;     /* per user: scorecard group, PD_NONE: not acquired in the period */
  uint8_t *mig_state;      /* per user (with want_mig): 0 none, 1 moved, 2 stayed */
  uint32_t *mig_src;       /* per user (with want_mig): source touchpoint */
  pd__tp_acc *acc;         /* n_groups, merged */
  pd__mig_acc *mig;        /* n_tp, merged (with want_mig) */
  int has_none;            /* some acquire without a touchpoint in the period */
} pd__tp_run;

/* Validates opts, scans the store, merges, adds referrals and CLV.
 * On error everything is released. */
pd_status pd__tp_run_compute(pd_store *store, const pd_touchpoint_options *opts, int want_mig, pd__tp_run *r);
void pd__tp_run_free(pd__tp_run *r);

#endif
