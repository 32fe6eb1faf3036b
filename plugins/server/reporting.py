"""Running the report plugins' reports for the server: as JSON, as files, with rights.

A report whose parameters name an alert or a campaign is checked against the user's
per-campaign rights: reading needs the role's right, exporting the campaign's *export*
right (administrators always may).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import IO, Any

import attrs
from litestar.exceptions import PermissionDeniedException

from tocsin.errors import NotFoundError, ValidationError
from tocsin.plugins.server.accounts import may_on_campaign
from tocsin.plugins.server.auth import Principal
from tocsin.plugins.server.context import ServerContext
from tocsin.report import Exporter, Report, Table, as_table, export_filename
from tocsin.serialize import converter

MAX_JSON_ROWS = 10_000


def report_named(ctx: ServerContext, name: str) -> Report:
    entry = ctx.runtime.registry.reports.get(name)
    if entry is None:
        known = ", ".join(sorted(ctx.runtime.registry.reports)) or "none"
        raise NotFoundError(f"no report named {name!r} (reports: {known})")
    return entry.value


def exporter_named(ctx: ServerContext, name: str) -> Exporter:
    entry = ctx.runtime.registry.exporters.get(name)
    if entry is None:
        known = ", ".join(sorted(ctx.runtime.registry.exporters)) or "none"
        raise NotFoundError(f"no export format {name!r} (formats: {known})")
    return entry.value


def param_names(report: Report) -> list[str]:
    return [a.name for a in attrs.fields(report.params)] if report.params else []


def _campaign_of(ctx: ServerContext, values: Mapping[str, Any]) -> int | None:
    if values.get("campaign_id") not in (None, ""):
        try:
            return int(values["campaign_id"])
        except ValueError:
            raise ValidationError(f"parameter campaign_id: {values['campaign_id']!r} is not a valid int"
                                  ) from None
    if values.get("alert_id") not in (None, ""):
        try:
            alert_id = int(values["alert_id"])
        except ValueError:
            raise ValidationError(f"parameter alert_id: {values['alert_id']!r} is not a valid int"
                                  ) from None
        return ctx.store.alerts.get(alert_id).campaign_id
    return None


def check_campaign(ctx: ServerContext, principal: Principal, values: Mapping[str, Any],
                   what: str) -> None:
    """Refuse an export of a campaign the user may not export (reading follows the role)."""
    campaign = _campaign_of(ctx, values)
    if what != "export":
        return
    if not may_on_campaign(ctx.store.engine, principal.user, campaign, what):
        raise PermissionDeniedException(f"you may not {what} campaign {campaign}")


def run_report(ctx: ServerContext, report: Report, values: Mapping[str, Any]) -> Any:
    if unknown := sorted(set(values) - set(param_names(report))):
        known = ", ".join(param_names(report)) or "none"
        raise ValidationError(f"unknown parameter(s) {', '.join(unknown)}; known: {known}")
    return report.run(ctx.runtime, **values)


def export_values(report: Report, values: Mapping[str, Any]) -> dict[str, Any]:
    """An export writes every row: a paginated report gets ``limit=None`` unless the query
    string names a limit (as ``tocsin export`` does)."""
    chosen = dict(values)
    if "limit" in param_names(report) and chosen.get("limit") in (None, ""):
        chosen["limit"] = None
    return chosen


def result_json(result: Any) -> Any:
    """A report's result as JSON-ready data (a table's rows capped at :data:`MAX_JSON_ROWS`)."""
    if attrs.has(type(result)) and not isinstance(result, Table):
        return converter.unstructure(result)
    table = as_table(result)
    rows = list(itertools.islice(iter(table.rows), MAX_JSON_ROWS + 1))
    return {
        "title": table.title,
        "columns": [{"key": c.key, "title": c.title} for c in table.columns],
        "rows": converter.unstructure([list(r) for r in rows[:MAX_JSON_ROWS]]),
        "truncated": len(rows) > MAX_JSON_ROWS,
        "meta": converter.unstructure(table.meta),
    }


def write_export(result: Any, exporter: Exporter, stream: IO[bytes]) -> str:
    """Write ``result`` in ``exporter``'s format; returns the file name to offer."""
    if not exporter.accepts(result):
        raise ValidationError(f"the {exporter.name} format cannot write this report")
    exporter.write(result, stream)
    return export_filename(result, exporter)
