"""Customer lifetime value models over RFM summaries (see include/privdomain/clv.h).

    from privdomain import clv
    bgf = clv.BetaGeo().fit(summary)          # summary: dict of columns, pandas DataFrame or Table
    bgf.params                                # {"r": ..., "alpha": ..., "a": ..., "b": ...}
    bgf.predict_purchases(39, summary)        # per customer, next 39 time units
    bgf.p_alive(summary)
    users, by_tp = bgf.dormant(rfm_table, 0.2)  # "zombie" contacts: P(alive) < 0.2, by touchpoint
    ggf = clv.GammaGamma().fit(summary)       # needs "monetary_value" (mean repeat spend)
    ggf.clv(bgf, summary, months=12, monthly_discount=0.01, units_per_month=4.345)

Summary columns (either name): frequency | x, recency | t_x, T (| n for BG/BB),
monetary_value | monetary | m_x, weights | weight. Times are in the caller's unit
(weeks, days...); every horizon below is in that same unit.
"""

import ctypes
from ctypes import POINTER, c_double, c_void_p

from ._native import ClvFitOptions, ClvSummary, LtvOptions, RfmOptions, from_bytes, lib, new, to_bytes
from .table import Table

_ALIASES = {
    "x": ("frequency", "x"),
    "t_x": ("recency", "t_x"),
    "T": ("T", "n", "periods"),
    "monetary": ("monetary_value", "monetary", "m_x", "zbar"),
    "weight": ("weights", "weight"),
}


def _column(summary, key, required=True):
    for name in _ALIASES[key]:
        try:
            col = summary[name]
        except (KeyError, IndexError, TypeError):
            continue
        return [float(v) for v in (col.tolist() if hasattr(col, "tolist") else col)]
    if required:
        raise KeyError("summary has no %s column (one of %s)" % (key, ", ".join(_ALIASES[key])))
    return None


class _Summary:
    """Keeps the C arrays alive while a pd_clv_summary points at them."""

    def __init__(self, summary, need_times=True, need_monetary=False):
        cols = {"x": _column(summary, "x"),
                "t_x": _column(summary, "t_x", need_times),
                "T": _column(summary, "T", need_times),
                "monetary": _column(summary, "monetary", need_monetary),
                "weight": _column(summary, "weight", False)}
        n = len(cols["x"])
        for k, v in cols.items():
            if v is not None and len(v) != n:
                raise ValueError("column %s has %d rows, expected %d" % (k, len(v), n))
        self.n = n
        self._arrays = {k: (c_double * n)(*v) for k, v in cols.items() if v is not None}
        self.c = new(ClvSummary, n=n)
        for k, arr in self._arrays.items():
            setattr(self.c, k, ctypes.cast(arr, POINTER(c_double)))

    def ref(self):
        return ctypes.byref(self.c)

    def out(self):
        return (c_double * max(self.n, 1))()


class _Model:
    kind = 0
    param_names = ()

    def __init__(self, penalizer=0.0):
        self.penalizer = float(penalizer)
        self._h = None

    def __del__(self):
        h, self._h = getattr(self, "_h", None), None
        if h and lib is not None:
            lib.pd_clv_model_free(h)

    def _set(self, handle):
        if self._h:
            lib.pd_clv_model_free(self._h)
        self._h = handle.value

    @classmethod
    def from_params(cls, **params):
        """A model with known parameters (natural scale), e.g. published ones."""
        m = cls()
        vals = (c_double * len(cls.param_names))(*[float(params[k]) for k in cls.param_names])
        h = c_void_p()
        lib.pd_clv_model_new(cls.kind, vals, len(cls.param_names), ctypes.byref(h))
        m._set(h)
        return m

    def fit(self, summary, start=None, tol=0.0, max_iter=0, threads=0):
        """Maximum likelihood fit; returns self. threads: for the likelihood sums of
        large summaries (0 = one per core; the result does not depend on it)."""
        s = _Summary(summary, need_times=self.kind != 5, need_monetary=self.kind == 5)
        opts = new(ClvFitOptions, penalty=self.penalizer, tol=tol, max_iter=max_iter, threads=int(threads))
        if start is not None:
            arr = (c_double * len(self.param_names))(*[float(start[k]) for k in self.param_names])
            opts.start = ctypes.cast(arr, POINTER(c_double))
        h = c_void_p()
        lib.pd_clv_fit(self.kind, s.ref(), ctypes.byref(opts), ctypes.byref(h))
        self._set(h)
        return self

    def _fit_rfm_table(self, rfm_table, threads=0):
        """fit() on a Table from rfm() directly (its columns, no copy to Python); returns self."""
        opts = new(ClvFitOptions, penalty=self.penalizer, threads=int(threads))
        h = c_void_p()
        lib.pd_clv_fit_table(self.kind, rfm_table._h, ctypes.byref(opts), ctypes.byref(h))
        self._set(h)
        return self

    def _check(self):
        if not self._h:
            raise RuntimeError("model not fitted")
        return self._h

    @property
    def params(self):
        h = self._check()
        return {from_bytes(lib.pd_clv_model_param_name(h, i)): lib.pd_clv_model_param(h, i)
                for i in range(lib.pd_clv_model_n_params(h))}

    @property
    def stderr(self):
        h = self._check()
        return {from_bytes(lib.pd_clv_model_param_name(h, i)): lib.pd_clv_model_stderr(h, i)
                for i in range(lib.pd_clv_model_n_params(h))}

    @property
    def loglik(self):
        return lib.pd_clv_model_loglik(self._check())

    @property
    def converged(self):
        return bool(lib.pd_clv_model_converged(self._check()))

    def summary_table(self):
        """Table clv_params: param, value, stderr, then loglik and converged rows."""
        out = c_void_p()
        lib.pd_clv_model_table(self._check(), ctypes.byref(out))
        return Table(out)

    def __repr__(self):
        if not self._h:
            return "<%s (not fitted)>" % type(self).__name__
        p = ", ".join("%s=%.4g" % kv for kv in self.params.items())
        return "<%s %s loglik=%.4f>" % (type(self).__name__, p, self.loglik)


class _CountModel(_Model):
    def expected_purchases(self, t):
        """E[X(t)] for a new customer over t time units after the first purchase."""
        out = c_double()
        lib.pd_clv_expected_purchases(self._check(), float(t), ctypes.byref(out))
        return out.value

    def predict_purchases(self, t, summary):
        """Per customer: expected purchases in the next t time units (list)."""
        s = _Summary(summary)
        out = s.out()
        lib.pd_clv_predict_purchases(self._check(), s.ref(), float(t), out)
        return list(out[:s.n])

    def p_alive(self, summary):
        """Per customer: probability of still being alive at T (list)."""
        s = _Summary(summary)
        out = s.out()
        lib.pd_clv_predict_alive(self._check(), s.ref(), out)
        return list(out[:s.n])

    def predict(self, horizon, summary, spend_model=None, months=12, monthly_discount=0.01,
                units_per_month=4.345):
        """Table clv_predictions (per customer: p_alive, expected_purchases, and with a
        GammaGamma spend_model also expected_spend and clv)."""
        s = _Summary(summary, need_monetary=spend_model is not None)
        out = c_void_p()
        lib.pd_clv_predict_table(self._check(), spend_model._check() if spend_model else None, s.ref(),
                                 float(horizon), float(months), float(monthly_discount),
                                 float(units_per_month), ctypes.byref(out))
        return Table(out)


    def dormant(self, rfm_table, threshold=0.1):
        """Dormant ("zombie") customers of an RFM Table (rfm(), Store.rfm(),
        rfm_from_transactions()): P(alive) below threshold (0 < threshold <= 1).
        Returns (users, by_touchpoint): Table ltv_dormant (user, touchpoint, frequency,
        recency, T, p_alive, revenue; least alive first) and Table
        ltv_dormant_touchpoints (touchpoint, customers, dormant, dormant_share,
        mean_p_alive)."""
        return dormant(self, rfm_table, threshold)


class BetaGeo(_CountModel):
    """BG/NBD (Fader, Hardie & Lee 2005)."""
    kind, param_names = 1, ("r", "alpha", "a", "b")


class ModifiedBetaGeo(_CountModel):
    """MBG/NBD (Batislam, Denizel & Filiztekin 2007)."""
    kind, param_names = 2, ("r", "alpha", "a", "b")


class ParetoNBD(_CountModel):
    """Pareto/NBD (Schmittlein, Morrison & Colombo 1987)."""
    kind, param_names = 3, ("r", "alpha", "s", "beta")

    def dert(self, discount_per_unit, summary):
        """Discounted expected residual transactions at a continuous rate per time unit."""
        s = _Summary(summary)
        out = s.out()
        lib.pd_clv_predict_dert(self._check(), s.ref(), float(discount_per_unit), out)
        return list(out[:s.n])


class BetaGeoBetaBinom(_CountModel):
    """BG/BB for discrete opportunities (Fader, Hardie & Shang 2010); T is n."""
    kind, param_names = 4, ("alpha", "beta", "gamma", "delta")


class GammaGamma(_Model):
    """Gamma-Gamma spend per transaction; fitted on customers with frequency > 0."""
    kind, param_names = 5, ("p", "q", "gamma")

    def predict_spend(self, summary):
        """Per customer: expected mean spend per future transaction (list)."""
        s = _Summary(summary, need_times=False, need_monetary=True)
        out = s.out()
        lib.pd_clv_predict_spend(self._check(), s.ref(), out)
        return list(out[:s.n])

    def clv(self, count_model, summary, months=12, monthly_discount=0.01, units_per_month=4.345):
        """Per customer discounted CLV over `months` (discrete monthly discounting)."""
        s = _Summary(summary, need_monetary=True)
        out = s.out()
        lib.pd_clv_predict_value(count_model._check(), self._check(), s.ref(), float(months),
                                 float(monthly_discount), float(units_per_month), out)
        return list(out[:s.n])


_PERIODS = {"day": 0, "week": 1, "week_sunday": 2, "month": 3}
NO_TIME = -(1 << 63)


def _rfm_options(tz, period, period_multiple, unit_days, calibration_end, holdout_end, threads):
    from .store import _time_ms
    if period not in _PERIODS:
        raise ValueError("period must be one of %s" % ", ".join(_PERIODS))
    calibration_end = None if calibration_end is None else _time_ms(calibration_end)
    holdout_end = None if holdout_end is None else _time_ms(holdout_end)
    o = new(RfmOptions, tz=to_bytes(tz), period=_PERIODS[period], period_multiple=int(period_multiple),
            unit_days=float(unit_days), threads=int(threads),
            calibration_end=NO_TIME if calibration_end is None else int(calibration_end),
            holdout_end=NO_TIME if holdout_end is None else int(holdout_end))
    return o


def rfm(store, unit_days=1.0, calibration_end=None, holdout_end=None, period="day", period_multiple=1,
        tz=None, threads=0, _users=None):
    """RFM summary Table of a privdomain.Store (purchases and refunds): user, first_purchase,
    touchpoint, frequency, recency, T, monetary_value, revenue [+ holdout columns].
    calibration_end / holdout_end are ms UTC, aware datetimes or text (their whole local
    day counts; without calibration_end the observation ends on the day of the latest
    purchase or refund); times come
    out in units of unit_days days (7 = weeks). Feed the Table to a model's fit()."""
    o = _rfm_options(tz, period, period_multiple, unit_days, calibration_end, holdout_end, threads)
    o.users = _users
    out = c_void_p()
    lib.pd_rfm_from_store(store._handle, ctypes.byref(o), ctypes.byref(out))
    return Table(out)


def rfm_from_transactions(users, times_ms, amounts, unit_days=1.0, calibration_end=None, holdout_end=None,
                          period="day", period_multiple=1, tz=None):
    """RFM summary Table from parallel sequences (user id, ms UTC, minor-unit amount; a
    negative amount is a refund)."""
    n = len(users)
    if len(times_ms) != n or len(amounts) != n:
        raise ValueError("users, times_ms and amounts differ in length")
    u = (ctypes.c_uint32 * max(n, 1))(*users)
    t = (ctypes.c_int64 * max(n, 1))(*times_ms)
    a = (ctypes.c_int64 * max(n, 1))(*amounts)
    o = _rfm_options(tz, period, period_multiple, unit_days, calibration_end, holdout_end, 0)
    out = c_void_p()
    lib.pd_rfm_from_arrays(n, u, t, a, ctypes.byref(o), ctypes.byref(out))
    return Table(out)


def dormant(count_model, rfm_table, threshold=0.1):
    """Dormant customers by touchpoint (see _CountModel.dormant): (users, by_touchpoint)."""
    if not isinstance(rfm_table, Table):
        raise TypeError("dormant needs an RFM Table (privdomain.clv.rfm or Store.rfm)")
    users, by_tp = c_void_p(), c_void_p()
    lib.pd_ltv_dormant(count_model._check(), rfm_table._h, float(threshold), ctypes.byref(users),
                       ctypes.byref(by_tp))
    return Table(users), Table(by_tp)


def ltv(store, cohort_period="month", as_of=None, tz=None, users=False, threads=0, _users=None):
    """Historical value of a privdomain.Store by acquisition touchpoint and cohort:
    (by_touchpoint, by_cohort[, by_user]) Tables ltv_touchpoints (customers, buyers,
    revenue, spend, CAC, LTV:CAC), ltv_cohorts and, with users=True, ltv_users.
    as_of: count events up to this instant (ms UTC, aware datetime or text)."""
    from .store import _time_ms
    if cohort_period not in _PERIODS:
        raise ValueError("cohort_period must be one of %s" % ", ".join(_PERIODS))
    o = new(LtvOptions, tz=to_bytes(tz), cohort_period=_PERIODS[cohort_period], threads=int(threads),
            as_of=(1 << 63) - 1 if as_of is None else _time_ms(as_of), users=_users)
    tu, tc, tt = c_void_p(), c_void_p(), c_void_p()
    lib.pd_ltv_history(store._handle, ctypes.byref(o), ctypes.byref(tu) if users else None, ctypes.byref(tc),
                       ctypes.byref(tt))
    out = (Table(tt), Table(tc))
    return out + (Table(tu),) if users else out


__all__ = ["rfm", "rfm_from_transactions", "dormant", "ltv", "BetaGeo", "ModifiedBetaGeo", "ParetoNBD", "BetaGeoBetaBinom", "GammaGamma"]
