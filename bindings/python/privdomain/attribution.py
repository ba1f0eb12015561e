"""Attribution of conversions to touchpoints (attribution.h).

    t = store.attribution()                       # every model side by side
    t = store.attribution(model="markov", lookback="14d")
    t = store.attribution(model="decay", half_life="3d",
                          conversion={"event": "purchase", "min_amount": 5000},
                          touches=["visit", "message_open"])

Models: first, last, linear, decay (half_life), position (first/middle/last percentages),
markov (removal effect), all. A conversion is an event type name or a funnel-style dict
(event, touchpoint, domain, min_amount; see privdomain.funnel). Definitions, the Markov
construction and the conservation rule: include/privdomain/attribution.h, docs/ATTRIBUTION.md.
"""

import ctypes

from ._native import NONE, AttributionOptions, ScanOptions, lib, new, to_bytes
from .funnel import _pred, parse_window
from .table import Table

MODELS = ("first", "last", "linear", "decay", "position", "markov", "all")


def _permille(position):
    try:
        first, middle, last = position
    except (TypeError, ValueError):
        raise ValueError("position must be (first, middle, last) percentages, e.g. (40, 20, 40)") from None
    values = []
    for v in (first, middle, last):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0:
            raise ValueError("position shares must be non-negative numbers, not %r" % (v,))
        values.append(round(v * 10))
    if sum(values) != 1000:
        raise ValueError("position shares must add up to 100, not %s" % (first + middle + last))
    return values[0], values[2]


def _type_id(store, t):
    return t if isinstance(t, int) and not isinstance(t, bool) else store.find_event_type(t)


def attribution(store, model="all", conversion="purchase", lookback="30d", touches=None,
                half_life="7d", position=(40, 20, 40), threads=0, _users=None):
    """Credit per touchpoint as a Table (columns as pd_attribution_run documents: touchpoint,
    domain, paths, then conversions, revenue, conversion_share, revenue_share[, removal_effect]
    for one model, or <model>_conversions, <model>_revenue for every model and
    markov_removal_effect for model="all"). Revenue is in minor units; each model's revenue
    column adds up exactly to the value of all conversions, "(none)" (direct) included.
    touches: event types that count as touches (default: acquire, activate, visit,
    message_open, referral_signup, member_join)."""
    if model not in MODELS:
        raise ValueError("model must be one of %s" % ", ".join(MODELS))
    m = ctypes.c_int()
    lib.pd_attribution_model_from_name(to_bytes(model), ctypes.byref(m))
    first, last = _permille(position)
    pred = _pred(store, conversion)
    types = [_type_id(store, t) for t in (touches or ())]
    arr = (ctypes.c_uint32 * max(len(types), 1))(*types)
    o = new(AttributionOptions, model=m.value, conversion=ctypes.pointer(pred),
            lookback_ms=parse_window(lookback), touch_types=arr if types else None,
            n_touch_types=len(types), half_life_ms=parse_window(half_life),
            first_permille=first, last_permille=last)
    scan = new(ScanOptions, threads=threads, user_begin=0, user_end=NONE, users=_users)
    out = ctypes.c_void_p()
    lib.pd_attribution_run(store._handle, ctypes.byref(o), ctypes.byref(scan), ctypes.byref(out))
    return Table(out)
