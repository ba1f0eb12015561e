/* Cohort retention, cohort revenue, pool lifecycle and stickiness.
 *
 * All three analyses read per-user event runs (scan.h): a partial is
 * accumulated per worker, partials with the same options merge exactly,
 * and finishing gives pd_table(s). The *_run() functions do it all over a
 * store with pd_scan().
 *
 * Segment filter. The *_run() functions with scan->users (scan.h) give the
 * analysis of a store holding only those users, observed as long as the
 * whole store: only their events count and cohorts hold only them, but
 * retention's default as_of is the latest event of the whole store (a
 * segment that went quiet shows its empty late periods as 0, not as not
 * yet observable). Lifecycle rows run from the segment's first to its last
 * active period.
 *
 * Periods. Days, weeks (ISO, Monday start, or Sunday start) and months are
 * calendar periods in the time zone `tz` (IANA name, NULL = UTC). A period
 * is the interval of UTC instants from the first instant of its first local
 * day to the first instant of the next period, so a 23-hour or 25-hour DST
 * day holds exactly the events of that local day: no hour lost or counted
 * twice.
 *
 * ---- Cohort retention -------------------------------------------------
 *
 * Start. A user's START is the first event (in time, then insertion order)
 * whose type is in start_types (default: acquire). The COHORT is the period
 * holding the start. In recurring mode every period holding a start event
 * is a cohort of the user, each with its first start event of that period;
 * a user is then counted once in each of those cohorts.
 *
 * Return. A RETURN is an event after the start event (later in the user's
 * time-then-insertion order; the start event itself never counts) whose type
 * is in return_types (default: any type that is not a start type),
 * optionally restricted to touchpoints in return_touchpoints and/or to
 * touchpoints of domain return_domain.
 *
 * Periods k. Calendar mode: k = (period of the return) - (cohort period);
 * period 0 is the cohort period itself. A return in period 0 must be a
 * DIFFERENT event than the start, later than it in the user's order: a user
 * whose only events are start events is never counted as returned, not even
 * in period 0 (unless return_types includes a start type and a second start
 * event follows). Rolling mode (window_ms > 0, as Amplitude and Mixpanel
 * count "day N"): k = floor((return time - start time) / window_ms); the
 * cohort is still labelled by the calendar period of the start.
 *
 * Classic retention counts users with a return in exactly period k;
 * on-or-after retention counts users with a return in period k or later.
 *
 * Observability. A cell (cohort, k) is observable when the period has
 * started by the data end `as_of_ms` (default: the latest event time seen by
 * the analysis): calendar mode, when cohort + k <= period(as_of); rolling
 * mode, per user, when start + k * window_ms <= as_of. With complete_only,
 * the period must also have ENDED by as_of (its last millisecond <= as_of),
 * so that the partial last period does not show as a dip in retention.
 * `eligible` counts the cohort users for whom the cell is observable (all
 * of them or none in calendar mode); rates divide by it and are null when
 * it is 0, so the not-yet-observable corner of the matrix is null rather
 * than a false 0.
 *
 * Revenue. Net revenue = amounts of purchase events minus amounts of refund
 * events, from the start event on (the start event included when it is a
 * purchase), assigned to periods k like returns. cum_revenue_per_user is
 * the sum of revenue over periods 0..k divided by the cohort size (the
 * historical LTV curve).
 *
 * Breakdown. PD_RETENTION_BY_ACQ_TOUCHPOINT groups users by the touchpoint
 * of their first acquire event, PD_RETENTION_BY_ACQ_DOMAIN by its domain;
 * users without an acquire event (or whose acquire has no touchpoint) form
 * the group "(none)".
 *
 * Cost: O(events) per user in first-time mode; recurring mode costs
 * O(events x cohorts of the user).
 *
 * ---- Lifecycle --------------------------------------------------------
 *
 * A user is ACTIVE in a period when it holds one of the user's events whose
 * type is in active_types (default: any event). For each period t from the
 * first to the last period with an active user:
 *   new           first active period of the user is t,
 *   returning     active in t and in t-1,
 *   resurrecting  active in t, not in t-1, not new,
 *   dormant       active in t-1, not in t.
 * They reconcile exactly: active(t) = new + returning + resurrecting and
 * active(t-1) = returning + dormant.
 *
 * ---- Stickiness -------------------------------------------------------
 *
 * With period WEEK or WEEK_SUNDAY: for each (user, week) with activity, the
 * number of distinct active local days in that week (1..7). With period
 * MONTH: for each (user, month), the number of distinct ISO weeks (Monday
 * start) holding an active day of that month (1..6). The histogram counts
 * user-periods by that number, per period or pooled over all periods.
 */
#ifndef PRIVDOMAIN_RETENTION_H
#define PRIVDOMAIN_RETENTION_H

#include "privdomain/scan.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum pd_retention_mode {
  PD_RETENTION_CLASSIC = 0,    /* returned in exactly period k */
  PD_RETENTION_ON_OR_AFTER = 1 /* returned in period k or later */
} pd_retention_mode;

typedef enum pd_retention_by {
  PD_RETENTION_BY_NONE = 0,
  PD_RETENTION_BY_ACQ_TOUCHPOINT = 1,
  PD_RETENTION_BY_ACQ_DOMAIN = 2
} pd_retention_by;

/* Options of a retention analysis. Arrays and strings are borrowed for the
 * duration of pd_retention_partial_new() / pd_retention_run() (copied).
 * Initialise with PD_RETENTION_OPTIONS_INIT. */
typedef struct pd_retention_options {
  size_t size;                        /* sizeof(pd_retention_options) */
  const uint32_t *start_types;        /* NULL or n 0: {acquire} */
  size_t n_start_types;
  int recurring;                      /* 0: first-time cohorts; 1: every period with a start */
  const uint32_t *return_types;       /* NULL or n 0: every type not in start_types */
  size_t n_return_types;
  const uint32_t *return_touchpoints; /* NULL or n 0: any touchpoint */
  size_t n_return_touchpoints;
  int return_domain;                  /* a pd_domain, or -1: any */
  pd_period period;                   /* cohort and return periods */
  const char *tz;                     /* IANA zone, NULL = UTC */
  int64_t window_ms;                  /* 0: calendar periods; > 0: rolling windows (e.g. 86400000) */
  pd_retention_mode mode;
  unsigned n_periods;                 /* k = 0..n_periods-1; 0: through the last observable period */
  pd_retention_by by;
  int64_t as_of_ms;                   /* data end; INT64_MIN: the latest event time seen */
  const uint8_t *domains;             /* runs without a store: domains[t] = pd_domain of touchpoint t */
  size_t n_domains;                   /* (pd_retention_run() reads them from the store) */
  int complete_only;                  /* 1: only periods that ended by as_of are observable */
} pd_retention_options;
#define PD_RETENTION_OPTIONS_INIT                                                                              \
  {                                                                                                            \
    sizeof(pd_retention_options), NULL, 0, 0, NULL, 0, NULL, 0, -1, PD_PERIOD_DAY, NULL, 0, PD_RETENTION_CLASSIC, \
        0, PD_RETENTION_BY_NONE, INT64_MIN, NULL, 0, 0                                                         \
  }

/* Which table to finish.
 *  LONG: one row per (group, cohort, k): [group], cohort (label), cohort_start
 *    (ms UTC), cohort_users, k, eligible, users (returned per the mode),
 *    rate (users / eligible, null when eligible is 0), revenue (net, minor
 *    units, null when not observable), cum_revenue_per_user (double, null
 *    when not observable).
 *  RATES: the matrix, one row per (group, cohort): [group], cohort,
 *    cohort_users, then one double column per k named "0", "1", ... (null
 *    where not observable).
 *  COUNTS: as RATES with the returned-user counts (int64).
 *  AVERAGE: one row per (group, k): [group], k, cohorts (observable
 *    cohorts), eligible, users, rate (sum users / sum eligible: the average
 *    of the cohorts' rates weighted by cohort size), revenue,
 *    cum_revenue_per_user (sum over observable cohorts of cumulative revenue
 *    / sum of their sizes).
 * Groups sort by key (touchpoint id or domain value), "(none)" first. */
typedef enum pd_retention_table {
  PD_RETENTION_TABLE_LONG = 0,
  PD_RETENTION_TABLE_RATES = 1,
  PD_RETENTION_TABLE_COUNTS = 2,
  PD_RETENTION_TABLE_AVERAGE = 3
} pd_retention_table;

typedef struct pd_retention_partial pd_retention_partial;

/* A new empty accumulator (options copied). PD_ERR_INVALID for bad
 * options or an unknown zone. *out owned by the caller, free with
 * pd_retention_partial_free(). */
PD_API pd_status pd_retention_partial_new(const pd_retention_options *opts, pd_retention_partial **out);
/* Accepts NULL. */
PD_API void pd_retention_partial_free(pd_retention_partial *p);
/* Adds one user's whole history (borrowed for the call only). */
PD_API pd_status pd_retention_partial_add(pd_retention_partial *p, const pd_user_events *events);
/* Adds everything in `from` (same options, disjoint users) into `into`. */
PD_API pd_status pd_retention_partial_merge(pd_retention_partial *into, const pd_retention_partial *from);
/* Finishes one table (see pd_retention_table). store may be NULL
 * (touchpoint groups are then named "#<id>"). *out owned by the caller,
 * free with pd_table_free(). */
PD_API pd_status pd_retention_partial_finish(const pd_retention_partial *p, pd_store *store, pd_retention_table which,
                                             pd_table **out);

/* Runs the analysis over the store (scan may be NULL) and finishes the
 * tables asked for: long, rates and average (each pointer may be NULL;
 * on failure none is set). Each table owned by the caller, free with
 * pd_table_free(). */
PD_API pd_status pd_retention_run(pd_store *store, const pd_retention_options *opts, const pd_scan_options *scan,
                                  pd_table **long_out, pd_table **rates_out, pd_table **average_out);

/* ---- lifecycle ---------------------------------------------------------- */

typedef struct pd_lifecycle_options {
  size_t size;                  /* sizeof(pd_lifecycle_options) */
  pd_period period;
  const char *tz;               /* IANA zone, NULL = UTC */
  const uint32_t *active_types; /* NULL or n 0: any event makes a user active */
  size_t n_active_types;
} pd_lifecycle_options;
#define PD_LIFECYCLE_OPTIONS_INIT {sizeof(pd_lifecycle_options), PD_PERIOD_WEEK, NULL, NULL, 0}

typedef struct pd_lifecycle_partial pd_lifecycle_partial;

/* As the retention partial functions. */
PD_API pd_status pd_lifecycle_partial_new(const pd_lifecycle_options *opts, pd_lifecycle_partial **out);
PD_API void pd_lifecycle_partial_free(pd_lifecycle_partial *p);
PD_API pd_status pd_lifecycle_partial_add(pd_lifecycle_partial *p, const pd_user_events *events);
PD_API pd_status pd_lifecycle_partial_merge(pd_lifecycle_partial *into, const pd_lifecycle_partial *from);
/* One row per period from the first to the last with an active user:
 * period (label), period_start (ms UTC), active, active_prev (active in the
 * previous period), new, returning, resurrecting, dormant, dormant_neg
 * (-dormant, for charts that draw outflow below the axis).
 * *out owned by the caller, free with pd_table_free(). */
PD_API pd_status pd_lifecycle_partial_finish(const pd_lifecycle_partial *p, pd_table **out);
/* Runs over the store. *out owned by the caller, free with pd_table_free(). */
PD_API pd_status pd_lifecycle_run(pd_store *store, const pd_lifecycle_options *opts, const pd_scan_options *scan,
                                  pd_table **out);

/* ---- stickiness ---------------------------------------------------------- */

typedef struct pd_stickiness_options {
  size_t size;                  /* sizeof(pd_stickiness_options) */
  pd_period period;             /* WEEK or WEEK_SUNDAY: days per week; MONTH: ISO weeks per month */
  const char *tz;               /* IANA zone, NULL = UTC */
  const uint32_t *active_types; /* NULL or n 0: any event */
  size_t n_active_types;
  int per_period;               /* 0: one histogram pooled over all periods; 1: one per period */
} pd_stickiness_options;
#define PD_STICKINESS_OPTIONS_INIT {sizeof(pd_stickiness_options), PD_PERIOD_WEEK, NULL, NULL, 0, 0}

typedef struct pd_stickiness_partial pd_stickiness_partial;

/* As the retention partial functions; period DAY is PD_ERR_INVALID. */
PD_API pd_status pd_stickiness_partial_new(const pd_stickiness_options *opts, pd_stickiness_partial **out);
PD_API void pd_stickiness_partial_free(pd_stickiness_partial *p);
PD_API pd_status pd_stickiness_partial_add(pd_stickiness_partial *p, const pd_user_events *events);
PD_API pd_status pd_stickiness_partial_merge(pd_stickiness_partial *into, const pd_stickiness_partial *from);
/* Rows: [period (label), period_start (ms UTC), when per_period], active_units
 * (days or weeks, 1..7 or 1..6), users (user-periods when pooled), share
 * (users / all users of the period or pool), cum_share (share of users with
 * at least active_units). Every unit value appears, zeros included.
 * *out owned by the caller, free with pd_table_free(). */
PD_API pd_status pd_stickiness_partial_finish(const pd_stickiness_partial *p, pd_table **out);
/* Runs over the store. *out owned by the caller, free with pd_table_free(). */
PD_API pd_status pd_stickiness_run(pd_store *store, const pd_stickiness_options *opts, const pd_scan_options *scan,
                                   pd_table **out);

#ifdef __cplusplus
}
#endif
#endif
