"""SQL shared by the reports: outcomes per contact, time arithmetic, streamed rows.

Every figure is computed by the database (group by, window functions); Python only
sees aggregates or one page of rows. The expressions work on SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Engine,
    Select,
    Subquery,
    case,
    extract,
    func,
    literal,
    select,
    true,
)

from tocsin.model import Outcome
from tocsin.store.schema import attempts

STREAM_CHUNK = 2000


def flag(condition: ColumnElement[bool]) -> ColumnElement[int]:
    """1 where ``condition`` holds, else 0 (NULL counts as false)."""
    return case((condition, 1), else_=0)


def is_reached() -> ColumnElement[bool]:
    reached: ColumnElement[bool] = attempts.c.reached == true()
    return reached


def contact_outcomes(alert_ids: Sequence[int], *extra: ColumnElement[Any]) -> Subquery:
    """One row per (alert, contact) with attempts: whether any attempt reached the
    contact (``any_reached``) and whether any is still in progress (``any_pending``)."""
    return (
        select(
            attempts.c.alert_id,
            attempts.c.contact_id,
            func.max(flag(is_reached())).label("any_reached"),
            func.max(flag(attempts.c.reached.is_(None))).label("any_pending"),
            *extra,
        )
        .where(attempts.c.alert_id.in_(list(alert_ids)))
        .group_by(attempts.c.alert_id, attempts.c.contact_id)
        .subquery("per_contact")
    )


def outcome_of(any_reached: ColumnElement[Any], any_pending: ColumnElement[Any]) -> ColumnElement[str]:
    """The contact's outcome from its aggregated flags; no attempt at all (NULL flags)
    is *not contacted*."""
    return case(
        (any_reached == 1, literal(str(Outcome.CONTACTED))),
        (any_pending == 1, literal(str(Outcome.IN_PROGRESS))),
        else_=literal(str(Outcome.NOT_CONTACTED)),
    )


def epoch_seconds(value: ColumnElement[Any], dialect: str) -> ColumnElement[float]:
    """Seconds since the Unix epoch of a stored UTC datetime."""
    if dialect == "sqlite":
        return (func.julianday(value) - 2440587.5) * 86400.0
    return cast(ColumnElement[float], extract("epoch", value))


class QueryRows:
    """The rows of a query, streamed from the database each time they are iterated
    (a server-side cursor on PostgreSQL, chunked fetches on SQLite)."""

    def __init__(
        self, engine: Engine, query: Select[Any], convert: Callable[[Any], Sequence[Any]]
    ) -> None:
        self.engine = engine
        self.query = query
        self.convert = convert

    def __iter__(self) -> Iterator[Sequence[Any]]:
        with self.engine.connect() as conn:
            result = conn.execution_options(yield_per=STREAM_CHUNK).execute(self.query)
            for row in result:
                yield self.convert(row)


def local(value: dt.datetime | None, zone: dt.tzinfo) -> dt.datetime | None:
    """A stored UTC time in the deployment's time zone (reports show local times)."""
    return value.astimezone(zone) if value is not None else None
