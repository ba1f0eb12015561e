"""Referral ("fission") analytics (see include/privdomain/referral.h).

    r = store.referral(max_depth=2, by="touchpoint")
    r.summary["k"], r.summary["amplification"]       # dict of every SUMMARY metric
    r.depth.to_pandas()                               # depth histogram with K_d
    r.table("beyond_cap")                             # users deeper than the cap
    r.user("alice")                                   # one user's place in the forest
    r.tables()                                        # what `pd referral` prints, by table name

The result reads user names from the store: close it (or let it go) before the
store; a view asked for after the store was closed raises ValueError.

Views (Tables): summary, groups, depth, cycle_time, top, trees, beyond_cap, cost,
projection, issues, forest, largest_tree. Money is int minor units.
"""

import ctypes
import math

from ._native import NONE, ReferralOptions, ReferralUserInfo, lib, new, to_bytes
from .table import Table

_BY = {None: 0, "none": 0, "period": 1, "touchpoint": 2, "domain": 3}
_PERIODS = {"day": 0, "week": 1, "week_sunday": 2, "month": 3}
VIEWS = ("summary", "groups", "depth", "cycle_time", "top", "trees", "beyond_cap", "cost",
         "projection", "issues", "forest", "largest_tree")
# What `pd referral` prints without --view (groups only with a breakdown).
DEFAULT_VIEWS = ("summary", "groups", "depth", "top", "cost", "issues")


def options(max_depth=2, by=None, period="month", tz=None, acquire_attributes=True, cost_begin=None,
            cost_end=None, projection_cycles=10, projection_seed=None, top_n=20, max_examples=20,
            tree_nodes=400, threads=0, _users=None):
    """A pd_referral_options (and the bytes it points at) from keyword arguments."""
    from .store import _time_ms
    if by not in _BY:
        raise ValueError("by must be one of period, touchpoint, domain or None")
    if period not in _PERIODS:
        raise ValueError("period must be one of %s" % ", ".join(_PERIODS))
    if (cost_begin is None) != (cost_end is None):
        raise ValueError("give both cost_begin and cost_end, or neither")
    tz_b = to_bytes(tz)
    o = new(ReferralOptions, threads=threads, max_depth=max_depth, by=_BY[by], period=_PERIODS[period],
            tz=tz_b, acquire_attributes=int(bool(acquire_attributes)),
            cost_begin=0 if cost_begin is None else _time_ms(cost_begin),
            cost_end=0 if cost_end is None else _time_ms(cost_end),
            projection_cycles=projection_cycles,
            projection_seed=0.0 if projection_seed is None else float(projection_seed),
            top_n=top_n, max_examples=max_examples, tree_nodes=tree_nodes, users=_users)
    return o, tz_b


class Referral:
    """The referral forest of a store and its metrics. Keeps the store open
    (user names are read from it) until closed or collected."""

    def __init__(self, store, **kwargs):
        self._store = store
        self._by = kwargs.get("by")
        opts, self._tz = options(**kwargs)
        h = ctypes.c_void_p()
        lib.pd_referral_run(store._handle, ctypes.byref(opts), ctypes.byref(h))
        self._h = h.value
        t = self.table("summary")
        self.summary = {m: (None if v is None or (isinstance(v, float) and math.isnan(v)) else v)
                        for m, v in zip(t["metric"], t["value"])}

    def close(self):
        h, self._h = getattr(self, "_h", None), None
        if h and lib is not None:
            lib.pd_referral_free(h)

    def __del__(self):
        self.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    @property
    def _handle(self):
        if not self._h:
            raise ValueError("referral result is closed")
        return self._h

    def table(self, name):
        """One view as a Table (see VIEWS)."""
        v = lib.pd_referral_view_from_name(to_bytes(name))
        if v < 0:
            raise KeyError("no referral view %r (one of %s)" % (name, ", ".join(VIEWS)))
        if self._store.closed:
            raise ValueError("the store of this referral result is closed (tables read user names from it)")
        out = ctypes.c_void_p()
        lib.pd_referral_table(self._handle, v, ctypes.byref(out))
        return Table(out)

    def tables(self, views=None):
        """{table name: Table} for `views` (names; default: what `pd referral` prints,
        i.e. DEFAULT_VIEWS, groups only with a breakdown). Table names are
        "referral_<view>", the keys of `pd referral --format json`."""
        if views is None:
            views = [v for v in DEFAULT_VIEWS if v != "groups" or self._by not in (None, "none")]
        out = {}
        for v in views:
            t = self.table(v)
            out[t.name] = t
        return out

    def __getattr__(self, name):
        if name in VIEWS:
            return self.table(name)
        raise AttributeError(name)

    @property
    def n_nodes(self):
        return lib.pd_referral_n_nodes(self._handle)

    def user(self, user):
        """A user's place in the forest (user: id or external id) as a dict."""
        uid = self._store.find_user(user) if isinstance(user, str) else user
        x = new(ReferralUserInfo)
        lib.pd_referral_user(self._handle, uid, ctypes.byref(x))
        opt = lambda v: None if v == NONE else v  # noqa: E731
        return {"user": uid, "referrer": opt(x.referrer), "attributed": opt(x.attributed), "root": x.root,
                "depth": x.depth, "direct_referees": x.direct_referees, "descendants": x.descendants,
                "revenue": x.revenue, "descendants_revenue": x.descendants_revenue,
                "acquired": None if x.acquired == -2**63 else x.acquired,
                "touchpoint": opt(x.touchpoint), "invites": x.invites, "purchaser": bool(x.purchaser),
                "has_events": bool(x.has_events)}

    def __repr__(self):
        if not self._h:
            return "<privdomain.Referral (closed)>"
        s = self.summary
        return "<privdomain.Referral: %d users, K=%s, max depth %s>" % (s["users"], s["k"], s["max_depth"])


def projection(k, seed, cycles):
    """Expected total users after each of 0..cycles cycles: seed * sum_{j<=n} K^j."""
    total, gen, out = 0.0, float(seed), []
    for _ in range(cycles + 1):
        total += gen
        out.append(total)
        gen *= k
    return out


__all__ = ["DEFAULT_VIEWS", "Referral", "VIEWS", "options", "projection"]

