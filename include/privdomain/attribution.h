/* Attribution: splitting one conversion's value over the touches that led to it. */
#ifndef PRIVDOMAIN_ATTRIBUTION_H
#define PRIVDOMAIN_ATTRIBUTION_H

#include <stddef.h>
#include <stdint.h>

#include "privdomain/common.h"

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
  PD_ATTRIBUTION_POSITION = 4
} pd_attribution_model;

typedef struct pd_attribution_params {
  size_t size;               /* sizeof(pd_attribution_params) */
  int64_t half_life_ms;      /* DECAY; > 0 */
  uint32_t first_permille;   /* POSITION; first + last <= 1000 */
  uint32_t last_permille;    /* POSITION */
} pd_attribution_params;
#define PD_ATTRIBUTION_PARAMS_INIT {sizeof(pd_attribution_params), INT64_C(7) * 86400000, 400, 400}

/* Splits value (>= 0, minor units) over n >= 1 touches: credit[i] >= 0 and the credits sum to
 * value exactly. Each touch gets floor(value * w_i / sum w); the remaining units go one each to
 * the touches with the largest fractional parts, ties to the earlier touch (deterministic).
 * times: n touch times (ms, non-decreasing; only read for DECAY, may be NULL otherwise).
 * params may be NULL (defaults). credit: caller-owned array of n. */
PD_API pd_status pd_attribution_split(pd_attribution_model model, size_t n, const int64_t *times,
                                      int64_t conversion_time, int64_t value,
                                      const pd_attribution_params *params, int64_t *credit);

#ifdef __cplusplus
}
#endif
#endif
