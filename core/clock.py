"""Time comes from a clock object so that tests can move it."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Protocol

UTC = dt.UTC


class Clock(Protocol):
    """What the engine, the rules and the store ask of time."""

    def now(self) -> dt.datetime:
        """The current time, timezone-aware, in UTC."""

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` of this clock's time."""


class SystemClock:
    """The wall clock."""

    def now(self) -> dt.datetime:
        return dt.datetime.now(UTC)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


class FakeClock:
    """A clock that only moves when a test moves it.

    ``sleep`` returns once the clock has been advanced past the sleeper's deadline,
    so code that waits on this clock runs exactly as far as the test lets it.
    """

    def __init__(self, start: dt.datetime | None = None) -> None:
        self._now = start or dt.datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
        if self._now.tzinfo is None:
            raise ValueError("FakeClock needs a timezone-aware start time")
        self._sleepers: list[tuple[dt.datetime, asyncio.Future[None]]] = []

    def now(self) -> dt.datetime:
        return self._now

    def advance(self, seconds: float = 0.0, **delta: float) -> dt.datetime:
        """Move time forward and wake the sleepers whose deadline has passed."""
        step = dt.timedelta(seconds=seconds, **delta)
        if step < dt.timedelta(0):
            raise ValueError("a clock never goes backwards")
        self._now += step
        due = [s for s in self._sleepers if s[0] <= self._now]
        self._sleepers = [s for s in self._sleepers if s[0] > self._now]
        for _, fut in due:
            if not fut.done():
                fut.set_result(None)
        return self._now

    def set(self, when: dt.datetime) -> dt.datetime:
        """Move time forward to ``when``."""
        return self.advance((when - self._now).total_seconds())

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._sleepers.append((self._now + dt.timedelta(seconds=seconds), fut))
        await fut


def utc(value: dt.datetime) -> dt.datetime:
    """``value`` as an aware UTC datetime; naive values are taken as UTC."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)
