"""The overview's SQL: few passes, each over a covering index (migrations 0004, 0005).

- attempts by means, status and reached, and failures by reason (``reason``: the
  error's first 200 characters): one pass over ``(alert_id, means, status, reached,
  reason)``;
- contacted and in-progress contacts: ranges of ``(alert_id, reached, contact_id, means)``
  (only the reached and the open attempts are read), the audience from
  ``alert_contacts``; *not contacted* is the rest of the audience;
- contacts attempted and reached per means: ordered distinct counts over
  ``(alert_id, means, contact_id, reached)``, alert by alert;
- the median time to reach of one alert: two index seeks per means on
  ``(alert_id, means, reached, completed_at)``; of several alerts (a campaign): a window
  function over their reaching attempts.

Contacts count per (alert, contact) pair: a contact of two communications counts twice.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import Connection, exists, func, select

from tocsin.plugins.reports.overview_model import (
    Failure,
    MeansReport,
    ReasonCount,
    StatusCount,
)
from tocsin.plugins.reports.sql import epoch_seconds, is_reached
from tocsin.rules import OutcomeCounts
from tocsin.status import PENDING
from tocsin.store.outcomes import Outcomes
from tocsin.store.schema import alert_contacts, alerts, attempts

Labels = dict[str, dict[str, str]]


def _count_pairs(conn: Connection, query: object) -> int:
    return int(conn.execute(select(func.count()).select_from(query)).scalar_one())  # type: ignore[arg-type]


def outcome_counts(conn: Connection, ids: Sequence[int]) -> OutcomeCounts:
    """The pie: contacted, in progress, and the rest of the audience (the store's count,
    the one the engine judges alerts by)."""
    return Outcomes(conn.engine).counts_of(ids, conn)


def not_attempted(conn: Connection, ids: Sequence[int]) -> tuple[ReasonCount, ...]:
    """Audience members with no attempt at all, by the means they had no address for."""
    ac = alert_contacts
    has_attempt = exists().where(attempts.c.alert_id == ac.c.alert_id,
                                 attempts.c.contact_id == ac.c.contact_id)
    rows = conn.execute(
        select(ac.c.missing, func.count())
        .where(ac.c.alert_id.in_(list(ids)), ac.c.missing != "", ~has_attempt)
        .group_by(ac.c.missing)
        .order_by(func.count().desc(), ac.c.missing)
    )
    return tuple(ReasonCount(r[0], int(r[1])) for r in rows)


def _medians_one(conn: Connection, alert_id: int, means: Sequence[str]) -> dict[str, float]:
    start = conn.execute(
        select(func.coalesce(alerts.c.sent_at, alerts.c.created_at)).where(alerts.c.id == alert_id)
    ).scalar_one_or_none()
    if isinstance(start, str):  # SQLite hands back a coalesce() of datetimes as text
        start = dt.datetime.fromisoformat(start)
    if start is None:
        return {}
    start = start if start.tzinfo else start.replace(tzinfo=dt.UTC)
    found: dict[str, float] = {}
    for m in means:
        base = select(attempts.c.completed_at).where(
            attempts.c.alert_id == alert_id, attempts.c.means == m, is_reached(),
            attempts.c.completed_at.is_not(None))
        n = _count_pairs(conn, base.subquery())
        if not n:
            continue
        middle = conn.execute(
            base.order_by(attempts.c.completed_at).offset((n - 1) // 2).limit(2 - n % 2)
        ).scalars().all()
        median = middle[0] + (middle[-1] - middle[0]) / 2
        found[m] = (median - start).total_seconds()
    return found


def _medians_many(conn: Connection, ids: Sequence[int]) -> dict[str, float]:
    dialect = conn.dialect.name
    start = func.coalesce(alerts.c.sent_at, alerts.c.created_at)
    reach = (
        select(attempts.c.means,
               (epoch_seconds(attempts.c.completed_at, dialect) - epoch_seconds(start, dialect))
               .label("seconds"))
        .join(alerts, alerts.c.id == attempts.c.alert_id)
        .where(attempts.c.alert_id.in_(list(ids)), is_reached(), attempts.c.completed_at.is_not(None))
        .subquery("reach")
    )
    ranked = select(
        reach.c.means, reach.c.seconds,
        func.row_number().over(partition_by=reach.c.means, order_by=reach.c.seconds).label("rn"),
        func.count().over(partition_by=reach.c.means).label("n"),
    ).subquery("ranked")
    rows = conn.execute(
        select(ranked.c.means, func.avg(ranked.c.seconds))
        .where(ranked.c.rn.in_([(ranked.c.n + 1) // 2, (ranked.c.n + 2) // 2]))
        .group_by(ranked.c.means)
    )
    return {r[0]: float(r[1]) for r in rows}


def medians(conn: Connection, ids: Sequence[int], means: Sequence[str]) -> dict[str, float]:
    """Median seconds from the alert's start to the completion of a reaching attempt."""
    if len(ids) == 1:
        return _medians_one(conn, ids[0], means)
    return _medians_many(conn, ids) if ids else {}


def contacts_by_means(conn: Connection, ids: Sequence[int], means: Sequence[str], *,
                      reached: bool = False) -> dict[str, int]:
    """Contacts attempted (or reached) by each means: distinct contacts read in the order
    of ``(alert_id, means, contact_id, reached)``, one alert and one means at a time."""
    found = dict.fromkeys(means, 0)
    for alert_id in ids:
        for m in means:
            conds = [attempts.c.alert_id == alert_id, attempts.c.means == m]
            if reached:
                conds.append(is_reached())
            distinct = select(attempts.c.contact_id).where(*conds).distinct().subquery()
            found[m] += _count_pairs(conn, distinct)
    return found


def means_reports(conn: Connection, ids: Sequence[int], labels: Labels) -> tuple[MeansReport, ...]:
    """The figures of every means used by the alerts ``ids``."""
    ids = list(ids)

    def label(means: str, status: str) -> str:
        return "waiting" if status == PENDING else labels.get(means, {}).get(status, status)

    statuses: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    failures: dict[str, list[Failure]] = defaultdict(list)
    for means, status, reached, reason, count in conn.execute(
        select(attempts.c.means, attempts.c.status, attempts.c.reached, attempts.c.reason, func.count())
        .where(attempts.c.alert_id.in_(ids))
        .group_by(attempts.c.means, attempts.c.status, attempts.c.reached, attempts.c.reason)
    ):
        count = int(count)
        statuses[means][status] += count
        t = totals[means]
        t[0] += count
        t[1] += count if reached is True else 0
        t[2] += count if reached is None else 0
        if reached is False:
            failures[means].append(Failure(status, label(means, status), reason or "", count))

    used = sorted(totals)
    contacts = contacts_by_means(conn, ids, used)
    reached_contacts = contacts_by_means(conn, ids, used, reached=True)

    found_medians = medians(conn, ids, used)
    reports = []
    for means in used:
        total, reached, pending = totals[means]
        n_contacts, n_reached = contacts.get(means, 0), reached_contacts.get(means, 0)
        by_status = sorted(statuses[means].items(), key=lambda kv: (-kv[1], kv[0]))
        reports.append(MeansReport(
            means=means,
            attempts=total,
            attempts_reached=reached,
            attempts_in_progress=pending,
            contacts=n_contacts,
            contacts_reached=n_reached,
            reached_share=n_reached / n_contacts if n_contacts else 0.0,
            median_seconds_to_reach=found_medians.get(means),
            statuses=tuple(StatusCount(s, label(means, s), c) for s, c in by_status),
            failures=tuple(sorted(failures[means], key=lambda f: (-f.count, f.status, f.reason))),
        ))
    return tuple(reports)


__all__ = ["means_reports", "medians", "not_attempted", "outcome_counts"]
