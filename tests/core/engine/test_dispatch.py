"""Dispatch: retries with backoff, permanent failures, rate limits, cancel."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
from typing import Any

import pytest

from tocsin.errors import ValidationError
from tocsin.hookspecs import hookimpl
from tocsin.model import Alert, AlertState, Message


def _sms(**outcome: Any) -> dict[str, Any]:
    channel: dict[str, Any] = {"type": "console", "means": "sms", "output": "none"}
    if outcome:
        channel["outcomes"] = [{"match": "*", **outcome}]
    return {"text": channel}


ALERT = Alert("Water cut", [Message("sms", text="No water 9-12")], reminder_offsets=())


async def test_a_temporary_failure_is_retried_with_exponential_backoff_then_failed(
    make_app: Any, helpers: Any, clock: Any
) -> None:
    app = await make_app(
        channels=_sms(result="temporary", reason="provider busy"),
        engine={"max_tries": 3, "retry_base": "10s"},
    )
    helpers.add_group(app, "town", [helpers.person(1)])
    alert = await app.send(ALERT, groups=["town"])
    await app.run_due()
    [attempt] = app.store.attempts.for_alert(alert.id)
    assert (attempt.status, attempt.tries, attempt.error) == ("", 1, "provider busy")
    assert attempt.due_at == clock.now() + dt.timedelta(seconds=10)
    clock.advance(9)
    assert (await app.run_due()).handed_over == 0
    clock.advance(1)
    assert (await app.run_due()).handed_over == 1
    [attempt] = app.store.attempts.for_alert(alert.id)
    assert attempt.tries == 2
    clock.advance(19)
    assert (await app.run_due()).handed_over == 0  # second wait is 20 s
    clock.advance(1)
    await app.run_due()
    [attempt] = app.store.attempts.for_alert(alert.id)
    assert (attempt.status, attempt.reached, attempt.tries) == ("failed", False, 3)
    assert attempt.error == "provider busy (gave up after 3 tries)"
    assert (await app.status(alert.id)).alert.state is AlertState.FINISHED


async def test_a_providers_retry_after_is_honoured(make_app: Any, helpers: Any, clock: Any) -> None:
    app = await make_app(channels=_sms(result="temporary", retry_after=600), engine={"retry_base": "10s"})
    helpers.add_group(app, "town", [helpers.person(1)])
    alert = await app.send(ALERT, groups=["town"])
    await app.run_due()
    [attempt] = app.store.attempts.for_alert(alert.id)
    assert (attempt.due_at - clock.now()).total_seconds() == 600


async def test_a_permanent_failure_is_final_with_the_providers_reason(make_app: Any, helpers: Any) -> None:
    app = await make_app(channels=_sms(result="permanent", reason="unknown destination"))
    helpers.add_group(app, "town", [helpers.person(1)])
    alert = await app.send(ALERT, groups=["town"])
    await app.run_due()
    [attempt] = app.store.attempts.for_alert(alert.id)
    assert (attempt.status, attempt.reached, attempt.error, attempt.tries) == (
        "failed",
        False,
        "unknown destination",
        1,
    )
    assert [e.reason for e in app.store.attempts.events(attempt.id)] == ["unknown destination"]


async def test_the_channels_rate_limit_is_kept_on_the_engines_clock(
    make_app: Any, helpers: Any, clock: Any
) -> None:
    channels = {"text": {"type": "console", "means": "sms", "output": "none", "rate": 2, "per": 60}}
    app = await make_app(channels=channels)
    helpers.add_group(app, "town", [helpers.person(i) for i in range(1, 7)])
    alert = await app.send(ALERT, groups=["town"])
    assert (await app.run_due()).handed_over == 1  # burst of one
    clock.advance(29)
    assert (await app.run_due()).handed_over == 0
    clock.advance(1)
    assert (await app.run_due()).handed_over == 1
    clock.advance(60)
    assert (await app.run_due()).handed_over == 1  # an idle minute does not bank sends beyond the burst
    clock.advance(30)
    assert (await app.run_due()).handed_over == 1
    assert (await app.status(alert.id)).statuses["sms"] == {"received": 4, "": 2}


async def test_cancel_fails_waiting_attempts_with_reason_and_closes_timers(
    make_app: Any, helpers: Any, clock: Any, recorder: Any
) -> None:
    channels = {"text": {"type": "console", "means": "sms", "output": "none", "rate": 1, "per": 60}}
    app = await make_app(channels=channels)
    helpers.add_group(app, "town", [helpers.person(i) for i in range(1, 5)])
    alert = await app.send(Alert("Fire", [Message("sms", text="Evacuate")]), groups=["town"])
    await app.run_due()
    cancelled = await app.cancel(alert.id)
    assert cancelled.state is AlertState.CANCELLED
    attempts = app.store.attempts.for_alert(alert.id)
    assert sorted(a.status for a in attempts) == ["failed", "failed", "failed", "received"]
    assert {a.error for a in attempts if a.status == "failed"} == {"cancelled"}
    assert all(t.done_at is not None for t in app.store.timers.for_alert(alert.id))
    clock.advance(hours=2)
    assert (await app.run_due()).handed_over == 0
    assert (alert.id, AlertState.CANCELLED) in recorder.finished
    with pytest.raises(ValidationError, match="already cancelled"):
        await app.cancel(alert.id)


async def test_a_channel_that_raises_is_a_temporary_failure(make_app: Any, helpers: Any, clock: Any) -> None:
    app = await make_app(channels=_sms(), engine={"retry_base": "5s"})
    helpers.add_group(app, "town", [helpers.person(1)])
    channel = app.engine.channels["text"]
    original = channel.send
    calls = []

    async def flaky(outbound: Any) -> Any:
        calls.append(outbound.attempt.id)
        if len(calls) == 1:
            raise ConnectionError("socket closed")
        return await original(outbound)

    channel.send = flaky
    alert = await app.send(ALERT, groups=["town"])
    await app.run_due()
    [attempt] = app.store.attempts.for_alert(alert.id)
    assert attempt.status == "" and "socket closed" in attempt.error
    clock.advance(5)
    await app.run_due()
    [attempt] = app.store.attempts.for_alert(alert.id)
    assert attempt.status == "received" and attempt.tries == 2
    assert calls == [attempt.id, attempt.id]


async def test_attempts_left_claimed_by_a_dead_process_of_a_cancelled_alert_are_closed(
    make_app: Any, helpers: Any, clock: Any, monkeypatch: Any
) -> None:
    app = await make_app(channels=_sms())
    helpers.add_group(app, "town", [helpers.person(i) for i in (1, 2)])
    alert = await app.send(ALERT, groups=["town"])
    # as with a dispatcher whose sends run in other processes: nothing is handed off here
    monkeypatch.setattr(app.engine.dispatcher, "free_slots", dict)
    await app.engine._run_due_timers()  # the fan-out only: attempts wait in the outbox
    lease = dt.timedelta(seconds=60)
    claimed = app.store.outbox.claim("text", "dead-node", now=clock.now(), lease=lease, limit=10)
    assert len(claimed) == 2
    await app.cancel(alert.id)
    assert {a.status for a in app.store.attempts.for_alert(alert.id)} == {""}  # in flight elsewhere
    clock.advance(61)
    assert await app.engine.sweep_cancelled() == 2
    assert {(a.status, a.error) for a in app.store.attempts.for_alert(alert.id)} == {("failed", "cancelled")}
    assert (await app.run_due()).handed_over == 0


async def test_a_page_writes_what_the_pools_can_take_already_claimed_and_leaves_the_rest_in_the_outbox(
    make_app: Any, helpers: Any, clock: Any
) -> None:
    # a rate of 3 a minute with a burst of 3: the pool takes three at once
    channels = {"text": {"type": "console", "means": "sms", "output": "none", "rate": 3, "per": 60, "burst": 3}}
    app = await make_app(channels=channels)
    helpers.add_group(app, "town", [helpers.person(i) for i in range(1, 6)])
    alert = await app.send(ALERT, groups=["town"])
    claims: list[int] = []
    real_claim = app.store.outbox.claim

    def counting_claim(*args: Any, **kwargs: Any) -> Any:
        found = real_claim(*args, **kwargs)
        claims.append(len(found))
        return found

    app.store.outbox.claim = counting_claim  # type: ignore[method-assign]
    await app.engine._run_due_timers()  # the fan-out: 3 written claimed by this engine, 2 waiting
    stored = sorted(app.store.attempts.for_alert(alert.id), key=lambda a: a.id or 0)
    node = app.engine.settings.node
    with app.store.engine.connect() as conn:
        leases = dict(conn.exec_driver_sql("SELECT id, claimed_by FROM attempts").all())
    assert [leases[a.id] for a in stored] == [node, node, node, None, None]
    assert [a.tries for a in stored] == [1, 1, 1, 0, 0]
    report = await app.run_due()
    assert report.handed_over == 3 and sum(claims) == 0  # handed over without a claim
    assert [a.status for a in app.store.attempts.for_alert(alert.id)].count("received") == 3
    clock.advance(60)
    assert (await app.run_due()).handed_over == 2 and sum(claims) == 2  # the rest, claimed from the outbox
    assert {a.status for a in app.store.attempts.for_alert(alert.id)} == {"received"}


class _ObserverThreads:
    def __init__(self) -> None:
        self.threads: list[int] = []

    @hookimpl
    def tocsin_attempts_changed(self, runtime: Any, changes: Any) -> None:
        self.threads.append(threading.get_ident())


async def test_the_changes_a_cancel_makes_reach_observers_off_the_event_loop(
    make_app: Any, helpers: Any, monkeypatch: Any
) -> None:
    observer = _ObserverThreads()
    app = await make_app(channels=_sms(), plugins=(("observer-threads", observer),))
    helpers.add_group(app, "town", [helpers.person(i) for i in (1, 2)])
    alert = await app.send(ALERT, groups=["town"])
    monkeypatch.setattr(app.engine.dispatcher, "free_slots", dict)  # nothing handed off
    await app.engine._run_due_timers()  # the fan-out only: attempts wait in the outbox
    await app.cancel(alert.id)  # closes them: changes for the observers
    assert {a.status for a in app.store.attempts.for_alert(alert.id)} == {"failed"}
    assert len(observer.threads) == 1 and observer.threads[0] != threading.get_ident()


def _held_channel(app: Any) -> tuple[list[int], asyncio.Event]:
    """The console channel's sends wait for the returned event: the first attempt stays in
    flight and the others stay queued in this process."""
    channel = app.engine.channels["text"]
    original = channel.send
    started: list[int] = []
    release = asyncio.Event()

    async def held(outbound: Any) -> Any:
        started.append(outbound.attempt.id)
        await release.wait()
        return await original(outbound)

    channel.send = held
    return started, release


async def _one_in_flight_four_queued(app: Any, helpers: Any) -> tuple[Any, list[int], asyncio.Event]:
    helpers.add_group(app, "town", [helpers.person(i) for i in range(1, 6)])
    started, release = _held_channel(app)
    alert = await app.send(ALERT, groups=["town"])
    await app.engine._run_due_timers()  # the fan-out hands all five to the pool
    while not started:
        await asyncio.sleep(0)
    assert app.engine.pools["text"].queue.qsize() == 4
    return alert, started, release


async def test_cancel_closes_the_attempts_queued_in_this_process_at_once_and_the_one_in_flight_finishes(
    make_app: Any, helpers: Any, recorder: Any, monkeypatch: Any
) -> None:
    monkeypatch.setattr("tocsin.engine.closing.CHUNK", 3)  # the four queued ids in two lists
    app = await make_app(channels={"text": {**_sms()["text"], "concurrency": 1}})
    alert, started, release = await _one_in_flight_four_queued(app, helpers)
    await app.cancel(alert.id)
    assert app.engine.pools["text"].queue.qsize() == 0
    by_id = {a.id: a for a in app.store.attempts.for_alert(alert.id)}
    queued = set(by_id) - set(started)
    assert len(queued) == 4
    assert {(by_id[i].status, by_id[i].error) for i in queued} == {("failed", "cancelled")}
    assert by_id[started[0]].status == ""  # in flight
    assert {c.attempt_id for c in recorder.changes if c.new_status == "failed"} == queued
    release.set()
    await app.run_due()
    assert started == started[:1]  # nothing else reached the channel
    assert app.store.attempts.get(started[0]).status == "received"
    # closed once, by the cancel: no second event from a worker reaching them later
    assert all([e.status for e in app.store.attempts.events(i)] == ["failed"] for i in queued)


async def test_a_cancel_that_fails_puts_the_queued_attempts_back_in_order(
    make_app: Any, helpers: Any, monkeypatch: Any
) -> None:
    app = await make_app(channels={"text": {**_sms()["text"], "concurrency": 1}})
    alert, started, release = await _one_in_flight_four_queued(app, helpers)
    queued = [item.attempt.id for item in list(app.engine.pools["text"].queue._queue)]

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("database gone")

    monkeypatch.setattr("tocsin.engine.engine.close_pending", broken)
    with pytest.raises(RuntimeError, match="database gone"):
        await app.cancel(alert.id)
    assert (await app.status(alert.id)).alert.state is AlertState.SENDING
    assert [item.attempt.id for item in list(app.engine.pools["text"].queue._queue)] == queued
    release.set()
    await app.run_due()
    assert started == [started[0], *queued]
    assert {a.status for a in app.store.attempts.for_alert(alert.id)} == {"received"}
