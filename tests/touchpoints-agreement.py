#!/usr/bin/python3
"""Touchpoint scorecard agreement (issue 7), meson suite 'slow':
    tests/touchpoints-agreement.py PATH/TO/pd [USERS]

Generates a business of USERS (default 100,000) users with `pd gen`, adds odd
input by hand (users without an acquire event who still get messages, acquire
events without a touchpoint, self-referrals, a touchpoint nobody joins), ingests
it, and computes the scorecard of March 2024 in Asia/Shanghai a second time,
independently, in SQLite from the same CSV: first acquire per user by a window
function, per-user outcomes after acquisition by a join on (user, time), message
reach per (user, touchpoint), winning referrers by a window function. Every
column of `pd touchpoints --format csv` (per touchpoint, and the domain rollup's
counts) and the migration table's counts and nearest-rank quantiles must agree.
"""

import csv
import io
import math
import os
import sqlite3
import subprocess
import sys
import tempfile
from datetime import datetime, timezone
from decimal import Decimal

PD = sys.argv[1]
USERS = int(sys.argv[2]) if len(sys.argv) > 2 else 100000
TZ = "Asia/Shanghai"
# March 2024 in Shanghai (UTC+8, no DST): [02-29 16:00Z, 03-31 16:00Z), 31 local days
FROM = int(datetime(2024, 2, 29, 16, tzinfo=timezone.utc).timestamp() * 1000)
TO = int(datetime(2024, 3, 31, 16, tzinfo=timezone.utc).timestamp() * 1000)
DAYS = 31
DAY = 86400000
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        if len(failures) <= 40:
            print("FAIL:", what)


def run(*args):
    return subprocess.run([PD] + list(args), check=True, capture_output=True, text=True).stdout


_day_cache = {}


def ms(ts):
    """'2024-03-01T08:00:00Z' -> ms UTC (the generator's one format), cached per date."""
    d = _day_cache.get(ts[:10])
    if d is None:
        d = _day_cache[ts[:10]] = int(datetime.fromisoformat(ts[:10] + "T00:00:00+00:00").timestamp()) * 1000
    return d + (int(ts[11:13]) * 3600 + int(ts[14:16]) * 60 + int(ts[17:19])) * 1000


def minor(text):
    if not text:
        return 0
    a, _, b = text.partition(".")
    if len(b) <= 2 and a.lstrip("-").isdigit() and (not b or b.isdigit()):
        v = abs(int(a)) * 100 + int(b.ljust(2, "0") or 0)
        return -v if a.startswith("-") else v
    return int(Decimal(text) * 100)


def close(a, b):
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


def num(text):
    return None if text == "" else float(text)


def main():
    tmp = tempfile.TemporaryDirectory(prefix="pd-touchpoints-agree-")
    d = tmp.name
    events = os.path.join(d, "events.csv")
    run("gen", "--users", str(USERS), "--seed", "5", "--out", events, "--quiet")
    tps_path = os.path.join(d, "touchpoints.csv")
    with open(tps_path, "a", encoding="utf-8") as f:
        f.write("Nobody Booth,public,store,99.00\nUnpriced Group,private,group,\n")
    extra = []
    for i in range(40):  # no acquire event: reach only
        u = "noacq%d" % i
        extra.append(["2024-03-%02dT02:00:00Z" % (1 + i % 28), u, "message_send", "企业微信", "", ""])
        if i % 2:
            extra.append(["2024-03-%02dT03:00:00Z" % (1 + i % 28), u, "message_open", "企业微信", "", ""])
        extra.append(["2024-03-%02dT04:00:00Z" % (1 + i % 28), u, "purchase", "Unpriced Group", "9.90", ""])
    for i in range(25):  # acquire without a touchpoint: the "(none)" row; some at the period's edges
        u = "notp%d" % i
        ts = ["2024-02-29T16:00:00Z", "2024-03-31T15:59:59Z", "2024-03-31T16:00:00Z", "2024-02-29T15:59:59Z",
              "2024-03-10T00:00:00Z"][i % 5]
        extra.append([ts, u, "acquire", "", "", ""])
        extra.append(["2024-04-20T00:00:00Z", u, "visit", "Unpriced Group", "", ""])
        extra.append(["2024-03-20T00:00:00Z", u, "purchase", "社群·会员群", "%d.50" % i, ""])
    for i in range(20):  # self-referrals, and acquisitions at the unpriced group
        u = "self%d" % i
        extra.append(["2024-03-%02dT05:00:00Z" % (1 + i), u, "acquire", "Unpriced Group", "", u])
        extra.append(["2024-03-%02dT06:00:00Z" % (2 + i), u, "visit", "Douyin Feed Ads", "", ""])
    with open(events, "a", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(extra)

    store = os.path.join(d, "store")
    run("ingest", "--quiet", store, events, "--touchpoints", tps_path)
    run("compact", "--quiet", store)

    # ---- the independent computation --------------------------------------
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE tpdef (name TEXT PRIMARY KEY, domain TEXT, carrier TEXT, spend INTEGER)")
    with open(tps_path, newline="", encoding="utf-8") as f:
        rd = csv.reader(f)
        next(rd)
        db.executemany("INSERT INTO tpdef VALUES (?, ?, ?, ?)",
                       ((r[0], r[1], r[2], minor(r[3]) if r[3] else None) for r in rd))
    uid = {}
    db.execute("CREATE TABLE ev (id INTEGER PRIMARY KEY, t INTEGER, user INTEGER, event TEXT, tp TEXT, "
               "amount INTEGER, referrer INTEGER)")

    def rows():
        with open(events, newline="", encoding="utf-8") as f:
            rd = csv.reader(f)
            next(rd)
            for i, r in enumerate(rd):
                u = uid.setdefault(r[1], len(uid))
                ref = uid.setdefault(r[5], len(uid)) if r[5] else None
                yield (i, ms(r[0]), u, r[2], r[3] or None, minor(r[4]), ref)
    db.executemany("INSERT INTO ev VALUES (?, ?, ?, ?, ?, ?, ?)", rows())
    as_of, = db.execute("SELECT max(t) FROM ev").fetchone()
    db.executescript("""
    CREATE INDEX ev_user_t ON ev (user, t);
    -- first acquire per user (time, then file order); the cohort: in the period
    CREATE TABLE acq AS SELECT user, t, tp FROM (
        SELECT user, t, tp, row_number() OVER (PARTITION BY user ORDER BY t, id) AS rn
        FROM ev WHERE event = 'acquire') WHERE rn = 1;
    CREATE TABLE coh AS SELECT user, t AS t0, coalesce(tp, '(none)') AS g FROM acq
        WHERE t >= %(F)d AND t < %(T)d;
    CREATE UNIQUE INDEX coh_user ON coh (user);
    -- outcomes after acquisition (time >= t0), any touchpoint
    CREATE TABLE ustat AS SELECT c.user, c.g, c.t0,
        max(e.event = 'activate') AS activated,
        max(CASE WHEN e.event <> 'message_send' THEN e.t END) AS last_act,
        sum(CASE e.event WHEN 'purchase' THEN e.amount WHEN 'refund' THEN -abs(e.amount) ELSE 0 END) AS revenue,
        max(e.event = 'purchase') AS buyer,
        sum(e.event = 'purchase') AS conv,
        sum(e.event = 'purchase' AND coalesce(d.domain = 'private', 0)) AS pconv,
        sum(e.event = 'invite') AS invites,
        sum(e.event <> 'message_send' AND e.tp IS NOT NULL) AS touch,
        sum(e.event <> 'message_send' AND coalesce(d.carrier IN ('personal_account', 'group', 'wecom'), 0))
            AS personal
      FROM coh c JOIN ev e ON e.user = c.user AND e.t >= c.t0 LEFT JOIN tpdef d ON d.name = e.tp
      GROUP BY c.user;
    -- winning referrer: the first acquire / referral_signup naming one; self-referrals are none
    CREATE TABLE attr AS SELECT user, referrer FROM (
        SELECT user, referrer, row_number() OVER (PARTITION BY user ORDER BY t, id) AS rn
        FROM ev WHERE event IN ('acquire', 'referral_signup') AND referrer IS NOT NULL) WHERE rn = 1;
    CREATE TABLE referred AS SELECT c.g, count(*) AS n FROM attr a JOIN coh c ON c.user = a.referrer
        WHERE a.user <> a.referrer GROUP BY c.g;
    -- message reach per (user, touchpoint) in the period, every user
    CREATE TABLE msg AS SELECT tp, user, sum(event = 'message_send') AS s, sum(event = 'message_open') AS o
        FROM ev WHERE event IN ('message_send', 'message_open') AND tp IS NOT NULL
          AND t >= %(F)d AND t < %(T)d GROUP BY tp, user;
    CREATE TABLE reach AS SELECT tp, sum(s) AS sends, sum(o) AS opens, sum(s > 0) AS messaged,
        sum(CASE WHEN s > 0 THEN min(1.0, o * 1.0 / s) END) AS uo FROM msg GROUP BY tp;
    CREATE TABLE card AS SELECT g, count(*) AS acquired, sum(activated) AS activated,
        sum(%(A)d - t0 >= 7 * %(D)d) AS e7, sum(coalesce(last_act - t0 >= 7 * %(D)d, 0)) AS r7,
        sum(%(A)d - t0 >= 30 * %(D)d) AS e30, sum(coalesce(last_act - t0 >= 30 * %(D)d, 0)) AS r30,
        sum(buyer) AS buyers, sum(revenue) AS revenue, sum(conv) AS conv, sum(pconv) AS pconv,
        sum(invites) AS invites, sum(touch) AS touch, sum(personal) AS personal
      FROM ustat GROUP BY g;
    """ % {"F": FROM, "T": TO, "A": as_of, "D": DAY})
    q = lambda sql: db.execute(sql).fetchall()  # noqa: E731

    def ratio(a, b):
        return None if not b else a / b

    want = {}
    for name, domain, carrier, spend in q("SELECT name, domain, carrier, spend FROM tpdef") + [("(none)", None, None, None)]:
        c = db.execute("SELECT * FROM card WHERE g = ?", (name,)).fetchall()
        (_, acquired, activated, e7, r7, e30, r30, buyers, revenue, conv, pconv, invites, touch, personal) = \
            c[0] if c else (name, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        r = db.execute("SELECT sends, opens, messaged, uo FROM reach WHERE tp = ?", (name,)).fetchall()
        sends, opens, messaged, uo = r[0] if r else (0, 0, 0, None)
        ref = db.execute("SELECT n FROM referred WHERE g = ?", (name,)).fetchall()
        referred = ref[0][0] if ref else 0
        sp = None if spend is None else spend * DAYS
        cac = ratio(sp, acquired) if sp else None
        ltv = ratio(revenue, acquired)
        ret30 = ratio(r30, e30)
        orate = ratio(opens, sends)
        comps = [None if orate is None else min(1.0, orate), ratio(personal, touch), ret30]
        have = [x for x in comps if x is not None]
        want[name] = {
            "acquired": acquired, "days": DAYS, "spend": sp, "cac": cac, "activated": activated,
            "activation_rate": ratio(activated, acquired), "eligible_7": e7, "retained_7": r7,
            "retention_7": ratio(r7, e7), "eligible_30": e30, "retained_30": r30, "retention_30": ret30,
            "messaged": messaged, "sends": sends, "opens": opens, "open_rate": orate,
            "user_open_rate": ratio(uo, messaged) if messaged else None,
            "opens_per_user": ratio(opens, messaged), "buyers": buyers, "revenue": revenue, "ltv": ltv,
            "ltv_cac": ltv / cac if ltv is not None and cac else None, "invites": invites,
            "referred": referred, "invites_per_user": ratio(invites, acquired),
            "invite_conversion": ratio(referred, invites), "k": ratio(referred, acquired),
            "conversions": conv, "private_conversions": pconv, "private_share": ratio(pconv, conv),
            "touch_events": touch, "personal_events": personal, "accessibility": comps[0],
            "connection": comps[1], "endurance": comps[2],
            "score": sum(have) / len(have) if have else None}

    out = run("touchpoints", store, "--period", "2024-03", "--tz", TZ, "--format", "csv")
    got = {r["touchpoint"]: r for r in csv.DictReader(io.StringIO(out))}
    check(set(got) == set(want), "rows: %s vs %s" % (sorted(got), sorted(want)))
    compared = 0
    for name in sorted(set(got) & set(want)):
        for col, w in want[name].items():
            g = num(got[name][col])
            compared += 1
            check(close(g, None if w is None else float(w)), "%s.%s: pd %s, SQL %s" % (name, col, g, w))
    check(want["Nobody Booth"]["acquired"] == 0 and want["Nobody Booth"]["cac"] is None, "an empty touchpoint")
    check(want["Official App"]["spend"] == 0, "a zero-spend touchpoint")
    check(want["(none)"]["acquired"] >= 15, "(none): 3 of each 5 edge times are in the period")

    # the domain rollup: counts add up over the domain's touchpoints
    out = run("touchpoints", store, "--period", "2024-03", "--tz", TZ, "--format", "csv", "--by", "domain")
    dom = {r["domain"]: r for r in csv.DictReader(io.StringIO(out))}
    for domain in ("public", "private", "semi"):
        rows_ = db.execute("SELECT name FROM tpdef WHERE domain = ?", (domain,)).fetchall()
        for col in ("acquired", "activated", "retained_7", "revenue", "sends", "opens", "referred", "conversions"):
            total = sum(want[n][col] for n, in rows_)
            compared += 1
            check(int(dom[domain][col]) == total, "domain %s.%s: pd %s, SQL %s" % (domain, col, dom[domain][col], total))

    # migration: first event at a touchpoint of the other domain after acquisition
    db.executescript("""
    CREATE TABLE mig AS SELECT c.user, c.g, sd.domain AS src,
        (SELECT min(e.t) FROM ev e JOIN tpdef d ON d.name = e.tp
          WHERE e.user = c.user AND e.t >= c.t0
            AND d.domain = CASE sd.domain WHEN 'public' THEN 'private' ELSE 'public' END) - c.t0 AS dt
      FROM coh c JOIN tpdef sd ON sd.name = c.g WHERE sd.domain IN ('public', 'private');
    """)
    out = run("touchpoints", store, "--period", "2024-03", "--tz", TZ, "--format", "csv", "--migration")
    mig_csv = out[out.index("direction,"):]
    got_m = {r["touchpoint"]: r for r in csv.DictReader(io.StringIO(mig_csv))}
    for name, src in q("SELECT name, domain FROM tpdef WHERE domain IN ('public', 'private')"):
        dts = sorted(x for x, in db.execute("SELECT dt FROM mig WHERE g = ? AND dt IS NOT NULL", (name,)))
        n, = db.execute("SELECT count(*) FROM mig WHERE g = ?", (name,)).fetchone()
        r = got_m.get(name)
        check(r is not None and r["direction"] == ("public_to_private" if src == "public" else "private_to_public"),
              "migration row %s" % name)
        if not r:
            continue
        rank = lambda p: dts[max(1, math.ceil(p * len(dts))) - 1] / 3600000.0 if dts else None  # noqa: E731
        for col, w in (("acquired", n), ("moved", len(dts)), ("moved_share", ratio(len(dts), n)),
                       ("hours_median", rank(0.5)), ("hours_p90", rank(0.9))):
            compared += 1
            check(close(num(r[col]), None if w is None else float(w)), "migration %s.%s: pd %s, SQL %s"
                  % (name, col, r[col], w))
    print("compared %d values over %d touchpoints; %d events, %d users in the cohort"
          % (compared, len(want), q("SELECT count(*) FROM ev")[0][0], q("SELECT count(*) FROM coh")[0][0]))
    if failures:
        print("%d disagreements" % len(failures))
        sys.exit(1)
    print("touchpoint scorecard agrees with SQLite")


if __name__ == "__main__":
    main()
