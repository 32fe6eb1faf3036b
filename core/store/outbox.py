"""The outbox: attempts waiting to be handed to a channel, claimed under a lease.

An attempt in the outbox has the status ``""``. A dispatcher *claims* due attempts of
one channel: it stamps them with its node name and a lease (``claimed_until``) so that
no other process takes them; when the lease runs out (the process died) they are due
again. On PostgreSQL the claim is ``SELECT ... FOR UPDATE SKIP LOCKED``, so concurrent
engines skip each other's rows; on SQLite the claiming ``UPDATE`` runs under the
database's single write lock, which makes it atomic just the same.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from attrs import frozen
from sqlalchemy import Connection, Engine, and_, bindparam, exists, func, or_, select, text, update

from tocsin.model import Attempt, AttemptKind
from tocsin.status import PENDING
from tocsin.store.schema import alerts, attempts

CLAIM_COLUMNS = (
    attempts.c.id,
    attempts.c.alert_id,
    attempts.c.contact_id,
    attempts.c.means,
    attempts.c.channel,
    attempts.c.address,
    attempts.c.kind,
    attempts.c.round,
    attempts.c.tries,
)


@frozen
class Reschedule:
    """A temporary failure: the attempt goes back to the outbox, due again at ``due_at``."""

    attempt_id: int
    due_at: dt.datetime
    error: str


def _claimed(row: Any) -> Attempt:
    return Attempt(
        id=row.id,
        alert_id=row.alert_id,
        contact_id=row.contact_id,
        means=row.means,
        channel=row.channel,
        address=row.address,
        status=PENDING,
        kind=AttemptKind(row.kind),
        round=row.round,
        tries=row.tries,
    )


OUTBOX = text("attempts.status = ''")
"""The outbox condition, written as the partial index ``ix_attempts_outbox`` states it."""


def _aware(value: Any) -> dt.datetime:
    stamp: dt.datetime = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
    return stamp.replace(tzinfo=dt.UTC) if stamp.tzinfo is None else stamp.astimezone(dt.UTC)


def _free(now: Any) -> Any:
    return or_(attempts.c.claimed_until.is_(None), attempts.c.claimed_until < now)


class Outbox:
    """Claims, leases and reschedules of attempts still in the outbox."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def claim(
        self, channel: str, node: str, *, now: dt.datetime, lease: dt.timedelta, limit: int
    ) -> list[Attempt]:
        """Claim up to ``limit`` due, unclaimed attempts of ``channel`` for ``node``,
        oldest due first; each claim counts one more try."""
        if limit <= 0:
            return []
        due = (
            select(attempts.c.id)
            .where(
                OUTBOX,  # a literal, so that the partial index of the outbox applies
                attempts.c.channel == channel,
                attempts.c.due_at <= now,
                _free(now),
                ~exists().where(alerts.c.id == attempts.c.alert_id, alerts.c.state == "cancelled"),
            )
            .order_by(attempts.c.due_at, attempts.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        stmt = (
            update(attempts)
            .where(attempts.c.id.in_(due.scalar_subquery()))
            .values(claimed_by=node, claimed_until=now + lease, tries=attempts.c.tries + 1)
            .returning(*CLAIM_COLUMNS)
        )
        with self.engine.begin() as conn:
            rows = conn.execute(stmt).all()
        return sorted((_claimed(r) for r in rows), key=lambda a: a.id or 0)

    def reschedule(self, items: Sequence[Reschedule], *, now: dt.datetime, conn: Connection) -> None:
        """Put temporarily failed attempts back in the outbox (lease released)."""
        if not items:
            return
        stmt = (
            update(attempts)
            .where(attempts.c.id == bindparam("_id"), attempts.c.status == PENDING)
            .values(
                due_at=bindparam("_due"),
                error=bindparam("_error"),
                claimed_by=None,
                claimed_until=None,
                updated_at=now,
            )
        )
        conn.execute(stmt, [{"_id": r.attempt_id, "_due": r.due_at, "_error": r.error} for r in items])

    def release(self, ids: Sequence[int]) -> int:
        """Release the leases on attempts claimed but never handed over."""
        released = 0
        with self.engine.begin() as conn:
            for i in range(0, len(ids), 500):
                released += conn.execute(
                    update(attempts)
                    .where(attempts.c.id.in_(list(ids[i : i + 500])), attempts.c.status == PENDING)
                    .values(claimed_by=None, claimed_until=None, tries=attempts.c.tries - 1)
                ).rowcount
        return released

    def release_node(self, node: str, *, now: dt.datetime) -> int:
        """Release every lease ``node`` holds (a restarted engine with a stable node
        name takes its unfinished work back at once instead of waiting for the lease)."""
        with self.engine.begin() as conn:
            return conn.execute(
                update(attempts)
                .where(attempts.c.claimed_by == node, attempts.c.status == PENDING)
                .values(claimed_by=None, claimed_until=None, updated_at=now)
            ).rowcount

    def next_due(self, channels: Sequence[str], *, now: dt.datetime) -> dt.datetime | None:
        """When the next attempt of ``channels`` becomes claimable: the earliest due time
        among free attempts, or the earliest lease expiry (None: nothing waits)."""
        if not channels:
            return None
        pending = and_(attempts.c.status == PENDING, attempts.c.channel.in_(list(channels)))
        with self.engine.connect() as conn:
            free_due = conn.execute(
                select(func.min(attempts.c.due_at)).where(pending, _free(now))
            ).scalar_one_or_none()
            lease_end = conn.execute(
                select(func.min(attempts.c.claimed_until)).where(pending, attempts.c.claimed_until >= now)
            ).scalar_one_or_none()
        found = [_aware(v) for v in (free_due, lease_end) if v is not None]
        return min(found) if found else None

    def pending_for_alert(self, alert_id: int, conn: Connection) -> list[int]:
        """Ids of an alert's attempts still in the outbox and not claimed by anyone now."""
        return list(
            conn.execute(
                select(attempts.c.id).where(
                    and_(attempts.c.alert_id == alert_id, attempts.c.status == PENDING)
                )
            ).scalars()
        )


__all__ = ["Outbox", "Reschedule"]
