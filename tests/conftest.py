"""Shared fixtures: stores on SQLite and on PostgreSQL (each test in its own schema)."""

from __future__ import annotations

import asyncio
import os
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tocsin.store import Store
from tocsin.store.db import open_engine

settings.register_profile(
    "ci", max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("dev", max_examples=30, deadline=None)
settings.register_profile(
    "long", max_examples=2000, deadline=None, suppress_health_check=list(HealthCheck)
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def postgres_url() -> str | None:
    """The PostgreSQL URL for tests, or None (skip) when it does not answer.

    With TOCSIN_REQUIRE_POSTGRES set (CI), an unreachable server is an error.
    """
    url = os.environ.get("TOCSIN_TEST_POSTGRES_URL", DEFAULT_PG)
    try:
        engine = create_engine(url)
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
        return url
    except Exception as exc:
        if os.environ.get("TOCSIN_REQUIRE_POSTGRES"):
            raise RuntimeError(f"PostgreSQL is required in CI but {url} fails: {exc}") from exc
        return None


_PG: list[str | None] = []


def _pg() -> str | None:
    if not _PG:
        _PG.append(postgres_url())
    return _PG[0]


class PostgresSchema:
    """A throwaway schema in the test database, dropped afterwards."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.name = f"t_{uuid.uuid4().hex[:12]}"
        admin = create_engine(base_url)
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{self.name}"'))
        admin.dispose()

    @property
    def url(self) -> str:
        url = make_url(self.base_url)
        return url.update_query_dict({"options": f"-csearch_path={self.name}"}).render_as_string(
            hide_password=False
        )

    def drop(self) -> None:
        admin = create_engine(self.base_url)
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{self.name}" CASCADE'))
        admin.dispose()


@pytest.fixture
def pg_base_url() -> str:
    """The test database's own URL (for tests that make their own schemas); skipped when
    PostgreSQL does not answer, an error in CI."""
    base = _pg()
    if base is None:
        pytest.skip("PostgreSQL is not reachable (set TOCSIN_TEST_POSTGRES_URL)")
    return base


@pytest.fixture
def pg_url(pg_base_url: str) -> Iterator[str]:
    """A PostgreSQL URL whose search path is a fresh schema (dropped after the test)."""
    schema = PostgresSchema(pg_base_url)
    try:
        yield schema.url
    finally:
        schema.drop()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database URL, once for SQLite and once for PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'tocsin.db'}"
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    """A migrated store on SQLite and on PostgreSQL."""
    s = Store.open(db_url, upgrade=True)
    yield s
    s.close()


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    """A migrated store on SQLite only (for tests that do not touch SQL differences)."""
    s = Store(open_engine(f"sqlite:///{tmp_path / 'tocsin.db'}"))
    s.upgrade()
    yield s
    s.close()


class Gate:
    """Wraps a synchronous function; once armed, the next call runs the function, then
    holds its result until released. A test makes a loop's read finish only after
    something else happened meanwhile (the lost-wakeup race of a poll loop)."""

    def __init__(self, fn: Callable[..., Any]) -> None:
        self.fn = fn
        self.held = threading.Event()
        self.released = threading.Event()
        self._armed = False
        self._lock = threading.Lock()

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        result = self.fn(*args, **kwargs)
        with self._lock:
            hold, self._armed = self._armed, False
        if hold:
            self.held.set()
            self.released.wait(30)
        return result

    def arm(self) -> None:
        with self._lock:
            self._armed = True

    async def holding(self) -> None:
        """Until a call is held (it has read, and not yet returned)."""
        assert await asyncio.to_thread(self.held.wait, 30), "the gated call never came"

    def release(self) -> None:
        self.released.set()


@pytest.fixture
def gate() -> Iterator[Callable[[Callable[..., Any]], Gate]]:
    """``gate(fn)``: a :class:`Gate` around ``fn``, released at the end of the test."""
    made: list[Gate] = []

    def factory(fn: Callable[..., Any]) -> Gate:
        made.append(Gate(fn))
        return made[-1]

    yield factory
    for g in made:
        g.release()
