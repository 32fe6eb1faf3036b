"""Webhook claims: a (scope, key) is claimed once across every store on one database,
released claims can be claimed again, and a purge removes only the expired ones."""

from __future__ import annotations

import datetime as dt
import random
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from tocsin.store import Store

NOW = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)


def test_a_key_is_claimed_once_per_scope_and_again_after_release(store: Store) -> None:
    claims = store.webhook_claims
    assert claims.claim("sms/status", "k", now=NOW)
    assert not claims.claim("sms/status", "k", now=NOW + dt.timedelta(seconds=1))
    assert claims.claim("voice/status", "k", now=NOW)
    assert claims.is_claimed("sms/status", "k")
    claims.release("sms/status", "k")
    assert not claims.is_claimed("sms/status", "k")
    assert claims.is_claimed("voice/status", "k")
    assert claims.claim("sms/status", "k", now=NOW)


def test_a_purge_removes_only_the_claims_made_before_its_limit(store: Store) -> None:
    claims = store.webhook_claims
    for minutes in (0, 10, 20, 30):
        assert claims.claim("sms/status", f"at-{minutes}", now=NOW + dt.timedelta(minutes=minutes))
    assert claims.purge(older_than=NOW + dt.timedelta(minutes=20)) == 2
    assert [claims.is_claimed("sms/status", f"at-{m}") for m in (0, 10, 20, 30)] == [
        False, False, True, True]
    assert claims.purge(older_than=NOW) == 0
    # what was purged can be claimed again; what was kept still cannot
    assert claims.claim("sms/status", "at-0", now=NOW + dt.timedelta(hours=1))
    assert not claims.claim("sms/status", "at-20", now=NOW + dt.timedelta(hours=1))


def test_two_stores_on_one_database_share_their_claims(db_url: str, store: Store) -> None:
    other = Store.open(db_url)  # another process: its own engine on the same database
    try:
        assert store.webhook_claims.claim("sms/status", "token", now=NOW)
        assert not other.webhook_claims.claim("sms/status", "token", now=NOW)
        other.webhook_claims.release("sms/status", "token")
        assert store.webhook_claims.claim("sms/status", "token", now=NOW)
    finally:
        other.close()


@pytest.mark.timeout(120)
def test_of_many_concurrent_claims_of_one_key_exactly_one_wins(db_url: str, store: Store) -> None:
    """Threads spread over four engines (as four processes would be) claim the same
    delivery at the same moment, round after round: one claim wins each round."""
    stores = [store, *(Store.open(db_url) for _ in range(3))]
    per_store = 6
    barrier = threading.Barrier(len(stores) * per_store)

    def claim(claimer: Store, key: str) -> bool:
        barrier.wait(timeout=60)
        return claimer.webhook_claims.claim("sms/status", key, now=NOW)

    try:
        with ThreadPoolExecutor(len(stores) * per_store) as pool:
            for round_ in range(5):
                key = f"delivery-{round_}"
                futures = [pool.submit(claim, s, key) for s in stores for _ in range(per_store)]
                wins = [f.result(timeout=90) for f in futures]
                assert wins.count(True) == 1, f"round {round_}: {wins.count(True)} winners"
    finally:
        for other in stores[1:]:
            other.close()


def test_a_batch_wins_the_pairs_nobody_claimed_and_each_pair_once(store: Store) -> None:
    claims = store.webhook_claims
    assert claims.claim("sms/status", "b", now=NOW)
    pairs = [("sms/status", "c"), ("sms/status", "b"), ("sms/status", "a"), ("sms/status", "c"),
             ("voice/status", "b")]
    assert claims.claim_many(pairs, now=NOW) == [True, False, True, False, True]
    assert claims.claim_many([], now=NOW) == []
    many = [("bulk", f"k{i}") for i in range(1200)]  # more than one statement's worth
    assert all(claims.claim_many(many, now=NOW))
    assert not any(claims.claim_many(many[::-1], now=NOW))


@pytest.mark.postgres
@pytest.mark.timeout(120)
def test_concurrent_batches_in_any_order_share_out_every_key_once(pg_url: str) -> None:
    """Overlapping batches, each in its own order, from threads on several engines: every
    key is won exactly once and no transaction deadlocks (batches are written sorted;
    unsorted, PostgreSQL detects deadlocks here within a few rounds)."""
    store = Store.open(pg_url, upgrade=True)
    stores = [store, *(Store.open(pg_url) for _ in range(3))]
    barrier = threading.Barrier(16)

    def batch(claimer: Store, keys: list[tuple[str, str]], seed: int) -> list[tuple[str, str]]:
        mine = random.Random(seed).sample(keys, 300)
        barrier.wait(timeout=60)
        won = claimer.webhook_claims.claim_many(mine, now=NOW)
        return [pair for pair, ok in zip(mine, won, strict=True) if ok]

    try:
        with ThreadPoolExecutor(16) as pool:
            for round_ in range(8):
                keys = [(f"round-{round_}", f"k{i}") for i in range(400)]
                futures = [pool.submit(batch, stores[i % len(stores)], keys, i) for i in range(16)]
                winners = [pair for f in futures for pair in f.result(timeout=90)]
                assert len(winners) == len(set(winners))
                assert set(winners) == {pair for pair in keys if store.webhook_claims.is_claimed(*pair)}
    finally:
        for each in stores:
            each.close()

