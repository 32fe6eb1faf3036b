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
