"""Rights: what a route needs, what each role has, and the guard that checks it.

Every route handler declares the right it needs in its ``opt`` (``opt=need(Right.X)``);
the application's single guard refuses a route that declares none. Roles map to sets of
rights; per-campaign rights (modify, export) narrow what an operator may do with the
alerts of one campaign (see :mod:`tocsin.plugins.server.campaign_rights`).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any

from tocsin.model import Role


class Right(enum.StrEnum):
    """A capability a route requires."""

    PUBLIC = "public"
    """No login: the login page, provider webhooks (they check a signature instead)."""
    AUTHENTICATED = "authenticated"
    """Any signed-in user: their own profile, tokens and the dashboard's home."""
    CONTACTS_READ = "contacts:read"
    CONTACTS_WRITE = "contacts:write"
    ALERTS_READ = "alerts:read"
    ALERTS_SEND = "alerts:send"
    ALERTS_RECONTACT = "alerts:recontact"
    CAMPAIGNS_READ = "campaigns:read"
    CAMPAIGNS_WRITE = "campaigns:write"
    REPORTS_READ = "reports:read"
    EXPORTS = "exports"
    SYSTEM_READ = "system:read"
    """Plugins, channels and their health."""
    USERS_ADMIN = "users:admin"
    WEBHOOKS_ADMIN = "webhooks:admin"


_AGENT = frozenset(
    {Right.AUTHENTICATED, Right.CONTACTS_READ, Right.ALERTS_READ, Right.CAMPAIGNS_READ}
)
_OPERATOR = _AGENT | {
    Right.CONTACTS_WRITE,
    Right.ALERTS_SEND,
    Right.ALERTS_RECONTACT,
    Right.CAMPAIGNS_WRITE,
    Right.REPORTS_READ,
    Right.EXPORTS,
    Right.SYSTEM_READ,
}
ROLE_RIGHTS: Mapping[Role, frozenset[Right]] = {
    Role.AGENT: _AGENT,
    Role.OPERATOR: frozenset(_OPERATOR),
    Role.ADMINISTRATOR: frozenset(Right) - {Right.PUBLIC},
}
"""What each role may do; ``PUBLIC`` routes need no role at all."""

OPT_KEY = "tocsin_right"


def need(right: Right) -> dict[str, Any]:
    """The ``opt`` a route handler declares: ``@get("/x", opt=need(Right.CONTACTS_READ))``."""
    return {OPT_KEY: right}


def rights_of(role: Role) -> frozenset[Right]:
    return ROLE_RIGHTS[role]


def declared(opt: Mapping[str, Any]) -> Right | None:
    """The right a handler declared, or ``None`` when it declared none (it is refused)."""
    value = opt.get(OPT_KEY)
    return Right(value) if value is not None else None
