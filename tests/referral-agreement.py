#!/usr/bin/python3
"""Referral agreement (issue 5), meson suite 'slow':
    tests/referral-agreement.py PATH/TO/pd [USERS]

Generates a business of USERS (default 100,000) users with `pd gen`, adds bad
input by hand (self-referrals, conflicting later attributions, a chain far
deeper than the cap, a referrer without events), ingests it, and computes the
referral forest a second time, independently, in SQLite from the same CSV: the
first attribution per user by a window function, the forest by a recursive CTE
from the roots, descendants by a recursive CTE over the edges. Then the depth
histogram (users, purchasers, revenue per depth), K and K_d per generation,
i, c, the compliance list, cycle times, the breakdowns by touchpoint and the top
referrers' descendant counts must equal what `pd referral` prints.
"""

import csv
import json
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
from decimal import Decimal

PD = sys.argv[1]
USERS = int(sys.argv[2]) if len(sys.argv) > 2 else 100000
CAP = 2
TOP = 50
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


def run(*args):
    return subprocess.run([PD] + list(args), check=True, capture_output=True, text=True).stdout


def minor(text):
    return int(Decimal(text) * 100) if text else 0


def main():
    tmp = tempfile.TemporaryDirectory(prefix="pd-referral-agree-")
    d = tmp.name
    events = os.path.join(d, "events.csv")
    run("gen", "--users", str(USERS), "--seed", "5", "--out", events, "--quiet")

    # Bad input and odd shapes, appended as more rows of the same CSV.
    with open(events, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    header, rows = rows[0], rows[1:]
    referred = sorted({r[1] for r in rows if r[5] and r[2] in ("acquire", "referral_signup")})
    users = sorted({r[1] for r in rows})
    rnd = random.Random(11)
    extra = []
    for i in range(30):  # self-referrals: roots
        extra.append(["2024-02-01T00:00:%02dZ" % i, "self%d" % i, "referral_signup", "", "", "self%d" % i])
    for u in rnd.sample(referred, 50):  # later attributions to someone else: conflicts, first one wins
        extra.append(["2030-01-01T00:00:00Z", u, "referral_signup", "", "", rnd.choice(users)])
    prev = rnd.choice(users)  # a chain of 12 under an existing user: far beyond the cap
    for i in range(12):
        extra.append(["2024-03-01T%02d:00:00Z" % i, "chain%d" % i, "referral_signup", "", "", prev])
        extra.append(["2024-03-01T%02d:30:00Z" % i, "chain%d" % i, "purchase", "", "%d.25" % i, ""])
        prev = "chain%d" % i
    extra.append(["2024-04-01T00:00:00Z", "orphan", "referral_signup", "", "", "ghost"])  # ghost: no events
    with open(events, "a", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(extra)
    rows += extra

    store = os.path.join(d, "store")
    run("ingest", "--quiet", store, events, "--touchpoints", os.path.join(d, "touchpoints.csv"))
    run("compact", "--quiet", store)

    # ---- the independent computation --------------------------------------
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE ev (id INTEGER PRIMARY KEY, ts TEXT, user TEXT, event TEXT, tp TEXT, "
               "amount INTEGER, referrer TEXT)")
    db.executemany("INSERT INTO ev VALUES (?, ?, ?, ?, ?, ?, ?)",
                   ((i, r[0], r[1], r[2], r[3] or None, minor(r[4]), r[5] or None) for i, r in enumerate(rows)))
    db.executescript("""
    CREATE INDEX ev_user ON ev (user);
    -- first attribution per user, in time order (ties: file order)
    CREATE TABLE attr AS
      SELECT user, referrer, ts FROM (
        SELECT user, referrer, ts, row_number() OVER (PARTITION BY user ORDER BY ts, id) AS rn
        FROM ev WHERE event IN ('acquire', 'referral_signup') AND referrer IS NOT NULL)
      WHERE rn = 1;
    CREATE TABLE edge AS SELECT user, referrer, ts FROM attr WHERE user <> referrer;
    CREATE INDEX edge_ref ON edge (referrer);
    CREATE TABLE node AS SELECT user FROM ev UNION SELECT referrer FROM edge;
    -- acquisition: first acquire / referral_signup, else the first event
    CREATE TABLE acq AS
      SELECT user, ts, tp FROM (
        SELECT user, ts, tp, row_number() OVER (PARTITION BY user
               ORDER BY event IN ('acquire', 'referral_signup') DESC, ts, id) AS rn FROM ev)
      WHERE rn = 1;
    CREATE UNIQUE INDEX acq_user ON acq (user);
    CREATE TABLE stat AS
      SELECT n.user,
             coalesce((SELECT sum(CASE e.event WHEN 'purchase' THEN e.amount ELSE -abs(e.amount) END)
                       FROM ev e WHERE e.user = n.user AND e.event IN ('purchase', 'refund')), 0) AS revenue,
             EXISTS (SELECT 1 FROM ev e WHERE e.user = n.user AND e.event = 'purchase') AS purchaser,
             (SELECT count(*) FROM ev e WHERE e.user = n.user AND e.event = 'invite') AS invites,
             coalesce((SELECT a.tp FROM acq a WHERE a.user = n.user), '(none)') AS tp
      FROM node n;
    CREATE UNIQUE INDEX stat_user ON stat (user);
    -- the forest, generation by generation from the roots
    CREATE TABLE tree AS
      WITH RECURSIVE walk (user, depth, root) AS (
        SELECT user, 0, user FROM node WHERE user NOT IN (SELECT user FROM edge)
        UNION ALL
        SELECT e.user, w.depth + 1, w.root FROM edge e JOIN walk w ON e.referrer = w.user)
      SELECT * FROM walk;
    -- every (ancestor, descendant) pair
    CREATE TABLE anc AS
      WITH RECURSIVE a (anc, des) AS (
        SELECT referrer, user FROM edge
        UNION ALL
        SELECT a.anc, e.user FROM a JOIN edge e ON e.referrer = a.des)
      SELECT * FROM a;
    """)
    q = lambda sql: db.execute(sql).fetchall()  # noqa: E731
    n_nodes, = q("SELECT count(*) FROM node")[0]
    check(q("SELECT count(*) FROM tree")[0][0] == n_nodes, "every node is in exactly one tree")
    hist = q("""SELECT t.depth, count(*), sum(s.purchaser), sum(s.revenue) FROM tree t JOIN stat s USING (user)
                GROUP BY t.depth ORDER BY t.depth""")
    roots = hist[0][1]
    invites, = q("SELECT sum(invites) FROM stat")[0]
    beyond = q("SELECT count(*), coalesce(sum(s.revenue), 0) FROM tree t JOIN stat s USING (user) "
               "WHERE t.depth > %d" % CAP)[0]
    selfref, = q("SELECT count(*) FROM attr WHERE user = referrer")[0]
    conflicts, = q("""SELECT count(*) FROM ev e JOIN attr a USING (user)
                      WHERE e.event IN ('acquire', 'referral_signup') AND e.referrer IS NOT NULL
                        AND e.referrer <> a.referrer""")[0]
    # cycle times in ms: the referee's attribution - the referrer's acquisition (referrers with events)
    cts = sorted(r[0] for r in q("""
        SELECT CAST(round((julianday(e.ts) - julianday(a.ts)) * 86400000) AS INTEGER)
        FROM edge e JOIN acq a ON a.user = e.referrer"""))
    pos = [c for c in cts if c >= 0]
    desc = {r[0]: (r[1], r[2]) for r in q("""
        SELECT x.anc, count(*), sum(s.revenue) FROM anc x JOIN stat s ON s.user = x.des GROUP BY x.anc""")}
    direct = dict(q("SELECT referrer, count(*) FROM edge GROUP BY referrer"))

    # ---- the library, through pd referral ---------------------------------
    out = json.loads(run("referral", store, "--view", "summary,depth,top,beyond_cap,groups", "--top", str(TOP),
                         "--max-depth", str(CAP), "--by", "touchpoint", "--format", "json"))
    m = {r["metric"]: r["value"] for r in out["referral_summary"]}
    whole = json.loads(run("referral", store, "--view", "depth", "--format", "json"))
    pd_hist = [(r["depth"], r["users"], r["purchasers"], r["revenue"]) for r in whole]

    check(pd_hist == [tuple(h) for h in hist], "depth histogram: pd %s, sqlite %s" % (pd_hist[:6], hist[:6]))
    check(m["users"] == n_nodes and m["roots"] == roots and m["referred"] == n_nodes - roots,
          "users/roots/referred %s vs %s/%s" % ((m["users"], m["roots"], m["referred"]), n_nodes, roots))
    check(m["invites"] == invites, "invites %s vs %s" % (m["invites"], invites))
    check(m["k"] == (n_nodes - roots) / n_nodes, "K %s vs %s" % (m["k"], (n_nodes - roots) / n_nodes))
    check(m["i"] == invites / n_nodes and m["c"] == (n_nodes - roots) / invites, "i, c")
    check((m["beyond_cap_users"], m["beyond_cap_revenue"]) == tuple(beyond), "beyond the cap %s" % (beyond,))
    check(len(out["referral_beyond_cap"]) == beyond[0], "compliance list length")
    check(m["max_depth"] == hist[-1][0] and hist[-1][0] >= 12, "deepest level %s" % hist[-1][0])
    check(m["self_referrals"] == selfref == 30, "self-referrals %s vs %s" % (m["self_referrals"], selfref))
    check(m["conflicts"] == conflicts and conflicts > 0, "conflicts %s vs %s" % (m["conflicts"], conflicts))
    check(m["referrers_without_events"] == 1 and m["cycles"] == 0, "ghost referrer, no cycles")
    check(m["cycle_time_n"] == len(pos) and m["cycle_time_negative"] == len(cts) - len(pos), "cycle time counts")
    med = (pos[len(pos) // 2] if len(pos) % 2 else (pos[len(pos) // 2 - 1] + pos[len(pos) // 2]) / 2) / 3600000
    check(abs(m["cycle_time_median_h"] - med) < 1e-9, "median cycle time %s vs %s" % (m["cycle_time_median_h"], med))
    mean = sum(pos) / len(pos) / 3600000
    check(abs(m["cycle_time_mean_h"] - mean) < 1e-9 * mean, "mean cycle time %s vs %s" % (m["cycle_time_mean_h"], mean))
    # K per generation: users at d+1 / users at d
    kd = {r["depth"]: r["k_d"] for r in whole}
    for (dd, n, _, _), nxt in zip(hist, hist[1:]):
        check(kd.get(dd) == nxt[1] / n, "K_%d %s vs %s" % (dd, kd.get(dd), nxt[1] / n))

    # Breakdowns by touchpoint: groups by the referrer's acquisition touchpoint, depth by the root's.
    groups = {r["group"]: r for r in out["referral_groups"]}
    refd_by_tp = dict(q("SELECT p.tp, count(*) FROM edge e JOIN stat p ON p.user = e.referrer GROUP BY p.tp"))
    ref_groups = [(tp, n, inv, refd_by_tp.get(tp, 0), rts) for tp, n, inv, rts in q("""
        SELECT s.tp, count(*), sum(s.invites), sum(t.depth = 0) FROM stat s JOIN tree t USING (user) GROUP BY s.tp""")]
    check(len(groups) == len(ref_groups), "groups: %d vs %d" % (len(groups), len(ref_groups)))
    for tp, users_, inv, refd, rts in ref_groups:
        g = groups.get(tp)
        check(g is not None and (g["users"], g["invites"], g["referred"], g["roots"]) == (users_, inv, refd, rts),
              "group %s: %s vs %s" % (tp, g, (users_, inv, refd, rts)))
    by_root = {(r["group"], r["depth"]): r["users"] for r in out["referral_depth"]}
    ref_by_root = q("""SELECT s.tp, t.depth, count(*) FROM tree t JOIN stat s ON s.user = t.root
                       GROUP BY s.tp, t.depth""")
    check(len(by_root) >= len(ref_by_root) and all(by_root.get((tp, dd)) == n for tp, dd, n in ref_by_root),
          "depth by the root's touchpoint")

    # Top referrers: each listed user's counts, and the list is the top by descendants.
    top = out["referral_top"]
    check(len(top) == TOP, "top has %d rows" % len(top))
    for r in top:
        want = desc.get(r["name"], (0, 0))
        check((r["descendants"], r["descendants_revenue"], r["direct_referees"]) ==
              (want[0], want[1], direct.get(r["name"], 0)), "top %s: %s vs %s" % (r["name"], r, want))
    best = sorted((v[0] for v in desc.values()), reverse=True)[:TOP]
    check([r["descendants"] for r in top] == best, "top descendant counts %s vs %s" %
          ([r["descendants"] for r in top][:8], best[:8]))

    print("referral agreement on %d users (%d events): %d depths, %d referred, max depth %d, %d groups, "
          "top %d referrers: %s" % (n_nodes, len(rows), len(hist), n_nodes - roots, hist[-1][0], len(groups), TOP,
                                    "agree" if not failures else "%d DISAGREEMENTS" % len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
