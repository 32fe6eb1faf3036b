"""What the alert conformance machine knows of its alert, independently of the engine:
the audience (which kinds of address each person has) and each attempt as the rules
make it, plus the strategies that draw them."""

from __future__ import annotations

from attrs import define, frozen
from hypothesis import strategies as st

from tocsin.model import AlertState, AttemptKind, Contact, ContactMeans

MEANS = ("call", "sms", "email")
ADDRESS_KINDS = {"call": ("mobile", "phone"), "sms": ("mobile",), "email": ("email",)}
OFFSET_CHOICES = (10, 20, 30, 45, 60, 90)
OPEN = (AlertState.SENDING, AlertState.SENT)
STEP_AFTER = (0, 5, 10, 20)


@frozen
class Person:
    """An audience member as the model knows it: which kinds of address it has."""

    index: int
    kinds: frozenset[str]

    def contact(self) -> Contact:
        means = []
        if "mobile" in self.kinds:
            means.append(ContactMeans("mobile", f"+3361234{self.index:04d}"))
        if "phone" in self.kinds:
            means.append(ContactMeans("phone", f"+3311234{self.index:04d}"))
        if "email" in self.kinds:
            means.append(ContactMeans("email", f"c{self.index}@example.org"))
        return Contact(
            first_name=f"C{self.index}", last_name="Kit", external_id=f"kit-{self.index}", means=means
        )

    def can(self, means: str) -> bool:
        return any(kind in self.kinds for kind in ADDRESS_KINDS[means])


@define
class Modelled:
    """One attempt as the model sees it."""

    contact: int
    means: str
    kind: AttemptKind
    status: str
    reports: int = 0
    refused: int = 0


people = st.builds(
    Person,
    st.just(0),
    st.sets(st.sampled_from(["mobile", "phone", "email"]), max_size=3).map(frozenset),
)


__all__ = ["ADDRESS_KINDS", "MEANS", "OFFSET_CHOICES", "OPEN", "STEP_AFTER", "Modelled", "Person", "people"]
