"""Bulk writes straight to the driver, for the engine's hot paths.

SQLAlchemy Core processes every parameter of every row of an ``executemany`` (type
coercion, datetime formatting); for hundreds of thousands of attempts and status events
that costs more than the database itself. These helpers prepare plain tuples once — in
exactly the storage format SQLAlchemy's types would produce — and hand them to the
driver.

On PostgreSQL, rows go in with ``COPY`` and many rows are updated by one ``UPDATE ...
FROM`` a temporary table filled by ``COPY``: the server then runs one statement per batch
instead of one per row, which is what it spends its time on otherwise. On SQLite (in
process, no round trips) rows go :data:`SQLITE_ROWS` at a time in one statement (a
``VALUES`` list): a quarter cheaper than an ``executemany`` of one-row statements, and
the sqlite3 module releases and retakes the GIL once per statement instead of once per
row, which the engine's other threads feel.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence
from typing import Any

from attrs import frozen
from sqlalchemy import JSON, BigInteger, Boolean, Connection, DateTime, Integer, String
from sqlalchemy.types import TypeDecorator

from tocsin.store.filters import dense
from tocsin.store.schema import metadata

SQLITE_ROWS = 200
"""Rows per multi-row statement on SQLite (measured: 50 is slower, 1,000 no faster; the
statement cache keeps the two texts a batch uses, a full chunk and its remainder)."""


def _values(columns: int, rows: int) -> str:
    one = "(" + ", ".join("?" * columns) + ")"
    return ", ".join(itertools.repeat(one, rows))


@frozen
class RowShape:
    """Rows of ``columns`` inserted into ``table`` (the other columns take their defaults)."""

    table: str
    columns: tuple[str, ...]

    def insert_sql(self, rows: int = 1) -> str:
        """``rows`` rows in one statement."""
        values = _values(len(self.columns), rows)
        return f"INSERT INTO {self.table} ({', '.join(self.columns)}) VALUES {values}"

    @property
    def copy_sql(self) -> str:
        return f"COPY {self.table} ({', '.join(self.columns)}) FROM STDIN (FORMAT BINARY)"

    @property
    def copy_types(self) -> tuple[str, ...]:
        """The columns' types as binary COPY writes them (from the schema)."""
        table = metadata.tables[self.table]
        return tuple(
            _binary_type(table.c[name.strip('"')].type, f"{self.table}.{name}") for name in self.columns
        )


@frozen
class RowUpdate:
    """Many rows of ``table`` updated by id, each with its own values.

    ``columns`` are the row's values after the id, with their PostgreSQL types (the
    staging table's); ``assign`` is the ``SET`` list, in which ``new.<column>`` is the
    row's value and ``old.<column>`` the stored one:
    ``"status = new.status, error = COALESCE(new.error, old.error)"``.
    """

    table: str
    columns: tuple[tuple[str, str], ...]
    assign: str

    @property
    def staging(self) -> str:
        return f"tocsin_staged_{self.table}"

    def values_sql(self, rows: int) -> str:
        """``rows`` rows updated by one statement on SQLite: ``UPDATE ... FROM`` a
        ``VALUES`` list whose columns are named as ``new.<column>`` expects."""
        names = ["id"] + [name for name, _ in self.columns]
        named = ", ".join(f"column{i} AS {name}" for i, name in enumerate(names, start=1))
        return (
            f"UPDATE {self.table} AS old SET {self.assign}"
            f" FROM (SELECT {named} FROM (VALUES {_values(len(names), rows)})) AS new"
            " WHERE old.id = new.id"
        )

    @property
    def copy_sql(self) -> str:
        names = ", ".join(["id"] + [name for name, _ in self.columns])
        return f"COPY {self.staging} ({names}) FROM STDIN (FORMAT BINARY)"

    @property
    def copy_types(self) -> tuple[str, ...]:
        """The staging table's column types as binary COPY writes them."""
        return ("int4", *(_STAGING_TYPES[kind.split("(")[0]] for _, kind in self.columns))

    @property
    def create_staging_sql(self) -> str:
        cols = ", ".join(["id integer"] + [f"{name} {kind}" for name, kind in self.columns])
        return f"CREATE TEMPORARY TABLE IF NOT EXISTS {self.staging} ({cols}) ON COMMIT DELETE ROWS"

    @property
    def update_from_sql(self) -> str:
        return (
            f"UPDATE {self.table} AS old SET {self.assign}"
            f" FROM {self.staging} AS new"
            " WHERE old.id = new.id AND old.id BETWEEN %s::integer AND %s::integer"
        )


class Bulk:
    """Statement and value formatting for one dialect (``sqlite`` or ``postgresql``)."""

    def __init__(self, dialect: str) -> None:
        self.sqlite = dialect == "sqlite"
        # a batch stamps many rows with the same time (its "now"): the last one is kept;
        # a dict of them would cost more than it saves, hashing an aware datetime is slow
        self._last: dt.datetime | None = None
        self._last_stamp: Any = None

    def ts(self, value: dt.datetime | None) -> Any:
        """A datetime as the store keeps it (naive UTC text on SQLite, aware on PostgreSQL)."""
        if value is None:
            return None
        if value is self._last:
            return self._last_stamp
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r} given to the store; use aware UTC times")
        if not self.sqlite:
            return value
        utc = value if value.tzinfo is dt.UTC else value.astimezone(dt.UTC)
        # "YYYY-MM-DD HH:MM:SS.ffffff" and "+00:00" cut off: cheaper than a replace()
        stamp = utc.isoformat(" ", "microseconds")[:26]
        self._last, self._last_stamp = value, stamp
        return stamp

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

    def write_lock(self, conn: Connection) -> None:
        """Begin ``conn``'s transaction holding the database's write lock (SQLite's
        ``BEGIN IMMEDIATE``), so that what it reads next stays as read until it commits.
        The driver would otherwise begin only at the first write, and another process
        could change the rows read before it in the meantime. On PostgreSQL rows are
        locked as they are read (``by_id(lock=True)``): nothing to do here."""
        if self.sqlite and not _driver(conn).in_transaction:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

    def by_id(
        self, conn: Connection, table: str, columns: Sequence[str], ids: Sequence[int], *, lock: bool = False
    ) -> list[Any]:
        """The rows of ``table`` whose id is in ``ids``, as the driver returns them (plain
        tuples of ``columns``, no type processing: SQLite's booleans come back as 0/1).
        With ``lock``, PostgreSQL locks them for update until the transaction ends (in
        id order: two transactions locking overlapping rows wait, never deadlock); on
        SQLite take :meth:`write_lock` first."""
        out: list[Any] = []
        head = f"SELECT {', '.join(columns)} FROM {table} WHERE id "
        cursor = _driver(conn).cursor()
        try:
            if self.sqlite:
                for i in range(0, len(ids), 500):  # larger IN lists cost SQLite more per id
                    chunk = ids[i : i + 500]
                    cursor.execute(head + "IN (" + ", ".join("?" * len(chunk)) + ")", tuple(chunk))
                    out.extend(cursor.fetchall())
            elif ids:
                tail = " ORDER BY id FOR UPDATE" if lock else ""
                # typed: psycopg sends small ints as smallint, and the planner neither
                # hashes an array of another type than the column nor prices it well
                if dense(ids):  # their stretch of the index, filtered (see filters.among)
                    where = "BETWEEN %s::integer AND %s::integer AND (id = ANY(%s::integer[])) IS TRUE"
                    cursor.execute(head + where + tail, (min(ids), max(ids), list(ids)))
                else:
                    cursor.execute(head + "= ANY(%s::integer[])" + tail, (list(ids),))
                out.extend(cursor.fetchall())
        finally:
            cursor.close()
        return out

    def insert(self, conn: Connection, shape: RowShape, rows: Sequence[tuple[Any, ...]]) -> None:
        """Insert ``rows`` (tuples in ``shape.columns`` order) in the connection's transaction."""
        if not rows:
            return
        if self.sqlite:
            _sqlite_chunks(conn, shape.insert_sql, rows)
            return
        with _driver(conn).cursor() as cursor:
            _copy(cursor, shape.copy_sql, shape.copy_types, rows)

    def update(self, conn: Connection, change: RowUpdate, rows: Sequence[tuple[Any, ...]]) -> None:
        """Update rows by id: each tuple is ``(id, *values in change.columns order)``, each
        id once (an ``UPDATE ... FROM`` applies one of several rows for an id)."""
        if not rows:
            return
        if self.sqlite:
            _sqlite_chunks(conn, change.values_sql, rows)
            return
        with _driver(conn).cursor() as cursor:
            cursor.execute(change.create_staging_sql)
            _copy(cursor, change.copy_sql, change.copy_types, rows)
            # the ids' bounds keep the planner from reading the whole table to join it
            # with the staged rows (see filters.among)
            ids = [row[0] for row in rows]
            cursor.execute(change.update_from_sql, (min(ids), max(ids)))
            # the staged rows would otherwise stay until the commit, and a second update
            # in the same transaction would see them again (DELETE, not TRUNCATE: that
            # would give the table a new file, a catalog write, at every batch)
            cursor.execute(f"DELETE FROM {change.staging}")


def _sqlite_chunks(conn: Connection, statement: Any, rows: Sequence[tuple[Any, ...]]) -> None:
    """Run ``statement(n)`` for the rows, :data:`SQLITE_ROWS` at a time, in ``conn``'s
    transaction (the driver's own cursor: SQLAlchemy's per-call work is not needed)."""
    cursor = _driver(conn).cursor()
    try:
        full = len(rows) - len(rows) % SQLITE_ROWS
        if full:
            sql = statement(SQLITE_ROWS)
            for i in range(0, full, SQLITE_ROWS):
                cursor.execute(sql, list(itertools.chain.from_iterable(rows[i : i + SQLITE_ROWS])))
        if full < len(rows):
            cursor.execute(statement(len(rows) - full), list(itertools.chain.from_iterable(rows[full:])))
    finally:
        cursor.close()


def _binary_type(kind: Any, column: str) -> str:
    """The type binary COPY writes for a schema column. JSON goes as text: the rows
    carry it serialized already, and its binary form is its text."""
    if isinstance(kind, TypeDecorator):
        kind = kind.impl
    if isinstance(kind, Boolean):
        return "bool"
    if isinstance(kind, BigInteger):
        return "int8"
    if isinstance(kind, Integer):
        return "int4"
    if isinstance(kind, DateTime) and kind.timezone:
        return "timestamptz"
    if isinstance(kind, String | JSON):  # Text is a String
        return "text"
    raise TypeError(f"{column}: no binary COPY type for {kind!r}")


_STAGING_TYPES = {
    "integer": "int4", "bigint": "int8", "boolean": "bool", "timestamptz": "timestamptz",
    "varchar": "text", "text": "text",
}


def _copy(cursor: Any, statement: str, types: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> None:
    """``rows`` by binary COPY: psycopg formats each row in C with the dumpers of
    ``types`` (100,000 events: 140 ms, against 400 ms for text formatted in Python and
    parsed by the server). The values are the store's: integer columns take ids and
    small counts, which fit the ``integer`` columns they come from (a binary int4 does
    not check its range)."""
    with cursor.copy(statement) as copy:
        copy.set_types(list(types))
        write = copy.write_row
        for i, row in enumerate(rows):
            try:
                write(row)
            except (TypeError, ValueError, OverflowError) as exc:
                raise TypeError(f"cannot COPY row {i} {row!r} ({', '.join(types)}): {exc}") from exc


def _driver(conn: Connection) -> Any:
    """The DB-API connection under ``conn`` (psycopg's), in ``conn``'s transaction."""
    return conn.connection.driver_connection


ATTEMPT_ROWS = RowShape(
    "attempts",
    ("alert_id", "contact_id", "means", "channel", "address", "kind", "round", "created_at", "due_at",
     "updated_at"),
)
"""A new attempt, waiting in the outbox (status ``""``; the other columns take their defaults)."""

CLAIMED_ATTEMPT_ROWS = RowShape(
    "attempts",
    ("id", *ATTEMPT_ROWS.columns, "claimed_by", "claimed_until", "tries"),
)
"""A new attempt written already claimed by the engine that will hand it over."""

EVENT_ROWS = RowShape(
    "status_events", ("attempt_id", "status", "at", "received_at", "reason", "source", "data", "anomaly")
)
"""A status event as recorded (``data`` as JSON text)."""

AUDIENCE_ROWS = RowShape("alert_contacts", ("alert_id", "contact_id", "missing"))
"""A contact of an alert's audience, with the means it has no address for."""

__all__ = [
    "ATTEMPT_ROWS",
    "AUDIENCE_ROWS",
    "CLAIMED_ATTEMPT_ROWS",
    "EVENT_ROWS",
    "SQLITE_ROWS",
    "Bulk",
    "RowShape",
    "RowUpdate",
]
