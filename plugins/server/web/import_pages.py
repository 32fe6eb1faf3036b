"""Importing contacts from the dashboard, and following any long operation live."""

from __future__ import annotations

from typing import Any

import anyio.to_thread
from litestar import Request, Response, Router, get, post
from litestar.datastructures import UploadFile
from litestar.exceptions import PermissionDeniedException
from litestar.params import FromPath
from litestar.status_codes import HTTP_303_SEE_OTHER

from tocsin.errors import TocsinError
from tocsin.plugins.server.auth import Authenticated
from tocsin.plugins.server.context import Ctx, ServerContext
from tocsin.plugins.server.importing import prepare_import
from tocsin.plugins.server.rights import Right, need
from tocsin.plugins.server.web.render import render

Req = Request[Any, Any, Any]


def _form_page(request: Req, ctx: ServerContext, error: str = "") -> Response[str]:
    return render(request, "import.html", groups=ctx.store.groups.list(), error=error,
                  region=ctx.runtime.config.core.default_region,
                  status_code=400 if error else 200)


@get("/contacts/import", opt=need(Right.CONTACTS_WRITE), include_in_schema=False,
     sync_to_thread=True)
def import_page(request: Req, ctx: Ctx) -> Response[str]:
    return _form_page(request, ctx)


@post("/contacts/import", opt=need(Right.CONTACTS_WRITE), include_in_schema=False)
async def import_upload(request: Req, ctx: Ctx, principal: Authenticated) -> Response[str]:
    """Keep the file, start the import, and follow it on the operation's page."""
    form = await request.form()
    upload = form.get("file")
    try:
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise TocsinError("file: choose a .csv or .xlsx file")
        content = await upload.read()
        op, work = await anyio.to_thread.run_sync(lambda: prepare_import(
            ctx, principal.user_id, upload.filename, content,
            group=str(form.get("group") or "") or None, region=str(form.get("region") or "")))
    except TocsinError as exc:
        message = str(exc)
        return await anyio.to_thread.run_sync(lambda: _form_page(request, ctx, message))
    ctx.operations.start(op, work)
    root = request.scope.get("root_path", "")
    return Response("", status_code=HTTP_303_SEE_OTHER,
                    headers={"location": f"{root}/operations/{op.id}"})


@get("/operations/{op_id:str}", opt=need(Right.AUTHENTICATED), include_in_schema=False,
     sync_to_thread=True)
def operation_page(request: Req, ctx: Ctx, principal: Authenticated,
                   op_id: FromPath[str]) -> Response[str]:
    """An operation's progress, followed live, then its result or every error."""
    op = ctx.operations.get(op_id)
    if op.created_by != principal.user_id and not principal.may(Right.USERS_ADMIN):
        raise PermissionDeniedException("this operation was started by another user")
    return render(request, "operation.html", op=op)


def routers() -> list[Any]:
    return [Router("/", route_handlers=[import_page, import_upload, operation_page],
                   include_in_schema=False)]
