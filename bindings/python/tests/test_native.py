"""The ctypes declarations against the C headers, the version script and the
compiled struct layouts (from the layout.c helper built by meson)."""

import ctypes
import os
import re
import subprocess
import unittest

import privdomain
from privdomain import _native
from privdomain._native import PROTOTYPES, STATUS, lib

SOURCE_ROOT = os.environ.get("PRIVDOMAIN_SOURCE_ROOT",
                             os.path.join(os.path.dirname(__file__), "..", "..", ".."))
INCLUDE = os.path.join(SOURCE_ROOT, "include", "privdomain")
LAYOUT = os.environ.get("PRIVDOMAIN_LAYOUT")


def header_texts():
    for fname in sorted(os.listdir(INCLUDE)):
        if fname.endswith(".h"):
            with open(os.path.join(INCLUDE, fname), encoding="utf-8") as f:
                yield re.sub(r"/\*.*?\*/", " ", f.read(), flags=re.S)


def header_prototypes():
    """{name: (return type, [parameter types])} of every PD_API function in the public headers."""
    protos = {}
    for text in header_texts():
        for ret, name, params in re.findall(r"PD_API\s+([^;(]*?)\b(pd_\w+)\s*\(([^;]*?)\)\s*;", text):
            params = " ".join(params.split())
            plist = [] if params in ("", "void") else [p.strip() for p in params.split(",")]
            protos[name] = (" ".join(ret.split()), [_param_type(p) for p in plist])
    return protos


def _param_type(param):
    """'const char *external_id' -> 'char *'; 'uint32_t user' -> 'uint32_t'."""
    param = param.replace("const ", "").replace("*", " * ")
    words = param.split()
    if words[-1] != "*" and len(words) > 1:
        words = words[:-1]  # drop the parameter name
    return " ".join(w for w in words if w != "*") + " *" * words.count("*")


SCALARS = {"int": ctypes.c_int, "unsigned": ctypes.c_uint, "long": ctypes.c_long,
           "size_t": ctypes.c_size_t, "double": ctypes.c_double, "int64_t": ctypes.c_int64,
           "uint32_t": ctypes.c_uint32, "uint64_t": ctypes.c_uint64,
           "char *": ctypes.c_char_p, "void": None}
ENUMS = {name for text in header_texts() for name in re.findall(r"typedef\s+enum\s+\w*\s*{[^}]*}\s*(\w+)", text)}
CALLBACKS = {name for text in header_texts() for name in re.findall(r"typedef[^;(]*\(\s*\*\s*(\w+)\s*\)", text)}


def expected_ctype(ctype):
    """The ctypes type a C type must be declared as, or 'pointer' / 'callback'."""
    if ctype in SCALARS:
        return SCALARS[ctype]
    if ctype in ENUMS:
        return ctypes.c_int
    if ctype.endswith("*"):
        return "pointer"
    if ctype in CALLBACKS:
        return "callback"
    raise AssertionError("unknown C type %r: teach test_native.py" % ctype)


def matches(declared, ctype):
    want = expected_ctype(ctype)
    if want == "pointer":
        return declared in (ctypes.c_void_p, ctypes.c_char_p) or issubclass(declared, ctypes._Pointer)
    if want == "callback":
        return issubclass(declared, ctypes._CFuncPtr)
    return declared is want


def map_symbols():
    with open(os.path.join(SOURCE_ROOT, "lib", "privdomain.map"), encoding="utf-8") as f:
        text = re.sub(r"/\*.*?\*/", " ", f.read(), flags=re.S)
    return set(re.findall(r"\b(pd_\w+)\s*;", text))


class TestLoad(unittest.TestCase):
    def test_version(self):
        v = lib.pd_version_number()
        self.assertEqual(v // 10000, _native.ABI_MAJOR)
        major, minor, patch = (int(x) for x in privdomain.__version__.split("."))
        self.assertEqual(v, major * 10000 + minor * 100 + patch)
        self.assertGreaterEqual(v, _native.MIN_VERSION)

    def test_version_matches_meson_project(self):
        with open(os.path.join(SOURCE_ROOT, "meson.build"), encoding="utf-8") as f:
            project_version = re.search(r"version\s*:\s*'([^']+)'", f.read()).group(1)
        self.assertEqual(privdomain.__version__, project_version)

    def test_library_from_environment(self):
        if "PRIVDOMAIN_LIBRARY" in os.environ:
            self.assertEqual(lib.path, os.environ["PRIVDOMAIN_LIBRARY"])
        else:
            self.assertEqual(lib.path, _native.SONAME)

    def test_version_check(self):
        _native.check_version(_native.MIN_VERSION, "lib")
        _native.check_version(_native.ABI_MAJOR * 10000 + 9999, "lib")
        for bad in (_native.MIN_VERSION - 1, (_native.ABI_MAJOR + 1) * 10000):
            with self.assertRaises(ImportError) as cm:
                _native.check_version(bad, "libx.so")
            self.assertIn("libx.so is version %d.%d.%d" % (bad // 10000, bad // 100 % 100, bad % 100),
                          str(cm.exception))

    def test_bad_library_path_is_import_error(self):
        with self.assertRaises(ImportError) as cm:
            _native.load("/nonexistent/libprivdomain.so.0")
        self.assertIn("PRIVDOMAIN_LIBRARY", str(cm.exception))

    def test_utf8_at_boundary(self):
        self.assertEqual(_native.to_bytes("王小明"), "王小明".encode("utf-8"))
        self.assertIsNone(_native.to_bytes(None))
        self.assertEqual(_native.from_bytes("门店".encode("utf-8")), "门店")


class TestPrototypes(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.headers = header_prototypes()

    def test_headers_parsed(self):
        # guards the parser itself: known functions with known shapes
        self.assertEqual(self.headers["pd_table_get_int64"], ("int64_t", ["pd_table *", "size_t", "size_t"]))
        self.assertEqual(self.headers["pd_last_error"], ("const char *", []))
        self.assertGreater(len(self.headers), 25)
        self.assertTrue({"pd_status", "pd_carrier", "pd_input_format"} <= ENUMS)
        self.assertTrue({"pd_scan_fn", "pd_progress_fn"} <= CALLBACKS)

    def test_every_prototype_matches_its_header(self):
        for name, (restype, argtypes) in PROTOTYPES.items():
            with self.subTest(name=name):
                self.assertIn(name, self.headers, "declared in _native.py but in no public header")
                ret, params = self.headers[name]
                ret = ret.replace("const ", "").replace("PD_API", "").strip()
                ret = re.sub(r"\s*\*", " *", ret)
                if ret == "pd_status":
                    self.assertIs(restype, STATUS, "returns pd_status: declare STATUS")
                else:
                    self.assertIsNot(restype, STATUS)
                    self.assertTrue(ret == "void" and restype is None or matches(restype, ret),
                                    "return %s declared as %s" % (ret, restype))
                self.assertEqual(len(argtypes), len(params), "argument count")
                for i, (declared, ctype) in enumerate(zip(argtypes, params)):
                    self.assertTrue(matches(declared, ctype), "argument %d: %s declared as %s"
                                    % (i, ctype, declared))

    def test_every_exported_symbol_is_declared(self):
        missing = sorted(map_symbols() - set(PROTOTYPES))
        self.assertEqual(missing, [], "add these to PROTOTYPES in bindings/python/privdomain/"
                         "_native.py, in your area's region")

    def test_every_exported_declared_symbol_resolves(self):
        for name in sorted(map_symbols() & set(PROTOTYPES)):
            with self.subTest(name=name):
                self.assertIsInstance(getattr(lib, name), ctypes._CFuncPtr)

    def test_status_functions_raise(self):
        self.assertIs(lib.pd_amount_parse.errcheck, privdomain.errors.errcheck)
        self.assertIsNone(getattr(lib.pd_table_n_rows, "errcheck", None))


def _c_name(cls):
    """Event -> pd_event, TouchpointDef -> pd_touchpoint_def: the naming rule of _native.py."""
    return "pd" + re.sub(r"([A-Z])", lambda m: "_" + m.group(1).lower(), cls.__name__)


@unittest.skipUnless(LAYOUT, "PRIVDOMAIN_LAYOUT (the layout helper) not set; run through meson test")
class TestStructLayout(unittest.TestCase):
    def test_structs_match_c(self):
        out = subprocess.run([LAYOUT], check=True, capture_output=True, text=True).stdout
        sizes, offsets = {}, {}
        for line in out.splitlines():
            name, *rest = line.split()
            if rest[0] == "size":
                sizes[name] = int(rest[1])
            else:
                struct, field = name.split(".")
                offsets.setdefault(struct, {})[field] = int(rest[0])
        structs = {_c_name(c): c for c in vars(_native).values()
                   if isinstance(c, type) and issubclass(c, ctypes.Structure) and c is not ctypes.Structure}
        self.assertEqual(sorted(structs), sorted(sizes), "structs in _native.py vs layout.c")
        for cname, cls in structs.items():
            with self.subTest(struct=cname):
                self.assertEqual(ctypes.sizeof(cls), sizes[cname])
                mine = {f: getattr(cls, f).offset for f, _ in cls._fields_}
                self.assertEqual(mine, offsets[cname])

    def test_event_values_round_trip_bytes(self):
        # the bytes ctypes writes are the C struct's: int64 time first, amount last
        ev = _native.Event(time_ms=-2, user=7, type=5, touchpoint=_native.NONE, referrer=3, amount=1234)
        raw = bytes(ev)
        self.assertEqual(int.from_bytes(raw[0:8], "little", signed=True), -2)
        self.assertEqual(int.from_bytes(raw[16:20], "little"), 0xFFFFFFFF)
        self.assertEqual(int.from_bytes(raw[24:32], "little", signed=True), 1234)

    def test_new_sets_size(self):
        self.assertEqual(_native.new(_native.StoreOptions).size, ctypes.sizeof(_native.StoreOptions))


if __name__ == "__main__":
    unittest.main()
