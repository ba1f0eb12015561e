/* RFM summaries for CLV models, exactly as the BTYD literature and the
 * `lifetimes` library define them (summary_data_from_transaction_data and
 * calibration_and_holdout_data):
 *  - a customer's purchases in the same period (a day by default, or N
 *    days, an ISO week, a month) are merged into one purchase period;
 *  - frequency = purchase periods - 1 (repeat periods);
 *  - recency = time from the start of the first purchase period to the
 *    start of the last one; T = time from the start of the first purchase
 *    period to the observation (calibration) end day;
 *  - monetary_value = mean net total of the repeat periods (the first is
 *    excluded; 0 when frequency = 0);
 *  - all times in a chosen unit (unit_days: 1 = days, 7 = weeks), measured
 *    between local calendar days in the query's time zone.
 * Refunds reduce the total of their period; a refund in a period without a
 * purchase reduces the latest earlier purchase period (the purchase it
 * refunds), and never creates a period. Amounts stay in minor units.
 *
 * Result table "rfm", one row per customer with a purchase up to the
 * calibration end, ordered by user:
 *   user (int64), from a store also external_id (string, the user's
 *   primary external id), first_purchase (int64 ms UTC of the first purchase),
 *   frequency, recency, T, monetary_value (double), revenue (int64 net
 *   calibration total, minor units); from a store also touchpoint (string:
 *   the acquisition touchpoint, i.e. of the first acquire event, else of the
 *   first event with one; null when none); with a holdout also
 *   frequency_holdout (purchase periods after the calibration end, not
 *   minus one), monetary_value_holdout (their mean total), revenue_holdout
 *   (int64) and duration_holdout (double), as lifetimes names them.
 * The double columns feed pd_clv_summary directly (x = frequency,
 * t_x = recency, T = T, monetary = monetary_value).
 */
#ifndef PRIVDOMAIN_RFM_H
#define PRIVDOMAIN_RFM_H

#include "privdomain/common.h"
#include "privdomain/model.h"
#include "privdomain/store.h"
#include "privdomain/table.h"
#include "privdomain/tags.h"

#ifdef __cplusplus
extern "C" {
#endif

/* No calibration end / holdout given. */
#define PD_RFM_NO_TIME INT64_MIN

typedef struct pd_rfm_options {
  size_t size;               /* sizeof(pd_rfm_options): use PD_RFM_OPTIONS_INIT */
  const char *tz;            /* IANA zone for calendar days; NULL = UTC */
  pd_period period;          /* merge purchases per day (default), ISO week, Sunday week or month */
  unsigned period_multiple;  /* merge this many consecutive periods (e.g. 3-day periods); 0 or 1 = one */
  double unit_days;          /* time unit of recency, T, duration: 1 = days (default), 7 = weeks */
  int64_t calibration_end;   /* ms UTC; its whole local day is included. PD_RFM_NO_TIME = the day
                                of the latest transaction (purchase or refund) in the data: a
                                refund on a later day than every purchase still counts (it
                                reduces the purchase period it refunds), so the data are
                                observed up to its day and T runs to that day for everyone */
  int64_t holdout_end;       /* ms UTC (whole local day included), or PD_RFM_NO_TIME for no holdout;
                                needs calibration_end */
  unsigned threads;          /* store scans: worker threads, 0 = one per core */
  const pd_userset *users;   /* pd_rfm_from_store only: only these users (a segment, see
                                segments.h); NULL = all. Borrowed for the call. The rows are
                                those of a store holding only these users, observed as long as
                                the whole store: the default calibration end stays the day of
                                the store's latest transaction, so T of a segment that went
                                quiet is not shortened (nor its P(alive) inflated). */
} pd_rfm_options;
#define PD_RFM_OPTIONS_INIT \
  {sizeof(pd_rfm_options), NULL, PD_PERIOD_DAY, 1, 1.0, PD_RFM_NO_TIME, PD_RFM_NO_TIME, 0, NULL}

/* RFM from transaction arrays (n rows, any order): user id, time (ms UTC),
 * amount in minor units; amount < 0 is a refund, amount >= 0 a purchase
 * (a zero amount still counts as a purchase period). opts may be NULL.
 * *out owned by the caller, free with pd_table_free(). */
PD_API pd_status pd_rfm_from_arrays(size_t n, const uint32_t *user, const int64_t *time_ms, const int64_t *amount,
                                    const pd_rfm_options *opts, pd_table **out);

/* RFM from a store: purchase events (PD_EV_PURCHASE, their amount) and
 * refund events (PD_EV_REFUND, minus the absolute amount), one pd_scan().
 * *out owned by the caller, free with pd_table_free(). */
PD_API pd_status pd_rfm_from_store(pd_store *store, const pd_rfm_options *opts, pd_table **out);

#ifdef __cplusplus
}
#endif
#endif
