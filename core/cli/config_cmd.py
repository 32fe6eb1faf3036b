"""``tocsin config show``: the effective configuration, secrets masked."""

from __future__ import annotations

import json

import click

from tocsin.cli.state import CliState, pass_state
from tocsin.config import effective, masked


@click.group("config")
def command() -> None:
    """Inspect the configuration."""


@command.command("show")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of TOML.")
@pass_state
def show(state: CliState, as_json: bool) -> None:
    """Print the effective configuration with every secret masked."""
    config = state.config
    data = masked(effective(config))
    if as_json:
        click.echo(json.dumps(data, indent=2, default=str))
        return
    import tomli_w

    source = str(config.path) if config.path else "embedded defaults (no file)"
    click.echo(f"# configuration: {source}")
    click.echo(tomli_w.dumps(data))
