/* Touchpoint scorecards and public -> private migration.
 *
 * One store scan answers, per touchpoint (or per domain, or per carrier
 * kind), for the users it acquired in a period: what they cost, whether
 * they activate and stay, whether we can reach them, what they are worth,
 * whether they bring others, and whether they move into the private domain.
 * docs/TOUCHPOINTS.md works every metric through on an example.
 *
 * ---- Definitions --------------------------------------------------------
 * PERIOD [from_ms, to_ms) in UTC ms; DAYS = the local calendar days (in
 *   `tz`) it touches: day(to - 1) - day(from) + 1. An open bound
 *   (INT64_MIN / INT64_MAX) stands for the store's first event / the
 *   observation end as_of.
 * AS_OF: the observation end (ms UTC, inclusive); events after it are
 *   ignored. INT64_MIN (default) = the latest event time in the store.
 * ACQUISITION of a user: the user's first acquire event (time order, then
 *   insertion order) at or before as_of. Its touchpoint is the user's
 *   acquisition touchpoint. A user is ACQUIRED by group g in the period when
 *   that acquire event lies in the period and its touchpoint belongs to g
 *   (an acquire without a touchpoint: the group "(none)"). Users without an
 *   acquire event are acquired by no group: they count only in message
 *   reach and as referees. A = the users acquired by g; t_u = user u's acquisition time.
 *   "After acquisition" means events with time >= t_u, up to as_of.
 * ACTIVITY: an event of any type except message_send (an outbound send is
 *   the business's action, not the user's).
 *
 *   acquired        |A|
 *   spend           sum over g's touchpoints of daily_spend x DAYS (minor
 *                   units); touchpoints of unknown spend (-1) add nothing;
 *                   null when every touchpoint of g has unknown spend. Not
 *                   apportioned by the `users` filter.
 *   cac             spend / acquired; null when spend is null or 0 or
 *                   acquired is 0 (never infinite or NaN)
 *   activated       users of A with an activate event after acquisition;
 *   activation_rate = activated / acquired (null when acquired = 0)
 *   retention_N     (N = 7, 30) on-or-after day-N retention:
 *                   eligible_N = users of A with t_u + N x 24 h <= as_of,
 *                   retained_N = users of A with an activity event at time
 *                   >= t_u + N x 24 h; retention_N = retained_N / eligible_N
 *                   (null when nobody is eligible)
 *   sends, opens    message_send / message_open events at g's touchpoints
 *                   with time in the period, by every scanned user (not only
 *                   A); messaged = users with at least one such send;
 *   open_rate       opens / sends (null when sends = 0; may exceed 1 when
 *                   opens are logged without their sends)
 *   user_open_rate  mean over messaged users of min(1, their opens / their
 *                   sends) at g in the period (null when nobody was messaged)
 *   opens_per_user  opens / messaged (null when nobody was messaged)
 *   buyers          users of A with a purchase after acquisition
 *   revenue         net revenue of A after acquisition: purchase amounts
 *                   minus absolute refund amounts, any touchpoint (minor units)
 *   ltv             historical LTV per acquired user = revenue / acquired
 *   clv             predicted CLV per acquired user: with opts.clv (a
 *                   continuous-time count model) and opts.gg (Gamma-Gamma)
 *                   both set, the users of A who have a purchase get the
 *                   CLV of pd_clv_score_table() on the pd_rfm_from_store()
 *                   summary (days, in tz, calibration end as_of) over
 *                   opts.clv_months months at opts.clv_monthly_discount;
 *                   users without a purchase count 0; the sum / acquired.
 *                   Null without a model or when acquired = 0.
 *   ltv_cac         ltv / cac; clv_cac = clv / cac (null when either is)
 *   invites         invite events of A after acquisition
 *   referred        users (scanned) whose winning referrer is in A, with the
 *                   attribution rule of referral.h: the first referral_signup
 *                   or acquire event with a referrer wins; a self-referral is
 *                   none. (referral.h's cycle breaking is not applied.)
 *   invites_per_user i = invites / acquired; invite_conversion c =
 *                   referred / invites (null when invites = 0); k = i x c =
 *                   referred / acquired (null when acquired = 0)
 *   conversions     purchases of A after acquisition; private_conversions
 *                   those at a touchpoint of domain private;
 *   private_share   private_conversions / conversions (null when 0)
 *   touch_events    activity events of A after acquisition that carry a
 *                   touchpoint; personal_events those at a touchpoint whose
 *                   carrier is a person or a group: personal_account, group
 *                   or wecom
 *
 * Accessibility / endurance summary, each in [0, 1], null when its input is:
 *   accessibility   min(1, open_rate): can we reach users for free?
 *   connection      personal_events / touch_events: do users connect
 *                   through a person or a group rather than a brand?
 *   endurance       retention_30: do they stay?
 *   score           mean of the components that are not null
 *   label           "strong" (score >= 0.6), "moderate" (>= 0.3), "weak";
 *                   null with the score
 *   weakest         name of the lowest component (first in the order above
 *                   on ties), the one to work on
 *
 * ---- Migration (pd_touchpoint_migration) ---------------------------------
 * Per source touchpoint S of domain public (direction "public_to_private")
 * and then of domain private ("private_to_public"), in touchpoint id order,
 * for the users A acquired at S in the period: a user MOVED when it has an
 * event of any type at a touchpoint of the other domain (private for a
 * public source, public for a private one) after acquisition; the move
 * time is the first such event's time - t_u. Columns:
 *   direction, touchpoint, carrier, acquired, moved, moved_share
 *   (moved / acquired), hours_median and hours_p90 (exact nearest-rank
 *   quantiles of the move times in hours: the value at rank ceil(q x n) of
 *   the n sorted move times; null when nobody moved), then for the moved
 *   and the stayed (never moved) users: retention_7, retention_30 (as
 *   above), revenue_per_user (revenue / users) and clv_per_user (as clv
 *   above; null without a model): moved_retention_7, stayed_retention_7,
 *   moved_retention_30, stayed_retention_30, moved_revenue_per_user,
 *   stayed_revenue_per_user, moved_clv_per_user, stayed_clv_per_user.
 * Note that moving needs a later event, so moved users are retained more
 * often by construction: compare revenue and CLV too.
 */
#ifndef PRIVDOMAIN_TOUCHPOINTS_H
#define PRIVDOMAIN_TOUCHPOINTS_H

#include "privdomain/clv.h"
#include "privdomain/model.h"
#include "privdomain/store.h"
#include "privdomain/table.h"
#include "privdomain/tags.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Rows of the scorecard. */
typedef enum pd_touchpoint_by {
  PD_TOUCHPOINT_BY_TOUCHPOINT = 0, /* one row per touchpoint */
  PD_TOUCHPOINT_BY_DOMAIN = 1,     /* per domain: unknown, public, private, semi */
  PD_TOUCHPOINT_BY_CARRIER = 2     /* per carrier kind (pd_carrier) */
} pd_touchpoint_by;

/* Initialise with PD_TOUCHPOINT_OPTIONS_INIT. Pointers are borrowed for the call. */
typedef struct pd_touchpoint_options {
  size_t size;              /* sizeof(pd_touchpoint_options) */
  int64_t from_ms;          /* period [from_ms, to_ms), ms UTC; INT64_MIN: open */
  int64_t to_ms;            /* INT64_MAX: open */
  const char *tz;           /* IANA zone for the period's local days; NULL = UTC */
  pd_touchpoint_by by;      /* rows (default per touchpoint) */
  int64_t as_of_ms;         /* observation end, inclusive; INT64_MIN: latest event */
  const pd_userset *users;  /* only these users (a segment); NULL = all */
  const pd_clv_model *clv;  /* continuous-time count model (BG/NBD, MBG/NBD, Pareto/NBD) */
  const pd_clv_model *gg;   /* Gamma-Gamma; CLV needs both, else clv is null */
  double clv_months;        /* CLV horizon in months (default 12) */
  double clv_monthly_discount; /* default 0.01 */
  unsigned threads;         /* scan workers, 0 = one per core */
} pd_touchpoint_options;
#define PD_TOUCHPOINT_OPTIONS_INIT                                                                     \
  {sizeof(pd_touchpoint_options), INT64_MIN, INT64_MAX, NULL, PD_TOUCHPOINT_BY_TOUCHPOINT, INT64_MIN, \
   NULL, NULL, NULL, 12.0, 0.01, 0}

/* The scorecard, table "touchpoint_scorecard". opts may be NULL.
 * Columns: touchpoint | domain | carrier (the row's group: by touchpoint its
 * name, then its domain and carrier; by domain the domain name; by carrier
 * the carrier name; "(none)" for acquire events without a touchpoint),
 * touchpoints (touchpoints in the group), acquired, days, spend, cac,
 * activated, activation_rate, eligible_7, retained_7, retention_7,
 * eligible_30, retained_30, retention_30, messaged, sends, opens,
 * open_rate, user_open_rate, opens_per_user, buyers, revenue, ltv, clv,
 * ltv_cac, clv_cac, invites, referred, invites_per_user,
 * invite_conversion, k, conversions, private_conversions, private_share,
 * touch_events, personal_events, accessibility, connection, endurance,
 * score, label, weakest. Money columns (spend, revenue) are int64 minor
 * units; cac, ltv, clv are double minor units.
 * Rows: every touchpoint of the store by id (by touchpoint), every domain
 * (4 rows) or every carrier kind (PD_CARRIER_COUNT rows), each even when
 * empty; then "(none)" when some acquired user's acquire has no touchpoint.
 * *out owned by the caller, free with pd_table_free(). PD_ERR_INVALID for
 * bad options (from >= to, unknown zone, a model of the wrong kind);
 * PD_ERR_RANGE when a spend does not fit in int64. */
PD_API pd_status pd_touchpoint_scorecard(pd_store *store, const pd_touchpoint_options *opts, pd_table **out);

/* Public -> private migration and the reverse flow, table
 * "touchpoint_migration" (columns above). opts.by is ignored (rows are
 * source touchpoints). *out owned by the caller, free with pd_table_free(). */
PD_API pd_status pd_touchpoint_migration(pd_store *store, const pd_touchpoint_options *opts, pd_table **out);

/* "touchpoint", "domain", "carrier"; static, NULL when out of range. */
PD_API const char *pd_touchpoint_by_name(pd_touchpoint_by by);
/* Parses those names; PD_ERR_INVALID for another. */
PD_API pd_status pd_touchpoint_by_from_name(const char *name, pd_touchpoint_by *out);

#ifdef __cplusplus
}
#endif
#endif
