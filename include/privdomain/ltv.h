/* Historical customer value by cohort and acquisition touchpoint, LTV:CAC,
 * and dormant ("zombie") contacts by touchpoint.
 *
 * A user's acquisition is their first PD_EV_ACQUIRE event (else their first
 * event of any type); the acquisition touchpoint is that acquire event's
 * touchpoint, else the touchpoint of the user's first event that has one.
 * Revenue is net: purchase amounts minus the absolute amounts of refunds,
 * in minor units.
 */
#ifndef PRIVDOMAIN_LTV_H
#define PRIVDOMAIN_LTV_H

#include "privdomain/clv.h"
#include "privdomain/model.h"
#include "privdomain/store.h"
#include "privdomain/table.h"
#include "privdomain/tags.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pd_ltv_options {
  size_t size;            /* sizeof(pd_ltv_options): use PD_LTV_OPTIONS_INIT */
  const char *tz;         /* IANA zone for cohort periods and days; NULL = UTC */
  pd_period cohort_period;/* cohort = acquisition period; default month */
  int64_t as_of;          /* count events up to this instant (ms UTC, inclusive) */
  unsigned threads;       /* scan workers, 0 = one per core */
  const pd_userset *users;/* only these users (a segment, see segments.h); NULL = all.
                             Borrowed for the call. Every table is then that of a store
                             holding only these users (customers, buyers, revenue and
                             CAC = the touchpoint's whole spend / the segment's customers
                             acquired there, so segment CACs do not add up). */
} pd_ltv_options;
#define PD_LTV_OPTIONS_INIT {sizeof(pd_ltv_options), NULL, PD_PERIOD_MONTH, INT64_MAX, 0, NULL}

/* Historical value from one store scan. Each of by_user, by_cohort and
 * by_touchpoint may be NULL (not wanted); each table returned is owned by
 * the caller, free with pd_table_free().
 *  by_user "ltv_users": user, acquired (ms), cohort (label), touchpoint
 *    (null when none), purchases (purchase events), revenue (int64),
 *    first_purchase, last_purchase (ms; null without purchases).
 *  by_cohort "ltv_cohorts", one row per (cohort, touchpoint), in time order:
 *    cohort, touchpoint, customers, buyers, revenue, revenue_per_customer,
 *    revenue_per_buyer (null without buyers).
 *  by_touchpoint "ltv_touchpoints": touchpoint, domain, customers, buyers,
 *    revenue, revenue_per_customer, active_days (first to last acquisition
 *    day there, inclusive), spend (daily_spend x active_days; null when the
 *    touchpoint's spend is unknown), cac (spend / customers), ltv_cac
 *    (revenue_per_customer / cac); null where undefined (no spend, zero
 *    CAC, no touchpoint). */
PD_API pd_status pd_ltv_history(pd_store *store, const pd_ltv_options *opts, pd_table **by_user, pd_table **by_cohort,
                                pd_table **by_touchpoint);

/* Dormant contacts: customers of an RFM table (pd_rfm_from_store() or
 * pd_rfm_from_arrays(); its touchpoint column is used when present) whose
 * P(alive) under the count model m is below threshold (0 < threshold <= 1).
 * Either output may be NULL; tables owned by the caller, free with
 * pd_table_free().
 *  users "ltv_dormant": user, touchpoint, frequency, recency, T, p_alive,
 *    revenue; dormant customers only, least alive first.
 *  by_touchpoint "ltv_dormant_touchpoints": touchpoint, customers, dormant,
 *    dormant_share, mean_p_alive; one row per touchpoint (null = none). */
PD_API pd_status pd_ltv_dormant(const pd_clv_model *m, const pd_table *rfm, double threshold, pd_table **users,
                                pd_table **by_touchpoint);

#ifdef __cplusplus
}
#endif
#endif
