"""``/api/operations``: progress of long operations, polled or followed as server-sent events."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import anyio.to_thread
from litestar import Router, get
from litestar.exceptions import PermissionDeniedException
from litestar.params import FromPath
from litestar.response import ServerSentEvent, ServerSentEventMessage

from tocsin.plugins.server.auth import Authenticated
from tocsin.plugins.server.context import Ctx
from tocsin.plugins.server.operations import Operation
from tocsin.plugins.server.rights import Right, need
from tocsin.serialize import converter

POLL_SECONDS = 0.25


def _visible(op: Operation, principal: Authenticated) -> Operation:
    if op.created_by != principal.user_id and not principal.may(Right.USERS_ADMIN):
        raise PermissionDeniedException("this operation was started by another user")
    return op


@get("/{op_id:str}", opt=need(Right.AUTHENTICATED), sync_to_thread=True)
def get_operation(ctx: Ctx, principal: Authenticated, op_id: FromPath[str]) -> Operation:
    """An operation's state, progress and, once done, its result."""
    return _visible(ctx.operations.get(op_id), principal)


@get("/{op_id:str}/events", opt=need(Right.AUTHENTICATED))
async def follow_operation(ctx: Ctx, principal: Authenticated, op_id: FromPath[str]) -> ServerSentEvent:
    """Server-sent events: a ``progress`` event at each change, then ``done`` or ``failed``."""
    _visible(await anyio.to_thread.run_sync(ctx.operations.get, op_id), principal)

    async def events() -> AsyncIterator[ServerSentEventMessage]:
        last = None
        while True:
            op = await anyio.to_thread.run_sync(ctx.operations.get, op_id)
            data = converter.unstructure(op)
            if data != last:
                last = data
                kind = op.state if op.finished else "progress"
                yield ServerSentEventMessage(data=_json(data), event=kind)
            if op.finished:
                return
            await asyncio.sleep(POLL_SECONDS)

    return ServerSentEvent(events())


def _json(data: object) -> str:
    import json

    return json.dumps(data, separators=(",", ":"))


router = Router("/api/operations", route_handlers=[get_operation, follow_operation],
                tags=["operations"])
