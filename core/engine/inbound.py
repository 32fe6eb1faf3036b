"""Built-in inbound plugins: the confirmation digit, the reply keywords and opt-out.

Registered through the ``tocsin`` entry points like any plugin (``core-inbound``), so a
deployment can disable them (``[tocsin] disable_plugins``) and bring its own.

- A DTMF ``1`` (or the configured digit) on a call attempt makes it *confirmed*.
- An SMS reply that is one of the confirmation keywords (``[inbound]
  confirm_keywords``, default ``1``, ``OUI``, ``YES``) makes the SMS attempt it answers
  *confirmed* (see :mod:`tocsin.engine.replies` for which attempt that is). Inbound SMS
  of the cloud channels come through the same hook, so this works for every SMS channel.
- ``STOP`` (and its usual variants) by SMS marks every contact with that number as
  opted out: later alerts skip them.

A reply from a number no contact has, or a text that is no keyword, is left to the
next plugin (``None``).

``[inbound]`` (defaults shown)::

    confirm_digit = "1"
    confirm_keywords = ["1", "OUI", "YES"]   # case, accents, punctuation around ignored
    reply_window = "24h"   # no alert open: a reply confirms an SMS sent this recently
"""

from __future__ import annotations

from tocsin.config import Config
from tocsin.engine.replies import (
    STOP,
    InboundSettings,
    confirmable_states,
    parse_inbound,
    replied_attempt,
    sender_number,
)
from tocsin.hookspecs import hookimpl
from tocsin.model import InboundMessage, StatusEvent
from tocsin.runtime import Runtime

_SETTINGS = "tocsin.inbound"


def _settings(runtime: Runtime) -> InboundSettings:
    """The parsed ``[inbound]`` section, kept for the run (it was validated at start)."""
    settings = runtime.services.get(_SETTINGS)
    if not isinstance(settings, InboundSettings):
        settings = parse_inbound(runtime.config.section("inbound"))
        runtime.services[_SETTINGS] = settings
    return settings


@hookimpl
def tocsin_configure(config: Config) -> None:
    """Refuse a bad ``[inbound]`` section before anything starts."""
    parse_inbound(config.section("inbound"))


def _confirm(runtime: Runtime, message: InboundMessage, attempt_id: int, source: str, reason: str) -> None:
    assert runtime.sink is not None
    runtime.sink.report(
        StatusEvent(status="confirmed", at=message.at, attempt_id=attempt_id,
                    source=f"{source}:{message.channel}" if message.channel else source, reason=reason)
    )


def _sms_reply(runtime: Runtime, message: InboundMessage, settings: InboundSettings) -> str | None:
    if runtime.sink is None or not settings.confirm_keywords.matches(message.text):
        return None
    number = sender_number(message.sender, runtime.config.core.default_region)
    machine = runtime.registry.status_machines.get("sms")
    if number is None or machine is None:
        return None
    with runtime.store.engine.connect() as conn:
        attempt_id = replied_attempt(
            conn, number, states=confirmable_states(machine.value), now=message.at,
            window=settings.reply_window,
        )
    if attempt_id is None:
        return None
    reply = message.text.strip()
    _confirm(runtime, message, attempt_id, "sms-reply", f"replied {reply!r}")
    return f"SMS attempt {attempt_id} confirmed (replied {reply!r})"


@hookimpl
def tocsin_inbound_message(runtime: Runtime, message: InboundMessage) -> str | None:
    settings = _settings(runtime)
    text = message.text.strip()
    if message.means == "call":
        if message.attempt_id is None or text != settings.confirm_digit or runtime.sink is None:
            return None
        _confirm(runtime, message, message.attempt_id, "dtmf", f"pressed {text}")
        return f"attempt {message.attempt_id} confirmed (pressed {text})"
    if message.means != "sms":
        return None
    if STOP.matches(text):
        number = sender_number(message.sender, runtime.config.core.default_region) or message.sender
        contacts = runtime.store.contacts.find_by_address(number)
        for contact in contacts:
            if contact.id is not None:
                runtime.store.contacts.set_opted_out(contact.id)
        return f"opt-out of {len(contacts)} contact(s)"
    return _sms_reply(runtime, message, settings)
