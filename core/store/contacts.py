"""Contacts and their means of contact, written in bulk and read by pages."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

import attrs
from attrs import frozen
from sqlalchemy import Connection, Engine, bindparam, delete, func, insert, or_, select, update

from tocsin.clock import UTC
from tocsin.errors import NotFoundError
from tocsin.model import Contact, ContactMeans, PostalAddress
from tocsin.store.filters import chunks
from tocsin.store.schema import contact_means, contacts

CHUNK = 500


@frozen
class UpsertCounts:
    """How many contacts an upsert created and updated, and their ids in input order."""

    created: int
    updated: int
    ids: tuple[int, ...] = ()


def contact_row(contact: Contact, now: dt.datetime) -> dict[str, Any]:
    a = contact.address
    return {
        "external_id": contact.external_id,
        "first_name": contact.first_name,
        "last_name": contact.last_name,
        "language": contact.language,
        "organisation": contact.organisation,
        "address_line1": a.line1,
        "address_line2": a.line2,
        "postal_code": a.postal_code,
        "city": a.city,
        "department": a.department,
        "region": a.region,
        "country": a.country,
        "attributes": dict(contact.attributes),
        "opted_out": contact.opted_out,
        "updated_at": now,
    }


def _means_rows(contact_id: int, means: Iterable[ContactMeans]) -> list[dict[str, Any]]:
    return [
        {
            "contact_id": contact_id,
            "kind": str(m.kind),
            "value": m.value,
            "verified": m.verified,
            "preference": m.preference,
            "failing": m.failing,
        }
        for m in means
    ]


def _to_contact(row: Any, means: Sequence[ContactMeans]) -> Contact:
    """A contact read whole: what sending reads, its means in a stable order, its times."""
    sending = sending_contact(row, sorted(means, key=lambda m: (m.kind, m.preference, m.value)))
    return attrs.evolve(sending, created_at=row.created_at, updated_at=row.updated_at)


SENDING_COLUMNS = (
    contacts.c.id, contacts.c.opted_out, contacts.c.first_name, contacts.c.last_name,
    contacts.c.external_id, contacts.c.language, contacts.c.organisation, contacts.c.address_line1,
    contacts.c.address_line2, contacts.c.postal_code, contacts.c.city, contacts.c.department,
    contacts.c.region, contacts.c.country, contacts.c.attributes,
)
"""What sending needs of a contact: whether it opted out and the fields templates use."""


def sending_contact(row: Any, means: Sequence[ContactMeans] = ()) -> Contact:
    """A contact read with :data:`SENDING_COLUMNS` (no timestamps: sending never shows them)."""
    return Contact(
        id=row.id,
        first_name=row.first_name,
        last_name=row.last_name,
        external_id=row.external_id,
        language=row.language,
        organisation=row.organisation,
        address=PostalAddress(
            row.address_line1, row.address_line2, row.postal_code, row.city, row.department,
            row.region, row.country,
        ),
        attributes=row.attributes or {},
        means=means,
        opted_out=bool(row.opted_out),
    )


class Contacts:
    """The contacts repository."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # -- writing -----------------------------------------------------------------------

    def upsert(
        self, items: Sequence[Contact], *, now: dt.datetime | None = None, conn: Connection | None = None
    ) -> UpsertCounts:
        """Insert or update ``items`` in one transaction, matching on ``external_id``.

        A contact without an external id is always created; an updated contact's means
        are replaced by the ones given.
        """
        if conn is None:
            with self.engine.begin() as own:
                return self.upsert(items, now=now, conn=own)
        now = now or dt.datetime.now(UTC)
        existing: dict[str, int] = {}
        ext_ids = [c.external_id for c in items if c.external_id]
        for chunk in chunks(ext_ids, CHUNK):
            for row in conn.execute(
                select(contacts.c.id, contacts.c.external_id).where(contacts.c.external_id.in_(chunk))
            ):
                existing[row.external_id] = row.id
        to_update = [c for c in items if c.external_id in existing]
        to_create = [c for c in items if c.external_id not in existing]
        means_rows: list[dict[str, Any]] = []
        new_ids_by_index: dict[int, int] = {}
        if to_update:
            rows = [{**contact_row(c, now), "_id": existing[c.external_id]} for c in to_update]  # type: ignore[index]
            stmt = (
                update(contacts)
                .where(contacts.c.id == bindparam("_id"))
                .values({k: bindparam(k) for k in rows[0] if k != "_id"})
            )
            for row_part in chunks(rows, CHUNK):
                conn.execute(stmt, list(row_part))
            ids = [existing[c.external_id] for c in to_update]  # type: ignore[index]
            for id_part in chunks(ids, CHUNK):
                conn.execute(delete(contact_means).where(contact_means.c.contact_id.in_(id_part)))
            for c in to_update:
                means_rows.extend(_means_rows(existing[c.external_id], c.means))  # type: ignore[index]
        create_index = [i for i, c in enumerate(items) if c.external_id not in existing]
        for index_part in chunks(create_index, CHUNK):
            new_ids = conn.execute(
                insert(contacts).returning(contacts.c.id, sort_by_parameter_order=True),
                [{**contact_row(items[i], now), "created_at": now} for i in index_part],
            ).scalars().all()
            for contact_id, i in zip(new_ids, index_part, strict=True):
                new_ids_by_index[i] = contact_id
                means_rows.extend(_means_rows(contact_id, items[i].means))
        for means_part in chunks(means_rows, 2000):
            conn.execute(insert(contact_means), list(means_part))
        all_ids = tuple(
            new_ids_by_index[i] if i in new_ids_by_index else existing[c.external_id]  # type: ignore[index]
            for i, c in enumerate(items)
        )
        return UpsertCounts(created=len(to_create), updated=len(to_update), ids=all_ids)

    def add(self, contact: Contact, *, now: dt.datetime | None = None) -> Contact:
        """Create one contact and return it with its id."""
        now = now or dt.datetime.now(UTC)
        with self.engine.begin() as conn:
            contact_id = conn.execute(
                insert(contacts).returning(contacts.c.id), {**contact_row(contact, now), "created_at": now}
            ).scalar_one()
            if contact.means:
                conn.execute(insert(contact_means), _means_rows(contact_id, contact.means))
        return self.get(contact_id)

    def set_means_flags(
        self, value: str, *, verified: bool | None = None, failing: bool | None = None
    ) -> int:
        """Mark every means with ``value`` verified or failing; returns how many changed."""
        values: dict[str, Any] = {}
        if verified is not None:
            values["verified"] = verified
        if failing is not None:
            values["failing"] = failing
        if not values:
            return 0
        with self.engine.begin() as conn:
            return conn.execute(
                update(contact_means).where(contact_means.c.value == value).values(values)
            ).rowcount

    def set_opted_out(self, contact_id: int, opted_out: bool = True) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(contacts).where(contacts.c.id == contact_id).values(opted_out=opted_out)
            )

    def delete(self, contact_id: int) -> None:
        with self.engine.begin() as conn:
            if not conn.execute(delete(contacts).where(contacts.c.id == contact_id)).rowcount:
                raise NotFoundError(f"no contact with id {contact_id}")

    # -- reading -----------------------------------------------------------------------

    def load(self, ids: Sequence[int], conn: Connection | None = None) -> dict[int, Contact]:
        """The contacts with ``ids`` (missing ones are simply absent), means included."""
        if conn is None:
            with self.engine.connect() as own:
                return self.load(ids, own)
        result: dict[int, Contact] = {}
        for chunk in chunks(list(ids), CHUNK):
            means: dict[int, list[ContactMeans]] = defaultdict(list)
            for m in conn.execute(select(contact_means).where(contact_means.c.contact_id.in_(chunk))):
                means[m.contact_id].append(
                    ContactMeans(m.kind, m.value, m.verified, m.preference, m.failing)
                )
            for row in conn.execute(select(contacts).where(contacts.c.id.in_(chunk))):
                result[row.id] = _to_contact(row, means.get(row.id, ()))
        return result

    def get(self, contact_id: int) -> Contact:
        found = self.load([contact_id])
        if contact_id not in found:
            raise NotFoundError(f"no contact with id {contact_id}")
        return found[contact_id]

    def get_by_external_id(self, external_id: str) -> Contact:
        with self.engine.connect() as conn:
            cid = conn.execute(
                select(contacts.c.id).where(contacts.c.external_id == external_id)
            ).scalar_one_or_none()
        if cid is None:
            raise NotFoundError(f"no contact with external id {external_id!r}")
        return self.get(cid)

    def find_by_address(self, value: str) -> list[Contact]:
        """Contacts that have ``value`` (an E.164 number or an e-mail) among their means."""
        with self.engine.connect() as conn:
            ids = conn.execute(
                select(contact_means.c.contact_id).where(contact_means.c.value == value).distinct()
            ).scalars().all()
            return list(self.load(ids, conn).values())

    def count(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(contacts)).scalar_one())

    def page(self, *, search: str = "", limit: int = 50, offset: int = 0) -> list[Contact]:
        """Contacts ordered by name, optionally those whose name or id contains ``search``."""
        query = select(contacts.c.id).order_by(contacts.c.last_name, contacts.c.first_name, contacts.c.id)
        if search:
            pattern = f"%{search.lower()}%"
            query = query.where(
                or_(
                    func.lower(contacts.c.last_name).like(pattern),
                    func.lower(contacts.c.first_name).like(pattern),
                    func.lower(contacts.c.external_id).like(pattern),
                )
            )
        with self.engine.connect() as conn:
            ids = conn.execute(query.limit(limit).offset(offset)).scalars().all()
            found = self.load(ids, conn)
        return [found[i] for i in ids if i in found]

    def all_ids(self) -> list[int]:
        with self.engine.connect() as conn:
            return list(conn.execute(select(contacts.c.id).order_by(contacts.c.id)).scalars())
