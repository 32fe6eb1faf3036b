"""The domain model: contacts, groups, alerts, attempts, status events, users.

Values are frozen, slotted attrs classes. They travel between the store, the engine,
the channels, the reports and the API; :mod:`tocsin.serialize` turns every one of
them into JSON-ready data and back.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

import attrs
from attrs import field, frozen


def _tuple(value: Iterable[Any]) -> tuple[Any, ...]:
    return tuple(value)


def _mapping(value: Mapping[str, str] | None) -> Mapping[str, str]:
    return dict(value or {})


E = TypeVar("E", bound=enum.Enum)


def _member(cls: type[E], value: Any) -> E:
    """``value`` as a member of the enum ``cls``. Calling ``cls(value)`` costs a
    microsecond, felt where attempts and means are built by the hundred thousand; an
    unknown value still gets its usual ``ValueError``."""
    if type(value) is cls:
        return value  # type: ignore[no-any-return]
    try:
        return cls._value2member_map_[value]  # type: ignore[return-value]
    except (KeyError, TypeError):
        return cls(value)


class AddressKind(enum.StrEnum):
    """How a contact can be reached: the kind of one of its means of contact."""

    PHONE = "phone"
    MOBILE = "mobile"
    EMAIL = "email"


def _address_kind(value: Any) -> AddressKind:
    return _member(AddressKind, value)


class AlertState(enum.StrEnum):
    """Where an alert stands in its life."""

    DRAFT = "draft"
    SENDING = "sending"
    SENT = "sent"
    FINISHED = "finished"
    CANCELLED = "cancelled"


def _alert_state(value: Any) -> AlertState:
    return _member(AlertState, value)


class AttemptKind(enum.StrEnum):
    """Why an attempt was made."""

    INITIAL = "initial"
    REMINDER = "reminder"
    RECONTACT = "recontact"
    ESCALATION = "escalation"
    VERIFICATION = "verification"


def _attempt_kind(value: Any) -> AttemptKind:
    return _member(AttemptKind, value)


class Outcome(enum.StrEnum):
    """What one alert achieved for one contact, over every means."""

    CONTACTED = "contacted"
    IN_PROGRESS = "in progress"
    NOT_CONTACTED = "not contacted"


class Role(enum.StrEnum):
    """What a user may do."""

    ADMINISTRATOR = "administrator"
    OPERATOR = "operator"
    AGENT = "agent"


def _role(value: Any) -> Role:
    return _member(Role, value)


# -- contacts -------------------------------------------------------------------------


@frozen
class PostalAddress:
    """Where a contact lives; department and region drive geographic targeting."""

    line1: str = ""
    line2: str = ""
    postal_code: str = ""
    city: str = ""
    department: str = ""
    region: str = ""
    country: str = ""


@frozen
class ContactMeans:
    """One way to reach a contact: a phone number (E.164) or an e-mail address.

    ``preference`` orders the means of one kind: the lowest is tried first.
    ``failing`` is set when the address bounced hard, so later alerts can skip it.
    """

    kind: AddressKind = field(converter=_address_kind)
    value: str
    verified: bool = False
    preference: int = 0
    failing: bool = False


@frozen
class Contact:
    """A person an organisation wants to reach (a citizen, a target)."""

    first_name: str = ""
    last_name: str = ""
    id: int | None = None
    external_id: str | None = None
    language: str = ""
    organisation: str = ""
    address: PostalAddress = PostalAddress()
    attributes: Mapping[str, str] = field(factory=dict, converter=_mapping)
    means: tuple[ContactMeans, ...] = field(default=(), converter=_tuple)
    opted_out: bool = False
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None

    @property
    def full_name(self) -> str:
        first, last = self.first_name, self.last_name
        return f"{first} {last}" if first and last else first or last

    def preferred(self, *kinds: AddressKind | str) -> ContactMeans | None:
        """The preferred usable means among ``kinds`` (kinds in order of preference);
        of equal preferences, the first listed."""
        for kind in kinds:
            best: ContactMeans | None = None
            for m in self.means:
                if m.kind == kind and not m.failing and (best is None or m.preference < best.preference):
                    best = m
            if best is not None:
                return best
        return None


@frozen
class Group:
    """A named set of contacts, the usual audience of an alert."""

    name: str
    id: int | None = None
    description: str = ""
    created_at: dt.datetime | None = None


# -- alerts ---------------------------------------------------------------------------


@frozen
class Category:
    """The kind of an alert; some categories require the contact to confirm (press 1).

    ``reminder_offsets`` overrides the default reminder schedule for alerts of this
    category (``None`` keeps the configured default).
    """

    name: str
    requires_confirmation: bool = False
    reminder_offsets: tuple[dt.timedelta, ...] | None = None


@frozen
class Message:
    """What one means says: an SMS text, a call script or audio, an e-mail.

    Texts are Jinja2 templates over the contact's fields, rendered per attempt.
    """

    means: str
    text: str = ""
    subject: str = ""
    html: str = ""
    audio_url: str = ""
    repeat: int = 1


@frozen
class EscalationStep:
    """One step of an escalation plan: try ``means`` ``after`` the cycle started."""

    means: str
    after: dt.timedelta = dt.timedelta(0)


@frozen
class EscalationPlan:
    """An ordered plan (call, then SMS if not reached, then e-mail), repeated."""

    steps: tuple[EscalationStep, ...] = field(converter=_tuple)
    cycles: int = 1
    cycle_interval: dt.timedelta = dt.timedelta(minutes=30)


@frozen
class Campaign:
    """A group of communications (alerts) or a phone survey, run together."""

    name: str
    id: int | None = None
    kind: str = "alert"
    active: bool = True
    year: int | None = None
    contract_types: tuple[str, ...] = field(default=(), converter=_tuple)
    referent_user_id: int | None = None
    created_at: dt.datetime | None = None


@frozen
class Alert:
    """A communication sent to an audience through one or more means."""

    title: str
    messages: tuple[Message, ...] = field(converter=_tuple)
    category: Category = Category("general")
    id: int | None = None
    campaign_id: int | None = None
    state: AlertState = field(default=AlertState.DRAFT, converter=_alert_state)
    reminder_offsets: tuple[dt.timedelta, ...] | None = None
    plan: EscalationPlan | None = None
    target_confirmations: int | None = None
    created_by: int | None = None
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None
    sent_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None

    @property
    def means(self) -> tuple[str, ...]:
        return tuple(m.means for m in self.messages)

    def message_for(self, means: str) -> Message | None:
        return next((m for m in self.messages if m.means == means), None)


@frozen
class Audience:
    """Who an alert goes to: the members of groups and contacts named one by one."""

    groups: tuple[str, ...] = field(default=(), converter=_tuple)
    contact_ids: tuple[int, ...] = field(default=(), converter=_tuple)

    @property
    def empty(self) -> bool:
        return not self.groups and not self.contact_ids


@frozen
class Attempt:
    """One message by one means to one contact, and what became of it."""

    alert_id: int | None
    contact_id: int
    means: str
    address: str
    status: str
    id: int | None = None
    channel: str = ""
    kind: AttemptKind = field(default=AttemptKind.INITIAL, converter=_attempt_kind)
    round: int = 0
    reached: bool | None = None
    error: str = ""
    provider_ref: str | None = None
    tries: int = 0
    created_at: dt.datetime | None = None
    due_at: dt.datetime | None = None
    sent_at: dt.datetime | None = None
    completed_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None


@frozen
class StatusEvent:
    """A status reported for an attempt, by a channel or a provider's callback.

    An event names its attempt by id or, for provider callbacks, by the channel and
    the provider's reference. ``anomaly`` is set when the status machine refused it.
    """

    status: str
    at: dt.datetime
    attempt_id: int | None = None
    channel: str = ""
    provider_ref: str | None = None
    reason: str = ""
    source: str = ""
    data: Mapping[str, str] = field(factory=dict, converter=_mapping)
    anomaly: str = ""
    id: int | None = None


@frozen
class AttemptChange:
    """What observers of ``tocsin_attempts_changed`` receive for one attempt."""

    attempt_id: int
    alert_id: int | None
    contact_id: int
    means: str
    old_status: str
    new_status: str
    at: dt.datetime
    reached: bool | None = None


@frozen
class Recontact:
    """An operator's recontact of an alert's uncontacted contacts: recorded, final."""

    alert_id: int
    requested_by: int | None
    requested_at: dt.datetime
    attempts: int = 0
    id: int | None = None


# -- people who use Tocsin --------------------------------------------------------------


@frozen
class User:
    """Someone who operates Tocsin: an administrator, an operator or an agent."""

    username: str
    id: int | None = None
    display_name: str = ""
    email: str = ""
    role: Role = field(default=Role.OPERATOR, converter=_role)
    language: str = ""
    active: bool = True
    created_at: dt.datetime | None = None


@frozen
class Assignment:
    """A contact assigned to (or unassigned from) an agent, and by what."""

    contact_id: int
    agent_id: int | None
    source: str
    assigned: bool = True
    assigner_id: int | None = None
    conversation: str = ""
    at: dt.datetime | None = None
    id: int | None = None


@frozen
class InboundMessage:
    """Something a contact sent back: an SMS, an e-mail reply, a DTMF digit."""

    means: str
    sender: str
    text: str
    at: dt.datetime
    channel: str = ""
    attempt_id: int | None = None
    provider_ref: str | None = None


DOMAIN_CLASSES: tuple[type, ...] = (
    PostalAddress,
    ContactMeans,
    Contact,
    Group,
    Category,
    Message,
    EscalationStep,
    EscalationPlan,
    Campaign,
    Alert,
    Audience,
    Attempt,
    StatusEvent,
    AttemptChange,
    Recontact,
    User,
    Assignment,
    InboundMessage,
)

__all__ = [c.__name__ for c in DOMAIN_CLASSES] + [
    "AddressKind",
    "AlertState",
    "AttemptKind",
    "DOMAIN_CLASSES",
    "Outcome",
    "Role",
]

assert all(attrs.has(c) for c in DOMAIN_CLASSES)
