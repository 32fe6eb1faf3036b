"""SQL shared by the reports: flags, time arithmetic, streamed rows.

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
    case,
    extract,
    func,
    true,
)

from tocsin.store.schema import attempts

STREAM_CHUNK = 2000


def flag(condition: ColumnElement[bool]) -> ColumnElement[int]:
    """1 where ``condition`` holds, else 0 (NULL counts as false)."""
    return case((condition, 1), else_=0)


def is_reached() -> ColumnElement[bool]:
    reached: ColumnElement[bool] = attempts.c.reached == true()
    return reached


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
