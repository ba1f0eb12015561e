/* RFM scores (1..bins per dimension) and the classic eight RFM layers.
 *
 * Every customer is described by three values:
 *   R  recency: time since the last purchase (days, or the unit of the
 *      input; smaller is better),
 *   F  frequency: how many purchases (larger is better),
 *   M  monetary: net revenue in minor units (larger is better).
 * They come from the CLV module's RFM summary (pd_rfm_from_store() /
 * pd_rfm_from_arrays(), see rfm.h: R = T - recency, F = frequency + 1
 * purchase periods, M = revenue), from a store over a time window (R in
 * whole local days to the window's end, F = purchase events in the window,
 * M = net revenue in the window), or straight from the caller's arrays.
 *
 * Scores (PD_RFM_SCORE_QUANTILE, the default). With b bins (default 5),
 * the edges of a dimension are its quantiles e_k at q_k = k * (1.0 / b),
 * k = 1..b-1, computed like numpy.quantile's default ("linear"): over the
 * n sorted values v_0..v_{n-1}, h = (n - 1) * q_k, e_k = v_floor(h)
 * interpolated linearly towards v_floor(h)+1 by the fraction h - floor(h).
 * A value x then scores 1 + #{k : e_k < x}: bins are closed on the right,
 * (e_{k-1}, e_k], as in pandas.qcut. For F and M x is the value itself;
 * for R it is the negated recency, so the most recent customers score b.
 * Ties: equal values always get equal scores, and when several edges are
 * equal (many tied values) the scores above them skip, so a dimension
 * where everybody ties scores 1 for everybody. Whenever the edges are
 * distinct this equals pandas.qcut(x, b, labels=False) + 1 (R:
 * qcut(-recency, ...)); in general it equals, in pandas,
 *   1 + sum(x > x.quantile(k / b) for k in range(1, b)).
 *
 * Scores by thresholds (PD_RFM_SCORE_THRESHOLDS): the caller gives b - 1
 * strictly increasing cut points per dimension, upper bounds of the bands:
 * F and M score 1 + #{k : cut_k < x} (x <= cut_1 scores 1, x > cut_{b-1}
 * scores b); R scores b - #{k : cut_k < recency} (recency <= cut_1 scores
 * b, recency > cut_{b-1} scores 1).
 *
 * Layers. Each dimension is high or low against a split value: the mean
 * over the customers (PD_RFM_SPLIT_MEAN, the default) or the caller's
 * value (PD_RFM_SPLIT_THRESHOLDS). R is high when recency <= split (bought
 * recently), F when F >= split, M when M >= split; a value equal to the
 * split is high. The eight layers, in this order (PD_RFM_LAYER_*):
 *   1 重要价值 important value      R high F high M high
 *   2 重要发展 important develop    R high F low  M high
 *   3 重要保持 important keep       R low  F high M high
 *   4 重要挽留 important win back   R low  F low  M high
 *   5 一般价值 general value        R high F high M low
 *   6 一般发展 general develop      R high F low  M low
 *   7 一般保持 general keep         R low  F high M low
 *   8 一般挽留 general win back     R low  F low  M low
 *
 * Results (each output pointer may be NULL when not wanted; every table
 * returned is owned by the caller, free with pd_table_free()):
 *  users "rfm_scores", one row per customer in input order: user (int64),
 *    external_id (string; store and summary inputs that have it), recency,
 *    frequency, monetary (double), r_score, f_score, m_score (int64),
 *    rfm_score (int64, 100 r + 10 f + m when b <= 9, else null),
 *    score_sum (int64, r + f + m), layer (int64 1..8), layer_zh,
 *    layer_name (string).
 *  layers "rfm_layers", always eight rows in layer order: layer (int64),
 *    layer_zh, layer_name, r, f, m ("high" / "low"), users (int64), share
 *    (users / customers; null without customers), revenue (int64, sum of
 *    M), revenue_share (null when the total is 0), mean_recency,
 *    mean_frequency, mean_monetary (null for an empty layer), action
 *    (suggested treatment, English).
 *  thresholds "rfm_thresholds", three rows (R, F, M): dimension, split
 *    (the high/low value used; null without customers), mean (null without
 *    customers), then edge_1..edge_{b-1}: the score edges in the
 *    dimension's own terms; null without customers. Quantile edges of R
 *    are given as recency values, ascending: edge_k = -e_{b-k}, and a
 *    recency strictly below edge_k scores above b - k.
 */
#ifndef PRIVDOMAIN_RFM_LAYERS_H
#define PRIVDOMAIN_RFM_LAYERS_H

#include "privdomain/common.h"
#include "privdomain/store.h"
#include "privdomain/table.h"
#include "privdomain/tags.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum pd_rfm_score_method {
  PD_RFM_SCORE_QUANTILE = 0,  /* quantile edges of the data (see above) */
  PD_RFM_SCORE_THRESHOLDS = 1 /* r_cuts, f_cuts, m_cuts */
} pd_rfm_score_method;

typedef enum pd_rfm_split {
  PD_RFM_SPLIT_MEAN = 0,      /* high/low against the mean over customers */
  PD_RFM_SPLIT_THRESHOLDS = 1 /* against r_split, f_split, m_split */
} pd_rfm_split;

typedef enum pd_rfm_layer {
  PD_RFM_LAYER_IMPORTANT_VALUE = 1,
  PD_RFM_LAYER_IMPORTANT_DEVELOP = 2,
  PD_RFM_LAYER_IMPORTANT_KEEP = 3,
  PD_RFM_LAYER_IMPORTANT_WIN_BACK = 4,
  PD_RFM_LAYER_GENERAL_VALUE = 5,
  PD_RFM_LAYER_GENERAL_DEVELOP = 6,
  PD_RFM_LAYER_GENERAL_KEEP = 7,
  PD_RFM_LAYER_GENERAL_WIN_BACK = 8
} pd_rfm_layer;

/* No window bound given. */
#define PD_RFM_LAYERS_NO_TIME INT64_MIN

typedef struct pd_rfm_layer_options {
  size_t size;                      /* sizeof(pd_rfm_layer_options): use PD_RFM_LAYER_OPTIONS_INIT */
  unsigned bins;                    /* scores 1..bins; 0 = 5; at most 20 */
  pd_rfm_score_method score_method;
  const double *r_cuts;             /* THRESHOLDS: bins - 1 increasing values each (borrowed for the call) */
  const double *f_cuts;
  const double *m_cuts;
  pd_rfm_split split;
  double r_split, f_split, m_split; /* PD_RFM_SPLIT_THRESHOLDS */
  /* pd_rfm_layers_from_store only: */
  const char *tz;                   /* IANA zone of the local days of R; NULL = UTC */
  int64_t window_begin;             /* ms UTC, inclusive; PD_RFM_LAYERS_NO_TIME = from the start */
  int64_t window_end;               /* ms UTC, exclusive; PD_RFM_LAYERS_NO_TIME = after the latest
                                       purchase or refund in the store */
  unsigned threads;                 /* scan workers; 0 = one per core */
  const pd_userset *users;          /* only these users (a segment, see segments.h); NULL = all.
                                       Borrowed for the call. Scores, means and layers are then
                                       those of a store holding only these users (quantile edges
                                       and means over them), observed as long as the whole store
                                       (the default window end stays after the store's latest
                                       purchase or refund, so R is not shortened). */
} pd_rfm_layer_options;
#define PD_RFM_LAYER_OPTIONS_INIT                                                                             \
  {sizeof(pd_rfm_layer_options), 5, PD_RFM_SCORE_QUANTILE, NULL, NULL, NULL, PD_RFM_SPLIT_MEAN, 0, 0, 0, NULL, \
   PD_RFM_LAYERS_NO_TIME, PD_RFM_LAYERS_NO_TIME, 0, NULL}

/* Chinese name, English name and suggested action of a layer (static
 * strings), or NULL for a value outside 1..8. */
PD_API const char *pd_rfm_layer_name_zh(int layer);
PD_API const char *pd_rfm_layer_name(int layer);
PD_API const char *pd_rfm_layer_action(int layer);

/* Scores and layers of n customers given as arrays: user (may be NULL:
 * row numbers 0..n-1 are used), recency, frequency, monetary (finite
 * values; recency >= 0 is not required). opts may be NULL (defaults). */
PD_API pd_status pd_rfm_layers_from_values(size_t n, const uint32_t *user, const double *recency,
                                           const double *frequency, const double *monetary,
                                           const pd_rfm_layer_options *opts, pd_table **users, pd_table **layers,
                                           pd_table **thresholds);

/* Scores and layers from an RFM summary table of rfm.h (columns user,
 * frequency, recency, T, revenue; external_id copied when present):
 * R = T - recency (the summary's time unit), F = frequency + 1 (purchase
 * periods), M = revenue. Rows with a null or non-finite value are skipped. */
PD_API pd_status pd_rfm_layers_from_summary(const pd_table *rfm, const pd_rfm_layer_options *opts, pd_table **users,
                                            pd_table **layers, pd_table **thresholds);

/* Scores and layers from a store over [window_begin, window_end): a
 * customer is a user with a purchase event (PD_EV_PURCHASE) in the window;
 * R = local day (tz) of the window's last instant (window_end - 1 ms, or
 * the latest purchase/refund in the store when window_end is not given)
 * minus the local day of the customer's last purchase in the window, in
 * whole days; F = purchase events in the window; M = their amounts minus
 * the absolute amounts of refund events (PD_EV_REFUND) in the window.
 * Users merged into another count as the surviving user. One pd_scan(). */
PD_API pd_status pd_rfm_layers_from_store(pd_store *store, const pd_rfm_layer_options *opts, pd_table **users,
                                          pd_table **layers, pd_table **thresholds);

#ifdef __cplusplus
}
#endif
#endif
