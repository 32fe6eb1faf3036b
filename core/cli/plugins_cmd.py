"""``tocsin plugins``: what is loaded, from which distribution, implementing what."""

from __future__ import annotations

import json

import click
from rich.table import Table

from tocsin.cli.state import CliState, pass_state
from tocsin.plugin_manager import describe_plugins
from tocsin.serialize import dump


@click.command("plugins")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@pass_state
def command(state: CliState, as_json: bool) -> None:
    """List every loaded plugin with its distribution, version and hooks."""
    infos = describe_plugins(state.pm)
    if as_json:
        click.echo(json.dumps(dump(infos), indent=2))
        return
    table = Table(title="Loaded plugins")
    for col in ("plugin", "module", "distribution", "version", "hooks"):
        table.add_column(col, overflow="fold")
    for info in infos:
        hooks = ", ".join(h.removeprefix("tocsin_") for h in info.hooks)
        table.add_row(info.name, info.module, info.distribution or "-", info.version or "-", hooks)
    state.console.print(table)
