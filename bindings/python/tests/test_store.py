"""Store end to end: create, touchpoints, append, commit, reopen, ingest, compact,
locks and errors, per-user events. Each test works in its own temporary directory."""

import datetime
import decimal
import gc
import os
import subprocess
import sys
import tempfile
import textwrap
import unittest

import privdomain
from privdomain import Store


T0 = 1709251200000  # 2024-03-01T00:00:00Z
CST = datetime.timezone(datetime.timedelta(hours=8))


class StoreTestCase(unittest.TestCase):
    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory()
        self.dir = self._tmp.name
        self.path = os.path.join(self.dir, "shop.pds")

    def tearDown(self):
        gc.collect()  # close stores left to __del__ before their directory goes
        self._tmp.cleanup()

    def build_small(self):
        """Two touchpoints, three users, six events; returns what was appended per user."""
        with Store(self.path, create=True) as s:
            feed = s.define_touchpoint("douyin_feed", domain="public", carrier="feed_ad", daily_spend="1200.50")
            group = s.define_touchpoint("vip_group", domain="private", carrier="group")
            s.append("alice", "acquire", T0, touchpoint="douyin_feed")
            s.append("alice", "purchase", datetime.datetime(2024, 3, 1, 9, 30, tzinfo=CST),  # 01:30Z
                     touchpoint=group, amount="12.34")
            s.append("alice", "invite", T0 + 7200000)
            s.append("bob", "referral_signup", T0 + 86400000, referrer="alice", touchpoint=feed)
            s.append("bob", "purchase", T0 + 86400000 + 60000, amount=decimal.Decimal("99.9"))
            s.append("carol", "visit", T0 - 1000, amount=0)
            self.assertEqual(s.pending, 6)
        return feed, group

    def assert_small(self, s):
        alice, bob, carol = (s.find_user(u) for u in ("alice", "bob", "carol"))
        self.assertEqual(sorted([alice, bob, carol]), [0, 1, 2])
        self.assertEqual((s.n_users, s.n_events, s.n_touchpoints), (3, 6, 2))
        self.assertEqual(s.user_name(bob), "bob")
        feed, group = s.find_touchpoint("douyin_feed"), s.find_touchpoint("vip_group")
        self.assertEqual(s.touchpoint(feed), {"id": feed, "name": "douyin_feed", "domain": "public",
                                              "carrier": "feed_ad", "daily_spend": 120050})
        self.assertEqual(s.touchpoint("vip_group")["daily_spend"], None)
        purchase = s.find_event_type("purchase")
        self.assertEqual(purchase, 5)
        self.assertEqual(s.event_type_name(purchase), "purchase")
        ev = s.events("alice")
        self.assertEqual(ev["time"], [T0, T0 + 5400000, T0 + 7200000])
        self.assertEqual([s.event_type_name(t) for t in ev["type"]], ["acquire", "purchase", "invite"])
        self.assertEqual(ev["touchpoint"], [feed, group, None])
        self.assertEqual(ev["amount"], [0, 1234, 0])
        self.assertEqual(ev["referrer"], [None, None, None])
        ev = s.events(bob)
        self.assertEqual(ev["time"], [T0 + 86400000, T0 + 86460000])
        self.assertEqual(ev["referrer"], [alice, None])
        self.assertEqual(ev["amount"], [0, 9990])
        self.assertEqual(s.events("carol")["time"], [T0 - 1000])


class TestWriteRead(StoreTestCase):
    def test_create_append_commit_reopen(self):
        self.build_small()
        with Store(self.path, read_only=True) as s:
            self.assert_small(s)
        with Store(self.path) as s:  # read-write reopen sees the same
            self.assert_small(s)

    def test_open_missing_store_fails_with_path(self):
        with self.assertRaises(privdomain.PrivdomainError) as cm:
            Store(os.path.join(self.dir, "nope"))
        self.assertIn("nope", str(cm.exception))

    def test_uncommitted_is_lost_on_close(self):
        s = Store(self.path, create=True)
        s.append("u", "visit", T0)
        s.commit()
        s.append("u", "visit", T0 + 1)
        self.assertEqual(s.pending, 1)
        s.close()
        s.close()  # idempotent
        self.assertTrue(s.closed)
        with self.assertRaises(ValueError):
            s.n_events
        with Store(self.path) as s:
            self.assertEqual(s.n_events, 1)

    def test_context_manager_rolls_back_on_exception(self):
        with Store(self.path, create=True) as s:
            s.append("u", "visit", T0)
        with self.assertRaises(KeyError):
            with Store(self.path) as s:
                s.append("u", "visit", T0 + 1)
                raise KeyError("boom")
        with Store(self.path) as s:
            self.assertEqual(s.n_events, 1)

    def test_rollback(self):
        with Store(self.path, create=True) as s:
            s.append("u", "visit", T0)
            s.rollback()
            self.assertEqual(s.pending, 0)
            s.append("u", "visit", T0 + 5)
        with Store(self.path) as s:
            self.assertEqual(s.events("u")["time"], [T0 + 5])

    def test_bad_values_are_refused_before_the_library(self):
        with Store(self.path, create=True) as s:
            with self.assertRaises(TypeError):
                s.append("u", "purchase", T0, amount=12.34)     # floats never
            with self.assertRaises(ValueError):
                s.append("u", "visit", datetime.datetime(2024, 3, 1))  # naive
            with self.assertRaises(privdomain.ParseError):
                s.append("u", "purchase", T0, amount="12.345")
            with self.assertRaises(privdomain.ParseError):
                s.append("u", "visit", "yesterday")
            with self.assertRaises(ValueError):
                s.define_touchpoint("x", domain="dark")
            with self.assertRaises(ValueError):
                s.define_touchpoint("x", carrier="pigeon")

    def test_custom_event_type(self):
        with Store(self.path, create=True) as s:
            t = s.event_type("coupon_redeem")
            self.assertGreaterEqual(t, 12)
            self.assertEqual(s.event_type("purchase"), 5)
            s.append("u", "coupon_redeem", T0)
        with Store(self.path) as s:
            self.assertEqual(s.event_type_name(s.events("u")["type"][0]), "coupon_redeem")

    def test_utf8_names(self):
        with Store(self.path, create=True) as s:
            s.append("王小明", "visit", T0, touchpoint="门店·静安")
        with Store(self.path) as s:
            u = s.find_user("王小明")
            self.assertEqual(s.user_name(u), "王小明")
            self.assertEqual(s.touchpoint(s.events(u)["touchpoint"][0])["name"], "门店·静安")

    def test_lookup_errors(self):
        self.build_small()
        with Store(self.path) as s:
            with self.assertRaises(privdomain.NotFoundError) as cm:
                s.find_user("mallory")
            self.assertIn("mallory", str(cm.exception))
            with self.assertRaises(privdomain.NotFoundError):
                s.find_touchpoint("billboard")
            self.assertIsNone(s.user_name(999))

    def test_half_built_store_is_harmless(self):
        s = Store.__new__(Store)
        s.__del__()
        s.close()
        with self.assertRaises(privdomain.PrivdomainError):
            Store(os.path.join(self.dir, "missing"))
        gc.collect()


class TestIdentity(StoreTestCase):
    def test_alias_and_merge(self):
        with Store(self.path, create=True) as s:
            s.append("wx:alice", "acquire", T0)
            s.alias("wx:alice", "tel:13800000000")
            s.append("card:77", "purchase", T0 + 10, amount=500)
        with Store(self.path) as s:
            alice = s.find_user("wx:alice")
            self.assertEqual(s.find_user("tel:13800000000"), alice)
            card = s.find_user("card:77")
            self.assertNotEqual(card, alice)
            s.merge_users("wx:alice", "card:77")
            s.commit()
            self.assertEqual(s.find_user("card:77"), alice)
            self.assertEqual(s.canonical_user(card), alice)
            ev = s.events(card)  # through the merged id
            self.assertEqual((ev["time"], ev["amount"]), ([T0, T0 + 10], [0, 500]))
            users = [u for u, _ in s.scan()]
            self.assertEqual(users, [alice])

    def test_tags_and_saved_segments(self):
        with Store(self.path, create=True) as s:
            for name in ("a", "b", "c"):
                s.append(name, "visit", T0)
            s.tag("a", "vip")
            s.tag("b", "vip")
            s.set_tag("会员", ["b", "c"])
        with Store(self.path) as s:
            a, b, c = (s.find_user(n) for n in ("a", "b", "c"))
            self.assertEqual(s.tag_users("vip"), [a, b])
            self.assertEqual(s.tag_users("会员"), [b, c])
            s.untag("b", "vip")
            s.commit()
            rows = {r["tag"]: r["users"] for r in s.tags().rows()}
            self.assertEqual(rows, {"vip": 1, "会员": 2})
            with self.assertRaises(privdomain.NotFoundError):
                s.tag_users("nope")

    def test_alias_clash_is_exists_error(self):
        with Store(self.path, create=True) as s:
            a = s.user("a")
            s.user("b")
            with self.assertRaises(privdomain.ExistsError):
                s.alias(a, "b")


class TestLocking(StoreTestCase):
    def test_second_writer_gets_locked_error_with_message(self):
        with Store(self.path, create=True) as s:
            s.append("u", "visit", T0)
        holder = textwrap.dedent("""
            import sys, privdomain
            s = privdomain.Store(sys.argv[1])
            s.append("v", "visit", 1)     # takes the writer lock
            print("locked", flush=True)
            sys.stdin.read()              # hold it until the test closes stdin
            s.commit()
            s.close()
        """)
        p = subprocess.Popen([sys.executable, "-c", holder, self.path], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
        try:
            self.assertEqual(p.stdout.readline().strip(), "locked")
            with Store(self.path) as s:
                with self.assertRaises(privdomain.LockedError) as cm:
                    s.append("u", "visit", T0 + 1)
                self.assertEqual(cm.exception.status, -5)
                self.assertIn("lock", str(cm.exception).lower())
                self.assertIn(self.path, str(cm.exception))
                with self.assertRaises(privdomain.LockedError):
                    s.compact()
                self.assertEqual(s.n_events, 1)  # reading still works
        finally:
            p.stdin.close()
            self.assertEqual(p.wait(timeout=60), 0)
            p.stdout.close()
        with Store(self.path) as s:  # the holder committed and released
            self.assertEqual(s.n_events, 2)
            s.append("u", "visit", T0 + 2)

    def test_read_only_refuses_writes(self):
        self.build_small()
        with Store(self.path, read_only=True) as s:
            with self.assertRaises(privdomain.ReadOnlyError):
                s.append("u", "visit", T0)

    def test_reader_sees_commits_after_refresh(self):
        with Store(self.path, create=True) as w:
            w.append("u", "visit", T0)
            w.commit()
            with Store(self.path, read_only=True) as r:
                self.assertEqual(r.n_events, 1)
                w.append("u", "visit", T0 + 1)
                w.commit()
                r.refresh()
                self.assertEqual(r.n_events, 2)


class TestCompactScan(StoreTestCase):
    def test_compact_keeps_everything(self):
        self.build_small()
        with Store(self.path) as s:
            s.compact()
            self.assert_small(s)
        with Store(self.path, read_only=True) as s:
            self.assert_small(s)

    def test_compact_then_append_to_tail(self):
        self.build_small()
        with Store(self.path) as s:
            s.compact()
            s.append("alice", "visit", T0 + 1)  # lands between sealed events in time
        with Store(self.path) as s:
            self.assertEqual(s.events("alice")["time"], [T0, T0 + 1, T0 + 5400000, T0 + 7200000])

    def test_scan_yields_every_user_in_order(self):
        with Store(self.path, create=True) as s:
            expect = {}
            for i in range(50):
                u = s.user("u%02d" % i)
                if i % 7 == 3:
                    continue  # users without events are not visited
                times = [T0 + (i * 37 + k * 11) % 1000 for k in range(i % 4 + 1)]
                for t in times:
                    s.append(u, "visit", t, amount=i)
                expect[u] = sorted(times)
        with Store(self.path) as s:
            for chunk in (1, 7, 4096):
                got = {u: ev["time"] for u, ev in s.scan(chunk=chunk)}
                self.assertEqual(list(got), sorted(expect))
                self.assertEqual(got, expect)
            self.assertEqual([u for u, _ in s.scan(10, 20)], [u for u in sorted(expect) if 10 <= u < 20])
            self.assertEqual(s.events("u03")["time"], [])


class TestInfo(StoreTestCase):
    def test_info_table(self):
        self.build_small()
        with Store(self.path) as s:
            info = s.info()
            self.assertEqual(info.columns, ["key", "value", "detail"])
            facts = {r["key"]: r["value"] for r in info}
            self.assertEqual(facts.get("users"), 3)
            self.assertEqual(facts.get("events"), 6)
            self.assertEqual(facts.get("touchpoints"), 2)
            self.assertIn("users", repr(info))


if __name__ == "__main__":
    unittest.main()
