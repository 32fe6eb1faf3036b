"""Groups of contacts: the usual audience of an alert."""

from __future__ import annotations

import builtins
import datetime as dt
from collections.abc import Iterable, Sequence

from sqlalchemy import Engine, delete, func, insert, select
from sqlalchemy.exc import IntegrityError

from tocsin.clock import UTC
from tocsin.errors import NotFoundError, ValidationError
from tocsin.model import Group
from tocsin.store.db import analyze
from tocsin.store.schema import contacts, group_members, groups

BULK = 1000
"""New members from which the database's statistics of the group table are refreshed."""


class Groups:
    """The groups repository."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def create(self, name: str, description: str = "", *, now: dt.datetime | None = None) -> Group:
        name = name.strip()
        if not name:
            raise ValidationError("a group needs a name")
        now = now or dt.datetime.now(UTC)
        try:
            with self.engine.begin() as conn:
                gid = conn.execute(
                    insert(groups).returning(groups.c.id),
                    {"name": name, "description": description, "created_at": now},
                ).scalar_one()
        except IntegrityError:
            raise ValidationError(f"a group named {name!r} already exists") from None
        return Group(name=name, id=gid, description=description, created_at=now)

    def get(self, name: str) -> Group:
        with self.engine.connect() as conn:
            row = conn.execute(select(groups).where(groups.c.name == name)).one_or_none()
        if row is None:
            raise NotFoundError(f"no group named {name!r}")
        return Group(name=row.name, id=row.id, description=row.description, created_at=row.created_at)

    def list(self) -> builtins.list[tuple[Group, int]]:
        """Every group with its member count, by name."""
        count = (
            select(group_members.c.group_id, func.count().label("n"))
            .group_by(group_members.c.group_id)
            .subquery()
        )
        query = (
            select(groups, func.coalesce(count.c.n, 0).label("members"))
            .outerjoin(count, count.c.group_id == groups.c.id)
            .order_by(groups.c.name)
        )
        with self.engine.connect() as conn:
            return [
                (Group(r.name, r.id, r.description, r.created_at), int(r.members))
                for r in conn.execute(query)
            ]

    def add(self, name: str, contact_ids: Iterable[int]) -> int:
        """Add contacts to the group (all or none); returns how many were new members."""
        group = self.get(name)
        wanted = sorted(set(contact_ids))
        with self.engine.begin() as conn:
            known: set[int] = set()
            present: set[int] = set()
            for i in range(0, len(wanted), 500):
                chunk = wanted[i : i + 500]
                known.update(conn.execute(select(contacts.c.id).where(contacts.c.id.in_(chunk))).scalars())
                present.update(
                    conn.execute(
                        select(group_members.c.contact_id).where(
                            group_members.c.group_id == group.id, group_members.c.contact_id.in_(chunk)
                        )
                    ).scalars()
                )
            if missing := [c for c in wanted if c not in known]:
                shown = ", ".join(map(str, missing[:20]))
                raise NotFoundError(f"no contact with id {shown}; nothing was added to {name!r}")
            new = [{"group_id": group.id, "contact_id": c} for c in wanted if c not in present]
            if new:
                conn.execute(insert(group_members), new)
        if len(new) >= BULK:
            analyze(self.engine, "group_members")
        return len(new)

    def remove(self, name: str, contact_ids: Iterable[int]) -> int:
        """Remove contacts from the group; returns how many were members."""
        group = self.get(name)
        ids = sorted(set(contact_ids))
        removed = 0
        with self.engine.begin() as conn:
            for i in range(0, len(ids), 500):
                removed += conn.execute(
                    delete(group_members).where(
                        group_members.c.group_id == group.id,
                        group_members.c.contact_id.in_(ids[i : i + 500]),
                    )
                ).rowcount
        return removed

    def members(self, name: str, *, limit: int | None = None, offset: int = 0) -> builtins.list[int]:
        """Ids of the group's contacts, in id order."""
        group = self.get(name)
        query = (
            select(group_members.c.contact_id)
            .where(group_members.c.group_id == group.id)
            .order_by(group_members.c.contact_id)
            .offset(offset)
        )
        if limit is not None:
            query = query.limit(limit)
        with self.engine.connect() as conn:
            return list(conn.execute(query).scalars())

    def delete(self, name: str) -> None:
        group = self.get(name)
        with self.engine.begin() as conn:
            conn.execute(delete(groups).where(groups.c.id == group.id))


def member_ids(groups_repo: Groups, names: Sequence[str]) -> list[int]:
    """The union of the members of several groups, in id order."""
    ids: set[int] = set()
    for name in names:
        ids.update(groups_repo.members(name))
    return sorted(ids)
