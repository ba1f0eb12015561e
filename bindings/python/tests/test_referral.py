"""store.referral(): the referral forest through the bindings, on a small store
worked by hand and on a random store checked against a pure-Python forest."""

import gc
import json
import os
import random
import subprocess
import tempfile
import unittest

from privdomain import InvalidError, NotFoundError, Store

H = 3600000
D = 24 * H
T0 = 1709251200000  # 2024-03-01T00:00:00Z
BUILD = os.environ.get("PRIVDOMAIN_BUILD_ROOT")
PD = os.path.join(BUILD, "examples", "pd") if BUILD else None


class ReferralTest(unittest.TestCase):
    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory()
        self.path = os.path.join(self._tmp.name, "shop.pds")

    def tearDown(self):
        gc.collect()
        self._tmp.cleanup()

    def build_small(self):
        """a (ads) -> b -> d -> e, a -> c; f (organic). Same forest as tests/test-referral.c."""
        with Store(self.path, create=True) as s:
            s.define_touchpoint("ads", domain="public", carrier="feed_ad", daily_spend="100.00")
            s.define_touchpoint("organic", domain="private", carrier="official_account")
            s.append("a", "acquire", T0, touchpoint="ads")
            for t in (T0 + H, T0 + H, T0 + 20 * H):
                s.append("a", "invite", t)
            s.append("a", "purchase", T0 + 3 * H, amount=1000)
            s.append("b", "acquire", T0 + 2 * H, touchpoint="ads", referrer="a")
            s.append("b", "referral_signup", T0 + 2 * H, touchpoint="ads", referrer="a")
            s.append("b", "invite", T0 + 30 * H)
            s.append("b", "purchase", T0 + 5 * H, amount=500)
            s.append("b", "refund", T0 + 6 * H, amount=100)
            s.append("c", "referral_signup", T0 + D, touchpoint="ads", referrer="a")
            s.append("d", "visit", T0 + D)
            s.append("d", "referral_signup", T0 + 2 * D, touchpoint="ads", referrer="b")
            s.append("d", "invite", T0 + 2 * D + H)
            s.append("d", "purchase", T0 + 3 * D, amount=700)
            s.append("e", "referral_signup", T0 + 3 * D, touchpoint="ads", referrer="d")
            s.append("e", "purchase", T0 + 4 * D, amount=50)
            s.append("f", "acquire", T0 + 5 * D, touchpoint="organic")
            s.append("g", "referral_signup", T0 + 5 * D, referrer="g")  # self-referral

    def test_small_store_by_hand(self):
        self.build_small()
        with Store(self.path, read_only=True) as s:
            r = s.referral(max_depth=2)
            m = r.summary
            self.assertEqual((m["users"], m["roots"], m["referred"], m["invites"]), (7, 3, 4, 5))
            self.assertAlmostEqual(m["k"], 4 / 7)
            self.assertAlmostEqual(m["c"], 4 / 5)
            self.assertAlmostEqual(m["cycle_time_median_h"], 24)
            self.assertEqual(m["self_referrals"], 1)
            self.assertEqual(m["beyond_cap_users"], 1)
            self.assertEqual(m["referred_revenue"], 400 + 700 + 50)
            depth = r.depth
            self.assertEqual(depth["users"], [3, 2, 1, 1])
            self.assertEqual(depth["revenue"], [1000, 400, 700, 50])
            self.assertEqual(depth["beyond_cap"], [0, 0, 0, 1])
            cap = r.beyond_cap.rows()
            self.assertEqual([(x["name"], x["depth"]) for x in cap], [("e", 3)])
            e = r.user("e")
            self.assertEqual((e["depth"], e["root"], e["referrer"]), (3, s.find_user("a"), s.find_user("d")))
            a = r.user("a")
            self.assertEqual((a["descendants"], a["descendants_revenue"], a["direct_referees"]), (4, 1150, 2))
            self.assertEqual(r.user("g")["attributed"], s.find_user("g"))
            self.assertIsNone(r.user("g")["referrer"])
            issues = r.issues.rows()
            self.assertEqual([(x["kind"], x["name"]) for x in issues], [("self_referral", "g")])
            top = r.top
            self.assertEqual(top["name"][:2], ["a", "b"])
            trees = r.trees
            self.assertEqual(trees["name"][0], "a")
            self.assertAlmostEqual(trees["structural_virality"][0], 2.0)
            # By touchpoint: referees are counted with their referrer's acquisition touchpoint.
            g = s.referral(by="touchpoint").groups.rows()
            self.assertEqual([x["group"] for x in g], ["(none)", "ads", "organic"])
            self.assertEqual(g[1]["referred"], 4)
            self.assertEqual(g[1]["invites"], 5)
            # Cost: 6 days of ads at 100.00; one paid root, four referred users.
            cost = s.referral().cost.rows()[0]
            self.assertEqual((cost["spend"], cost["paid_users"], cost["referred_users"]), (60000, 1, 4))
            self.assertAlmostEqual(cost["cac_with_referral"], 12000)
            proj = s.referral(projection_seed=100, projection_cycles=3).projection
            k = 4 / 7
            self.assertAlmostEqual(proj["total_users"][3], 100 * (1 - k ** 4) / (1 - k))
            with self.assertRaises(KeyError):
                r.table("nope")
            with self.assertRaises(NotFoundError):
                r.user(10 ** 6)
            with self.assertRaises(InvalidError):
                s.referral(max_depth=-1)
            with self.assertRaises(ValueError):
                s.referral(by="color")
            r.close()
            r.close()

    def test_random_store_matches_python_forest(self):
        rnd = random.Random(7)
        n = 2000
        parent = {}
        with Store(self.path, create=True) as s:
            s.define_touchpoint("poster", domain="private", carrier="group")
            for u in range(n):
                ref = None if u < 20 or rnd.random() < 0.1 else rnd.randrange(u)
                parent[u] = ref
                t = T0 + u * 60000
                if ref is None:
                    s.append("u%d" % u, "acquire", t, touchpoint="poster")
                else:
                    s.append("u%d" % u, "referral_signup", t, touchpoint="poster", referrer="u%d" % ref)
                if rnd.random() < 0.3:
                    s.append("u%d" % u, "purchase", t + 1000, amount=rnd.randrange(1, 10000))
        with Store(self.path, read_only=True) as s:
            ids = {u: s.find_user("u%d" % u) for u in range(n)}
            depth = {}
            for u in range(n):  # parents come first
                depth[u] = 0 if parent[u] is None else depth[parent[u]] + 1
            hist = {}
            for d in depth.values():
                hist[d] = hist.get(d, 0) + 1
            r = s.referral(threads=2)
            self.assertEqual(r.depth["users"], [hist[d] for d in range(max(hist) + 1)])
            forest = {row["user"]: row for row in r.forest.rows()}
            for u in range(n):
                self.assertEqual(forest[ids[u]]["depth"], depth[u])
            self.assertEqual(r.summary["beyond_cap_users"], sum(1 for d in depth.values() if d > 2))
            self.assertEqual(len(r.beyond_cap), r.summary["beyond_cap_users"])

    @unittest.skipUnless(PD and os.access(PD, os.X_OK), "needs the pd tool (PRIVDOMAIN_BUILD_ROOT)")
    def test_same_tables_as_the_cli(self):
        """store.referral(...) gives exactly what `pd referral` prints, option for option."""
        self.build_small()

        def cli(*args):
            return subprocess.run([PD, "referral", self.path] + list(args), check=True, capture_output=True,
                                  text=True).stdout

        from privdomain.referral import VIEWS
        cases = [({}, []),
                 ({"max_depth": 1, "by": "touchpoint"}, ["--max-depth", "1", "--by", "touchpoint"]),
                 ({"by": "period", "period": "day", "tz": "Asia/Shanghai", "top_n": 2},
                  ["--by", "period", "--period", "day", "--tz", "Asia/Shanghai", "--top", "2"]),
                 ({"projection_seed": 50, "projection_cycles": 3, "acquire_attributes": False},
                  ["--seed", "50", "--cycles", "3", "--no-acquire-referrer"])]
        with Store(self.path, read_only=True) as s:
            for kwargs, args in cases:
                with s.referral(**kwargs) as r:
                    for v in VIEWS:
                        self.assertEqual(r.table(v).format("csv"), cli(*args, "--view", v, "--format", "csv"),
                                         "%s %s" % (v, kwargs))
                    shown = json.loads(cli(*args, "--format", "json"))
                    mine = r.tables()
                    self.assertEqual(list(shown), list(mine))
                    for name, t in mine.items():
                        self.assertEqual(shown[name], json.loads(t.format("json")), name)
            self.assertIn("referral_groups", s.referral(by="domain").tables())
            self.assertNotIn("referral_groups", s.referral().tables())

    def test_result_outliving_its_store(self):
        self.build_small()
        s = Store(self.path, read_only=True)
        r = s.referral()
        depth = r.depth  # tables are copies: they stay readable
        s.close()
        self.assertEqual(depth["users"], [3, 2, 1, 1])
        self.assertEqual(r.summary["users"], 7)
        with self.assertRaises(ValueError):
            r.table("top")
        r.close()


if __name__ == "__main__":
    unittest.main()
