"""Tags and segments: tag files, segment definitions, filters and breakdowns."""

import gc
import os
import tempfile
import unittest

import privdomain
from privdomain import Store

T0 = 1709251200000  # 2024-03-01T00:00:00Z
DAY = 86400000


class SegmentsTestCase(unittest.TestCase):
    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory()
        self.dir = self._tmp.name
        self.path = os.path.join(self.dir, "shop.pds")

    def tearDown(self):
        gc.collect()
        self._tmp.cleanup()

    def write(self, name, text):
        p = os.path.join(self.dir, name)
        with open(p, "w") as f:
            f.write(text)
        return p

    def test_tag_file(self):
        with Store(self.path, create=True) as s:
            s.user("u1")
            u2 = s.user("u2")
            s.alias(u2, "phone-2")
            s.commit()
            got = s.tag_file(self.write("t.csv", "user,tag\nu1,vip\nphone-2,vip\n"))
            self.assertEqual(got["rows_committed"], 2)
            self.assertEqual(s.tag_users("vip"), [s.find_user("u1"), u2])
            bad = self.write("bad.csv", "user,tag\nu1,new\nghost,vip\n")
            with self.assertRaises(privdomain.ParseError) as e:
                s.tag_file(bad)
            self.assertIn("bad.csv:3:1: expected a known user", str(e.exception))
            self.assertNotIn("new", [r["tag"] for r in s.tags().rows()])
            s.tag_file(bad, create_users=True)
            self.assertEqual(len(s.tag_users("vip")), 3)


if __name__ == "__main__":
    unittest.main()
