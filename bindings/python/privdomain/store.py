"""Store: an event store directory, read and written through libprivdomain.

Analyses are Store methods, one commented region per area below. Put the work in
privdomain/<area>.py as functions taking the store (use store._handle, _native.lib,
Table) and add thin methods here in your region only, so parallel edits merge.
"""

import ctypes
import datetime
import decimal
import os

from . import errors
from ._native import (NONE, Event, IngestOptions, IngestResult, ProgressFn, ScanFn, ScanOptions,
                      SegmentOptions, StoreOptions, TouchpointDef, from_bytes, lib, new, to_bytes)
from .table import Table

_DURABILITY = {"full": 0, "batch": 1}
_INPUT_FORMATS = {"auto": 0, "csv": 1, "tsv": 2, "jsonl": 3}
_DOMAINS = ("unknown", "public", "private", "semi")
_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
_NO_TIME = -(1 << 63)


class Store:
    """An event store in a directory. Not thread-safe: one handle per thread.

    Reading works on any handle. The first write (append, user, ingest...) takes
    the store's writer lock (LockedError if another writer holds it) and keeps it
    until close(). Writes become visible and durable together at commit().
    As a context manager the store commits on a clean exit and rolls back on an
    exception, then closes.
    """

    _h = None
    _w = None

    def __init__(self, path, create=False, read_only=False, durability="full"):
        self.path = os.fspath(path)
        if durability not in _DURABILITY:
            raise ValueError("durability must be 'full' or 'batch'")
        opts = new(StoreOptions, create=int(bool(create)), read_only=int(bool(read_only)),
                   durability=_DURABILITY[durability])
        h = ctypes.c_void_p()
        lib.pd_store_open(ctypes.byref(h), to_bytes(self.path), ctypes.byref(opts))
        self._h = h.value

    # ---- lifetime ----

    def close(self):
        """Rolls back anything uncommitted, releases the writer lock, closes. Idempotent."""
        w, self._w = self._w, None
        h, self._h = self._h, None
        if w:
            lib.pd_writer_close(w)
        if h:
            lib.pd_store_close(h)

    def __del__(self):
        if lib is not None:  # None during interpreter shutdown
            self.close()

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        try:
            if exc_type is None and self._w and self.pending:
                self.commit()
        finally:
            self.close()

    @property
    def closed(self):
        return not self._h

    @property
    def _handle(self):
        if not self._h:
            raise ValueError("store %s is closed" % self.path)
        return self._h

    def _writer(self):
        if not self._w:
            w = ctypes.c_void_p()
            lib.pd_writer_open(ctypes.byref(w), self._handle)
            self._w = w.value
        return self._w

    def __repr__(self):
        if self.closed:
            return "<privdomain.Store %r (closed)>" % self.path
        return "<privdomain.Store %r: %d users, %d events>" % (self.path, self.n_users, self.n_events)

    # ---- reading: counts, lookups ----

    def refresh(self):
        """Sees what other handles or processes committed since open."""
        lib.pd_store_refresh(self._handle)

    @property
    def recovered_bytes(self):
        """Bytes of torn or uncommitted log tail dropped when this handle opened."""
        return lib.pd_store_recovered_bytes(self._handle)

    @property
    def n_users(self):
        return lib.pd_store_n_users(self._handle)

    @property
    def n_events(self):
        return lib.pd_store_n_events(self._handle)

    @property
    def n_touchpoints(self):
        return lib.pd_store_n_touchpoints(self._handle)

    @property
    def n_event_types(self):
        return lib.pd_store_n_event_types(self._handle)

    def find_user(self, external_id):
        """The user id of an external id or alias (the survivor after merges). NotFoundError if absent."""
        out = ctypes.c_uint32()
        lib.pd_store_find_user(self._handle, to_bytes(external_id), ctypes.byref(out))
        return out.value

    def user_name(self, user):
        """The primary external id of a user id, or None."""
        return from_bytes(lib.pd_store_user_name(self._handle, user))

    def canonical_user(self, user):
        """The user that `user` was merged into (itself if never merged)."""
        return lib.pd_store_canonical_user(self._handle, user)

    def find_touchpoint(self, name):
        out = ctypes.c_uint32()
        lib.pd_store_find_touchpoint(self._handle, to_bytes(name), ctypes.byref(out))
        return out.value

    def touchpoint(self, touchpoint):
        """A touchpoint's attributes (by id or name) as a dict; daily_spend None when unknown."""
        if isinstance(touchpoint, str):
            touchpoint = self.find_touchpoint(touchpoint)
        d = new(TouchpointDef)
        lib.pd_store_touchpoint(self._handle, touchpoint, ctypes.byref(d))
        return {"id": touchpoint, "name": from_bytes(d.name),
                "domain": from_bytes(lib.pd_domain_name(d.domain)),
                "carrier": from_bytes(lib.pd_carrier_name(d.carrier)),
                "daily_spend": None if d.daily_spend < 0 else d.daily_spend}

    def touchpoints(self):
        """Every touchpoint: Table of id, name, domain, carrier, daily_spend."""
        out = ctypes.c_void_p()
        lib.pd_store_touchpoints(self._handle, ctypes.byref(out))
        return Table(out)

    def find_event_type(self, name):
        out = ctypes.c_uint32()
        lib.pd_store_find_event_type(self._handle, to_bytes(name), ctypes.byref(out))
        return out.value

    def event_type_name(self, event_type):
        return from_bytes(lib.pd_store_event_type_name(self._handle, event_type))

    def info(self):
        """What is in the store: Table of key, value, detail (one row per fact)."""
        out = ctypes.c_void_p()
        lib.pd_store_info(self._handle, ctypes.byref(out))
        return Table(out)

    # ---- writing ----

    def user(self, external_id):
        """Interns an external user id (existing user, also through an alias, or a new one)."""
        out = ctypes.c_uint32()
        lib.pd_writer_user(self._writer(), to_bytes(external_id), ctypes.byref(out))
        return out.value

    def alias(self, user, external_id):
        """Makes external_id another name of user (an id or an external id)."""
        lib.pd_writer_alias(self._writer(), self._user_id(user), to_bytes(external_id))

    def merge_users(self, keep, merged):
        """Merges user `merged` into `keep` (ids or external ids) from the next commit on."""
        lib.pd_writer_merge_users(self._writer(), self._user_id(keep), self._user_id(merged))

    def define_touchpoint(self, name, domain="unknown", carrier="other", daily_spend=None):
        """Defines a touchpoint or updates its attributes; daily_spend in minor units. Returns its id."""
        if domain not in _DOMAINS:
            raise ValueError("domain must be one of %s" % ", ".join(_DOMAINS))
        carrier_id = lib.pd_carrier_from_name(to_bytes(carrier))
        if carrier_id < 0:
            raise ValueError("unknown carrier %r" % carrier)
        d = new(TouchpointDef, name=to_bytes(name), domain=_DOMAINS.index(domain), carrier=carrier_id,
                daily_spend=-1 if daily_spend is None else _amount(daily_spend))
        out = ctypes.c_uint32()
        lib.pd_writer_touchpoint(self._writer(), ctypes.byref(d), ctypes.byref(out))
        return out.value

    def event_type(self, name):
        """Interns an event type name (built-in names have their pinned ids)."""
        out = ctypes.c_uint32()
        lib.pd_writer_event_type(self._writer(), to_bytes(name), ctypes.byref(out))
        return out.value

    def append(self, user, event, time, touchpoint=None, amount=0, referrer=None):
        """Appends one event (visible at commit()).

        user, referrer: external id (interned) or user id; event: type name or id;
        time: int ms UTC, an aware datetime, or text as ingest reads it (UTC);
        touchpoint: name (interned) or id; amount: int minor units, or exact
        decimal text / Decimal in major units ("12.34"); floats are refused.
        """
        w = self._writer()
        ev = Event(time_ms=_time_ms(time), user=self._user_id(user),
                   type=self.event_type(event) if isinstance(event, str) else event,
                   touchpoint=NONE if touchpoint is None else self._touchpoint_id(touchpoint),
                   referrer=NONE if referrer is None else self._user_id(referrer),
                   amount=_amount(amount))
        lib.pd_writer_append(w, ctypes.byref(ev))

    def commit(self):
        """Makes everything appended since the last commit durable and visible."""
        if self._w:
            lib.pd_writer_commit(self._w)

    def rollback(self):
        """Discards everything appended since the last commit."""
        if self._w:
            lib.pd_writer_rollback(self._w)

    @property
    def pending(self):
        """Events appended since the last commit."""
        return lib.pd_writer_pending(self._w) if self._w else 0

    def compact(self):
        """Seals everything committed into a sorted, memory-mapped segment."""
        lib.pd_store_compact(self._handle)

    def _user_id(self, user):
        return self.user(user) if isinstance(user, str) else user

    def _touchpoint_id(self, touchpoint):
        if not isinstance(touchpoint, str):
            return touchpoint
        out = ctypes.c_uint32()
        lib.pd_writer_touchpoint_name(self._writer(), to_bytes(touchpoint), ctypes.byref(out))
        return out.value

    # ---- tags and segments ----

    def tag(self, user, tag):
        """Tags a user (id or external id); the tag is created on first use."""
        lib.pd_writer_tag(self._writer(), self._user_id(user), to_bytes(tag))

    def untag(self, user, tag):
        lib.pd_writer_untag(self._writer(), self._user_id(user), to_bytes(tag))

    def set_tag(self, tag, users):
        """Makes the stored tag exactly `users` (ids or external ids): a segment saved by name."""
        s = self._userset(users)
        try:
            lib.pd_writer_tag_set(self._writer(), to_bytes(tag), s)
        finally:
            lib.pd_userset_free(s)

    def tags(self):
        """Every tag: Table of tag, users."""
        out = ctypes.c_void_p()
        lib.pd_store_tags(self._handle, ctypes.byref(out))
        return Table(out)

    def tag_users(self, tag):
        """The (surviving) user ids carrying a tag, ascending."""
        s = ctypes.c_void_p()
        lib.pd_userset_from_tag(ctypes.byref(s), self._handle, to_bytes(tag))
        try:
            return [u for u in range(self.n_users) if lib.pd_userset_contains(s, u)]
        finally:
            lib.pd_userset_free(s)

    def _userset(self, users):
        s = ctypes.c_void_p()
        lib.pd_userset_new(ctypes.byref(s), self._handle)
        for u in users:
            lib.pd_userset_add(s, self._user_id(u))
        return s

    # ---- ingest ----

    def ingest(self, path, format="auto", lenient=False, rejects=None, tz=None, amount_decimals=2,
               columns=None, progress=None):
        """Ingests a CSV, TSV or JSON Lines file (.gz too) and commits it with anything pending.

        Strict (default): the first bad value raises ParseError ("file:line:column:
        expected ..., got ...") and nothing of the file is committed. lenient=True:
        bad rows go to `rejects` (a path) with their error, good rows commit.
        columns maps time/user/event/touchpoint/amount/referrer to header names.
        progress(done_bytes, total_bytes) may return True (or raise) to cancel.
        Returns {rows_read, rows_committed, rows_rejected, bytes_read}.
        """
        opts = self._ingest_options(format, lenient, rejects, tz, amount_decimals, columns)
        result = new(IngestResult)
        cb = _Callback(ProgressFn, progress and (lambda ctx, done, total: progress(done, total)))
        opts.progress = cb.c_fn
        cb.call(lib.pd_ingest_file, self._writer(), to_bytes(path), ctypes.byref(opts),
                ctypes.byref(result))
        return {name: getattr(result, name) for name, _ in IngestResult._fields_[1:]}

    def ingest_touchpoints(self, path, format="auto"):
        """Ingests touchpoint definitions: CSV/TSV name,domain,carrier,daily_spend (major units). Commits."""
        opts = self._ingest_options(format, False, None, None, 2, None)
        lib.pd_ingest_touchpoints(self._writer(), to_bytes(path), ctypes.byref(opts))

    @staticmethod
    def _ingest_options(format, lenient, rejects, tz, amount_decimals, columns):
        if format not in _INPUT_FORMATS:
            raise ValueError("format must be one of %s" % ", ".join(_INPUT_FORMATS))
        opts = new(IngestOptions, format=_INPUT_FORMATS[format], lenient=int(bool(lenient)),
                   rejects_path=to_bytes(rejects and os.fspath(rejects)), tz=to_bytes(tz),
                   amount_decimals=amount_decimals)
        for key, name in (columns or {}).items():
            if key not in ("time", "user", "event", "touchpoint", "amount", "referrer"):
                raise ValueError("unknown column role %r" % key)
            setattr(opts, "col_" + key, to_bytes(name))
        return opts

    # ---- per-user events (pure Python: slow, for inspection and tests) ----

    def events(self, user):
        """One user's events in time order as columns {time, type, touchpoint, referrer,
        amount}: lists, None where absent. user: id or external id."""
        if isinstance(user, str):
            user = self.find_user(user)
        user = self.canonical_user(user)
        for _, cols in self.scan(user, user + 1):
            return cols
        return {k: [] for k in ("time", "type", "touchpoint", "referrer", "amount")}

    def scan(self, begin=0, end=None, chunk=4096):
        """Yields (user, columns as in events()) for every user with events in [begin, end),
        in user order, single-threaded, `chunk` users per native scan. Slow (Python
        objects per event): analyses belong in C, this is for inspection and tests."""
        end = self.n_users if end is None else min(end, self.n_users)
        while begin < end:
            got = []

            def visit(ctx, worker, ev_p):
                ev, n = ev_p.contents, ev_p.contents.n
                got.append((ev.user, {
                    "time": ev.time[:n], "type": ev.type[:n],
                    "touchpoint": [None if v == NONE else v for v in ev.touchpoint[:n]],
                    "referrer": [None if v == NONE else v for v in ev.referrer[:n]],
                    "amount": ev.amount[:n]}))
                return False

            opts = new(ScanOptions, threads=1, user_begin=begin, user_end=min(begin + chunk, end))
            cb = _Callback(ScanFn, visit)
            cb.call(lib.pd_scan, self._handle, ctypes.byref(opts), cb.c_fn, None)
            yield from got
            begin += chunk

    # ---- charts (issues 2-8) ----

    # ---- funnel, stages (issue 3) ----

    def funnel(self, steps, window="7d", mode="default", breakdown=None, tz=None, exclude=(),
               threads=0, segment=None):
        """Users through an ordered funnel (see privdomain.funnel.funnel): a Table with one row
        per step (and group when breakdown is set; breakdown="segment:A,B" or "tags": one
        group per segment). segment: only those users (privdomain.segments)."""
        from . import funnel, segments
        return segments.run(self, segment, None, lambda u: funnel.funnel(
            self, steps, window=window, mode=mode, breakdown=breakdown, tz=tz, exclude=exclude,
            threads=threads, _users=u))

    def stages(self, period, tz=None, order="aarrr", activation_days=7, retention_days=7,
               threads=0, segment=None):
        """The AARRR / RARRA stage report for a period (see privdomain.funnel.stages), of the
        users of `segment` only when given."""
        from . import funnel, segments
        return segments.run(self, segment, None, lambda u: funnel.stages(
            self, period, tz=tz, order=order, activation_days=activation_days,
            retention_days=retention_days, threads=threads, _users=u))

    # ---- retention, lifecycle (issue 4) ----

    def retention(self, period="day", tz=None, segment=None, breakdown=None, **options):
        """Cohort retention and cohort revenue (a Table). Options: start, returns,
        return_touchpoints, return_domain, recurring, window, mode (classic | on_or_after),
        periods, by (touchpoint | domain), as_of, table (long | rates | average), threads.
        See privdomain.retention.retention. segment: only those users; breakdown
        "segment:A,B" / "tags": one table per segment, stacked (table long or average; as_of
        defaults to the store's latest event so that every segment has the same end)."""
        from . import segments
        from .retention import retention
        return segments.run(self, segment, breakdown, lambda u: retention(self, period, tz, _users=u, **options))

    def lifecycle(self, period="week", tz=None, segment=None, breakdown=None, **options):
        """New, returning, resurrecting and dormant users per period (a Table).
        Options: active (event types), threads. segment / breakdown as retention()."""
        from . import segments
        from .retention import lifecycle
        return segments.run(self, segment, breakdown, lambda u: lifecycle(self, period, tz, _users=u, **options))

    def stickiness(self, period="week", tz=None, segment=None, breakdown=None, **options):
        """Users by active days per week or active weeks per month (a Table).
        Options: active, per_period, threads. segment / breakdown as retention()."""
        from . import segments
        from .retention import stickiness
        return segments.run(self, segment, breakdown, lambda u: stickiness(self, period, tz, _users=u, **options))

    # ---- referral (issue 5) ----

    def referral(self, segment=None, breakdown=None, **kwargs):
        """The referral forest and its metrics (privdomain.referral.Referral): max_depth=2,
        by=None|"period"|"touchpoint"|"domain", period="month", tz=None,
        acquire_attributes=True, cost_begin/cost_end (ms, aware datetime or text),
        projection_cycles=10, projection_seed=None (= roots), top_n=20, max_examples=20,
        tree_nodes=400, threads=0. segment: the metrics of those users as referrers, over the
        whole forest (include/privdomain/referral.h). breakdown "segment:A,B" / "tags": a Table
        with each segment's "groups" row (users, roots, invites, referred, i, c, k, cycle
        times) instead of a Referral."""
        from . import segments
        from .referral import Referral
        if segments.is_breakdown(breakdown):
            kwargs["by"] = None

            def groups(u):
                with Referral(self, _users=u, **kwargs) as r:
                    return r.table("groups")
            return segments.run(self, segment, breakdown, groups)
        return segments.run(self, segment, None, lambda u: Referral(self, _users=u, **kwargs))

    # ---- clv (issue 6) ----

    def rfm(self, unit_days=1.0, calibration_end=None, holdout_end=None, period="day", period_multiple=1,
            tz=None, threads=0, segment=None, breakdown=None):
        """Per-customer RFM summary Table (see privdomain.clv.rfm); feed it to
        privdomain.clv.BetaGeo().fit(...) and friends: a CLV model of a segment is fitted on
        rfm(segment=...). segment: only those customers (the default calibration end stays
        the day of the store's latest transaction); breakdown "segment:A,B" / "tags": stacked."""
        from . import segments
        from .clv import rfm
        return segments.run(self, segment, breakdown, lambda u: rfm(
            self, unit_days=unit_days, calibration_end=calibration_end, holdout_end=holdout_end,
            period=period, period_multiple=period_multiple, tz=tz, threads=threads, _users=u))

    def clv(self, model="bgnbd", unit_days=7.0, horizon=12, monthly_discount=0.01, penalizer=0.0,
            calibration_end=None, tz=None, threads=0, segment=None, breakdown=None):
        """What `pd clv` prints: fits a purchase model (bgnbd, pnbd or mbgnbd) and, when it
        fits with q > 1, Gamma-Gamma to the RFM summary (rfm(unit_days=...), of `segment`
        only when given) and scores every customer: Table clv_scores (user, external_id,
        touchpoint, frequency, recency, T, p_alive, expected_purchases over `horizon` months,
        and with the spend model monetary_value, expected_spend, clv discounted monthly).
        breakdown "segment:A,B" / "tags": the purchase model fitted to each segment's
        customers alone, its parameter Tables (param, value, stderr) stacked."""
        from . import clv, segments
        models = {"bgnbd": clv.BetaGeo, "mbgnbd": clv.ModifiedBetaGeo, "pnbd": clv.ParetoNBD}
        if model not in models:
            raise ValueError("model must be one of %s" % ", ".join(models))
        # time units per month as clv.h and lifetimes count them: 30 days, 4.345 weeks
        upm = 4.345 if float(unit_days) == 7.0 else 30.0 / float(unit_days)

        def run(u, params_only):
            rfm = clv.rfm(self, unit_days=unit_days, calibration_end=calibration_end, tz=tz, threads=threads,
                          _users=u)
            m = models[model](penalizer)._fit_rfm_table(rfm, threads)
            if params_only:
                return m.summary_table()
            try:
                gg = clv.GammaGamma(penalizer)._fit_rfm_table(rfm, threads)
                if not gg.params["q"] > 1:  # q <= 1: mean spend undefined
                    gg = None
            except errors.PrivdomainError:
                gg = None
            out = ctypes.c_void_p()
            lib.pd_clv_score_table(m._check(), gg._check() if gg else None, rfm._h, float(horizon) * upm,
                                   float(horizon), float(monthly_discount), upm, ctypes.byref(out))
            return Table(out)
        if segments.is_breakdown(breakdown):
            return segments.run(self, segment, breakdown, lambda u: run(u, True))
        return segments.run(self, segment, None, lambda u: run(u, False))

    def ltv(self, cohort_period="month", as_of=None, tz=None, users=False, threads=0, segment=None,
            breakdown=None):
        """Historical value, CAC and LTV:CAC by acquisition touchpoint and cohort
        (see privdomain.clv.ltv): (by_touchpoint, by_cohort[, by_user]) Tables. segment: only
        those users; breakdown "segment:A,B" / "tags": the by_touchpoint Table of each
        segment, stacked (one Table)."""
        from . import segments
        from .clv import ltv
        if segments.is_breakdown(breakdown):
            return segments.run(self, segment, breakdown, lambda u: ltv(
                self, cohort_period=cohort_period, as_of=as_of, tz=tz, threads=threads, _users=u)[0])
        return segments.run(self, segment, None, lambda u: ltv(
            self, cohort_period=cohort_period, as_of=as_of, tz=tz, users=users, threads=threads, _users=u))

    # ---- touchpoints, attribution, segments (issue 7) ----

    def attribution(self, model="all", segment=None, breakdown=None, **options):
        """Credit for conversions per touchpoint (a Table): model first, last, linear, decay,
        position, markov or all (side by side). Options: conversion (event name or funnel-style
        dict), lookback ("30d"), touches (event types), half_life ("7d"), position ((40, 20, 40)),
        threads. See privdomain.attribution.attribution. segment: only those users' conversions;
        breakdown "segment:A,B" / "tags": one table per segment, stacked."""
        from . import segments
        from .attribution import attribution
        return segments.run(self, segment, breakdown, lambda u: attribution(self, model, _users=u, **options))

    def touchpoint_scorecard(self, period=None, **options):
        """The touchpoint scorecard (a Table; touchpoints() lists the definitions): period ("2024-03") or start/end, tz, by
        (touchpoint, domain, carrier), as_of, users (segment, tag, ("expr", text) or ids), clv
        and gg (fitted models), months, discount, threads. See privdomain.touchpoints."""
        from .touchpoints import scorecard
        return scorecard(self, period, **options)

    def migration(self, period=None, **options):
        """Public -> private migration and the reverse flow (a Table), options as
        touchpoint_scorecard()."""
        from .touchpoints import migration
        return migration(self, period, **options)

    def tag_file(self, path, create_users=False, format="auto", lenient=False, rejects=None,
                 user_column=None):
        """Ingests a `user,tag` file (CSV, TSV or JSON Lines, .gz too; header required) and
        commits it with anything pending. Users are external ids or aliases; an unknown one
        raises ParseError ("file:line:column: expected a known user ...") unless
        create_users=True. lenient/rejects as ingest(). Returns {rows_read,
        rows_committed, rows_rejected, bytes_read}."""
        opts = self._ingest_options(format, lenient, rejects, None, 2,
                                    user_column and {"user": user_column})
        result = new(IngestResult)
        lib.pd_ingest_tags(self._writer(), to_bytes(os.fspath(path)), ctypes.byref(opts),
                           int(bool(create_users)), ctypes.byref(result))
        return {name: getattr(result, name) for name, _ in IngestResult._fields_[1:]}

    def define_segment(self, name, expr):
        """Stores (or replaces) segment `name` defined by `expr`, e.g. "vip and revenue >= 10000"
        (grammar in include/privdomain/segments.h; revenue in minor units). Durable at once.
        A bad expression raises ParseError ("segment NAME: column C: expected ..., got ...")."""
        lib.pd_segment_define(self._handle, to_bytes(name), to_bytes(expr))

    def drop_segment(self, name):
        lib.pd_segment_drop(self._handle, to_bytes(name))

    def segments(self):
        """Stored segment definitions: Table of segment, expr (by name)."""
        out = ctypes.c_void_p()
        lib.pd_store_segments(self._handle, ctypes.byref(out))
        return Table(out)

    def segment_users(self, segment, as_of=None, threads=0):
        """The user ids of a stored segment, a tag, or an expression given as
        segment=("expr", "revenue > 0"), ascending. as_of: reference time of the *_days metrics."""
        s = self._segment_set(segment, as_of, threads)
        try:
            return [u for u in range(self.n_users) if lib.pd_userset_contains(s, u)]
        finally:
            lib.pd_userset_free(s)

    def _segment_set(self, segment, as_of=None, threads=0):
        """A pd_userset handle (caller frees) for a segment or tag name, an ("expr", text) pair
        or an iterable of user ids / external ids."""
        opts = new(SegmentOptions, as_of_ms=_NO_TIME if as_of is None else _time_ms(as_of),
                   threads=threads)
        out = ctypes.c_void_p()
        if isinstance(segment, str):
            lib.pd_segment_eval(self._handle, to_bytes(segment), ctypes.byref(opts), ctypes.byref(out))
        elif isinstance(segment, tuple) and len(segment) == 2 and segment[0] == "expr":
            lib.pd_segment_eval_expr(self._handle, to_bytes(segment[1]), ctypes.byref(opts),
                                     ctypes.byref(out))
        else:
            return self._userset(segment)
        return out

    # ---- rfm layers, membership (issue 7) ----

    def rfm_layers(self, segment=None, breakdown=None, **options):
        """RFM scores and the eight layers over a window (privdomain.rfm_layers.rfm_layers):
        bins=5, thresholds=None ({"r","f","m"}: bins - 1 upper bounds each), split=None
        ((r, f, m) instead of the means), window=(begin, end), tz, threads. Returns
        RfmLayers(users, layers, thresholds), three Tables. segment: scored among those users
        only; breakdown "segment:A,B" / "tags": the layers Table of each segment, stacked."""
        from . import segments
        from .rfm_layers import rfm_layers
        if segments.is_breakdown(breakdown):
            return segments.run(self, segment, breakdown, lambda u: rfm_layers(self, _users=u, **options).layers)
        return segments.run(self, segment, None, lambda u: rfm_layers(self, _users=u, **options))

    def membership(self, segment=None, breakdown=None, **options):
        """Members vs non-members, stored-value users vs others, before vs after joining
        (privdomain.membership.membership): end, min_days=7, member_event="member_join",
        stored_value_event="stored_value", threads. Returns Membership(groups, before_after).
        segment: within those users; breakdown "segment:A,B" / "tags": the groups Table of
        each segment, stacked (end defaults to the store's latest event)."""
        from . import segments
        from .membership import membership
        if segments.is_breakdown(breakdown):
            return segments.run(self, segment, breakdown, lambda u: membership(self, _users=u, **options).groups)
        return segments.run(self, segment, None, lambda u: membership(self, _users=u, **options))

    # ---- report (issue 8) ----

    def report(self, path=None, **options):
        """The operator's HTML report: writes path (returned) or returns the HTML when path is
        None. Options: title, tz, period (day, week, week_sunday, month), currency_symbol,
        rarra, referral_cap, sections (list of ids, see privdomain.report.sections()), threads."""
        from .report import report
        return report(self, path, **options)


class _Callback:
    """A Python function as a C callback for one call: its truthy result stops the
    C call, and an exception inside it stops the call too and is re-raised by
    call() in place of the CancelledError. body None gives a NULL pointer."""

    def __init__(self, cfunctype, body):
        self.error = None
        if body is None:
            self.c_fn = cfunctype()
            return

        def trampoline(*args):
            try:
                return 1 if body(*args) else 0
            except BaseException as e:  # re-raised by call()
                self.error = e
                return 1
        self.c_fn = cfunctype(trampoline)  # referenced by self for as long as the call runs

    def call(self, func, *args):
        try:
            return func(*args)
        except errors.CancelledError:
            if self.error is not None:
                raise self.error from None
            raise


def _time_ms(t):
    if isinstance(t, bool):
        raise TypeError("time must be int milliseconds, an aware datetime or text")
    if isinstance(t, int):
        return t
    if isinstance(t, datetime.datetime):
        if t.tzinfo is None:
            raise ValueError("naive datetime %s: give it a tzinfo" % t)
        return (t - _EPOCH) // datetime.timedelta(milliseconds=1)
    if isinstance(t, (str, bytes)):
        b = to_bytes(t)
        out = ctypes.c_int64()
        lib.pd_time_parse(b, len(b), None, ctypes.byref(out))
        return out.value
    raise TypeError("time must be int milliseconds, an aware datetime or text, not %s"
                    % type(t).__name__)


def _amount(a, decimals=2):
    if isinstance(a, bool) or isinstance(a, float):
        raise TypeError("amounts are int minor units or exact decimal text, never floats")
    if isinstance(a, int):
        return a
    if isinstance(a, decimal.Decimal):
        a = format(a, "f")
    if isinstance(a, (str, bytes)):
        b = to_bytes(a)
        out = ctypes.c_int64()
        lib.pd_amount_parse(b, len(b), decimals, ctypes.byref(out))
        return out.value
    raise TypeError("amount must be int minor units or decimal text, not %s" % type(a).__name__)
