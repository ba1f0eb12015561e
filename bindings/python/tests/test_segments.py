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

    def test_filters(self):
        """Funnel acquire -> purchase (30 days): a (vip) and b (priv, big) convert, c (vip)
        never acquires. Filtered: vip 1 -> 1, priv 1 -> 1."""
        with Store(self.path, create=True) as s:
            self.build(s)
            s.define_segment("big", "revenue >= 15000")  # b only (a nets 12000)
            f = s.funnel(["acquire", "purchase"], window="30d", segment="vip")
            self.assertEqual(f["users"], [1, 1])
            f = s.funnel(["acquire", "purchase"], window="30d", segment="domain = private")  # an expression
            self.assertEqual(f["users"], [1, 1])
            f = s.funnel(["acquire", "purchase"], window="30d", segment=["c"])  # a list of users
            self.assertEqual(f["users"], [0, 0])
            # the stage report of March: new users of the segment (c, without an acquire, is
            # acquired by its first event)
            st = {r["metric"]: r["value"] for r in s.stages("2024-03", segment="vip").rows() if not r["breakdown"]}
            self.assertEqual(st["new_users"], 2)
            self.assertEqual(st["revenue"], 12000)
            rfm = s.rfm(segment="vip")
            self.assertEqual(rfm["external_id"], ["a"])
            self.assertEqual(rfm["frequency"], [1.0])
            tp, _ = s.ltv(segment="big")
            self.assertEqual(sum(tp["customers"]), 1)
            self.assertEqual(sum(tp["revenue"]), 20000)
            life = s.lifecycle(period="month", segment="vip")
            self.assertEqual(life["active"], [2])  # a and c, both in March
            att = s.attribution("last", segment="big")
            self.assertEqual(sum(att["revenue"]), 20000)
            lay = s.rfm_layers(segment="vip")
            self.assertEqual(sum(lay.layers["users"]), 1)  # a: the only vip customer
            self.assertEqual(lay.users["user"], [s.find_user("a")])
            m = s.membership(segment="vip")
            self.assertEqual(dict(zip(m.groups["group"], m.groups["users"]))["non-members"], 2)
            mb = s.membership(breakdown="segment:vip,big")
            self.assertEqual(mb["segment"][:2], ["vip", "vip"])
            with self.assertRaises(privdomain.ParseError) as e:
                s.rfm(segment="vip and (")
            self.assertIn("column 10", str(e.exception))
            with self.assertRaises(privdomain.NotFoundError):
                s.rfm(segment="gold")

    def test_breakdowns(self):
        with Store(self.path, create=True) as s:
            self.build(s)
            s.define_segment("big", "revenue >= 15000")
            f = s.funnel(["acquire", "purchase"], window="30d", breakdown="segment:vip,big")
            self.assertEqual(f["group"], ["vip", "vip", "big", "big"])
            self.assertEqual(f["users"], [1, 1, 1, 1])
            self.assertEqual(f["time_mean_ms"][1], DAY)  # a: one day
            self.assertEqual(f["time_mean_ms"][3], 2 * DAY)  # b: two days
            f = s.funnel(["acquire", "purchase"], window="30d", breakdown="tags")
            self.assertEqual(f["group"], ["vip", "vip"])
            r = s.rfm(breakdown="segment:vip,big")
            self.assertEqual(r["segment"], ["vip", "big"])
            self.assertEqual(r["revenue"], [12000, 20000])
            # a filter and a breakdown: each segment intersected with the filter
            r = s.rfm(segment="big", breakdown=["vip", "big"])
            self.assertEqual(r["segment"], ["big"])
            ret = s.retention(period="week", breakdown="segment:vip,big", table="average")
            self.assertEqual(ret.columns[0], "segment")
            self.assertEqual(sorted(set(ret["segment"])), ["big", "vip"])
            tp = s.ltv(breakdown="segment:big")
            self.assertEqual(tp.columns[:2], ["segment", "touchpoint"])
            life = s.lifecycle(period="month", breakdown="segment:vip,big")
            self.assertEqual([(r["segment"], r["active"]) for r in life.rows()], [("vip", 2), ("big", 1)])
            with self.assertRaises(ValueError):
                s.rfm(breakdown="touchpoint")  # not a segment breakdown
            with self.assertRaises(ValueError):
                s.rfm(breakdown="segment:vip,")
            with self.assertRaises(privdomain.NotFoundError):
                s.lifecycle(breakdown="segment:vip,gold")

            def boom(users):
                raise KeyError("from the callback")
            from privdomain import segments
            with self.assertRaises(KeyError):
                segments.run(s, None, "segment:vip", boom)

    def test_referral_segment(self):
        """r1 refers x1 and x2, x1 refers y1: the segment {r1} as referrers: users 1,
        referred 2, K 2; by segment r1 vs x1: K 2 and 1."""
        with Store(self.path, create=True) as s:
            r1 = s.user("r1")
            x1 = s.user("x1")
            s.append("r1", "acquire", T0)
            s.append("x1", "acquire", T0 + DAY, referrer=r1)
            s.append("x2", "acquire", T0 + DAY, referrer=r1)
            s.append("y1", "acquire", T0 + 2 * DAY, referrer=x1)
            s.commit()
            s.tag("r1", "seed")
            s.tag("x1", "second")
            s.commit()
            with s.referral(segment="seed") as r:
                self.assertEqual(r.summary["users"], 1)
                self.assertEqual(r.summary["referred"], 2)
                self.assertEqual(r.summary["k"], 2)
            g = s.referral(breakdown="segment:seed,second")
            self.assertEqual(g["segment"], ["seed", "second"])
            self.assertEqual(g["k"], [2.0, 1.0])
            with s.referral() as r:
                self.assertEqual(r.summary["users"], 4)
                self.assertEqual(r.summary["referred"], 3)

    def test_clv_segment(self):
        """store.clv(segment=...) is the model fitted to that segment's RFM summary alone:
        the same P(alive) as BetaGeo().fit(store.rfm(unit_days=7, segment=...)); a breakdown
        stacks each segment's own parameters."""
        import random
        from privdomain import clv
        rnd = random.Random(5)
        with Store(self.path, create=True) as s:
            for i in range(120):
                u = "c%03d" % i
                t = T0 + rnd.randrange(60) * DAY
                s.append(u, "acquire", t)
                s.append(u, "purchase", t, amount=str(rnd.randrange(10, 200)) + ".00")
                for _ in range(rnd.randrange(6)):
                    t += rnd.randrange(1, 40) * DAY
                    if t < T0 + 240 * DAY:
                        s.append(u, "purchase", t, amount=str(rnd.randrange(10, 200)) + ".00")
            s.commit()
            for i in range(0, 120, 2):
                s.tag("c%03d" % i, "even")
            s.commit()
            scores = s.clv(segment="even")
            rfm = s.rfm(unit_days=7, segment="even")
            self.assertEqual(len(scores), 60)
            self.assertEqual(scores["user"], rfm["user"])
            mine = clv.BetaGeo().fit(rfm).p_alive(rfm)
            for a, b in zip(scores["p_alive"], mine):
                self.assertAlmostEqual(a, b, places=9)
            whole = s.clv()
            self.assertEqual(len(whole), 120)
            self.assertNotEqual(whole["p_alive"][0], scores["p_alive"][0])
            p = s.clv(breakdown="segment:even", model="pnbd")
            self.assertEqual(p["segment"][0], "even")
            self.assertEqual(p["param"][:4], ["r", "alpha", "s", "beta"])
            with self.assertRaises(ValueError):
                s.clv(model="nbd")


if __name__ == "__main__":
    unittest.main()
