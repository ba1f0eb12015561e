/* Ordered funnels over per-user event runs (ClickHouse windowFunnel semantics).
 *
 * A funnel is 2..32 steps; each step is a predicate on one event (event
 * type, optionally touchpoint, touchpoint domain, minimum amount). For
 * every user the funnel looks at ATTEMPTS: an attempt starts at an event
 * that satisfies step 1 (unordered mode: any step) at time s and may use
 * events up to the deadline s + window, INCLUSIVE (an event at exactly
 * s + window counts, one millisecond later does not). A later step-1
 * event starts a new attempt; it does not cancel earlier ones. The user's
 * LEVEL is the furthest step reached by any attempt that is not
 * disqualified by an exclusion; a user counts at steps 1..level.
 *
 * Order of events. Events are taken in time order. Events with EQUAL
 * timestamps are taken in step order, as ClickHouse does: at one instant
 * first the events that satisfy no step, then every "step 1" match, then
 * every "step 2" match, and so on. One event that satisfies several steps
 * is one match per step (in default mode it may fill several steps).
 * Within an attempt each next step is filled by its earliest possible
 * match (this is optimal: an earlier fill never loses a later one).
 *
 * Modes (each is a per-attempt rule; see "differences from ClickHouse").
 * Worked examples use steps A,B,C,D, window 10, events as letter@time.
 *
 *  PD_FUNNEL_DEFAULT: a step fills when its event comes after the previous
 *    step's match (same instant allowed, in step order) and by the deadline.
 *    Other events in between are ignored.
 *      A@0 X@1 B@2 A@3 B@4 C@5 D@13  ->  attempt A@0 reaches C (D@13 is
 *      past 0+10); attempt A@3 reaches D (13 <= 3+10)  ->  level 4.
 *
 *  PD_FUNNEL_STRICT_ORDER: nothing else may happen in between. Once the
 *    attempt has started, an event that satisfies no step, or only a step
 *    beyond the next one, ends the attempt at its current level. Repeats
 *    of steps already filled (including new step-1 events) are harmless.
 *      A@0 B@1 X@2 C@3  ->  level 2.   A@0 B@1 B@2 C@3  ->  level 3.
 *      A@0 C@1 B@2  ->  level 1 (C skipped ahead).
 *
 *  PD_FUNNEL_STRICT_DEDUPLICATION: a second match of a step already filled
 *    in this attempt (steps 2..n; a step-1 repeat is a new attempt, not a
 *    duplicate) ends the attempt at its current level.
 *      A@0 B@1 C@2 B@3 D@4  ->  level 3.
 *      A@0 B@1 C@2 A@3 B@4 C@5 D@6  ->  level 4 (through the attempt at 3).
 *
 *  PD_FUNNEL_STRICT_INCREASE: as default, but each step must be strictly
 *    later than the previous step's match: equal timestamps never fill two
 *    consecutive steps.
 *      A@0 B@0 C@1  ->  level 1 (B@0 ties A@0; C cannot come before B).
 *      A@0 B@1 C@1 C@2  ->  level 3 (C@1 ties B@1, C@2 fills step 3).
 *
 *  PD_FUNNEL_STRICT_ONCE: as default, but one event fills at most one step
 *    of an attempt (an event satisfying B and C fills only one of them).
 *    Within one instant the assignment that fills the most consecutive
 *    steps is chosen.
 *      A@0 {B,C}@1 D@2  ->  level 2 (default mode: 4).
 *      A@0 {B,C}@1 B@1 D@2  ->  level 4 (B@1 fills B, {B,C}@1 fills C).
 *
 *  PD_FUNNEL_UNORDERED: the steps may happen in any order. An attempt starts
 *    at any event that satisfies some step, at time s; its level is the
 *    number of distinct steps satisfied by events in [s, s + window] (one
 *    event may satisfy several). Row k of the result then means "k of the
 *    steps, in any order", and times are between the instants the (k-1)-th
 *    and k-th distinct step were first reached.
 *      C@0 A@4 B@9 D@12  ->  attempt C@0 has C,A,B (level 3); attempt A@4
 *      has A,B,D (level 3)  ->  level 3.
 *
 * Differences from ClickHouse (whose implementation evaluates a single
 * greedy state per user rather than attempts). Where its results look like
 * defects we compute the per-attempt definition above and document it:
 *  - strict_deduplication: ClickHouse stops evaluating the WHOLE user at the
 *    first repeat, even one outside the window or belonging to a chain that
 *    is long over, so a later complete attempt is lost (ClickHouse issue
 *    37177: install,start,login,install,start,install,start,login,end gives
 *    3, the reporter expected 4; we give 4).
 *  - strict_order: likewise ClickHouse stops at the first unrelated event
 *    after ANY step-1 event, for the rest of the user's history; we end only
 *    the attempts that are alive at that moment, later step-1 events start
 *    fresh attempts.
 *  - strict_increase: ClickHouse overwrites its state for step k with a
 *    later match even when that match ties the next step's candidate, and
 *    drops valid chains (ClickHouse issue 52844: p0@1, p1,p2,p3@2,
 *    p1,p2,p3@3, p1,p2,p3@4 gives 2; the chain p0@1 p1@2 p2@3 p3@4 exists,
 *    we give 4).
 *  - Default mode and strict_once agree with ClickHouse's documented and
 *    implemented results.
 *  Modes are exclusive here (ClickHouse lets options combine).
 *
 * Exclusions. pd_funnel_spec_add_exclusion(pred, i, j) says: an event that
 * satisfies pred strictly after the attempt's step-i match and strictly
 * before its step-j match (or, when step j is never reached, while the
 * attempt is alive: until the deadline, or until the mode ends the attempt,
 * that instant included) DISQUALIFIES THE ATTEMPT: it counts for nothing.
 * The user is then counted with their best attempt that is not
 * disqualified; a user whose every attempt is disqualified is left out of
 * the funnel entirely (not even counted at step 1) and is counted in the
 * `excluded` column instead. In unordered mode i and j are ranks (the i-th
 * and j-th distinct step reached).
 *
 * Time to convert. For each user (and group) one attempt is reported: the
 * earliest-starting non-disqualified attempt that reaches the user's level.
 * Its step k time is its step-k match; "time from previous" of step k is
 * t_k - t_{k-1} in ms. Mean, median and p90 are exact over all users who
 * reached step k: per-user times are kept and merged, quantiles are
 * linearly interpolated between order statistics (numpy's default,
 * DuckDB's quantile_cont).
 *
 * Breakdowns. User-level keys put each user in one group: acquisition
 * touchpoint (touchpoint of the user's first `acquire` event, in time
 * order), its domain, acquisition cohort (day/week/month of that first
 * acquire in a time zone). Users without an acquire event form the group
 * "(none)". Attempt-level keys may put a user in several groups, each time
 * with their best attempt among those whose step-1 event falls in the
 * group: step-1 touchpoint, and step-1 entry period (the funnel TREND:
 * conversion per day/week/month of entry). Segment breakdown
 * (PD_FUNNEL_BY_TAG): one group per segment given with
 * pd_funnel_spec_add_segment(), named and ordered as given; a user is
 * counted, with the same best attempt, in every group whose set holds
 * them (so groups may add up to more than the whole), users in none of
 * the sets in no group; every segment has its rows, zeros included.
 *
 * Segment filter. pd_funnel_run() with scan->users (scan.h) is the funnel
 * of a store holding only those users: each user's result depends on
 * their own events only, so the rows are the sums over those users.
 *
 * Structure: a partial is accumulated per worker from pd_user_events,
 * partials of the same spec merge exactly, and finishing gives a pd_table.
 * pd_funnel_run() does all of it over a store with pd_scan().
 *
 * Cost: each attempt scans its own window, so a user with many step-1
 * events inside one window costs (starts x events in window).
 */
#ifndef PRIVDOMAIN_FUNNEL_H
#define PRIVDOMAIN_FUNNEL_H

#include "privdomain/scan.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PD_FUNNEL_MAX_STEPS 32
#define PD_FUNNEL_MAX_EXCLUSIONS 32
#define PD_FUNNEL_MAX_SEGMENTS 1024

/* Window units, in ms. A calendar month is counted as 31 days. */
#define PD_MS_SECOND INT64_C(1000)
#define PD_MS_MINUTE (60 * PD_MS_SECOND)
#define PD_MS_HOUR (60 * PD_MS_MINUTE)
#define PD_MS_DAY (24 * PD_MS_HOUR)
#define PD_MS_WEEK (7 * PD_MS_DAY)
#define PD_MS_MONTH (31 * PD_MS_DAY)

typedef enum pd_funnel_mode {
  PD_FUNNEL_DEFAULT = 0,
  PD_FUNNEL_STRICT_ORDER = 1,
  PD_FUNNEL_STRICT_DEDUPLICATION = 2,
  PD_FUNNEL_STRICT_INCREASE = 3,
  PD_FUNNEL_STRICT_ONCE = 4,
  PD_FUNNEL_UNORDERED = 5
} pd_funnel_mode;

typedef enum pd_funnel_by {
  PD_FUNNEL_BY_NONE = 0,
  PD_FUNNEL_BY_ACQ_TOUCHPOINT = 1, /* touchpoint of the first acquire */
  PD_FUNNEL_BY_ACQ_DOMAIN = 2,     /* domain of that touchpoint */
  PD_FUNNEL_BY_COHORT = 3,         /* period of the first acquire */
  PD_FUNNEL_BY_STEP1_TOUCHPOINT = 4,
  PD_FUNNEL_BY_ENTRY_PERIOD = 5,   /* trend: period of the step-1 event */
  PD_FUNNEL_BY_TAG = 6             /* segments / tags: pd_funnel_spec_add_segment() */
} pd_funnel_by;

/* A predicate on one event. Fields left at their _INIT values match
 * anything: event_type PD_NONE, touchpoint PD_NONE, domain -1,
 * min_amount INT64_MIN. domain is a pd_domain value. */
typedef struct pd_funnel_pred {
  size_t size; /* sizeof(pd_funnel_pred) */
  uint32_t event_type;
  uint32_t touchpoint;
  int domain;
  int64_t min_amount;
} pd_funnel_pred;
#define PD_FUNNEL_PRED_INIT {sizeof(pd_funnel_pred), PD_NONE, PD_NONE, -1, INT64_MIN}

typedef struct pd_funnel_spec pd_funnel_spec;

/* A new empty spec: default mode, window 1 day, no breakdown, UTC.
 * *out owned by the caller, free with pd_funnel_spec_free(). */
PD_API pd_status pd_funnel_spec_new(pd_funnel_spec **out);
/* Accepts NULL. */
PD_API void pd_funnel_spec_free(pd_funnel_spec *spec);

/* Appends a step. label (copied; may be NULL: "step N") names its row.
 * PD_ERR_RANGE beyond PD_FUNNEL_MAX_STEPS. */
PD_API pd_status pd_funnel_spec_add_step(pd_funnel_spec *spec, const pd_funnel_pred *pred, const char *label);
/* Adds an exclusion between steps from_step < to_step (1-based). */
PD_API pd_status pd_funnel_spec_add_exclusion(pd_funnel_spec *spec, const pd_funnel_pred *pred, unsigned from_step,
                                              unsigned to_step);
/* Window in ms, >= 0. */
PD_API pd_status pd_funnel_spec_set_window(pd_funnel_spec *spec, int64_t window_ms);
PD_API pd_status pd_funnel_spec_set_mode(pd_funnel_spec *spec, pd_funnel_mode mode);
/* Breakdown. period and tz (IANA name, NULL = UTC; copied) are used by
 * PD_FUNNEL_BY_COHORT and PD_FUNNEL_BY_ENTRY_PERIOD. */
PD_API pd_status pd_funnel_spec_set_breakdown(pd_funnel_spec *spec, pd_funnel_by by, pd_period period,
                                              const char *tz);
/* Adds a group of the PD_FUNNEL_BY_TAG breakdown: `name` (copied; the
 * group label, at most PD_SEGMENT_NAME_MAX bytes shown) and its users
 * (copied: e.g. from pd_userset_from_tag() or pd_segment_eval()).
 * PD_ERR_RANGE beyond PD_FUNNEL_MAX_SEGMENTS. A partial made with
 * PD_FUNNEL_BY_TAG and no segment is PD_ERR_INVALID. */
PD_API pd_status pd_funnel_spec_add_segment(pd_funnel_spec *spec, const char *name, const pd_userset *users);
/* Touchpoint domains for runs without a store (hand-built event runs):
 * domains[t] is the pd_domain of touchpoint t (copied). pd_funnel_run()
 * takes them from the store instead. */
PD_API pd_status pd_funnel_spec_set_domains(pd_funnel_spec *spec, const uint8_t *domains, size_t n);
PD_API size_t pd_funnel_spec_n_steps(const pd_funnel_spec *spec);

/* "30s", "15m", "2h", "7d", "2w", "1mo" (31 days), "500ms", or a bare
 * number of ms. PD_ERR_PARSE on anything else. */
PD_API pd_status pd_funnel_parse_window(const char *text, int64_t *out_ms);
/* "default", "strict_order", "strict_deduplication", "strict_increase",
 * "strict_once", "unordered". PD_ERR_INVALID for other names. */
PD_API pd_status pd_funnel_parse_mode(const char *text, pd_funnel_mode *out);
/* Static name of a mode, or NULL. */
PD_API const char *pd_funnel_mode_name(pd_funnel_mode mode);

/* Per-worker accumulator. The spec is borrowed and must outlive it and
 * not change. *out owned by the caller, free with pd_funnel_partial_free(). */
typedef struct pd_funnel_partial pd_funnel_partial;
PD_API pd_status pd_funnel_partial_new(const pd_funnel_spec *spec, pd_funnel_partial **out);
PD_API void pd_funnel_partial_free(pd_funnel_partial *p);
/* Adds one user's whole history (borrowed for the call only). */
PD_API pd_status pd_funnel_partial_add(pd_funnel_partial *p, const pd_user_events *events);
/* Adds everything in `from` (same spec, disjoint users) to `into`. */
PD_API pd_status pd_funnel_partial_merge(pd_funnel_partial *into, const pd_funnel_partial *from);

/* The funnel table: [group (string), when a breakdown is set], step (int64,
 * 1-based), step_name, users (users reaching the step), conv_prev
 * (users / users of the previous step; null at step 1 or 0/0), conv_first
 * (users / users at step 1), dropoff (previous users - users; null at
 * step 1), dropoff_rate (dropoff / previous users), time_mean_ms,
 * time_median_ms, time_p90_ms (time from the previous step over the users
 * reaching this step; null at step 1 and when nobody reached it), excluded
 * (users of the group left out because every attempt was disqualified).
 * Groups sort by key: touchpoint id, domain value, period, "(none)" last.
 * store may be NULL (touchpoint groups are then named "#<id>").
 * *out owned by the caller, free with pd_table_free(). */
PD_API pd_status pd_funnel_partial_finish(const pd_funnel_partial *p, pd_store *store, pd_table **out);

/* Runs the funnel over the store with pd_scan() (opts may be NULL).
 * *out owned by the caller, free with pd_table_free(). */
PD_API pd_status pd_funnel_run(pd_store *store, const pd_funnel_spec *spec, const pd_scan_options *opts,
                               pd_table **out);

#ifdef __cplusplus
}
#endif
#endif
