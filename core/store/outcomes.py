"""What an alert achieved, counted by the database (never by loading every attempt).

The counts follow :mod:`tocsin.rules`: a contact of the audience is *contacted* when
one of its attempts has ``reached`` true, *in progress* when none has and one is still
open (``reached`` NULL), else *not contacted* (including contacts with no attempt at all,
for want of an address).
"""

from __future__ import annotations

from sqlalchemy import Connection, Engine, and_, case, exists, func, select, true

from tocsin.rules import OutcomeCounts
from tocsin.store.schema import alert_contacts, attempts


def _per_contact(alert_id: int):  # type: ignore[no-untyped-def]
    """One row per attempted contact: whether one attempt reached it, whether one is open."""
    a = attempts
    return (
        select(
            a.c.contact_id,
            func.max(case((a.c.reached == true(), 1), else_=0)).label("contacted"),
            func.max(case((a.c.reached.is_(None), 1), else_=0)).label("open"),
        )
        .where(a.c.alert_id == alert_id)
        .group_by(a.c.contact_id)
        .subquery()
    )


class Outcomes:
    """Aggregate queries over one alert's audience and attempts."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def counts(self, alert_id: int, conn: Connection | None = None) -> OutcomeCounts:
        """Contacted / in progress / not contacted over the alert's audience."""
        if conn is None:
            with self.engine.connect() as own:
                return self.counts(alert_id, own)
        per = _per_contact(alert_id)
        row = conn.execute(
            select(
                func.coalesce(func.sum(per.c.contacted), 0),
                func.coalesce(func.sum(case((and_(per.c.contacted == 0, per.c.open == 1), 1), else_=0)), 0),
            )
        ).one()
        total = conn.execute(
            select(func.count()).select_from(alert_contacts).where(alert_contacts.c.alert_id == alert_id)
        ).scalar_one()
        contacted, in_progress = int(row[0]), int(row[1])
        # every attempted contact is in the audience; the others were never attempted
        return OutcomeCounts(contacted, in_progress, int(total) - contacted - in_progress)

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
