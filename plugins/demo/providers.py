"""What the demo sends through, all on loopback: two virtual GSM modems (one for SMS, one
for calls), the local mail server with its bounces and, when asked, the Twilio simulator.

:func:`running_providers` starts them and yields the ``[channels]`` sections that point
Tocsin's channels at them, and the ``[engine.routes]`` that choose which channels send
SMS and calls; nothing here sends anything itself.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from attrs import define, field

from tocsin.hal.virtual_modem import VirtualModem, virtual_modems
from tocsin.plugins.demo.people import modem_scenarios, twilio_book
from tocsin.plugins.smtp.demo import DemoMail, free_port, start_demo_mail

VIA = ("modem", "twilio")
SENDER = "+33100000001"
"""The Twilio sender number (a simulated long code)."""


@define
class Providers:
    """The running providers and the channel sections that use them."""

    channels: dict[str, dict[str, Any]]
    routes: dict[str, str]
    """Which channel sends each means (``[engine.routes]``): the configuration chooses."""
    mail: DemoMail
    modems: list[VirtualModem] = field(factory=list)
    twilio_url: str = ""

    def summary(self) -> list[str]:
        """What the providers saw, in a few lines (printed when the demo ends)."""
        lines = []
        for modem in self.modems:
            lines.append(f"virtual modem {modem.name} ({modem.dialect.model}): "
                         f"{len(modem.messages)} SMS sent, {len(modem.calls)} calls placed")
        kinds: dict[str, int] = {}
        for _, kind in self.mail.reports_sent:
            kinds[kind] = kinds.get(kind, 0) + 1
        returned = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items())) or "none"
        lines.append(f"demo mail server: {len(self.mail.received)} e-mails taken; "
                     f"reports sent back: {returned}")
        return lines


def _modem_sections(modems: list[VirtualModem], scale: float) -> dict[str, dict[str, Any]]:
    sms, voice = modems
    return {
        "sms": {"type": "gsm-sms", "devices": [sms.device], "time_scale": scale},
        "calls": {"type": "gsm-voice", "devices": [voice.device], "time_scale": scale,
                  "default_language": "fr"},
    }


def _twilio_sections(api_url: str, webhook_url: str) -> dict[str, dict[str, Any]]:
    from tocsin.testing.twilio_simulator import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN

    common = {"account_sid": DEFAULT_ACCOUNT_SID, "auth_token": DEFAULT_AUTH_TOKEN,
              "api_base_url": api_url, "webhook_base_url": webhook_url, "from": SENDER,
              "rate": 5}  # a short code's pace, and calls a few per second
    return {
        "twilio-sms": {"type": "twilio-sms", **common},
        "twilio-calls": {"type": "twilio-voice", **common, "language": "fr-FR"},
    }


@contextlib.asynccontextmanager
async def running_providers(via: str, *, scale: float, base_url: str,
                            link_dir: Path) -> AsyncIterator[Providers]:
    """Start the two virtual modems, the mail server and, for ``via="twilio"``, the
    Twilio simulator; ``base_url`` is where the reference server will answer provider
    callbacks. Every provider gets its channels; the routes say which ones send."""
    if via not in VIA:
        raise ValueError(f"via must be one of {VIA}, not {via!r}")
    bounce_port = free_port()
    mail = await start_demo_mail(bounce_to=("127.0.0.1", bounce_port))
    mail_section = mail.channel_section(bounce_port, secrets.token_urlsafe(32),
                                        from_name="Mairie (démo Tocsin)")
    try:
        async with contextlib.AsyncExitStack() as stack:
            modems = await stack.enter_async_context(virtual_modems(
                2, dialects=("simcom", "quectel"), scenarios=modem_scenarios(), scale=scale,
                link_dir=link_dir))
            channels = _modem_sections(modems, scale)
            routes = {"sms": "sms", "call": "calls"}
            twilio_url = ""
            if via == "twilio":
                from tocsin.testing.twilio_simulator import running_twilio_simulator

                twilio_url = await stack.enter_async_context(
                    running_twilio_simulator(scenarios=twilio_book(), time_scale=scale))
                channels.update(_twilio_sections(twilio_url, base_url))
                routes = {"sms": "twilio-sms", "call": "twilio-calls"}
            yield Providers({**channels, "mail": mail_section}, routes, mail, modems, twilio_url)
    finally:
        await mail.stop()
