"""store.retention / lifecycle / stickiness: hand-worked cases, then agreement with
SQL in sqlite3 (Python's built-in module) on a generated store."""

import gc
import os
import random
import sqlite3
import tempfile
import unittest

from privdomain import InvalidError, Store

H = 3600000
DAY = 24 * H
T0 = 1709251200000  # 2024-03-01T00:00:00Z, a Friday


class RetentionTestCase(unittest.TestCase):
    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory()
        self.path = os.path.join(self._tmp.name, "shop.pds")

    def tearDown(self):
        gc.collect()
        self._tmp.cleanup()


class TestHandWorked(RetentionTestCase):
    def build(self):
        with Store(self.path, create=True) as s:
            s.define_touchpoint("feed", domain="public")
            s.define_touchpoint("group", domain="private")
            # alice: 23:30 Shanghai on 03-01, returns 00:30 on 03-02 there (same UTC day)
            s.append("alice", "acquire", T0 + 15 * H + H // 2, touchpoint="feed")
            s.append("alice", "visit", T0 + 16 * H + H // 2, touchpoint="group")
            s.append("alice", "purchase", T0 + 2 * DAY, touchpoint="group", amount=1000)
            s.append("alice", "refund", T0 + 3 * DAY, amount=400)
            # bob: only the start event
            s.append("bob", "acquire", T0 + H, touchpoint="group")
            # carol: never acquired: in no cohort
            s.append("carol", "visit", T0)

    def test_shanghai_day_cohorts(self):
        self.build()
        with Store(self.path, read_only=True) as s:
            utc = s.retention(period="day")
            rows = {(r["cohort"], r["k"]): r for r in utc.rows()}
            self.assertEqual(rows[("2024-03-01", 0)]["cohort_users"], 2)
            self.assertEqual(rows[("2024-03-01", 0)]["users"], 1)   # alice's visit, same UTC day
            sh = s.retention(period="day", tz="Asia/Shanghai")
            rows = {(r["cohort"], r["k"]): r for r in sh.rows()}
            # bob 09:00 Shanghai 03-01, alice 23:30 Shanghai 03-01: one cohort; alice returns k1
            self.assertEqual(rows[("2024-03-01", 0)]["users"], 0)
            self.assertEqual(rows[("2024-03-01", 1)]["users"], 1)
            self.assertAlmostEqual(rows[("2024-03-01", 1)]["rate"], 0.5)
            self.assertEqual(rows[("2024-03-01", 2)]["revenue"], 1000)
            self.assertEqual(rows[("2024-03-01", 3)]["revenue"], -400)
            self.assertAlmostEqual(rows[("2024-03-01", 3)]["cum_revenue_per_user"], 300.0)

    def test_tables_modes_breakdown(self):
        self.build()
        with Store(self.path, read_only=True) as s:
            # data end 03-04 00:00Z: with complete_only that day (k3) is not observable
            part = s.retention(period="day", complete_only=True)
            self.assertEqual(part["eligible"], [2, 2, 2, 0])
            self.assertEqual(part["rate"][3], None)
            rates = s.retention(period="day", table="rates")
            self.assertEqual(rates.columns[:3], ["cohort", "cohort_start", "cohort_users"])
            self.assertAlmostEqual(rates["1"][0], 0.0)
            after = s.retention(period="day", mode="on_or_after", table="average")
            self.assertEqual(after["users"], [1, 1, 1, 1])
            by = s.retention(period="day", by="domain", table="average")
            self.assertEqual(sorted(set(by["group"])), ["private", "public"])
            only_group = s.retention(period="day", return_touchpoints=["group"], mode="on_or_after")
            self.assertEqual(only_group["users"][:3], [1, 1, 1])
            self.assertEqual(only_group["users"][3], 0)  # the refund has no touchpoint
            # rolling 24 h windows from 15:30: the visit 1 h later is window 0, the purchase
            # 32.5 h later window 1; with visits alone as returns window 1 is empty
            rolling = s.retention(window="24h", periods=2)
            self.assertEqual(rolling["users"], [1, 1])
            self.assertEqual(s.retention(window="24h", periods=2, returns=["visit"])["users"], [1, 0])
            with self.assertRaises(ValueError):
                s.retention(mode="sometimes")
            with self.assertRaises(InvalidError):
                s.retention(tz="Mars/Olympus")

    def test_lifecycle_and_stickiness(self):
        self.build()
        with Store(self.path, read_only=True) as s:
            lc = s.lifecycle(period="day")
            self.assertEqual(lc["period"], ["2024-03-01", "2024-03-02", "2024-03-03", "2024-03-04"])
            self.assertEqual(lc["active"], [3, 0, 1, 1])
            self.assertEqual(lc["new"], [3, 0, 0, 0])
            self.assertEqual(lc["dormant"], [0, 3, 0, 0])
            self.assertEqual(lc["resurrecting"], [0, 0, 1, 0])
            self.assertEqual(lc["returning"], [0, 0, 0, 1])
            st = s.stickiness(period="week")
            self.assertEqual(st["active_units"], [1, 2, 3, 4, 5, 6, 7])
            # W09 (Feb 26 - Mar 3): bob 1 day, carol 1 day, alice Mar 1 and Mar 3 (2 days);
            # W10: alice Mar 4 (1 day)
            self.assertEqual(st["users"], [3, 1, 0, 0, 0, 0, 0])


def week_of(ms):
    return (ms // DAY + 3) // 7


class TestAgainstSqlite(RetentionTestCase):
    """Weekly cohorts (UTC, ISO weeks) computed by SQL over the same events."""

    def test_weekly_retention_and_lifecycle_match_sql(self):
        rng = random.Random(4)
        types = ["acquire", "visit", "purchase", "refund", "message_open"]
        rows = []
        with Store(self.path, create=True, durability="batch") as s:
            seq = 0
            for u in range(3000):
                t = T0 + rng.randrange(120) * DAY + rng.randrange(DAY)
                events = []
                for i in range(rng.randrange(1, 15)):
                    if i:
                        t += rng.choice([0, rng.randrange(20 * DAY)])
                    ty = "acquire" if i == 0 and rng.random() < 0.9 else rng.choices(types, [3, 60, 15, 4, 18])[0]
                    events.append((t, ty, rng.randrange(1, 9999) if ty in ("purchase", "refund") else 0))
                if rng.random() < 0.3:
                    events.reverse()  # out-of-order ingest
                for t_, ty, amt in events:
                    s.append("u%d" % u, ty, t_, amount=amt)
                    rows.append((u, t_, seq, ty, amt))
                    seq += 1
                if u == 1500:
                    s.commit()
                    s.compact()
        db = sqlite3.connect(":memory:")
        db.execute("CREATE TABLE ev(u INTEGER, t INTEGER, seq INTEGER, type TEXT, amount INTEGER)")
        db.executemany("INSERT INTO ev VALUES (?,?,?,?,?)", rows)
        db.executescript("""
          CREATE TABLE starts AS
            SELECT u, t, seq, (t / 86400000 + 3) / 7 AS w FROM (
              SELECT u, t, seq, ROW_NUMBER() OVER (PARTITION BY u ORDER BY t, seq) AS rn
              FROM ev WHERE type = 'acquire') WHERE rn = 1;
          CREATE TABLE rets AS
            SELECT e.u, (e.t / 86400000 + 3) / 7 - s.w AS k FROM ev e JOIN starts s ON e.u = s.u
            WHERE e.type <> 'acquire' AND (e.t > s.t OR (e.t = s.t AND e.seq > s.seq));
        """)
        sizes = dict(db.execute("SELECT w, COUNT(*) FROM starts GROUP BY w"))
        classic = {(w, k): n for w, k, n in db.execute(
            "SELECT s.w, r.k, COUNT(DISTINCT r.u) FROM rets r JOIN starts s ON r.u = s.u GROUP BY s.w, r.k")}
        after = {}
        for w, maxk, n in db.execute("SELECT s.w, m.k, COUNT(*) FROM (SELECT u, MAX(k) AS k FROM rets GROUP BY u) m "
                                     "JOIN starts s ON m.u = s.u GROUP BY s.w, m.k"):
            for k in range(maxk + 1):
                after[(w, k)] = after.get((w, k), 0) + n
        revenue = {(w, k): v for w, k, v in db.execute(
            "SELECT s.w, (e.t / 86400000 + 3) / 7 - s.w, SUM(CASE e.type WHEN 'purchase' THEN e.amount "
            "ELSE -e.amount END) FROM ev e JOIN starts s ON e.u = s.u "
            "WHERE e.type IN ('purchase', 'refund') AND (e.t > s.t OR (e.t = s.t AND e.seq >= s.seq)) GROUP BY 1, 2")}
        last_w = week_of(max(r[1] for r in rows))
        with Store(self.path, read_only=True) as s:
            for mode, want in (("classic", classic), ("on_or_after", after)):
                t = s.retention(period="week", mode=mode, threads=2)
                seen = 0
                for r in t.rows():
                    w = week_of(r["cohort_start"])
                    self.assertEqual(r["cohort_users"], sizes[w])
                    self.assertEqual(r["users"], want.get((w, r["k"]), 0), (mode, w, r["k"]))
                    observable = w + r["k"] <= last_w
                    self.assertEqual(r["eligible"], sizes[w] if observable else 0)
                    if observable:
                        self.assertEqual(r["revenue"], revenue.get((w, r["k"]), 0))
                    seen += r["k"] == 0
                self.assertEqual(seen, len(sizes))
                self.assertEqual(sum(1 for r in t.rows() if r["users"]), sum(1 for v in want.values() if v))
            # lifecycle from the distinct active weeks of each user
            weeks = {}
            for u, w in db.execute("SELECT DISTINCT u, (t / 86400000 + 3) / 7 FROM ev ORDER BY 1, 2"):
                weeks.setdefault(u, []).append(w)
            lc = s.lifecycle(period="week")
            first = week_of(min(r[1] for r in rows))
            for i, w in enumerate(range(first, first + len(lc))):
                act = {u for u, ws in weeks.items() if w in ws}
                prev = {u for u, ws in weeks.items() if w - 1 in ws}
                new = {u for u in act if weeks[u][0] == w}
                self.assertEqual(lc["active"][i], len(act))
                self.assertEqual(lc["new"][i], len(new))
                self.assertEqual(lc["returning"][i], len(act & prev))
                self.assertEqual(lc["resurrecting"][i], len(act - prev - new))
                self.assertEqual(lc["dormant"][i], len(prev - act))


if __name__ == "__main__":
    unittest.main()
