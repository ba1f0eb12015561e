"""Funnels and the AARRR / RARRA stage report (funnel.h, stages.h).

    t = store.funnel(steps=["acquire", "activate", "purchase", "invite"], window="7d")
    t = store.funnel(steps=["visit", {"event": "purchase", "min_amount": 5000}],
                     window="3d", mode="strict_order", breakdown="cohort-week", tz="Asia/Shanghai",
                     exclude=[("refund", 2, 3)])
    s = store.stages(period="2024-03", tz="Asia/Shanghai", order="rarra")

A step is an event type name ("purchase", "*" for any) or a dict with any of
event, touchpoint (name), domain ("public", "private", "semi", "unknown"),
min_amount (minor units, int). Semantics: include/privdomain/funnel.h.
"""

import ctypes

from ._native import FunnelPred, NONE, ScanOptions, StageOptions, lib, new, to_bytes
from .table import Table

MODES = ("default", "strict_order", "strict_deduplication", "strict_increase", "strict_once",
         "unordered")
# breakdown name -> (pd_funnel_by, pd_period)
BREAKDOWNS = {
    None: (0, 0), "none": (0, 0), "touchpoint": (1, 0), "domain": (2, 0),
    "cohort-day": (3, 0), "cohort-week": (3, 1), "cohort-month": (3, 3),
    "step1-touchpoint": (4, 0),
    "entry-day": (5, 0), "entry-week": (5, 1), "entry-month": (5, 3),
}
_BY_SEGMENT = 6  # PD_FUNNEL_BY_TAG: breakdown "segment:A,B" or "tags" (privdomain.segments)
_DOMAINS = {"unknown": 0, "public": 1, "private": 2, "semi": 3}


def parse_window(window):
    """"7d", "12h", "30m", "2w", "1mo" (31 days), "500ms", or a number of ms -> ms."""
    if isinstance(window, bool):
        raise TypeError("window must be a string or a number of ms")
    if isinstance(window, int):
        if window < 0:
            raise ValueError("window must be >= 0")
        return window
    out = ctypes.c_int64()
    lib.pd_funnel_parse_window(to_bytes(window), ctypes.byref(out))
    return out.value


def _pred(store, step):
    if isinstance(step, str):
        step = {"event": step}
    unknown = set(step) - {"event", "touchpoint", "domain", "min_amount"}
    if unknown:
        raise TypeError("unknown step field(s): %s" % ", ".join(sorted(unknown)))
    q = new(FunnelPred, event_type=NONE, touchpoint=NONE, domain=-1, min_amount=-2**63)
    event = step.get("event", "*")
    if event != "*":
        q.event_type = event if isinstance(event, int) else store.find_event_type(event)
    if step.get("touchpoint") is not None:
        tp = step["touchpoint"]
        q.touchpoint = tp if isinstance(tp, int) else store.find_touchpoint(tp)
    if step.get("domain") is not None:
        if step["domain"] not in _DOMAINS:
            raise ValueError("domain must be one of %s" % ", ".join(_DOMAINS))
        q.domain = _DOMAINS[step["domain"]]
    if step.get("min_amount") is not None:
        if not isinstance(step["min_amount"], int):
            raise TypeError("min_amount is in minor units (an int), not %r" % (step["min_amount"],))
        q.min_amount = step["min_amount"]
    return q


def _label(step):
    if isinstance(step, str):
        return step
    text = str(step.get("event", "*"))
    if step.get("touchpoint") is not None:
        text += "@%s" % step["touchpoint"]
    if step.get("domain") is not None:
        text += ":%s" % step["domain"]
    if step.get("min_amount") is not None:
        text += ">=%s" % step["min_amount"]
    return text


def funnel(store, steps, window="7d", mode="default", breakdown=None, tz=None, exclude=(),
           threads=0, _users=None):
    """Runs a funnel; returns a Table (columns as pd_funnel_partial_finish documents: [group],
    step, step_name, users, conv_prev, conv_first, dropoff, dropoff_rate, time_mean_ms,
    time_median_ms, time_p90_ms, excluded). exclude: (step, from_step, to_step) tuples.
    breakdown "segment:A,B" (or "tags", or a list of names): one group per segment, a user in
    several counted in each, from one scan."""
    from . import segments
    if mode not in MODES:
        raise ValueError("mode must be one of %s" % ", ".join(MODES))
    by_segments = segments.is_breakdown(breakdown)
    if not by_segments and breakdown not in BREAKDOWNS:
        raise ValueError("breakdown must be one of %s" % ", ".join(k for k in BREAKDOWNS if k))
    steps = list(steps)
    spec = ctypes.c_void_p()
    lib.pd_funnel_spec_new(ctypes.byref(spec))
    try:
        for step in steps:
            lib.pd_funnel_spec_add_step(spec, ctypes.byref(_pred(store, step)), to_bytes(_label(step)))
        for step, a, b in exclude:
            lib.pd_funnel_spec_add_exclusion(spec, ctypes.byref(_pred(store, step)), a, b)
        lib.pd_funnel_spec_set_window(spec, parse_window(window))
        lib.pd_funnel_spec_set_mode(spec, MODES.index(mode))
        by, period = (_BY_SEGMENT, 0) if by_segments else BREAKDOWNS[breakdown]
        lib.pd_funnel_spec_set_breakdown(spec, by, period, to_bytes(tz))
        for name in segments.names(store, breakdown) if by_segments else ():
            s = store._segment_set(name)
            try:
                lib.pd_funnel_spec_add_segment(spec, to_bytes(name), s)
            finally:
                lib.pd_userset_free(s)
        opts = new(ScanOptions, threads=threads, user_begin=0, user_end=NONE, users=_users)
        out = ctypes.c_void_p()
        lib.pd_funnel_run(store._handle, spec, ctypes.byref(opts), ctypes.byref(out))
        return Table(out)
    finally:
        lib.pd_funnel_spec_free(spec)


def stage_period(period, tz=None):
    """"2024-03", "2024-W10", "2024", "2024-03-05", "2024-03-01..2024-03-15" in zone tz
    -> (from_ms, to_ms, prev_from_ms), UTC ms, [from, to)."""
    f, t, p = ctypes.c_int64(), ctypes.c_int64(), ctypes.c_int64()
    lib.pd_stage_period_parse(to_bytes(period), to_bytes(tz), ctypes.byref(f), ctypes.byref(t),
                              ctypes.byref(p))
    return f.value, t.value, p.value


def stages(store, period, tz=None, order="aarrr", activation_days=7, retention_days=7, threads=0, _users=None):
    """The stage report as a Table (stage, metric, breakdown, value, numerator, denominator),
    stages in AARRR or RARRA order; metrics defined in include/privdomain/stages.h."""
    if order.lower() not in ("aarrr", "rarra"):
        raise ValueError("order must be 'aarrr' or 'rarra'")
    f, t, p = stage_period(period, tz)
    opts = new(StageOptions, from_ms=f, to_ms=t, prev_from_ms=p,
               order=0 if order.lower() == "aarrr" else 1, activation_days=activation_days,
               retention_days=retention_days, threads=threads, users=_users)
    out = ctypes.c_void_p()
    lib.pd_stage_report(store._handle, ctypes.byref(opts), ctypes.byref(out))
    return Table(out)
