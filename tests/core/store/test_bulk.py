"""Bulk writes: what goes in by COPY (PostgreSQL) or executemany (SQLite) comes back
unchanged, and a many-row update keeps the stored values its ``None`` fields name."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from tocsin.model import Alert, Contact, ContactMeans, Message
from tocsin.store import Store
from tocsin.store.bulk import ATTEMPT_ROWS, EVENT_ROWS, SQLITE_ROWS, Bulk, RowUpdate
from tocsin.store.filters import among, dense
from tocsin.store.schema import attempts, status_events

NOW = dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC)

# what a database keeps in a text column: any character but NUL
TEXT = st.text(st.characters(exclude_characters="\x00", exclude_categories=("Cs",)), max_size=40)
MOMENTS = st.datetimes(
    min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2100, 1, 1), timezones=st.just(dt.UTC)
)

WRITE = RowUpdate(
    "attempts",
    (("status", "varchar(32)"), ("error", "text"), ("completed_at", "timestamptz"), ("updated_at", "timestamptz")),
    "status = new.status, error = COALESCE(new.error, old.error),"
    " completed_at = COALESCE(old.completed_at, new.completed_at), updated_at = new.updated_at",
)


def _alert_and_contacts(store: Store, n: int) -> tuple[int, tuple[int, ...]]:
    ids = store.contacts.upsert(
        [Contact(f"C{i}", means=[ContactMeans("mobile", f"+3361100{i:04d}")]) for i in range(n)], now=NOW
    ).ids
    alert = store.alerts.insert(Alert("Flood", [Message("sms", text="Water rising")]), now=NOW)
    assert alert.id is not None
    return alert.id, ids


def _attempts(store: Store, alert_id: int, contact_ids: tuple[int, ...], addresses: list[str]) -> list[int]:
    bulk = Bulk(store.dialect)
    stamp = bulk.ts(NOW)
    rows = [
        (alert_id, cid, "sms", "text", address, "initial", 0, stamp, stamp, stamp)
        for cid, address in zip(contact_ids, addresses, strict=False)
    ]
    with store.engine.begin() as conn:
        bulk.insert(conn, ATTEMPT_ROWS, rows)
        return list(
            conn.execute(select(attempts.c.id).where(attempts.c.alert_id == alert_id).order_by(attempts.c.id))
            .scalars()
        )


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.tuples(TEXT, TEXT, MOMENTS), min_size=1, max_size=30))
def test_events_written_in_bulk_come_back_unchanged(store: Store, rows: list[tuple[str, str, dt.datetime]]) -> None:
    """Tabs, newlines, backslashes and any other character survive COPY's text format."""
    alert_id, contacts = _alert_and_contacts(store, 1)
    [attempt_id] = _attempts(store, alert_id, contacts[:1], ["+33611000000"])
    bulk = Bulk(store.dialect)
    written = [
        (attempt_id, "sent", bulk.ts(at), bulk.ts(NOW), reason, source[:100], '{"k": 1}', "")
        for reason, source, at in rows
    ]
    with store.engine.begin() as conn:
        bulk.insert(conn, EVENT_ROWS, written)
    events = store.attempts.events(attempt_id)
    assert [(e.reason, e.source, e.at, e.data) for e in events] == [
        (reason, source[:100], at, {"k": 1}) for reason, source, at in rows
    ]


def test_a_bulk_update_sets_each_rows_values_and_keeps_what_none_keeps(store: Store) -> None:
    alert_id, contacts = _alert_and_contacts(store, 3)
    ids = _attempts(store, alert_id, contacts, ["a\tb", "c\\d", "e\nf"])
    bulk = Bulk(store.dialect)
    first, later = NOW + dt.timedelta(seconds=1), NOW + dt.timedelta(seconds=2)
    with store.engine.begin() as conn:
        bulk.update(conn, WRITE, [(ids[0], "sent", "why\tnot", bulk.ts(first), bulk.ts(first))])
        # a second update in the same transaction sees only its own rows
        bulk.update(conn, WRITE, [(ids[1], "failed", None, None, bulk.ts(later))])
    with store.engine.begin() as conn:
        bulk.update(conn, WRITE, [(ids[0], "received", None, bulk.ts(later), bulk.ts(later))])
    got = {a.id: a for a in store.attempts.for_alert(alert_id)}
    assert (got[ids[0]].status, got[ids[0]].error, got[ids[0]].completed_at) == ("received", "why\tnot", first)
    assert (got[ids[1]].status, got[ids[1]].error, got[ids[1]].completed_at) == ("failed", "", None)
    assert (got[ids[2]].status, got[ids[2]].address) == ("", "e\nf")


@pytest.mark.parametrize("extra", [0, 1, SQLITE_ROWS - 1])
def test_bulk_writes_of_more_rows_than_one_statement_holds_write_every_row(store: Store, extra: int) -> None:
    """SQLite writes SQLITE_ROWS rows a statement: full chunks and the remainder all land."""
    n = 2 * SQLITE_ROWS + extra
    alert_id, contacts = _alert_and_contacts(store, n)
    ids = _attempts(store, alert_id, contacts, [f"+33611{i:06d}" for i in range(n)])
    assert len(ids) == n
    bulk = Bulk(store.dialect)
    done = NOW + dt.timedelta(minutes=1)
    with store.engine.begin() as conn:
        bulk.update(conn, WRITE, [(aid, f"s{aid}", None, bulk.ts(done), bulk.ts(done)) for aid in ids[1:]])
    got = {a.id: a for a in store.attempts.for_alert(alert_id)}
    assert [got[aid].status for aid in ids] == ["", *(f"s{aid}" for aid in ids[1:])]
    assert [got[aid].address for aid in ids] == [f"+33611{i:06d}" for i in range(n)]
    assert {got[aid].completed_at for aid in ids[1:]} == {done}


def test_among_finds_the_same_rows_as_in(store: Store) -> None:
    alert_id, contacts = _alert_and_contacts(store, 5)
    ids = _attempts(store, alert_id, contacts, [f"+3361100000{i}" for i in range(5)])
    with store.engine.connect() as conn:
        found = conn.execute(select(attempts.c.id).where(among(attempts.c.id, [*ids[1:4], 10**9], store.dialect)))
        assert sorted(found.scalars()) == ids[1:4]
        assert list(conn.execute(select(status_events.c.id).where(among(status_events.c.id, [], store.dialect)))) == []


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(picks=st.lists(st.integers(0, 59), unique=True, max_size=40), far=st.booleans())
def test_among_and_by_id_find_exactly_the_ids_asked_for_close_together_or_not(
    store: Store, picks: list[int], far: bool
) -> None:
    """Ids close together are read as a stretch of the index and filtered (PostgreSQL):
    the filter must still leave out the ids of the stretch that were not asked for."""
    with store.engine.connect() as conn:
        ids = list(conn.execute(select(attempts.c.id).order_by(attempts.c.id)).scalars())
    if len(ids) < 60:
        alert_id, contacts = _alert_and_contacts(store, 60)
        ids = _attempts(store, alert_id, contacts, [f"+33611{i:06d}" for i in range(60)])[:60]
    asked = [ids[i] for i in picks] + ([10**9] if far else [])
    with store.engine.connect() as conn:
        found = conn.execute(select(attempts.c.id).where(among(attempts.c.id, asked, store.dialect)))
        assert sorted(found.scalars()) == sorted(ids[i] for i in picks)
        rows = Bulk(store.dialect).by_id(conn, "attempts", ("id",), asked)
        assert sorted(r[0] for r in rows) == sorted(ids[i] for i in picks)


def test_dense_tells_ids_close_together_from_scattered_ones() -> None:
    assert dense(list(range(100, 2100)))
    assert dense([5, 7, 9, 11])
    assert not dense([1, 10**6])
    assert not dense([42])


def test_a_row_the_database_cannot_take_is_refused_by_position_and_nothing_is_written(store: Store) -> None:
    """A value of a type the column cannot take (a dict for the JSON text of an event)
    stops the batch with an error naming the row; the transaction writes nothing."""
    import sqlite3

    alert_id, contacts = _alert_and_contacts(store, 1)
    (aid,) = _attempts(store, alert_id, contacts, ["+33611000000"])
    bulk = Bulk(store.dialect)
    good = (aid, "sent", bulk.ts(NOW), bulk.ts(NOW), "", "test", "{}", "")
    bad = (aid, "sent", bulk.ts(NOW), bulk.ts(NOW), "", "test", {"a": 1}, "")
    expected: tuple[type[Exception], ...] = (TypeError, sqlite3.ProgrammingError)
    with pytest.raises(expected) as caught, store.engine.begin() as conn:
        bulk.insert(conn, EVENT_ROWS, [good, bad])
    if store.dialect == "postgresql":
        assert "cannot COPY row 1" in str(caught.value)
    assert store.attempts.events(aid) == []


def test_every_column_of_the_bulk_shapes_has_a_binary_copy_type() -> None:
    from tocsin.store.bulk import ATTEMPT_ROWS, AUDIENCE_ROWS, CLAIMED_ATTEMPT_ROWS

    assert EVENT_ROWS.copy_types == ("int4", "text", "timestamptz", "timestamptz", "text", "text", "text", "text")
    assert CLAIMED_ATTEMPT_ROWS.copy_types[0] == "int4" and CLAIMED_ATTEMPT_ROWS.copy_types[-1] == "int4"
    assert len(ATTEMPT_ROWS.copy_types) == len(ATTEMPT_ROWS.columns)
    assert AUDIENCE_ROWS.copy_types == ("int4", "int4", "text")
    assert WRITE.copy_types == ("int4", "text", "text", "timestamptz", "timestamptz")
