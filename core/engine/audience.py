"""An alert's audience, read in pages of contact ids (keyset pagination, id order).

The audience is the union of the members of some groups and some contacts named one
by one. It is never loaded whole: a page is the next ``limit`` ids after a cursor, so a
million contacts stream through in constant memory.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator, Sequence

from attrs import frozen
from sqlalchemy import Connection, select

from tocsin.errors import NotFoundError, ValidationError
from tocsin.model import Audience
from tocsin.store import Store
from tocsin.store.schema import contacts, group_members, groups


@frozen
class ResolvedAudience:
    """An audience with its group names turned into ids and its contact ids sorted."""

    group_ids: tuple[int, ...]
    contact_ids: tuple[int, ...]

    def to_payload(self) -> dict[str, list[int]]:
        return {"group_ids": list(self.group_ids), "contact_ids": list(self.contact_ids)}

    @classmethod
    def from_payload(cls, data: dict[str, list[int]]) -> ResolvedAudience:
        return cls(tuple(data.get("group_ids", ())), tuple(data.get("contact_ids", ())))


def resolve(store: Store, audience: Audience) -> ResolvedAudience:
    """Group names to ids, contact ids checked; a clear error names what does not exist."""
    if audience.empty:
        raise ValidationError("the alert has no audience: name at least one group or contact")
    group_ids: list[int] = []
    with store.engine.connect() as conn:
        for name in audience.groups:
            gid = conn.execute(select(groups.c.id).where(groups.c.name == name)).scalar_one_or_none()
            if gid is None:
                raise ValidationError(f"audience: no group named {name!r}")
            group_ids.append(gid)
        wanted = sorted(set(audience.contact_ids))
        known: set[int] = set()
        for i in range(0, len(wanted), 500):
            chunk = wanted[i : i + 500]
            known.update(conn.execute(select(contacts.c.id).where(contacts.c.id.in_(chunk))).scalars())
    if missing := [c for c in wanted if c not in known]:
        shown = ", ".join(map(str, missing[:20])) + (" ..." if len(missing) > 20 else "")
        raise ValidationError(f"audience: no contact with id {shown}")
    return ResolvedAudience(tuple(sorted(set(group_ids))), tuple(wanted))


def page(conn: Connection, audience: ResolvedAudience, after: int, limit: int) -> list[int]:
    """The next ``limit`` audience contact ids greater than ``after``, in order."""
    found: list[int] = []
    if audience.group_ids:
        found = list(
            conn.execute(
                select(group_members.c.contact_id)
                .where(
                    group_members.c.group_id.in_(audience.group_ids),
                    group_members.c.contact_id > after,
                )
                .distinct()
                .order_by(group_members.c.contact_id)
                .limit(limit)
            ).scalars()
        )
    ids = audience.contact_ids
    start = bisect.bisect_right(ids, after)
    explicit = ids[start : start + limit]
    if explicit:
        found = sorted(set(found) | set(explicit))[:limit]
    return found


def pages(store: Store, audience: ResolvedAudience, size: int) -> Iterator[Sequence[int]]:
    """Every page of the audience, each in its own short read."""
    after = 0
    while True:
        with store.engine.connect() as conn:
            ids = page(conn, audience, after, size)
        if not ids:
            return
        yield ids
        after = ids[-1]


def count_hint(store: Store, audience: ResolvedAudience) -> int:
    """Whether the audience has anyone (0 or at least 1): cheap, one page of one."""
    with store.engine.connect() as conn:
        return len(page(conn, audience, 0, 1))


__all__ = ["NotFoundError", "ResolvedAudience", "count_hint", "page", "pages", "resolve"]
