"""``/api/webhooks``: integrators' subscriptions and their delivery log (administrators)."""

from __future__ import annotations

from attrs import field, frozen
from litestar import Router, delete, get, patch, post
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_204_NO_CONTENT

from tocsin.plugins.server.api.common import Count, Limit, Offset
from tocsin.plugins.server.auth import Authenticated
from tocsin.plugins.server.context import Ctx
from tocsin.plugins.server.rights import Right, need
from tocsin.plugins.server.webhooks import Delivery, NewWebhook, Webhook


@frozen
class WebhookIn:
    """A URL and the events it wants: ``attempt.status``, ``alert.sent``, ``alert.finished``."""

    url: str
    events: list[str] = field(factory=lambda: ["attempt.status", "alert.sent", "alert.finished"])
    description: str = ""


@frozen
class WebhookChange:
    active: bool


@get("/", opt=need(Right.WEBHOOKS_ADMIN), sync_to_thread=True)
def list_webhooks(ctx: Ctx) -> list[Webhook]:
    return ctx.webhooks.subscriptions()


@post("/", opt=need(Right.WEBHOOKS_ADMIN), sync_to_thread=True)
def subscribe(ctx: Ctx, principal: Authenticated, data: JSONBody[WebhookIn]) -> NewWebhook:
    """Subscribe a URL; the signing secret is in this answer only."""
    return ctx.webhooks.subscribe(data.url, data.events, description=data.description,
                                  created_by=principal.user_id)


@get("/{hook_id:int}", opt=need(Right.WEBHOOKS_ADMIN), sync_to_thread=True)
def get_webhook(ctx: Ctx, hook_id: FromPath[int]) -> Webhook:
    return ctx.webhooks.get(hook_id)


@patch("/{hook_id:int}", opt=need(Right.WEBHOOKS_ADMIN), sync_to_thread=True)
def change_webhook(ctx: Ctx, hook_id: FromPath[int], data: JSONBody[WebhookChange]) -> Webhook:
    """Pause or resume a subscription."""
    return ctx.webhooks.set_active(hook_id, data.active)


@delete("/{hook_id:int}", opt=need(Right.WEBHOOKS_ADMIN), sync_to_thread=True,
        status_code=HTTP_204_NO_CONTENT)
def unsubscribe(ctx: Ctx, hook_id: FromPath[int]) -> None:
    ctx.webhooks.remove(hook_id)


@post("/{hook_id:int}/ping", opt=need(Right.WEBHOOKS_ADMIN), sync_to_thread=True)
def ping(ctx: Ctx, hook_id: FromPath[int]) -> Count:
    """Queue a ``ping`` delivery to check the receiver and its signature check."""
    ctx.webhooks.get(hook_id)
    return Count(ctx.webhooks.enqueue("ping", [{"hello": "tocsin"}], only=hook_id))


@get("/{hook_id:int}/deliveries", opt=need(Right.WEBHOOKS_ADMIN), sync_to_thread=True)
def deliveries(ctx: Ctx, hook_id: FromPath[int], limit: Limit = 50,
               offset: Offset = 0) -> list[Delivery]:
    """The delivery log, newest first: state, tries, last HTTP status and error."""
    return ctx.webhooks.deliveries(hook_id, limit=limit, offset=offset)


router = Router("/api/webhooks", route_handlers=[list_webhooks, subscribe, get_webhook,
                                                  change_webhook, unsubscribe, ping, deliveries],
                tags=["webhooks"])
