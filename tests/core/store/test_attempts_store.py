"""Attempts: bulk inserts and bulk status updates, each in one transaction."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import event

from tocsin.model import Alert, Attempt, Category, Contact, ContactMeans, Message, StatusEvent
from tocsin.store import Store
from tocsin.store.attempts import StatusUpdate

NOW = dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC)


def _setup(store: Store, n: int) -> tuple[int, tuple[int, ...]]:
    ids = store.contacts.upsert(
        [Contact(f"C{i}", means=[ContactMeans("mobile", f"+3361100{i:04d}")]) for i in range(n)], now=NOW
    ).ids
    alert = store.alerts.insert(
        Alert("Flood", [Message("sms", text="Water rising")], category=Category("flood", True)), now=NOW
    )
    assert alert.id is not None
    return alert.id, ids


def test_bulk_insert_and_bulk_status_update_of_thousands(store: Store) -> None:
    alert_id, contact_ids = _setup(store, 2500)
    attempts = [Attempt(alert_id, cid, "sms", f"+3361100{i:04d}", "") for i, cid in enumerate(contact_ids)]
    commits: list[int] = []
    event.listen(store.engine, "commit", lambda conn: commits.append(1))
    ids = store.attempts.insert_many(attempts, now=NOW)
    later = NOW + dt.timedelta(seconds=5)
    changed = store.attempts.update_statuses(
        [StatusUpdate(i, "sent", later, sent_at=later, provider_ref=f"ref-{i}") for i in ids]
    )
    assert changed == 2500
    assert len(commits) == 2, "one transaction for the insert, one for the update"
    stored = store.attempts.for_alert(alert_id)
    assert {a.status for a in stored} == {"sent"}
    assert stored[0].provider_ref == f"ref-{ids[0]}" and stored[0].sent_at == later


def test_status_update_keeps_first_sent_time_and_unset_fields(store: Store) -> None:
    alert_id, (cid,) = _setup(store, 1)
    (aid,) = store.attempts.insert_many([Attempt(alert_id, cid, "sms", "+33611000000", "")], now=NOW)
    t1, t2 = NOW + dt.timedelta(seconds=1), NOW + dt.timedelta(seconds=9)
    store.attempts.update_statuses([StatusUpdate(aid, "sent", t1, sent_at=t1, provider_ref="p1")])
    store.attempts.update_statuses(
        [StatusUpdate(aid, "received", t2, reached=True, sent_at=t2, completed_at=t2)]
    )
    got = store.attempts.get(aid)
    assert (got.status, got.reached, got.sent_at, got.completed_at, got.provider_ref) == (
        "received", True, t1, t2, "p1"
    )
    assert store.attempts.by_provider_ref("", "p1").id == aid


def test_events_are_recorded_and_anomalies_counted(store: Store) -> None:
    alert_id, (cid,) = _setup(store, 1)
    (aid,) = store.attempts.insert_many([Attempt(alert_id, cid, "sms", "+33611000000", "")], now=NOW)
    store.attempts.insert_events(
        [
            StatusEvent("sent", NOW, attempt_id=aid, source="modem"),
            StatusEvent("queued", NOW, attempt_id=aid, anomaly="'queued' cannot follow 'sent'"),
        ],
        now=NOW,
    )
    events = store.attempts.events(aid)
    assert [e.status for e in events] == ["sent", "queued"]
    assert events[1].anomaly
    from sqlalchemy import select

    from tocsin.store.schema import attempts

    with store.engine.connect() as conn:
        assert conn.execute(select(attempts.c.anomalies).where(attempts.c.id == aid)).scalar_one() == 1


def test_alert_round_trips_through_the_store(store: Store) -> None:
    alert = Alert(
        "Boil water",
        [
            Message("sms", text="Hello {{ first_name }}"),
            Message("email", subject="S", text="T", html="<p>T</p>"),
        ],
        category=Category("health", True, (dt.timedelta(minutes=10),)),
        reminder_offsets=(dt.timedelta(minutes=15),),
        target_confirmations=50,
    )
    stored = store.alerts.insert(alert, now=NOW)
    assert stored.id is not None
    assert store.alerts.get(stored.id) == stored


def test_recording_events_of_an_unknown_attempt_is_refused_and_writes_nothing(store: Store) -> None:
    import pytest

    from tocsin.errors import NotFoundError

    alert_id, (cid,) = _setup(store, 1)
    (aid,) = store.attempts.insert_many([Attempt(alert_id, cid, "sms", "+33611000000", "")], now=NOW)
    with pytest.raises(NotFoundError, match=f"attempts that do not exist: {aid + 1000}"):
        store.attempts.insert_events(
            [StatusEvent("sent", NOW, attempt_id=aid), StatusEvent("sent", NOW, attempt_id=aid + 1000)],
            now=NOW,
        )
    assert store.attempts.events(aid) == []


def test_an_attempts_events_go_with_it_when_its_contact_or_alert_is_deleted(store: Store) -> None:
    """status_events has no foreign key (migration 0011): a trigger deletes an attempt's
    events with the attempt, also when a contact's or an alert's deletion cascades."""
    from sqlalchemy import delete, func, select

    from tocsin.store.schema import alerts, status_events

    alert_id, (c1, c2) = _setup(store, 2)
    ids = store.attempts.insert_many(
        [Attempt(alert_id, c, "sms", f"+3361100000{c % 10}", "") for c in (c1, c2)], now=NOW
    )
    store.attempts.insert_events(
        [StatusEvent(s, NOW, attempt_id=a) for a in ids for s in ("sent", "received")], now=NOW
    )

    def events_of(aid: int) -> int:
        with store.engine.connect() as conn:
            query = select(func.count()).select_from(status_events).where(status_events.c.attempt_id == aid)
            return int(conn.execute(query).scalar_one())

    assert [events_of(a) for a in ids] == [2, 2]
    store.contacts.delete(c1)
    assert [events_of(a) for a in ids] == [0, 2]
    with store.engine.begin() as conn:
        conn.execute(delete(alerts).where(alerts.c.id == alert_id))
    assert [events_of(a) for a in ids] == [0, 0]


def test_lookups_by_provider_reference_can_use_the_partial_index(store: Store) -> None:
    """The index holds only attempts with a reference (migration 0012): both databases
    must still see that ``provider_ref = ?`` and ``= ANY``/``IN`` lookups can use it."""
    from sqlalchemy import select

    from tocsin.store.filters import among
    from tocsin.store.schema import attempts

    with store.engine.begin() as conn:
        dialect = conn.dialect.name
        if dialect == "postgresql":
            conn.exec_driver_sql("SET LOCAL enable_seqscan = off")  # a tiny table: force the choice
        for query in (
            select(attempts.c.id).where(attempts.c.channel == "gw", attempts.c.provider_ref == "r1"),
            select(attempts.c.id).where(
                attempts.c.channel == "gw", among(attempts.c.provider_ref, ["r1", "r2"], dialect)
            ),
        ):
            sql = str(query.compile(conn, compile_kwargs={"literal_binds": True}))
            prefix = "EXPLAIN QUERY PLAN " if dialect == "sqlite" else "EXPLAIN "
            plan = " ".join(str(row[-1]) for row in conn.exec_driver_sql(prefix + sql))
            assert "ix_attempts_provider_ref" in plan, plan


def test_the_failure_reason_is_the_errors_first_200_characters_kept_by_the_database(store: Store) -> None:
    alert_id, (cid,) = _setup(store, 1)
    (aid,) = store.attempts.insert_many([Attempt(alert_id, cid, "sms", "+33611000000", "")], now=NOW)
    long_error = "operator refused: " + "x" * 300
    store.attempts.update_statuses(
        [StatusUpdate(aid, "failed", NOW, reached=False, completed_at=NOW, error=long_error)]
    )
    from sqlalchemy import select

    from tocsin.store.schema import attempts

    with store.engine.connect() as conn:
        error, reason = conn.execute(select(attempts.c.error, attempts.c.reason)).one()
    assert error == long_error and reason == long_error[:200]


def test_attempts_by_status_and_failure_reason_are_counted_from_the_overviews_index_alone(
    store: Store
) -> None:
    """Migration 0013: the index holds ``reason``, a column, so PostgreSQL answers the
    overview's largest query without reading the table, which it cannot do with an
    expression index. SQLite reads it in the index's order (no sort for the grouping)."""
    from sqlalchemy import func, select

    from tocsin.store.schema import attempts

    c = attempts.c
    query = (
        select(c.means, c.status, c.reached, c.reason, func.count())
        .where(c.alert_id.in_([1]))
        .group_by(c.means, c.status, c.reached, c.reason)
    )
    with store.engine.begin() as conn:
        dialect = conn.dialect.name
        if dialect == "postgresql":  # a tiny table: force the choice among index scans
            conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
            conn.exec_driver_sql("SET LOCAL enable_bitmapscan = off")
        sql = str(query.compile(conn, compile_kwargs={"literal_binds": True}))
        prefix = "EXPLAIN QUERY PLAN " if dialect == "sqlite" else "EXPLAIN "
        plan = " ".join(str(row[-1]) for row in conn.exec_driver_sql(prefix + sql))
    if dialect == "sqlite":
        assert "USING INDEX ix_attempts_alert_status_reason" in plan and "TEMP B-TREE" not in plan, plan
    else:
        assert "Index Only Scan using ix_attempts_alert_status_reason" in plan, plan
