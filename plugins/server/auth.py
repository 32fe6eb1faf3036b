"""Who is asking: a bearer API token or a session cookie; and the guard every route passes.

The guard reads the right the route declared (:mod:`tocsin.plugins.server.rights`),
authenticates the request when the right is not ``public``, refuses a user who lacks the
right, and, for a request authenticated by cookie that changes something, requires the
session's CSRF token (form field ``csrf_token`` or header ``X-CSRF-Token``).
"""

from __future__ import annotations

import hmac

import anyio.to_thread
from attrs import frozen
from litestar import Request
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler

from tocsin.errors import NotFoundError
from tocsin.model import User
from tocsin.plugins.server.context import ServerContext
from tocsin.plugins.server.rights import Right, declared, rights_of
from tocsin.plugins.server.sessions import COOKIE, Session

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
STATE_KEY = "tocsin_principal"


@frozen
class Principal:
    """An authenticated user, how they proved it, and what they may do."""

    user: User
    rights: frozenset[Right]
    via: str  # "session" or "token"
    session: Session | None = None

    @property
    def user_id(self) -> int:
        assert self.user.id is not None
        return self.user.id

    def may(self, right: Right) -> bool:
        return right in self.rights


def context_of(connection: ASGIConnection) -> ServerContext:  # type: ignore[type-arg]
    ctx: ServerContext = connection.app.state["tocsin"]
    return ctx


def _authenticate(ctx: ServerContext, bearer: str | None, cookie: str | None) -> Principal | None:
    now = ctx.now()
    session: Session | None = None
    user_id: int | None = None
    via = ""
    if bearer:
        user_id, via = ctx.tokens.authenticate(bearer, now=now), "token"
    elif cookie:
        secret = ctx.signer.unsign(cookie)
        session = ctx.sessions.find(secret, now=now) if secret else None
        user_id, via = (session.user_id if session else None), "session"
    if user_id is None:
        return None
    try:
        user = ctx.store.users.get(user_id)
    except NotFoundError:
        return None
    if not user.active:
        return None
    return Principal(user, rights_of(user.role), via, session)


def _bearer(connection: ASGIConnection) -> str | None:  # type: ignore[type-arg]
    header = connection.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


async def principal_of(connection: ASGIConnection) -> Principal | None:  # type: ignore[type-arg]
    """The request's principal (computed once per request), or ``None`` if anonymous."""
    state = connection.scope.setdefault("state", {})
    if STATE_KEY not in state:
        ctx = context_of(connection)
        state[STATE_KEY] = await anyio.to_thread.run_sync(
            _authenticate, ctx, _bearer(connection), connection.cookies.get(COOKIE)
        )
    principal: Principal | None = state[STATE_KEY]
    return principal


async def _check_csrf(connection: ASGIConnection, session: Session) -> None:  # type: ignore[type-arg]
    sent = connection.headers.get(CSRF_HEADER)
    if sent is None and isinstance(connection, Request):
        content_type = connection.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await connection.form()
            value = form.get(CSRF_FIELD)
            sent = value if isinstance(value, str) else None
    if not sent or not hmac.compare_digest(sent, session.csrf_token):
        raise PermissionDeniedException("missing or wrong CSRF token; reload the page and retry")


def is_schema_path(path: str) -> bool:
    return path == "/api/schema" or path.startswith("/api/schema/")


async def guard(connection: ASGIConnection, handler: BaseRouteHandler) -> None:  # type: ignore[type-arg]
    """The one guard of the application (see the module documentation)."""
    right = declared(handler.opt)
    if right is None:
        route_path = connection.scope.get("path", "")
        root = connection.scope.get("root_path", "")
        if is_schema_path(route_path.removeprefix(root)):
            return
        raise PermissionDeniedException("this route declares no right, so it is refused")
    if right is Right.PUBLIC:
        return
    principal = await principal_of(connection)
    if principal is None:
        raise NotAuthorizedException("sign in, or send an API token as 'Authorization: Bearer ...'")
    if not principal.may(right):
        raise PermissionDeniedException(f"your role ({principal.user.role}) lacks the right {right}")
    if principal.via == "session" and connection.scope.get("method", "GET") not in SAFE_METHODS:
        assert principal.session is not None
        await _check_csrf(connection, principal.session)


async def provide_principal(request: Request) -> Principal:  # type: ignore[type-arg]
    """Dependency: the authenticated principal (the guard has already required one)."""
    principal = await principal_of(request)
    if principal is None:
        raise NotAuthorizedException("sign in first")
    return principal


async def provide_context(request: Request) -> ServerContext:  # type: ignore[type-arg]
    return context_of(request)


Authenticated = NamedDependency[Principal]
"""Annotation of a handler parameter that receives the request's :class:`Principal`."""
