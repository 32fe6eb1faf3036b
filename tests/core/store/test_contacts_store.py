"""Contacts and groups in the store: bulk upserts in one transaction, groups all or none."""

from __future__ import annotations

import datetime as dt

import pytest

from tocsin.errors import NotFoundError, ValidationError
from tocsin.model import Contact, ContactMeans, PostalAddress
from tocsin.store import Store

NOW = dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC)


def _contact(ext: str | None, first: str, **means: str) -> Contact:
    return Contact(
        first, "Martin", external_id=ext, language="fr",
        address=PostalAddress(city="Lyon", department="69"),
        attributes={"quartier": "Croix-Rousse"},
        means=[ContactMeans(kind, value) for kind, value in means.items()],
    )


def test_upsert_creates_then_updates_on_external_id_and_replaces_means(store: Store) -> None:
    first = store.contacts.upsert(
        [_contact("a1", "Léa", mobile="+33612345678"), _contact(None, "Noé", email="noe@example.org")],
        now=NOW,
    )
    assert (first.created, first.updated) == (2, 0)
    again = store.contacts.upsert([_contact("a1", "Léa-Rose", email="lea@example.org")], now=NOW)
    assert (again.created, again.updated) == (0, 1)
    assert again.ids == (first.ids[0],)
    lea = store.contacts.get_by_external_id("a1")
    assert lea.first_name == "Léa-Rose"
    assert [(m.kind, m.value) for m in lea.means] == [("email", "lea@example.org")]
    assert lea.address.department == "69" and lea.attributes == {"quartier": "Croix-Rousse"}
    assert store.contacts.count() == 2


def test_upsert_of_thousands_runs_in_one_transaction(store: Store) -> None:
    batch = [_contact(f"x{i}", f"P{i}", mobile=f"+3361234{i:04d}") for i in range(3000)]
    result = store.contacts.upsert(batch, now=NOW)
    assert result.created == 3000 and len(set(result.ids)) == 3000
    loaded = store.contacts.load(result.ids[:10])
    assert loaded[result.ids[7]].means[0].value == "+33612340007"


def test_a_failed_upsert_changes_nothing(store: Store) -> None:
    store.contacts.upsert([_contact("dup", "One")], now=NOW)
    with pytest.raises(Exception):  # noqa: B017 - the database's own integrity error
        store.contacts.upsert([_contact("new", "Two"), _contact("x", "A"), _contact("x", "B")], now=NOW)
    assert store.contacts.count() == 1


def test_find_by_address_and_flags(store: Store) -> None:
    added = store.contacts.add(_contact(None, "Ana", mobile="+33611111111"), now=NOW)
    assert [c.id for c in store.contacts.find_by_address("+33611111111")] == [added.id]
    assert store.contacts.set_means_flags("+33611111111", verified=True, failing=True) == 1
    means = store.contacts.get(added.id).means[0]
    assert means.verified and means.failing


def test_groups_add_remove_and_list(store: Store) -> None:
    ids = store.contacts.upsert([_contact(f"g{i}", f"G{i}") for i in range(5)], now=NOW).ids
    store.groups.create("quartier nord", "north side")
    assert store.groups.add("quartier nord", ids[:3]) == 3
    assert store.groups.add("quartier nord", ids[:4]) == 1
    assert store.groups.remove("quartier nord", [ids[0], 99999]) == 1
    assert store.groups.members("quartier nord") == sorted(ids[1:4])
    [(group, count)] = store.groups.list()
    assert (group.name, count) == ("quartier nord", 3)


def test_adding_unknown_contacts_to_a_group_adds_none(store: Store) -> None:
    (cid,) = store.contacts.upsert([_contact("u1", "U")], now=NOW).ids
    store.groups.create("g")
    with pytest.raises(NotFoundError, match="no contact with id 424242"):
        store.groups.add("g", [cid, 424242])
    assert store.groups.members("g") == []


def test_duplicate_group_name_is_refused(store: Store) -> None:
    store.groups.create("g")
    with pytest.raises(ValidationError, match="already exists"):
        store.groups.create("g")
    with pytest.raises(NotFoundError, match="no group named 'nope'"):
        store.groups.members("nope")
