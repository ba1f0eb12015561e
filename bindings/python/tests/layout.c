/* Prints the layout of every public struct the Python bindings mirror, as
 * "name size N" and "name.field offset" lines; test_native.py compares them
 * with the ctypes.Structure definitions in privdomain/_native.py. */
#include <stddef.h>
#include <stdio.h>

#include <privdomain.h>

#define S(t) printf(#t " size %zu\n", sizeof(t))
#define F(t, f) printf(#t "." #f " %zu\n", offsetof(t, f))

int main(void) {
  S(pd_touchpoint_def); F(pd_touchpoint_def, size); F(pd_touchpoint_def, name);
  F(pd_touchpoint_def, domain); F(pd_touchpoint_def, carrier); F(pd_touchpoint_def, daily_spend);
  S(pd_event); F(pd_event, time_ms); F(pd_event, user); F(pd_event, type);
  F(pd_event, touchpoint); F(pd_event, referrer); F(pd_event, amount);
  S(pd_store_options); F(pd_store_options, size); F(pd_store_options, create);
  F(pd_store_options, read_only); F(pd_store_options, durability);
  S(pd_ingest_options); F(pd_ingest_options, size); F(pd_ingest_options, format);
  F(pd_ingest_options, lenient); F(pd_ingest_options, rejects_path); F(pd_ingest_options, tz);
  F(pd_ingest_options, amount_decimals); F(pd_ingest_options, col_time); F(pd_ingest_options, col_user);
  F(pd_ingest_options, col_event); F(pd_ingest_options, col_touchpoint); F(pd_ingest_options, col_amount);
  F(pd_ingest_options, col_referrer); F(pd_ingest_options, progress); F(pd_ingest_options, progress_ctx);
  F(pd_ingest_options, bulk);
  S(pd_ingest_result); F(pd_ingest_result, size); F(pd_ingest_result, rows_read);
  F(pd_ingest_result, rows_committed); F(pd_ingest_result, rows_rejected); F(pd_ingest_result, bytes_read);
  S(pd_user_events); F(pd_user_events, user); F(pd_user_events, n); F(pd_user_events, time);
  F(pd_user_events, type); F(pd_user_events, touchpoint); F(pd_user_events, referrer);
  F(pd_user_events, amount);
  S(pd_scan_options); F(pd_scan_options, size); F(pd_scan_options, threads);
  F(pd_scan_options, user_begin); F(pd_scan_options, user_end); F(pd_scan_options, users);
  S(pd_chart_spec); F(pd_chart_spec, size); F(pd_chart_spec, kind); F(pd_chart_spec, title);
  F(pd_chart_spec, subtitle); F(pd_chart_spec, label_col); F(pd_chart_spec, value_cols);
  F(pd_chart_spec, series_col); F(pd_chart_spec, note_col); F(pd_chart_spec, x_title);
  F(pd_chart_spec, y_title); F(pd_chart_spec, format); F(pd_chart_spec, currency_symbol);
  F(pd_chart_spec, decimals); F(pd_chart_spec, width); F(pd_chart_spec, height);
  F(pd_chart_spec, has_ref); F(pd_chart_spec, ref_value); F(pd_chart_spec, ref_label);
  F(pd_chart_spec, node_col); F(pd_chart_spec, parent_col); F(pd_chart_spec, max_items);
  F(pd_chart_spec, highlight_col); F(pd_chart_spec, highlight_label);
  /* funnel */
  S(pd_funnel_pred); F(pd_funnel_pred, size); F(pd_funnel_pred, event_type);
  F(pd_funnel_pred, touchpoint); F(pd_funnel_pred, domain); F(pd_funnel_pred, min_amount);
  S(pd_stage_options); F(pd_stage_options, size); F(pd_stage_options, from_ms); F(pd_stage_options, to_ms);
  F(pd_stage_options, prev_from_ms); F(pd_stage_options, order); F(pd_stage_options, activation_days);
  F(pd_stage_options, retention_days); F(pd_stage_options, threads); F(pd_stage_options, users);
  S(pd_report_options); F(pd_report_options, size); F(pd_report_options, title); F(pd_report_options, tz);
  F(pd_report_options, period); F(pd_report_options, currency_symbol); F(pd_report_options, rarra);
  F(pd_report_options, referral_cap); F(pd_report_options, sections); F(pd_report_options, threads);
  /* clv */
  S(pd_clv_summary); F(pd_clv_summary, size); F(pd_clv_summary, n); F(pd_clv_summary, x);
  F(pd_clv_summary, t_x); F(pd_clv_summary, T); F(pd_clv_summary, monetary); F(pd_clv_summary, weight);
  S(pd_clv_fit_options); F(pd_clv_fit_options, size); F(pd_clv_fit_options, penalty);
  F(pd_clv_fit_options, start); F(pd_clv_fit_options, max_iter); F(pd_clv_fit_options, tol);
  F(pd_clv_fit_options, threads);
  /* retention, lifecycle, stickiness */
  S(pd_retention_options); F(pd_retention_options, size); F(pd_retention_options, start_types);
  F(pd_retention_options, n_start_types); F(pd_retention_options, recurring); F(pd_retention_options, return_types);
  F(pd_retention_options, n_return_types); F(pd_retention_options, return_touchpoints);
  F(pd_retention_options, n_return_touchpoints); F(pd_retention_options, return_domain);
  F(pd_retention_options, period); F(pd_retention_options, tz); F(pd_retention_options, window_ms);
  F(pd_retention_options, mode); F(pd_retention_options, n_periods); F(pd_retention_options, by);
  F(pd_retention_options, as_of_ms); F(pd_retention_options, domains); F(pd_retention_options, n_domains);
  F(pd_retention_options, complete_only);
  S(pd_lifecycle_options); F(pd_lifecycle_options, size); F(pd_lifecycle_options, period);
  F(pd_lifecycle_options, tz); F(pd_lifecycle_options, active_types); F(pd_lifecycle_options, n_active_types);
  S(pd_stickiness_options); F(pd_stickiness_options, size); F(pd_stickiness_options, period);
  F(pd_stickiness_options, tz); F(pd_stickiness_options, active_types); F(pd_stickiness_options, n_active_types);
  F(pd_stickiness_options, per_period);
  /* referral */
  S(pd_referral_options); F(pd_referral_options, size); F(pd_referral_options, threads);
  F(pd_referral_options, max_depth); F(pd_referral_options, by); F(pd_referral_options, period);
  F(pd_referral_options, tz); F(pd_referral_options, acquire_attributes); F(pd_referral_options, cost_begin);
  F(pd_referral_options, cost_end); F(pd_referral_options, projection_cycles);
  F(pd_referral_options, projection_seed); F(pd_referral_options, top_n); F(pd_referral_options, max_examples);
  F(pd_referral_options, tree_nodes); F(pd_referral_options, users);
  S(pd_referral_user_info); F(pd_referral_user_info, size); F(pd_referral_user_info, referrer);
  F(pd_referral_user_info, attributed); F(pd_referral_user_info, root); F(pd_referral_user_info, depth);
  F(pd_referral_user_info, direct_referees); F(pd_referral_user_info, descendants);
  F(pd_referral_user_info, revenue); F(pd_referral_user_info, descendants_revenue);
  F(pd_referral_user_info, acquired); F(pd_referral_user_info, touchpoint); F(pd_referral_user_info, invites);
  F(pd_referral_user_info, purchaser); F(pd_referral_user_info, has_events);
  S(pd_rfm_options); F(pd_rfm_options, size); F(pd_rfm_options, tz); F(pd_rfm_options, period);
  F(pd_rfm_options, period_multiple); F(pd_rfm_options, unit_days); F(pd_rfm_options, calibration_end);
  F(pd_rfm_options, holdout_end); F(pd_rfm_options, threads); F(pd_rfm_options, users);
  /* rfm scores and layers, membership (issue 7) */
  S(pd_rfm_layer_options); F(pd_rfm_layer_options, size); F(pd_rfm_layer_options, bins);
  F(pd_rfm_layer_options, score_method); F(pd_rfm_layer_options, r_cuts); F(pd_rfm_layer_options, f_cuts);
  F(pd_rfm_layer_options, m_cuts); F(pd_rfm_layer_options, split); F(pd_rfm_layer_options, r_split);
  F(pd_rfm_layer_options, f_split); F(pd_rfm_layer_options, m_split); F(pd_rfm_layer_options, tz);
  F(pd_rfm_layer_options, window_begin); F(pd_rfm_layer_options, window_end); F(pd_rfm_layer_options, threads); F(pd_rfm_layer_options, users);
  S(pd_membership_options); F(pd_membership_options, size); F(pd_membership_options, end);
  F(pd_membership_options, member_type); F(pd_membership_options, stored_value_type);
  F(pd_membership_options, min_days); F(pd_membership_options, threads); F(pd_membership_options, users);
  S(pd_attribution_params); F(pd_attribution_params, size); F(pd_attribution_params, half_life_ms);
  F(pd_attribution_params, first_permille); F(pd_attribution_params, last_permille);
  S(pd_attribution_options); F(pd_attribution_options, size); F(pd_attribution_options, model);
  F(pd_attribution_options, conversion); F(pd_attribution_options, lookback_ms);
  F(pd_attribution_options, touch_types); F(pd_attribution_options, n_touch_types);
  F(pd_attribution_options, half_life_ms); F(pd_attribution_options, first_permille);
  F(pd_attribution_options, last_permille);
  S(pd_segment_options); F(pd_segment_options, size); F(pd_segment_options, as_of_ms);
  F(pd_segment_options, threads);
  S(pd_ltv_options); F(pd_ltv_options, size); F(pd_ltv_options, tz); F(pd_ltv_options, cohort_period);
  F(pd_ltv_options, as_of); F(pd_ltv_options, threads); F(pd_ltv_options, users);
  /* touchpoint scorecard, migration (issue 7) */
  S(pd_touchpoint_options); F(pd_touchpoint_options, size); F(pd_touchpoint_options, from_ms);
  F(pd_touchpoint_options, to_ms); F(pd_touchpoint_options, tz); F(pd_touchpoint_options, by);
  F(pd_touchpoint_options, as_of_ms); F(pd_touchpoint_options, users); F(pd_touchpoint_options, clv);
  F(pd_touchpoint_options, gg); F(pd_touchpoint_options, clv_months);
  F(pd_touchpoint_options, clv_monthly_discount); F(pd_touchpoint_options, threads);
  /* charts, funnel, retention, referral, touchpoints, report: add structs here */
  return 0;
}
