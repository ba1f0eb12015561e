/* Attribution: which touchpoints get the credit for conversions.
 *
 * Two levels: pd_attribution_split() splits ONE conversion's value over its
 * touches (the rule-based models); pd_attribution_run() attributes every
 * conversion of a store, with the rule-based models and the data-driven
 * Markov-chain removal-effect model, and returns credit per touchpoint.
 *
 * ---- Conversions, touches, paths (pd_attribution_run) ----
 * A CONVERSION is an event matching the conversion predicate (the funnel's
 * pd_funnel_pred: event type, touchpoint, touchpoint domain, minimum
 * amount; default: every purchase). Its VALUE is its amount (minor units;
 * zero-amount conversions count as conversions worth 0; negative amounts
 * are apportioned like positive ones, mirrored).
 * A TOUCH is an event whose type is one of the touch types (default:
 * acquire, activate, visit, message_open, referral_signup, member_join:
 * things the user did at a touchpoint; message_send, an outbound send, is
 * not a touch unless listed) and that carries a touchpoint.
 * The PATH of a conversion at time t is the user's touches that come before
 * it in the user's run (time order, ties in insertion order; the conversion
 * event itself is never its own touch) with time >= t - lookback (the
 * boundary instant included). Every conversion looks back on its own: one
 * touch may be on the paths of several conversions.
 * A conversion whose path is empty is DIRECT: every model gives it whole to
 * the row "(none)", so no conversion and no value is ever lost.
 *
 * ---- Models (credit of one conversion over its path t_0..t_{n-1}) ----
 * FIRST, LAST, LINEAR, DECAY, POSITION: as pd_attribution_split() below,
 * per touch (a touchpoint touched twice gets two shares).
 * MARKOV (Anderl, Becker, von Wangenheim & Schumann 2016, "Mapping the
 * customer journey"): a first-order Markov chain over the states START,
 * one state per touchpoint, CONVERSION and NULL, built from
 *   - every non-direct converting path: START -> t_0 -> ... -> t_{n-1} ->
 *     CONVERSION (one path per conversion), and
 *   - one NON-CONVERTING path per user who has touches after their last
 *     conversion (or any touches and no conversion): those touches, from
 *     the first one within `lookback` of the last of them, START -> ... ->
 *     NULL.
 * Consecutive touches of the same touchpoint are one visit (a self-loop
 * would not change any absorption probability). Transition probabilities
 * are the counted transitions out of each state divided by the state's
 * total. With Q the touchpoint-to-touchpoint part, b_i = P(i -> CONVERSION)
 * and s_i = P(START -> i), the chain is solved exactly (dense Gauss-Jordan
 * elimination with partial pivoting, in double) for the fundamental matrix
 * G = (I - Q)^-1, then x = G b (conversion probability from each state),
 * P(conversion) = s.x, and the expected visits v = s G. The REMOVAL EFFECT
 * of touchpoint k is the relative drop of P(conversion) when k is removed
 * (every transition into k goes to NULL instead):
 *   RE_k = 1 - P_without_k / P = (v_k / G_kk) * x_k / P,
 * because P = P(convert without visiting k) + P(visit k) * x_k and
 * P(visit k) = v_k / G_kk. The total value and the total count of the
 * non-direct conversions are then apportioned over the touchpoints in
 * proportion to RE_k (normalised by the sum of all RE). Cost: O(k^3) time
 * and O(k^2) memory in the number k of touchpoints on paths; refused
 * (PD_ERR_RANGE) beyond PD_ATTRIBUTION_MARKOV_MAX_STATES.
 *
 * ---- Conservation (every model, exactly) ----
 * Revenue credit is integer minor units: per conversion (rule-based) or
 * per total (Markov) each share is floored and the remaining units go one
 * each to the largest fractional parts (largest-remainder rounding), ties
 * to the earlier touch (rule-based) or the lower touchpoint id (Markov).
 * Shares are exact integer ratios for LINEAR and POSITION (so ties are real
 * ties) and doubles for DECAY and MARKOV (a floor that rounding puts one
 * unit low is repaired by the remainder step). So for every model the
 * revenue column sums EXACTLY to the total value of all conversions,
 * "(none)" included. Conversion credit is apportioned the
 * same way in millionths of a conversion, so the conversions column sums
 * to the number of conversions (exact in millionths; shown as a double).
 */
#ifndef PRIVDOMAIN_ATTRIBUTION_H
#define PRIVDOMAIN_ATTRIBUTION_H

#include <stddef.h>
#include <stdint.h>

#include "privdomain/funnel.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Rule-based models. For a path of n touches t_0..t_{n-1} (time order) before a conversion:
 *  FIRST    all credit to t_0.
 *  LAST     all credit to t_{n-1}.
 *  LINEAR   equal weight per touch.
 *  DECAY    weight 2^(-(conversion_time - time_i) / half_life_ms).
 *  POSITION first_permille to t_0, last_permille to t_{n-1}, the rest shared equally by the
 *           middle touches; with n == 1 the single touch gets everything, with n == 2 the
 *           middle share is split between the two in proportion first:last (equally when both 0). */
typedef enum pd_attribution_model {
  PD_ATTRIBUTION_FIRST = 0,
  PD_ATTRIBUTION_LAST = 1,
  PD_ATTRIBUTION_LINEAR = 2,
  PD_ATTRIBUTION_DECAY = 3,
  PD_ATTRIBUTION_POSITION = 4,
  PD_ATTRIBUTION_MARKOV = 5, /* pd_attribution_run() only (needs every path) */
  PD_ATTRIBUTION_ALL = 6     /* pd_attribution_run() only: every model side by side */
} pd_attribution_model;

typedef struct pd_attribution_params {
  size_t size;               /* sizeof(pd_attribution_params) */
  int64_t half_life_ms;      /* DECAY; > 0 */
  uint32_t first_permille;   /* POSITION; first + last <= 1000 */
  uint32_t last_permille;    /* POSITION */
} pd_attribution_params;
#define PD_ATTRIBUTION_PARAMS_INIT {sizeof(pd_attribution_params), INT64_C(7) * 86400000, 400, 400}

/* Rule-based models only (MARKOV and ALL: PD_ERR_INVALID).
 * Splits value (>= 0, minor units) over n >= 1 touches: credit[i] >= 0 and the credits sum to
 * value exactly. Each touch gets floor(value * w_i / sum w); the remaining units go one each to
 * the touches with the largest fractional parts, ties to the earlier touch (deterministic).
 * times: n touch times (ms, non-decreasing; only read for DECAY, may be NULL otherwise).
 * params may be NULL (defaults). credit: caller-owned array of n. */
PD_API pd_status pd_attribution_split(pd_attribution_model model, size_t n, const int64_t *times,
                                      int64_t conversion_time, int64_t value,
                                      const pd_attribution_params *params, int64_t *credit);

/* ---- store-level attribution ---- */

#define PD_ATTRIBUTION_MARKOV_MAX_STATES 4096

/* Initialise with PD_ATTRIBUTION_OPTIONS_INIT. Arrays and strings are
 * borrowed for the duration of the call. */
typedef struct pd_attribution_options {
  size_t size;                      /* sizeof(pd_attribution_options) */
  pd_attribution_model model;       /* default PD_ATTRIBUTION_ALL */
  const pd_funnel_pred *conversion; /* NULL: every purchase */
  int64_t lookback_ms;              /* >= 0; default 30 days; INT64_MAX: unlimited */
  const uint32_t *touch_types;      /* event types that are touches; NULL or */
  size_t n_touch_types;             /* 0: the default touch types above */
  int64_t half_life_ms;             /* DECAY, > 0; default 7 days */
  uint32_t first_permille;          /* POSITION: first + last <= 1000; */
  uint32_t last_permille;           /* default 400 and 400 (40/20/40) */
} pd_attribution_options;
#define PD_ATTRIBUTION_OPTIONS_INIT                                                                   \
  {sizeof(pd_attribution_options), PD_ATTRIBUTION_ALL, NULL, INT64_C(30) * 86400000, NULL, 0,         \
   INT64_C(7) * 86400000, 400, 400}

/* Attributes every conversion of the store (users limited by scan->users
 * when given; scan may be NULL) and returns credit per touchpoint.
 * Segment filter: with scan->users, only those users' conversions and
 * paths (each user's path is their own events), as on a store holding
 * only them; the Markov model is then fitted on their paths alone.
 *
 * One model (name "attribution"), columns:
 *   touchpoint   touchpoint name; "(none)" for the direct conversions
 *   domain       its domain name; null for "(none)"
 *   paths        conversions whose path contains the touchpoint (for
 *                "(none)": the direct conversions)
 *   conversions  conversions credited (double, see conservation)
 *   revenue      value credited, minor units (int64)
 *   conversion_share, revenue_share   of the totals (null when the total is 0)
 *   removal_effect   MARKOV only: RE_k (null for "(none)")
 * PD_ATTRIBUTION_ALL (side by side): touchpoint, domain, paths, then
 *   <m>_conversions and <m>_revenue for m = first, last, linear, decay,
 *   position, markov, then markov_removal_effect.
 * Rows: every touchpoint on some path (converting paths, and the
 * non-converting paths when MARKOV is computed), by touchpoint id, then
 * "(none)" when there are direct conversions. No conversions: no rows.
 * *out owned by the caller, free with pd_table_free(). */
PD_API pd_status pd_attribution_run(pd_store *store, const pd_attribution_options *opts,
                                    const pd_scan_options *scan, pd_table **out);

/* "first", "last", "linear", "decay", "position", "markov", "all" (also
 * "first_touch", "last_touch", "time_decay", "position_based"); static
 * names back (NULL for unknown values). PD_ERR_INVALID for unknown names. */
PD_API pd_status pd_attribution_model_from_name(const char *name, pd_attribution_model *out);
PD_API const char *pd_attribution_model_name(pd_attribution_model model);

#ifdef __cplusplus
}
#endif
#endif
