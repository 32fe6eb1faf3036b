"""The :class:`Store`: one engine, its repositories, and the schema's migrations."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path

from sqlalchemy import Connection, Engine, inspect

from tocsin.store.alerts import Alerts
from tocsin.store.attempts import Attempts
from tocsin.store.contacts import Contacts
from tocsin.store.db import analyze, open_engine
from tocsin.store.groups import Groups
from tocsin.store.outbox import Outbox
from tocsin.store.outcomes import Outcomes
from tocsin.store.schema import metadata
from tocsin.store.timers import Timers
from tocsin.store.users import Users
from tocsin.store.webhook_claims import WebhookClaims


def alembic_config(engine: Engine) -> "alembic.config.Config":  # type: ignore[name-defined]  # noqa: F821, UP037
    """Alembic's configuration for Tocsin's migrations, bound to ``engine``."""
    from alembic.config import Config as AlembicConfig

    folder = Path(str(resources.files("tocsin.store.migrations")))
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(folder))
    cfg.set_main_option(
        "sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%")
    )
    cfg.attributes["engine"] = engine
    return cfg


class Store:
    """Every durable fact of one Tocsin deployment."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.contacts = Contacts(engine)
        self.groups = Groups(engine)
        self.alerts = Alerts(engine)
        self.attempts = Attempts(engine)
        self.users = Users(engine)
        self.outbox = Outbox(engine)
        self.timers = Timers(engine)
        self.outcomes = Outcomes(engine)
        self.webhook_claims = WebhookClaims(engine)

    @classmethod
    def open(cls, url: str, *, upgrade: bool = False, echo: bool = False) -> Store:
        """Open the database at ``url``; with ``upgrade``, apply pending migrations."""
        store = cls(open_engine(url, echo=echo))
        if upgrade:
            store.upgrade()
        return store

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def upgrade(self, revision: str = "head") -> None:
        """Apply the Alembic migrations up to ``revision``."""
        from alembic import command

        command.upgrade(alembic_config(self.engine), revision)

    def current_revision(self) -> str | None:
        from alembic.runtime.migration import MigrationContext

        with self.engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()

    def is_empty(self) -> bool:
        return not inspect(self.engine).get_table_names()

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """One transaction, committed on success, rolled back on error."""
        with self.engine.begin() as conn:
            yield conn

    def analyze(self, *tables: str) -> None:
        """Refresh the planner's statistics of ``tables`` after a bulk write (see
        :func:`tocsin.store.db.analyze`)."""
        analyze(self.engine, *tables)

    def close(self) -> None:
        self.engine.dispose()


__all__ = ["Store", "alembic_config", "metadata"]
