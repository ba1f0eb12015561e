"""RFM scores (1..bins per dimension) and the eight classic RFM layers
(see include/privdomain/rfm_layers.h for every definition).

    from privdomain.rfm_layers import rfm_layers
    res = rfm_layers(store)                      # R, F, M over the whole history
    res = rfm_layers(store, window=("2024-01-01", "2024-07-01"), tz="Asia/Shanghai")
    res = rfm_layers(privdomain.clv.rfm(store))  # from the CLV module's RFM summary
    res = rfm_layers({"recency": [...], "frequency": [...], "monetary": [...]})
    res.users, res.layers, res.thresholds        # Tables

Quantile scores equal pandas.qcut(x, bins, labels=False) + 1 when the quantile
edges are distinct (R: qcut(-recency, ...)); with tied edges they equal
1 + sum(x > x.quantile(k / bins) for k in range(1, bins)).
"""

import collections
import ctypes
from ctypes import POINTER, c_double, c_void_p

from ._native import RfmLayerOptions, from_bytes, lib, new, to_bytes
from .table import Table

RfmLayers = collections.namedtuple("RfmLayers", "users layers thresholds")

NO_TIME = -(1 << 63)
_QUANTILE, _THRESHOLDS = 0, 1


def layer_names():
    """[(layer, Chinese name, English name, suggested action)] for layers 1..8."""
    return [(k, from_bytes(lib.pd_rfm_layer_name_zh(k)), from_bytes(lib.pd_rfm_layer_name(k)),
             from_bytes(lib.pd_rfm_layer_action(k))) for k in range(1, 9)]


def _doubles(values, n, what):
    values = [float(v) for v in values]
    if len(values) != n:
        raise ValueError("%s needs %d values, got %d" % (what, n, len(values)))
    return (c_double * n)(*values)


def _options(bins, thresholds, split, window, tz, threads):
    from .store import _time_ms
    o = new(RfmLayerOptions, bins=int(bins), tz=to_bytes(tz), threads=int(threads),
            window_begin=NO_TIME, window_end=NO_TIME)
    keep = []
    if thresholds is not None:
        o.score_method = _THRESHOLDS
        for d in "rfm":
            arr = _doubles(thresholds[d], int(bins) - 1, "thresholds[%r]" % d)
            keep.append(arr)
            setattr(o, d + "_cuts", ctypes.cast(arr, POINTER(c_double)))
    if split is not None:
        o.split = 1
        o.r_split, o.f_split, o.m_split = (float(v) for v in split)
    if window is not None:
        begin, end = window
        o.window_begin = NO_TIME if begin is None else _time_ms(begin)
        o.window_end = NO_TIME if end is None else _time_ms(end)
    return o, keep


def rfm_layers(source, bins=5, thresholds=None, split=None, window=None, tz=None, threads=0, _users=None):
    """Scores and layers (RfmLayers of three Tables: users, layers, thresholds).

    source: a privdomain.Store (R = whole local days to the window's end, F = purchase
    events, M = net revenue, within window=(begin, end), begin inclusive, end exclusive,
    either None; times as ms, aware datetimes or text), an RFM summary Table of
    privdomain.clv.rfm() (R = T - recency, F = frequency + 1, M = revenue), or columns
    recency, frequency, monetary (and optionally user) as a dict or DataFrame.
    thresholds: {"r": [...], "f": [...], "m": [...]} with bins - 1 increasing upper bounds
    each, instead of quantiles. split: (r, f, m) high/low values instead of the means."""
    from .store import Store
    o, keep = _options(bins, thresholds, split, window, tz, threads)
    outs = [c_void_p(), c_void_p(), c_void_p()]
    refs = [ctypes.byref(x) for x in outs]
    if isinstance(source, Store):
        o.users = _users
        lib.pd_rfm_layers_from_store(source._handle, ctypes.byref(o), *refs)
    elif isinstance(source, Table):
        if window is not None:
            raise ValueError("window applies to a Store source only")
        lib.pd_rfm_layers_from_summary(source._h, ctypes.byref(o), *refs)
    else:
        if window is not None:
            raise ValueError("window applies to a Store source only")
        cols = {}
        for name in ("recency", "frequency", "monetary"):
            col = source[name]
            cols[name] = [float(v) for v in (col.tolist() if hasattr(col, "tolist") else col)]
        n = len(cols["recency"])
        arrs = {k: _doubles(v, n, k) for k, v in cols.items()}
        users = None
        try:
            u = source["user"]
        except (KeyError, IndexError, TypeError):
            u = None
        if u is not None:
            u = [int(v) for v in (u.tolist() if hasattr(u, "tolist") else u)]
            if len(u) != n:
                raise ValueError("user has %d values, expected %d" % (len(u), n))
            users = (ctypes.c_uint32 * max(n, 1))(*u)
        lib.pd_rfm_layers_from_values(n, users, arrs["recency"], arrs["frequency"], arrs["monetary"],
                                      ctypes.byref(o), *refs)
    del keep
    return RfmLayers(*(Table(x) for x in outs))


__all__ = ["rfm_layers", "layer_names", "RfmLayers"]
