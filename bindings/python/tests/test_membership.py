"""privdomain.membership: the hand-worked store of tests/test-membership.c through Python."""

import os
import shutil
import tempfile
import unittest

import privdomain
from privdomain.membership import membership

DAY = 86400000
D0 = 1704067200000  # 2024-01-01 UTC


class TestMembership(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp()
        self.store = s = privdomain.Store(os.path.join(self.dir, "s"), create=True)
        for ext, day, ev, amount in [
                ("m1", 0, "visit", 0), ("m1", 10, "purchase", 100), ("m1", 20, "member_join", 0),
                ("m1", 30, "purchase", 200), ("m1", 40, "purchase", 300), ("m1", 45, "refund", 50),
                ("m2", 0, "member_join", 0), ("m2", 50, "purchase", 500),
                ("m3", 60, "purchase", 1000), ("m3", 70, "purchase", 250), ("m3", 70, "member_join", 0),
                ("m3", 70, "stored_value", 5000), ("m3", 90, "purchase", 400),
                ("n1", 5, "purchase", 100), ("n1", 6, "purchase", 100), ("n2", 50, "visit", 0),
                ("n3", 150, "visit", 0)]:
            s.append(ext, ev, D0 + day * DAY, amount=amount)
        s.commit()

    def tearDown(self):
        self.store.close()
        shutil.rmtree(self.dir)

    def test_groups_and_before_after(self):
        res = self.store.membership(end=D0 + 100 * DAY)
        g = {r["group"]: r for r in res.groups.rows()}
        self.assertEqual(g["members"]["users"], 3)
        self.assertAlmostEqual(g["members"]["repurchase_rate"], 2 / 3)
        self.assertAlmostEqual(g["members"]["purchases_per_30d"], 30 * 7 / 240)
        self.assertAlmostEqual(g["members"]["revenue_per_user"], 900)
        self.assertEqual(g["non-members"]["users"], 2)
        self.assertAlmostEqual(g["non-members"]["purchases_per_30d"], 30 * 2 / 145)
        self.assertEqual(g["stored-value users"]["revenue"], 1650)
        self.assertEqual(g["others"]["users"], 4)
        ba = res.before_after.rows()
        self.assertEqual([(r["group"], r["period"]) for r in ba],
                         [("members", "before"), ("members", "after"),
                          ("stored-value users", "before"), ("stored-value users", "after")])
        self.assertEqual((ba[0]["users"], ba[0]["excluded"]), (2, 1))
        self.assertAlmostEqual(ba[0]["purchases_per_30d"], 2)
        self.assertAlmostEqual(ba[1]["revenue_per_30d"], 300)
        self.assertAlmostEqual(ba[1]["mean_user_revenue_per_30d"], (30 * 450 / 80 + 650) / 2)
        self.assertAlmostEqual(ba[3]["purchases_per_30d"], 2)

    def test_options(self):
        res = membership(self.store, member_event="stored_value")
        self.assertEqual(res.groups["users"][0], 1)   # m3 alone
        self.assertEqual(res.groups["users"][1], 5)   # n3 counts with the default end
        res = self.store.membership(end="2024-04-10T00:00:00Z", min_days=15)
        self.assertEqual(res.before_after["users"][0], 1)
        with self.assertRaises(privdomain.InvalidError):
            self.store.membership(min_days=-1)
        with self.assertRaises(privdomain.NotFoundError):
            self.store.membership(member_event="no_such_event")


if __name__ == "__main__":
    unittest.main()
