/* Funnel internals shared by funnel.c, funnel_store.c and the tests. */
#ifndef PD_FUNNEL_INTERNAL_H
#define PD_FUNNEL_INTERNAL_H

#include "pd_internal.h"

/* One attempt as evaluated: level reached (0 = no attempt), whether an
 * exclusion disqualified it, and its step match times. */
typedef struct pd__funnel_attempt {
  int level;
  bool disqualified;
  size_t start;    /* index of the starting event */
  int64_t t[PD_FUNNEL_MAX_STEPS];
} pd__funnel_attempt;

/* Partial with a touchpoint-domain table other than the spec's (used by
 * pd_funnel_run with the store's domains; copied). */
pd_status pd__funnel_partial_new_ex(const pd_funnel_spec *spec, const uint8_t *domains, size_t n_domains,
                                    pd_funnel_partial **out);

/* The reported attempt of one user ignoring any breakdown: the earliest
 * non-disqualified attempt with the highest level. Returns its level
 * (0 when the user never enters); *all_excluded is set when the user had
 * attempts but every one was disqualified. Scratch lives in p. */
int pd__funnel_eval_user(pd_funnel_partial *p, const pd_user_events *ev, pd__funnel_attempt *out, bool *all_excluded);

/* Names a group key of a touchpoint breakdown into buf; NULL = "#<id>". */
typedef void (*pd__funnel_tp_namer)(void *ctx, uint32_t touchpoint, char *buf, size_t size);
pd_status pd__funnel_finish(const pd_funnel_partial *p, pd__funnel_tp_namer namer, void *ctx, pd_table **out);

/* Read-only view of a spec (tests build an independent reference from it). */
typedef struct pd__funnel_spec_view {
  unsigned n_steps, n_excl;
  const pd_funnel_pred *steps[PD_FUNNEL_MAX_STEPS];
  const pd_funnel_pred *excl[PD_FUNNEL_MAX_EXCLUSIONS];
  unsigned excl_from[PD_FUNNEL_MAX_EXCLUSIONS], excl_to[PD_FUNNEL_MAX_EXCLUSIONS];
  int64_t window;
  pd_funnel_mode mode;
  pd_funnel_by by;
  pd_period period;
  const char *tz;
  const uint8_t *domains;
  size_t n_domains;
} pd__funnel_spec_view;
void pd__funnel_spec_get_view(const pd_funnel_spec *spec, pd__funnel_spec_view *out);

/* Touchpoint domains of a store by id; *out owned by the caller (free()). */
pd_status pd__store_domains(pd_store *store, uint8_t **out, size_t *n);

/* Quantile q of v[0..n) (reordered), linearly interpolated between order
 * statistics (numpy's default, DuckDB's quantile_cont); O(n) expected. */
double pd__quantile(int64_t *v, size_t n, double q);

#endif
