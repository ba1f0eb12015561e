"""Cohort retention, cohort revenue, lifecycle and stickiness (include/privdomain/retention.h).

    t = store.retention(period="week", tz="Asia/Shanghai", periods=13)        # long table
    store.retention(period="week", table="rates")   # cohort x k matrix of rates
    store.retention(mode="on_or_after", table="average", by="touchpoint")
    store.lifecycle(period="week")                  # new / returning / resurrecting / dormant
    store.stickiness(period="week")                 # users by active days per week

Event types and touchpoints are given by name (or id); times (as_of) in ms UTC.
"""

import ctypes
from ctypes import POINTER, c_uint32, c_void_p

from ._native import (LifecycleOptions, RetentionOptions, ScanOptions, StickinessOptions, lib, new,
                      to_bytes)
from .table import Table

PERIODS = {"day": 0, "week": 1, "week_sunday": 2, "month": 3}
MODES = {"classic": 0, "on_or_after": 1}
BY = {None: 0, "none": 0, "touchpoint": 1, "domain": 2}
DOMAINS = {None: -1, "unknown": 0, "public": 1, "private": 2, "semi": 3}
TABLES = ("long", "rates", "average")
_WINDOW_UNITS = {"ms": 1, "s": 1000, "m": 60000, "h": 3600000, "d": 86400000, "w": 604800000}


def _choice(name, value, table):
    if value not in table:
        raise ValueError("%s must be one of %s, not %r" % (name, ", ".join(str(k) for k in table if k), value))
    return table[value]


def _ids(store, items, finder):
    """Names or ids -> a ctypes uint32 array (or None for an empty selection)."""
    if items is None:
        return None
    if isinstance(items, (str, int)):
        items = [items]
    ids = [i if isinstance(i, int) else finder(i) for i in items]
    return (c_uint32 * len(ids))(*ids) if ids else None


def _set_array(opts, field, n_field, arr):
    if arr is not None:
        setattr(opts, field, ctypes.cast(arr, POINTER(c_uint32)))
        setattr(opts, n_field, len(arr))


def _window(window):
    """None/0 -> 0; int ms; or text such as "24h", "7d"."""
    if not window:
        return 0
    if isinstance(window, int):
        return window
    text = str(window).strip()
    for unit in ("ms", "s", "m", "h", "d", "w"):
        if text.endswith(unit) and text[:-len(unit)].isdigit():
            return int(text[:-len(unit)]) * _WINDOW_UNITS[unit]
    raise ValueError("window must be ms or text like 24h, 7d: %r" % (window,))


def _scan(threads, users=None):
    return new(ScanOptions, threads=int(threads or 0), user_begin=0, user_end=0xFFFFFFFF, users=users)


def retention(store, period="day", tz=None, start=None, returns=None, return_touchpoints=None,
              return_domain=None, recurring=False, window=None, mode="classic", periods=0, by=None,
              as_of=None, complete_only=False, table="long", threads=0, _users=None):
    """Cohort retention and revenue as a Table; see retention.h for every definition.

    start: event types starting a cohort (default acquire); returns: event types that count
    as a return (default every type not in start); return_touchpoints / return_domain restrict
    returns; recurring: every period with a start is a cohort; window: rolling windows
    ("24h") instead of calendar periods; mode: classic | on_or_after; periods: k columns
    (0 = all observable); by: None | touchpoint | domain (of the first acquire);
    complete_only: leave out periods that have not ended by as_of (the partial last one);
    table: long | rates | average."""
    if table not in TABLES:
        raise ValueError("table must be one of %s" % ", ".join(TABLES))
    o = new(RetentionOptions, period=_choice("period", period, PERIODS), tz=to_bytes(tz),
            recurring=int(bool(recurring)), window_ms=_window(window), mode=_choice("mode", mode, MODES),
            n_periods=int(periods), by=_choice("by", by, BY),
            return_domain=_choice("return_domain", return_domain, DOMAINS),
            as_of_ms=-2**63 if as_of is None else int(as_of), complete_only=int(bool(complete_only)))
    keep = [_ids(store, start, store.find_event_type), _ids(store, returns, store.find_event_type),
            _ids(store, return_touchpoints, store.find_touchpoint)]
    _set_array(o, "start_types", "n_start_types", keep[0])
    _set_array(o, "return_types", "n_return_types", keep[1])
    _set_array(o, "return_touchpoints", "n_return_touchpoints", keep[2])
    outs = [c_void_p(), c_void_p(), c_void_p()]
    refs = [ctypes.byref(h) if name == table else None for name, h in zip(TABLES, outs)]
    lib.pd_retention_run(store._handle, ctypes.byref(o), ctypes.byref(_scan(threads, _users)), *refs)
    return Table(outs[TABLES.index(table)].value)


def lifecycle(store, period="week", tz=None, active=None, threads=0, _users=None):
    """New / returning / resurrecting / dormant users per period as a Table.
    active: event types that make a user active (default any)."""
    o = new(LifecycleOptions, period=_choice("period", period, PERIODS), tz=to_bytes(tz))
    keep = _ids(store, active, store.find_event_type)
    _set_array(o, "active_types", "n_active_types", keep)
    out = c_void_p()
    lib.pd_lifecycle_run(store._handle, ctypes.byref(o), ctypes.byref(_scan(threads, _users)), ctypes.byref(out))
    return Table(out.value)


def stickiness(store, period="week", tz=None, active=None, per_period=False, threads=0, _users=None):
    """Users by active days per week (period week / week_sunday) or active ISO weeks per
    month (period month), pooled or per period, as a Table."""
    o = new(StickinessOptions, period=_choice("period", period, PERIODS), tz=to_bytes(tz),
            per_period=int(bool(per_period)))
    keep = _ids(store, active, store.find_event_type)
    _set_array(o, "active_types", "n_active_types", keep)
    out = c_void_p()
    lib.pd_stickiness_run(store._handle, ctypes.byref(o), ctypes.byref(_scan(threads, _users)),
                          ctypes.byref(out))
    return Table(out.value)
