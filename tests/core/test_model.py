"""Every domain class round-trips through the one converter and through JSON."""

from __future__ import annotations

import datetime as dt
import json

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tocsin.model import DOMAIN_CLASSES, AddressKind, Attempt, AttemptKind, Contact, ContactMeans
from tocsin.serialize import dump, load

st.register_type_strategy(
    dt.datetime,
    st.datetimes(
        min_value=dt.datetime(1970, 1, 2), max_value=dt.datetime(2200, 1, 1), timezones=st.just(dt.UTC)
    ),
)
# durations travel as seconds: whole milliseconds survive the float exactly
st.register_type_strategy(
    dt.timedelta, st.integers(0, 10**9).map(lambda ms: dt.timedelta(milliseconds=ms))
)




def _from_fields(cls: type) -> st.SearchStrategy[object]:
    """Build ``cls`` from its fields' declared types (converters would widen them)."""
    attrs.resolve_types(cls)
    return st.builds(cls, **{f.name: st.from_type(f.type) for f in attrs.fields(cls)})  # type: ignore[arg-type]


for _cls in DOMAIN_CLASSES:
    st.register_type_strategy(_cls, st.deferred(lambda c=_cls: _from_fields(c)))  # type: ignore[misc]


@pytest.mark.parametrize("cls", DOMAIN_CLASSES, ids=lambda c: c.__name__)
@given(data=st.data())
def test_every_domain_class_round_trips_through_json(cls: type, data: st.DataObject) -> None:
    value = data.draw(st.from_type(cls))
    encoded = json.dumps(dump(value))
    assert load(json.loads(encoded), cls) == value


def test_domain_classes_are_frozen_and_slotted() -> None:
    for cls in DOMAIN_CLASSES:
        assert attrs.has(cls)
        assert cls.__setattr__ is not object.__setattr__, f"{cls.__name__} is not frozen"
        assert "__slots__" in cls.__dict__, f"{cls.__name__} is not slotted"


def test_contact_prefers_the_lowest_preference_that_is_not_failing() -> None:
    contact = Contact(
        "Ada",
        "Lovelace",
        means=[
            ContactMeans("mobile", "+33600000002", preference=2),
            ContactMeans("mobile", "+33600000001", preference=1, failing=True),
            ContactMeans("phone", "+33100000000"),
        ],
    )
    assert contact.preferred("mobile").value == "+33600000002"  # type: ignore[union-attr]
    assert contact.preferred("email") is None
    assert contact.preferred("email", "phone").kind is AddressKind.PHONE  # type: ignore[union-attr]


@given(value=st.one_of(st.sampled_from([k.value for k in AttemptKind]), st.text(max_size=12), st.integers()))
def test_an_enum_field_takes_exactly_what_the_enum_takes(value: object) -> None:
    """The fields' fast enum converters accept a member or its value and refuse the rest
    with the enum's own ValueError, like calling the enum."""
    try:
        expected: AttemptKind | None = AttemptKind(value)
    except ValueError:
        expected = None
    if expected is None:
        with pytest.raises(ValueError, match="is not a valid AttemptKind"):
            Attempt(1, 1, "sms", "+33611000000", "", kind=value)  # type: ignore[arg-type]
    else:
        made = Attempt(1, 1, "sms", "+33611000000", "", kind=value)  # type: ignore[arg-type]
        assert made.kind is expected
        assert Attempt(1, 1, "sms", "+33611000000", "", kind=expected).kind is expected


MEANS = st.builds(
    ContactMeans,
    kind=st.sampled_from(list(AddressKind)),
    value=st.sampled_from(["+33600000001", "+33600000002", "a@example.org"]),
    preference=st.integers(0, 3),
    failing=st.booleans(),
)


@given(
    means=st.lists(MEANS, max_size=6),
    kinds=st.lists(st.sampled_from(list(AddressKind)), min_size=1, max_size=3),
    first=st.sampled_from(["", "Ada"]),
    last=st.sampled_from(["", "Lovelace"]),
)
def test_preferred_means_and_full_name_follow_their_definitions(
    means: list[ContactMeans], kinds: list[AddressKind], first: str, last: str
) -> None:
    """The preferred means is the first of the lowest preference among the usable means
    of the first kind that has any; the full name joins the names that are not empty."""
    contact = Contact(first, last, means=means)
    expected = None
    for kind in kinds:
        usable = [m for m in means if m.kind == kind and not m.failing]
        if usable:
            expected = min(usable, key=lambda m: m.preference)
            break
    assert contact.preferred(*kinds) is expected
    assert contact.full_name == " ".join(p for p in (first, last) if p)
