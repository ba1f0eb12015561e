"""privdomain: store.touchpoint_scorecard() and store.migration() against hand-worked numbers (the
store of tests/cli/test-touchpoints-cli.sh, built through the Python API), the users filter,
CLV with fitted models, and bad arguments."""

import ctypes
import gc
import os
import tempfile
import unittest

from privdomain._native import lib


def have(*names):
    return all(isinstance(getattr(lib, n), ctypes._CFuncPtr) for n in names)


@unittest.skipUnless(have("pd_touchpoint_scorecard"), "library has no touchpoint scorecard yet")
class TestTouchpoints(unittest.TestCase):
    def setUp(self):
        from privdomain import Store
        self._tmp = tempfile.TemporaryDirectory()
        s = self.store = Store(os.path.join(self._tmp.name, "s"), create=True)
        s.define_touchpoint("广告投放", domain="public", carrier="feed_ad", daily_spend="100.00")
        s.define_touchpoint("企业微信", domain="private", carrier="wecom", daily_spend=0)
        s.define_touchpoint("门店", domain="public", carrier="store")
        # a1 joins via the ad at 03-01 01:00 Shanghai, gets a WeCom message 31 h later, opens
        # it, buys 88.00 in WeCom, visits on 04-10 (the last event); a2 joins on 04-01 01:00
        # Shanghai; a3 joins via WeCom and invites; a4 names a3 and buys 12.00 at the ad
        s.append("a1", "acquire", "2024-02-29T17:00:00Z", "广告投放")
        s.append("a1", "message_send", "2024-03-02T00:00:00Z", "企业微信")
        s.append("a1", "message_open", "2024-03-02T01:00:00Z", "企业微信")
        s.append("a1", "purchase", "2024-03-05T00:00:00Z", "企业微信", amount="88.00")
        s.append("a1", "visit", "2024-04-10T00:00:00Z", "企业微信")
        s.append("a2", "acquire", "2024-03-31T17:00:00Z", "广告投放")
        s.append("a3", "acquire", "2024-03-10T00:00:00Z", "企业微信")
        s.append("a3", "invite", "2024-03-11T00:00:00Z")
        s.append("a4", "acquire", "2024-03-20T00:00:00Z", "广告投放", referrer="a3")
        s.append("a4", "purchase", "2024-03-21T00:00:00Z", "广告投放", amount="12.00")
        s.commit()

    def tearDown(self):
        self.store.close()
        gc.collect()
        self._tmp.cleanup()

    def row(self, table, name):
        rows = [r for r in table.rows() if r[table.columns[0]] == name]
        self.assertEqual(len(rows), 1, name)
        return rows[0]

    def test_scorecard_shanghai_march(self):
        t = self.store.touchpoint_scorecard("2024-03", tz="Asia/Shanghai")
        ad = self.row(t, "广告投放")
        # a1 and a4; 100.00 x 31 days; day 30: only a1 eligible (a4 joined 21 days before 04-10)
        self.assertEqual((ad["acquired"], ad["days"], ad["spend"], ad["cac"]), (2, 31, 310000, 155000.0))
        self.assertEqual((ad["eligible_7"], ad["retained_7"], ad["retention_7"]), (2, 1, 0.5))
        self.assertEqual((ad["eligible_30"], ad["retention_30"]), (1, 1.0))
        self.assertEqual((ad["revenue"], ad["ltv"]), (10000, 5000.0))
        self.assertAlmostEqual(ad["ltv_cac"], 5000 / 155000)
        self.assertEqual((ad["conversions"], ad["private_conversions"], ad["private_share"]), (2, 1, 0.5))
        self.assertEqual((ad["touch_events"], ad["personal_events"], ad["connection"]), (6, 3, 0.5))
        self.assertIsNone(ad["accessibility"])  # no messages at the ad
        self.assertIsNone(ad["clv"])
        self.assertEqual((ad["score"], ad["label"], ad["weakest"]), (0.75, "strong", "connection"))
        wecom = self.row(t, "企业微信")
        self.assertEqual((wecom["acquired"], wecom["spend"]), (1, 0))
        self.assertIsNone(wecom["cac"])  # spend 0: undefined, not infinite
        self.assertEqual((wecom["invites"], wecom["referred"], wecom["k"]), (1, 1, 1.0))
        self.assertEqual((wecom["sends"], wecom["opens"], wecom["open_rate"]), (1, 1, 1.0))
        self.assertAlmostEqual(wecom["score"], 2 / 3)
        shop = self.row(t, "门店")
        self.assertEqual(shop["acquired"], 0)
        self.assertIsNone(shop["spend"])
        self.assertIsNone(shop["activation_rate"])

    def test_utc_and_rollups(self):
        t = self.store.touchpoint_scorecard("2024-03")  # UTC: a1 out, a2 in
        self.assertEqual(self.row(t, "广告投放")["revenue"], 1200)
        d = self.store.touchpoint_scorecard("2024-03", tz="Asia/Shanghai", by="domain")
        self.assertEqual(d.columns[0], "domain")
        pub = self.row(d, "public")
        self.assertEqual((pub["touchpoints"], pub["acquired"], pub["spend"]), (2, 2, 310000))
        c = self.store.touchpoint_scorecard(start="2024-03-20", end="2024-03-21", by="carrier")
        self.assertEqual(self.row(c, "feed_ad")["acquired"], 1)
        self.assertEqual(self.row(c, "feed_ad")["spend"], 10000)

    def test_migration(self):
        m = self.store.migration("2024-03", tz="Asia/Shanghai")
        rows = m.rows()
        self.assertEqual([(r["direction"], r["touchpoint"]) for r in rows],
                         [("public_to_private", "广告投放"), ("public_to_private", "门店"),
                          ("private_to_public", "企业微信")])
        ad = rows[0]
        self.assertEqual((ad["acquired"], ad["moved"], ad["moved_share"]), (2, 1, 0.5))
        self.assertEqual((ad["hours_median"], ad["hours_p90"]), (31.0, 31.0))
        self.assertEqual((ad["moved_revenue_per_user"], ad["stayed_revenue_per_user"]), (8800.0, 1200.0))
        self.assertIsNone(rows[1]["moved_share"])
        self.assertEqual(rows[2]["moved"], 0)

    def test_users_filter(self):
        t = self.store.touchpoint_scorecard("2024-03", tz="Asia/Shanghai", users=["a4"])
        ad = self.row(t, "广告投放")
        self.assertEqual((ad["acquired"], ad["cac"], ad["revenue"]), (1, 310000.0, 1200))
        self.store.tag("a1", "vip")
        self.store.commit()
        ad = self.row(self.store.touchpoint_scorecard("2024-03", tz="Asia/Shanghai", users="vip"), "广告投放")
        self.assertEqual((ad["acquired"], ad["revenue"]), (1, 8800))

    def test_clv(self):
        from privdomain.clv import BetaGeo, GammaGamma
        m = BetaGeo.from_params(r=0.24, alpha=4.41, a=0.79, b=2.43)
        gg = GammaGamma.from_params(p=6.25, q=3.74, gamma=15.44)
        t = self.store.touchpoint_scorecard("2024-03", tz="Asia/Shanghai", clv=m, gg=gg)
        ad = self.row(t, "广告投放")
        self.assertGreater(ad["clv"], 0)
        self.assertAlmostEqual(ad["clv_cac"], ad["clv"] / 155000)
        with self.assertRaises(ValueError):
            self.store.touchpoint_scorecard(clv=m)

    def test_bad_arguments(self):
        from privdomain.errors import InvalidError
        for kw in ({"by": "channel"}, {"period": "March"}, {"period": "2024-13"}):
            with self.assertRaises(ValueError):
                self.store.touchpoint_scorecard(**kw)
        with self.assertRaises(ValueError):
            self.store.touchpoint_scorecard("2024-03", start="2024-03-01")
        with self.assertRaises(InvalidError):
            self.store.touchpoint_scorecard(start="2024-03-02", end="2024-03-01")
        with self.assertRaises(InvalidError):
            self.store.touchpoint_scorecard(tz="Mars/Olympus")


if __name__ == "__main__":
    unittest.main()
