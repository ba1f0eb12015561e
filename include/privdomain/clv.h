/* Customer lifetime value: "buy till you die" models over RFM summaries.
 *
 * A summary row describes one customer (or, with a weight, several with
 * identical values) in one time unit of the caller's choice (days, weeks):
 *   x    frequency: number of repeat purchases (purchase periods after the first)
 *   t_x  recency: time from the first to the last purchase (0 when x = 0)
 *   T    age: time from the first purchase to the end of observation
 * For the discrete-time BG/BB model the unit is one transaction
 * opportunity: x = repeat transactions, t_x = the opportunity of the last
 * one (0 when x = 0), T = n, the number of opportunities.
 * Every length of time passed to a function below ("_units") is in that
 * same unit; the monthly CLV also takes how many units make a month.
 *
 * Models (maximum likelihood on log-parameters; BFGS with a Nelder-Mead
 * fallback; standard errors from the numerical Hessian):
 *   PD_CLV_BGNBD   BG/NBD, Fader, Hardie & Lee (2005)          r, alpha, a, b
 *   PD_CLV_MBGNBD  MBG/NBD, Batislam, Denizel & Filiztekin (2007) r, alpha, a, b
 *   PD_CLV_PNBD    Pareto/NBD, Schmittlein, Morrison & Colombo (1987),
 *                  in the form of Fader, Hardie & Lee (2005)  r, alpha, s, beta
 *   PD_CLV_BGBB    BG/BB, Fader, Hardie & Shang (2010)         alpha, beta, gamma, delta
 *   PD_CLV_GAMMA_GAMMA  spend per transaction, Fader, Hardie & Lee
 *                  (2005, "RFM and CLV"); fitted on rows with x > 0 from
 *                  x and the mean repeat spend                p, q, gamma
 */
#ifndef PRIVDOMAIN_CLV_H
#define PRIVDOMAIN_CLV_H

#include "privdomain/common.h"
#include "privdomain/table.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum pd_clv_kind {
  PD_CLV_BGNBD = 1,
  PD_CLV_MBGNBD = 2,
  PD_CLV_PNBD = 3,
  PD_CLV_BGBB = 4,
  PD_CLV_GAMMA_GAMMA = 5
} pd_clv_kind;

/* Short name ("bgnbd", "mbgnbd", "pnbd", "bgbb", "gg"); static, NULL if unknown. */
PD_API const char *pd_clv_kind_name(pd_clv_kind kind);
/* Parses a short name; returns 0 for an unknown one. */
PD_API pd_clv_kind pd_clv_kind_from_name(const char *name);

/* Summary arrays, all borrowed for the duration of the call. `size` must be
 * sizeof(pd_clv_summary): use PD_CLV_SUMMARY_INIT. Rows are rejected with
 * PD_ERR_INVALID (message names the row) when a value is NaN or infinite,
 * negative, x is not a whole number, t_x > T, or x = 0 with t_x != 0;
 * for BG/BB also when t_x or T is not whole or x > t_x. */
typedef struct pd_clv_summary {
  size_t size;
  size_t n;               /* rows */
  const double *x;        /* frequency */
  const double *t_x;      /* recency, time units */
  const double *T;        /* age, time units (BG/BB: opportunities n) */
  const double *monetary; /* mean spend of the repeat periods (Gamma-Gamma, CLV); NULL if unused */
  const double *weight;   /* customers the row stands for (>= 0); NULL = 1 each */
} pd_clv_summary;
#define PD_CLV_SUMMARY_INIT {sizeof(pd_clv_summary), 0, NULL, NULL, NULL, NULL, NULL}

/* Fitting options; use PD_CLV_FIT_OPTIONS_INIT. The objective minimised is
 * the weighted mean negative log-likelihood plus penalty * sum(param^2)
 * over the natural-scale parameters (the convention of the `lifetimes`
 * library, so its penalizer_coef values carry over). */
typedef struct pd_clv_fit_options {
  size_t size;
  double penalty;       /* L2 coefficient; 0 = plain maximum likelihood */
  const double *start;  /* NULL, or natural-scale starting parameters (all > 0) */
  int max_iter;         /* BFGS iterations; 0 = 1000 */
  double tol;           /* converged when max |gradient| of the objective in
                           log-parameters is below tol (0 = 1e-9), or when the
                           remaining Newton step changes no parameter by more
                           than a relative 1e-6 */
  unsigned threads;     /* threads for the likelihood sums of large summaries
                           (from 65536 rows); 0 = one per core. The result does
                           not depend on it. Added later: a size up to `tol`
                           is accepted and means 0 */
} pd_clv_fit_options;
#define PD_CLV_FIT_OPTIONS_INIT {sizeof(pd_clv_fit_options), 0.0, NULL, 0, 0.0, 0}

typedef struct pd_clv_model pd_clv_model;

/* Fits a model. *out is owned by the caller, free with pd_clv_model_free().
 * opts may be NULL. Returns PD_OK also when the optimiser stopped short of
 * its tolerance: check pd_clv_model_converged(). PD_ERR_NUMERIC when the
 * likelihood cannot be evaluated at all. */
PD_API pd_status pd_clv_fit(pd_clv_kind kind, const pd_clv_summary *data, const pd_clv_fit_options *opts,
                            pd_clv_model **out);

/* A model with given natural-scale parameters (e.g. published ones), for
 * predictions without fitting. n_params must match the kind. *out is owned
 * by the caller, free with pd_clv_model_free(). */
PD_API pd_status pd_clv_model_new(pd_clv_kind kind, const double *params, size_t n_params, pd_clv_model **out);

/* Releases a model. Accepts NULL. */
PD_API void pd_clv_model_free(pd_clv_model *m);

PD_API pd_clv_kind pd_clv_model_kind(const pd_clv_model *m);
PD_API size_t pd_clv_model_n_params(const pd_clv_model *m);
/* Static name of parameter i ("r", "alpha"...), NULL when out of range. */
PD_API const char *pd_clv_model_param_name(const pd_clv_model *m, size_t i);
/* Parameter i on its natural scale (NaN when out of range). */
PD_API double pd_clv_model_param(const pd_clv_model *m, size_t i);
/* Standard error of parameter i (delta method from the Hessian of the
 * log-likelihood in log-parameters); NaN when not fitted or singular. */
PD_API double pd_clv_model_stderr(const pd_clv_model *m, size_t i);
/* Weighted log-likelihood at the fit (without the penalty); NaN when not fitted. */
PD_API double pd_clv_model_loglik(const pd_clv_model *m);
/* 1 when the fit met its convergence test (see pd_clv_fit_options.tol), else 0. */
PD_API int pd_clv_model_converged(const pd_clv_model *m);
/* Optimiser iterations and objective evaluations used by the fit. */
PD_API int pd_clv_model_iterations(const pd_clv_model *m);
PD_API int pd_clv_model_evaluations(const pd_clv_model *m);

/* Table "clv_params_<kind name>" (e.g. clv_params_bgnbd): param (string), value, stderr (double; null when
 * unknown), then rows "loglik" (value) and "converged" (value 0 or 1).
 * *out owned by the caller, free with pd_table_free(). */
PD_API pd_status pd_clv_model_table(const pd_clv_model *m, pd_table **out);

/* Weighted log-likelihood of `data` at the model's parameters. */
PD_API pd_status pd_clv_loglik(const pd_clv_model *m, const pd_clv_summary *data, double *out);

/* Points *out at copies of the frequency, recency, T and (when present)
 * monetary_value columns of an RFM table (see privdomain/rfm.h), so it can
 * be fitted and predicted on; row i of the summary is row i of the table.
 * *storage receives the copies: owned by the caller, free with pd_free()
 * once *out is no longer used. */
PD_API pd_status pd_clv_summary_from_table(const pd_table *rfm, pd_clv_summary *out, double **storage);

/* Fits a model to an RFM table (privdomain/rfm.h) as pd_clv_fit() does to
 * its summary. For Gamma-Gamma, customers whose repeat periods net to a
 * spend <= 0 (refunds) are left out of the fit. */
PD_API pd_status pd_clv_fit_table(pd_clv_kind kind, const pd_table *rfm, const pd_clv_fit_options *opts,
                                  pd_clv_model **out);

/* Scores every customer of an RFM table: table "clv_scores" with the
 * table's user (and external_id, touchpoint when present), frequency,
 * recency, T, then p_alive, expected_purchases (next horizon_units), and
 * when gg is not NULL and the table has monetary_value: monetary_value,
 * expected_spend and clv (months, monthly_discount, units_per_month as in
 * pd_clv_predict_value(); customers whose repeat periods net to <= 0 get
 * the population mean spend). m is a continuous-time count model.
 * *out owned by the caller, free with pd_table_free(). */
PD_API pd_status pd_clv_score_table(const pd_clv_model *m, const pd_clv_model *gg, const pd_table *rfm,
                                    double horizon_units, double months, double monthly_discount,
                                    double units_per_month, pd_table **out);

/* ---- predictions. `out` is caller memory with data->n doubles. ---- */

/* Expected purchases of a new customer in the first t_units after the
 * first purchase, E[X(t)] (BG/BB: in the first t_units opportunities). */
PD_API pd_status pd_clv_expected_purchases(const pd_clv_model *m, double t_units, double *out);

/* Expected purchases of each customer in the next t_units after T, given
 * (x, t_x, T); with t_units = the holdout length this is the conditional
 * expectation compared against holdout purchases. BG/BB: t_units is the
 * number of future opportunities (whole). */
PD_API pd_status pd_clv_predict_purchases(const pd_clv_model *m, const pd_clv_summary *data, double t_units,
                                          double *out);

/* Probability that each customer is still alive at T (BG/BB: after
 * opportunity n). BG/NBD gives 1 for x = 0 by construction. */
PD_API pd_status pd_clv_predict_alive(const pd_clv_model *m, const pd_clv_summary *data, double *out);

/* Gamma-Gamma: expected mean spend per future transaction given x and the
 * observed mean repeat spend (data->monetary); x = 0 gives the population
 * mean p*gamma/(q-1). gg must be a PD_CLV_GAMMA_GAMMA model with q > 1. */
PD_API pd_status pd_clv_predict_spend(const pd_clv_model *gg, const pd_clv_summary *data, double *out);

/* Discounted CLV over `months` months, the discrete form of practice:
 *   sum_{k=1..months} spend * (E[purchases in (0, k*units_per_month]] -
 *                              E[purchases in (0, (k-1)*units_per_month]]) / (1 + monthly_discount)^k
 * with spend from pd_clv_predict_spend(gg, ...). units_per_month is the
 * number of time units in a month (30 for days, 4.345 for weeks, as in
 * lifetimes). m is a continuous-time model (BG/NBD, MBG/NBD, Pareto/NBD). */
PD_API pd_status pd_clv_predict_value(const pd_clv_model *m, const pd_clv_model *gg, const pd_clv_summary *data,
                                      double months, double monthly_discount, double units_per_month, double *out);

/* Pareto/NBD discounted expected residual transactions (Fader, Hardie &
 * Lee 2005, "RFM and CLV"): E[integral over t > T of exp(-delta (t - T))
 * dX(t)] with a continuous discount rate delta per time unit (> 0);
 * multiply by expected spend for a value. */
PD_API pd_status pd_clv_predict_dert(const pd_clv_model *pnbd, const pd_clv_summary *data,
                                     double discount_per_unit, double *out);

/* Per-customer table "clv_predictions": row, x, t_x, T, p_alive,
 * expected_purchases (next horizon_units), and, when gg is not NULL and
 * data->monetary is set, expected_spend and clv (months, monthly_discount,
 * units_per_month as in pd_clv_predict_value(); m continuous-time).
 * *out owned by the caller, free with pd_table_free(). */
PD_API pd_status pd_clv_predict_table(const pd_clv_model *m, const pd_clv_model *gg, const pd_clv_summary *data,
                                      double horizon_units, double months, double monthly_discount,
                                      double units_per_month, pd_table **out);

/* Frequency/recency matrix of a continuous-time count model for customers
 * of age T (time units): long table "clv_frequency_recency" with one row
 * per (recency, frequency) cell, recency from T down to 0 in
 * recency_steps + 1 steps, frequency 0..max_frequency: recency (string
 * label), frequency (int64), t_x, expected_purchases (next horizon_units),
 * p_alive. Cells with frequency 0 and recency > 0 are impossible and
 * null. The shape pd_chart_svg() draws as a heat map (label recency,
 * series frequency). *out owned by the caller, free with pd_table_free(). */
PD_API pd_status pd_clv_frequency_recency_table(const pd_clv_model *m, double T, unsigned max_frequency,
                                                unsigned recency_steps, double horizon_units, pd_table **out);

/* Calibration vs holdout by calibration frequency: table "clv_holdout",
 * one row per frequency 0..max_frequency (the last row gathers all higher
 * ones, labelled "N+"): frequency (string), customers, actual (mean of
 * x_holdout), predicted (mean conditional expectation over
 * holdout_units). x_holdout has data->n values. *out owned by the caller,
 * free with pd_table_free(). */
PD_API pd_status pd_clv_holdout_table(const pd_clv_model *m, const pd_clv_summary *data, const double *x_holdout,
                                      double holdout_units, unsigned max_frequency, pd_table **out);

#ifdef __cplusplus
}
#endif
#endif
