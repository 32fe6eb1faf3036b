"""The dashboard's pages: sign in and out, settings, contacts, channels.

Pages of alerts, the communications log and exports are in
:mod:`tocsin.plugins.server.web.alert_pages`.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated, Any

import anyio.to_thread
from litestar import Request, Response, Router, get, post
from litestar.enums import RequestEncodingType
from litestar.exceptions import PermissionDeniedException
from litestar.params import Body, FromPath, Parameter, QueryParameter
from litestar.status_codes import HTTP_303_SEE_OTHER, HTTP_429_TOO_MANY_REQUESTS

from tocsin.errors import NotFoundError, ValidationError
from tocsin.plugins.server import accounts
from tocsin.plugins.server.auth import Authenticated
from tocsin.plugins.server.context import Ctx
from tocsin.plugins.server.passwords import hash_password, needs_rehash, verify_password
from tocsin.plugins.server.rights import Right, need
from tocsin.plugins.server.sessions import COOKIE
from tocsin.plugins.server.web.helpers import query_builder, safe_next, when_formatter
from tocsin.plugins.server.web.i18n import translations
from tocsin.plugins.server.web.render import render, request_language

LOGIN_CSRF_COOKIE = "tocsin_login_csrf"
Form = Body(media_type=RequestEncodingType.URL_ENCODED)
Req = Request[Any, Any, Any]


def _redirect(request: Req, path: str, **cookies: Any) -> Response[str]:
    root = request.scope.get("root_path", "")
    return Response("", status_code=HTTP_303_SEE_OTHER, headers={"location": f"{root}{path}"})


def _client_ip(request: Req) -> str:
    return request.client.host if request.client else ""


@get("/login", opt=need(Right.PUBLIC), include_in_schema=False)
async def login_page(
    request: Req, next_: Annotated[str, QueryParameter(name="next")] = "/"
) -> Response[str]:
    token = secrets.token_urlsafe(24)
    response = render(request, "login.html", login_csrf=token, next=safe_next(next_), username="",
                      error="")
    response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict",
                        path=request.scope.get("root_path", "") + "/login")
    return response


@post("/login", opt=need(Right.PUBLIC), include_in_schema=False)
async def login(
    request: Req, ctx: Ctx, data: Annotated[dict[str, str], Form]
) -> Response[str]:
    """Check the password (throttled); open a session and set its signed cookie."""
    username = str(data.get("username", "")).strip()
    password = str(data.get("password", ""))
    target = safe_next(str(data.get("next", "/")))
    sent, expected = str(data.get("csrf_token", "")), request.cookies.get(LOGIN_CSRF_COOKIE, "")
    gettext = translations(request_language(request)).gettext

    def again(message: str, status: int) -> Response[str]:
        token = secrets.token_urlsafe(24)
        page = render(request, "login.html", status_code=status, login_csrf=token, next=target,
                      username=username, error=message)
        page.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict",
                        path=request.scope.get("root_path", "") + "/login")
        return page

    if not expected or not hmac.compare_digest(sent, expected):
        return again(gettext("The form expired; please sign in again."), 403)
    ip = _client_ip(request)
    now = ctx.now()
    wait = await anyio.to_thread.run_sync(lambda: ctx.throttle.retry_after(username, ip, now=now))
    if wait:
        page = again(gettext("Too many failed attempts; try again in %(s)d seconds.") % {"s": wait},
                     HTTP_429_TOO_MANY_REQUESTS)
        page.headers["retry-after"] = str(wait)
        return page

    def check() -> int | None:
        try:
            user, stored = ctx.store.users.by_username(username)
        except NotFoundError:
            verify_password(None, password)  # same time as a wrong password
            return None
        if not (user.active and verify_password(stored, password)):
            return None
        assert user.id is not None and stored is not None
        if needs_rehash(stored):
            ctx.store.users.set_password_hash(user.id, hash_password(password))
        return user.id

    user_id = await anyio.to_thread.run_sync(check)
    await anyio.to_thread.run_sync(
        lambda: ctx.throttle.record(username, ip, user_id is not None, now=now)
    )
    if user_id is None:
        return again(gettext("Wrong username or password."), 401)
    secret, _ = await anyio.to_thread.run_sync(
        lambda: ctx.sessions.open(user_id, now=now, lifetime=ctx.settings.session_seconds, ip=ip)
    )
    response = _redirect(request, target)
    root = request.scope.get("root_path", "") or "/"
    response.set_cookie(COOKIE, ctx.signer.sign(secret), httponly=True, samesite="lax",
                        secure=ctx.settings.cookie_secure, path=root,
                        max_age=ctx.settings.session_seconds)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path=request.scope.get("root_path", "") + "/login")
    return response


@post("/logout", opt=need(Right.AUTHENTICATED), include_in_schema=False)
async def logout(request: Req, ctx: Ctx, principal: Authenticated) -> Response[str]:
    if principal.session is not None:
        session = principal.session
        await anyio.to_thread.run_sync(lambda: ctx.sessions.close(session.key))
    response = _redirect(request, "/login")
    response.delete_cookie(COOKIE, path=request.scope.get("root_path", "") or "/")
    return response


@get("/settings", opt=need(Right.AUTHENTICATED), include_in_schema=False, sync_to_thread=True)
def settings_page(request: Req, ctx: Ctx, principal: Authenticated) -> Response[str]:
    return _settings(request, ctx, principal)


def _settings(request: Req, ctx: Ctx, principal: Authenticated, **extra: Any) -> Response[str]:
    return render(request, "settings.html", tokens=ctx.tokens.list(principal.user_id),
                  when=when_formatter(ctx), **extra)


@post("/settings", opt=need(Right.AUTHENTICATED), include_in_schema=False, sync_to_thread=True)
def save_settings(
    request: Req, ctx: Ctx, principal: Authenticated, data: Annotated[dict[str, str], Form]
) -> Response[str]:
    language = str(data.get("language", ""))
    if language not in ("", "fr", "en"):
        raise ValidationError(f"language: {language!r} is not offered")
    accounts.update_user(ctx.store.engine, principal.user_id, language=language)
    return _redirect(request, "/settings")


@post("/settings/tokens", opt=need(Right.AUTHENTICATED), include_in_schema=False,
      sync_to_thread=True)
def create_token_page(
    request: Req, ctx: Ctx, principal: Authenticated, data: Annotated[dict[str, str], Form]
) -> Response[str]:
    new = ctx.tokens.create(principal.user_id, str(data.get("name", "")), now=ctx.now())
    return _settings(request, ctx, principal, new_token=new.token)


@post("/settings/tokens/{token_id:int}/revoke", opt=need(Right.AUTHENTICATED),
      include_in_schema=False, sync_to_thread=True)
def revoke_token_page(
    request: Req, ctx: Ctx, principal: Authenticated, token_id: FromPath[int]
) -> Response[str]:
    if ctx.tokens.get(token_id).user_id != principal.user_id:
        raise PermissionDeniedException("this token is not yours")
    ctx.tokens.revoke(token_id, now=ctx.now())
    return _redirect(request, "/settings")


@get("/contacts", opt=need(Right.CONTACTS_READ), include_in_schema=False, sync_to_thread=True)
def contacts_page(
    request: Req,
    ctx: Ctx,
    search: Annotated[str, Parameter(max_length=200)] = "",
    offset: Annotated[int, Parameter(ge=0)] = 0,
) -> Response[str]:
    """Contacts with their means and whether each is verified."""
    from tocsin.plugins.server.verification import means_ids

    limit = ctx.settings.page_size
    found = ctx.store.contacts.page(search=search, limit=limit + 1, offset=offset)
    shown = found[:limit]
    return render(request, "contacts.html", contacts=shown, has_more=len(found) > limit,
                  total=ctx.store.contacts.count(), search=search, offset=offset, limit=limit,
                  query=query_builder(request),
                  means_ids=means_ids(ctx, [c.id for c in shown if c.id is not None]),
                  message=request.query_params.get("message", ""))


@post("/contacts/{contact_id:int}/means/{means_id:int}/verify", opt=need(Right.CONTACTS_WRITE),
      include_in_schema=False)
async def resend_verification_page(
    request: Req, ctx: Ctx, contact_id: FromPath[int], means_id: FromPath[int],
    data: Annotated[dict[str, str], Form],
) -> Response[str]:
    """Resend a verification from the contacts page; back to the page with the result."""
    from urllib.parse import quote

    from tocsin.plugins.server.verification import resend

    gettext = translations(request_language(request)).gettext
    sent = await resend(ctx, contact_id, means_id, str(data.get("via", "")) or None)
    message = (gettext("Verification sent to %(address)s.") % {"address": sent.address}
               if not sent.error else gettext("Verification not sent: %(error)s") %
               {"error": sent.error})
    back = safe_next(str(data.get("back", "/contacts")))
    separator = "&" if "?" in back else "?"
    return _redirect(request, f"{back}{separator}message={quote(message)}")


@get("/channels", opt=need(Right.SYSTEM_READ), include_in_schema=False, sync_to_thread=True)
def channels_page(request: Req, ctx: Ctx) -> Response[str]:
    """Channels and modems with their health."""
    from tocsin.plugins.server.api.system import channel_infos

    return render(request, "channels.html", channels=channel_infos(ctx.runtime))


def routers() -> list[Any]:
    from tocsin.plugins.server.web import admin, alert_pages, compose, import_pages

    return [
        Router("/", route_handlers=[login_page, login, logout, settings_page, save_settings,
                                    create_token_page, revoke_token_page, contacts_page,
                                    resend_verification_page,
                                    channels_page], include_in_schema=False),
        *compose.routers(),
        *admin.routers(),
        *import_pages.routers(),
        *alert_pages.routers(),
    ]
