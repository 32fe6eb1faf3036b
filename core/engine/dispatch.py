"""Dispatch: claimed attempts handed to channels by one worker pool per channel.

:class:`Dispatcher` is the small interface the engine needs; :class:`LocalDispatcher`
runs it in this process: per channel instance, a feeder claims due attempts from the
outbox (never more than the channel's rate allows now, nor more than the pool can take)
and ``concurrency`` workers hand them over. A dispatcher on a distributed task queue
would claim the same way and run :mod:`tocsin.engine.handover` in its workers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Collection, Iterable, Mapping, Sequence
from typing import Protocol, TypeVar

from tocsin.channel import Channel
from tocsin.clock import Clock
from tocsin.engine.applier import StatusApplier
from tocsin.engine.handover import Prepared, Preparer, RetryPolicy, effect_of, hand_over
from tocsin.engine.ratelimit import TokenBucket
from tocsin.engine.settings import EngineSettings
from tocsin.model import StatusEvent
from tocsin.rules import failure_state
from tocsin.status import StatusMachine
from tocsin.store import Store
from tocsin.store.outbox import Reschedule

log = logging.getLogger("tocsin.engine.dispatch")
T = TypeVar("T")
RunDb = Callable[[Callable[[], T]], Awaitable[T]]


class Dispatcher(Protocol):
    """Hands the outbox's due attempts to channels."""

    async def start(self) -> None:
        """Begin handing over in the background."""

    def wake(self, channels: Iterable[str] = ()) -> None:
        """New work may be due for ``channels`` (all when empty)."""

    def free_slots(self) -> Mapping[str, int]:
        """How many new attempts each channel can take in this process now (rate and
        queue permitting): the engine writes that many of a page already claimed and
        hands them over through :meth:`take`. A dispatcher whose sends run elsewhere
        returns an empty mapping."""

    def take(self, prepared: Sequence[Prepared]) -> None:
        """Queue attempts written already claimed for this process."""

    def withdraw(self, alert_id: int) -> list[Prepared]:
        """Take the alert's attempts that this process has claimed and not yet handed
        over out of its queues (the alert is being cancelled: the caller closes them in
        the store). A dispatcher whose queues are elsewhere returns an empty list."""

    def put_back(self, withdrawn: Sequence[Prepared]) -> None:
        """Queue again, after what is queued now, what :meth:`withdraw` took (the
        cancel failed and wrote nothing)."""

    async def drain(self) -> int:
        """Hand over everything due now (as far as rates allow) and wait for the sends;
        returns how many attempts were handed over. Deterministic under a fake clock."""

    async def stop(self) -> None:
        """Stop claiming; let sends in flight finish."""


class ChannelPool:
    """One channel's feeder and workers."""

    def __init__(
        self,
        channel: Channel,
        machine: StatusMachine,
        *,
        store: Store,
        preparer: Preparer,
        applier: StatusApplier,
        clock: Clock,
        settings: EngineSettings,
        run_db: RunDb[object],
        cancelled: Collection[int],
    ) -> None:
        self.channel = channel
        self.name = channel.name
        self.machine = machine
        self.store = store
        self.preparer = preparer
        self.applier = applier
        self.clock = clock
        self.settings = settings
        self.run_db = run_db
        self.cancelled = cancelled
        self.retry = RetryPolicy(settings.max_tries, settings.retry_base, settings.retry_cap)
        self.bucket = TokenBucket(channel.limits, clock.now())
        self.concurrency = max(1, channel.limits.concurrency)
        self.queue: asyncio.Queue[Prepared] = asyncio.Queue()
        self.wakeup = asyncio.Event()
        self.space = asyncio.Event()
        self.handed_over = 0
        self._taken = 0
        self._tasks: list[asyncio.Task[None]] = []
        self._source = f"engine:{self.name}"

    @property
    def capacity(self) -> int:
        return max(self.concurrency * 2, self.settings.claim_batch)

    def room(self) -> int:
        """How many attempts to claim now: rate and queue permitting. When the workers
        are idle the claim is small, so the first sends start at once."""
        waiting = self.queue.qsize()
        free = self.capacity - waiting
        if free < max(1, self.capacity // 2) and waiting > 0:
            return 0
        batch = self.settings.claim_batch if waiting else min(self.settings.claim_batch, self.concurrency * 2)
        return max(0, min(free, batch, self.bucket.available(self.clock.now())))

    def free_slots(self) -> int:
        """How many more attempts the queue and the rate take now."""
        free = self.capacity - self.queue.qsize()
        return max(0, min(free, self.bucket.available(self.clock.now())))

    def take(self, batch: Sequence[Prepared]) -> None:
        """Queue attempts written already claimed for this pool (the hand-off)."""
        self._enqueue(batch)
        self._taken += len(batch)

    def withdraw(self, alert_id: int) -> list[Prepared]:
        """Take the alert's attempts out of the queue, keeping the others in order."""
        kept: list[Prepared] = []
        taken: list[Prepared] = []
        while not self.queue.empty():
            item = self.queue.get_nowait()
            self.queue.task_done()
            (taken if item.attempt.alert_id == alert_id else kept).append(item)
        for item in kept:
            self.queue.put_nowait(item)
        if taken:
            self.space.set()
        return taken

    def put_back(self, items: Sequence[Prepared]) -> None:
        for item in items:  # their share of the rate was taken when they were first queued
            self.queue.put_nowait(item)

    def _enqueue(self, batch: Sequence[Prepared]) -> None:
        """Queue claimed attempts; they count against the rate."""
        if batch:
            self.bucket.take(len(batch), self.clock.now())
            for item in batch:
                self.queue.put_nowait(item)

    async def claim(self) -> int:
        """Claim and queue what the room allows; returns how many were queued."""
        room = self.room()
        if room <= 0:
            return 0
        now = self.clock.now()

        def work() -> list[Prepared]:
            claimed = self.store.outbox.claim(
                self.name, self.settings.node, now=now, lease=self.settings.lease, limit=room
            )
            return self.preparer.prepare(claimed) if claimed else []

        batch: list[Prepared] = await self.run_db(work)  # type: ignore[arg-type, assignment]
        self._enqueue(batch)
        return len(batch)

    def start_workers(self) -> None:
        for i in range(self.concurrency):
            self._tasks.append(asyncio.create_task(self._worker(), name=f"tocsin-send-{self.name}-{i}"))

    async def _worker(self) -> None:
        while True:
            item = await self.queue.get()
            try:
                await self._send(item)
            except Exception:
                log.exception("sending attempt %s through %s failed", item.attempt.id, self.name)
            finally:
                self.queue.task_done()
                if self.queue.qsize() <= self.capacity // 2:
                    self.space.set()

    async def _send(self, item: Prepared) -> None:
        attempt = item.attempt
        now = self.clock.now()
        if attempt.alert_id in self.cancelled:
            self.applier.report(
                StatusEvent(failure_state(self.machine), now, attempt.id, reason="cancelled", source="engine")
            )
            return
        if item.outbound is None:
            self.applier.report(
                StatusEvent(failure_state(self.machine), now, attempt.id, reason=item.error, source="engine")
            )
            return
        result = await hand_over(self.channel, item.outbound)
        self.handed_over += 1
        effect = effect_of(attempt, result, self.machine, self.retry, self.clock.now(), self._source)
        if isinstance(effect, Reschedule):
            self.applier.reschedule(effect)
        else:
            self.applier.report(effect)

    async def feed(self) -> None:
        """The background feeder: claim whenever there is room and work."""
        poll = self.settings.poll
        while True:
            # cleared before the claim: a wake or a free slot while it runs is kept
            self.wakeup.clear()
            self.space.clear()
            try:
                got = await self.claim()
            except Exception:
                log.exception("claiming attempts for %s failed", self.name)
                got = 0
                await asyncio.sleep(poll)
            if got:
                continue
            if self.queue.qsize() >= self.capacity // 2 and self.queue.qsize() > 0:
                waiter = self.space.wait()
                timeout = poll
            else:
                waiter = self.wakeup.wait()
                wait = self.bucket.wait_time(self.clock.now())
                timeout = min(poll, wait) if wait > 0 else poll
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(waiter, timeout)

    async def drain(self) -> int:
        total, self._taken = self._taken, 0  # handed to the pool when they were written
        while True:
            got = await self.claim()
            if not got:
                break
            total += got
            await self.queue.join()
        await self.queue.join()
        return total

    async def stop(self, timeout: float = 5.0) -> list[int]:
        """Let queued sends finish (up to ``timeout`` seconds), stop the workers, and
        return the ids of claimed attempts never handed over (their leases to release)."""
        if self._tasks:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.queue.join(), timeout)
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        leftover: list[int] = []
        while not self.queue.empty():
            leftover.append(int(self.queue.get_nowait().attempt.id or 0))
            self.queue.task_done()
        return leftover


class LocalDispatcher:
    """Worker pools in this process, one per channel instance."""

    def __init__(self, pools: Mapping[str, ChannelPool]) -> None:
        self.pools = dict(pools)
        self._feeders: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        for pool in self.pools.values():
            pool.start_workers()
            self._feeders.append(asyncio.create_task(pool.feed(), name=f"tocsin-feed-{pool.name}"))

    def start_workers_only(self) -> None:
        for pool in self.pools.values():
            pool.start_workers()

    def free_slots(self) -> dict[str, int]:
        return {name: pool.free_slots() for name, pool in self.pools.items()}

    def take(self, prepared: Sequence[Prepared]) -> None:
        for name, batch in _by_pool(prepared).items():
            self.pools[name].take(batch)

    def withdraw(self, alert_id: int) -> list[Prepared]:
        return [item for pool in self.pools.values() for item in pool.withdraw(alert_id)]

    def put_back(self, withdrawn: Sequence[Prepared]) -> None:
        for name, batch in _by_pool(withdrawn).items():
            self.pools[name].put_back(batch)

    def wake(self, channels: Iterable[str] = ()) -> None:
        names = list(channels) or list(self.pools)
        for name in names:
            if name in self.pools:
                self.pools[name].wakeup.set()

    async def drain(self) -> int:
        return sum([await pool.drain() for pool in self.pools.values()])

    async def stop(self) -> None:
        for task in self._feeders:
            task.cancel()
        for task in self._feeders:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._feeders = []
        for pool in self.pools.values():
            leftover = await pool.stop()
            if leftover:
                store = pool.store
                await pool.run_db(lambda ids=leftover, st=store: st.outbox.release(ids))  # type: ignore[misc]


def _by_pool(prepared: Sequence[Prepared]) -> dict[str, list[Prepared]]:
    by_pool: dict[str, list[Prepared]] = {}
    for item in prepared:
        by_pool.setdefault(item.attempt.channel, []).append(item)
    return by_pool


__all__ = ["ChannelPool", "Dispatcher", "LocalDispatcher"]
