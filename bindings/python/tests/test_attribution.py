"""privdomain: store.attribution() against hand-worked numbers (the same store as
tests/test-attribution.c works out in its comments) and conservation of credit."""

import ctypes
import gc
import os
import random
import tempfile
import unittest

from privdomain._native import lib

H = 3600 * 1000
D = 24 * H


def have(*names):
    return all(isinstance(getattr(lib, n), ctypes._CFuncPtr) for n in names)


@unittest.skipUnless(have("pd_attribution_run"), "library has no store-level attribution yet")
class TestAttribution(unittest.TestCase):
    def setUp(self):
        from privdomain import Store
        self._tmp = tempfile.TemporaryDirectory()
        self.store = Store(os.path.join(self._tmp.name, "s"), create=True)

    def tearDown(self):
        self.store.close()
        gc.collect()
        self._tmp.cleanup()

    def hand_store(self):
        # u1: A day 0, B day 7, C (message_open) day 21, purchase 1100 day 28 -> path A, B, C
        # u2: B day 0, purchase 500 day 40 -> direct (outside the 30-day lookback)
        # u3: A day 0, purchase 0 day 1 -> path A
        s = self.store
        s.define_touchpoint("A", domain="public")
        s.define_touchpoint("B", domain="private")
        s.define_touchpoint("C", domain="private")
        s.append("u1", "visit", 0, "A")
        s.append("u1", "visit", 7 * D, "B")
        s.append("u1", "message_open", 21 * D, "C")
        s.append("u1", "purchase", 28 * D, amount=1100)
        s.append("u2", "visit", 0, "B")
        s.append("u2", "purchase", 40 * D, amount=500)
        s.append("u3", "visit", 0, "A")
        s.append("u3", "purchase", D, amount=0)
        s.commit()

    def test_hand_worked(self):
        self.hand_store()
        t = self.store.attribution()
        self.assertEqual(t["touchpoint"], ["A", "B", "C", "(none)"])
        self.assertEqual(t["paths"], [2, 1, 1, 1])
        self.assertEqual(t["first_revenue"], [1100, 0, 0, 500])
        self.assertEqual(t["last_revenue"], [0, 0, 1100, 500])
        # 1100 / 3 = 366 r 2: the two leftover units to the earliest touches
        self.assertEqual(t["linear_revenue"], [367, 367, 366, 500])
        # half-life 7d, ages 28d, 21d, 7d: weights 1/16, 1/8, 1/2
        self.assertEqual(t["decay_revenue"], [100, 200, 800, 500])
        self.assertEqual(t["position_revenue"], [440, 220, 440, 500])
        # Markov removal effects 1, 1/2, 1/2 -> shares 1/2, 1/4, 1/4 of 1100
        self.assertEqual(t["markov_revenue"], [550, 275, 275, 500])
        for a, b in zip(t["markov_removal_effect"], [1, 0.5, 0.5, None]):
            if b is None:
                self.assertIsNone(a)
            else:
                self.assertAlmostEqual(a, b)
        self.assertAlmostEqual(t["linear_conversions"][0], 1.333334)
        # one model with shares; position 30/40/30 -> 330, 440, 330
        t = self.store.attribution("position", position=(30, 40, 30))
        self.assertEqual(t["revenue"], [330, 440, 330, 500])
        self.assertAlmostEqual(t["revenue_share"][1], 440 / 1600)
        # a predicate and custom touches: purchases >= 6.00, touches are visits only
        t = self.store.attribution("last", conversion={"event": "purchase", "min_amount": 600},
                                   touches=["visit"])
        self.assertEqual(t["touchpoint"], ["A", "B"])
        self.assertEqual(t["revenue"], [0, 1100])
        # a longer lookback reaches u2's visit
        t = self.store.attribution("first", lookback="50d")
        self.assertEqual(dict(zip(t["touchpoint"], t["revenue"])), {"A": 1100, "B": 500, "C": 0})
        t = self.store.attribution("decay", half_life=14 * D)  # weights 1/4, 1/2^(3/2), 1/2^(1/2)
        self.assertEqual(sum(t["revenue"]), 1600)

    def test_errors(self):
        self.hand_store()
        with self.assertRaises(ValueError):
            self.store.attribution("shapley")
        with self.assertRaises(ValueError):
            self.store.attribution("position", position=(50, 20, 40))
        from privdomain.errors import PrivdomainError
        with self.assertRaises(PrivdomainError):
            self.store.attribution("last", conversion="teleport")

    def test_empty_and_conservation(self):
        self.assertEqual(len(self.store.attribution()), 0)
        s = self.store
        rnd = random.Random(3)
        tps = ["ads", "kol", "oa", "group", "app"]
        for tp in tps:
            s.define_touchpoint(tp)
        n, value = 0, 0
        for u in range(150):
            t = rnd.randrange(30) * D
            for _ in range(rnd.randrange(1, 15)):
                t += rnd.randrange(1, 100) * H
                ev = rnd.choice(["visit", "visit", "message_open", "acquire", "purchase", "message_send"])
                amount = rnd.choice([0, rnd.randrange(1, 99999)]) if ev == "purchase" else 0
                if ev == "purchase":
                    n += 1
                    value += amount
                s.append("g%d" % u, ev, t, rnd.choice(tps + [None]), amount=amount)
        s.commit()
        t = s.attribution(lookback="5d")
        for m in ("first", "last", "linear", "decay", "position", "markov"):
            self.assertEqual(sum(t[m + "_revenue"]), value, m)
            self.assertAlmostEqual(sum(t[m + "_conversions"]), n, places=6)


if __name__ == "__main__":
    unittest.main()
