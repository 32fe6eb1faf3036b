"""Closing an alert's waiting attempts (cancel, target met): written at once, durably.

Only attempts still in the outbox and not held by a live lease are closed, and those
this process holds queued but has not handed over (``held``, taken out of its queues):
attempts a dispatcher holds elsewhere, or hands over now, are in flight and finish on
their own.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from sqlalchemy import Connection, bindparam, insert, or_, select, update

from tocsin.model import AttemptChange
from tocsin.rules import failure_state
from tocsin.status import PENDING, StatusMachine
from tocsin.store.filters import among, chunks
from tocsin.store.schema import attempts, status_events

CHUNK = 10_000
"""Held ids per ``IN`` list (SQLite takes at most 32,766 parameters in a statement)."""


def close_pending(
    conn: Connection,
    alert_id: int,
    reason: str,
    now: dt.datetime,
    machines: Mapping[str, StatusMachine],
    held: Sequence[int] = (),
) -> list[AttemptChange]:
    """Move the alert's free outbox attempts, and the ``held`` ones, to their failure
    state with ``reason``."""
    dialect = conn.dialect.name
    free = or_(attempts.c.claimed_until.is_(None), attempts.c.claimed_until < now)
    wanted = [free, *(among(attempts.c.id, part, dialect) for part in chunks(held, CHUNK))]
    rows = conn.execute(
        select(attempts.c.id, attempts.c.contact_id, attempts.c.means).where(
            attempts.c.alert_id == alert_id,
            attempts.c.status == PENDING,
            or_(*wanted),
        )
        .order_by(attempts.c.id)  # rows locked in id order, as the status applier does
    ).all()
    if not rows:
        return []
    changes = [
        AttemptChange(
            attempt_id=r.id,
            alert_id=alert_id,
            contact_id=r.contact_id,
            means=r.means,
            old_status=PENDING,
            new_status=failure_state(machines[r.means]),
            at=now,
            reached=False,
        )
        for r in rows
    ]
    conn.execute(
        update(attempts)
        .where(attempts.c.id == bindparam("_id"), attempts.c.status == PENDING)
        .values(
            status=bindparam("_status"),
            reached=False,
            error=reason,
            completed_at=now,
            updated_at=now,
            claimed_by=None,
            claimed_until=None,
        ),
        [{"_id": c.attempt_id, "_status": c.new_status} for c in changes],
    )
    conn.execute(
        insert(status_events),
        [
            {
                "attempt_id": c.attempt_id,
                "status": c.new_status,
                "at": now,
                "received_at": now,
                "reason": reason,
                "source": "engine",
                "data": {},
                "anomaly": "",
            }
            for c in changes
        ],
    )
    return changes


__all__ = ["close_pending"]
