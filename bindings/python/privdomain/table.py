"""Table: a pd_table as plain Python (columns, list of dicts) or a pandas DataFrame.

A Table owns its pd_table and frees it when garbage collected; cells are read
into Python lists column by column on first use, null cells become None.
"""

import ctypes

from ._native import lib, from_bytes

INT64, DOUBLE, STRING = 1, 2, 3
_TYPES = {INT64: "int64", DOUBLE: "double", STRING: "string"}
_FORMATS = {"text": 0, "csv": 1, "json": 2}


class Table:
    """Named, typed columns. t.name, t.columns (names), t.types, t["col"] (a list),
    t[i] / iteration / t.rows() (dicts), len(t), t.to_pandas(), t.format("csv")."""

    def __init__(self, handle):
        """Takes ownership of a pd_table * (int or c_void_p) returned by the library."""
        self._h = handle.value if isinstance(handle, ctypes.c_void_p) else handle
        if not self._h:
            raise ValueError("NULL pd_table")
        h = self._h
        self.name = from_bytes(lib.pd_table_name(h))
        self._nrows = lib.pd_table_n_rows(h)
        self.columns = [from_bytes(lib.pd_table_col_name(h, c)) for c in range(lib.pd_table_n_cols(h))]
        self.types = {n: _TYPES[lib.pd_table_col_type(h, c)] for c, n in enumerate(self.columns)}
        self._data = {}

    def __del__(self):
        h, self._h = getattr(self, "_h", None), None
        if h and lib is not None:
            lib.pd_table_free(h)

    def _column(self, name):
        values = self._data.get(name)
        if values is None:
            h, c, null = self._h, self.columns.index(name), lib.pd_table_is_null
            kind = self.types[name]
            if kind == "int64":
                get = lib.pd_table_get_int64
            elif kind == "double":
                get = lib.pd_table_get_double
            else:
                get = lambda h, r, c: from_bytes(lib.pd_table_get_string(h, r, c))  # noqa: E731
            values = [None if null(h, r, c) else get(h, r, c) for r in range(self._nrows)]
            self._data[name] = values
        return values

    def __len__(self):
        return self._nrows

    def __getitem__(self, key):
        """t["column"] -> list of values; t[row] -> dict."""
        if isinstance(key, str):
            if key not in self.types:
                raise KeyError(key)
            return self._column(key)
        return {c: self._column(c)[key] for c in self.columns}

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def rows(self):
        """The rows as a list of dicts."""
        return list(self)

    def to_dict(self):
        """{column name: list of values}."""
        return {c: list(self._column(c)) for c in self.columns}

    def to_pandas(self):
        """A pandas DataFrame (nullable Int64 for integer columns with nulls). Needs pandas."""
        try:
            import pandas
        except ImportError as e:
            raise ImportError("Table.to_pandas() needs pandas (Debian: python3-pandas)") from e
        data = {}
        for c in self.columns:
            values, kind = self._column(c), self.types[c]
            if kind == "int64":
                dtype = "Int64" if None in values else "int64"
            elif kind == "double":
                dtype, values = "float64", [float("nan") if v is None else v for v in values]
            else:
                dtype = "object"
            data[c] = pandas.Series(values, dtype=dtype)
        return pandas.DataFrame(data, columns=self.columns)

    def format(self, fmt="text"):
        """The library's rendering: "text" (aligned), "csv" or "json"."""
        if fmt not in _FORMATS:
            raise ValueError("format must be one of %s" % ", ".join(_FORMATS))
        buf, n = ctypes.c_void_p(), ctypes.c_size_t()
        lib.pd_table_format(self._h, _FORMATS[fmt], ctypes.byref(buf), ctypes.byref(n))
        try:
            return ctypes.string_at(buf.value, n.value).decode("utf-8", "replace")
        finally:
            lib.pd_free(buf)

    def __repr__(self):
        return "<Table %s: %d rows>\n%s" % (self.name, len(self), self.format("text"))

