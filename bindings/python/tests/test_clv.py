"""privdomain.clv against the CDNOW reproductions and the C API's contracts."""

import math
import os
import unittest

import privdomain
from privdomain import clv

DATA = os.path.join(os.environ.get("PRIVDOMAIN_SOURCE_ROOT", os.path.join(os.path.dirname(__file__), "..", "..", "..")),
                    "..", "shared", "data", "cdnow", "cdnow_sample_cbs_39w_derived.csv")


def load_cdnow():
    cols = {"frequency": [], "recency": [], "T": [], "monetary_value": [], "x_star": []}
    with open(DATA, encoding="utf-8") as f:
        header = f.readline().strip().split(",")
        for line in f:
            row = dict(zip(header, line.strip().split(",")))
            cols["frequency"].append(float(row["x"]))
            cols["recency"].append(float(row["t_x"]))
            cols["T"].append(float(row["T"]))
            cols["monetary_value"].append(float(row["m_x"]))
            cols["x_star"].append(float(row["x_star"]))
    return cols


@unittest.skipUnless(os.path.exists(DATA), "shared CDNOW data not found at %s" % DATA)
class TestCdnow(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.summary = load_cdnow()

    def test_beta_geo_published(self):
        bgf = clv.BetaGeo().fit(self.summary)
        self.assertTrue(bgf.converged)
        for k, v in {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}.items():
            self.assertAlmostEqual(bgf.params[k], v, delta=0.0005)
        self.assertAlmostEqual(bgf.loglik, -9582.4, delta=0.05)
        self.assertTrue(all(0 < s < bgf.params[k] for k, s in bgf.stderr.items()))
        pred = bgf.predict_purchases(39, self.summary)
        self.assertEqual(len(pred), 2357)
        alive = bgf.p_alive(self.summary)
        self.assertTrue(all(a == 1.0 for a, x in zip(alive, self.summary["frequency"]) if x == 0))
        one = {"frequency": [2], "recency": [30.43], "T": [38.86]}
        self.assertAlmostEqual(bgf.predict_purchases(39, one)[0], 1.226, delta=0.0005)
        self.assertLess(bgf.expected_purchases(10), bgf.expected_purchases(20))

    def test_gamma_gamma_and_clv_table(self):
        bgf = clv.BetaGeo().fit(self.summary)
        ggf = clv.GammaGamma().fit(self.summary)
        for k, v in {"p": 6.25, "q": 3.74, "gamma": 15.44}.items():
            self.assertAlmostEqual(ggf.params[k], v, delta=0.005)
        values = ggf.clv(bgf, self.summary, months=12, monthly_discount=0.01, units_per_month=4.345)
        t = bgf.predict(39, self.summary, spend_model=ggf)
        self.assertEqual(t.name, "clv_predictions")
        self.assertEqual(len(t), 2357)
        self.assertEqual(t["clv"], values)
        self.assertEqual(t["p_alive"], bgf.p_alive(self.summary))
        params = ggf.summary_table()
        self.assertEqual(params["param"][:3], ["p", "q", "gamma"])

    def test_pareto_nbd_and_known_params(self):
        pnbd = clv.ParetoNBD.from_params(r=0.553, alpha=10.578, s=0.606, beta=11.669)
        one = {"frequency": [2, 0], "recency": [30.43, 0], "T": [38.86, 38.86]}
        d = pnbd.dert(0.01, one)
        self.assertTrue(all(v > 0 and math.isfinite(v) for v in d))
        self.assertGreater(d[0], d[1])
        self.assertTrue(math.isnan(pnbd.loglik))  # not fitted: no likelihood


class TestRfm(unittest.TestCase):
    def test_transactions_to_model(self):
        day = 86400000
        users = [1, 1, 1, 2, 2, 3]
        times = [0, day // 2, 3 * day, day, 5 * day, 2 * day]
        amounts = [1000, 500, 800, 300, -100, 700]
        t = clv.rfm_from_transactions(users, times, amounts, calibration_end=6 * day)
        self.assertEqual(t["user"], [1, 2, 3])
        self.assertEqual(t["frequency"], [1.0, 0.0, 0.0])   # user 2's day-5 refund is no purchase
        self.assertEqual(t["recency"], [3.0, 0.0, 0.0])
        self.assertEqual(t["T"], [6.0, 5.0, 4.0])
        self.assertEqual(t["monetary_value"], [800.0, 0.0, 0.0])
        self.assertEqual(t["revenue"], [2300, 200, 700])
        m = clv.BetaGeo().fit(t)                              # the Table feeds the model directly
        self.assertEqual(len(m.p_alive(t)), 3)

    def test_store(self):
        import tempfile
        with tempfile.TemporaryDirectory() as d:
            with privdomain.Store(os.path.join(d, "s"), create=True) as st:
                st.append("u1", "purchase", 0, amount=1000)
                st.append("u1", "purchase", 2 * 86400000, amount=500)
                st.append("u1", "refund", 2 * 86400000 + 5, amount=200)
                st.commit()
                t = clv.rfm(st, calibration_end=4 * 86400000)
                self.assertEqual(t["frequency"], [1.0])
                self.assertEqual(t["T"], [4.0])
                self.assertEqual(t["monetary_value"], [300.0])

    def test_store_methods_dormant_and_ltv(self):
        import tempfile
        day = 86400000
        with tempfile.TemporaryDirectory() as d:
            with privdomain.Store(os.path.join(d, "s"), create=True) as st:
                st.define_touchpoint("wechat", domain="private", carrier="other", daily_spend=1000)
                st.define_touchpoint("ads", domain="public", carrier="other")
                # u1..u3 via wechat buy steadily to the end; u4, u5 via ads bought often early, then stopped
                for u in ("u1", "u2", "u3"):
                    st.append(u, "acquire", 0, touchpoint="wechat")
                    for k in range(0, 60, 6):
                        st.append(u, "purchase", k * day, amount=500)
                for u in ("u4", "u5"):
                    st.append(u, "acquire", 0, touchpoint="ads")
                    for k in range(0, 10):
                        st.append(u, "purchase", k * day, amount=300)
                st.append("u6", "acquire", 0, touchpoint="ads")
                st.append("u6", "purchase", 59 * day, amount=100)
                st.commit()
                t = st.rfm()  # Store method; the observation ends on day 59
                self.assertEqual(len(t), 6)
                self.assertEqual(t["touchpoint"], ["wechat"] * 3 + ["ads"] * 3)
                self.assertEqual(t["T"], [59.0] * 5 + [0.0])
                self.assertEqual(t["frequency"], [9.0, 9.0, 9.0, 9.0, 9.0, 0.0])
                self.assertEqual(list(st.rfm(calibration_end="1970-01-05")["T"]), [4.0] * 5)
                m = clv.BetaGeo.from_params(r=1.0, alpha=5.0, a=0.5, b=2.0)
                users, by_tp = m.dormant(t, 0.5)
                # silent for 50 days after 9 repeat purchases in 9 days: u4 and u5 are gone
                self.assertEqual(sorted(users["user"]), [3, 4])
                self.assertTrue(all(p < 0.5 for p in users["p_alive"]))
                rows = {r["touchpoint"]: r for r in by_tp.rows()}
                self.assertEqual((rows["ads"]["customers"], rows["ads"]["dormant"]), (3, 2))
                self.assertEqual((rows["wechat"]["customers"], rows["wechat"]["dormant"]), (3, 0))
                with self.assertRaises(privdomain.InvalidError):
                    m.dormant(t, 0.0)
                with self.assertRaises(TypeError):
                    m.dormant({"frequency": [1]}, 0.5)
                tt, tc, tu = st.ltv(users=True)
                tps = {r["touchpoint"]: r for r in tt.rows()}
                self.assertEqual(tps["wechat"]["revenue"], 3 * 10 * 500)
                self.assertEqual(tps["ads"]["revenue"], 2 * 10 * 300 + 100)
                self.assertEqual(len(tu), 6)
                self.assertGreater(len(tc), 0)
                tt2, _ = clv.ltv(st, as_of="1970-01-01T23:59:59Z")
                self.assertEqual({r["touchpoint"]: r["revenue"] for r in tt2.rows()}, {"wechat": 1500, "ads": 600})


class TestContracts(unittest.TestCase):
    def test_bad_summary_raises_invalid_with_row(self):
        bad = {"frequency": [1, 2], "recency": [3, 9], "T": [5, 5]}
        with self.assertRaises(privdomain.InvalidError) as cm:
            clv.BetaGeo().fit(bad)
        self.assertIn("row 1", str(cm.exception))
        with self.assertRaises(KeyError):
            clv.BetaGeo().fit({"frequency": [1]})

    def test_pandas_frame_if_available(self):
        try:
            import pandas as pd
        except ImportError:
            self.skipTest("pandas not installed")
        df = pd.DataFrame({"frequency": [0, 1, 3, 0, 2], "recency": [0, 4.0, 20, 0, 7],
                           "T": [30, 25, 31, 10, 9]})
        m = clv.BetaGeo().fit(df)
        self.assertEqual(len(m.p_alive(df)), 5)


if __name__ == "__main__":
    unittest.main()
