"""The status applier: batches, provider references, out-of-order and refused events,
inbound messages — inside the engine and standalone (a server receiving webhooks)."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
from typing import Any

from tocsin.clock import FakeClock
from tocsin.engine import StatusApplier
from tocsin.hookspecs import hookimpl
from tocsin.model import Alert, Attempt, InboundMessage, Message, StatusEvent
from tocsin.runtime import Runtime
from tocsin.sync import SyncTocsin

AT = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)


def _setup(runtime: Runtime, means: str = "sms") -> tuple[int, list[int]]:
    store = runtime.store
    contact_ids = store.contacts.upsert([__import__("tocsin.model").model.Contact(first_name="A")]).ids
    alert = store.alerts.insert(Alert("T", [Message(means, text="x", subject="s")]))
    ids = store.attempts.insert_many(
        [
            Attempt(
                alert.id, contact_ids[0], means, "+33600000001", "", channel="gw", provider_ref=f"ref-{i}"
            )
            for i in range(3)
        ]
    )
    return int(alert.id or 0), ids


async def test_a_standalone_applier_matches_provider_references_and_judges_every_event(
    make_runtime: Any, recorder: Any
) -> None:
    runtime = make_runtime()
    _, ids = _setup(runtime)
    applier = StatusApplier(runtime)
    await applier.start()
    assert runtime.sink is applier
    sink = runtime.sink
    # out of order, duplicated, and one illegal event
    sink.report(StatusEvent("received", AT, channel="gw", provider_ref="ref-0"))
    sink.report(StatusEvent("sent", AT, channel="gw", provider_ref="ref-0"))
    sink.report(StatusEvent("received", AT, channel="gw", provider_ref="ref-0"))
    sink.report(StatusEvent("failed", AT, attempt_id=ids[1]))
    sink.report(StatusEvent("received", AT, attempt_id=ids[1]))
    sink.report(StatusEvent("teleported", AT, attempt_id=ids[2]))
    applied = await applier.flush()
    assert applied.events == 6 and len(applied.changes) == 2 and applied.anomalies == 2
    a0, a1, a2 = (runtime.store.attempts.get(i) for i in ids)
    assert (a0.status, a0.reached, a0.completed_at) == ("received", True, AT)
    assert (a1.status, a1.reached) == ("failed", False)
    assert (a2.status, a2.reached) == ("", None)
    anomalies = [e.anomaly for e in runtime.store.attempts.events(ids[1]) if e.anomaly]
    assert anomalies == ["'failed' is terminal; 'received' cannot follow it"]
    assert "unknown sms status 'teleported'" in runtime.store.attempts.events(ids[2])[0].anomaly
    assert [c.new_status for c in recorder.changes] == ["received", "failed"]
    await applier.stop()
    assert runtime.sink is None


async def test_a_callback_arriving_before_its_reference_is_stored_is_applied_later(
    make_runtime: Any,
) -> None:
    runtime = make_runtime()
    _setup(runtime)
    applier = StatusApplier(runtime)
    applier.bind()
    applier.report(StatusEvent("sent", AT, channel="gw", provider_ref="late-ref"))
    first = await applier.flush()
    assert first.unmatched == 1 and first.events == 0
    contact = runtime.store.contacts.all_ids()[0]
    [late] = runtime.store.attempts.insert_many(
        [Attempt(None, contact, "sms", "+33600000001", "", channel="gw", provider_ref="late-ref")]
    )
    second = await applier.flush()
    assert second.events == 1
    assert runtime.store.attempts.get(late).status == "sent"
    await applier.stop()


async def test_a_provider_reference_used_twice_names_the_newest_attempt(make_runtime: Any) -> None:
    runtime = make_runtime()
    _setup(runtime)
    contact = runtime.store.contacts.all_ids()[0]
    # a modem's message references wrap around: the same one comes back for a later message
    older, newer = runtime.store.attempts.insert_many(
        [Attempt(None, contact, "sms", "+33600000001", "", channel="gw", provider_ref="wrapped")
         for _ in range(2)]
    )
    applier = StatusApplier(runtime)
    applier.bind()
    applier.report(StatusEvent("sent", AT, channel="gw", provider_ref="wrapped"))
    assert (await applier.flush()).events == 1
    assert runtime.store.attempts.get(newer).status == "sent"
    assert runtime.store.attempts.get(older).status == ""
    await applier.stop()


async def test_stop_by_sms_opts_the_contact_out_and_later_alerts_skip_it(make_app: Any, helpers: Any) -> None:
    app = await make_app(channels={"text": helpers.console("sms")})
    ids = helpers.add_group(app, "town", [helpers.person(1), helpers.person(2)])
    app.runtime.sink.inbound(InboundMessage("sms", "+33600000001", " stop ", AT, channel="text"))
    await app.run_due()
    assert app.store.contacts.get(ids[0]).opted_out
    alert = await app.send(Alert("T", [Message("sms", text="x")]), groups=["town"])
    await app.run_due()
    assert [a.contact_id for a in app.store.attempts.for_alert(alert.id)] == [ids[1]]
    assert (await app.outcome_counts(alert.id)).not_contacted == 1


async def test_an_unclaimed_inbound_message_changes_nothing(make_app: Any, helpers: Any) -> None:
    app = await make_app(channels={"text": helpers.console("sms")})
    ids = helpers.add_group(app, "town", [helpers.person(1)])
    app.runtime.sink.inbound(InboundMessage("sms", "+33600000001", "thanks!", AT))
    await app.run_due()
    assert not app.store.contacts.get(ids[0]).opted_out


async def test_the_sync_facade_sends_and_counts(config: Any, helpers: Any) -> None:
    def run() -> None:
        clock = FakeClock()
        with SyncTocsin(config, clock=clock, background=False) as app:
            helpers.add_group(app.app, "town", [helpers.person(1)])
            alert = app.send(Alert("T", [Message("sms", text="x")]), groups=["town"])
            app.run_due()
            assert app.outcome_counts(alert.id).contacted == 1
            assert app.status(alert.id).statuses == {"sms": {"received": 1}}

    await asyncio.to_thread(run)


async def test_a_process_that_does_not_dispatch_applies_statuses_but_leaves_channels_alone(
    config: Any, clock: Any, helpers: Any
) -> None:
    from tocsin.app import Tocsin

    sender = Tocsin(config, clock=clock, background=False)
    receiver = Tocsin(config, clock=clock, background=False, dispatch=False)
    await sender.start()
    await receiver.start()
    try:
        helpers.add_group(sender, "town", [helpers.person(1)])
        alert = await receiver.send(
            Alert("T", [Message("sms", text="x")], reminder_offsets=()), groups=["town"]
        )
        assert (await receiver.run_due()).handed_over == 0  # nothing sent from the receiving process
        await sender.engine._run_due_timers()
        [attempt] = sender.store.attempts.for_alert(alert.id)
        receiver.runtime.sink.report(StatusEvent("accepted", AT, attempt_id=attempt.id))
        await receiver.run_due()
        assert receiver.store.attempts.get(attempt.id).status == "accepted"
        assert all(getattr(c, "_sink", None) is None for c in receiver.engine.channels.values())
    finally:
        await receiver.stop()
        await sender.stop()


async def test_a_batch_that_fails_to_commit_is_kept_and_applied_at_the_next_flush(make_runtime: Any) -> None:
    import pytest

    runtime = make_runtime()
    _, ids = _setup(runtime)
    applier = StatusApplier(runtime)
    applier.bind()
    original = applier._apply
    calls = []

    def failing_once(*args: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("deadlock detected")
        return original(*args)

    applier._apply = failing_once  # type: ignore[method-assign]
    applier.report(StatusEvent("sent", AT, attempt_id=ids[0]))
    with pytest.raises(RuntimeError):
        await applier.flush()
    assert applier.pending == 1
    applied = await applier.flush()
    assert applied.events == 1 and runtime.store.attempts.get(ids[0]).status == "sent"
    await applier.stop()


class _ThreadWitness:
    """An observer noting the thread it runs in; it fails on its first batch."""

    def __init__(self) -> None:
        self.threads: list[int] = []

    @hookimpl
    def tocsin_attempts_changed(self, runtime: Any, changes: Any) -> None:
        self.threads.append(threading.get_ident())
        if len(self.threads) == 1:
            raise RuntimeError("observer bug")


async def test_observers_run_off_the_event_loop_and_a_failing_one_leaves_the_batch_applied(
    make_runtime: Any,
) -> None:
    runtime = make_runtime()
    witness = _ThreadWitness()
    runtime.pm.register(witness, "witness")
    _, ids = _setup(runtime)
    seen: list[int] = []
    applier = StatusApplier(runtime, on_applied=lambda applied: seen.append(len(applied.changes)))
    applier.bind()
    applier.report(StatusEvent("sent", AT, attempt_id=ids[0]))
    first = await applier.flush()  # its observer raises: logged, the batch stays applied
    applier.report(StatusEvent("sent", AT, attempt_id=ids[1]))
    await applier.flush()
    assert len(first.changes) == 1 and seen == [1, 1]
    assert [runtime.store.attempts.get(i).status for i in ids[:2]] == ["sent", "sent"]
    assert len(witness.threads) == 2
    assert threading.get_ident() not in witness.threads
    await applier.stop()


def test_two_appliers_on_one_database_never_undo_each_others_changes(
    make_runtime: Any, monkeypatch: Any
) -> None:
    """A server receiving webhooks and an engine apply events of the same attempt at
    once: the batch that commits second decides on what the first wrote. Here the first
    batch ("sent") has read the attempt and is paused before writing when the second
    ("received") starts; the attempt must end received, not be set back to sent."""
    from tocsin.store import bulk

    engine_side, server_side = make_runtime(), make_runtime()
    _, ids = _setup(engine_side)
    read, release = threading.Event(), threading.Event()
    original = bulk.Bulk.by_id

    def by_id(self: Any, *args: Any, **kwargs: Any) -> Any:
        rows = original(self, *args, **kwargs)
        if not read.is_set():  # the first batch to read waits, holding what it read
            read.set()
            release.wait(10)
        return rows

    monkeypatch.setattr(bulk.Bulk, "by_id", by_id)

    def apply(runtime: Runtime, status: str) -> None:
        async def run() -> None:
            applier = StatusApplier(runtime)
            applier.report(StatusEvent(status, AT, attempt_id=ids[0]))
            try:
                await applier.flush()
            finally:
                await applier.stop()

        asyncio.run(run())

    first = threading.Thread(target=apply, args=(engine_side, "sent"))
    first.start()
    assert read.wait(10)
    second = threading.Thread(target=apply, args=(server_side, "received"))
    second.start()
    second.join(1.0)  # unlocked, the second batch would commit meanwhile
    release.set()
    first.join(20)
    second.join(20)
    attempt = engine_side.store.attempts.get(ids[0])
    assert (attempt.status, attempt.reached) == ("received", True)
    statuses = [e.status for e in engine_side.store.attempts.events(ids[0])]
    assert statuses == ["sent", "received"]


def _many(runtime: Runtime, n: int) -> list[int]:
    """``n`` waiting SMS attempts of one alert, written in bulk."""
    from tocsin.model import Contact

    store = runtime.store
    contact_id = store.contacts.upsert([Contact(first_name="A")]).ids[0]
    alert = store.alerts.insert(Alert("T", [Message("sms", text="x")]))
    return store.attempts.insert_many(
        [Attempt(alert.id, contact_id, "sms", f"+336{i:08d}", "", channel="gw") for i in range(n)]
    )


async def test_a_full_batch_applies_in_lanes_and_a_failed_lane_stays_queued_while_the_others_hold(
    make_runtime: Any,
) -> None:
    """On PostgreSQL a full batch runs as several transactions of neighbouring attempts.
    One failing leaves its events queued (applied at the next flush); the other lanes'
    changes are committed and observed, and the failure is raised after them."""
    import pytest

    from tocsin.engine import applier as module

    runtime = make_runtime()
    ids = _many(runtime, module.LANE_MIN)
    seen: list[int] = []
    applier = StatusApplier(
        runtime, on_applied=lambda applied: seen.append(len(applied.changes)), flush_max=2 * len(ids)
    )
    applier.bind()
    lanes = applier.lanes
    original = applier._apply
    failed: list[int] = []

    def failing_top_lane(resolved: Any, *args: Any) -> Any:
        if lanes > 1 and not failed and resolved[0][0] > ids[0]:
            failed.append(len(resolved))
            raise RuntimeError("serialization failure")
        return original(resolved, *args)

    applier._apply = failing_top_lane  # type: ignore[method-assign]
    for aid in ids:
        applier.report(StatusEvent("sent", AT, attempt_id=aid))
        applier.report(StatusEvent("received", AT, attempt_id=aid))
    if runtime.store.dialect == "sqlite":
        assert lanes == 1  # one writer: one transaction
        applied = await applier.flush()
        assert applied.events == 2 * len(ids)
    else:
        assert lanes == module.LANES > 1
        with pytest.raises(RuntimeError, match="serialization failure"):
            await applier.flush()
        assert seen == [2 * (len(ids) - failed[0] // 2)]  # sent and received: two changes each
        assert applier.pending == failed[0]
        applied = await applier.flush()
        assert applied.events == failed[0]
    with runtime.store.engine.connect() as conn:
        from sqlalchemy import func, select

        from tocsin.store.schema import attempts, status_events

        statuses = dict(
            conn.execute(select(attempts.c.status, func.count()).group_by(attempts.c.status)).all()
        )
        events = conn.execute(select(func.count()).select_from(status_events)).scalar_one()
    assert statuses == {"received": len(ids)}
    assert events == 2 * len(ids)  # every event recorded once: none lost, none twice
    await applier.stop()


async def test_a_batch_below_flush_max_stays_one_transaction(make_runtime: Any) -> None:
    """Lanes are for a backlog: a batch that is not full is applied in one transaction."""
    from tocsin.engine import applier as module

    runtime = make_runtime()
    ids = _many(runtime, module.LANE_MIN)
    applier = StatusApplier(runtime, flush_max=2 * len(ids) + 1)
    applier.bind()
    sizes: list[int] = []
    original = applier._apply

    def counting(resolved: Any, *args: Any) -> Any:
        sizes.append(len(resolved))
        return original(resolved, *args)

    applier._apply = counting  # type: ignore[method-assign]
    for aid in ids:
        applier.report(StatusEvent("sent", AT, attempt_id=aid))
        applier.report(StatusEvent("received", AT, attempt_id=aid))
    applied = await applier.flush()
    assert sizes == [2 * len(ids)] and applied.events == 2 * len(ids)
    await applier.stop()
