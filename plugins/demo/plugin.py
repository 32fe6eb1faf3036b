"""The demo plugin's hook implementation (registered through the ``tocsin`` entry points)."""

from __future__ import annotations

import click

from tocsin.hookspecs import hookimpl


@hookimpl  # type: ignore[untyped-decorator]
def tocsin_cli_commands() -> list[click.Command]:
    from tocsin.plugins.demo.cli import command

    return [command]
