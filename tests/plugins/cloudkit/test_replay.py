"""The replay guard claims deliveries in the store: each is accepted once by every guard
on the database, a released claim can be retried, concurrent claims go together and
exactly one of a key's wins, claims outlive the window until a purge, and purges run
now and then on the clock, not on every request."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tocsin.clock import FakeClock
from tocsin.plugins.cloudkit.replay import ReplayGuard, guard_key
from tocsin.store import Store


def test_a_claim_is_refused_the_second_time_and_after_release_accepted(store: Store) -> None:
    guard = ReplayGuard(store.webhook_claims, FakeClock())

    async def steps() -> list[bool]:
        results = [await guard.claim("sms/status", "k"), await guard.claim("sms/status", "k"),
                   await guard.claim("voice/status", "k")]
        await guard.release("sms/status", "k")
        return [*results, await guard.claim("sms/status", "k")]

    assert asyncio.run(steps()) == [True, False, True, True]


def test_the_store_keeps_a_digest_of_the_key_whatever_its_length_or_characters(store: Store) -> None:
    guard = ReplayGuard(store.webhook_claims, FakeClock())
    odd = "ref-\x00-é-" + "x" * 5000  # a NUL (PostgreSQL text refuses it), 5,000 characters

    async def steps() -> list[bool]:
        return [await guard.claim("gateway", odd), await guard.claim("gateway", odd),
                await guard.claim("gateway", odd[:-1])]

    assert asyncio.run(steps()) == [True, False, True]
    assert store.webhook_claims.is_claimed("gateway", guard_key(odd))


def test_concurrent_claims_go_together_and_one_of_each_key_wins(store: Store) -> None:
    guard = ReplayGuard(store.webhook_claims, FakeClock())
    keys = [f"k{i % 10}" for i in range(60)]  # each key six times, all at once

    async def all_at_once() -> list[bool]:
        return list(await asyncio.gather(*(guard.claim("sms/status", k) for k in keys)))

    results = asyncio.run(all_at_once())
    assert sorted(k for k, won in zip(keys, results, strict=True) if won) == sorted(set(keys))


def test_guards_on_two_stores_of_one_sqlite_file_refuse_each_others_claims(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    first, second = Store.open(url, upgrade=True), Store.open(url)
    clock = FakeClock()
    one, two = ReplayGuard(first.webhook_claims, clock), ReplayGuard(second.webhook_claims, clock)

    async def steps() -> list[bool]:
        results = [await one.claim("sms/status", "token"), await two.claim("sms/status", "token")]
        await two.release("sms/status", "token")
        return [*results, await two.claim("sms/status", "token"), await one.claim("sms/status", "token")]

    try:
        assert asyncio.run(steps()) == [True, False, True, False]
    finally:
        first.close()
        second.close()


def test_claims_are_purged_after_the_window_now_and_then(store: Store) -> None:
    clock = FakeClock()
    guard = ReplayGuard(store.webhook_claims, clock, window=600, purge_every=60)

    async def at(seconds: float, key: str) -> bool:
        clock.advance(seconds)
        return await guard.claim("s", key)

    async def steps() -> None:
        assert await at(0, "old")  # t=0: a guard's first claim purges (nothing yet)
        assert await at(599, "x")  # t=599: a purge is due; nothing is 600 s old yet
        # t=601: "old" is past the window, but the next purge is at t=659
        assert not await at(2, "old"), "a claim is refused until a purge removes it"
        assert await at(58, "y")  # t=659: the purge removes what was claimed before t=59
        assert not store.webhook_claims.is_claimed("s", guard_key("old"))
        assert await at(0, "old")
        assert not await at(0, "x")

    asyncio.run(steps())


def test_a_bad_window_is_refused(store: Store) -> None:
    with pytest.raises(ValueError, match="positive"):
        ReplayGuard(store.webhook_claims, FakeClock(), window=0)
