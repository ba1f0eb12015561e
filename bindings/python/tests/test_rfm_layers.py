"""privdomain.rfm_layers: hand-worked scores and layers, agreement of quantile scores with
pandas on a generated set, and the store / summary entry points."""

import os
import random
import shutil
import tempfile
import unittest

import privdomain
from privdomain.rfm_layers import layer_names, rfm_layers

try:
    import pandas as pd
except ImportError:  # pandas is optional for the bindings
    pd = None

R10 = [30, 2, 2, 10, 0, 5, 60, 2, 14, 7]
F10 = [2, 1, 10, 1, 5, 1, 3, 1, 8, 2]
M10 = [500, 100, 1000, 300, 800, 200, 900, 400, 700, 600]
DAY = 86400000


class TestHandWorked(unittest.TestCase):
    def test_quantile_scores_and_layers(self):
        res = rfm_layers({"recency": R10, "frequency": F10, "monetary": M10, "user": range(100, 110)})
        u = res.users
        # -R edges -17.2, -8.2, -3.8, -2; F edges 1, 1.6, 2.4, 5.6 (ties: no F score 2)
        self.assertEqual(u["r_score"], [1, 4, 4, 2, 5, 3, 1, 4, 2, 3])
        self.assertEqual(u["f_score"], [3, 1, 5, 1, 4, 1, 4, 1, 5, 3])
        self.assertEqual(u["m_score"], [3, 1, 5, 2, 4, 1, 5, 2, 4, 3])
        self.assertEqual(u["user"], list(range(100, 110)))
        # means R 13.2, F 3.4, M 550
        self.assertEqual(u["layer"], [8, 6, 1, 6, 1, 6, 4, 6, 3, 2])
        self.assertEqual(res.layers["users"], [2, 1, 1, 1, 0, 4, 0, 1])
        self.assertEqual(res.layers["revenue"], [1800, 600, 700, 900, 0, 1000, 0, 500])
        self.assertEqual(res.layers["layer_name"][3], "Important win back")
        self.assertEqual(res.layers["layer_zh"][0], "重要价值")
        th = {r["dimension"]: r for r in res.thresholds.rows()}
        self.assertAlmostEqual(th["R"]["edge_4"], 17.2)
        self.assertAlmostEqual(th["F"]["mean"], 3.4)

    def test_thresholds_and_split(self):
        res = rfm_layers({"recency": R10, "frequency": F10, "monetary": M10},
                         thresholds={"r": [3, 7, 14, 30], "f": [1, 2, 4, 7], "m": [200, 400, 600, 800]},
                         split=(10, 2, 500))
        self.assertEqual(res.users["r_score"], [2, 5, 5, 3, 5, 4, 1, 5, 3, 4])
        self.assertEqual(res.users["f_score"], [2, 1, 5, 1, 4, 1, 3, 1, 5, 2])
        self.assertEqual(res.users["layer"], [3, 6, 1, 6, 1, 6, 3, 6, 3, 1])
        with self.assertRaises(privdomain.InvalidError):
            rfm_layers({"recency": R10, "frequency": F10, "monetary": M10},
                       thresholds={"r": [3, 3, 14, 30], "f": [1, 2, 4, 7], "m": [200, 400, 600, 800]})
        with self.assertRaises(ValueError):
            rfm_layers({"recency": R10, "frequency": F10, "monetary": M10}, thresholds={"r": [1], "f": [1], "m": [1]})

    def test_empty_and_single(self):
        res = rfm_layers({"recency": [], "frequency": [], "monetary": []})
        self.assertEqual(len(res.users), 0)
        self.assertEqual(res.layers["users"], [0] * 8)
        self.assertEqual(res.layers["share"], [None] * 8)
        res = rfm_layers({"recency": [3], "frequency": [2], "monetary": [100]})
        self.assertEqual(res.users["rfm_score"], [111])
        self.assertEqual(res.users["layer"], [1])

    def test_names(self):
        names = layer_names()
        self.assertEqual(len(names), 8)
        self.assertEqual(names[7][1:3], ("一般挽留", "General win back"))


@unittest.skipIf(pd is None, "pandas not installed")
class TestPandasAgreement(unittest.TestCase):
    """Quantile scores against pandas on 2,000 generated customers (many ties in F)."""

    def test_against_pandas(self):
        rng = random.Random(7)
        n = 2000
        rec = [rng.randint(0, 365) for _ in range(n)]
        freq = [min(1 + int(rng.expovariate(0.6)), 40) for _ in range(n)]
        mon = [round(rng.lognormvariate(8, 1.2)) + rng.random() for _ in range(n)]  # distinct
        for bins in (5, 4, 7):
            res = rfm_layers({"recency": rec, "frequency": freq, "monetary": mon}, bins=bins)
            for name, values, sign in (("r_score", rec, -1), ("f_score", freq, 1), ("m_score", mon, 1)):
                x = pd.Series([sign * v for v in values], dtype=float)
                edges = [x.quantile(k / bins) for k in range(1, bins)]
                want = [1 + sum(v > e for e in edges) for v in x]
                self.assertEqual(res.users[name], want, "%s, %d bins: stated rule" % (name, bins))
                try:
                    q = pd.qcut(x, bins, labels=False) + 1
                except ValueError:  # duplicate edges: qcut refuses, the stated rule applies
                    self.assertNotEqual(name, "m_score")
                    continue
                self.assertEqual(res.users[name], q.tolist(), "%s, %d bins: pandas.qcut" % (name, bins))
            # layering against the mean, computed here
            mr, mf, mm = (sum(v) / n for v in (rec, freq, mon))
            want = [1 + (0 if m >= mm else 4) + (0 if r <= mr else 2) + (0 if f >= mf else 1)
                    for r, f, m in zip(rec, freq, mon)]
            self.assertEqual(res.users["layer"], want)
            self.assertEqual(sum(res.layers["users"]), n)


class TestStore(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp()
        self.store = privdomain.Store(os.path.join(self.dir, "s"), create=True)
        s, d0 = self.store, 1709251200000  # 2024-03-01 UTC
        for ext, day, ev, amount in [("a", 0, "purchase", 1000), ("a", 3, "purchase", 500), ("a", 4, "refund", 200),
                                     ("b", 1, "purchase", 300), ("c", 2, "visit", 0), ("d", -5, "purchase", 999),
                                     ("d", 5, "purchase", 700)]:
            s.append(ext, ev, d0 + day * DAY, amount=amount)
        s.commit()
        self.d0 = d0

    def tearDown(self):
        self.store.close()
        shutil.rmtree(self.dir)

    def test_store_and_summary(self):
        res = self.store.rfm_layers()
        self.assertEqual(res.users["external_id"], ["a", "b", "d"])
        self.assertEqual(res.users["recency"], [2, 4, 0])
        self.assertEqual(res.users["frequency"], [2, 1, 2])
        self.assertEqual(res.users["monetary"], [1300, 300, 1699])
        res = self.store.rfm_layers(window=(self.d0, self.d0 + 5 * DAY))
        self.assertEqual(res.users["external_id"], ["a", "b"])
        self.assertEqual(res.users["recency"], [1, 3])
        # the CLV module's summary: F = purchase days, M = net revenue, R = T - recency
        summary = self.store.rfm()
        self.assertIsInstance(summary, privdomain.Table)
        res = rfm_layers(summary)
        self.assertEqual(res.users["frequency"], [2, 1, 2])
        self.assertEqual(res.users["monetary"], [1300, 300, 1699])
        self.assertEqual(res.users["recency"], [2, 4, 0])

    def test_exports(self):
        self.assertIs(privdomain.clv.rfm, privdomain.clv.rfm)
        self.assertIn("clv", privdomain.__all__)
        self.assertTrue(callable(privdomain.rfm_layers.rfm_layers))


if __name__ == "__main__":
    unittest.main()
