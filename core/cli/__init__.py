"""The ``tocsin`` command line: core commands plus those plugins add.

Plugins add commands through ``tocsin_cli_commands``; they are looked up when the
command line starts, with the configuration named by ``--config``.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from tocsin.cli.state import CliState, pass_state
from tocsin.errors import TocsinError

CORE_COMMANDS = ("alert", "config", "contacts", "db", "engine", "groups", "plugins", "statuses")


class TocsinGroup(click.Group):
    """A group whose plugin commands are found through the plugin manager."""

    def _plugin_commands(self, ctx: click.Context) -> dict[str, click.Command]:
        state = ctx.ensure_object(CliState)
        # Subcommands are resolved before the group's callback runs: take --config from
        # the parsed options now, or plugins would be loaded with the default configuration.
        if state.config_path is None and ctx.params.get("config_path"):
            state.config_path = ctx.params["config_path"]
        try:
            return state.plugin_commands(self.commands)
        except TocsinError as exc:
            raise click.ClickException(str(exc)) from None

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(self._plugin_commands(ctx)))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return super().get_command(ctx, cmd_name) or self._plugin_commands(ctx).get(cmd_name)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except TocsinError as exc:
            raise click.ClickException(str(exc)) from None


@click.group(cls=TocsinGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    envvar="TOCSIN_CONFIG",
    help="Configuration file (TOML). Default: $TOCSIN_CONFIG, else ./tocsin.toml if present.",
)
@click.version_option(package_name="tocsin")
@click.pass_context
def cli(ctx: click.Context, config_path: str | None) -> None:
    """Tocsin: reach people by call, SMS and e-mail, know who was reached, try again."""
    state = ctx.ensure_object(CliState)
    state.config_path = config_path
    ctx.call_on_close(state.close)


def _register_core_commands() -> None:
    from tocsin.cli import (
        alert_cmd,
        config_cmd,
        contacts_cmd,
        db_cmd,
        engine_cmd,
        groups_cmd,
        plugins_cmd,
        statuses_cmd,
    )

    for module in (
        alert_cmd, config_cmd, contacts_cmd, db_cmd, engine_cmd, groups_cmd, plugins_cmd, statuses_cmd
    ):
        cli.add_command(module.command)


_register_core_commands()


def main(argv: list[str] | None = None) -> Any:
    """Entry point of the ``tocsin`` script."""
    return cli.main(args=argv if argv is not None else sys.argv[1:], prog_name="tocsin")


__all__ = ["CliState", "cli", "main", "pass_state"]
