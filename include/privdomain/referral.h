/* Referral ("fission") analytics: the referral forest, K-factor, viral
 * cycle time, referral depth, top referrers, acquisition cost saved.
 *
 * Model (see docs/REFERRAL.md for the worked formulas):
 *  - Attribution: a referral_signup event with a referrer, or (unless
 *    turned off) an acquire event with a referrer. A user's first
 *    attribution in time order wins; later attributions naming a
 *    *different* referrer are counted as conflicts (repeats of the same
 *    referrer, e.g. acquire + referral_signup together, are not).
 *  - Acquisition of a user: the first acquire or referral_signup event
 *    (else the first event): its time and touchpoint.
 *  - invite events count invitations sent; revenue = purchase amounts
 *    minus refund amounts (minor units); a purchaser has >= 1 purchase.
 *  - The forest: each user's parent is the winning referrer; roots are
 *    users without one; depth(root) = 0. Bad input is detected, reported
 *    (counts in SUMMARY, examples in ISSUES) and broken deterministically:
 *    a self-referral makes the user a root; in a cycle the member with
 *    the earliest acquisition (ties: smallest user id) loses its referral
 *    edge and becomes a root. A referee whose attribution is earlier than
 *    its referrer's first event, and a referrer without events, are
 *    reported but the edge is kept (the referrer without events is a
 *    root node of its own). All walks are iterative and O(users).
 *  - Breakdowns (opts.by): a user's group is the period, touchpoint or
 *    domain of an acquisition: in GROUPS the referrer's own acquisition
 *    (referees are counted with their referrer); in DEPTH and COST the
 *    acquisition of the user's root (the campaign that seeded the tree).
 *
 * Metrics:
 *    i = invites / users, c = referred / invites, K = i * c = referred / users
 *    K_d = users at depth d+1 / users at depth d
 *    cycle time = referee's attribution time - referrer's acquisition time
 *    structural virality of a tree of n >= 2 nodes = mean distance over all
 *      n(n-1)/2 pairs = (sum over edges of s * (n - s)) / (n(n-1)/2),
 *      s = nodes below the edge
 *    CAC paid = spend / paid users, CAC with referral = spend / (paid +
 *      referred users); spend = sum over touchpoints of daily_spend * days
 *    projection after n cycles from seed S: users_n = S * sum_{j=0..n} K^j
 *      = S (1 - K^(n+1)) / (1 - K) (K != 1), S (n + 1) (K = 1); as n grows
 *      this tends to S / (1 - K) for K < 1 (amplification 1 / (1 - K)).
 *
 * Segment filter (opts.users = S). The forest is always built from ALL
 * users, so every depth, root, descendant count and edge is the real one;
 * S only chooses whose metrics are reported, S's members acting as the
 * population and as referrers:
 *  - SUMMARY: users = members of S with a node; roots = members without a
 *    referrer; referred = direct referees OF members of S (whoever the
 *    referees are), so K = referred / users is S's own virality; invites,
 *    purchasers, revenue, beyond_cap_* of S's members; referred_revenue =
 *    revenue of S's members that have a referrer; cycle times of the
 *    edges whose referrer is in S; max_depth = the deepest member;
 *    cost_* as COST below. Issue counts describe the whole forest.
 *  - GROUPS, DEPTH, COST, CYCLE_TIME: the same restriction per group
 *    (DEPTH counts members at their real depth, grouped by their root's
 *    acquisition; COST counts members as paid or referred users, against
 *    the touchpoints' whole spend; the default cost window still spans
 *    every user's acquisitions).
 *  - TOP, BEYOND_CAP, FOREST: rows of members only (with whole-forest
 *    descendants). TREES, LARGEST_TREE: trees whose root is a member
 *    (whole trees). PROJECTION: seeded by the members that are roots, at
 *    S's K. ISSUES: the whole forest. pd_referral_user(): any node.
 * Without a filter S is every user and all of the above is unchanged
 * (the direct referees of all users are exactly the referred users).
 *
 * Use pd_referral_run() on a store, or feed pd_user_events by hand (or
 * from shards) through a pd_referral_builder and merge builders.
 */
#ifndef PRIVDOMAIN_REFERRAL_H
#define PRIVDOMAIN_REFERRAL_H

#include "privdomain/model.h"
#include "privdomain/scan.h"
#include "privdomain/store.h"
#include "privdomain/table.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Breakdown dimension of the GROUPS, DEPTH and COST tables. */
typedef enum pd_referral_by {
  PD_REFERRAL_BY_NONE = 0,       /* one group, "all" */
  PD_REFERRAL_BY_PERIOD = 1,     /* acquisition period (opts.period in opts.tz) */
  PD_REFERRAL_BY_TOUCHPOINT = 2, /* acquisition touchpoint */
  PD_REFERRAL_BY_DOMAIN = 3      /* domain of the acquisition touchpoint */
} pd_referral_by;

typedef struct pd_referral_options {
  size_t size;                /* sizeof(pd_referral_options) */
  unsigned threads;           /* pd_scan workers; 0 = one per core */
  int max_depth;              /* compliance cap: users deeper are listed (default 2) */
  pd_referral_by by;          /* breakdown (default none) */
  pd_period period;           /* for PD_REFERRAL_BY_PERIOD and cost days (default month) */
  const char *tz;             /* IANA zone for periods and days; NULL = UTC */
  int acquire_attributes;     /* nonzero: acquire events with a referrer attribute too (default 1) */
  int64_t cost_begin;         /* acquisition-cost window [begin, end) in ms UTC; both 0: */
  int64_t cost_end;           /*   the local days from the first to the last acquisition */
  unsigned projection_cycles; /* rows of PROJECTION after cycle 0 (default 10) */
  double projection_seed;     /* seed size S; 0 = the number of roots */
  size_t top_n;               /* rows of TOP and TREES (default 20) */
  size_t max_examples;        /* ISSUES rows per kind (default 20) */
  size_t tree_nodes;          /* most rows of LARGEST_TREE (default 400) */
  const pd_userset *users;    /* pd_referral_run only: the users the metrics describe (a
                                 segment, see "Segment filter" above); NULL = all. Borrowed
                                 for the call. Builders ignore it. */
} pd_referral_options;
#define PD_REFERRAL_OPTIONS_INIT \
  {sizeof(pd_referral_options), 0, 2, PD_REFERRAL_BY_NONE, PD_PERIOD_MONTH, NULL, 1, 0, 0, 10, 0.0, 20, 20, 400, NULL}

/* The result tables. Money columns are int64 minor units (CACs: double). */
typedef enum pd_referral_view {
  /* metric (string), value (double): users, roots, referred, invites, i, c,
   * k, amplification, cycle_time_median_h, cycle_time_mean_h,
   * cycle_time_n, cycle_time_negative, max_depth, cap, beyond_cap_users,
   * beyond_cap_revenue, revenue, referred_revenue, self_referrals,
   * cycles, cycle_members, conflicts, signup_before_referrer,
   * referrers_without_events, cost_spend, cost_paid_users,
   * cost_referred_users, cac_paid, cac_with_referral */
  PD_REFERRAL_SUMMARY = 0,
  /* group, users, roots, invites, referred (direct referees of the group's
   * users), i, c, k, cycle_time_median_h, cycle_time_mean_h */
  PD_REFERRAL_GROUPS = 1,
  /* group, depth, users, purchasers, revenue, k_d, beyond_cap (0/1);
   * depth 0..deepest of each group; k_d null on the deepest level */
  PD_REFERRAL_DEPTH = 2,
  /* bucket, from_h, to_h (null: open), referees, share: cycle times */
  PD_REFERRAL_CYCLE_TIME = 3,
  /* user, name, depth, direct_referees, descendants, descendants_revenue,
   * root: top_n users by descendants (then direct referees, then id) */
  PD_REFERRAL_TOP = 4,
  /* root, name, users, max_depth, purchasers, revenue,
   * structural_virality (null for a single node): top_n trees by size */
  PD_REFERRAL_TREES = 5,
  /* user, name, depth, referrer, root, revenue: every user deeper than
   * max_depth, by user id, for compliance review */
  PD_REFERRAL_BEYOND_CAP = 6,
  /* group, days, spend, paid_users, referred_users, cac_paid,
   * cac_with_referral, saving (1 - with / paid) over the cost window */
  PD_REFERRAL_COST = 7,
  /* cycle, new_users, total_users (doubles) */
  PD_REFERRAL_PROJECTION = 8,
  /* kind (self_referral, cycle, conflict, signup_before_referrer,
   * referrer_without_events), user, name, referrer, time, detail */
  PD_REFERRAL_ISSUES = 9,
  /* user, name, referrer (null for roots, after breaking), depth, root,
   * direct_referees, descendants, revenue, purchaser: every node */
  PD_REFERRAL_FOREST = 10,
  /* node, parent (null for the root), label, depth: the largest tree,
   * breadth first, at most opts.tree_nodes rows (for PD_CHART_TREE) */
  PD_REFERRAL_LARGEST_TREE = 11
} pd_referral_view;
#define PD_REFERRAL_VIEW_COUNT 12

typedef struct pd_referral pd_referral;
typedef struct pd_referral_builder pd_referral_builder;

/* One user's place in the forest. */
typedef struct pd_referral_user_info {
  size_t size;             /* sizeof(pd_referral_user_info), set by the caller */
  uint32_t referrer;       /* parent after breaking, PD_NONE for roots */
  uint32_t attributed;     /* the winning referrer before breaking, or PD_NONE */
  uint32_t root;
  uint32_t depth;
  uint32_t direct_referees;
  uint32_t descendants;
  int64_t revenue;
  int64_t descendants_revenue;
  int64_t acquired;        /* acquisition time (ms UTC), INT64_MIN without events */
  uint32_t touchpoint;     /* acquisition touchpoint or PD_NONE */
  uint32_t invites;
  int purchaser;
  int has_events;
} pd_referral_user_info;

/* Scans the store (pd_scan) and builds the forest and metrics. opts may be
 * NULL. *out owned by the caller, free with pd_referral_free().
 * The result borrows `store` (user names for the tables are read from it
 * when a table is made): free it with pd_referral_free() before
 * pd_store_close(). Tables from pd_referral_table() copy what they show
 * and may outlive both. */
PD_API pd_status pd_referral_run(pd_store *store, const pd_referral_options *opts, pd_referral **out);
/* Releases a result. Accepts NULL. */
PD_API void pd_referral_free(pd_referral *r);

/* A result table. *out owned by the caller, free with pd_table_free(); it
 * holds copies (no pointer into r or the store). For a result of
 * pd_referral_run() the store must still be open when this is called. */
PD_API pd_status pd_referral_table(const pd_referral *r, pd_referral_view view, pd_table **out);
/* Short name of a view ("summary", "groups", "depth", "cycle_time", "top",
 * "trees", "beyond_cap", "cost", "projection", "issues", "forest",
 * "largest_tree"), static; NULL when out of range. */
PD_API const char *pd_referral_view_name(pd_referral_view view);
/* The view of a name, or -1. */
PD_API int pd_referral_view_from_name(const char *name);
/* A number of SUMMARY by metric name; PD_ERR_NOT_FOUND for an unknown
 * name. A null value (e.g. c without invites) reads as NaN. */
PD_API pd_status pd_referral_metric(const pd_referral *r, const char *metric, double *out);
/* Users with a node (ids 0..n-1; ids without events or referees have none). */
PD_API uint32_t pd_referral_n_nodes(const pd_referral *r);
/* Fills *out for `user`; PD_ERR_NOT_FOUND when the user has no node. */
PD_API pd_status pd_referral_user(const pd_referral *r, uint32_t user, pd_referral_user_info *out);

/* Hand-fed use: add each user's whole history once (user ids must not
 * repeat across builders that are merged). opts may be NULL; it is copied
 * (tz string included). *out owned by the caller, free with
 * pd_referral_builder_free(). */
PD_API pd_status pd_referral_builder_new(const pd_referral_options *opts, pd_referral_builder **out);
PD_API void pd_referral_builder_free(pd_referral_builder *b);
/* Adds one user's events (time-ordered, as pd_scan delivers them). */
PD_API pd_status pd_referral_builder_add(pd_referral_builder *b, const pd_user_events *events);
/* Moves everything of `from` into `into`; `from` is left empty. */
PD_API pd_status pd_referral_builder_merge(pd_referral_builder *into, pd_referral_builder *from);
/* Builds the result. touchpoints[i] describes touchpoint id i (names,
 * domains, daily spend); may be NULL with n_touchpoints 0; they are copied
 * (names too). The builder is left empty. *out owned by the caller, free
 * with pd_referral_free(); it borrows nothing (tables name users by id). */
PD_API pd_status pd_referral_builder_finish(pd_referral_builder *b, const pd_touchpoint_def *touchpoints,
                                            size_t n_touchpoints, pd_referral **out);

#ifdef __cplusplus
}
#endif
#endif
