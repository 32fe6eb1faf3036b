"""``tocsin report`` and ``tocsin export``: run any registered report, print it or
write it in any registered format.

Parameters are given as ``name=value`` pairs (``alert_id=3 outcome=contacted``), the
same names the API takes; ``tocsin report`` without a name lists reports and their
parameters.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import attrs
import click
from rich.table import Table as RichTable

from tocsin.cli.state import CliState, pass_state
from tocsin.errors import NotFoundError, ValidationError
from tocsin.plugins.reports.cells import text
from tocsin.report import Report, Table, as_table, export_filename, is_tabular
from tocsin.serialize import dump


def _params(pairs: tuple[str, ...]) -> dict[str, str]:
    values = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise click.BadParameter(f"{pair!r}: give parameters as name=value", param_hint="PARAMS")
        values[name.strip().replace("-", "_")] = value
    return values


def _report(state: CliState, name: str) -> Report:
    reports = state.runtime().registry.reports
    if name not in reports:
        known = ", ".join(sorted(reports)) or "none"
        raise NotFoundError(f"no report named {name!r} (registered: {known})")
    return reports[name].value


def _describe(report: Report) -> str:
    if report.params is None:
        return ""
    attrs.resolve_types(report.params)
    fields = []
    for a in attrs.fields(report.params):
        type_name = getattr(a.type, "__name__", str(a.type)).replace("typing.", "")
        fields.append(a.name if a.default is attrs.NOTHING else f"[{a.name}]")
        fields[-1] += f":{type_name}"
    return " ".join(fields)


def _json_ready(result: Any) -> Any:
    if isinstance(result, Table):
        return {
            "title": result.title,
            "columns": [c.key for c in result.columns],
            "rows": [[text(v) if v is not None else None for v in row] for row in result.rows],
            "meta": result.meta,
        }
    return dump(result)


@click.command("report")
@click.argument("name", required=False)
@click.argument("params", nargs=-1)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@pass_state  # type: ignore[untyped-decorator]
def report_command(state: CliState, name: str | None, params: tuple[str, ...], as_json: bool) -> None:
    """Run report NAME with PARAMS (name=value ...) and print it; without NAME, list
    the reports and their parameters."""
    runtime = state.runtime()
    if name is None:
        listing = RichTable(title="Reports")
        for col in ("report", "parameters", "description"):
            listing.add_column(col, overflow="fold")
        for key, entry in sorted(runtime.registry.reports.items()):
            listing.add_row(key, _describe(entry.value), entry.value.description)
        state.console.print(listing)
        return
    result = _report(state, name).run(runtime, **_params(params))
    if as_json:
        click.echo(json.dumps(_json_ready(result), indent=2, default=text))
        return
    if not is_tabular(result):
        click.echo(json.dumps(_json_ready(result), indent=2, default=text))
        return
    table = as_table(result)
    shown = RichTable(title=table.title, title_justify="left")
    for column in table.columns:
        shown.add_column(column.title, overflow="fold")
    for row in table.rows:
        shown.add_row(*(text(v) for v in row))
    state.console.print(shown)
    for key in ("total",):
        if hasattr(result, key):
            state.console.print(f"{key}: {getattr(result, key)}")


@click.command("export")
@click.argument("name")
@click.argument("format_name", metavar="FORMAT")
@click.argument("params", nargs=-1)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="File to write (default: the report's usual name, e.g. statisticsAlert.xlsx); "
              "'-' for standard output.")
@pass_state  # type: ignore[untyped-decorator]
def export_command(state: CliState, name: str, format_name: str, params: tuple[str, ...],
                   output: Path | None) -> None:
    """Run report NAME with PARAMS (name=value ...) and write it as FORMAT (csv, xlsx,
    pdf...). Paginated reports export every row unless limit= is given."""
    runtime = state.runtime()
    exporters = runtime.registry.exporters
    if format_name not in exporters:
        known = ", ".join(sorted(exporters)) or "none"
        raise NotFoundError(f"no export format {format_name!r} (registered: {known})")
    exporter = exporters[format_name].value
    values: dict[str, Any] = _params(params)
    report = _report(state, name)
    if report.params is not None and "limit" in attrs.fields_dict(report.params):
        values.setdefault("limit", None)
    result = report.run(runtime, **values)
    if not exporter.accepts(result):
        raise ValidationError(f"format {format_name!r} cannot write the {name!r} report")
    if output is not None and str(output) == "-":
        exporter.write(result, sys.stdout.buffer)
        return
    target = output or Path(export_filename(result, exporter))
    partial = target.with_name(target.name + ".part")
    with state.err.status(f"writing {target} ..."):
        try:
            with partial.open("wb") as fh:
                exporter.write(result, fh)
            partial.replace(target)
        finally:
            partial.unlink(missing_ok=True)
    state.err.print(f"wrote {target} ({target.stat().st_size} bytes)")


@click.group("verification")
def verification_command() -> None:
    """Verify contacts' phone numbers and e-mail addresses (list them with
    `tocsin report verification`)."""


@verification_command.command("send")
@click.argument("means_id", type=int)
@click.option("--via", type=click.Choice(["sms", "call", "email"]),
              help="How to send the code (default: the usual one for the address).")
@pass_state  # type: ignore[untyped-decorator]
def verification_send(state: CliState, means_id: int, via: str | None) -> None:
    """Send a new verification code (and link) to the means MEANS_ID through the
    configured channel for it."""
    import asyncio

    from tocsin.app import Tocsin
    from tocsin.plugins.reports.verification import resend_verification

    async def go() -> Any:
        async with Tocsin(state.config, background=False, dispatch=False) as app:
            return await resend_verification(app.runtime, means_id, via=via)

    sent = asyncio.run(go())
    if sent.error:
        raise click.ClickException(f"{sent.via} to {sent.address} failed: {sent.error}")
    click.echo(f"verification sent by {sent.via} to {sent.address} "
               f"({sent.status}, attempt {sent.attempt_id})")


@verification_command.command("confirm")
@click.argument("address")
@click.argument("code")
@pass_state  # type: ignore[untyped-decorator]
def verification_confirm(state: CliState, address: str, code: str) -> None:
    """Confirm ADDRESS with the CODE its owner gave back (e.g. read over the phone)."""
    from tocsin.plugins.reports.verify import confirm_code

    runtime = state.runtime()
    result = confirm_code(runtime.store, address, code.strip(), now=runtime.clock.now())
    if not result.verified:
        raise click.ClickException(f"{address}: {result.reason}")
    click.echo(f"{address} verified")
