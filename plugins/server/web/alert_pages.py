"""The dashboard's alert pages: the communications list, an alert's statistics, the log."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, Response, Router, get
from litestar.params import Parameter

from tocsin.plugins.server.context import Ctx
from tocsin.plugins.server.rights import Right, need
from tocsin.plugins.server.web.helpers import query_builder, when_formatter
from tocsin.plugins.server.web.render import render

Req = Request[Any, Any, Any]


@get("/", opt=need(Right.ALERTS_READ), include_in_schema=False, sync_to_thread=True)
def communications(
    request: Req, ctx: Ctx, offset: Annotated[int, Parameter(ge=0)] = 0
) -> Response[str]:
    """Every communication, regular or in a campaign, most recently modified first."""
    limit = ctx.settings.page_size
    alerts = ctx.store.alerts.page(limit=limit + 1, offset=offset)
    return render(request, "alerts.html", alerts=alerts[:limit], has_more=len(alerts) > limit,
                  offset=offset, limit=limit, query=query_builder(request),
                  when=when_formatter(ctx))


def routers() -> list[Any]:
    return [Router("/", route_handlers=[communications], include_in_schema=False)]
