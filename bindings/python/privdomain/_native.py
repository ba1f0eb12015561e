"""Loads libprivdomain and declares every C prototype the bindings call.

To add an area: mirror its structs below (and in ../tests/layout.c), declare its functions in
its region of PROTOTYPES as name: (restype, [argtypes]); restype STATUS raises the matching
exception on failure. ../tests/test_native.py checks it all against the headers and the .map.
"""

import ctypes
import os
from ctypes import (CFUNCTYPE, POINTER, Structure, c_char_p, c_double, c_int, c_int64, c_long,
                    c_size_t, c_uint, c_uint16, c_uint32, c_uint64, c_void_p)

from . import errors

ABI_MAJOR = 0            # the N of libprivdomain.so.N these bindings speak
MIN_VERSION = 100        # 0.1.0: the oldest library with every foundation symbol
SONAME = "libprivdomain.so.%d" % ABI_MAJOR
NONE = 0xFFFFFFFF        # PD_NONE: no user / touchpoint / referrer

STATUS = object()        # restype marker: a pd_status, checked by errors.errcheck
HANDLE = c_void_p        # every opaque pointer (pd_store *, pd_table *, ...)
OUT_HANDLE = POINTER(c_void_p)


# ---- structs (mirror include/privdomain/*.h exactly; test_native checks offsets) ----

class TouchpointDef(Structure):
    _fields_ = [("size", c_size_t), ("name", c_char_p), ("domain", c_int), ("carrier", c_int),
                ("daily_spend", c_int64)]


class Event(Structure):
    _fields_ = [("time_ms", c_int64), ("user", c_uint32), ("type", c_uint32),
                ("touchpoint", c_uint32), ("referrer", c_uint32), ("amount", c_int64)]


class StoreOptions(Structure):
    _fields_ = [("size", c_size_t), ("create", c_int), ("read_only", c_int), ("durability", c_int)]


ProgressFn = CFUNCTYPE(c_int, c_void_p, c_uint64, c_uint64)


class IngestOptions(Structure):
    _fields_ = [("size", c_size_t), ("format", c_int), ("lenient", c_int),
                ("rejects_path", c_char_p), ("tz", c_char_p), ("amount_decimals", c_int),
                ("col_time", c_char_p), ("col_user", c_char_p), ("col_event", c_char_p),
                ("col_touchpoint", c_char_p), ("col_amount", c_char_p), ("col_referrer", c_char_p),
                ("progress", ProgressFn), ("progress_ctx", c_void_p), ("bulk", c_int)]


class IngestResult(Structure):
    _fields_ = [("size", c_size_t), ("rows_read", c_uint64), ("rows_committed", c_uint64),
                ("rows_rejected", c_uint64), ("bytes_read", c_uint64)]


class UserEvents(Structure):
    _fields_ = [("user", c_uint32), ("n", c_size_t), ("time", POINTER(c_int64)),
                ("type", POINTER(c_uint16)), ("touchpoint", POINTER(c_uint32)),
                ("referrer", POINTER(c_uint32)), ("amount", POINTER(c_int64))]


ScanFn = CFUNCTYPE(c_int, c_void_p, c_uint, POINTER(UserEvents))


class ScanOptions(Structure):
    _fields_ = [("size", c_size_t), ("threads", c_uint), ("user_begin", c_uint32),
                ("user_end", c_uint32), ("users", c_void_p)]


# charts (chart.h)
class ChartSpec(Structure):
    _fields_ = [("size", c_size_t), ("kind", c_int), ("title", c_char_p), ("subtitle", c_char_p),
                ("label_col", c_char_p), ("value_cols", c_char_p), ("series_col", c_char_p),
                ("note_col", c_char_p), ("x_title", c_char_p), ("y_title", c_char_p),
                ("format", c_int), ("currency_symbol", c_char_p), ("decimals", c_int),
                ("width", c_int), ("height", c_int), ("has_ref", c_int), ("ref_value", c_double),
                ("ref_label", c_char_p), ("node_col", c_char_p), ("parent_col", c_char_p),
                ("max_items", c_size_t), ("highlight_col", c_char_p), ("highlight_label", c_char_p)]


# referral (referral.h)
class ReferralOptions(Structure):
    _fields_ = [("size", c_size_t), ("threads", c_uint), ("max_depth", c_int), ("by", c_int),
                ("period", c_int), ("tz", c_char_p), ("acquire_attributes", c_int),
                ("cost_begin", c_int64), ("cost_end", c_int64), ("projection_cycles", c_uint),
                ("projection_seed", c_double), ("top_n", c_size_t), ("max_examples", c_size_t),
                ("tree_nodes", c_size_t), ("users", c_void_p)]


class ReferralUserInfo(Structure):
    _fields_ = [("size", c_size_t), ("referrer", c_uint32), ("attributed", c_uint32), ("root", c_uint32),
                ("depth", c_uint32), ("direct_referees", c_uint32), ("descendants", c_uint32),
                ("revenue", c_int64), ("descendants_revenue", c_int64), ("acquired", c_int64),
                ("touchpoint", c_uint32), ("invites", c_uint32), ("purchaser", c_int), ("has_events", c_int)]


# funnel, stages (funnel.h, stages.h)
class FunnelPred(Structure):
    _fields_ = [("size", c_size_t), ("event_type", c_uint32), ("touchpoint", c_uint32),
                ("domain", c_int), ("min_amount", c_int64)]


class StageOptions(Structure):
    _fields_ = [("size", c_size_t), ("from_ms", c_int64), ("to_ms", c_int64), ("prev_from_ms", c_int64),
                ("order", c_int), ("activation_days", c_int), ("retention_days", c_int),
                ("threads", c_uint), ("users", c_void_p)]


# retention, lifecycle, stickiness (retention.h)
class RetentionOptions(Structure):
    _fields_ = [("size", c_size_t), ("start_types", POINTER(c_uint32)), ("n_start_types", c_size_t),
                ("recurring", c_int), ("return_types", POINTER(c_uint32)), ("n_return_types", c_size_t),
                ("return_touchpoints", POINTER(c_uint32)), ("n_return_touchpoints", c_size_t),
                ("return_domain", c_int), ("period", c_int), ("tz", c_char_p), ("window_ms", c_int64),
                ("mode", c_int), ("n_periods", c_uint), ("by", c_int), ("as_of_ms", c_int64),
                ("domains", c_char_p), ("n_domains", c_size_t), ("complete_only", c_int)]


class LifecycleOptions(Structure):
    _fields_ = [("size", c_size_t), ("period", c_int), ("tz", c_char_p),
                ("active_types", POINTER(c_uint32)), ("n_active_types", c_size_t)]


class StickinessOptions(Structure):
    _fields_ = [("size", c_size_t), ("period", c_int), ("tz", c_char_p),
                ("active_types", POINTER(c_uint32)), ("n_active_types", c_size_t), ("per_period", c_int)]


# report (report.h)
class ReportOptions(Structure):
    _fields_ = [("size", c_size_t), ("title", c_char_p), ("tz", c_char_p), ("period", c_int),
                ("currency_symbol", c_char_p), ("rarra", c_int), ("referral_cap", c_int),
                ("sections", c_char_p), ("threads", c_uint)]


# clv (clv.h)
class ClvSummary(Structure):
    _fields_ = [("size", c_size_t), ("n", c_size_t), ("x", POINTER(c_double)), ("t_x", POINTER(c_double)),
                ("T", POINTER(c_double)), ("monetary", POINTER(c_double)), ("weight", POINTER(c_double))]


class ClvFitOptions(Structure):
    _fields_ = [("size", c_size_t), ("penalty", c_double), ("start", POINTER(c_double)),
                ("max_iter", c_int), ("tol", c_double), ("threads", c_uint)]


class RfmOptions(Structure):
    _fields_ = [("size", c_size_t), ("tz", c_char_p), ("period", c_int), ("period_multiple", c_uint),
                ("unit_days", c_double), ("calibration_end", c_int64), ("holdout_end", c_int64),
                ("threads", c_uint), ("users", c_void_p)]


class AttributionParams(Structure):
    _fields_ = [("size", c_size_t), ("half_life_ms", c_int64), ("first_permille", c_uint32),
                ("last_permille", c_uint32)]


class AttributionOptions(Structure):
    _fields_ = [("size", c_size_t), ("model", c_int), ("conversion", POINTER(FunnelPred)),
                ("lookback_ms", c_int64), ("touch_types", POINTER(c_uint32)), ("n_touch_types", c_size_t),
                ("half_life_ms", c_int64), ("first_permille", c_uint32), ("last_permille", c_uint32)]


class SegmentOptions(Structure):
    _fields_ = [("size", c_size_t), ("as_of_ms", c_int64), ("threads", c_uint)]


SegmentRunFn = CFUNCTYPE(c_int, c_void_p, c_void_p, POINTER(c_void_p))


# rfm scores and layers, membership (issue 7)
class RfmLayerOptions(Structure):
    _fields_ = [("size", c_size_t), ("bins", c_uint), ("score_method", c_int),
                ("r_cuts", POINTER(c_double)), ("f_cuts", POINTER(c_double)), ("m_cuts", POINTER(c_double)),
                ("split", c_int), ("r_split", c_double), ("f_split", c_double), ("m_split", c_double),
                ("tz", c_char_p), ("window_begin", c_int64), ("window_end", c_int64), ("threads", c_uint),
                ("users", c_void_p)]


class MembershipOptions(Structure):
    _fields_ = [("size", c_size_t), ("end", c_int64), ("member_type", c_uint32), ("stored_value_type", c_uint32),
                ("min_days", c_double), ("threads", c_uint), ("users", c_void_p)]


class LtvOptions(Structure):
    _fields_ = [("size", c_size_t), ("tz", c_char_p), ("cohort_period", c_int), ("as_of", c_int64),
                ("threads", c_uint), ("users", c_void_p)]


# touchpoint scorecard, migration (issue 7)
class TouchpointOptions(Structure):
    _fields_ = [("size", c_size_t), ("from_ms", c_int64), ("to_ms", c_int64), ("tz", c_char_p), ("by", c_int),
                ("as_of_ms", c_int64), ("users", c_void_p), ("clv", c_void_p), ("gg", c_void_p),
                ("clv_months", c_double), ("clv_monthly_discount", c_double), ("threads", c_uint)]


def new(struct, **fields):
    """A struct with its leading `size` member set, like the C _INIT macros."""
    s = struct(**fields)
    s.size = ctypes.sizeof(struct)
    return s


# ---- prototypes: name -> (restype, argtypes) ----

PROTOTYPES = {
    # foundation: common.h
    "pd_status_str": (c_char_p, [c_int]),
    "pd_last_error": (c_char_p, []),
    "pd_clear_error": (None, []),
    "pd_version_number": (c_int, []),
    "pd_version_string": (c_char_p, []),
    "pd_free": (None, [c_void_p]),
    # foundation: table.h
    "pd_table_free": (None, [HANDLE]),
    "pd_table_name": (c_char_p, [HANDLE]),
    "pd_table_n_rows": (c_size_t, [HANDLE]),
    "pd_table_n_cols": (c_size_t, [HANDLE]),
    "pd_table_col_name": (c_char_p, [HANDLE, c_size_t]),
    "pd_table_col_type": (c_int, [HANDLE, c_size_t]),
    "pd_table_col_index": (c_long, [HANDLE, c_char_p]),
    "pd_table_is_null": (c_int, [HANDLE, c_size_t, c_size_t]),
    "pd_table_get_int64": (c_int64, [HANDLE, c_size_t, c_size_t]),
    "pd_table_get_double": (c_double, [HANDLE, c_size_t, c_size_t]),
    "pd_table_get_string": (c_char_p, [HANDLE, c_size_t, c_size_t]),
    "pd_table_write": (STATUS, [HANDLE, c_void_p, c_int]),
    "pd_table_format": (STATUS, [HANDLE, c_int, POINTER(c_void_p), POINTER(c_size_t)]),
    # foundation: model.h
    "pd_event_type_builtin_name": (c_char_p, [c_uint32]),
    "pd_domain_from_name": (c_int, [c_char_p]),
    "pd_domain_name": (c_char_p, [c_int]),
    "pd_carrier_from_name": (c_int, [c_char_p]),
    "pd_carrier_name": (c_char_p, [c_int]),
    "pd_amount_parse": (STATUS, [c_char_p, c_size_t, c_int, POINTER(c_int64)]),
    # foundation: store.h
    "pd_store_open": (STATUS, [OUT_HANDLE, c_char_p, POINTER(StoreOptions)]),
    "pd_store_close": (None, [HANDLE]),
    "pd_store_refresh": (STATUS, [HANDLE]),
    "pd_store_recovered_bytes": (c_uint64, [HANDLE]),
    "pd_store_n_users": (c_uint32, [HANDLE]),
    "pd_store_n_events": (c_uint64, [HANDLE]),
    "pd_store_n_touchpoints": (c_uint32, [HANDLE]),
    "pd_store_n_event_types": (c_uint32, [HANDLE]),
    "pd_store_find_user": (STATUS, [HANDLE, c_char_p, POINTER(c_uint32)]),
    "pd_store_user_name": (c_char_p, [HANDLE, c_uint32]),
    "pd_store_canonical_user": (c_uint32, [HANDLE, c_uint32]),
    "pd_store_find_touchpoint": (STATUS, [HANDLE, c_char_p, POINTER(c_uint32)]),
    "pd_store_touchpoint": (STATUS, [HANDLE, c_uint32, POINTER(TouchpointDef)]),
    "pd_store_find_event_type": (STATUS, [HANDLE, c_char_p, POINTER(c_uint32)]),
    "pd_store_event_type_name": (c_char_p, [HANDLE, c_uint32]),
    "pd_store_info": (STATUS, [HANDLE, OUT_HANDLE]),
    "pd_store_touchpoints": (STATUS, [HANDLE, OUT_HANDLE]),
    "pd_store_compact": (STATUS, [HANDLE]),
    # foundation: writer.h
    "pd_writer_open": (STATUS, [OUT_HANDLE, HANDLE]),
    "pd_writer_close": (None, [HANDLE]),
    "pd_writer_user": (STATUS, [HANDLE, c_char_p, POINTER(c_uint32)]),
    "pd_writer_alias": (STATUS, [HANDLE, c_uint32, c_char_p]),
    "pd_writer_merge_users": (STATUS, [HANDLE, c_uint32, c_uint32]),
    "pd_writer_touchpoint": (STATUS, [HANDLE, POINTER(TouchpointDef), POINTER(c_uint32)]),
    "pd_writer_touchpoint_name": (STATUS, [HANDLE, c_char_p, POINTER(c_uint32)]),
    "pd_writer_event_type": (STATUS, [HANDLE, c_char_p, POINTER(c_uint32)]),
    "pd_writer_append": (STATUS, [HANDLE, POINTER(Event)]),
    "pd_writer_commit": (STATUS, [HANDLE]),
    "pd_writer_rollback": (STATUS, [HANDLE]),
    "pd_writer_pending": (c_uint64, [HANDLE]),
    # foundation: ingest.h
    "pd_ingest_file": (STATUS, [HANDLE, c_char_p, POINTER(IngestOptions), POINTER(IngestResult)]),
    "pd_ingest_touchpoints": (STATUS, [HANDLE, c_char_p, POINTER(IngestOptions)]),
    "pd_time_parse": (STATUS, [c_char_p, c_size_t, c_char_p, POINTER(c_int64)]),
    # foundation: scan.h
    "pd_scan_workers": (c_uint, [POINTER(ScanOptions)]),
    "pd_scan": (STATUS, [HANDLE, POINTER(ScanOptions), ScanFn, c_void_p]),
    # foundation: tags.h
    "pd_writer_tag": (STATUS, [HANDLE, c_uint32, c_char_p]),
    "pd_writer_untag": (STATUS, [HANDLE, c_uint32, c_char_p]),
    "pd_writer_tag_set": (STATUS, [HANDLE, c_char_p, HANDLE]),
    "pd_store_n_tags": (c_uint32, [HANDLE]),
    "pd_store_tag_name": (c_char_p, [HANDLE, c_uint32]),
    "pd_store_find_tag": (STATUS, [HANDLE, c_char_p, POINTER(c_uint32)]),
    "pd_store_user_has_tag": (c_int, [HANDLE, c_uint32, c_uint32]),
    "pd_store_tags": (STATUS, [HANDLE, OUT_HANDLE]),
    "pd_userset_new": (STATUS, [OUT_HANDLE, HANDLE]),
    "pd_userset_from_tag": (STATUS, [OUT_HANDLE, HANDLE, c_char_p]),
    "pd_userset_free": (None, [HANDLE]),
    "pd_userset_add": (None, [HANDLE, c_uint32]),
    "pd_userset_remove": (None, [HANDLE, c_uint32]),
    "pd_userset_contains": (c_int, [HANDLE, c_uint32]),
    "pd_userset_count": (c_uint64, [HANDLE]),
    "pd_userset_and": (None, [HANDLE, HANDLE]),
    "pd_userset_or": (None, [HANDLE, HANDLE]),
    "pd_userset_andnot": (None, [HANDLE, HANDLE]),
    # charts (issues 2-8)
    "pd_chart_svg": (STATUS, [HANDLE, POINTER(ChartSpec), POINTER(c_void_p)]),
    "pd_chart_write": (STATUS, [HANDLE, POINTER(ChartSpec), c_char_p]),
    "pd_chart_format_value": (c_size_t, [c_double, c_int, c_char_p, c_int, c_char_p, c_size_t]),
    # funnel, stages (issue 3)
    "pd_funnel_spec_new": (STATUS, [OUT_HANDLE]),
    "pd_funnel_spec_free": (None, [HANDLE]),
    "pd_funnel_spec_add_step": (STATUS, [HANDLE, POINTER(FunnelPred), c_char_p]),
    "pd_funnel_spec_add_exclusion": (STATUS, [HANDLE, POINTER(FunnelPred), c_uint, c_uint]),
    "pd_funnel_spec_set_window": (STATUS, [HANDLE, c_int64]),
    "pd_funnel_spec_set_mode": (STATUS, [HANDLE, c_int]),
    "pd_funnel_spec_set_breakdown": (STATUS, [HANDLE, c_int, c_int, c_char_p]),
    "pd_funnel_spec_set_domains": (STATUS, [HANDLE, c_char_p, c_size_t]),
    "pd_funnel_spec_add_segment": (STATUS, [HANDLE, c_char_p, HANDLE]),
    "pd_funnel_spec_n_steps": (c_size_t, [HANDLE]),
    "pd_funnel_parse_window": (STATUS, [c_char_p, POINTER(c_int64)]),
    "pd_funnel_parse_mode": (STATUS, [c_char_p, POINTER(c_int)]),
    "pd_funnel_mode_name": (c_char_p, [c_int]),
    "pd_funnel_partial_new": (STATUS, [HANDLE, OUT_HANDLE]),
    "pd_funnel_partial_free": (None, [HANDLE]),
    "pd_funnel_partial_add": (STATUS, [HANDLE, POINTER(UserEvents)]),
    "pd_funnel_partial_merge": (STATUS, [HANDLE, HANDLE]),
    "pd_funnel_partial_finish": (STATUS, [HANDLE, HANDLE, OUT_HANDLE]),
    "pd_funnel_run": (STATUS, [HANDLE, HANDLE, POINTER(ScanOptions), OUT_HANDLE]),
    "pd_stage_period_parse": (STATUS, [c_char_p, c_char_p, POINTER(c_int64), POINTER(c_int64),
                                       POINTER(c_int64)]),
    "pd_stage_order_parse": (STATUS, [c_char_p, POINTER(c_int)]),
    "pd_stage_report": (STATUS, [HANDLE, POINTER(StageOptions), OUT_HANDLE]),
    # retention, lifecycle (issue 4)
    "pd_retention_partial_new": (STATUS, [POINTER(RetentionOptions), OUT_HANDLE]),
    "pd_retention_partial_free": (None, [HANDLE]),
    "pd_retention_partial_add": (STATUS, [HANDLE, POINTER(UserEvents)]),
    "pd_retention_partial_merge": (STATUS, [HANDLE, HANDLE]),
    "pd_retention_partial_finish": (STATUS, [HANDLE, HANDLE, c_int, OUT_HANDLE]),
    "pd_retention_run": (STATUS, [HANDLE, POINTER(RetentionOptions), POINTER(ScanOptions), OUT_HANDLE,
                                  OUT_HANDLE, OUT_HANDLE]),
    "pd_lifecycle_partial_new": (STATUS, [POINTER(LifecycleOptions), OUT_HANDLE]),
    "pd_lifecycle_partial_free": (None, [HANDLE]),
    "pd_lifecycle_partial_add": (STATUS, [HANDLE, POINTER(UserEvents)]),
    "pd_lifecycle_partial_merge": (STATUS, [HANDLE, HANDLE]),
    "pd_lifecycle_partial_finish": (STATUS, [HANDLE, OUT_HANDLE]),
    "pd_lifecycle_run": (STATUS, [HANDLE, POINTER(LifecycleOptions), POINTER(ScanOptions), OUT_HANDLE]),
    "pd_stickiness_partial_new": (STATUS, [POINTER(StickinessOptions), OUT_HANDLE]),
    "pd_stickiness_partial_free": (None, [HANDLE]),
    "pd_stickiness_partial_add": (STATUS, [HANDLE, POINTER(UserEvents)]),
    "pd_stickiness_partial_merge": (STATUS, [HANDLE, HANDLE]),
    "pd_stickiness_partial_finish": (STATUS, [HANDLE, OUT_HANDLE]),
    "pd_stickiness_run": (STATUS, [HANDLE, POINTER(StickinessOptions), POINTER(ScanOptions), OUT_HANDLE]),
    # referral (issue 5)
    "pd_referral_run": (STATUS, [HANDLE, POINTER(ReferralOptions), OUT_HANDLE]),
    "pd_referral_free": (None, [HANDLE]),
    "pd_referral_table": (STATUS, [HANDLE, c_int, OUT_HANDLE]),
    "pd_referral_view_name": (c_char_p, [c_int]),
    "pd_referral_view_from_name": (c_int, [c_char_p]),
    "pd_referral_metric": (STATUS, [HANDLE, c_char_p, POINTER(c_double)]),
    "pd_referral_n_nodes": (c_uint32, [HANDLE]),
    "pd_referral_user": (STATUS, [HANDLE, c_uint32, POINTER(ReferralUserInfo)]),
    "pd_referral_builder_new": (STATUS, [POINTER(ReferralOptions), OUT_HANDLE]),
    "pd_referral_builder_free": (None, [HANDLE]),
    "pd_referral_builder_add": (STATUS, [HANDLE, POINTER(UserEvents)]),
    "pd_referral_builder_merge": (STATUS, [HANDLE, HANDLE]),
    "pd_referral_builder_finish": (STATUS, [HANDLE, POINTER(TouchpointDef), c_size_t, OUT_HANDLE]),
    # clv (issue 6)
    "pd_clv_kind_name": (c_char_p, [c_int]),
    "pd_clv_kind_from_name": (c_int, [c_char_p]),
    "pd_clv_fit": (STATUS, [c_int, POINTER(ClvSummary), POINTER(ClvFitOptions), OUT_HANDLE]),
    "pd_clv_model_new": (STATUS, [c_int, POINTER(c_double), c_size_t, OUT_HANDLE]),
    "pd_clv_model_free": (None, [HANDLE]),
    "pd_clv_model_kind": (c_int, [HANDLE]),
    "pd_clv_model_n_params": (c_size_t, [HANDLE]),
    "pd_clv_model_param_name": (c_char_p, [HANDLE, c_size_t]),
    "pd_clv_model_param": (c_double, [HANDLE, c_size_t]),
    "pd_clv_model_stderr": (c_double, [HANDLE, c_size_t]),
    "pd_clv_model_loglik": (c_double, [HANDLE]),
    "pd_clv_model_converged": (c_int, [HANDLE]),
    "pd_clv_model_iterations": (c_int, [HANDLE]),
    "pd_clv_model_evaluations": (c_int, [HANDLE]),
    "pd_clv_model_table": (STATUS, [HANDLE, OUT_HANDLE]),
    "pd_clv_loglik": (STATUS, [HANDLE, POINTER(ClvSummary), POINTER(c_double)]),
    "pd_clv_expected_purchases": (STATUS, [HANDLE, c_double, POINTER(c_double)]),
    "pd_clv_predict_purchases": (STATUS, [HANDLE, POINTER(ClvSummary), c_double, POINTER(c_double)]),
    "pd_clv_predict_alive": (STATUS, [HANDLE, POINTER(ClvSummary), POINTER(c_double)]),
    "pd_clv_predict_spend": (STATUS, [HANDLE, POINTER(ClvSummary), POINTER(c_double)]),
    "pd_clv_predict_value": (STATUS, [HANDLE, HANDLE, POINTER(ClvSummary), c_double, c_double, c_double, POINTER(c_double)]),
    "pd_clv_predict_dert": (STATUS, [HANDLE, POINTER(ClvSummary), c_double, POINTER(c_double)]),
    "pd_clv_predict_table": (STATUS, [HANDLE, HANDLE, POINTER(ClvSummary), c_double, c_double, c_double,
                                      c_double, OUT_HANDLE]),
    "pd_rfm_from_arrays": (STATUS, [c_size_t, POINTER(c_uint32), POINTER(c_int64), POINTER(c_int64),
                                    POINTER(RfmOptions), OUT_HANDLE]),
    "pd_rfm_from_store": (STATUS, [HANDLE, POINTER(RfmOptions), OUT_HANDLE]),
    "pd_clv_summary_from_table": (STATUS, [HANDLE, POINTER(ClvSummary), POINTER(POINTER(c_double))]),
    "pd_ltv_history": (STATUS, [HANDLE, POINTER(LtvOptions), OUT_HANDLE, OUT_HANDLE, OUT_HANDLE]),
    "pd_ltv_dormant": (STATUS, [HANDLE, HANDLE, c_double, OUT_HANDLE, OUT_HANDLE]),
    "pd_clv_fit_table": (STATUS, [c_int, HANDLE, POINTER(ClvFitOptions), OUT_HANDLE]),
    "pd_clv_score_table": (STATUS, [HANDLE, HANDLE, HANDLE, c_double, c_double, c_double, c_double, OUT_HANDLE]),
    "pd_clv_frequency_recency_table": (STATUS, [HANDLE, c_double, c_uint, c_uint, c_double, OUT_HANDLE]),
    "pd_clv_holdout_table": (STATUS, [HANDLE, POINTER(ClvSummary), POINTER(c_double), c_double, c_uint,
                                      OUT_HANDLE]),
    # touchpoints, attribution, segments (issue 7)
    "pd_attribution_split": (STATUS, [c_int, c_size_t, POINTER(c_int64), c_int64, c_int64,
                                      POINTER(AttributionParams), POINTER(c_int64)]),
    "pd_attribution_run": (STATUS, [HANDLE, POINTER(AttributionOptions), POINTER(ScanOptions), OUT_HANDLE]),
    "pd_attribution_model_from_name": (STATUS, [c_char_p, POINTER(c_int)]),
    "pd_attribution_model_name": (c_char_p, [c_int]),
    "pd_touchpoint_scorecard": (STATUS, [HANDLE, POINTER(TouchpointOptions), OUT_HANDLE]),
    "pd_touchpoint_migration": (STATUS, [HANDLE, POINTER(TouchpointOptions), OUT_HANDLE]),
    "pd_touchpoint_by_name": (c_char_p, [c_int]),
    "pd_touchpoint_by_from_name": (STATUS, [c_char_p, POINTER(c_int)]),
    "pd_ingest_tags": (STATUS, [HANDLE, c_char_p, POINTER(IngestOptions), c_int,
                                POINTER(IngestResult)]),
    "pd_userset_copy": (STATUS, [OUT_HANDLE, HANDLE]),
    "pd_segment_check": (STATUS, [c_char_p]),
    "pd_segment_define": (STATUS, [HANDLE, c_char_p, c_char_p]),
    "pd_segment_drop": (STATUS, [HANDLE, c_char_p]),
    "pd_store_segments": (STATUS, [HANDLE, OUT_HANDLE]),
    "pd_segment_get": (STATUS, [HANDLE, c_char_p, POINTER(c_void_p)]),
    "pd_segment_eval": (STATUS, [HANDLE, c_char_p, POINTER(SegmentOptions), OUT_HANDLE]),
    "pd_segment_eval_expr": (STATUS, [HANDLE, c_char_p, POINTER(SegmentOptions), OUT_HANDLE]),
    "pd_segment_breakdown": (STATUS, [HANDLE, POINTER(c_char_p), c_size_t, POINTER(SegmentOptions),
                                      SegmentRunFn, c_void_p, OUT_HANDLE]),
    # rfm scores and layers, membership (issue 7)
    "pd_rfm_layer_name_zh": (c_char_p, [c_int]),
    "pd_rfm_layer_name": (c_char_p, [c_int]),
    "pd_rfm_layer_action": (c_char_p, [c_int]),
    "pd_rfm_layers_from_values": (STATUS, [c_size_t, POINTER(c_uint32), POINTER(c_double), POINTER(c_double),
                                           POINTER(c_double), POINTER(RfmLayerOptions), OUT_HANDLE, OUT_HANDLE,
                                           OUT_HANDLE]),
    "pd_rfm_layers_from_summary": (STATUS, [HANDLE, POINTER(RfmLayerOptions), OUT_HANDLE, OUT_HANDLE, OUT_HANDLE]),
    "pd_rfm_layers_from_store": (STATUS, [HANDLE, POINTER(RfmLayerOptions), OUT_HANDLE, OUT_HANDLE, OUT_HANDLE]),
    "pd_membership_compare": (STATUS, [HANDLE, POINTER(MembershipOptions), OUT_HANDLE, OUT_HANDLE]),
    # report (issue 8)
    "pd_report_html": (STATUS, [HANDLE, POINTER(ReportOptions), POINTER(c_void_p)]),
    "pd_report_write": (STATUS, [HANDLE, POINTER(ReportOptions), c_char_p]),
    "pd_report_section_id": (c_char_p, [c_size_t]),
}


def _missing(name, path):
    def call(*_args):
        raise NotImplementedError("%s does not export %s (library too old?)" % (path, name))
    call.__name__ = name
    return call


def check_version(v, path):
    """ImportError unless pd_version_number() v is ABI_MAJOR.x and at least MIN_VERSION."""
    if v // 10000 != ABI_MAJOR or v < MIN_VERSION:
        raise ImportError("privdomain: %s is version %d.%d.%d; these bindings need %d.x >= %d.%d.%d"
                          % (path, v // 10000, v // 100 % 100, v % 100, ABI_MAJOR,
                             MIN_VERSION // 10000, MIN_VERSION // 100 % 100, MIN_VERSION % 100))


def load(path=None):
    """Opens the library: $PRIVDOMAIN_LIBRARY if set, else by SONAME."""
    path = path or os.environ.get("PRIVDOMAIN_LIBRARY") or SONAME
    try:
        cdll = ctypes.CDLL(path)
    except OSError as e:
        raise ImportError("privdomain: cannot load %s (%s); install libprivdomain or set "
                          "PRIVDOMAIN_LIBRARY to the library's path" % (path, e)) from e
    version = cdll.pd_version_number
    version.restype, version.argtypes = c_int, []
    check_version(version(), path)
    for name, (restype, argtypes) in PROTOTYPES.items():
        try:
            fn = getattr(cdll, name)
        except AttributeError:
            setattr(cdll, name, _missing(name, path))
            continue
        fn.argtypes = argtypes
        if restype is STATUS:
            fn.restype, fn.errcheck = c_int, errors.errcheck
        else:
            fn.restype = restype
    cdll.path = path
    return cdll


lib = load()


def to_bytes(s):
    """str (or path-like) -> UTF-8 bytes at the C boundary; None stays None."""
    if s is None or isinstance(s, bytes):
        return s
    if isinstance(s, os.PathLike):
        return os.fsencode(s)
    return s.encode("utf-8")


def from_bytes(b):
    return None if b is None else b.decode("utf-8", "replace")
