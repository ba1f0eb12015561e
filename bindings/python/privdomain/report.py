"""The operator's HTML report (pd_report_html / pd_report_write); Store.report() calls this."""

import ctypes

from ._native import ReportOptions, from_bytes, lib, new, to_bytes

PERIODS = {"day": 0, "week": 1, "week_sunday": 2, "month": 3}


def sections():
    """Ids of the sections this library writes, in page order."""
    out, i = [], 0
    while True:
        s = lib.pd_report_section_id(i)
        if s is None:
            return out
        out.append(from_bytes(s))
        i += 1


def report(store, path=None, title=None, tz=None, period="week", currency_symbol=None, rarra=False,
           referral_cap=2, sections=None, threads=0):
    """Writes the report of store to path and returns path; with path None returns the HTML.
    sections: list of ids (see sections()) or None for all."""
    if period not in PERIODS:
        raise ValueError("period must be one of %s" % ", ".join(PERIODS))
    keep = [to_bytes(title), to_bytes(tz), to_bytes(currency_symbol),
            to_bytes(",".join(sections) if isinstance(sections, (list, tuple)) else sections)]
    opts = new(ReportOptions, title=keep[0], tz=keep[1], period=PERIODS[period],
               currency_symbol=keep[2], rarra=1 if rarra else 0, referral_cap=referral_cap,
               sections=keep[3], threads=threads)
    if path is not None:
        lib.pd_report_write(store._handle, ctypes.byref(opts), to_bytes(path))
        return path
    out = ctypes.c_void_p()
    lib.pd_report_html(store._handle, ctypes.byref(opts), ctypes.byref(out))
    try:
        return ctypes.string_at(out.value).decode("utf-8")
    finally:
        lib.pd_free(out)
