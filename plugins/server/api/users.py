"""``/api/me`` (one's own profile and API tokens) and ``/api/users`` (administrators)."""

from __future__ import annotations

import datetime as dt

from attrs import frozen
from litestar import Router, delete, get, patch, post, put
from litestar.exceptions import PermissionDeniedException
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_204_NO_CONTENT

from tocsin.errors import ValidationError
from tocsin.model import Role, User
from tocsin.plugins.server import accounts
from tocsin.plugins.server.accounts import CampaignRight
from tocsin.plugins.server.auth import Authenticated
from tocsin.plugins.server.context import Ctx
from tocsin.plugins.server.passwords import hash_password, verify_password
from tocsin.plugins.server.rights import Right, need, rights_of
from tocsin.plugins.server.settings import LANGUAGES
from tocsin.plugins.server.tokens import ApiToken, NewToken


@frozen
class Me:
    """The signed-in user and what they may do."""

    user: User
    rights: list[str]
    campaign_rights: list[CampaignRight]


@frozen
class ProfileIn:
    display_name: str | None = None
    email: str | None = None
    language: str | None = None
    current_password: str | None = None
    new_password: str | None = None


@frozen
class TokenIn:
    name: str
    expires_at: dt.datetime | None = None


@frozen
class UserIn:
    username: str
    password: str
    role: Role = Role.OPERATOR
    display_name: str = ""
    email: str = ""
    language: str = ""


@frozen
class UserChange:
    role: Role | None = None
    active: bool | None = None
    display_name: str | None = None
    email: str | None = None
    language: str | None = None
    password: str | None = None


def _check_language(language: str | None) -> None:
    if language not in (None, "", *LANGUAGES):
        raise ValidationError(f"language: one of {', '.join(LANGUAGES)} (or empty: the browser's)")


def _check_texts(**texts: str | None) -> None:
    for name, value in texts.items():
        if value is not None and len(value) > 200:
            raise ValidationError(f"{name}: at most 200 characters")


@get("/", opt=need(Right.AUTHENTICATED), sync_to_thread=True)
def me(ctx: Ctx, principal: Authenticated) -> Me:
    return Me(
        principal.user,
        sorted(str(r) for r in principal.rights),
        accounts.campaign_rights_of(ctx.store.engine, principal.user_id),
    )


@patch("/", opt=need(Right.AUTHENTICATED), sync_to_thread=True)
def change_profile(ctx: Ctx, principal: Authenticated, data: JSONBody[ProfileIn]) -> User:
    """Change one's name, e-mail, language or password (the current one is required)."""
    _check_language(data.language)
    _check_texts(display_name=data.display_name, email=data.email)
    password = None
    if data.new_password is not None:
        _, stored = ctx.store.users.by_username(principal.user.username)
        if not verify_password(stored, data.current_password or ""):
            raise ValidationError("current_password: wrong password")
        hash_password(data.new_password)  # strength check before anything changes
        password = data.new_password
    accounts.update_user(
        ctx.store.engine, principal.user_id, display_name=data.display_name, email=data.email,
        language=data.language, password=password,
    )
    user: User = ctx.store.users.get(principal.user_id)
    return user


@get("/tokens", opt=need(Right.AUTHENTICATED), sync_to_thread=True)
def my_tokens(ctx: Ctx, principal: Authenticated) -> list[ApiToken]:
    return ctx.tokens.list(principal.user_id)


@post("/tokens", opt=need(Right.AUTHENTICATED), sync_to_thread=True)
def create_token(ctx: Ctx, principal: Authenticated, data: JSONBody[TokenIn]) -> NewToken:
    """A new API token acting as oneself; its secret is in this answer only."""
    return ctx.tokens.create(principal.user_id, data.name, now=ctx.now(), expires_at=data.expires_at)


@delete("/tokens/{token_id:int}", opt=need(Right.AUTHENTICATED), sync_to_thread=True,
        status_code=HTTP_204_NO_CONTENT)
def revoke_token(ctx: Ctx, principal: Authenticated, token_id: FromPath[int]) -> None:
    token = ctx.tokens.get(token_id)
    if token.user_id != principal.user_id and not principal.may(Right.USERS_ADMIN):
        raise PermissionDeniedException("this token is not yours")
    ctx.tokens.revoke(token_id, now=ctx.now())


@get("/", opt=need(Right.USERS_ADMIN), sync_to_thread=True)
def list_users(ctx: Ctx) -> list[User]:
    users: list[User] = ctx.store.users.list()
    return users


@post("/", opt=need(Right.USERS_ADMIN), sync_to_thread=True)
def create_user(ctx: Ctx, data: JSONBody[UserIn]) -> User:
    _check_language(data.language)
    _check_texts(username=data.username, display_name=data.display_name, email=data.email)
    password_hash = hash_password(data.password)
    user: User = ctx.store.users.create(
        User(username=data.username, display_name=data.display_name, email=data.email,
             role=data.role, language=data.language),
        password_hash=password_hash, now=ctx.now(),
    )
    return user


@get("/{user_id:int}", opt=need(Right.USERS_ADMIN), sync_to_thread=True)
def get_user(ctx: Ctx, user_id: FromPath[int]) -> User:
    user: User = ctx.store.users.get(user_id)
    return user


@patch("/{user_id:int}", opt=need(Right.USERS_ADMIN), sync_to_thread=True)
def change_user(
    ctx: Ctx, principal: Authenticated, user_id: FromPath[int], data: JSONBody[UserChange]
) -> User:
    """Change a user's role, state, profile or password; deactivating ends their sessions."""
    _check_language(data.language)
    _check_texts(display_name=data.display_name, email=data.email)
    target = ctx.store.users.get(user_id)
    demoted = (data.role not in (None, Role.ADMINISTRATOR)) or data.active is False
    if target.role == Role.ADMINISTRATOR and demoted and accounts.active_administrators(
        ctx.store.engine
    ) <= 1:
        raise ValidationError("role: the last active administrator cannot be demoted or disabled")
    accounts.update_user(
        ctx.store.engine, user_id, role=data.role, active=data.active,
        display_name=data.display_name, email=data.email, language=data.language,
        password=data.password,
    )
    if data.active is False or data.password is not None:
        ctx.sessions.close_all(user_id)
    user: User = ctx.store.users.get(user_id)
    return user


@get("/{user_id:int}/campaign-rights", opt=need(Right.USERS_ADMIN), sync_to_thread=True)
def get_campaign_rights(ctx: Ctx, user_id: FromPath[int]) -> list[CampaignRight]:
    ctx.store.users.get(user_id)
    return accounts.campaign_rights_of(ctx.store.engine, user_id)


@put("/{user_id:int}/campaign-rights", opt=need(Right.USERS_ADMIN), sync_to_thread=True)
def put_campaign_rights(
    ctx: Ctx, user_id: FromPath[int], data: JSONBody[list[CampaignRight]]
) -> list[CampaignRight]:
    """Replace the user's rights to modify and to export each campaign."""
    accounts.set_campaign_rights(ctx.store.engine, user_id, data)
    return accounts.campaign_rights_of(ctx.store.engine, user_id)


@get("/roles", opt=need(Right.USERS_ADMIN), sync_to_thread=False)
def list_roles() -> dict[str, list[str]]:
    """Each role and the rights it carries."""
    return {str(role): sorted(str(r) for r in rights_of(role)) for role in Role}


me_router = Router("/api/me", route_handlers=[me, change_profile, my_tokens, create_token,
                                               revoke_token], tags=["me"])
users_router = Router("/api/users", route_handlers=[list_users, create_user, get_user, change_user,
                                                     get_campaign_rights, put_campaign_rights,
                                                     list_roles], tags=["users"])
