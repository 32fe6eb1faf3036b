"""What a channel is: the facts it declares, how it sends, how it reports back.

A channel plugin registers a :class:`ChannelType` (through
``tocsin_register_channels``); the configuration names channel instances of that type
(``[channels.<name>] type = "smtp"``) and the type's ``build`` turns each section into a
:class:`Channel`. A channel refuses bad configuration in ``build`` with
:class:`~tocsin.errors.ConfigError`, and what its hardware or account cannot do in
``start``, never at send time.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from attrs import field, frozen

from tocsin.clock import Clock, SystemClock
from tocsin.model import Attempt, InboundMessage, StatusEvent


@frozen
class Capabilities:
    """What a channel can tell or do beyond sending."""

    delivery_reports: bool = False
    dtmf_confirmation: bool = False
    voicemail_detection: bool = False
    fax_detection: bool = False
    inbound: bool = False
    idempotency_key: bool = False
    text_to_speech: bool = False
    audio: bool = False


@frozen
class Limits:
    """How hard a channel may be driven.

    ``rate`` is messages per ``per`` seconds (``None``: no limit); ``concurrency`` the
    sends in flight at once; ``message_size`` the longest text (characters) or message
    (bytes) it takes.
    """

    rate: float | None = None
    per: float = 1.0
    concurrency: int = 1
    message_size: int | None = None
    burst: int = 1

    @property
    def interval(self) -> float:
        """Seconds between two sends at the declared rate (0 when unlimited)."""
        return 0.0 if not self.rate else self.per / self.rate


@frozen
class RenderedMessage:
    """An alert's message for one means, rendered for one contact."""

    text: str = ""
    subject: str = ""
    html: str = ""
    audio_url: str = ""
    repeat: int = 1


@frozen
class OutboundAttempt:
    """What a channel receives to send: the attempt and its rendered message.

    ``idempotency_key`` is stable across restarts: a channel that can pass it to its
    provider never sends the same attempt twice.
    """

    attempt: Attempt
    message: RenderedMessage
    contact_name: str = ""
    language: str = ""
    requires_confirmation: bool = False
    alert_title: str = ""

    @property
    def idempotency_key(self) -> str:
        return f"tocsin-attempt-{self.attempt.id}"


# -- send results: typed, never a bare bool ---------------------------------------------


@frozen
class Accepted:
    """The channel (or its provider) took the message.

    ``status`` is the status it is now in, when the channel knows it (an SMTP ``250``
    means *sent*; a cloud API answers *queued*); ``provider_ref`` is the provider's id
    for it, used to match later status callbacks.
    """

    provider_ref: str | None = None
    status: str | None = None


@frozen
class TemporaryFailure:
    """Not sent this time; worth trying again (after ``retry_after`` seconds if given)."""

    reason: str
    retry_after: float | None = None
    code: str = ""


@frozen
class PermanentFailure:
    """Will never be sent; ``status`` is the final status to record (default: the
    machine's failure state), ``reason`` the provider's words."""

    reason: str
    status: str | None = None
    code: str = ""


SendResult = Accepted | TemporaryFailure | PermanentFailure


class HealthState(enum.StrEnum):
    OK = "ok"
    DEGRADED = "degraded"
    DOWN = "down"


@frozen
class Health:
    """A channel's own account of whether it can send now."""

    state: HealthState = HealthState.OK
    detail: str = ""
    data: Mapping[str, Any] = field(factory=dict)


# -- the channel and its sink -----------------------------------------------------------


@runtime_checkable
class StatusSink(Protocol):
    """Where a channel reports what happens after ``send``: one sink per engine.

    Both methods only enqueue and return at once; the engine applies events in batches.
    """

    def report(self, event: StatusEvent) -> None:
        """A status for an attempt (by ``attempt_id``, or ``channel`` + ``provider_ref``)."""

    def inbound(self, message: InboundMessage) -> None:
        """Something a contact sent back: a reply SMS, an e-mail, a DTMF digit."""


@runtime_checkable
class Channel(Protocol):
    """A way to send one means: built from configuration, started by the engine."""

    name: str
    means: str
    capabilities: Capabilities
    limits: Limits

    async def start(self, sink: StatusSink) -> None:
        """Open connections and check the account or hardware; raise on what it lacks."""

    async def stop(self) -> None:
        """Finish or abandon in-flight work and release every resource."""

    def health(self) -> Health:
        """Whether the channel can send now, and why not."""

    async def send(self, outbound: OutboundAttempt) -> SendResult:
        """Hand one attempt to the provider and say what became of it."""


@frozen
class ChannelSettings:
    """What ``ChannelType.build`` receives: one ``[channels.<name>]`` section.

    ``options`` holds the section's keys (secrets already resolved from the
    environment); ``data_dir`` is where the channel may keep files. ``hooks`` is the plugin
    manager's hook relay (``runtime.pm.hook``), through which a channel calls extension
    hooks such as ``tocsin_scan_message``; ``None`` when a channel is built alone.
    """

    name: str
    type: str
    options: Mapping[str, Any] = field(factory=dict)
    clock: Clock = field(factory=SystemClock)
    data_dir: Path = field(default=Path("."))
    base_url: str = ""
    hooks: Any = None


@frozen
class ChannelType:
    """A kind of channel a plugin offers (``smtp``, ``gsm-sms``, ``twilio-voice``...)."""

    name: str
    means: str
    build: Callable[[ChannelSettings], Channel]
    description: str = ""


def now_event(
    clock: Clock, attempt_id: int | None, status: str, *, reason: str = "", source: str = ""
) -> StatusEvent:
    """A status event for ``attempt_id`` stamped with ``clock``'s time."""
    return StatusEvent(status=status, at=clock.now(), attempt_id=attempt_id, reason=reason, source=source)


__all__ = [
    "Accepted",
    "Capabilities",
    "Channel",
    "ChannelSettings",
    "ChannelType",
    "Health",
    "HealthState",
    "Limits",
    "OutboundAttempt",
    "PermanentFailure",
    "RenderedMessage",
    "SendResult",
    "StatusSink",
    "TemporaryFailure",
    "now_event",
]

