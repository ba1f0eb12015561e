/* The growth-loop stage report: AARRR or RARRA for one period.
 *
 * The period is [from, to) in UTC ms, usually made from a calendar period
 * in a time zone by pd_stage_period_parse(); the PREVIOUS period is
 * [prev_from, from). Every user is read once (pd_scan) and contributes to
 * per-worker counts that are merged, so the report is exact.
 *
 * Terms used in the definitions:
 *  - acquisition of a user: their first `acquire` event, or their first
 *    event of any type when they have no acquire; its time and touchpoint
 *    are the user's acquisition time and touchpoint.
 *  - new user: acquisition time in [from, to).
 *  - active user (in a period): at least one event of any type in it.
 *  - revenue: the sum of `purchase` amounts in the period (gross, minor
 *    units); `refund` amounts are reported separately and not subtracted.
 *
 * Metrics by stage (the first of each stage is its headline figure):
 *  Acquisition
 *    new_users            number of new users.
 *    new_users_touchpoint new users by acquisition touchpoint (one row per
 *                         touchpoint, breakdown = its name; value = count,
 *                         numerator = count, denominator = new users).
 *    domain_share         share of new users acquired in each domain
 *                         (private, public, semi, unknown: touchpoint without
 *                         a domain or no touchpoint); value = share.
 *  Activation
 *    activation_rate      share of new users with an `activate` event at or
 *                         after their acquisition and at most N days later
 *                         (N = activation_days, default 7; inclusive).
 *  Retention
 *    returning_rate       share of the period's active users who were also
 *                         active in the previous period.
 *    new_user_retention   day-N retention of new users: share of new users
 *                         with an event in [acq + N days, acq + N+1 days)
 *                         (N = retention_days, default 7).
 *  Revenue
 *    revenue              revenue of the period.
 *    paying_users         users with at least one purchase in the period.
 *    arpu                 revenue / active users.
 *    arppu                revenue / paying users.
 *    repeat_purchase_rate paying users with two or more purchases in the
 *                         period / paying users.
 *    earlier_cohort_revenue_share  share of revenue from users acquired
 *                         before `from`.
 *    refunds              sum of `refund` amounts in the period.
 *  Referral
 *    k_factor             K = i x c with i = invites per active user and
 *                         c = invite conversion, i.e. referred new users per
 *                         active user.
 *    inviter_share        share of active users who sent an `invite`.
 *    invites_per_inviter  invite events / inviters.
 *    invite_conversion    referred new users (new users whose acquisition
 *                         event names a referrer) / invite events.
 * A ratio with a zero denominator is null.
 *
 * Order: AARRR (acquisition, activation, retention, revenue, referral) or
 * RARRA (retention, activation, referral, revenue, acquisition). The order
 * changes the order of the rows only, never a definition.
 */
#ifndef PRIVDOMAIN_STAGES_H
#define PRIVDOMAIN_STAGES_H

#include "privdomain/scan.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum pd_stage_order {
  PD_STAGES_AARRR = 0,
  PD_STAGES_RARRA = 1
} pd_stage_order;

typedef struct pd_stage_options {
  size_t size;         /* sizeof(pd_stage_options) */
  int64_t from_ms;     /* period start, UTC ms, inclusive */
  int64_t to_ms;       /* period end, UTC ms, exclusive */
  int64_t prev_from_ms;/* previous period start; INT64_MIN: from - (to - from) */
  pd_stage_order order;
  int activation_days; /* N of activation_rate; 0: 7 */
  int retention_days;  /* N of new_user_retention; 0: 7 */
  unsigned threads;    /* scan threads; 0: one per core */
  const pd_userset *users; /* only these users (a segment, see segments.h); NULL: all.
                              Borrowed for the call. The report is then the report of a
                              store holding only these users: every count, new users and
                              active users included, is over them. */
} pd_stage_options;
#define PD_STAGE_OPTIONS_INIT {sizeof(pd_stage_options), 0, 0, INT64_MIN, PD_STAGES_AARRR, 0, 0, 0, NULL}

/* Parses a period in the time zone tz (IANA, NULL = UTC): "2024" (a year),
 * "2024-03" (a month), "2024-W10" (an ISO week), "2024-03-05" (a day), or
 * "2024-03-01..2024-03-15" (days, both inclusive). Sets from/to (UTC ms,
 * [from, to)) and prev_from: the start of the previous calendar unit of
 * the same kind (the previous month for a month...), or for a day range
 * the same number of days before. PD_ERR_PARSE on bad text. */
PD_API pd_status pd_stage_period_parse(const char *text, const char *tz, int64_t *from_ms, int64_t *to_ms,
                                       int64_t *prev_from_ms);

/* "aarrr" / "rarra" (any case). PD_ERR_INVALID otherwise. */
PD_API pd_status pd_stage_order_parse(const char *text, pd_stage_order *out);

/* The report: columns stage (string), metric (string), breakdown (string,
 * "" for the stage-level figure), value (double), numerator (int64),
 * denominator (int64; null where the value is not a ratio). Rows by stage
 * in the chosen order, each stage's headline first.
 * *out owned by the caller, free with pd_table_free(). */
PD_API pd_status pd_stage_report(pd_store *store, const pd_stage_options *opts, pd_table **out);

#ifdef __cplusplus
}
#endif
#endif
