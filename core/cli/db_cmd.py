"""``tocsin db``: apply and inspect the schema migrations."""

from __future__ import annotations

import click

from tocsin.cli.state import CliState, pass_state
from tocsin.config import masked


@click.group("db")
def command() -> None:
    """Manage the database schema."""


@command.command("upgrade")
@click.option("--revision", default="head", show_default=True, help="Target revision.")
@pass_state
def upgrade(state: CliState, revision: str) -> None:
    """Apply the migrations (creates the SQLite database when missing)."""
    runtime = state.runtime(upgrade=False)
    before = runtime.store.current_revision()
    runtime.store.upgrade(revision)
    after = runtime.store.current_revision()
    url = masked(runtime.config.core.database_url, "database")
    if before == after:
        click.echo(f"{url}: already at revision {after}")
    else:
        click.echo(f"{url}: upgraded from {before or 'empty'} to {after}")


@command.command("current")
@pass_state
def current(state: CliState) -> None:
    """Print the database's current revision."""
    runtime = state.runtime(upgrade=False)
    click.echo(runtime.store.current_revision() or "empty (run: tocsin db upgrade)")
