"""libprivdomain Python bindings (ctypes; pandas optional).

    import privdomain
    with privdomain.Store("shop.pds", create=True) as store:
        store.ingest("events.csv")
        print(store.info())                 # a Table; .rows(), ["col"], .to_pandas()

Loads libprivdomain.so.0 by SONAME, or the file named by $PRIVDOMAIN_LIBRARY.
Failures raise privdomain.errors.PrivdomainError subclasses with the library's message.
"""

from . import clv, membership, rfm_layers, touchpoints
from ._native import lib as _lib
from .errors import (CancelledError, CorruptError, ExistsError, InvalidError, IoError, LockedError,
                     NoMemoryError, NotFoundError, NumericError, ParseError, PrivdomainError,
                     RangeError, ReadOnlyError, VersionError)
from .store import Store
from .table import Table

__version__ = _lib.pd_version_string().decode()
version_number = _lib.pd_version_number()

__all__ = ["Store", "Table", "PrivdomainError", "InvalidError", "NoMemoryError", "IoError",
           "CorruptError", "LockedError", "VersionError", "ParseError", "NotFoundError",
           "ExistsError", "RangeError", "NumericError", "CancelledError", "ReadOnlyError",
           "parse_amount", "parse_time", "clv", "membership", "rfm_layers", "touchpoints"]


def parse_amount(text, decimals=2):
    """Exact decimal text ("12.34") -> int minor units; ParseError / RangeError otherwise."""
    from .store import _amount
    if not isinstance(text, (str, bytes)):
        raise TypeError("parse_amount takes text")
    return _amount(text, decimals)


def parse_time(text, tz=None):
    """A timestamp as ingest reads it -> int ms UTC; local forms read in IANA zone tz."""
    import ctypes
    from ._native import to_bytes
    b, out = to_bytes(text), ctypes.c_int64()
    _lib.pd_time_parse(b, len(b), to_bytes(tz), ctypes.byref(out))
    return out.value
