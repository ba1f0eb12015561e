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

    def build(self, s):
        """a: 2 purchases, revenue 12000; b: 1 purchase 20000 via group (private); c: visit only."""
        s.define_touchpoint("group", domain="private", carrier="group")
        s.append("a", "acquire", T0)
        s.append("a", "purchase", T0 + DAY, amount="50.00")
        s.append("a", "purchase", T0 + 10 * DAY, amount="70.00")
        s.append("b", "acquire", T0, touchpoint="group")
        s.append("b", "purchase", T0 + 2 * DAY, amount="200.00")
        s.append("c", "visit", T0 + 5 * DAY)
        s.commit()
        s.tag("a", "vip")
        s.tag("c", "vip")
        s.commit()

    def test_define_and_evaluate(self):
        with Store(self.path, create=True) as s:
            self.build(s)
            s.define_segment("big", "revenue >= 10000")
            s.define_segment("priv", "domain = private")
            s.define_segment("loyal", "vip and purchases >= 2")
            self.assertEqual([r["segment"] for r in s.segments().rows()], ["big", "loyal", "priv"])
            a, b, c = (s.find_user(u) for u in "abc")
            self.assertEqual(s.segment_users("big"), [a, b])
            self.assertEqual(s.segment_users("priv"), [b])
            self.assertEqual(s.segment_users("loyal"), [a])
            self.assertEqual(s.segment_users("vip"), [a, c])  # a tag
            self.assertEqual(s.segment_users(("expr", "last_event_days <= 5")), [a, c])
            self.assertEqual(s.segment_users(("expr", "last_event_days <= 5"), as_of=T0 + 12 * DAY),
                             [a])
            with self.assertRaises(privdomain.ParseError) as e:
                s.define_segment("bad", "revenue >= lots")
            self.assertIn("segment bad: column 12: expected an integer, got \"lots\"", str(e.exception))
            s.drop_segment("priv")
            with self.assertRaises(privdomain.NotFoundError):
                s.drop_segment("priv")
        with Store(self.path) as s:
            self.assertEqual([r["expr"] for r in s.segments().rows()],
                             ["revenue >= 10000", "vip and purchases >= 2"])


if __name__ == "__main__":
    unittest.main()
