"""SVG charts of a Table (pd_chart_svg): the same drawing code as the CLI's --svg and the report.

    from privdomain import chart
    svg = chart.svg(store.touchpoints(), kind="hbar", value_cols="daily_spend", format="currency")
    chart.write(table, "out.svg", kind="heatmap", label_col="cohort", series_col="k",
                value_cols="rate", format="percent")
"""

import ctypes

from ._native import ChartSpec, from_bytes, lib, new, to_bytes

KINDS = {"bar": 1, "hbar": 2, "grouped": 3, "stacked": 4, "line": 5, "heatmap": 6, "funnel": 7,
         "tree": 8}
FORMATS = {"auto": 0, "integer": 1, "currency": 2, "percent": 3, "plain": 4}
_TEXT = ("title", "subtitle", "label_col", "value_cols", "series_col", "note_col", "x_title",
         "y_title", "currency_symbol", "ref_label", "node_col", "parent_col", "highlight_col",
         "highlight_label")


def _spec(kind="bar", format="auto", decimals=-1, width=0, height=0, ref=None, max_items=0, **text):
    if kind not in KINDS:
        raise ValueError("kind must be one of %s" % ", ".join(KINDS))
    if format not in FORMATS:
        raise ValueError("format must be one of %s" % ", ".join(FORMATS))
    unknown = set(text) - set(_TEXT)
    if unknown:
        raise TypeError("unknown chart option(s): %s" % ", ".join(sorted(unknown)))
    keep = {k: to_bytes(",".join(v) if k == "value_cols" and isinstance(v, (list, tuple)) else v)
            for k, v in text.items()}
    spec = new(ChartSpec, kind=KINDS[kind], format=FORMATS[format], decimals=decimals, width=width,
               height=height, has_ref=0 if ref is None else 1,
               ref_value=0.0 if ref is None else float(ref), max_items=max_items, **keep)
    return spec, keep  # keep: the bytes must outlive the call


def svg(table, **options):
    """The chart as SVG text. Options: kind (bar, hbar, grouped, stacked, line, heatmap, funnel,
    tree), format (auto, integer, currency, percent, plain), decimals, width, height, ref (a
    reference value), max_items, and the text fields of pd_chart_spec (title, label_col,
    value_cols as "a,b" or a list, series_col, note_col, x_title, y_title, currency_symbol,
    ref_label, node_col, parent_col)."""
    spec, _keep = _spec(**options)
    out = ctypes.c_void_p()
    lib.pd_chart_svg(table._h, ctypes.byref(spec), ctypes.byref(out))
    try:
        return ctypes.string_at(out.value).decode("utf-8")
    finally:
        lib.pd_free(out)


def write(table, path, **options):
    """Writes the chart of svg() to path."""
    spec, _keep = _spec(**options)
    lib.pd_chart_write(table._h, ctypes.byref(spec), to_bytes(path))


def format_value(value, format="plain", currency_symbol=None, decimals=-1):
    """A number as the charts show it: format_value(123456, "currency") -> "¥1,234.56"."""
    buf = ctypes.create_string_buffer(128)
    lib.pd_chart_format_value(float(value), FORMATS[format], to_bytes(currency_symbol), decimals, buf,
                              len(buf))
    return from_bytes(buf.value)
