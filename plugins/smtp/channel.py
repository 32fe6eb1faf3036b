"""The ``smtp`` channel: e-mail through one or more SMTP servers, with failover.

``send`` returns what the SMTP dialogue says (see :mod:`.dialogue` for the mapping):
*sent*, *not sent* (bad address), *rejected* (policy, virus; also when a content scanner
flags the message before it leaves), or a :class:`TemporaryFailure`.

Who retries: the channel itself only moves on to the next server when one cannot be
reached (failover), and opens a fresh connection once when a pooled one turns out to have
been closed by the server before anything was sent. A temporary refusal (4xx) or a
connection lost mid-transaction on every server is returned as a
:class:`TemporaryFailure`; the engine retries it with backoff and records the final
failure when its retries run out.

After sending, bounces and complaints come back through the bounce receiver and the IMAP
poller (started here when configured) and are reported to the sink.
"""

from __future__ import annotations

import logging
import ssl
import time
from collections.abc import Sequence
from email.message import Message as EmailMessage

import aiosmtplib
from attrs import evolve

from tocsin.channel import (
    Capabilities,
    ChannelSettings,
    Health,
    HealthState,
    Limits,
    OutboundAttempt,
    PermanentFailure,
    SendResult,
    StatusSink,
    TemporaryFailure,
)
from tocsin.errors import ConfigError, ValidationError
from tocsin.plugins.smtp import dialogue, message
from tocsin.plugins.smtp.imap import ImapPoller
from tocsin.plugins.smtp.pool import ServerPool
from tocsin.plugins.smtp.receiver import BounceReceiver
from tocsin.plugins.smtp.settings import SmtpSettings, parse_settings
from tocsin.scan import ScanError, active_scanners, has_scanners, scan_parts
from tocsin.validate import email_address

log = logging.getLogger(__name__)

MEANS = "email"


class SmtpChannel:
    """E-mail over SMTP: pooled connections, failover, bounce intake (see module docs)."""

    means = MEANS

    def __init__(self, settings: ChannelSettings, smtp: SmtpSettings) -> None:
        self.name = settings.name
        self.settings = smtp
        self.clock = settings.clock
        self.base_url = settings.base_url
        self.hooks = settings.hooks
        self.capabilities = Capabilities(delivery_reports=True, idempotency_key=False)
        rated = all(s.rate for s in smtp.servers)
        self.limits = Limits(
            rate=sum((s.rate or 0) / s.per for s in smtp.servers) if rated else None,
            concurrency=smtp.concurrency,
        )
        self.pools = [ServerPool(s) for s in smtp.servers]
        self.sink: StatusSink | None = None
        self.receiver: BounceReceiver | None = None
        self.poller: ImapPoller | None = None
        self._scan = smtp.scan != "off" and self.hooks is not None and has_scanners(self.hooks)
        if smtp.scan == "required" and not self._scan:
            raise ConfigError(
                f"channels.{self.name}.scan: 'required' but no content scanner plugin is loaded"
            )

    # -- lifecycle ---------------------------------------------------------------------

    async def start(self, sink: StatusSink) -> None:
        """Warm one connection per server; start bounce intake when configured.

        A server refusing our credentials or certificate is a configuration error and
        stops the start; a server merely unreachable is marked down (failover covers it).
        """
        self.sink = sink
        self.pools = [ServerPool(s) for s in self.settings.servers]  # fresh after a stop
        if self.settings.scan == "required" and not await active_scanners(self.hooks, self.name):
            raise ConfigError(
                f"channels.{self.name}.scan: 'required' but no content scanner is configured "
                "(e.g. a [clamav] section)"
            )
        for pool in self.pools:
            try:
                async with pool.lease():
                    pass
            except (aiosmtplib.SMTPAuthenticationError, ssl.SSLCertVerificationError) as exc:
                await self.stop()
                raise ConfigError(
                    f"channels.{self.name}: server {pool.server.label} refused the set-up: {exc}"
                ) from exc
            except (aiosmtplib.SMTPException, OSError) as exc:
                self._mark_down(pool, f"cannot connect: {exc}")
        secret = self.settings.token_secret
        if self.settings.bounce_smtp is not None:
            self.receiver = BounceReceiver(self.settings.bounce_smtp, self.name, secret,
                                           self.settings.bounce_domain, sink, self.clock)
            await self.receiver.start()
        if self.settings.bounce_imap is not None:
            self.poller = ImapPoller(self.settings.bounce_imap, self.name, secret, sink, self.clock)
            self.poller.start()

    async def stop(self) -> None:
        if self.poller is not None:
            await self.poller.stop()
            self.poller = None
        if self.receiver is not None:
            await self.receiver.stop()
            self.receiver = None
        for pool in self.pools:
            await pool.close()

    def health(self) -> Health:
        now = time.monotonic()
        down = [p for p in self.pools if p.down_until > now]
        data = {
            p.server.label: {
                "up": p.down_until <= now,
                "opened": p.opened,
                "idle": p.idle,
                "last_error": p.last_error,
            }
            for p in self.pools
        }
        if not down:
            return Health(HealthState.OK, "", data)
        detail = "; ".join(f"{p.server.label}: {p.last_error}" for p in down)
        state = HealthState.DOWN if len(down) == len(self.pools) else HealthState.DEGRADED
        return Health(state, detail, data)

    # -- sending -----------------------------------------------------------------------

    def _mark_down(self, pool: ServerPool, reason: str) -> None:
        pool.last_error = reason
        pool.down_until = time.monotonic() + self.settings.failover_cooldown
        log.warning("channel %s: server %s is down: %s", self.name, pool.server.label, reason)

    def _order(self) -> Sequence[ServerPool]:
        """Servers in configured order, those marked down last (they may be back)."""
        now = time.monotonic()
        return sorted(self.pools, key=lambda p: p.down_until > now)

    def build(self, outbound: OutboundAttempt) -> tuple[EmailMessage, message.Envelope]:
        """The e-mail and envelope ``send`` would transmit for ``outbound``."""
        pixel = ""
        if self.settings.tracking_pixel and self.base_url and outbound.attempt.id is not None:
            pixel = message.tracking_url(self.base_url, self.name, self.settings.token_secret,
                                         outbound.attempt.id)
        return message.build_message(self.settings, outbound, now=self.clock.now(), pixel_url=pixel)

    async def send(self, outbound: OutboundAttempt) -> SendResult:
        """Validate, build, scan, then transmit with failover (see the module docs)."""
        try:
            address = email_address(outbound.attempt.address)
        except ValidationError as exc:
            return PermanentFailure(reason=str(exc), status=dialogue.NOT_SENT, code="address")
        if address != outbound.attempt.address:
            outbound = evolve(outbound, attempt=evolve(outbound.attempt, address=address))
        msg, envelope = self.build(outbound)
        if self._scan:
            try:
                finding = await scan_parts(self.hooks, self.name, message.scan_parts(msg))
            except ScanError as exc:
                return TemporaryFailure(reason=f"content scan unavailable: {exc}", code="scan")
            if finding is not None:
                return PermanentFailure(reason=finding.reason, status=dialogue.REJECTED,
                                        code="scan")
        data = message.to_bytes(msg)
        return await self.transmit(envelope, data, str(msg["Message-ID"]))

    async def transmit(self, envelope: message.Envelope, data: bytes, message_id: str) -> SendResult:
        """Try each server in turn until one answers; the dialogue's result."""
        last = "no SMTP server configured"
        for pool in self._order():
            try:
                return await self._on(pool, envelope, data, message_id)
            except dialogue.Interrupted as exc:
                last = f"{pool.server.label}: connection lost at {exc.stage}: {exc.reason}"
                self._mark_down(pool, last)
            except (aiosmtplib.SMTPException, OSError, ssl.SSLError) as exc:
                last = f"{pool.server.label}: cannot connect: {exc}"
                self._mark_down(pool, last)
        return TemporaryFailure(reason=last, code="connection")

    async def _on(self, pool: ServerPool, envelope: message.Envelope, data: bytes,
                  message_id: str) -> SendResult:
        async with pool.lease() as (smtp, reused):
            try:
                result = await dialogue.transact(smtp, envelope, data, dsn=self.settings.dsn,
                                                 message_id=message_id)
            except dialogue.Interrupted as exc:
                if not (reused and exc.stage == "MAIL"):
                    raise
                result = None  # the server had closed this idle connection: one fresh try
        if result is None:
            async with pool.lease(fresh=True) as (smtp, _):
                result = await dialogue.transact(smtp, envelope, data, dsn=self.settings.dsn,
                                                 message_id=message_id)
        pool.down_until = 0.0
        return result


def build_channel(settings: ChannelSettings) -> SmtpChannel:
    """``ChannelType.build`` for ``smtp``: validate the section, make the channel."""
    return SmtpChannel(settings, parse_settings(settings.name, settings.options))
