"""libprivdomain Python bindings (ctypes)."""
