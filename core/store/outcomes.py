"""What an alert achieved, counted by the database (never by loading every attempt).

The counts follow :mod:`tocsin.rules`: a contact of the audience is *contacted* when
one of its attempts has ``reached`` true, *in progress* when none has and one is still
open (``reached`` NULL), else *not contacted* (including contacts with no attempt at all,
for want of an address).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Engine, Select, exists, func, select, true

from tocsin.rules import OutcomeCounts
from tocsin.store.schema import alert_contacts, attempts


def _count(conn: Connection, query: Select[Any]) -> int:
    return int(conn.execute(select(func.count()).select_from(query.subquery())).scalar_one())


class Outcomes:
    """Aggregate queries over one alert's audience and attempts."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def counts(self, alert_id: int, conn: Connection | None = None) -> OutcomeCounts:
        """Contacted / in progress / not contacted over the alert's audience."""
        return self.counts_of([alert_id], conn)

    def counts_of(self, alert_ids: Sequence[int], conn: Connection | None = None) -> OutcomeCounts:
        """The same over several alerts taken together (a campaign): a contact of two
        alerts counts twice. Reads only the reached and the open attempts, over the
        ``(alert_id, reached, contact_id, means)`` index, and the audience's count."""
        if conn is None:
            with self.engine.connect() as own:
                return self.counts_of(alert_ids, own)
        ids = list(alert_ids)
        a = attempts
        reached = a.c.reached == true()
        contacted = _count(conn, (
            select(a.c.alert_id, a.c.contact_id).where(a.c.alert_id.in_(ids), reached).distinct()
        ))
        b = attempts.alias("b")
        reached_too = exists().where(
            b.c.alert_id == a.c.alert_id, b.c.contact_id == a.c.contact_id, b.c.reached == true()
        )
        in_progress = _count(conn, (
            select(a.c.alert_id, a.c.contact_id)
            .where(a.c.alert_id.in_(ids), a.c.reached.is_(None), ~reached_too)
            .distinct()
        ))
        audience = int(conn.execute(
            select(func.count()).select_from(alert_contacts).where(alert_contacts.c.alert_id.in_(ids))
        ).scalar_one())
        # every attempted contact is in the audience; the others were never attempted
        return OutcomeCounts(contacted, in_progress, max(audience - contacted - in_progress, 0))

    def contacted(self, alert_id: int, conn: Connection) -> int:
        """How many distinct contacts have a reached attempt."""
        return int(
            conn.execute(
                select(func.count(func.distinct(attempts.c.contact_id))).where(
                    attempts.c.alert_id == alert_id, attempts.c.reached == true()
                )
            ).scalar_one()
        )

    def has_open_attempts(self, alert_id: int, conn: Connection) -> bool:
        """Whether an attempt of the alert can still change its outcome (reached NULL)."""
        return bool(
            conn.execute(
                select(
                    exists().where(attempts.c.alert_id == alert_id, attempts.c.reached.is_(None))
                )
            ).scalar_one()
        )

    def open_attempts(self, alert_id: int, conn: Connection) -> int:
        """How many of the alert's attempts can still change its outcome (reached NULL)."""
        return int(
            conn.execute(
                select(func.count()).where(attempts.c.alert_id == alert_id, attempts.c.reached.is_(None))
            ).scalar_one()
        )

    def statuses(self, alert_id: int, conn: Connection | None = None) -> dict[str, dict[str, int]]:
        """Attempts by means and status (``""`` is waiting in the outbox)."""
        if conn is None:
            with self.engine.connect() as own:
                return self.statuses(alert_id, own)
        result: dict[str, dict[str, int]] = {}
        query = (
            select(attempts.c.means, attempts.c.status, func.count())
            .where(attempts.c.alert_id == alert_id)
            .group_by(attempts.c.means, attempts.c.status)
        )
        for means, status, n in conn.execute(query):
            result.setdefault(means, {})[status] = int(n)
        return result


__all__ = ["Outcomes"]
