"""The server plugin's hook implementations (registered through the ``tocsin`` entry points)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tocsin.config import Config
from tocsin.hookspecs import hookimpl


@hookimpl
def tocsin_cli_commands() -> Sequence[Any]:
    from tocsin.plugins.server.cli import serve, users

    return [serve, users]


@hookimpl
def tocsin_configure(config: Config) -> None:
    from tocsin.plugins.server.settings import check_section

    check_section(config)
