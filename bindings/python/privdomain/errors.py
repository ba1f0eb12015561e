"""Exceptions: every negative pd_status becomes one of these, in errcheck below.

str(error) is the library's own message (pd_last_error(): file:line:column,
lock file, offset...); .status is the pd_status code, .status_name its name.
"""


class PrivdomainError(Exception):
    """Base of every error reported by libprivdomain."""

    status = None

    def __init__(self, message, status=None):
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status

    @property
    def status_name(self):
        return _NAMES.get(self.status, "PD_ERR_%s" % self.status)

    def __str__(self):
        return self.message


class InvalidError(PrivdomainError, ValueError):
    status = -1


class NoMemoryError(PrivdomainError, MemoryError):
    status = -2


class IoError(PrivdomainError, OSError):
    status = -3


class CorruptError(PrivdomainError):
    status = -4


class LockedError(PrivdomainError):
    status = -5


class VersionError(PrivdomainError):
    status = -6


class ParseError(PrivdomainError, ValueError):
    status = -7


class NotFoundError(PrivdomainError, LookupError):
    status = -8


class ExistsError(PrivdomainError):
    status = -9


class RangeError(PrivdomainError, ValueError):
    status = -10


class NumericError(PrivdomainError, ArithmeticError):
    status = -11


class CancelledError(PrivdomainError):
    status = -12


class ReadOnlyError(PrivdomainError):
    status = -13


_BY_STATUS = {cls.status: cls for cls in PrivdomainError.__subclasses__()}
_NAMES = {-1: "PD_ERR_INVALID", -2: "PD_ERR_NOMEM", -3: "PD_ERR_IO", -4: "PD_ERR_CORRUPT",
          -5: "PD_ERR_LOCKED", -6: "PD_ERR_VERSION", -7: "PD_ERR_PARSE", -8: "PD_ERR_NOT_FOUND",
          -9: "PD_ERR_EXISTS", -10: "PD_ERR_RANGE", -11: "PD_ERR_NUMERIC", -12: "PD_ERR_CANCELLED",
          -13: "PD_ERR_READONLY"}


def from_status(status, message):
    """The exception for a pd_status (PrivdomainError for codes newer than these bindings)."""
    return _BY_STATUS.get(status, PrivdomainError)(message, status)


def errcheck(result, func, args):
    """ctypes errcheck of every function returning pd_status (see _native.PROTOTYPES)."""
    if result >= 0:
        return result
    from ._native import lib  # imported here: _native imports this module
    message = lib.pd_last_error().decode("utf-8", "replace")
    if not message:
        message = "%s: %s" % (func.__name__, lib.pd_status_str(result).decode())
    raise from_status(result, message)
