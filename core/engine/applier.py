"""The status applier: the :class:`~tocsin.channel.StatusSink` every channel reports to.

Events are queued (``report`` returns at once, from any thread) and applied in batches.
Provider references are resolved to attempts first (a read); then one transaction locks
the batch's attempts, judges each event with the means' status machine, sets ``reached``
by the policy, writes the attempts that changed and records every event — applied,
absorbed, duplicate or refused (with its anomaly). A full batch on PostgreSQL runs as
several such transactions side by side, each of whole attempts (:data:`LANES`). After
the commit, observers get the batch through ``tocsin_attempts_changed``, in the database
thread (never on the event loop). Inbound messages
(replies, DTMF digits) go to ``tocsin_inbound_message``; the first plugin that claims one
wins.

The applier runs inside the engine, or alone in a server process that only receives
webhooks: ``StatusApplier(runtime).start()`` and ``runtime.sink`` is set.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import json
import logging
import threading
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeVar

from attrs import field, frozen
from sqlalchemy import Connection, select

from tocsin import rules
from tocsin.engine.dbthread import URGENT, DbThreads
from tocsin.model import AttemptChange, InboundMessage, StatusEvent
from tocsin.runtime import Runtime
from tocsin.status import PENDING, StatusMachine, Verdict
from tocsin.store.bulk import EVENT_ROWS, Bulk, RowUpdate
from tocsin.store.filters import among, chunks
from tocsin.store.outbox import Reschedule
from tocsin.store.schema import attempts

log = logging.getLogger("tocsin.engine.applier")
T = TypeVar("T")

LANES = 2
"""Transactions a full batch is split into on PostgreSQL, by attempt, run side by side:
the server's work (index entries, mostly) then uses more than one core. Only a full
batch (``flush_max`` events or more: they arrive faster than one transaction applies
them) is split; otherwise the cores are better left to the fan-out and the channels,
and one transaction costs less than two."""

LANE_MIN = 2000
"""Events below which a batch stays one transaction (splitting it would cost more)."""

UNMATCHED_GRACE = 60.0
"""Seconds an event naming an unknown provider reference is kept and retried: a
provider's callback may arrive before the send that returned the reference is stored."""


@frozen
class Applied:
    """What one batch did, for observers and the engine's checks."""

    changes: tuple[AttemptChange, ...] = ()
    events: int = 0
    anomalies: int = 0
    unmatched: int = 0
    rescheduled: int = 0
    alerts: frozenset[int] = field(factory=frozenset)


class _State:
    """One attempt as the batch sees it; ``sent_at``/``completed_at``/``error`` hold what
    this batch sets (None: keep the stored value), times already in the store's format."""

    __slots__ = (
        "alert_id", "completed_at", "contact_id", "dirty", "error", "means", "provider_ref",
        "reached", "sent_at", "status",
    )

    def __init__(self, row: Any) -> None:
        _, self.alert_id, self.contact_id, self.means, self.status, reached, self.provider_ref = row
        self.reached = None if reached is None else bool(reached)
        self.error: str | None = None
        self.sent_at: Any = None
        self.completed_at: Any = None
        self.dirty = False


_LOAD = ("id", "alert_id", "contact_id", "means", "status", "reached", "provider_ref")

_WRITE = RowUpdate(
    "attempts",
    (
        ("status", "varchar(32)"), ("reached", "boolean"), ("error", "text"),
        ("provider_ref", "varchar(200)"), ("sent_at", "timestamptz"), ("completed_at", "timestamptz"),
        ("updated_at", "timestamptz"),
    ),
    "status = new.status, reached = new.reached, error = COALESCE(new.error, old.error),"
    " provider_ref = COALESCE(old.provider_ref, new.provider_ref),"
    " sent_at = COALESCE(old.sent_at, new.sent_at),"
    " completed_at = COALESCE(old.completed_at, new.completed_at), updated_at = new.updated_at,"
    " claimed_by = NULL, claimed_until = NULL",
)
"""What a batch writes to each attempt it changed (``None`` keeps the stored value)."""

_ANOMALIES = "UPDATE attempts SET anomalies = anomalies + ? WHERE id = ?"


class StatusApplier:
    """Queues status events and inbound messages, applies them in batches."""

    def __init__(
        self,
        runtime: Runtime,
        *,
        run_db: Callable[[Callable[[], Any], int], Awaitable[Any]] | None = None,
        on_applied: Callable[[Applied], Awaitable[None] | None] | None = None,
        flush_max: int = 5000,
        flush_interval: float = 0.05,
    ) -> None:
        self.runtime = runtime
        # SQLite has one writer: one transaction at a time is all it can take
        self.lanes = 1 if runtime.store.dialect == "sqlite" else LANES
        self._threads = DbThreads(self.lanes, "tocsin-applier") if run_db is None else None
        self._run_db = run_db or self._threads.run  # type: ignore[union-attr]
        self.on_applied = on_applied
        self.flush_max = flush_max
        self.flush_interval = flush_interval
        self._events: list[StatusEvent] = []
        self._reschedules: list[Reschedule] = []
        self._inbound: list[InboundMessage] = []
        self._unmatched: list[tuple[float, StatusEvent]] = []
        self._reached: dict[int, Mapping[str, frozenset[str]]] = {}
        self._machines: dict[str, StatusMachine] = {
            name: entry.value for name, entry in runtime.registry.status_machines.items()
        }
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: int | None = None
        self._wake: asyncio.Event | None = None
        self._lock: asyncio.Lock | None = None
        self._task: asyncio.Task[None] | None = None
        self.totals = {"events": 0, "applied": 0, "anomalies": 0, "unmatched": 0}

    # -- the sink ------------------------------------------------------------------------

    def report(self, event: StatusEvent) -> None:
        """Queue a status event (any thread); applied at the next flush."""
        self._events.append(event)
        if len(self._events) >= self.flush_max:
            self._signal()

    def inbound(self, message: InboundMessage) -> None:
        """Queue an inbound message (any thread)."""
        self._inbound.append(message)
        self._signal()

    def reschedule(self, item: Reschedule) -> None:
        """Queue a temporary failure's return to the outbox (written with the next batch)."""
        self._reschedules.append(item)

    @property
    def pending(self) -> int:
        return len(self._events) + len(self._inbound) + len(self._reschedules)

    def _signal(self) -> None:
        if self._wake is None or self._loop is None:
            return
        if threading.get_ident() == self._thread:
            self._wake.set()
        else:
            self._loop.call_soon_threadsafe(self._wake.set)

    # -- running -------------------------------------------------------------------------

    def bind(self) -> None:
        """Attach to the running event loop and become ``runtime.sink``."""
        self._loop = asyncio.get_running_loop()
        self._thread = threading.get_ident()
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()
        self.runtime.sink = self

    async def start(self) -> None:
        """Apply in the background every ``flush_interval`` seconds (or sooner when full)."""
        self.bind()
        self._task = asyncio.create_task(self._run(), name="tocsin-applier")

    async def _run(self) -> None:
        assert self._wake is not None
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.flush_interval)
            self._wake.clear()
            try:
                await self.flush()
            except Exception:  # keep applying later batches; the events stay queued
                log.exception("applying a batch of status events failed; retrying")
                await asyncio.sleep(self.flush_interval)

    async def stop(self) -> None:
        """Stop the background loop after applying everything queued."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._lock is not None:
            await self.flush()
        if self.runtime.sink is self:
            self.runtime.sink = None
        if self._threads is not None:
            self._threads.shutdown()

    async def _db(self, fn: Callable[[], T]) -> T:
        result: T = await self._run_db(fn, URGENT)
        return result

    async def flush(self) -> Applied:
        """Apply what is queued now; inbound messages go to the plugins after it."""
        if self._lock is None:
            self.bind()
        assert self._lock is not None
        async with self._lock:
            now_mono = time.monotonic()
            retry = [e for t, e in self._unmatched if now_mono - t < UNMATCHED_GRACE]
            expired = len(self._unmatched) - len(retry)
            if expired:
                log.warning("%d status event(s) named no known attempt and were dropped", expired)
            first_seen = {id(e): t for t, e in self._unmatched}
            self._unmatched = []
            events, self._events = retry + self._events, []
            reschedules, self._reschedules = self._reschedules, []
            inbound, self._inbound = self._inbound, []
            applied = Applied()
            if events or reschedules:
                now = self.runtime.clock.now()
                try:
                    applied, unmatched, failure = await self._apply_lanes(events, reschedules, now)
                except BaseException:
                    # nothing was written (or nothing is known to be): keep everything
                    self._events[:0] = events
                    self._reschedules[:0] = reschedules
                    self._inbound[:0] = inbound
                    raise
                self._unmatched = [(first_seen.get(id(e), now_mono), e) for e in unmatched]
                self.totals["events"] += applied.events
                self.totals["applied"] += len(applied.changes)
                self.totals["anomalies"] += applied.anomalies
                await self.observe(applied.changes)
                if self.on_applied is not None:
                    result = self.on_applied(applied)
                    if result is not None:
                        await result
                if failure is not None:
                    self._inbound[:0] = inbound
                    raise failure
            for message in inbound:
                await self._db(lambda m=message: self._dispatch_inbound(m))  # type: ignore[misc]
            return applied

    async def _apply_lanes(
        self, events: Sequence[StatusEvent], reschedules: Sequence[Reschedule], now: Any
    ) -> tuple[Applied, list[StatusEvent], BaseException | None]:
        """Apply a batch, in :data:`LANES` transactions side by side when it is full:
        each lane holds whole attempts (all of an attempt's events, in their order), so
        lanes lock disjoint rows and never wait for each other. A lane that fails leaves
        its events queued for the next flush, the others stay applied; the first failure
        is returned, to be raised once the committed lanes are observed."""
        if any(e.attempt_id is None for e in events):
            resolved, unmatched = await self._db(lambda: self._resolve(events))
        else:
            resolved, unmatched = [(e.attempt_id, e) for e in events if e.attempt_id is not None], []
        lanes = _lanes(resolved, self.lanes if len(events) >= self.flush_max else 1)

        def job(i: int) -> Callable[[], Applied]:  # the reschedules go with the first lane
            return lambda: self._apply(lanes[i], reschedules if i == 0 else (), now)

        jobs = [self._db(job(i)) for i in range(len(lanes))]
        outcomes = await asyncio.gather(*jobs, return_exceptions=True)
        done = [outcome for outcome in outcomes if isinstance(outcome, Applied)]
        failures = [outcome for outcome in outcomes if isinstance(outcome, BaseException)]
        if failures and not done:
            raise failures[0]  # the caller keeps the whole batch
        for i, (lane, outcome) in enumerate(zip(lanes, outcomes, strict=True)):
            if isinstance(outcome, BaseException):
                self._events[:0] = [e for _, e in lane]
                if i == 0:
                    self._reschedules[:0] = reschedules
        return _merge(done, len(unmatched)), unmatched, (failures[0] if failures else None)

    async def observe(self, changes: Sequence[AttemptChange]) -> None:
        """Tell the observers (``tocsin_attempts_changed``) of committed changes. They
        write to the store (webhook deliveries, failing addresses): they run in the
        database thread, one batch at a time, never blocking the event loop."""
        if changes:
            await self._db(lambda: self._observe(changes))

    def _observe(self, changes: Sequence[AttemptChange]) -> None:
        try:
            self.runtime.pm.hook.tocsin_attempts_changed(runtime=self.runtime, changes=list(changes))
        except Exception:  # the batch is committed: an observer's failure must not replay it
            log.exception("an observer of %d status change(s) failed", len(changes))

    def _dispatch_inbound(self, message: InboundMessage) -> None:
        claimed = self.runtime.pm.hook.tocsin_inbound_message(runtime=self.runtime, message=message)
        if claimed is None:
            log.info("inbound %s from a contact was claimed by no plugin", message.means)
        else:
            log.info("inbound %s: %s", message.means, claimed)

    # -- one batch, in the database thread -------------------------------------------------

    def _reached_for(self, alert_id: int | None, conn: Connection) -> Mapping[str, frozenset[str]]:
        key = alert_id or 0
        if key not in self._reached:
            if alert_id is None:
                self._reached[key] = {m: machine.reached for m, machine in self._machines.items()}
            else:
                alert = self.runtime.store.alerts.get(alert_id, conn)
                self._reached[key] = rules.reached_states(
                    alert, self._machines, self.runtime.reached_policy, self.runtime.config.reached
                )
        return self._reached[key]

    def _resolve(
        self, events: Sequence[StatusEvent], conn: Connection | None = None
    ) -> tuple[list[tuple[int, StatusEvent]], list[StatusEvent]]:
        """Each event with the attempt it is about: by id, or by channel and provider
        reference (a reference, once stored, never changes: no lock is needed)."""
        if conn is None:
            with self.runtime.store.engine.connect() as own:
                return self._resolve(events, own)
        refs: dict[str, set[str]] = {}
        for e in events:
            if e.attempt_id is None and e.provider_ref:
                refs.setdefault(e.channel, set()).add(e.provider_ref)
        found: dict[tuple[str, str], int] = {}
        for channel, values in refs.items():
            for chunk in chunks(sorted(values), 500):
                for row in conn.execute(
                    select(attempts.c.id, attempts.c.provider_ref).where(
                        attempts.c.channel == channel,
                        among(attempts.c.provider_ref, chunk, conn.dialect.name),
                    ).order_by(attempts.c.id)  # a reference reused later: the newest attempt wins
                ):
                    found[(channel, row.provider_ref)] = row.id
        resolved: list[tuple[int, StatusEvent]] = []
        unmatched: list[StatusEvent] = []
        for e in events:
            if e.attempt_id is not None:
                resolved.append((e.attempt_id, e))
            elif e.provider_ref and (e.channel, e.provider_ref) in found:
                resolved.append((found[(e.channel, e.provider_ref)], e))
            else:
                unmatched.append(e)
        return resolved, unmatched

    def _apply(
        self, resolved: Sequence[tuple[int, StatusEvent]], reschedules: Sequence[Reschedule], now: Any
    ) -> Applied:
        """One transaction: judge the events of ``resolved`` (attempt id, event) and write."""
        store = self.runtime.store
        bulk = Bulk(store.dialect)
        stamp = bulk.ts(now)
        with store.engine.begin() as conn:
            # another process's applier (a server receiving webhooks, a second engine)
            # may judge events of the same attempts: each batch decides on rows that
            # nobody can change before it commits, or one would undo the other's change
            bulk.write_lock(conn)
            states: dict[int, _State] = {}
            ids = sorted({aid for aid, _ in resolved})
            for row in bulk.by_id(conn, "attempts", _LOAD, ids, lock=True):
                states[row[0]] = _State(row)
            changes: list[AttemptChange] = []
            rows: list[tuple[Any, ...]] = []
            anomalies = 0
            for aid, e in resolved:
                at = bulk.ts(e.at)
                st = states.get(aid)
                if st is None:
                    log.warning("status %r reported for attempt %s, which does not exist", e.status, aid)
                    continue
                machine = self._machines.get(st.means)
                anomaly = ""
                if machine is None:
                    anomaly = f"no status machine for means {st.means!r}"
                else:
                    decision = machine.decide(st.status, e.status)
                    if decision.verdict is Verdict.APPLY:
                        old = st.status
                        st.status = e.status
                        reached = self._reached_for(st.alert_id, conn).get(st.means, machine.reached)
                        st.reached = rules.attempt_reached(e.status, machine, reached)
                        if old == PENDING and st.sent_at is None:
                            st.sent_at = at
                        if machine.is_terminal(e.status):
                            st.completed_at = at
                            if e.reason:
                                st.error = e.reason
                        st.dirty = True
                        changes.append(
                            AttemptChange(
                                attempt_id=aid,
                                alert_id=st.alert_id,
                                contact_id=st.contact_id,
                                means=st.means,
                                old_status=old,
                                new_status=e.status,
                                at=e.at,
                                reached=st.reached,
                            )
                        )
                    elif decision.verdict is Verdict.REFUSE:
                        anomaly = decision.reason
                if e.provider_ref and st.provider_ref is None and e.attempt_id is not None:
                    st.provider_ref = e.provider_ref
                    st.dirty = True
                if anomaly:
                    anomalies += 1
                rows.append(
                    (
                        aid,
                        e.status,
                        at,
                        stamp,
                        e.reason,
                        e.source,
                        json.dumps(dict(e.data)) if e.data else "{}",
                        anomaly,
                    )
                )
            bulk.update(
                conn,
                _WRITE,
                [
                    (
                        aid, st.status, bulk.flag(st.reached), st.error, st.provider_ref,
                        st.sent_at, st.completed_at, stamp,
                    )
                    for aid, st in states.items()
                    if st.dirty
                ],
            )
            bulk.insert(conn, EVENT_ROWS, rows)
            if anomalies:
                counts: dict[int, int] = {}
                for r in rows:
                    if r[7]:
                        counts[r[0]] = counts.get(r[0], 0) + 1
                bulk.executemany(conn, _ANOMALIES, [(n, k) for k, n in counts.items()])
            store.outbox.reschedule(reschedules, now=now, conn=conn)
        touched = {st.alert_id for st in states.values() if st.dirty and st.alert_id is not None}
        return Applied(
            changes=tuple(changes),
            events=len(rows),
            anomalies=anomalies,
            rescheduled=len(reschedules),
            alerts=frozenset(touched),
        )


Resolved = Sequence[tuple[int, StatusEvent]]


def _lanes(resolved: Resolved, count: int) -> list[Resolved]:
    """``resolved`` cut into ``count`` lanes of neighbouring attempt ids (neighbours share
    heap and index pages: a lane of its own keeps each page to one transaction), each
    event staying in its order; a small batch stays whole."""
    if count < 2 or len(resolved) < LANE_MIN:
        return [resolved]
    ids = sorted({aid for aid, _ in resolved})
    if len(ids) < count:
        return [resolved]
    bounds = [ids[len(ids) * k // count] for k in range(1, count)]
    lanes: list[list[tuple[int, StatusEvent]]] = [[] for _ in range(count)]
    for pair in resolved:
        lanes[bisect.bisect_right(bounds, pair[0])].append(pair)
    return [lane for lane in lanes if lane]


def _merge(parts: Sequence[Applied], unmatched: int) -> Applied:
    return Applied(
        changes=tuple(c for part in parts for c in part.changes),
        events=sum(part.events for part in parts),
        anomalies=sum(part.anomalies for part in parts),
        unmatched=unmatched,
        rescheduled=sum(part.rescheduled for part in parts),
        alerts=frozenset().union(*(part.alerts for part in parts)),
    )


__all__ = ["Applied", "StatusApplier"]
