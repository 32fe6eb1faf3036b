"""The dashboard's alert pages: the communications list, an alert's statistics, the log.

Figures come from the report plugins (``overview``, ``citizens``, ``log``); the recontact
button is shown only when the engine says the rules allow it, and asks for confirmation
since a recontact cannot be undone.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

import anyio.to_thread
from litestar import Request, Response, Router, get, post
from litestar.enums import RequestEncodingType
from litestar.exceptions import PermissionDeniedException
from litestar.params import Body, FromPath, Parameter
from litestar.response import ServerSentEvent, ServerSentEventMessage
from litestar.status_codes import HTTP_303_SEE_OTHER

from tocsin.errors import ValidationError
from tocsin.model import AlertState, Outcome
from tocsin.plugins.server.accounts import may_on_campaign
from tocsin.plugins.server.auth import Authenticated, Principal
from tocsin.plugins.server.context import Ctx, ServerContext
from tocsin.plugins.server.reporting import report_named
from tocsin.plugins.server.rights import Right, need
from tocsin.plugins.server.web.charts import pie
from tocsin.plugins.server.web.helpers import query_builder, when_formatter
from tocsin.plugins.server.web.i18n import translations
from tocsin.plugins.server.web.render import render, request_language
from tocsin.plugins.server.web.summaries import OverviewCache

Req = Request[Any, Any, Any]
LIVE_SECONDS = 1.0
OUTCOMES = (Outcome.CONTACTED, Outcome.IN_PROGRESS, Outcome.NOT_CONTACTED)


def engine_of(ctx: ServerContext) -> Any | None:
    return ctx.runtime.services.get("engine")


async def recontact_refusal(ctx: ServerContext, alert_id: int) -> str | None:
    """Why a recontact is not possible now (``None``: it is), as the engine's rules say."""
    engine = engine_of(ctx)
    if engine is None:
        return "the engine does not run in this server process"

    def ask() -> str | None:
        with ctx.store.engine.connect() as conn:
            refusal: str | None = engine.recontact_refusal(ctx.store.alerts.get(alert_id, conn),
                                                           conn)
            return refusal

    return await anyio.to_thread.run_sync(ask)


@get("/", opt=need(Right.ALERTS_READ), include_in_schema=False, sync_to_thread=True)
def communications(
    request: Req, ctx: Ctx, offset: Annotated[int, Parameter(ge=0)] = 0
) -> Response[str]:
    """Every communication, regular or in a campaign, most recently modified first."""
    limit = ctx.settings.page_size
    from tocsin.plugins.server import campaigns

    alerts = ctx.store.alerts.page(limit=limit + 1, offset=offset)
    return render(request, "alerts.html", alerts=alerts[:limit], has_more=len(alerts) > limit,
                  campaigns=campaigns.names(ctx.store.engine),
                  offset=offset, limit=limit, query=query_builder(request),
                  when=when_formatter(ctx))


def _counts(ctx: ServerContext, alert_id: int) -> dict[str, Any]:
    alert = ctx.store.alerts.get(alert_id)
    cache: OverviewCache = ctx.extras.setdefault("overviews", OverviewCache())
    overview = cache.get(alert, lambda: report_named(ctx, "overview").run(ctx.runtime,
                                                                          alert_id=alert_id))
    outcome = overview.total.outcome
    return {"contacted": outcome.contacted, "in_progress": outcome.in_progress,
            "not_contacted": outcome.not_contacted, "total": outcome.total,
            "state": str(alert.state), "overview": overview}


def _pie(ctx: ServerContext, counts: dict[str, Any], language: str) -> str:
    gettext = translations(language).gettext
    return pie([gettext("contacted"), gettext("in progress"), gettext("not contacted")],
               [counts["contacted"], counts["in_progress"], counts["not_contacted"]],
               gettext=gettext)


@get("/alerts/{alert_id:int}", opt=need(Right.ALERTS_READ), include_in_schema=False)
async def alert_page(
    request: Req,
    ctx: Ctx,
    principal: Authenticated,
    alert_id: FromPath[int],
    outcome: Annotated[str, Parameter(max_length=32)] = "",
    means: Annotated[str, Parameter(max_length=32)] = "",
    search: Annotated[str, Parameter(max_length=200)] = "",
    offset: Annotated[int, Parameter(ge=0)] = 0,
) -> Response[str]:
    """An alert's statistics: the pie, a report per means, the citizens, the recontact."""
    limit = ctx.settings.page_size
    language = request_language(request)

    def read() -> dict[str, Any]:
        alert = ctx.store.alerts.get(alert_id)
        counts = _counts(ctx, alert_id)
        citizens = report_named(ctx, "citizens").run(
            ctx.runtime, alert_id=alert_id, outcome=outcome or None, means=means or None,
            search=search, limit=limit, offset=offset)
        from tocsin.plugins.server import campaigns

        return {"alert": alert, "counts": counts, "citizens": citizens,
                "campaign": campaigns.names(ctx.store.engine).get(alert.campaign_id or 0, ""),
                "pie": _pie(ctx, counts, language),
                "may_modify": may_on_campaign(ctx.store.engine, principal.user, alert.campaign_id,
                                              "modify"),
                "may_export": may_on_campaign(ctx.store.engine, principal.user, alert.campaign_id,
                                              "export")}

    data = await anyio.to_thread.run_sync(read)
    refusal = None
    if principal.may(Right.ALERTS_RECONTACT) and data["may_modify"]:
        refusal = await recontact_refusal(ctx, alert_id)
    else:
        refusal = "not allowed to you"
    live = data["alert"].state in (AlertState.SENDING, AlertState.SENT)
    return render(request, "alert.html", **data, overview=data["counts"]["overview"],
                  recontact_refusal=refusal, live=live, outcomes=OUTCOMES,
                  filters={"outcome": outcome, "means": means, "search": search},
                  offset=offset, limit=limit, has_more=offset + limit < data["citizens"].total,
                  query=query_builder(request), when=when_formatter(ctx),
                  message=request.query_params.get("message", ""))


@get("/alerts/{alert_id:int}/pie.svg", opt=need(Right.ALERTS_READ), include_in_schema=False)
async def alert_pie(request: Req, ctx: Ctx, alert_id: FromPath[int]) -> Response[str]:
    """The outcome pie alone (the live page reloads it as counts move)."""
    language = request_language(request)
    svg = await anyio.to_thread.run_sync(lambda: _pie(ctx, _counts(ctx, alert_id), language))
    return Response(svg, media_type="image/svg+xml", headers={"cache-control": "no-store"})


@get("/alerts/{alert_id:int}/live", opt=need(Right.ALERTS_READ), include_in_schema=False)
async def alert_live(ctx: Ctx, alert_id: FromPath[int]) -> ServerSentEvent:
    """Server-sent ``counts`` events whenever the outcome counts change, until finished;
    ``recontact_open`` tells the page when the recontact becomes possible."""
    await anyio.to_thread.run_sync(ctx.store.alerts.get, alert_id)

    async def events() -> AsyncIterator[ServerSentEventMessage]:
        last = None
        while True:
            counts = await anyio.to_thread.run_sync(_counts, ctx, alert_id)
            counts.pop("overview")
            counts["recontact_open"] = await recontact_refusal(ctx, alert_id) is None
            if counts != last:
                last = counts
                yield ServerSentEventMessage(data=json.dumps(counts), event="counts")
            if counts["state"] in (AlertState.FINISHED, AlertState.CANCELLED):
                return
            await asyncio.sleep(LIVE_SECONDS)

    return ServerSentEvent(events())


@post("/alerts/{alert_id:int}/recontact", opt=need(Right.ALERTS_RECONTACT),
      include_in_schema=False)
async def recontact(
    request: Req, ctx: Ctx, principal: Authenticated, alert_id: FromPath[int],
    data: Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> Response[str]:
    """Recontact the uncontacted contacts, once the confirmation box is ticked."""
    gettext = translations(request_language(request)).gettext
    if data.get("confirm") != "yes":
        raise ValidationError(gettext("Tick the box to confirm: a recontact cannot be undone."))
    await _check_modify(ctx, principal, alert_id)
    engine = engine_of(ctx)
    if engine is None:
        raise ValidationError("the engine does not run in this server process")
    await engine.recontact(alert_id, by=principal.user_id)
    message = gettext("Recontact started: every contact not reached yet is attempted again.")
    root = request.scope.get("root_path", "")
    from urllib.parse import quote

    return Response("", status_code=HTTP_303_SEE_OTHER,
                    headers={"location": f"{root}/alerts/{alert_id}?message={quote(message)}"})


@post("/alerts/{alert_id:int}/cancel", opt=need(Right.ALERTS_SEND), include_in_schema=False)
async def cancel(request: Req, ctx: Ctx, principal: Authenticated,
                 alert_id: FromPath[int]) -> Response[str]:
    """Cancel an alert being sent: waiting attempts are cancelled, those in flight finish."""
    from urllib.parse import quote

    await _check_modify(ctx, principal, alert_id)
    engine = engine_of(ctx)
    if engine is None:
        raise ValidationError("the engine does not run in this server process")
    await engine.cancel(alert_id)
    message = translations(request_language(request)).gettext("The alert was cancelled.")
    root = request.scope.get("root_path", "")
    return Response("", status_code=HTTP_303_SEE_OTHER,
                    headers={"location": f"{root}/alerts/{alert_id}?message={quote(message)}"})


async def _check_modify(ctx: ServerContext, principal: Principal, alert_id: int) -> None:
    def check() -> None:
        alert = ctx.store.alerts.get(alert_id)
        if not may_on_campaign(ctx.store.engine, principal.user, alert.campaign_id, "modify"):
            raise PermissionDeniedException(f"you may not modify campaign {alert.campaign_id}")

    await anyio.to_thread.run_sync(check)


@get("/log", opt=need(Right.REPORTS_READ), include_in_schema=False)
async def log_page(
    request: Req,
    ctx: Ctx,
    period: Annotated[str, Parameter(max_length=32)] = "this-week",
    start: Annotated[str, Parameter(max_length=10)] = "",
    end: Annotated[str, Parameter(max_length=10)] = "",
    means: Annotated[str, Parameter(max_length=32)] = "",
    offset: Annotated[int, Parameter(ge=0)] = 0,
) -> Response[str]:
    """Every attempt of a period, newest first, with the period picker and the export."""
    from tocsin.plugins.reports.periods import KINDS

    limit = ctx.settings.page_size
    values: dict[str, Any] = {"period": period, "means": means or None, "limit": limit,
                              "offset": offset}
    if period == "custom":
        values.update(start=start, end=end)
    page = await anyio.to_thread.run_sync(lambda: report_named(ctx, "log").run(ctx.runtime,
                                                                               **values))
    export = {k: v for k, v in values.items() if v not in (None, "") and k not in ("limit",
                                                                                    "offset")}
    from urllib.parse import urlencode

    return render(request, "log.html", page=page, periods=KINDS, period=period, start=start,
                  end=end, means=means, offset=offset, limit=limit,
                  has_more=offset + limit < page.total, query=query_builder(request),
                  when=when_formatter(ctx), export_query=urlencode(export),
                  all_means=sorted(ctx.runtime.registry.status_machines))


def routers() -> list[Any]:
    return [Router("/", route_handlers=[communications, alert_page, alert_pie, alert_live,
                                        recontact, cancel, log_page], include_in_schema=False)]
