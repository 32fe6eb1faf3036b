"""``/api/reports``: the report plugins' results as JSON and as files (xlsx, pdf, csv...)."""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio.to_thread
from attrs import frozen
from litestar import Request, Router, get, post
from litestar.params import FromPath
from litestar.response import File, Stream
from litestar.status_codes import HTTP_202_ACCEPTED

from tocsin.plugins.server import reporting
from tocsin.plugins.server.api.common import OperationStarted, started
from tocsin.plugins.server.auth import Authenticated
from tocsin.plugins.server.context import Ctx
from tocsin.plugins.server.operations import Progress
from tocsin.plugins.server.rights import Right, need

Req = Request[Any, Any, Any]


@frozen
class ReportInfo:
    name: str
    title: str
    description: str
    params: list[str]
    plugin: str


@frozen
class ExporterInfo:
    name: str
    extension: str
    media_type: str
    description: str
    plugin: str


@get("/", opt=need(Right.REPORTS_READ), sync_to_thread=False)
def list_reports(ctx: Ctx) -> list[ReportInfo]:
    """Every report the plugins offer, and its parameters."""
    return [ReportInfo(n, e.value.title, e.value.description, reporting.param_names(e.value),
                       e.plugin) for n, e in sorted(ctx.runtime.registry.reports.items())]


@get("/formats", opt=need(Right.REPORTS_READ), sync_to_thread=False)
def list_formats(ctx: Ctx) -> list[ExporterInfo]:
    """Every export format the plugins offer."""
    return [ExporterInfo(n, e.value.extension, e.value.media_type, e.value.description, e.plugin)
            for n, e in sorted(ctx.runtime.registry.exporters.items())]


@get("/{name:str}", opt=need(Right.REPORTS_READ))
async def run_report(ctx: Ctx, principal: Authenticated, request: Req, name: FromPath[str]) -> Any:
    """Run a report with its parameters from the query string; its result as JSON."""
    report = reporting.report_named(ctx, name)
    values = dict(request.query_params)

    def run() -> Any:
        reporting.check_campaign(ctx, principal, values, "read")
        return reporting.result_json(reporting.run_report(ctx, report, values))

    return await anyio.to_thread.run_sync(run)


@get("/{name:str}/export/{fmt:str}", opt=need(Right.EXPORTS))
async def export_report(
    ctx: Ctx, principal: Authenticated, request: Req, name: FromPath[str], fmt: FromPath[str]
) -> Stream:
    """Run a report and download it as a file (``statisticsAlert.xlsx``...)."""
    report = reporting.report_named(ctx, name)
    exporter = reporting.exporter_named(ctx, fmt)
    values = reporting.export_values(report, request.query_params)

    def run() -> tuple[Any, str]:
        reporting.check_campaign(ctx, principal, values, "export")
        result = reporting.run_report(ctx, report, values)
        spool = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115
        filename = reporting.write_export(result, exporter, spool)  # type: ignore[arg-type]
        spool.seek(0)
        return spool, filename

    spool, filename = await anyio.to_thread.run_sync(run)

    async def chunks() -> AsyncIterator[bytes]:
        try:
            while chunk := await anyio.to_thread.run_sync(spool.read, 256 * 1024):
                yield chunk
        finally:
            spool.close()

    return Stream(chunks(), media_type=exporter.media_type,
                  headers={"content-disposition": f'attachment; filename="{filename}"'})


@post("/{name:str}/export/{fmt:str}", opt=need(Right.EXPORTS), status_code=HTTP_202_ACCEPTED)
async def start_export(
    ctx: Ctx, principal: Authenticated, request: Req, name: FromPath[str], fmt: FromPath[str]
) -> OperationStarted:
    """Export in the background (large reports); download from the operation when done."""
    report = reporting.report_named(ctx, name)
    exporter = reporting.exporter_named(ctx, fmt)
    values = reporting.export_values(report, request.query_params)
    await anyio.to_thread.run_sync(lambda: reporting.check_campaign(ctx, principal, values,
                                                                    "export"))
    op = await anyio.to_thread.run_sync(lambda: ctx.operations.create("export", principal.user_id))
    folder = Path(ctx.runtime.config.core.data_dir) / "exports"

    def work(progress: Progress) -> dict[str, Any]:
        progress(0, None, "running the report")
        result = reporting.run_report(ctx, report, values)
        progress(0, None, "writing the file")
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{op.id}.{exporter.extension.lstrip('.')}"
        with path.open("wb") as fh:
            filename = reporting.write_export(result, exporter, fh)
        return {"filename": filename, "media_type": exporter.media_type, "size": path.stat().st_size,
                "file": path.name}

    ctx.operations.start(op, work)
    return started(op, request.scope.get("root_path", ""))


@get("/operations/{op_id:str}/download", opt=need(Right.EXPORTS), sync_to_thread=True)
def download_export(ctx: Ctx, principal: Authenticated, op_id: FromPath[str]) -> File:
    """The file a finished export operation wrote."""
    from litestar.exceptions import PermissionDeniedException

    from tocsin.errors import NotFoundError

    op = ctx.operations.get(op_id)
    if op.created_by != principal.user_id and not principal.may(Right.USERS_ADMIN):
        raise PermissionDeniedException("this export was made by another user")
    if op.kind != "export" or op.state != "done":
        raise NotFoundError(f"operation {op_id} has no file to download (state {op.state})")
    path = Path(ctx.runtime.config.core.data_dir) / "exports" / str(op.result["file"])
    return File(path, filename=str(op.result["filename"]), media_type=str(op.result["media_type"]))


router = Router("/api/reports", route_handlers=[list_reports, list_formats, run_report,
                                                 export_report, start_export, download_export],
                tags=["reports"])
