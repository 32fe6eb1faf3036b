"""The page that writes and sends an alert: title, category, a message per means, groups."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import anyio.to_thread
from litestar import Request, Response, Router, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.status_codes import HTTP_303_SEE_OTHER

from tocsin.errors import TocsinError, ValidationError
from tocsin.model import Alert, Audience, Category, Message
from tocsin.plugins.server.accounts import may_on_campaign
from tocsin.plugins.server.auth import Authenticated
from tocsin.plugins.server.context import Ctx, ServerContext
from tocsin.plugins.server.rights import Right, need
from tocsin.plugins.server.web.render import render

Req = Request[Any, Any, Any]
MEANS = ("sms", "call", "email")


def _offsets(text: str) -> tuple[dt.timedelta, ...] | None:
    if not text.strip():
        return None
    try:
        minutes = [float(v) for v in text.replace(";", ",").split(",") if v.strip()]
    except ValueError:
        raise ValidationError(f"reminders: {text!r} is not a list of minutes (e.g. 30, 60)"
                              ) from None
    if any(m < 0 for m in minutes) or minutes != sorted(minutes):
        raise ValidationError("reminders: increasing minutes, e.g. 30, 60")
    return tuple(dt.timedelta(minutes=m) for m in minutes)


def alert_from_form(form: Any, user_id: int) -> tuple[Alert, Audience]:
    """The alert and audience the form describes; the error names the bad field."""
    title = str(form.get("title", "")).strip()
    if not title:
        raise ValidationError("title: an alert needs a title")
    messages = []
    for means in MEANS:
        if form.get(f"use_{means}") != "on":
            continue
        text = str(form.get(f"{means}_text", "")).strip()
        if not text:
            raise ValidationError(f"{means}: the message is empty")
        messages.append(Message(means, text, subject=str(form.get(f"{means}_subject", "")).strip()))
    if not messages:
        raise ValidationError("means: choose at least one means (SMS, call, e-mail)")
    groups = tuple(str(g) for g in form.getall("groups", []) if str(g))
    if not groups:
        raise ValidationError("groups: choose at least one group")
    category = Category(str(form.get("category", "")).strip() or "general",
                        requires_confirmation=form.get("requires_confirmation") == "on")
    campaign = str(form.get("campaign_id", "") or "")
    if campaign and not campaign.isdigit():
        raise ValidationError(f"campaign: {campaign!r} is not a campaign")
    alert = Alert(title, tuple(messages), category=category,
                  campaign_id=int(campaign) if campaign else None,
                  reminder_offsets=_offsets(str(form.get("reminders", ""))), created_by=user_id)
    return alert, Audience(groups=groups)


def _page(request: Req, ctx: ServerContext, error: str = "", form: Any = None) -> Response[str]:
    from tocsin.plugins.server import campaigns

    groups = ctx.store.groups.list()
    return render(request, "compose.html", groups=groups, error=error, form=form or {},
                  campaigns=campaigns.names(ctx.store.engine, active_only=True),
                  status_code=400 if error else 200)


@get("/alerts/new", opt=need(Right.ALERTS_SEND), include_in_schema=False, sync_to_thread=True)
def compose(request: Req, ctx: Ctx) -> Response[str]:
    return _page(request, ctx)


@post("/alerts/new", opt=need(Right.ALERTS_SEND), include_in_schema=False)
async def send(
    request: Req, ctx: Ctx, principal: Authenticated,
    data: Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> Response[str]:
    """Create the alert and send it now; then show its statistics."""
    form = await request.form()
    engine = ctx.runtime.services.get("engine")
    try:
        if engine is None:
            raise ValidationError("the engine does not run in this server process")
        alert, audience = alert_from_form(form, principal.user_id)
        if alert.campaign_id is not None:
            from tocsin.plugins.server import campaigns

            campaigns.get(ctx.store.engine, alert.campaign_id)
        if not may_on_campaign(ctx.store.engine, principal.user, alert.campaign_id, "modify"):
            raise ValidationError("you may not modify this campaign")
        sent = await engine.send(alert, audience, by=principal.user_id)
    except TocsinError as exc:
        error = str(exc)
        return await anyio.to_thread.run_sync(lambda: _page(request, ctx, error, form))
    root = request.scope.get("root_path", "")
    return Response("", status_code=HTTP_303_SEE_OTHER,
                    headers={"location": f"{root}/alerts/{sent.id}"})


def routers() -> list[Any]:
    return [Router("/", route_handlers=[compose, send], include_in_schema=False)]
