"""What the CLI commands share: the configuration and, once needed, the runtime."""

from __future__ import annotations

from collections.abc import Mapping

import click
from rich.console import Console

from tocsin.config import Config, load_config
from tocsin.plugin_manager import PluginManager, load_plugins
from tocsin.registry import collect_cli_commands
from tocsin.runtime import Runtime


class CliState:
    """Loaded lazily: ``tocsin --help`` opens no database."""

    def __init__(self) -> None:
        self.config_path: str | None = None
        self._config: Config | None = None
        self._pm: PluginManager | None = None
        self._runtime: Runtime | None = None
        self._commands: dict[str, click.Command] | None = None
        self.console = Console(stderr=False, highlight=False)
        self.err = Console(stderr=True, highlight=False)

    @property
    def config(self) -> Config:
        if self._config is None:
            self._config = load_config(self.config_path)
        return self._config

    @property
    def pm(self) -> PluginManager:
        if self._pm is None:
            self._pm = self._runtime.pm if self._runtime else load_plugins(self.config)
        return self._pm

    def runtime(self, *, upgrade: bool = True) -> Runtime:
        """The runtime (store opened and, by default, migrated)."""
        if self._runtime is None:
            self._runtime = Runtime.open(self.config, upgrade=upgrade)
            self._pm = self._runtime.pm
        return self._runtime

    def plugin_commands(self, core: Mapping[str, click.Command]) -> dict[str, click.Command]:
        if self._commands is None:
            self._commands = collect_cli_commands(self.pm, taken=core)
        return self._commands

    def close(self) -> None:
        if self._runtime is not None:
            self._runtime.close()
            self._runtime = None


pass_state = click.make_pass_decorator(CliState, ensure=True)
