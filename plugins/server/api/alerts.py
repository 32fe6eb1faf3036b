"""``/api/alerts`` and ``/api/attempts``: create, send, cancel and recontact alerts through
the engine; read their status, attempts and the events of each attempt.

Sending, cancelling and recontacting need the engine in this process (``tocsin serve``
starts it; a host application that mounts the server runs its own). An alert inside a
campaign also needs the campaign's *modify* right.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

import anyio.to_thread
from attrs import field, frozen
from litestar import Request, Router, get, post
from litestar.exceptions import HTTPException, PermissionDeniedException
from litestar.params import FromPath, FromQuery, JSONBody, Parameter
from litestar.response import ServerSentEvent, ServerSentEventMessage
from litestar.status_codes import HTTP_202_ACCEPTED, HTTP_503_SERVICE_UNAVAILABLE
from sqlalchemy import func, select

from tocsin.errors import ValidationError
from tocsin.model import (
    Alert,
    AlertState,
    Attempt,
    Audience,
    Category,
    EscalationPlan,
    EscalationStep,
    Message,
    Recontact,
    StatusEvent,
)
from tocsin.plugins.server.accounts import may_on_campaign
from tocsin.plugins.server.api.common import Limit, Offset, OperationStarted, Page, started
from tocsin.plugins.server.auth import Authenticated, Principal
from tocsin.plugins.server.context import Ctx, ServerContext
from tocsin.plugins.server.rights import Right, need
from tocsin.store.attempts import to_attempt
from tocsin.store.schema import alerts, attempts

Req = Request[Any, Any, Any]
LIVE_SECONDS = 1.0


@frozen
class StepIn:
    means: str
    after_seconds: float = 0


@frozen
class PlanIn:
    """An escalation plan: call first, SMS some minutes later if not reached, and so on."""

    steps: list[StepIn]
    cycles: int = 1
    cycle_interval_seconds: float = 1800


@frozen
class CategoryIn:
    name: str = "general"
    requires_confirmation: bool = False


@frozen
class AlertIn:
    """An alert as a client writes it: texts are Jinja2 templates over the contact's fields."""

    title: str
    messages: list[Message]
    category: CategoryIn = field(factory=CategoryIn)
    campaign_id: int | None = None
    reminder_offsets_seconds: list[float] | None = None
    plan: PlanIn | None = None
    target_confirmations: int | None = None


@frozen
class AudienceIn:
    """Who to send to: groups by name and contacts by id."""

    groups: list[str] = field(factory=list)
    contact_ids: list[int] = field(factory=list)


@frozen
class Counts:
    contacted: int
    in_progress: int
    not_contacted: int
    total: int


@frozen
class StatusOut:
    """Where an alert stands: outcome counts, attempts by means and status, what is left."""

    alert: Alert
    counts: Counts
    statuses: dict[str, dict[str, int]]
    audience: int
    open_timers: int
    recontacts: int
    recontact_refusal: str | None


@frozen
class AttemptDetail:
    attempt: Attempt
    events: list[StatusEvent]


def _seconds(values: list[float] | None, name: str) -> tuple[dt.timedelta, ...] | None:
    if values is None:
        return None
    if any(v < 0 or v > 30 * 86400 for v in values):
        raise ValidationError(f"{name}: each offset between 0 and 30 days (in seconds)")
    return tuple(dt.timedelta(seconds=v) for v in values)


def to_alert(data: AlertIn, principal: Principal) -> Alert:
    if not data.title.strip() or len(data.title) > 300:
        raise ValidationError("title: between 1 and 300 characters")
    if not data.messages:
        raise ValidationError("messages: at least one message (sms, call or email)")
    plan = None
    if data.plan is not None:
        if not data.plan.steps or data.plan.cycles < 1:
            raise ValidationError("plan: at least one step and one cycle")
        plan = EscalationPlan(
            steps=tuple(EscalationStep(s.means, dt.timedelta(seconds=max(s.after_seconds, 0)))
                        for s in data.plan.steps),
            cycles=data.plan.cycles,
            cycle_interval=dt.timedelta(seconds=max(data.plan.cycle_interval_seconds, 60)))
    if data.target_confirmations is not None and data.target_confirmations < 1:
        raise ValidationError("target_confirmations: at least 1, or null")
    return Alert(
        title=data.title.strip(), messages=tuple(data.messages),
        category=Category(data.category.name, data.category.requires_confirmation),
        campaign_id=data.campaign_id,
        reminder_offsets=_seconds(data.reminder_offsets_seconds, "reminder_offsets_seconds"),
        plan=plan, target_confirmations=data.target_confirmations, created_by=principal.user_id)


def engine_of(ctx: ServerContext) -> Any:
    engine = ctx.runtime.services.get("engine")
    if engine is None:
        raise HTTPException("the engine does not run in this server process",
                            status_code=HTTP_503_SERVICE_UNAVAILABLE)
    return engine


async def check_modify(ctx: ServerContext, principal: Principal, campaign_id: int | None) -> None:
    allowed = await anyio.to_thread.run_sync(
        lambda: may_on_campaign(ctx.store.engine, principal.user, campaign_id, "modify"))
    if not allowed:
        raise PermissionDeniedException(f"you may not modify campaign {campaign_id}")


async def _alert(ctx: ServerContext, alert_id: int) -> Alert:
    found: Alert = await anyio.to_thread.run_sync(ctx.store.alerts.get, alert_id)
    return found


@get("/", opt=need(Right.ALERTS_READ), sync_to_thread=True)
def list_alerts(ctx: Ctx, limit: Limit = 50, offset: Offset = 0,
                campaign_id: FromQuery[int | None] = None) -> Page[Alert]:
    """Alerts, regular and in campaigns, most recently modified first."""
    items = ctx.store.alerts.page(limit=limit, offset=offset, campaign_id=campaign_id)
    query = select(func.count()).select_from(alerts)
    if campaign_id is not None:
        query = query.where(alerts.c.campaign_id == campaign_id)
    with ctx.store.engine.connect() as conn:
        total = int(conn.execute(query).scalar_one())
    return Page(items, total, limit, offset)


@post("/", opt=need(Right.ALERTS_SEND))
async def create_alert(ctx: Ctx, principal: Authenticated, data: JSONBody[AlertIn]) -> Alert:
    """Check and store an alert as a draft (templates, means and channels are checked now)."""
    alert = to_alert(data, principal)
    if alert.campaign_id is not None:
        from tocsin.plugins.server import campaigns

        await anyio.to_thread.run_sync(campaigns.get, ctx.store.engine, alert.campaign_id)
    await check_modify(ctx, principal, alert.campaign_id)
    created: Alert = await engine_of(ctx).create(alert)
    return created


@get("/{alert_id:int}", opt=need(Right.ALERTS_READ), sync_to_thread=True)
def get_alert(ctx: Ctx, alert_id: FromPath[int]) -> Alert:
    found: Alert = ctx.store.alerts.get(alert_id)
    return found


@post("/{alert_id:int}/send", opt=need(Right.ALERTS_SEND), status_code=HTTP_202_ACCEPTED)
async def send_alert(ctx: Ctx, principal: Authenticated, request: Req, alert_id: FromPath[int],
                     data: JSONBody[AudienceIn]) -> OperationStarted:
    """Send a draft to groups and contacts; follow the operation, then the alert's events."""
    alert = await _alert(ctx, alert_id)
    await check_modify(ctx, principal, alert.campaign_id)
    engine = engine_of(ctx)
    if alert.state is not AlertState.DRAFT:
        raise ValidationError(f"alert {alert_id} is {alert.state}; only a draft can be sent")
    audience = Audience(groups=tuple(data.groups), contact_ids=tuple(data.contact_ids))
    if audience.empty:
        raise ValidationError("groups, contact_ids: name at least one group or contact")
    op = await anyio.to_thread.run_sync(lambda: ctx.operations.create("alert-send",
                                                                      principal.user_id))

    async def work() -> dict[str, Any]:
        sent = await engine.send(alert_id, audience, by=principal.user_id)
        return {"alert_id": sent.id, "state": str(sent.state),
                "status_url": f"{request.scope.get('root_path', '')}/api/alerts/{alert_id}/status"}

    ctx.operations.start_async(op, work)
    return started(op, request.scope.get("root_path", ""))


@post("/{alert_id:int}/cancel", opt=need(Right.ALERTS_SEND), status_code=200)
async def cancel_alert(ctx: Ctx, principal: Authenticated, alert_id: FromPath[int]) -> Alert:
    """Cancel: waiting attempts are cancelled, those in flight finish."""
    alert = await _alert(ctx, alert_id)
    await check_modify(ctx, principal, alert.campaign_id)
    cancelled: Alert = await engine_of(ctx).cancel(alert_id)
    return cancelled


@post("/{alert_id:int}/recontact", opt=need(Right.ALERTS_RECONTACT))
async def recontact_alert(ctx: Ctx, principal: Authenticated, alert_id: FromPath[int]) -> Recontact:
    """Recontact everyone not reached yet: only after the reminders; recorded; irreversible."""
    alert = await _alert(ctx, alert_id)
    await check_modify(ctx, principal, alert.campaign_id)
    done: Recontact = await engine_of(ctx).recontact(alert_id, by=principal.user_id)
    return done


async def status_of(ctx: ServerContext, alert_id: int) -> StatusOut:
    status = await engine_of(ctx).status(alert_id)
    c = status.counts
    return StatusOut(
        alert=status.alert, counts=Counts(c.contacted, c.in_progress, c.not_contacted, c.total),
        statuses={m: dict(s) for m, s in status.statuses.items()}, audience=status.audience,
        open_timers=len(status.open_timers), recontacts=status.recontacts,
        recontact_refusal=status.recontact_refusal)


@get("/{alert_id:int}/status", opt=need(Right.ALERTS_READ))
async def alert_status(ctx: Ctx, alert_id: FromPath[int]) -> StatusOut:
    """Outcome counts, attempts by means and status, timers left, whether recontact is open."""
    return await status_of(ctx, alert_id)


@get("/{alert_id:int}/events", opt=need(Right.ALERTS_READ))
async def alert_events(ctx: Ctx, alert_id: FromPath[int]) -> ServerSentEvent:
    """Server-sent ``status`` events each time the alert's figures change, until it ends."""
    await status_of(ctx, alert_id)

    async def events() -> AsyncIterator[ServerSentEventMessage]:
        from tocsin.serialize import converter

        last = None
        while True:
            status = await status_of(ctx, alert_id)
            data = json.dumps(converter.unstructure(status))
            if data != last:
                last = data
                yield ServerSentEventMessage(data=data, event="status")
            if status.alert.state in (AlertState.FINISHED, AlertState.CANCELLED):
                return
            await asyncio.sleep(LIVE_SECONDS)

    return ServerSentEvent(events())


@get("/{alert_id:int}/attempts", opt=need(Right.ALERTS_READ), sync_to_thread=True)
def alert_attempts(
    ctx: Ctx, alert_id: FromPath[int], limit: Limit = 50, offset: Offset = 0,
    means: Annotated[str | None, Parameter(max_length=32)] = None,
    status: Annotated[str | None, Parameter(max_length=32)] = None,
) -> Page[Attempt]:
    """The alert's attempts in id order, optionally of one means or status."""
    ctx.store.alerts.get(alert_id)
    where = [attempts.c.alert_id == alert_id]
    if means:
        where.append(attempts.c.means == means)
    if status is not None:
        where.append(attempts.c.status == status)
    with ctx.store.engine.connect() as conn:
        rows = conn.execute(select(attempts).where(*where).order_by(attempts.c.id)
                            .limit(limit).offset(offset)).all()
        total = int(conn.execute(select(func.count()).select_from(attempts).where(*where))
                    .scalar_one())
    return Page([to_attempt(r) for r in rows], total, limit, offset)


@get("/{attempt_id:int}", opt=need(Right.ALERTS_READ), sync_to_thread=True)
def get_attempt(ctx: Ctx, attempt_id: FromPath[int]) -> AttemptDetail:
    """One attempt and every status event received for it (applied, absorbed or refused)."""
    return AttemptDetail(ctx.store.attempts.get(attempt_id), ctx.store.attempts.events(attempt_id))


alerts_router = Router("/api/alerts", route_handlers=[
    list_alerts, create_alert, get_alert, send_alert, cancel_alert, recontact_alert, alert_status,
    alert_events, alert_attempts], tags=["alerts"])
attempts_router = Router("/api/attempts", route_handlers=[get_attempt], tags=["attempts"])
