"""Changes to users the core's repository does not make: role, state, password, rights.

Per-campaign rights: an administrator may do anything with any campaign; another user
may modify a campaign (and send, cancel or recontact its alerts) when granted *modify*
or when they are its referent, and export it when granted *export*.
"""

from __future__ import annotations

from typing import Any

from attrs import frozen
from sqlalchemy import Engine, delete, insert, select, update

from tocsin.errors import NotFoundError, ValidationError
from tocsin.model import Role, User
from tocsin.plugins.server.passwords import hash_password
from tocsin.store.schema import campaign_rights, campaigns, users


@frozen
class CampaignRight:
    campaign_id: int
    can_modify: bool = False
    can_export: bool = False


def update_user(engine: Engine, user_id: int, **values: Any) -> None:
    """Set fields of a user (``password`` is hashed); unknown fields are refused."""
    allowed = {"display_name", "email", "role", "language", "active", "password"}
    if unknown := set(values) - allowed:
        raise ValidationError(f"cannot change {sorted(unknown)}")
    row: dict[str, Any] = {k: v for k, v in values.items() if v is not None and k != "password"}
    if "role" in row:
        row["role"] = str(Role(row["role"]))
    if values.get("password") is not None:
        row["password_hash"] = hash_password(values["password"])
    if not row:
        return
    with engine.begin() as conn:
        if not conn.execute(update(users).where(users.c.id == user_id).values(row)).rowcount:
            raise NotFoundError(f"no user with id {user_id}")


def active_administrators(engine: Engine) -> int:
    with engine.connect() as conn:
        return len(
            conn.execute(
                select(users.c.id).where(
                    users.c.role == str(Role.ADMINISTRATOR), users.c.active.is_(True)
                )
            ).all()
        )


def campaign_rights_of(engine: Engine, user_id: int) -> list[CampaignRight]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(campaign_rights).where(campaign_rights.c.user_id == user_id)
            .order_by(campaign_rights.c.campaign_id)
        )
        return [CampaignRight(r.campaign_id, r.can_modify, r.can_export) for r in rows]


def set_campaign_rights(engine: Engine, user_id: int, rights: list[CampaignRight]) -> None:
    """Replace a user's per-campaign rights (all or nothing)."""
    wanted = {r.campaign_id for r in rights}
    if len(wanted) != len(rights):
        raise ValidationError("rights: a campaign is listed twice")
    with engine.begin() as conn:
        if conn.execute(select(users.c.id).where(users.c.id == user_id)).first() is None:
            raise NotFoundError(f"no user with id {user_id}")
        known = set(conn.execute(select(campaigns.c.id).where(campaigns.c.id.in_(wanted))).scalars())
        if missing := sorted(wanted - known):
            raise NotFoundError(f"rights: no campaign with id {missing[0]}")
        conn.execute(delete(campaign_rights).where(campaign_rights.c.user_id == user_id))
        if rights:
            conn.execute(
                insert(campaign_rights),
                [{"user_id": user_id, "campaign_id": r.campaign_id, "can_modify": r.can_modify,
                  "can_export": r.can_export} for r in rights],
            )


def may_on_campaign(engine: Engine, user: User, campaign_id: int | None, what: str) -> bool:
    """Whether ``user`` may ``what`` (``"modify"`` or ``"export"``) campaign ``campaign_id``.

    Alerts outside any campaign (``None``) follow the role's rights alone.
    """
    if campaign_id is None or user.role == Role.ADMINISTRATOR:
        return True
    with engine.connect() as conn:
        referent = conn.execute(
            select(campaigns.c.referent_user_id).where(campaigns.c.id == campaign_id)
        ).scalar_one_or_none()
        if what == "modify" and referent is not None and referent == user.id:
            return True
        row = conn.execute(
            select(campaign_rights).where(
                campaign_rights.c.user_id == user.id, campaign_rights.c.campaign_id == campaign_id
            )
        ).one_or_none()
    if row is None:
        return False
    return bool(row.can_modify if what == "modify" else row.can_export)
