/* Attribution internals shared by attribution*.c and the tests. */
#ifndef PD_ATTRIBUTION_INTERNAL_H
#define PD_ATTRIBUTION_INTERNAL_H

#include "pd_internal.h"

/* pd_attribution_split() without allocation and without argument checks:
 * params complete, model rule-based, n >= 1, value >= 0. Splits a second
 * value (>= 0) into credit2 as well unless credit2 is NULL (the weights are
 * computed once).
 * scratch: caller memory for n * (2 * sizeof(double) + sizeof(size_t)) bytes. */
void pd__attribution_split(pd_attribution_model model, size_t n, const int64_t *times, int64_t conv, int64_t value,
                           const pd_attribution_params *p, int64_t *credit, int64_t value2, int64_t *credit2,
                           void *scratch);

/* Largest-remainder apportioning of value (>= 0) in proportion to the
 * weights w[0..n) (>= 0, sum > 0): floors, then one unit each to the
 * largest fractional parts, ties to the lower index. scratch: n * (sizeof(double)
 * + sizeof(size_t)) bytes. */
void pd__apportion(size_t n, const double *w, int64_t value, int64_t *credit, void *scratch);

/* The Markov chain of pd_attribution_run(): k touchpoint states, counts
 * (k + 1) rows x (k + 2) columns, row-major: rows 0..k-1 are the touchpoint
 * states, row k is START; columns 0..k-1 the touchpoint states, column k
 * CONVERSION, column k + 1 NULL. Every touchpoint row must have a nonzero
 * total. Fills re[0..k) with the removal effects and *p_conv with
 * P(conversion) (re all 0 when it is 0). PD_ERR_NOMEM, or PD_ERR_RANGE when
 * k > PD_ATTRIBUTION_MARKOV_MAX_STATES. */
pd_status pd__attribution_markov(size_t k, const double *counts, double *re, double *p_conv);

#endif
