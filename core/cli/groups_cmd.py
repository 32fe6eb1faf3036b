"""``tocsin groups``: create groups, add and remove contacts, list them."""

from __future__ import annotations

import click
from rich.table import Table

from tocsin.cli.state import CliState, pass_state


@click.group("groups")
def command() -> None:
    """Manage groups of contacts."""


@command.command("create")
@click.argument("name")
@click.option("--description", default="")
@pass_state
def create(state: CliState, name: str, description: str) -> None:
    """Create a group."""
    group = state.runtime().store.groups.create(name, description)
    click.echo(f"group {group.name!r} created (id {group.id})")


@command.command("list")
@pass_state
def list_(state: CliState) -> None:
    """List groups with their member counts."""
    table = Table(title="Groups")
    for col in ("id", "name", "members", "description"):
        table.add_column(col)
    for group, members in state.runtime().store.groups.list():
        table.add_row(str(group.id), group.name, str(members), group.description)
    state.console.print(table)


@command.command("add")
@click.argument("name")
@click.argument("contact_ids", nargs=-1, type=int, required=True)
@pass_state
def add(state: CliState, name: str, contact_ids: tuple[int, ...]) -> None:
    """Add contacts (by id) to a group: all or none."""
    added = state.runtime().store.groups.add(name, contact_ids)
    click.echo(f"{added} contact(s) added to {name!r}")


@command.command("remove")
@click.argument("name")
@click.argument("contact_ids", nargs=-1, type=int, required=True)
@pass_state
def remove(state: CliState, name: str, contact_ids: tuple[int, ...]) -> None:
    """Remove contacts (by id) from a group."""
    removed = state.runtime().store.groups.remove(name, contact_ids)
    click.echo(f"{removed} contact(s) removed from {name!r}")


@command.command("show")
@click.argument("name")
@pass_state
def show(state: CliState, name: str) -> None:
    """List a group's members."""
    store = state.runtime().store
    ids = store.groups.members(name)
    table = Table(title=f"Group {name!r}: {len(ids)} member(s)")
    for col in ("id", "name", "means"):
        table.add_column(col)
    contacts = store.contacts.load(ids[:500])
    for cid in ids[:500]:
        c = contacts[cid]
        table.add_row(str(cid), c.full_name, ", ".join(f"{m.kind}:{m.value}" for m in c.means))
    state.console.print(table)
    if len(ids) > 500:
        click.echo(f"... and {len(ids) - 500} more")


@command.command("delete")
@click.argument("name")
@pass_state
def delete(state: CliState, name: str) -> None:
    """Delete a group (its contacts stay)."""
    state.runtime().store.groups.delete(name)
    click.echo(f"group {name!r} deleted")
