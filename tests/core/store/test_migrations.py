"""The Alembic migrations produce exactly the models' schema, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from tocsin.store import Store
from tocsin.store.schema import metadata
from tocsin.store.store import alembic_config


def test_migrations_have_a_single_head(sqlite_store: Store) -> None:
    script = ScriptDirectory.from_config(alembic_config(sqlite_store.engine))
    assert len(script.get_heads()) == 1, f"migration chain forks: {script.get_heads()}"


def test_migrations_produce_exactly_the_models_schema(store: Store) -> None:
    with store.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(ctx, metadata)
    assert diff == [], f"migrations and schema.py differ: {diff}"


def test_upgrade_creates_every_table_and_is_idempotent(store: Store) -> None:
    tables = set(inspect(store.engine).get_table_names())
    assert set(metadata.tables) <= tables
    head = store.current_revision()
    store.upgrade()
    assert store.current_revision() == head


def test_sqlite_runs_in_wal_mode_with_foreign_keys(sqlite_store: Store) -> None:
    with sqlite_store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
