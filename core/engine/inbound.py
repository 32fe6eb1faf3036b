"""Built-in inbound plugins: the confirmation digit and the opt-out keyword.

Registered through the ``tocsin`` entry points like any plugin (``core-inbound``), so a
deployment can disable them (``[tocsin] disable_plugins``) and bring its own.

- A DTMF ``1`` (or the configured digit) on a call attempt makes it *confirmed*.
- ``STOP`` (and its usual variants) by SMS marks every contact with that number as
  opted out: later alerts skip them.
"""

from __future__ import annotations

from tocsin.hookspecs import hookimpl
from tocsin.model import InboundMessage, StatusEvent
from tocsin.runtime import Runtime

STOP_WORDS = frozenset({"STOP", "STOP ALL", "STOPALL", "UNSUBSCRIBE", "ARRET", "ARRÊT", "END", "QUIT"})


def _confirm_digit(runtime: Runtime) -> str:
    return str(runtime.config.section("inbound").get("confirm_digit", "1"))


@hookimpl
def tocsin_inbound_message(runtime: Runtime, message: InboundMessage) -> str | None:
    text = message.text.strip()
    if (
        message.means == "call"
        and message.attempt_id is not None
        and text == _confirm_digit(runtime)
        and runtime.sink is not None
    ):
        runtime.sink.report(
            StatusEvent(
                status="confirmed",
                at=message.at,
                attempt_id=message.attempt_id,
                source=f"dtmf:{message.channel}" if message.channel else "dtmf",
                reason=f"pressed {text}",
            )
        )
        return f"attempt {message.attempt_id} confirmed (pressed {text})"
    if message.means == "sms" and text.upper() in STOP_WORDS:
        contacts = runtime.store.contacts.find_by_address(message.sender)
        for contact in contacts:
            if contact.id is not None:
                runtime.store.contacts.set_opted_out(contact.id)
        return f"opt-out of {len(contacts)} contact(s)"
    return None
