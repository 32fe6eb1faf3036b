"""Timers: work that falls due later (or now), kept as rows so a restart keeps it.

The engine keeps every piece of alert work as a timer: the initial fan-out, each
reminder round, each escalation step, an operator's recontact. A timer is claimed under
a lease like an attempt (``SKIP LOCKED`` on PostgreSQL); long work records its progress
in ``payload`` (a cursor) in the same transaction as what it wrote, so a crash resumes it
where it stopped, and it is marked done in the transaction that writes its last page.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from attrs import field, frozen
from sqlalchemy import Connection, Engine, func, insert, or_, select, update

from tocsin.store.schema import timers


@frozen
class Timer:
    """One stored timer."""

    id: int
    kind: str
    alert_id: int | None
    due_at: dt.datetime
    payload: Mapping[str, Any] = field(factory=dict)
    done_at: dt.datetime | None = None


def _to_timer(row: Any) -> Timer:
    return Timer(row.id, row.kind, row.alert_id, row.due_at, dict(row.payload or {}), row.done_at)


def _free(now: dt.datetime) -> Any:
    return or_(timers.c.claimed_until.is_(None), timers.c.claimed_until < now)


class Timers:
    """The timers repository."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def add(
        self,
        kind: str,
        alert_id: int | None,
        due_at: dt.datetime,
        payload: Mapping[str, Any],
        *,
        now: dt.datetime,
        conn: Connection,
    ) -> int:
        return int(
            conn.execute(
                insert(timers).returning(timers.c.id),
                {
                    "kind": kind,
                    "alert_id": alert_id,
                    "due_at": due_at,
                    "payload": dict(payload),
                    "created_at": now,
                },
            ).scalar_one()
        )

    def claim_due(
        self, node: str, *, now: dt.datetime, lease: dt.timedelta, limit: int = 20
    ) -> list[Timer]:
        """Claim due timers (earliest first) for ``node`` under a lease."""
        due = (
            select(timers.c.id)
            .where(timers.c.done_at.is_(None), timers.c.due_at <= now, _free(now))
            .order_by(timers.c.due_at, timers.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        stmt = (
            update(timers)
            .where(timers.c.id.in_(due.scalar_subquery()))
            .values(claimed_by=node, claimed_until=now + lease)
            .returning(timers)
        )
        with self.engine.begin() as conn:
            rows = conn.execute(stmt).all()
        return sorted((_to_timer(r) for r in rows), key=lambda t: (t.due_at, t.id))

    def extend(self, timer_id: int, node: str, until: dt.datetime, conn: Connection) -> bool:
        """Renew ``node``'s lease on a timer; False when the lease was lost to another node."""
        return bool(
            conn.execute(
                update(timers)
                .where(timers.c.id == timer_id, timers.c.claimed_by == node, timers.c.done_at.is_(None))
                .values(claimed_until=until)
            ).rowcount
        )

    def is_done(self, timer_id: int, conn: Connection) -> bool:
        """Whether the timer was closed (done), or no longer exists."""
        done = conn.execute(select(timers.c.done_at).where(timers.c.id == timer_id)).one_or_none()
        return done is None or done[0] is not None

    def progress(self, timer_id: int, payload: Mapping[str, Any], conn: Connection) -> None:
        """Record a timer's progress (its cursor) in the caller's transaction."""
        conn.execute(update(timers).where(timers.c.id == timer_id).values(payload=dict(payload)))

    def complete(self, timer_id: int, *, now: dt.datetime, conn: Connection) -> None:
        conn.execute(
            update(timers)
            .where(timers.c.id == timer_id)
            .values(done_at=now, claimed_by=None, claimed_until=None)
        )

    def release(self, timer_id: int) -> None:
        """Give a claimed timer back (it runs again at the next tick)."""
        with self.engine.begin() as conn:
            conn.execute(
                update(timers).where(timers.c.id == timer_id).values(claimed_by=None, claimed_until=None)
            )

    def release_node(self, node: str) -> int:
        with self.engine.begin() as conn:
            return conn.execute(
                update(timers)
                .where(timers.c.claimed_by == node, timers.c.done_at.is_(None))
                .values(claimed_by=None, claimed_until=None)
            ).rowcount

    def close_for_alert(
        self, alert_id: int, *, now: dt.datetime, conn: Connection, kinds: tuple[str, ...] = ()
    ) -> int:
        """Mark an alert's open timers done (cancel, target met); ``kinds`` limits which."""
        cond = [timers.c.alert_id == alert_id, timers.c.done_at.is_(None)]
        if kinds:
            cond.append(timers.c.kind.in_(kinds))
        return conn.execute(
            update(timers).where(*cond).values(done_at=now, claimed_by=None, claimed_until=None)
        ).rowcount

    def for_alert(self, alert_id: int, conn: Connection | None = None) -> list[Timer]:
        if conn is None:
            with self.engine.connect() as own:
                return self.for_alert(alert_id, own)
        query = select(timers).where(timers.c.alert_id == alert_id).order_by(timers.c.due_at, timers.c.id)
        return [_to_timer(r) for r in conn.execute(query)]

    def open_count(self, alert_id: int, conn: Connection) -> int:
        return int(
            conn.execute(
                select(func.count())
                .select_from(timers)
                .where(timers.c.alert_id == alert_id, timers.c.done_at.is_(None))
            ).scalar_one()
        )

    def next_due(self, *, now: dt.datetime) -> dt.datetime | None:
        """When the next open timer becomes claimable (due, or its lease expires)."""
        with self.engine.connect() as conn:
            free = conn.execute(
                select(func.min(timers.c.due_at)).where(timers.c.done_at.is_(None), _free(now))
            ).scalar_one_or_none()
            lease = conn.execute(
                select(func.min(timers.c.claimed_until)).where(
                    timers.c.done_at.is_(None), timers.c.claimed_until >= now
                )
            ).scalar_one_or_none()
        found = [v for v in (free, lease) if v is not None]
        return min(found) if found else None


__all__ = ["Timer", "Timers"]
