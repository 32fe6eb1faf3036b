"""A small pool of long-lived SMTP connections to one server.

Connections are opened on demand up to the server's ``concurrency``, kept open and reused
across messages (one EHLO, one TLS handshake, one AUTH per connection, not per message),
and dropped when the server closes them; the next lease opens a fresh one. Every lease
first waits for the server's rate limit. Certificate checks are on unless the
configuration turns them off for that server.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

import aiosmtplib

from tocsin.plugins.smtp.settings import ServerSettings


class RateLimiter:
    """Spaces events ``per / rate`` seconds apart (reservations, so no lock is needed)."""

    def __init__(self, rate: float | None, per: float) -> None:
        self.interval = per / rate if rate else 0.0
        self._next = 0.0

    async def wait(self) -> None:
        if not self.interval:
            return
        now = asyncio.get_running_loop().time()
        at = max(now, self._next)
        self._next = at + self.interval
        if at > now:
            await asyncio.sleep(at - now)


def tls_context(server: ServerSettings) -> ssl.SSLContext:
    """The TLS context for ``server``: system CAs (or ``cafile``), hostname checked."""
    context = ssl.create_default_context(cafile=server.cafile)
    if not server.verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


class ServerPool:
    """Connections to one server, leased one message at a time."""

    def __init__(self, server: ServerSettings) -> None:
        self.server = server
        self._idle: list[aiosmtplib.SMTP] = []
        self._slots = asyncio.Semaphore(server.concurrency)
        self._limiter = RateLimiter(server.rate, server.per)
        self._context = tls_context(server) if server.tls != "none" else None
        self.opened = 0
        """Connections opened so far (a reused connection is not counted again)."""
        self.down_until = 0.0
        self.last_error = ""
        self._closing = False

    @property
    def idle(self) -> int:
        return len(self._idle)

    async def open(self) -> aiosmtplib.SMTP:
        """A new connection: connected, TLS as configured, EHLO done, authenticated."""
        s = self.server
        smtp = aiosmtplib.SMTP(
            hostname=s.host,
            port=s.port,
            use_tls=s.tls == "implicit",
            start_tls=s.tls == "starttls",
            tls_context=self._context,
            validate_certs=s.verify,
            username=s.username,
            password=s.password,
            timeout=s.timeout,
            local_hostname=s.local_hostname,
        )
        await smtp.connect()
        self.opened += 1
        return smtp

    @asynccontextmanager
    async def lease(self, *, fresh: bool = False) -> AsyncIterator[tuple[aiosmtplib.SMTP, bool]]:
        """A connection for one transaction, and whether it was reused.

        Waits for a free slot and the rate limit. An idle connection the server has
        closed is dropped. After the transaction the connection goes back to the pool if
        it is still open (the dialogue resets it after a failure).
        """
        async with self._slots:
            await self._limiter.wait()
            smtp, reused = None, False
            while self._idle and not fresh:
                candidate = self._idle.pop()
                if candidate.is_connected:
                    smtp, reused = candidate, True
                    break
            if smtp is None:
                smtp = await self.open()
            try:
                yield smtp, reused
            finally:
                if smtp.is_connected and not self._closing:
                    self._idle.append(smtp)
                else:
                    smtp.close()

    async def close(self) -> None:
        """Say QUIT on every idle connection and forget them."""
        self._closing = True
        idle, self._idle = self._idle, []
        for smtp in idle:
            with suppress(aiosmtplib.SMTPException, OSError, asyncio.TimeoutError):
                await asyncio.wait_for(smtp.quit(), timeout=2)
            smtp.close()
