"""The per-sender limiter spaces sends exactly, spreads them over senders, and allows bursts."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tocsin.clock import FakeClock
from tocsin.plugins.cloudkit.ratelimit import SenderPool


@given(rate=st.floats(0.1, 100), senders=st.integers(1, 4), count=st.integers(1, 60))
def test_reserved_slots_keep_the_rate_per_sender(rate: float, senders: int, count: int) -> None:
    clock = FakeClock()
    pool = SenderPool([f"+3310000000{i}" for i in range(senders)], clock, rate=rate)
    slots: dict[str, list[float]] = {}
    for _ in range(count):
        sender, wait = pool.reserve()
        slots.setdefault(sender, []).append(wait)
    interval = 1 / rate
    for waits in slots.values():
        assert waits == pytest.approx([i * interval for i in range(len(waits))], abs=1e-9)
    assert max(len(w) for w in slots.values()) - min(len(w) for w in slots.values()) <= 1


def test_a_burst_goes_at_once_then_spacing_applies() -> None:
    pool = SenderPool(["A"], FakeClock(), rate=2, burst=3)
    waits = [pool.reserve()[1] for _ in range(5)]
    assert waits == pytest.approx([0, 0, 0, 0.5, 1.0])


def test_unlimited_never_waits() -> None:
    pool = SenderPool(["A", "B"], FakeClock(), rate=None)
    assert {pool.reserve()[1] for _ in range(10)} == {0.0}


async def test_acquire_waits_on_the_clock() -> None:
    clock = FakeClock()
    pool = SenderPool(["A"], clock, rate=1)
    assert await pool.acquire() == "A"
    second = asyncio.create_task(pool.acquire())
    await asyncio.sleep(0)
    assert not second.done()
    clock.advance(1)
    assert await second == "A"


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="at least one sender"):
        SenderPool([], FakeClock())
    with pytest.raises(ValueError, match="burst"):
        SenderPool(["A"], FakeClock(), burst=0)
