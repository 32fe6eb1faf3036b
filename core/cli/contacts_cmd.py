"""``tocsin contacts``: import, list and show contacts."""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from tocsin.cli.state import CliState, pass_state
from tocsin.contacts_import import import_contacts
from tocsin.errors import ImportRefused
from tocsin.serialize import dump


def _parse_mapping(values: tuple[str, ...]) -> dict[str, str]:
    mapping = {}
    for item in values:
        header, sep, target = item.partition("=")
        if not sep or not header.strip() or not target.strip():
            raise click.BadParameter(f"{item!r}: use --map 'Column header=field'", param_hint="--map")
        mapping[header.strip()] = target.strip()
    return mapping


@click.group("contacts")
def command() -> None:
    """Import and look up contacts."""


@command.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--map", "maps", multiple=True, metavar="HEADER=FIELD",
              help="Map a column to a field (first_name, email2, attributes.x, ignore...).")
@click.option("--unmapped", type=click.Choice(["attribute", "ignore", "error"]), default="attribute",
              show_default=True, help="What columns that map to no field become.")
@click.option("--group", help="Also add every imported contact to this (existing) group.")
@click.option("--region", help="Region for national phone numbers (default: configuration).")
@click.option("--encoding", help="CSV encoding (default: UTF-8, then Windows-1252).")
@click.option("--sheet", help="XLSX sheet name (default: the first).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@pass_state
def import_(state: CliState, file: Path, maps: tuple[str, ...], unmapped: str, group: str | None,
            region: str | None, encoding: str | None, sheet: str | None, as_json: bool) -> None:
    """Import contacts from a CSV or XLSX FILE: all rows, or none if any row is wrong."""
    runtime = state.runtime()
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=state.err, transient=True, disable=as_json) as bar:
        tasks: dict[str, TaskID] = {}

        def progress(phase: str, done: int, total: int | None) -> None:
            if phase not in tasks:
                tasks[phase] = bar.add_task(phase, total=total)
            bar.update(tasks[phase], completed=done, total=total)

        try:
            result = import_contacts(
                runtime.store, file, region=region or runtime.config.core.default_region,
                mapping=_parse_mapping(maps), unmapped=unmapped, group=group, encoding=encoding,
                sheet=sheet, progress=progress, now=runtime.clock.now(),
            )
        except ImportRefused as exc:
            if as_json:
                click.echo(json.dumps({"errors": dump(list(exc.errors))}, indent=2))
            raise click.ClickException(str(exc)) from None
    if as_json:
        click.echo(json.dumps(dump(result), indent=2))
        return
    click.echo(
        f"imported {result.rows} contact(s) from {file.name}: {result.created} created, "
        f"{result.updated} updated" + (f", added to group {group!r}" if group else "")
    )


@command.command("list")
@click.option("--search", default="", help="Part of a name or external id.")
@click.option("--limit", default=50, show_default=True)
@click.option("--offset", default=0, show_default=True)
@pass_state
def list_(state: CliState, search: str, limit: int, offset: int) -> None:
    """List contacts by name."""
    store = state.runtime().store
    table = Table(title=f"Contacts ({store.contacts.count()} in all)")
    for col in ("id", "external id", "name", "means"):
        table.add_column(col)
    for c in store.contacts.page(search=search, limit=limit, offset=offset):
        means = ", ".join(f"{m.kind}:{m.value}" + ("" if m.verified else "?") for m in c.means)
        table.add_row(str(c.id), c.external_id or "", c.full_name, means)
    state.console.print(table)


@command.command("show")
@click.argument("contact_id", type=int)
@pass_state
def show(state: CliState, contact_id: int) -> None:
    """Print one contact as JSON."""
    click.echo(json.dumps(dump(state.runtime().store.contacts.get(contact_id)), indent=2))
