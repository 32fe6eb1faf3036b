"""Bulk writes straight to the driver, for the engine's hot paths.

SQLAlchemy Core processes every parameter of every row of an ``executemany`` (type
coercion, datetime formatting); for hundreds of thousands of attempts and status events
that costs more than the database itself. These helpers prepare plain tuples once — in
exactly the storage format SQLAlchemy's types would produce — and hand them to the
driver's ``executemany``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection


class Bulk:
    """Statement and value formatting for one dialect (``sqlite`` or ``postgresql``)."""

    def __init__(self, dialect: str) -> None:
        self.sqlite = dialect == "sqlite"

    def ts(self, value: dt.datetime | None) -> Any:
        """A datetime as the store keeps it (naive UTC text on SQLite, aware on PostgreSQL)."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r} given to the store; use aware UTC times")
        if self.sqlite:
            if value.tzinfo is not dt.UTC:
                value = value.astimezone(dt.UTC)
            return value.replace(tzinfo=None).isoformat(" ", "microseconds")
        return value

    def flag(self, value: bool | None) -> Any:
        if value is None or not self.sqlite:
            return value
        return 1 if value else 0

    def sql(self, statement: str) -> str:
        """``?`` placeholders in the driver's style."""
        return statement if self.sqlite else statement.replace("?", "%s")

    def executemany(self, conn: Connection, statement: str, rows: Sequence[tuple[Any, ...]]) -> None:
        if rows:
            conn.exec_driver_sql(self.sql(statement), list(rows))

    def select(self, conn: Connection, statement: str, params: tuple[Any, ...] = ()) -> list[Any]:
        return list(conn.exec_driver_sql(self.sql(statement), params).fetchall())


INSERT_ATTEMPT = (
    "INSERT INTO attempts (alert_id, contact_id, means, channel, address, kind, round, status, reached,"
    " error, provider_ref, tries, anomalies, created_at, due_at, updated_at)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, '', NULL, '', NULL, 0, 0, ?, ?, ?)"
)

INSERT_EVENT = (
    "INSERT INTO status_events (attempt_id, status, at, received_at, reason, source, data, anomaly)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)

__all__ = ["INSERT_ATTEMPT", "INSERT_EVENT", "Bulk"]
