"""The reports plugin: registers the built-in reports, their CLI commands, the
verification link route, and claims inbound replies that carry a verification code.

The exporters are plugins of their own (``csv_export``, ``xlsx_export``,
``pdf_export``), registered through their own entry points.
"""

from __future__ import annotations

from typing import Any

import click

from tocsin.hookspecs import hookimpl
from tocsin.model import InboundMessage
from tocsin.plugins.reports import citizens, log, overview, statistics, verification, verify
from tocsin.report import Report


@hookimpl  # type: ignore[untyped-decorator]
def tocsin_register_reports() -> list[Report]:
    return [overview.REPORT, citizens.REPORT, statistics.REPORT, log.REPORT, verification.REPORT]


@hookimpl  # type: ignore[untyped-decorator]
def tocsin_cli_commands() -> list[click.Command]:
    from tocsin.plugins.reports.cli import export_command, report_command, verification_command

    return [report_command, export_command, verification_command]


@hookimpl  # type: ignore[untyped-decorator]
def tocsin_server_routes(runtime: Any) -> list[Any]:
    from tocsin.plugins.reports.verify_route import verify_route

    return [verify_route(runtime)]


@hookimpl  # type: ignore[untyped-decorator]
def tocsin_inbound_message(runtime: Any, message: InboundMessage) -> str | None:
    """A reply (SMS, e-mail, DTMF digits) that is just a six-digit code is checked
    against the sender's pending verifications; anything else is left to others."""
    code = verify.normalise_code(message.text)
    if code is None:
        return None
    result = verify.confirm_code(runtime.store, message.sender, code, now=message.at)
    if result.verified:
        return f"verification confirmed for means {', '.join(map(str, result.means_ids))}"
    if result.reason.startswith("no verification"):
        return None
    return f"verification code refused: {result.reason}"
