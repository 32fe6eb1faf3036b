"""Administrators' pages: users, their roles and state, their rights on each campaign."""

from __future__ import annotations

from typing import Annotated, Any

import anyio.to_thread
from litestar import Request, Response, Router, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.status_codes import HTTP_303_SEE_OTHER

from tocsin.errors import TocsinError, ValidationError
from tocsin.model import Role, User
from tocsin.plugins.server import accounts, campaigns
from tocsin.plugins.server.accounts import CampaignRight
from tocsin.plugins.server.auth import Authenticated
from tocsin.plugins.server.context import Ctx, ServerContext
from tocsin.plugins.server.passwords import hash_password
from tocsin.plugins.server.rights import Right, need
from tocsin.plugins.server.web.helpers import when_formatter
from tocsin.plugins.server.web.render import render

Req = Request[Any, Any, Any]
Form = Body(media_type=RequestEncodingType.URL_ENCODED)


def _back(request: Req, path: str) -> Response[str]:
    root = request.scope.get("root_path", "")
    return Response("", status_code=HTTP_303_SEE_OTHER, headers={"location": f"{root}{path}"})


def _users_page(request: Req, ctx: ServerContext, error: str = "") -> Response[str]:
    return render(request, "users.html", users=ctx.store.users.list(), roles=list(Role),
                  error=error, when=when_formatter(ctx), status_code=400 if error else 200)


@get("/users", opt=need(Right.USERS_ADMIN), include_in_schema=False, sync_to_thread=True)
def users_page(request: Req, ctx: Ctx) -> Response[str]:
    return _users_page(request, ctx)


@post("/users", opt=need(Right.USERS_ADMIN), include_in_schema=False, sync_to_thread=True)
def add_user(request: Req, ctx: Ctx, data: Annotated[dict[str, str], Form]) -> Response[str]:
    """Create a user with a first password (they change it in their settings... or ask)."""
    try:
        role = Role(str(data.get("role", "operator")))
        ctx.store.users.create(
            User(str(data.get("username", "")).strip(), role=role,
                 display_name=str(data.get("display_name", "")).strip()),
            password_hash=hash_password(str(data.get("password", ""))), now=ctx.now())
    except (TocsinError, ValueError) as exc:
        return _users_page(request, ctx, str(exc))
    return _back(request, "/users")


@post("/users/{user_id:int}", opt=need(Right.USERS_ADMIN), include_in_schema=False,
      sync_to_thread=True)
def change_user(request: Req, ctx: Ctx, principal: Authenticated, user_id: FromPath[int],
                data: Annotated[dict[str, str], Form]) -> Response[str]:
    """Change a user's role and state (the last administrator stays one)."""
    target = ctx.store.users.get(user_id)
    role = Role(str(data.get("role", target.role)))
    active = data.get("active") == "on"
    demoted = role != Role.ADMINISTRATOR or not active
    if target.role == Role.ADMINISTRATOR and demoted and \
            accounts.active_administrators(ctx.store.engine) <= 1:
        return _users_page(request, ctx, "the last active administrator cannot be demoted or "
                                         "disabled")
    accounts.update_user(ctx.store.engine, user_id, role=role, active=active)
    if not active:
        ctx.sessions.close_all(user_id)
    return _back(request, "/users")


@get("/users/{user_id:int}/campaigns", opt=need(Right.USERS_ADMIN), include_in_schema=False,
     sync_to_thread=True)
def campaign_rights_page(request: Req, ctx: Ctx, user_id: FromPath[int]) -> Response[str]:
    user = ctx.store.users.get(user_id)
    items, _ = campaigns.page(ctx.store.engine, limit=500, offset=0)
    rights = {r.campaign_id: r for r in accounts.campaign_rights_of(ctx.store.engine, user_id)}
    return render(request, "campaign_rights.html", target=user, campaigns=items, rights=rights)


@post("/users/{user_id:int}/campaigns", opt=need(Right.USERS_ADMIN), include_in_schema=False)
async def save_campaign_rights(request: Req, ctx: Ctx, user_id: FromPath[int]) -> Response[str]:
    form = await request.form()
    wanted: dict[int, CampaignRight] = {}
    for key in form:
        what, _, number = str(key).partition("_")
        if what in ("modify", "export") and number.isdigit():
            current = wanted.get(int(number), CampaignRight(int(number)))
            wanted[int(number)] = CampaignRight(
                current.campaign_id, current.can_modify or what == "modify",
                current.can_export or what == "export")
    if len(wanted) > 500:
        raise ValidationError("too many campaigns at once")
    await anyio.to_thread.run_sync(accounts.set_campaign_rights, ctx.store.engine, user_id,
                                   list(wanted.values()))
    return _back(request, f"/users/{user_id}/campaigns")


def routers() -> list[Any]:
    return [Router("/", route_handlers=[users_page, add_user, change_user, campaign_rights_page,
                                        save_campaign_rights], include_in_schema=False)]
