"""The bounce receiver: an SMTP server for the bounce domain (aiosmtpd).

Point the bounce domain's MX (or a forwarding rule, or a feedback-loop registration) at
it. It accepts mail for addresses of the bounce domain only, never relays, and reports
every returned message it can attribute (see :mod:`.bounces`) to the channel's sink. It
runs in the channel's own event loop, so the sink is only ever called from that loop.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiosmtpd.smtp import SMTP as SMTPServer
from aiosmtpd.smtp import Envelope, Session

from tocsin.channel import StatusSink
from tocsin.clock import Clock
from tocsin.plugins.smtp.bounces import event_for, parse_bounce
from tocsin.plugins.smtp.settings import ListenSettings

log = logging.getLogger(__name__)

MAX_SIZE = 10 * 1024 * 1024


class _Handler:
    def __init__(self, receiver: BounceReceiver) -> None:
        self.receiver = receiver

    async def handle_RCPT(
        self, server: SMTPServer, session: Session, envelope: Envelope, address: str,
        rcpt_options: list[str],
    ) -> str:
        domain = address.rpartition("@")[2].lower()
        if domain != self.receiver.domain.lower():
            return "550 5.7.1 relaying denied: this server only takes bounces"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(
        self, server: SMTPServer, session: Session, envelope: Envelope
    ) -> str:
        content = envelope.original_content or envelope.content or b""
        raw = content if isinstance(content, bytes) else content.encode("utf-8", "replace")
        self.receiver.handle(raw, list(envelope.rcpt_tos))
        return "250 OK"


class BounceReceiver:
    """Listens on ``settings`` and reports bounces for ``channel``."""

    def __init__(self, settings: ListenSettings, channel: str, secret: str, domain: str,
                 sink: StatusSink, clock: Clock) -> None:
        self.settings = settings
        self.channel = channel
        self.secret = secret
        self.domain = domain
        self.sink = sink
        self.clock = clock
        self.received = 0
        self.attributed = 0
        self._server: asyncio.base_events.Server | None = None

    @property
    def port(self) -> int:
        """The port actually bound (useful when configured as 0)."""
        if self._server is None or not self._server.sockets:
            return self.settings.port
        return int(self._server.sockets[0].getsockname()[1])

    def handle(self, raw: bytes, recipients: list[str]) -> None:
        """Parse one returned message and report it when it names an attempt."""
        self.received += 1
        bounce = parse_bounce(raw, self.secret, recipients)
        if bounce is None:
            log.info("bounce receiver %s: a message naming no attempt of ours was ignored",
                     self.channel)
            return
        self.attributed += 1
        self.sink.report(event_for(bounce, channel=self.channel, at=self.clock.now(),
                                   source="bounce-smtp"))

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        handler = _Handler(self)

        def factory() -> Any:
            return SMTPServer(handler, data_size_limit=MAX_SIZE, enable_SMTPUTF8=True,
                              hostname="tocsin-bounces", decode_data=False)

        self._server = await loop.create_server(factory, self.settings.host, self.settings.port)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
