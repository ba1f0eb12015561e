"""Status codes become exceptions carrying the library's message."""

import ctypes
import unittest

import privdomain
from privdomain import errors
from privdomain._native import lib


class TestErrors(unittest.TestCase):
    def test_every_status_has_its_class_named_like_the_library(self):
        for status in range(-1, -14, -1):
            with self.subTest(status=status):
                e = errors.from_status(status, "m")
                self.assertIsNot(type(e), errors.PrivdomainError)
                self.assertEqual(e.status, status)
                # pd_status_str(status) is "PD_ERR_X: text": the name must agree
                self.assertEqual(e.status_name, lib.pd_status_str(status).decode().split(":")[0])

    def test_unknown_status_is_base_class(self):
        e = errors.from_status(-99, "future")
        self.assertIs(type(e), errors.PrivdomainError)
        self.assertEqual((e.status, str(e)), (-99, "future"))

    def test_parse_error_carries_library_message(self):
        with self.assertRaises(privdomain.ParseError) as cm:
            privdomain.parse_amount("12.345")
        e = cm.exception
        self.assertEqual(e.status, -7)
        self.assertIn('"12.345"', str(e))          # the library names the bad input
        self.assertEqual(str(e), e.message)
        self.assertIsInstance(e, ValueError)          # idiomatic catch still works

    def test_range_error(self):
        with self.assertRaises(privdomain.RangeError) as cm:
            privdomain.parse_amount("92233720368547758.08")   # INT64_MAX + 1 minor units
        self.assertIn("92233720368547758.08", str(cm.exception))
        self.assertEqual(privdomain.parse_amount("92233720368547758.07"), 2 ** 63 - 1)
        self.assertEqual(privdomain.parse_amount("-0.5"), -50)

    def test_message_is_this_calls(self):
        with self.assertRaises(privdomain.ParseError) as first:
            privdomain.parse_amount("1.234")
        with self.assertRaises(privdomain.ParseError) as second:
            privdomain.parse_amount("abc")
        self.assertIn("1.234", str(first.exception))
        self.assertIn("abc", str(second.exception))
        self.assertNotIn("1.234", str(second.exception))

    def test_empty_message_falls_back_to_status_text(self):
        lib.pd_clear_error()
        with self.assertRaises(privdomain.LockedError) as cm:
            errors.errcheck(-5, lib.pd_store_compact, ())
        self.assertIn("PD_ERR_LOCKED", str(cm.exception))
        self.assertIn("pd_store_compact", str(cm.exception))

    def test_success_returns_status(self):
        out = ctypes.c_int64()
        self.assertEqual(lib.pd_amount_parse(b"7", 1, 2, ctypes.byref(out)), 0)
        self.assertEqual(out.value, 700)

    def test_float_amounts_refused(self):
        from privdomain.store import _amount
        with self.assertRaises(TypeError):
            _amount(12.34)
        self.assertEqual(_amount("12.34"), 1234)


if __name__ == "__main__":
    unittest.main()
