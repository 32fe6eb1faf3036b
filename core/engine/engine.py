"""The engine: alerts in, attempts out through channels, statuses back, rules applied.

One :class:`Engine` per process. It can run in the background (``start()``: feeders,
workers, the status applier and the timer loop run as tasks) or be driven step by step
(``start(background=False)`` then ``await tick()``), which runs exactly the work due at
the clock's *now* and returns — how tests and the conformance kit move through time with
a fake clock. Several engines may share one database: every piece of work is claimed
under a lease.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import inspect
import logging
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from attrs import evolve, field, frozen
from sqlalchemy import exists, func, or_, select

from tocsin import rules
from tocsin.channel import Channel
from tocsin.engine import collector, work
from tocsin.engine.applier import Applied, StatusApplier
from tocsin.engine.channels import build_channels, routing
from tocsin.engine.checks import check_alert, check_audience
from tocsin.engine.closing import close_pending
from tocsin.engine.dbthread import NORMAL, URGENT, DbThreads
from tocsin.engine.dispatch import ChannelPool, LocalDispatcher
from tocsin.engine.handover import Prepared, Preparer
from tocsin.engine.settings import EngineSettings, engine_settings
from tocsin.errors import ConfigError, NotFoundError, ValidationError
from tocsin.model import Alert, AlertState, AttemptChange, Audience, Recontact
from tocsin.rules import OutcomeCounts
from tocsin.runtime import Runtime
from tocsin.status import PENDING, StatusMachine
from tocsin.store.schema import alerts, attempts, recontacts, timers
from tocsin.store.timers import Timer
from tocsin.values import as_tuple

log = logging.getLogger("tocsin.engine")
T = TypeVar("T")

OPEN_STATES = (AlertState.SENDING, AlertState.SENT)


@frozen
class TickReport:
    """What one :meth:`Engine.tick` did."""

    timers: int = 0
    handed_over: int = 0
    events: int = 0
    changes: int = 0
    rounds: int = 0


@frozen
class AlertStatus:
    """An alert's progress: outcome counts, attempts by means and status, what is left."""

    alert: Alert
    counts: OutcomeCounts
    statuses: Mapping[str, Mapping[str, int]]
    audience: int
    timers: tuple[Timer, ...] = field(converter=as_tuple)
    recontacts: int = 0
    recontact_refusal: str | None = None
    open_attempts: int = 0
    """Attempts whose outcome can still change (waiting, in flight, or in progress)."""

    @property
    def open_timers(self) -> tuple[Timer, ...]:
        return tuple(t for t in self.timers if t.done_at is None)


class Engine:
    """Fan-out, dispatch, status application and timers for one process."""

    def __init__(
        self,
        runtime: Runtime,
        settings: EngineSettings | None = None,
        *,
        channels: Mapping[str, Channel] | None = None,
    ) -> None:
        self.runtime = runtime
        self.store = runtime.store
        self.clock = runtime.clock
        self.settings = settings or engine_settings(runtime.config)
        self.channels = dict(channels) if channels is not None else build_channels(runtime)
        self.routes = routing(self.channels, self.settings.routes)
        self.machines: dict[str, StatusMachine] = {
            name: entry.value for name, entry in runtime.registry.status_machines.items()
        }
        for name, channel in self.channels.items():
            if channel.means not in self.machines:
                raise ConfigError(f"channels.{name}: means {channel.means!r} has no status machine")
        threads = 1 if self.store.dialect == "sqlite" else 4
        self.threads = DbThreads(threads)
        self.applier = StatusApplier(
            runtime,
            run_db=self.threads.run,
            on_applied=self._on_applied,
            flush_max=self.settings.flush_max,
            flush_interval=self.settings.flush_interval,
        )
        self.preparer = Preparer(self.store)
        self.cancelled: set[int] = set()
        self._dirty: set[int] = set()
        self.pools = {
            name: ChannelPool(
                channel,
                self.machines[channel.means],
                store=self.store,
                preparer=self.preparer,
                applier=self.applier,
                clock=self.clock,
                settings=self.settings,
                run_db=self._urgent,
                cancelled=self.cancelled,
            )
            for name, channel in self.channels.items()
        }
        self.dispatcher = LocalDispatcher(self.pools)
        self._tasks: list[asyncio.Task[None]] = []
        self._timer_tasks: set[asyncio.Task[None]] = set()
        self._timer_wake: asyncio.Event | None = None
        self._started_channels: list[Channel] = []
        self.running = False
        self.background = False
        self.dispatching = False
        self._collector = False

    # -- plumbing --------------------------------------------------------------------------

    async def db(self, fn: Callable[[], T], priority: int = NORMAL) -> T:
        """Run ``fn`` (store work) in the engine's database thread."""
        return await self.threads.run(fn, priority)

    async def _urgent(self, fn: Callable[[], T]) -> T:
        return await self.threads.run(fn, URGENT)

    def _hook(self, name: str, **kwargs: Any) -> None:
        try:
            getattr(self.runtime.pm.hook, name)(runtime=self.runtime, **kwargs)
        except Exception:
            log.exception("an observer of %s failed", name)

    async def _on_applied(self, applied: Applied) -> None:
        self._dirty |= set(applied.alerts)

    # -- life --------------------------------------------------------------------------------

    async def start(self, *, background: bool = True, dispatch: bool = True) -> None:
        """Start channels and the status applier; with ``background``, also the feeders
        and the timer loop (otherwise :meth:`tick` does the work). Without ``dispatch``
        this process only applies statuses (a server receiving webhooks)."""
        if self.running:
            return
        self._timer_wake = asyncio.Event()
        if self.settings.stable_node:
            now = self.clock.now()
            released = await self.db(lambda: self.store.outbox.release_node(self.settings.node, now=now))
            released += await self.db(lambda: self.store.timers.release_node(self.settings.node))
            if released:
                log.info("took back %d unfinished claim(s) of node %s", released, self.settings.node)
        self.applier.bind()
        try:
            # a process that does not dispatch leaves the channels (connections, modems) alone
            for channel in self.channels.values() if dispatch else ():
                await channel.start(self.applier)
                self._started_channels.append(channel)
        except Exception:
            await self._stop_channels()
            raise
        self.running = True
        self._collector = collector.hold(self.settings.gc_threshold)
        self.background = background
        self.dispatching = dispatch
        if background:
            await self.applier.start()
            if dispatch:
                await self.dispatcher.start()
                self._tasks.append(asyncio.create_task(self._timer_loop(), name="tocsin-timers"))
            self._tasks.append(asyncio.create_task(self._check_loop(), name="tocsin-checks"))
        elif dispatch:
            self.dispatcher.start_workers_only()

    async def _stop_channels(self) -> None:
        for channel in reversed(self._started_channels):
            try:
                await channel.stop()
            except Exception:
                log.exception("channel %s failed to stop", channel.name)
        self._started_channels = []

    async def stop(self) -> None:
        """Stop claiming, let in-flight sends finish, apply what is queued, stop channels."""
        if not self.running:
            self.threads.shutdown()
            return
        tasks = [*self._tasks, *self._timer_tasks]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        self._timer_tasks.clear()
        await self.dispatcher.stop()
        await self.applier.flush()
        await self._stop_channels()
        await self.applier.stop()
        await self._run_checks()
        self.running = False
        if self._collector:
            collector.release()
            self._collector = False
        self.threads.shutdown()

    def wake(self) -> None:
        """New work may be due: timers and every channel."""
        if self._timer_wake is not None:
            self._timer_wake.set()
        self.dispatcher.wake()

    # -- the step a fake clock drives ------------------------------------------------------

    async def tick(self, *, max_rounds: int = 1000) -> TickReport:
        """Run everything due at the clock's *now*: timers (fan-out, reminders,
        escalation, recontact), hand-overs (as rates allow), status batches, inbound
        messages and the alerts' state checks — until nothing more is due. A process
        started without ``dispatch`` only applies statuses and checks alerts."""
        totals = {"timers": 0, "handed_over": 0, "events": 0, "changes": 0}
        rounds = 0
        for rounds in range(1, max_rounds + 1):  # noqa: B007
            for _ in range(5):  # let tasks woken by the clock (channel callbacks) run
                await asyncio.sleep(0)
            ran = await self._run_due_timers() if self.dispatching else 0
            handed = await self.dispatcher.drain() if self.dispatching else 0
            applied = await self.applier.flush()
            checked = await self._run_checks()
            totals["timers"] += ran
            totals["handed_over"] += handed
            totals["events"] += applied.events
            totals["changes"] += len(applied.changes)
            busy = ran or handed or applied.events or applied.rescheduled or checked
            if not busy and not self.applier.pending:
                break
        return TickReport(rounds=rounds, **totals)

    # -- timers --------------------------------------------------------------------------------

    async def _timer_loop(self) -> None:
        """Claim due timers and run each in a task of its own: the pages of several alerts'
        fan-outs, reminders and recontacts interleave, so an alert sent while another
        fans out to 100,000 contacts starts at once instead of after the whole fan-out."""
        assert self._timer_wake is not None
        while True:
            # cleared before the claim, not after: a wake while the claim runs (a send
            # committed just after the claim read the timers) must not wait for the poll
            self._timer_wake.clear()
            try:
                claimed = await self._claim_timers()
            except Exception:
                log.exception("claiming timers failed")
                claimed = []
            for timer in claimed:
                task = asyncio.create_task(self._run_timer_logged(timer), name=f"tocsin-timer-{timer.id}")
                self._timer_tasks.add(task)
                task.add_done_callback(self._timer_tasks.discard)
            if claimed:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._timer_wake.wait(), self.settings.poll)

    async def _claim_timers(self) -> list[Timer]:
        now = self.clock.now()
        claimed: list[Timer] = await self.db(
            lambda: self.store.timers.claim_due(self.settings.node, now=now, lease=self.settings.lease),
            NORMAL,
        )
        return claimed

    async def _run_due_timers(self) -> int:
        """Run the timers due now one after the other (the fake clock's step)."""
        claimed = await self._claim_timers()
        for timer in claimed:
            await self._run_timer_logged(timer)
        return len(claimed)

    async def _run_timer_logged(self, timer: Timer) -> None:
        try:
            await self._run_timer(timer)
        except work.TimerClosed as exc:
            log.info("%s", exc)
        except work.LeaseLost as exc:
            log.warning("%s", exc)
        except Exception:
            log.exception("timer %s (%s) failed; it runs again when its lease ends", timer.id, timer.kind)

    def _reminder_still_due(self, alert: Alert, timer: Timer, now: dt.datetime) -> bool:
        offsets = rules.reminder_offsets(alert, self.runtime.config.reminders)
        with self.store.engine.connect() as conn:
            done = int(
                conn.execute(
                    select(func.count()).select_from(timers).where(
                        timers.c.alert_id == alert.id,
                        timers.c.kind == work.REMINDER,
                        timers.c.done_at.is_not(None),
                    )
                ).scalar_one()
            )
        return int(timer.payload.get("round", 0)) in rules.reminders_due(alert, offsets, done, now)

    async def _run_timer(self, timer: Timer) -> None:
        if timer.alert_id is None:
            await self.db(lambda: self._complete(timer))
            return
        alert = await self.db(lambda: self.store.alerts.get(int(timer.alert_id or 0)))
        now = self.clock.now()
        relevant = alert.state in OPEN_STATES
        if timer.kind == work.REMINDER and relevant:
            relevant = await self.db(lambda: self._reminder_still_due(alert, timer, now))
        if not relevant:
            await self.db(lambda: self._complete(timer))
            self._dirty.add(alert.id or 0)
            return
        current = timer
        while True:
            now = self.clock.now()
            ctx = work.Context(
                alert, self.machines, self.routes, now, self.settings.node, now + self.settings.lease,
                hand_off=self.dispatcher.free_slots(),
            )
            size = self.settings.page
            if current.kind == work.FANOUT and not current.payload.get("after"):
                size = self.settings.first_page
            result, prepared = await self.db(
                lambda c=current, x=ctx, n=size: self._page(c, x, n),  # type: ignore[misc]
                NORMAL,
            )
            self.dispatcher.take(prepared)
            if result.channels:
                self.dispatcher.wake(result.channels)
            if result.done:
                break
            current = evolve(current, payload=result.payload or current.payload)
            await asyncio.sleep(0)
        self._dirty.add(alert.id or 0)
        if timer.kind == work.FANOUT:
            self._hook("tocsin_alert_sent", alert=alert)

    def _page(self, timer: Timer, ctx: work.Context, size: int) -> tuple[work.PageResult, list[Prepared]]:
        """One page of timer work, and what to hand over for the attempts it wrote claimed."""
        result = work.run_page(self.store, timer, ctx, size)
        return result, self.preparer.prepare(result.claimed, result.contacts) if result.claimed else []

    def _complete(self, timer: Timer) -> None:
        with self.store.engine.begin() as conn:
            self.store.timers.complete(timer.id, now=self.clock.now(), conn=conn)

    # -- alert states: sent, finished, target met ------------------------------------------

    async def _check_loop(self) -> None:
        sweep_every = 20
        count = 0
        while True:
            await asyncio.sleep(self.settings.poll)
            count += 1
            try:
                if count % sweep_every == 0:
                    self._dirty |= set(await self.db(self._open_alert_ids))
                    await self.sweep_cancelled()
                await self._run_checks()
            except Exception:
                log.exception("checking alerts failed")

    def _open_alert_ids(self) -> list[int]:
        with self.store.engine.connect() as conn:
            return list(
                conn.execute(
                    select(alerts.c.id).where(alerts.c.state.in_([str(s) for s in OPEN_STATES]))
                ).scalars()
            )

    async def _run_checks(self) -> int:
        dirty, self._dirty = self._dirty, set()
        moved = 0
        for alert_id in sorted(dirty):
            changes, fired = await self.db(lambda a=alert_id: self._check(a))  # type: ignore[misc]
            await self.applier.observe(changes)
            for hook, alert in fired:
                self._hook(hook, alert=alert)
            moved += bool(fired) or bool(changes)
        return moved

    def _check(self, alert_id: int) -> tuple[list[AttemptChange], list[tuple[str, Alert]]]:
        now = self.clock.now()
        store = self.store
        with store.engine.begin() as conn:
            try:
                alert = store.alerts.get(alert_id, conn)
            except NotFoundError:
                return [], []
            if alert.state not in OPEN_STATES:
                return [], []
            if alert.target_confirmations is not None and rules.target_met(
                alert, store.outcomes.contacted(alert_id, conn)
            ):
                changes = close_pending(conn, alert_id, "target reached", now, self.machines)
                store.timers.close_for_alert(alert_id, now=now, conn=conn)
                store.alerts.set_state(alert_id, AlertState.FINISHED, now=now, conn=conn, finished_at=now)
                return changes, [("tocsin_alert_finished", store.alerts.get(alert_id, conn))]
            open_timers = [t for t in store.timers.for_alert(alert_id, conn) if t.done_at is None]
            state = alert.state
            if state is AlertState.SENDING and not any(t.kind == work.FANOUT for t in open_timers):
                waiting = conn.execute(
                    select(exists().where(attempts.c.alert_id == alert_id, attempts.c.status == PENDING))
                ).scalar_one()
                if not waiting:
                    store.alerts.set_state(alert_id, AlertState.SENT, now=now, conn=conn)
                    state = AlertState.SENT
            if state is not AlertState.SENT or store.outcomes.has_open_attempts(alert_id, conn):
                return [], []
            if open_timers:
                counts = store.outcomes.counts(alert_id, conn)
                if counts.contacted < counts.total:
                    return [], []
                store.timers.close_for_alert(alert_id, now=now, conn=conn)
            store.alerts.set_state(alert_id, AlertState.FINISHED, now=now, conn=conn, finished_at=now)
            return [], [("tocsin_alert_finished", store.alerts.get(alert_id, conn))]

    # -- operations ------------------------------------------------------------------------------

    def check(self, alert: Alert) -> set[str]:
        """Refuse an alert that cannot be sent here; returns the attribute keys it needs."""
        _, keys = check_alert(alert, self.runtime.registry, set(self.routes))
        return keys

    async def create(self, alert: Alert) -> Alert:
        """Check and store an alert as a draft."""
        self.check(alert)
        now = self.clock.now()
        draft = evolve(alert, state=AlertState.DRAFT, id=None, sent_at=None, finished_at=None)
        return await self.db(lambda: self.store.alerts.insert(draft, now=now))

    async def send(self, alert: Alert | int, audience: Audience, *, by: int | None = None) -> Alert:
        """Check everything, then write the alert and its fan-out (the audience is read in
        pages by the timer work, dispatch starts with the first page)."""
        if isinstance(alert, int):
            alert_id = alert
            stored = await self.db(lambda: self.store.alerts.get(alert_id))
            if stored.state is not AlertState.DRAFT:
                raise ValidationError(f"alert {stored.id} is {stored.state}; only a draft can be sent")
            alert = stored
        keys = self.check(alert)
        resolved = await self.db(lambda: check_audience(self.store, audience, keys))
        now = self.clock.now()

        def write() -> Alert:
            with self.store.engine.begin() as conn:
                if alert.id is None:
                    sent = self.store.alerts.insert(
                        evolve(
                            alert, state=AlertState.SENDING, sent_at=now, created_by=by or alert.created_by
                        ),
                        now=now,
                        conn=conn,
                    )
                else:
                    self.store.alerts.set_state(alert.id, AlertState.SENDING, now=now, conn=conn, sent_at=now)
                    sent = evolve(alert, state=AlertState.SENDING, sent_at=now)
                alert_id = int(sent.id or 0)
                first_means = list(sent.means)
                if sent.plan is not None:
                    schedule = rules.escalation_schedule(sent.plan, now)
                    steps = len(sent.plan.steps)
                    first_means = sorted({s.means for s in schedule if s.at <= now})
                    for s in schedule:
                        if s.at > now:
                            self.store.timers.add(
                                work.ESCALATION,
                                alert_id,
                                s.at,
                                {"means": s.means, "cycle": s.cycle, "step": s.step,
                                 "round": s.cycle * steps + s.step, "after": 0},
                                now=now,
                                conn=conn,
                            )
                for number, offset in enumerate(
                    rules.reminder_offsets(sent, self.runtime.config.reminders), start=1
                ):
                    self.store.timers.add(
                        work.REMINDER,
                        alert_id,
                        now + offset,
                        {"round": number, "after": 0},
                        now=now,
                        conn=conn,
                    )
                self.store.timers.add(
                    work.FANOUT,
                    alert_id,
                    now,
                    {"audience": resolved.to_payload(), "means": first_means, "after": 0},
                    now=now,
                    conn=conn,
                )
                return sent

        sent = await self.db(write)
        self.wake()
        return sent

    async def cancel(self, alert_id: int) -> Alert:
        """Cancel an alert: its waiting attempts fail with reason "cancelled", its timers
        close, attempts in flight finish."""
        now = self.clock.now()
        # queued here and not yet handed over: closed with the outbox, in one transaction,
        # rather than one status event each as the workers would reach them
        withdrawn = self.dispatcher.withdraw(alert_id)
        held = [int(item.attempt.id or 0) for item in withdrawn]

        def write() -> tuple[Alert, list[AttemptChange]]:
            with self.store.engine.begin() as conn:
                alert = self.store.alerts.get(alert_id, conn)
                if alert.state in (AlertState.FINISHED, AlertState.CANCELLED):
                    raise ValidationError(f"alert {alert_id} is already {alert.state}; nothing to cancel")
                self.store.timers.close_for_alert(alert_id, now=now, conn=conn)
                self.store.alerts.set_state(
                    alert_id, AlertState.CANCELLED, now=now, conn=conn, finished_at=now
                )
                changes = close_pending(conn, alert_id, "cancelled", now, self.machines, held)
                return self.store.alerts.get(alert_id, conn), changes

        try:
            alert, changes = await self.db(write, URGENT)  # never behind a long fan-out
        except Exception:  # rolled back: they are still this process's to hand over
            self.dispatcher.put_back(withdrawn)
            raise
        # (if this task is itself cancelled, whether the write committed is unknown: the
        # withdrawn attempts stay claimed until their lease ends, then are sent again or,
        # the alert being cancelled, closed by the sweep)
        self.cancelled.add(alert_id)
        await self.applier.observe(changes)
        self._hook("tocsin_alert_finished", alert=alert)
        return alert

    def _rounds_done(self, alert_id: int, conn: Any) -> int:
        return int(
            conn.execute(
                select(func.count()).select_from(timers).where(
                    timers.c.alert_id == alert_id,
                    timers.c.kind == work.REMINDER,
                    timers.c.done_at.is_not(None),
                )
            ).scalar_one()
        )

    def recontact_refusal(self, alert: Alert, conn: Any) -> str | None:
        offsets = rules.reminder_offsets(alert, self.runtime.config.reminders)
        return rules.recontact_refusal(alert, offsets, self._rounds_done(int(alert.id or 0), conn))

    async def recontact(self, alert_id: int, *, by: int | None = None) -> Recontact:
        """The operator's recontact of everyone not yet reached: only after the automatic
        reminders; immediate; recorded with who asked and when; never undone."""
        now = self.clock.now()

        def write() -> Recontact:
            with self.store.engine.begin() as conn:
                alert = self.store.alerts.get(alert_id, conn)
                refusal = self.recontact_refusal(alert, conn)
                if refusal:
                    raise ValidationError(f"recontact of alert {alert_id} refused: {refusal}")
                previous = int(
                    conn.execute(
                        select(func.count()).select_from(recontacts).where(recontacts.c.alert_id == alert_id)
                    ).scalar_one()
                )
                rid = int(
                    conn.execute(
                        recontacts.insert().returning(recontacts.c.id),
                        {"alert_id": alert_id, "requested_by": by, "requested_at": now, "attempts": 0},
                    ).scalar_one()
                )
                self.store.timers.add(
                    work.RECONTACT,
                    alert_id,
                    now,
                    {"recontact_id": rid, "round": 100 + previous + 1, "after": 0},
                    now=now,
                    conn=conn,
                )
                if alert.state is AlertState.FINISHED:
                    self.store.alerts.set_state(alert_id, AlertState.SENT, now=now, conn=conn)
                return Recontact(alert_id=alert_id, requested_by=by, requested_at=now, id=rid)

        done = await self.db(write)
        self.wake()
        return done

    async def status(self, alert_id: int) -> AlertStatus:
        """Where an alert stands (outcome counts by the database, not by loading rows)."""

        def read() -> AlertStatus:
            with self.store.engine.connect() as conn:
                alert = self.store.alerts.get(alert_id, conn)
                n_recontacts = int(
                    conn.execute(
                        select(func.count()).select_from(recontacts).where(recontacts.c.alert_id == alert_id)
                    ).scalar_one()
                )
                return AlertStatus(
                    alert=alert,
                    counts=self.store.outcomes.counts(alert_id, conn),
                    statuses=self.store.outcomes.statuses(alert_id, conn),
                    audience=self.store.alerts.audience_size(alert_id),
                    timers=self.store.timers.for_alert(alert_id, conn),
                    recontacts=n_recontacts,
                    recontact_refusal=self.recontact_refusal(alert, conn),
                    open_attempts=self.store.outcomes.open_attempts(alert_id, conn),
                )

        return await self.db(read)

    async def sweep_cancelled(self) -> int:
        """Close attempts of cancelled alerts left waiting by a process that died holding
        them (their lease has run out)."""
        now = self.clock.now()

        def write() -> list[AttemptChange]:
            with self.store.engine.begin() as conn:
                ids = conn.execute(
                    select(attempts.c.alert_id)
                    .where(
                        attempts.c.status == PENDING,
                        or_(attempts.c.claimed_until.is_(None), attempts.c.claimed_until < now),
                        attempts.c.alert_id.in_(select(alerts.c.id).where(alerts.c.state == "cancelled")),
                    )
                    .distinct()
                ).scalars().all()
                changes: list[AttemptChange] = []
                for alert_id in ids:
                    changes += close_pending(conn, alert_id, "cancelled", now, self.machines)
                return changes

        changes = await self.db(write)
        await self.applier.observe(changes)
        return len(changes)


def _maybe_await(value: Any) -> Any:
    return value if inspect.isawaitable(value) else None


__all__ = ["AlertStatus", "Engine", "TickReport"]
