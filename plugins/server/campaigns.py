"""Campaigns: groups of communications run together (the core has no repository for them)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Engine, func, insert, select, update

from tocsin.errors import NotFoundError, ValidationError
from tocsin.model import Campaign
from tocsin.store.schema import campaigns, users


def _to_campaign(row: Any) -> Campaign:
    return Campaign(name=row.name, id=row.id, kind=row.kind, active=row.active, year=row.year,
                    contract_types=tuple(row.contract_types or ()),
                    referent_user_id=row.referent_user_id, created_at=row.created_at)


def check(engine: Engine, campaign: Campaign, registered_kinds: set[str]) -> None:
    if not campaign.name.strip() or len(campaign.name) > 200:
        raise ValidationError("name: between 1 and 200 characters")
    if registered_kinds and campaign.kind not in registered_kinds:
        raise ValidationError(f"kind: {campaign.kind!r} is not a registered campaign type "
                              f"({', '.join(sorted(registered_kinds))})")
    if campaign.year is not None and not 1900 <= campaign.year <= 2200:
        raise ValidationError("year: between 1900 and 2200")
    if campaign.referent_user_id is not None:
        with engine.connect() as conn:
            if conn.execute(select(users.c.id).where(users.c.id == campaign.referent_user_id)
                            ).first() is None:
                raise ValidationError(f"referent_user_id: no user with id {campaign.referent_user_id}")


def create(engine: Engine, campaign: Campaign, now: dt.datetime) -> Campaign:
    with engine.begin() as conn:
        cid = conn.execute(insert(campaigns).returning(campaigns.c.id), {
            "name": campaign.name.strip(), "kind": campaign.kind, "active": campaign.active,
            "year": campaign.year, "contract_types": list(campaign.contract_types),
            "referent_user_id": campaign.referent_user_id, "created_at": now}).scalar_one()
    return get(engine, cid)


def get(engine: Engine, campaign_id: int) -> Campaign:
    with engine.connect() as conn:
        row = conn.execute(select(campaigns).where(campaigns.c.id == campaign_id)).one_or_none()
    if row is None:
        raise NotFoundError(f"no campaign with id {campaign_id}")
    return _to_campaign(row)


def page(engine: Engine, *, limit: int, offset: int) -> tuple[list[Campaign], int]:
    with engine.connect() as conn:
        rows = conn.execute(select(campaigns).order_by(campaigns.c.id.desc()).limit(limit)
                            .offset(offset)).all()
        total = conn.execute(select(func.count()).select_from(campaigns)).scalar_one()
    return [_to_campaign(r) for r in rows], int(total)


def replace(engine: Engine, campaign_id: int, campaign: Campaign) -> Campaign:
    with engine.begin() as conn:
        if not conn.execute(update(campaigns).where(campaigns.c.id == campaign_id).values(
            name=campaign.name.strip(), kind=campaign.kind, active=campaign.active,
            year=campaign.year, contract_types=list(campaign.contract_types),
            referent_user_id=campaign.referent_user_id)).rowcount:
            raise NotFoundError(f"no campaign with id {campaign_id}")
    return get(engine, campaign_id)


def names(engine: Engine, *, active_only: bool = False) -> dict[int, str]:
    """Campaign names by id (for lists and forms)."""
    query = select(campaigns.c.id, campaigns.c.name).order_by(campaigns.c.name)
    if active_only:
        query = query.where(campaigns.c.active.is_(True))
    with engine.connect() as conn:
        return {r.id: r.name for r in conn.execute(query)}
