"""The reports plugin: registers the built-in reports and their CLI commands.

The exporters are plugins of their own (``csv_export``, ``xlsx_export``,
``pdf_export``), registered through their own entry points.
"""

from __future__ import annotations

import click

from tocsin.hookspecs import hookimpl
from tocsin.plugins.reports import citizens, log, overview, statistics
from tocsin.report import Report


@hookimpl  # type: ignore[untyped-decorator]
def tocsin_register_reports() -> list[Report]:
    return [overview.REPORT, citizens.REPORT, statistics.REPORT, log.REPORT]


@hookimpl  # type: ignore[untyped-decorator]
def tocsin_cli_commands() -> list[click.Command]:
    from tocsin.plugins.reports.cli import export_command, report_command

    return [report_command, export_command]
