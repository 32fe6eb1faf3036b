"""Attempts and their status events, written in bulk.

An attempt is written before it is handed to a channel (the durable outbox); status
changes and events arrive in batches and are written in one transaction per batch.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from attrs import frozen
from sqlalchemy import Connection, Engine, bindparam, func, insert, select, update

from tocsin.clock import UTC
from tocsin.errors import NotFoundError
from tocsin.model import Attempt, AttemptKind, StatusEvent
from tocsin.store.filters import chunks
from tocsin.store.schema import attempts, status_events

CHUNK = 1000


@frozen
class StatusUpdate:
    """A status change to write; ``None`` fields keep their stored value."""

    attempt_id: int
    status: str
    at: dt.datetime
    reached: bool | None = None
    error: str | None = None
    provider_ref: str | None = None
    sent_at: dt.datetime | None = None
    completed_at: dt.datetime | None = None


def attempt_row(a: Attempt, now: dt.datetime) -> dict[str, Any]:
    return {
        "alert_id": a.alert_id,
        "contact_id": a.contact_id,
        "means": a.means,
        "channel": a.channel,
        "address": a.address,
        "kind": str(a.kind),
        "round": a.round,
        "status": a.status,
        "reached": a.reached,
        "error": a.error,
        "provider_ref": a.provider_ref,
        "tries": a.tries,
        "created_at": a.created_at or now,
        "due_at": a.due_at or a.created_at or now,
        "sent_at": a.sent_at,
        "completed_at": a.completed_at,
        "updated_at": now,
    }


def to_attempt(row: Any) -> Attempt:
    return Attempt(
        id=row.id,
        alert_id=row.alert_id,
        contact_id=row.contact_id,
        means=row.means,
        channel=row.channel,
        address=row.address,
        kind=AttemptKind(row.kind),
        round=row.round,
        status=row.status,
        reached=row.reached,
        error=row.error,
        provider_ref=row.provider_ref,
        tries=row.tries,
        created_at=row.created_at,
        due_at=row.due_at,
        sent_at=row.sent_at,
        completed_at=row.completed_at,
        updated_at=row.updated_at,
    )


def to_event(row: Any) -> StatusEvent:
    return StatusEvent(
        id=row.id,
        attempt_id=row.attempt_id,
        status=row.status,
        at=row.at,
        reason=row.reason,
        source=row.source,
        data=row.data or {},
        anomaly=row.anomaly,
    )


_UPDATE = (
    update(attempts)
    .where(attempts.c.id == bindparam("_id"))
    .values(
        status=bindparam("_status"),
        updated_at=bindparam("_at"),
        reached=bindparam("_reached"),
        error=func.coalesce(bindparam("_error", type_=attempts.c.error.type), attempts.c.error),
        provider_ref=func.coalesce(
            bindparam("_provider_ref", type_=attempts.c.provider_ref.type), attempts.c.provider_ref
        ),
        sent_at=func.coalesce(attempts.c.sent_at, bindparam("_sent_at", type_=attempts.c.sent_at.type)),
        completed_at=func.coalesce(
            attempts.c.completed_at, bindparam("_completed_at", type_=attempts.c.completed_at.type)
        ),
    )
)


class Attempts:
    """The attempts repository."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sequence: str | None = None

    def next_ids(self, n: int, conn: Connection) -> list[int]:
        """``n`` ids from the attempts' sequence (PostgreSQL), for rows written with
        explicit ids. The sequence is named in the statement as a constant: looked up in
        it, ``pg_get_serial_sequence`` would run once per id."""
        if self._sequence is None:
            name = conn.exec_driver_sql("SELECT pg_get_serial_sequence('attempts', 'id')").scalar_one()
            self._sequence = str(name).replace("'", "''")
        query = f"SELECT nextval('{self._sequence}'::regclass) FROM generate_series(1, %(n)s)"
        return [int(v) for v in conn.exec_driver_sql(query, {"n": n}).scalars()]

    def insert_many(
        self,
        items: Sequence[Attempt],
        *,
        now: dt.datetime | None = None,
        conn: Connection | None = None,
        returning: bool = True,
    ) -> list[int]:
        """Write attempts in one transaction; returns their ids in order (if asked)."""
        if conn is None:
            with self.engine.begin() as own:
                return self.insert_many(items, now=now, conn=own, returning=returning)
        now = now or dt.datetime.now(UTC)
        ids: list[int] = []
        for chunk in chunks(items, CHUNK):
            rows = [attempt_row(a, now) for a in chunk]
            if returning:
                ids.extend(
                    conn.execute(
                        insert(attempts).returning(attempts.c.id, sort_by_parameter_order=True), rows
                    ).scalars()
                )
            else:
                conn.execute(insert(attempts), rows)
        return ids

    def update_statuses(self, updates: Sequence[StatusUpdate], conn: Connection | None = None) -> int:
        """Write status changes in one transaction (executemany); returns rows changed."""
        if conn is None:
            with self.engine.begin() as own:
                return self.update_statuses(updates, own)
        changed = 0
        for chunk in chunks(updates, 2000):
            params = [
                {
                    "_id": u.attempt_id,
                    "_status": u.status,
                    "_at": u.at,
                    "_reached": u.reached,
                    "_error": u.error,
                    "_provider_ref": u.provider_ref,
                    "_sent_at": u.sent_at,
                    "_completed_at": u.completed_at,
                }
                for u in chunk
            ]
            result = conn.execute(_UPDATE, params)
            changed += max(result.rowcount, 0)
        return changed

    def insert_events(
        self, events: Sequence[StatusEvent], *, now: dt.datetime, conn: Connection | None = None
    ) -> None:
        """Record status events (applied, absorbed or refused) in one transaction; an
        event naming no existing attempt is refused, and nothing is written (the table
        has no foreign key to say so: see migration 0011)."""
        if conn is None:
            with self.engine.begin() as own:
                return self.insert_events(events, now=now, conn=own)
        if any(e.attempt_id is None for e in events):
            raise ValueError("a status event to record names no attempt (attempt_id is None)")
        named = {e.attempt_id for e in events if e.attempt_id is not None}
        found: set[int] = set()
        for part in chunks(sorted(named), CHUNK):
            found.update(conn.execute(select(attempts.c.id).where(attempts.c.id.in_(part))).scalars())
        if missing := named - found:
            shown = ", ".join(str(i) for i in sorted(missing)[:10])
            raise NotFoundError(f"status events name attempts that do not exist: {shown}")
        rows = [
            {
                "attempt_id": e.attempt_id,
                "status": e.status,
                "at": e.at,
                "received_at": now,
                "reason": e.reason,
                "source": e.source,
                "data": dict(e.data),
                "anomaly": e.anomaly,
            }
            for e in events
        ]
        for chunk in chunks(rows, 2000):
            conn.execute(insert(status_events), list(chunk))
        if anomalous := [e.attempt_id for e in events if e.anomaly]:
            conn.execute(
                update(attempts)
                .where(attempts.c.id == bindparam("_id"))
                .values(anomalies=attempts.c.anomalies + 1),
                [{"_id": a} for a in anomalous],
            )
        return None

    def get(self, attempt_id: int, conn: Connection | None = None) -> Attempt:
        if conn is None:
            with self.engine.connect() as own:
                return self.get(attempt_id, own)
        row = conn.execute(select(attempts).where(attempts.c.id == attempt_id)).one_or_none()
        if row is None:
            raise NotFoundError(f"no attempt with id {attempt_id}")
        return to_attempt(row)

    def load(self, ids: Sequence[int], conn: Connection) -> dict[int, Attempt]:
        found: dict[int, Attempt] = {}
        for chunk in chunks(list(ids), 500):
            for row in conn.execute(select(attempts).where(attempts.c.id.in_(chunk))):
                found[row.id] = to_attempt(row)
        return found

    def by_provider_ref(self, channel: str, provider_ref: str, conn: Connection | None = None) -> Attempt:
        if conn is None:
            with self.engine.connect() as own:
                return self.by_provider_ref(channel, provider_ref, own)
        row = conn.execute(
            select(attempts).where(attempts.c.channel == channel, attempts.c.provider_ref == provider_ref)
        ).first()
        if row is None:
            raise NotFoundError(f"no attempt of channel {channel!r} with reference {provider_ref!r}")
        return to_attempt(row)

    def for_alert(self, alert_id: int) -> list[Attempt]:
        """Every attempt of an alert, in id order (for small alerts and tests)."""
        with self.engine.connect() as conn:
            return [
                to_attempt(r)
                for r in conn.execute(
                    select(attempts).where(attempts.c.alert_id == alert_id).order_by(attempts.c.id)
                )
            ]

    def events(self, attempt_id: int) -> list[StatusEvent]:
        with self.engine.connect() as conn:
            return [
                to_event(r)
                for r in conn.execute(
                    select(status_events)
                    .where(status_events.c.attempt_id == attempt_id)
                    .order_by(status_events.c.id)
                )
            ]
