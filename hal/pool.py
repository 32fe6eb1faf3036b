"""A pool of modems serving one channel.

Work goes to a modem that is free and whose own rate limit allows it (a modem sends a
few SMS a minute), preferring one on the recipient's operator when a route says so.
A modem that disappears (its port fails) or errs ``max_errors`` times in a row is taken
out at once; the job it held goes back to the front of the queue and runs on another
modem. A modem that is out is probed every ``probe_interval`` and put back when it
answers again. Waiting is event-driven: a free modem or a rate-limit deadline wakes
the dispatcher; nothing polls.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import functools
import heapq
import itertools
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from attrs import frozen

from tocsin.hal.codes import CMS_MODEM_FAULT
from tocsin.hal.errors import AtError, AtTimeout, HalError, ModemGone
from tocsin.hal.modem import Modem
from tocsin.hal.session import Urc

log = logging.getLogger(__name__)
T = TypeVar("T")


class NoModemAvailable(HalError):
    """No modem could take the job in the time allowed."""


class MemberState(enum.StrEnum):
    READY = "ready"
    BUSY = "busy"
    OUT = "out"


@frozen
class PoolSettings:
    """How hard each modem is driven; times are real-hardware seconds, multiplied by
    ``time_scale`` (1 for real modems, small for virtual ones)."""

    rate_per_minute: float = 6.0
    max_errors: int = 3
    probe_interval: float = 30.0
    time_scale: float = 1.0

    @property
    def interval(self) -> float:
        """Seconds between two jobs on one modem."""
        return 60.0 / self.rate_per_minute * self.time_scale if self.rate_per_minute > 0 else 0.0


@frozen
class MemberStatus:
    """A modem's place in the pool, for health reports and the CLI."""

    device: str
    state: MemberState
    operator: str
    jobs: int
    errors: int
    reason: str


class _Member:
    def __init__(self, device: str) -> None:
        self.device = device
        self.modem: Modem | None = None
        self.state = MemberState.OUT
        self.next_at = 0.0
        self.started_at = 0.0
        self.errors = 0
        self.jobs = 0
        self.reason = "not opened yet"
        self.out_at: float | None = None
        self.unsubscribe: Callable[[], None] | None = None

    @property
    def operator(self) -> str:
        return self.modem.info.operator if self.modem and self.modem.info else ""


@frozen(order=True)
class _Waiter:
    priority: int
    seq: int
    prefer: str
    future: asyncio.Future[_Member]


def is_modem_fault(exc: BaseException) -> bool:
    """Whether ``exc`` blames the modem (not the recipient): retry it elsewhere."""
    if isinstance(exc, ModemGone | AtTimeout):
        return True
    return isinstance(exc, AtError) and exc.kind == "CMS" and exc.code in CMS_MODEM_FAULT


class ModemPool:
    """Modems at ``devices``, opened by ``opener``; ``on_ready`` is called with every
    modem that (re)joins the pool, ``on_out`` with every device taken out."""

    def __init__(
        self,
        devices: Sequence[str],
        opener: Callable[[str], Awaitable[Modem]],
        settings: PoolSettings | None = None,
        *,
        on_ready: Callable[[Modem], None] | None = None,
        on_out: Callable[[str, str], None] | None = None,
    ) -> None:
        if not devices:
            raise ValueError("a modem pool needs at least one device")
        if len(set(devices)) != len(devices):
            raise ValueError("a device is listed twice in the modem pool")
        self.settings = settings or PoolSettings()
        self._opener = opener
        self._members = [_Member(d) for d in devices]
        self._waiters: list[_Waiter] = []
        self._seq = itertools.count()
        self._timer: asyncio.TimerHandle | None = None
        self._probes: dict[str, asyncio.Task[None]] = {}
        self._stopping = asyncio.Event()
        self._on_ready = on_ready
        self._on_out = on_out
        self.takeouts: list[tuple[str, float]] = []
        """(device, loop time) of every take-out, for benchmarks and health."""

    # -- life -----------------------------------------------------------------------------

    async def start(self) -> None:
        """Open every modem; those that fail are probed later. Raises
        :class:`NoModemAvailable` when none opens."""
        results = await asyncio.gather(*(self._open(m) for m in self._members))
        if not any(results):
            reasons = "; ".join(f"{m.device}: {m.reason}" for m in self._members)
            await self.stop()
            raise NoModemAvailable(f"no modem could be opened ({reasons})")

    async def stop(self) -> None:
        self._stopping.set()
        if self._timer is not None:
            self._timer.cancel()
        for task in self._probes.values():
            task.cancel()
        for waiter in self._waiters:
            if not waiter.future.done():
                waiter.future.set_exception(NoModemAvailable("the modem pool stopped"))
        self._waiters.clear()
        for member in self._members:
            if member.unsubscribe is not None:
                member.unsubscribe()
                member.unsubscribe = None
            if member.modem is not None:
                await member.modem.close()
                member.modem = None
            member.state = MemberState.OUT
            member.reason = "pool stopped"

    async def _open(self, member: _Member) -> bool:
        try:
            modem = await self._opener(member.device)
        except HalError as exc:
            self._take_out(member, f"cannot open: {exc}")
            return False
        member.modem = modem
        member.state = MemberState.READY
        member.errors = 0
        member.reason = ""
        member.out_at = None
        member.unsubscribe = modem.subscribe(functools.partial(self._on_urc, member))
        if self._on_ready is not None:
            self._on_ready(modem)
        self._dispatch()
        return True

    def _on_urc(self, member: _Member, urc: Urc) -> None:
        if urc.name == "GONE" and member.state is not MemberState.OUT:
            self._take_out(member, f"port lost: {urc.line}")

    def _take_out(self, member: _Member, reason: str) -> None:
        first = member.state is not MemberState.OUT or member.out_at is None
        member.state = MemberState.OUT
        member.reason = reason
        if member.unsubscribe is not None:
            member.unsubscribe()
            member.unsubscribe = None
        if member.modem is not None:
            modem, member.modem = member.modem, None
            asyncio.get_running_loop().create_task(modem.close())
        if first:
            member.out_at = asyncio.get_running_loop().time()
            self.takeouts.append((member.device, member.out_at))
            log.warning("modem %s taken out of the pool: %s", member.device, reason)
            if self._on_out is not None:
                self._on_out(member.device, reason)
        if member.device not in self._probes and not self._stopping.is_set():
            self._probes[member.device] = asyncio.get_running_loop().create_task(
                self._probe(member), name=f"probe-{member.device}"
            )

    async def _probe(self, member: _Member) -> None:
        try:
            while not self._stopping.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(
                        self._stopping.wait(), self.settings.probe_interval * self.settings.time_scale
                    )
                    return
                if await self._open(member):
                    log.info("modem %s is back in the pool", member.device)
                    return
        finally:
            self._probes.pop(member.device, None)

    # -- dispatch -------------------------------------------------------------------------

    def _dispatch(self) -> None:
        loop = asyncio.get_running_loop()
        now = loop.time()
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._waiters = [w for w in self._waiters if not w.future.done()]
        heapq.heapify(self._waiters)
        while self._waiters:
            free = [m for m in self._members if m.state is MemberState.READY and m.next_at <= now]
            if not free:
                break
            waiter = heapq.heappop(self._waiters)
            member = next((m for m in free if waiter.prefer and m.operator == waiter.prefer), None)
            member = member or min(free, key=lambda m: (m.next_at, m.jobs))
            member.state = MemberState.BUSY
            member.started_at = now
            waiter.future.set_result(member)
        if self._waiters:
            later = [m.next_at for m in self._members if m.state is MemberState.READY]
            if later:
                self._timer = loop.call_at(min(later), self._dispatch)

    async def _acquire(self, prefer: str, priority: int, deadline: float | None) -> _Member:
        if self._stopping.is_set():
            raise NoModemAvailable("the modem pool stopped")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[_Member] = loop.create_future()
        heapq.heappush(self._waiters, _Waiter(priority, next(self._seq), prefer, future))
        self._dispatch()
        timeout = None if deadline is None else max(0.0, deadline - loop.time())
        try:
            return await asyncio.wait_for(asyncio.shield(future), timeout)
        except TimeoutError:
            if future.done() and not future.cancelled() and future.exception() is None:
                self._release(future.result())
            future.cancel()
            raise NoModemAvailable(self._why_none()) from None
        except asyncio.CancelledError:
            if future.done() and not future.cancelled() and future.exception() is None:
                self._release(future.result())
            future.cancel()
            raise

    def _release(self, member: _Member) -> None:
        if member.state is MemberState.BUSY:
            member.state = MemberState.READY
        # the rate counts from the start of the job: a 3 s send at 6 a minute leaves 7 s
        now = asyncio.get_running_loop().time()
        member.next_at = max(now, member.started_at + self.settings.interval)
        self._dispatch()

    def _finished(self, member: _Member) -> None:
        member.errors = 0
        member.jobs += 1
        self._release(member)

    def _why_none(self) -> str:
        states = ", ".join(f"{m.device} {m.state.value}{': ' + m.reason if m.reason else ''}"
                           for m in self._members)
        return f"no modem free in time ({states})"

    async def run(
        self, job: Callable[[Modem], Awaitable[T]], *, prefer: str = "", timeout: float | None = None
    ) -> T:
        """Run ``job`` on a free modem and return its result.

        When the job fails because of the modem (port lost, timeout, a modem or SIM
        error), the modem's error count rises (it is taken out at once when gone) and
        the job is retried first in line on another modem. Other errors propagate.
        ``timeout`` bounds the whole wait for a modem, retries included (seconds).
        """
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        priority = 1
        while True:
            member = await self._acquire(prefer, priority, deadline)
            modem = member.modem
            if modem is None or member.state is not MemberState.BUSY:
                priority = 0  # taken out between the grant and now: another modem
                continue
            try:
                result = await job(modem)
            except HalError as exc:
                # ``current``: the member still holds this modem (it was not taken out,
                # and perhaps reopened for another job, while this one ran)
                current = member.modem is modem
                if not is_modem_fault(exc):
                    if current:
                        self._finished(member)
                    raise
                if current:
                    member.errors += 1
                    if isinstance(exc, ModemGone) or modem.gone or \
                            member.errors >= self.settings.max_errors:
                        self._take_out(member, f"{type(exc).__name__}: {exc}")
                        self._dispatch()
                    else:
                        self._release(member)
                priority = 0  # back to the front of the queue
                log.info("retrying a job of %s on another modem: %s", member.device, exc)
                continue
            except BaseException:
                if member.modem is modem:
                    self._release(member)
                raise
            if member.modem is modem:
                self._finished(member)
            return result

    # -- inspection -----------------------------------------------------------------------

    def status(self) -> list[MemberStatus]:
        return [
            MemberStatus(m.device, m.state, m.operator, m.jobs, m.errors, m.reason)
            for m in self._members
        ]

    @property
    def available(self) -> int:
        return sum(1 for m in self._members if m.state is not MemberState.OUT)

    @property
    def size(self) -> int:
        return len(self._members)

    def modems(self) -> list[Modem]:
        return [m.modem for m in self._members if m.modem is not None]
