"""Touchpoint scorecards and public -> private migration (touchpoints.h).

    t = store.touchpoint_scorecard(period="2024-03", tz="Asia/Shanghai")  # per touchpoint
    t = store.touchpoint_scorecard(period="2024-03", by="domain", users="vip")  # a segment, per domain
    m = store.migration(period="2024-03", tz="Asia/Shanghai")        # public -> private, reverse

Every metric (CAC null without spend or users, on-or-after 7/30-day retention, message
reach, LTV, CLV with a fitted model, K, private share, accessibility / connection /
endurance) is defined in include/privdomain/touchpoints.h and docs/TOUCHPOINTS.md.
"""

import ctypes
import datetime

from ._native import TouchpointOptions, lib, new, to_bytes
from .table import Table

BY = ("touchpoint", "domain", "carrier")
_MIN, _MAX = -(1 << 63), (1 << 63) - 1


def _local(date_text, tz):
    b, out = to_bytes(date_text), ctypes.c_int64()
    lib.pd_time_parse(b, len(b), to_bytes(tz), ctypes.byref(out))
    return out.value


def period_bounds(period, tz=None):
    """"2024", "2024-03" or "2024-03-05" -> (from_ms, to_ms): that local year, month or day in tz."""
    if not isinstance(period, str):
        raise TypeError("period must be text such as '2024-03'")
    try:
        if len(period) == 4:
            y = int(period)
            a, b = datetime.date(y, 1, 1), datetime.date(y + 1, 1, 1)
        elif len(period) == 7 and period[4] == "-":
            y, m = int(period[:4]), int(period[5:])
            a = datetime.date(y, m, 1)
            b = datetime.date(y + (m == 12), m % 12 + 1, 1)
        elif len(period) == 10:
            a = datetime.date.fromisoformat(period)
            b = a + datetime.timedelta(days=1)
        else:
            raise ValueError
    except ValueError:
        raise ValueError("period %r: expected YYYY, YYYY-MM or YYYY-MM-DD" % period) from None
    return _local(a.isoformat(), tz), _local(b.isoformat(), tz)


def _options(store, period, start, end, tz, by, as_of, users, clv, gg, months, discount, threads):
    from .store import _time_ms
    if by not in BY:
        raise ValueError("by must be one of %s" % ", ".join(BY))
    if period is not None and (start is not None or end is not None):
        raise ValueError("give either period or start/end")
    lo, hi = period_bounds(period, tz) if period is not None else (_MIN, _MAX)
    if start is not None:
        lo = _local(start, tz) if isinstance(start, str) else _time_ms(start)
    if end is not None:
        hi = _local(end, tz) if isinstance(end, str) else _time_ms(end)
    if (clv is None) != (gg is None):
        raise ValueError("predicted CLV needs both clv (a count model) and gg (Gamma-Gamma)")
    o = new(TouchpointOptions, from_ms=lo, to_ms=hi, tz=to_bytes(tz), by=BY.index(by),
            as_of_ms=_MIN if as_of is None else _time_ms(as_of), clv_months=float(months),
            clv_monthly_discount=float(discount), threads=int(threads))
    if clv is not None:
        o.clv, o.gg = clv._check(), gg._check()
    return o


def _run(fn, store, users, opts):
    s = store._segment_set(users) if users is not None else None
    try:
        opts.users = s.value if s is not None else None
        out = ctypes.c_void_p()
        fn(store._handle, ctypes.byref(opts), ctypes.byref(out))
        return Table(out)
    finally:
        if s is not None:
            lib.pd_userset_free(s)


def scorecard(store, period=None, tz=None, by="touchpoint", start=None, end=None, as_of=None,
                users=None, clv=None, gg=None, months=12, discount=0.01, threads=0):
    """The scorecard (Table "touchpoint_scorecard") of the users acquired in the period: `period`
    ("2024-03", local in tz) or start / end (inclusive / exclusive; local dates or times in tz,
    ms, or aware datetimes); default all time. by: touchpoint, domain or carrier. users: a
    segment or tag name, ("expr", text) or user ids. clv and gg: fitted privdomain.clv models
    (BG/NBD, MBG/NBD or Pareto/NBD, and Gamma-Gamma, fitted in days) for the clv columns."""
    o = _options(store, period, start, end, tz, by, as_of, users, clv, gg, months, discount, threads)
    return _run(lib.pd_touchpoint_scorecard, store, users, o)


def migration(store, period=None, tz=None, start=None, end=None, as_of=None, users=None, clv=None,
              gg=None, months=12, discount=0.01, threads=0):
    """Public -> private migration and the reverse flow (Table "touchpoint_migration"), options
    as scorecard()."""
    o = _options(store, period, start, end, tz, "touchpoint", as_of, users, clv, gg, months, discount,
                 threads)
    return _run(lib.pd_touchpoint_migration, store, users, o)
