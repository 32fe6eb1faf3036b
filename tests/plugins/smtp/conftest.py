"""Real SMTP servers on loopback (aiosmtpd), scripted per recipient, and a recording sink."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import trustme
from aiosmtpd.smtp import Envelope, Session

from tocsin.channel import ChannelSettings, OutboundAttempt, RenderedMessage
from tocsin.clock import FakeClock
from tocsin.model import Attempt, InboundMessage, StatusEvent
from tocsin.plugins.smtp.channel import SmtpChannel, build_channel
from tocsin.plugins.smtp.demo import DemoMail, Received, start_demo_mail

SECRET = "a-test-secret-of-32-characters!!"


class RecordingSink:
    """A StatusSink that keeps what it is given."""

    def __init__(self) -> None:
        self.events: list[StatusEvent] = []
        self.messages: list[InboundMessage] = []

    def report(self, event: StatusEvent) -> None:
        self.events.append(event)

    def inbound(self, message: InboundMessage) -> None:
        self.messages.append(message)


class Scripted:
    """Answers by recipient local part: ``refuse-rcpt``, ``refuse-data``, ``greylist``
    (451 once, then 250), ``drop`` (connection closed at the end of DATA); else 250."""

    def __init__(self) -> None:
        self.demo: DemoMail | None = None
        self.greylisted: set[str] = set()
        self.connections = 0
        self.rsets = 0
        self.mails = 0

    def bind(self, demo: DemoMail) -> None:
        self.demo = demo

    async def handle_MAIL(self, server: Any, session: Session, envelope: Envelope,
                          address: str, options: list[str]) -> str:
        self.mails += 1
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RSET(self, server: Any, session: Session, envelope: Envelope) -> str:
        self.rsets += 1
        return "250 OK"

    async def handle_RCPT(self, server: Any, session: Session, envelope: Envelope,
                          address: str, options: list[str]) -> str:
        local = address.split("@")[0]
        if local == "refuse-rcpt":
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:
        local = envelope.rcpt_tos[0].split("@")[0]
        if local == "refuse-data":
            return "554 5.7.1 Message rejected: virus found (Test.Signature)"
        if local == "greylist" and envelope.rcpt_tos[0] not in self.greylisted:
            self.greylisted.add(envelope.rcpt_tos[0])
            return "451 4.7.1 Greylisted, try again later"
        if local == "drop":
            server.transport.close()
            return "250 OK"
        assert self.demo is not None
        data = envelope.original_content or b""
        self.demo.received.append(Received(
            mail_from=str(envelope.mail_from), recipients=tuple(envelope.rcpt_tos), data=data,
            mail_options=tuple(getattr(server, "_dsn_mail", ())),
            rcpt_options=tuple(getattr(server, "_dsn_rcpt", ())),
            tls=session.ssl is not None,
            authenticated=bool(session.authenticated),
        ))
        return "250 OK"


@pytest.fixture
def sink() -> RecordingSink:
    return RecordingSink()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def scripted() -> AsyncIterator[tuple[DemoMail, Scripted]]:
    handler = Scripted()
    demo = await start_demo_mail(handler=handler)
    yield demo, handler
    await demo.stop()


@pytest.fixture(scope="session")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def server_tls(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    return context


@pytest.fixture
def cafile(ca: trustme.CA, tmp_path: Path) -> str:
    path = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


def channel_for(port: int, clock: FakeClock | None = None, name: str = "mail",
                hooks: Any = None, base_url: str = "", **options: Any) -> SmtpChannel:
    section: dict[str, Any] = {
        "type": "smtp",
        "host": "127.0.0.1",
        "port": port,
        "tls": "none",
        "from_address": "alerts@example.org",
        "from_name": "Mairie de Saint-Étienne",
        "token_secret": SECRET,
        **options,
    }
    return build_channel(ChannelSettings(name=name, type="smtp", options=section,
                                         clock=clock or FakeClock(), hooks=hooks,
                                         base_url=base_url))


def outbound(address: str, attempt_id: int = 1, *, text: str = "Coupure d'eau demain 8h-12h.",
             html: str = "<p>Coupure d'eau demain <b>8h-12h</b>.</p>",
             subject: str = "Alerte : coupure d'eau à Montréal",
             name: str = "Zoë Ça") -> OutboundAttempt:
    return OutboundAttempt(
        attempt=Attempt(alert_id=1, contact_id=attempt_id, means="email", address=address,
                        status="", id=attempt_id, channel="mail"),
        message=RenderedMessage(text=text, subject=subject, html=html),
        contact_name=name,
        alert_title="Coupure d'eau",
    )
