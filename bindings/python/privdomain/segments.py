"""Segment filters and breakdowns shared by the analyses (docs/SEGMENTS.md).

    store.funnel(steps, segment="vip")                       # only the users of a segment
    store.retention(segment="revenue >= 10000 and not churned")  # ... or of an expression
    store.rfm(breakdown="segment:vip,new")                   # one table per segment, stacked
    store.ltv(breakdown="tags")                              # one per tag of the store

A segment is a stored segment's name, else a tag's, else an expression
(grammar in include/privdomain/segments.h); ("expr", text) forces an
expression, and any other iterable is a list of user ids or external ids.
A breakdown is "segment:NAME1,NAME2", "tags" (every tag) or a list of
names; the result has a first column `segment`, the segments' rows in the
order given, a user in several segments counted in each. With both, each
segment of the breakdown is intersected with the filter.
"""

import ctypes

from . import errors
from ctypes import POINTER, c_char_p

from ._native import SegmentRunFn, lib, to_bytes
from .table import Table


def users_handle(store, segment):
    """A pd_userset handle (the caller frees it with lib.pd_userset_free) for a segment as
    described in the module doc, or None for segment None."""
    if segment is None:
        return None
    if isinstance(segment, str):
        try:
            return store._segment_set(segment)
        except errors.NotFoundError:
            return store._segment_set(("expr", segment))
    return store._segment_set(segment)


def names(store, breakdown):
    """The segment names of a breakdown spec; ValueError when it is not one."""
    if isinstance(breakdown, str):
        if breakdown in ("tags", "tag"):
            got = [r["tag"] for r in store.tags().rows()]
            if not got:
                raise ValueError("breakdown=\"tags\": the store has no tags")
            return got
        if breakdown.startswith("segment:"):
            got = breakdown[len("segment:"):].split(",")
            if not all(got):
                raise ValueError("breakdown %r: an empty segment name" % breakdown)
            return got
        raise ValueError("breakdown %r: expected \"segment:NAME1,NAME2\" or \"tags\"" % breakdown)
    got = [str(n) for n in breakdown]
    if not got:
        raise ValueError("breakdown: no segment named")
    return got


def is_breakdown(breakdown):
    """Whether a breakdown argument asks for segments (rather than an analysis's own key)."""
    if breakdown is None:
        return False
    if isinstance(breakdown, str):
        return breakdown.startswith("segment:") or breakdown in ("tags", "tag")
    return True


def run(store, segment, breakdown, analysis):
    """analysis(users) -> Table, where users is a pd_userset handle or None (all users).
    Applies the segment filter and, when asked, the segment breakdown."""
    if breakdown is not None and not is_breakdown(breakdown):
        raise ValueError("breakdown %r: expected \"segment:NAME1,NAME2\", \"tags\" or a list of names"
                         % (breakdown,))
    filt = users_handle(store, segment)
    try:
        if breakdown is None:
            return analysis(filt)
        return _breakdown(store, names(store, breakdown), filt, analysis)
    finally:
        if filt:
            lib.pd_userset_free(filt)


def _breakdown(store, segs, filt, analysis):
    failure = []

    def body(ctx, users, out):
        try:
            both = None
            if filt:
                both = ctypes.c_void_p()
                lib.pd_userset_copy(ctypes.byref(both), users)
                lib.pd_userset_and(both, filt)
                users = both
            try:
                t = analysis(users)
            finally:
                if both:
                    lib.pd_userset_free(both)
            out[0], t._h = t._h, None  # the C side frees it
            return 0
        except BaseException as e:  # re-raised below
            failure.append(e)
            return -12  # PD_ERR_CANCELLED: stops the breakdown

    cb = SegmentRunFn(body)
    arr = (c_char_p * len(segs))(*[to_bytes(n) for n in segs])
    out = ctypes.c_void_p()
    try:
        lib.pd_segment_breakdown(store._handle, ctypes.cast(arr, POINTER(c_char_p)), len(segs), None, cb, None,
                                 ctypes.byref(out))
    except errors.CancelledError:
        if failure:
            raise failure[0] from None
        raise
    return Table(out)
