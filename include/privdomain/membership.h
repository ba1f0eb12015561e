/* Membership and stored value: do members (and stored-value customers)
 * buy more often and spend more, and did joining change their behaviour?
 *
 * Population: every user with at least one event at or before the
 * observation end `end` (PD_MEMBERSHIP_NO_TIME = the latest event in the
 * store). A member is a user with a member_type event (default
 * PD_EV_MEMBER_JOIN) at or before `end`; a stored-value user one with a
 * stored_value_type event (default PD_EV_STORED_VALUE). Purchases are
 * PD_EV_PURCHASE events (each event is one purchase); revenue is net:
 * purchase amounts minus the absolute amounts of PD_EV_REFUND events, in
 * minor units. Stored-value top-ups are prepaid balance, not revenue.
 * A user's observed time runs from their first event (of any type) to
 * `end`, in days of 86,400,000 ms. Users merged into another count as the
 * surviving user.
 *
 * groups "membership_groups", four rows: members, non-members, stored-value
 * users, others (users without a stored-value event). Columns:
 *   comparison ("membership" | "stored_value"), group, users,
 *   buyers (users with >= 1 purchase), buyer_rate (buyers / users),
 *   repurchasers (users with >= 2 purchases), repurchase_rate
 *   (repurchasers / buyers), purchases, purchases_per_buyer,
 *   purchases_per_30d (30 x purchases / the group's total observed days:
 *   purchase frequency normalised by how long the users were observed),
 *   revenue (int64), revenue_per_user (historical LTV per user),
 *   revenue_per_buyer. A ratio whose denominator is 0 is null.
 *
 * before_after "membership_before_after", four rows: (members, before),
 * (members, after), (stored-value users, before), (stored-value users,
 * after). For each user of the group, J = the time of their first joining
 * event (member_type, resp. stored_value_type) and S = their first event;
 * "before" is [S, J) and "after" is [J, end] (a purchase at J counts
 * after); observed days before = (J - S) / 1 day, after = (end - J) /
 * 1 day. Only users observed at least min_days (and more than 0) on both
 * sides enter (users who joined with their first event have no "before").
 * Columns: group, period ("before" | "after"), users (entered),
 *   excluded (group users left out for too short a side), observed_days
 *   (sum), purchases, revenue, buyers (entered users with >= 1 purchase in
 *   the period), buyer_rate, purchases_per_30d and revenue_per_30d
 *   (pooled: 30 x total / total observed days), mean_user_purchases_per_30d
 *   and mean_user_revenue_per_30d (the mean over the entered users of
 *   30 x their own total / their own observed days). Null when undefined.
 */
#ifndef PRIVDOMAIN_MEMBERSHIP_H
#define PRIVDOMAIN_MEMBERSHIP_H

#include "privdomain/common.h"
#include "privdomain/model.h"
#include "privdomain/store.h"
#include "privdomain/table.h"
#include "privdomain/tags.h"

#ifdef __cplusplus
extern "C" {
#endif

/* No observation end given: the latest event in the store. */
#define PD_MEMBERSHIP_NO_TIME INT64_MIN

typedef struct pd_membership_options {
  size_t size;                /* sizeof(pd_membership_options): use PD_MEMBERSHIP_OPTIONS_INIT */
  int64_t end;                /* observation end, ms UTC, inclusive; PD_MEMBERSHIP_NO_TIME = latest event */
  uint32_t member_type;       /* event type of joining the membership; default PD_EV_MEMBER_JOIN */
  uint32_t stored_value_type; /* event type of a stored-value top-up; default PD_EV_STORED_VALUE */
  double min_days;            /* before/after: least observed days on each side; default 7 */
  unsigned threads;           /* scan workers; 0 = one per core */
  const pd_userset *users;    /* only these users (a segment, see segments.h); NULL = all.
                                 Borrowed for the call. The comparison is then that of a store
                                 holding only these users, observed as long as the whole store
                                 (the default end stays the store's latest event). */
} pd_membership_options;
#define PD_MEMBERSHIP_OPTIONS_INIT \
  {sizeof(pd_membership_options), PD_MEMBERSHIP_NO_TIME, PD_EV_MEMBER_JOIN, PD_EV_STORED_VALUE, 7.0, 0, NULL}

/* Members vs non-members and stored-value users vs others, and each
 * group before vs after joining, from one pd_scan(). opts may be NULL.
 * groups and before_after may each be NULL (not wanted); each table
 * returned is owned by the caller, free with pd_table_free(). */
PD_API pd_status pd_membership_compare(pd_store *store, const pd_membership_options *opts, pd_table **groups,
                                       pd_table **before_after);

#ifdef __cplusplus
}
#endif
#endif
