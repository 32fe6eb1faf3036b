"""Throwaway databases for the kit's examples: a SQLite file in a folder, or a fresh
schema on a PostgreSQL server (dropped afterwards), as context managers yielding a URL."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

DatabaseFactory = Callable[[Path], AbstractContextManager[str]]
"""Given a temporary folder, a context manager yielding a database URL for one example."""


@contextmanager
def sqlite_database(folder: Path) -> Iterator[str]:
    """A SQLite database file in ``folder`` (removed with the folder)."""
    yield f"sqlite:///{folder / 'kit.db'}"


def postgres_schemas(base_url: str) -> DatabaseFactory:
    """A factory of fresh schemas on the PostgreSQL database at ``base_url``: each
    example gets its own (via ``search_path``), dropped when the example ends."""

    @contextmanager
    def schema(folder: Path) -> Iterator[str]:
        name = f"kit_{uuid.uuid4().hex[:12]}"
        admin = create_engine(base_url)
        try:
            with admin.begin() as conn:
                conn.execute(text(f'CREATE SCHEMA "{name}"'))
            url = make_url(base_url).update_query_dict({"options": f"-csearch_path={name}"})
            yield url.render_as_string(hide_password=False)
        finally:
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))
            admin.dispose()

    return schema


__all__ = ["DatabaseFactory", "postgres_schemas", "sqlite_database"]
