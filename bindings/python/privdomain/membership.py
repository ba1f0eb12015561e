"""Members vs non-members, stored-value users vs others, and before vs after joining
(see include/privdomain/membership.h for every definition).

    res = store.membership(end="2024-12-31T23:59:59Z", min_days=7)
    res.groups         # Table: members, non-members, stored-value users, others
    res.before_after   # Table: (members | stored-value users) x (before | after)
"""

import collections
import ctypes
from ctypes import c_void_p

from ._native import MembershipOptions, lib, new
from .table import Table

Membership = collections.namedtuple("Membership", "groups before_after")

NO_TIME = -(1 << 63)


def membership(store, end=None, min_days=7.0, member_event="member_join", stored_value_event="stored_value",
               threads=0, _users=None):
    """Membership(groups, before_after), two Tables. end: observation end (inclusive; ms,
    aware datetime or text; None = the latest event); member_event / stored_value_event:
    event type names or ids of joining and of a top-up; min_days: least observed days on
    each side of the join for the before/after comparison."""
    from .store import _time_ms

    def type_id(t):
        return t if isinstance(t, int) else store.find_event_type(t)
    o = new(MembershipOptions, end=NO_TIME if end is None else _time_ms(end), min_days=float(min_days),
            member_type=type_id(member_event), stored_value_type=type_id(stored_value_event), threads=int(threads),
            users=_users)
    g, ba = c_void_p(), c_void_p()
    lib.pd_membership_compare(store._handle, ctypes.byref(o), ctypes.byref(g), ctypes.byref(ba))
    return Membership(Table(g), Table(ba))


__all__ = ["membership", "Membership"]
