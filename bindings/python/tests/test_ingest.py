"""Store.ingest(): CSV / JSON Lines / gzip, strict and lenient, progress, errors."""

import gzip
import os
import re
import unittest

import privdomain
from privdomain import Store
from test_store import T0, StoreTestCase

CSV = """ts,user,event,touchpoint,amount,referrer
2024-03-01T00:00:00Z,alice,acquire,douyin_feed,,
2024-03-01T09:30:00+08:00,alice,purchase,vip_group,12.34,
2024-03-02 08:00:00,bob,referral_signup,vip_group,,alice
1709424000,bob,purchase,,"1,000.00",
"""


class TestIngest(StoreTestCase):
    def write(self, name, text, compress=False):
        path = os.path.join(self.dir, name)
        with (gzip.open if compress else open)(path, "wt", encoding="utf-8") as f:
            f.write(text)
        return path

    def test_csv(self):
        path = self.write("events.csv", CSV.replace('"1,000.00"', "1000.00"))
        with Store(self.path, create=True) as s:
            r = s.ingest(path, tz="Asia/Shanghai")
            self.assertEqual((r["rows_read"], r["rows_committed"], r["rows_rejected"]), (4, 4, 0))
            self.assertEqual(r["bytes_read"], os.path.getsize(path))
            self.assertEqual(s.n_events, 4)
            alice, bob = s.find_user("alice"), s.find_user("bob")
            ev = s.events(bob)
            # 2024-03-02 08:00 in Shanghai is 00:00Z; 1709424000 s is 2024-03-03T00:00Z
            self.assertEqual(ev["time"], [T0 + 86400000, T0 + 2 * 86400000])
            self.assertEqual(ev["referrer"], [alice, None])
            self.assertEqual(ev["amount"], [0, 100000])
            self.assertEqual(s.events(alice)["amount"], [0, 1234])

    def test_gzip_jsonl_and_column_mapping(self):
        lines = ['{"when": "2024-03-01T00:00:00Z", "who": "u1", "what": "visit"}',
                 '{"when": 1709251200123, "who": "u1", "what": "purchase", "amount": "5.5"}']
        path = self.write("events.jsonl.gz", "\n".join(lines) + "\n", compress=True)
        with Store(self.path, create=True) as s:
            r = s.ingest(path, columns={"time": "when", "user": "who", "event": "what"})
            self.assertEqual(r["rows_committed"], 2)
            ev = s.events("u1")
            self.assertEqual((ev["time"], ev["amount"]), ([T0, T0 + 123], [0, 550]))

    def test_strict_error_names_file_line_column_and_commits_nothing(self):
        bad = CSV.replace("12.34", "12.345")
        path = self.write("bad.csv", bad)
        with Store(self.path, create=True) as s:
            s.append("early", "visit", T0)
            s.commit()
            with self.assertRaises(privdomain.ParseError) as cm:
                s.ingest(path)
            msg = str(cm.exception)
            m = re.match(re.escape(path) + r":(\d+):(\d+): expected (.+), got (.+)", msg)
            self.assertTrue(m, msg)
            self.assertEqual(int(m.group(1)), 3)
            self.assertEqual(int(m.group(2)), bad.splitlines()[2].index("12.345") + 1)  # byte column
            self.assertIn("12.345", m.group(4))
            self.assertEqual(s.n_events, 1)
            self.assertEqual(s.pending, 0)
        with Store(self.path) as s:
            self.assertEqual(s.n_events, 1)
            with self.assertRaises(privdomain.NotFoundError):
                s.find_user("bob")

    def test_lenient_writes_rejects(self):
        path = self.write("bad.csv", CSV)  # "1,000.00" is not an amount
        rejects = os.path.join(self.dir, "rejects.txt")
        with Store(self.path, create=True) as s:
            r = s.ingest(path, lenient=True, rejects=rejects)
            self.assertEqual((r["rows_read"], r["rows_committed"], r["rows_rejected"]), (4, 3, 1))
            self.assertEqual(s.n_events, 3)
        with open(rejects, encoding="utf-8") as f:
            text = f.read()
        self.assertIn("1,000.00", text)
        self.assertIn(":5:", text)

    def test_progress_and_cancel(self):
        path = self.write("events.csv", CSV.replace('"1,000.00"', "1"))
        seen = []
        with Store(self.path, create=True) as s:
            s.ingest(path, progress=lambda done, total: seen.append((done, total)))
            self.assertTrue(seen)
            self.assertEqual(seen[-1][0], os.path.getsize(path))
            self.assertTrue(all(a[0] <= b[0] for a, b in zip(seen, seen[1:])))
            with self.assertRaises(privdomain.CancelledError):
                s.ingest(path, progress=lambda done, total: True)

            class Stop(Exception):
                pass

            def boom(done, total):
                raise Stop()
            with self.assertRaises(Stop):
                s.ingest(path, progress=boom)
            self.assertEqual(s.n_events, 4)  # only the first ingest committed

    def test_missing_file_is_io_error(self):
        with Store(self.path, create=True) as s:
            with self.assertRaises(privdomain.IoError) as cm:
                s.ingest(os.path.join(self.dir, "nope.csv"))
            self.assertIn("nope.csv", str(cm.exception))

    def test_touchpoints_file(self):
        path = self.write("tp.csv", "name,domain,carrier,daily_spend\n"
                                    "douyin_feed,public,feed_ad,1200.50\nvip_group,private,group,\n")
        with Store(self.path, create=True) as s:
            s.ingest_touchpoints(path)
            self.assertEqual(s.touchpoint("douyin_feed")["daily_spend"], 120050)
            self.assertEqual(s.touchpoint("vip_group")["carrier"], "group")
            tps = s.touchpoints()
            self.assertEqual(sorted(tps["name"]), ["douyin_feed", "vip_group"])

    def test_parse_time(self):
        self.assertEqual(privdomain.parse_time("2024-03-01T08:00:00+08:00"), T0)
        self.assertEqual(privdomain.parse_time("2024-03-01 08:00:00", tz="Asia/Shanghai"), T0)
        with self.assertRaises(privdomain.ParseError):
            privdomain.parse_time("03/01/2024")


if __name__ == "__main__":
    unittest.main()
