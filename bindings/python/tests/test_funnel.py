"""privdomain: store.funnel() and store.stages() against hand-worked numbers and a pure-Python
reference of the default windowFunnel semantics."""

import gc
import os
import random
import statistics
import tempfile
import unittest


H = 3600 * 1000
D = 24 * H
T0 = 1709251200000  # 2024-03-01 00:00 UTC


def ref_default_level(events, steps, window):
    """Max level over attempts: the earliest match of each next step (same instant allowed,
    taken in step order) within window of the step-1 event. events: [(time, type)]."""
    best = (0, None)
    for i, (t0, e0) in enumerate(events):
        if e0 != steps[0]:
            continue
        times, level = [t0], 1
        # events at one instant are taken in step order: group by time
        by_time = {}
        for t, e in events:
            if t0 <= t <= t0 + window:
                by_time.setdefault(t, set()).add(e)
        for t in sorted(by_time):
            while level < len(steps) and steps[level] in by_time[t]:
                times.append(t)
                level += 1
        if level > best[0]:
            best = (level, times)
    return best


def quantile(values, q):
    v = sorted(values)
    pos = q * (len(v) - 1)
    lo = int(pos)
    return v[lo] if lo + 1 >= len(v) else v[lo] + (pos - lo) * (v[lo + 1] - v[lo])


class TestFunnel(unittest.TestCase):
    def setUp(self):
        from privdomain import Store
        self._tmp = tempfile.TemporaryDirectory()
        self.store = Store(os.path.join(self._tmp.name, "s"), create=True)

    def tearDown(self):
        self.store.close()
        gc.collect()
        self._tmp.cleanup()

    def test_hand_worked(self):
        s = self.store
        s.define_touchpoint("wecom", domain="private")
        s.define_touchpoint("ads", domain="public")
        s.append("u1", "acquire", T0, "wecom")
        s.append("u1", "activate", T0 + H, "wecom")
        s.append("u1", "purchase", T0 + 2 * H, "wecom", amount="12.50")
        s.append("u2", "acquire", T0 + D, "ads")
        s.append("u2", "activate", T0 + D + 3 * H, "ads")
        s.append("u2", "purchase", T0 + 9 * D, "ads", amount=3000)
        s.append("u3", "acquire", T0 + 2 * D, "ads")
        s.commit()
        t = s.funnel(steps=["acquire", "activate", "purchase"], window="7d")
        self.assertEqual(t["users"], [3, 2, 1])
        self.assertEqual(t["step_name"], ["acquire", "activate", "purchase"])
        self.assertIsNone(t["conv_prev"][0])
        self.assertAlmostEqual(t["conv_first"][2], 1 / 3)
        self.assertEqual(t["time_median_ms"][1], 2 * H)
        self.assertEqual(t["dropoff"][1:], [1, 1])
        # the 8-day-later purchase counts in a 9-day window, exactly at the limit too
        self.assertEqual(s.funnel(steps=["acquire", "activate", "purchase"], window="9d")["users"],
                         [3, 2, 2])
        self.assertEqual(s.funnel(steps=["acquire", "purchase"], window=8 * D)["users"], [3, 2])
        self.assertEqual(s.funnel(steps=["acquire", "purchase"], window=8 * D - 1)["users"], [3, 1])
        # a step as a dict: purchases of at least 20.00 from a public touchpoint
        t = s.funnel(steps=["acquire", {"event": "purchase", "min_amount": 2000, "domain": "public"}],
                     window="30d")
        self.assertEqual(t["users"], [3, 1])
        # breakdown by acquisition touchpoint
        t = s.funnel(steps=["acquire", "purchase"], window="30d", breakdown="touchpoint")
        rows = {(r["group"], r["step"]): r["users"] for r in t.rows()}
        self.assertEqual(rows, {("wecom", 1): 1, ("wecom", 2): 1, ("ads", 1): 2, ("ads", 2): 1})
        # exclusion: u1's activate between acquire and purchase disqualifies u1 and u2
        t = s.funnel(steps=["acquire", "purchase"], window="30d", exclude=[("activate", 1, 2)])
        self.assertEqual(t["users"], [1, 0])
        self.assertEqual(t["excluded"][0], 2)
        # strict_order: the activate in between breaks acquire -> purchase
        t = s.funnel(steps=["acquire", "purchase"], window="30d", mode="strict_order")
        self.assertEqual(t["users"], [3, 0])

    def test_errors(self):
        from privdomain import errors
        self.store.append("u1", "acquire", T0)
        self.store.commit()
        with self.assertRaises(ValueError):
            self.store.funnel(steps=["acquire", "activate"], mode="sideways")
        with self.assertRaises(ValueError):
            self.store.funnel(steps=["acquire", "activate"], breakdown="planet")
        with self.assertRaises(ValueError):  # a breakdown by every tag of a store without tags
            self.store.funnel(steps=["acquire", "activate"], breakdown="tag")
        with self.assertRaises(errors.InvalidError):
            self.store.funnel(steps=["acquire"])
        with self.assertRaises(errors.NotFoundError):
            self.store.funnel(steps=["acquire", "teleport"])
        with self.assertRaises(errors.ParseError):
            self.store.funnel(steps=["acquire", "activate"], window="7 parsecs")
        with self.assertRaises(TypeError):
            self.store.funnel(steps=["acquire", {"event": "purchase", "min_amount": 1.5}])

    def test_random_users_against_reference(self):
        rng = random.Random(42)
        types = ["acquire", "activate", "visit", "purchase", "invite"]
        steps = ["acquire", "activate", "purchase", "invite"]
        users = {}
        for u in range(400):
            t = T0 + rng.randrange(5) * D
            evs = []
            for _ in range(rng.randrange(1, 12)):
                t += rng.choice([0, 0, H, 6 * H, D, 3 * D])
                evs.append((t, rng.choice(types)))
            users["u%d" % u] = evs
            for t, e in evs:
                self.store.append("u%d" % u, e, t)
        self.store.commit()
        window = 4 * D
        reached = [0] * 4
        times = [[] for _ in range(4)]
        for evs in users.values():
            level, ts = ref_default_level(evs, steps, window)
            for k in range(level):
                reached[k] += 1
                if k:
                    times[k].append(ts[k] - ts[k - 1])
        t = self.store.funnel(steps=steps, window=window, threads=2)
        self.assertEqual(t["users"], reached)
        self.assertGreater(reached[3], 0)
        for k in range(1, 4):
            self.assertAlmostEqual(t["time_mean_ms"][k], statistics.mean(times[k]), delta=1e-6)
            self.assertAlmostEqual(t["time_median_ms"][k], statistics.median(times[k]), delta=1e-6)
            self.assertAlmostEqual(t["time_p90_ms"][k], quantile(times[k], 0.9), delta=1e-6)

    def test_stages(self):
        s = self.store
        s.define_touchpoint("wecom", domain="private")
        s.append("u0", "acquire", T0 - 20 * D, "wecom")
        s.append("u0", "purchase", T0 + D, amount=100)
        s.append("u0", "purchase", T0 + 2 * D, amount=50)
        s.append("u1", "acquire", T0 + D, "wecom")
        s.append("u1", "activate", T0 + 2 * D)
        s.append("u1", "invite", T0 + 3 * D)
        s.append("u2", "acquire", T0 + 4 * D, "wecom", referrer="u1")
        s.commit()
        t = s.stages(period="2024-03", order="rarra")
        self.assertEqual(t["stage"][0], "retention")
        v = {(r["metric"], r["breakdown"]): r["value"] for r in t.rows()}
        self.assertEqual(v[("new_users", "")], 2)
        self.assertEqual(v[("new_users_touchpoint", "wecom")], 2)
        self.assertEqual(v[("domain_share", "private")], 1.0)
        self.assertEqual(v[("activation_rate", "")], 0.5)
        self.assertEqual(v[("revenue", "")], 150)
        self.assertEqual(v[("repeat_purchase_rate", "")], 1.0)
        self.assertEqual(v[("earlier_cohort_revenue_share", "")], 1.0)
        self.assertAlmostEqual(v[("k_factor", "")], 1 / 3)
        self.assertEqual(v[("invite_conversion", "")], 1.0)
        self.assertAlmostEqual(v[("returning_rate", "")], 1 / 3)  # u0 was acquired in February
        from privdomain import funnel
        f, to, p = funnel.stage_period("2024-03", "Asia/Shanghai")
        self.assertEqual((f, to - f), (T0 - 8 * H, 31 * D))
        self.assertEqual(p, T0 - 8 * H - 29 * D)


if __name__ == "__main__":
    unittest.main()
