"""The IMAP bounce poller: reads a mailbox where bounces and complaints land.

For deployments whose bounce address is an ordinary mailbox. Every ``interval`` seconds
it fetches the unseen messages (standard library ``imaplib``, in a worker thread, with
certificate checks on by default), hands each to the one bounce parser, reports the
attributed ones, and flags every fetched message ``\\Seen`` so it is read once. Without
the SMTP envelope, attribution rests on the headers the mailbox keeps (``Delivered-To``,
``X-Original-To``) and on the tokens inside the report.
"""

from __future__ import annotations

import asyncio
import imaplib
import logging
import ssl
from contextlib import suppress

from tocsin.channel import StatusSink
from tocsin.clock import Clock
from tocsin.plugins.smtp.bounces import event_for, parse_bounce
from tocsin.plugins.smtp.settings import ImapSettings

log = logging.getLogger(__name__)


def _connect(settings: ImapSettings) -> imaplib.IMAP4:
    if settings.tls == "implicit":
        context = ssl.create_default_context(cafile=settings.cafile)
        if not settings.verify:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return imaplib.IMAP4_SSL(settings.host, settings.port, ssl_context=context, timeout=30)
    return imaplib.IMAP4(settings.host, settings.port, timeout=30)


def fetch_unseen(settings: ImapSettings) -> list[bytes]:
    """Every unseen message of the mailbox (now flagged seen), raw. Blocking."""
    conn = _connect(settings)
    try:
        conn.login(settings.username, settings.password)
        status, _ = conn.select(settings.mailbox)
        if status != "OK":
            raise imaplib.IMAP4.error(f"cannot select mailbox {settings.mailbox!r}")
        status, data = conn.uid("SEARCH", "UNSEEN")
        uids = data[0].split() if status == "OK" and data and data[0] else []
        messages = []
        for uid in uids:
            status, parts = conn.uid("FETCH", uid, "(BODY.PEEK[])")
            raw = next((p[1] for p in parts if isinstance(p, tuple) and len(p) == 2), None)
            if status == "OK" and isinstance(raw, bytes):
                messages.append(raw)
            conn.uid("STORE", uid, "+FLAGS", "(\\Seen)")
        return messages
    finally:
        with suppress(Exception):
            conn.logout()


class ImapPoller:
    """Polls one mailbox for ``channel`` and reports what it finds."""

    def __init__(self, settings: ImapSettings, channel: str, secret: str, sink: StatusSink,
                 clock: Clock) -> None:
        self.settings = settings
        self.channel = channel
        self.secret = secret
        self.sink = sink
        self.clock = clock
        self.read = 0
        self.attributed = 0
        self.last_error = ""
        self._task: asyncio.Task[None] | None = None

    async def poll_once(self) -> int:
        """Fetch and report once; how many messages were attributed."""
        raws = await asyncio.to_thread(fetch_unseen, self.settings)
        found = 0
        for raw in raws:
            self.read += 1
            bounce = parse_bounce(raw, self.secret)
            if bounce is None:
                continue
            found += 1
            self.sink.report(event_for(bounce, channel=self.channel, at=self.clock.now(),
                                       source="bounce-imap"))
        self.attributed += found
        return found

    async def _run(self) -> None:
        while True:
            try:
                await self.poll_once()
                self.last_error = ""
            except (OSError, imaplib.IMAP4.error, ssl.SSLError) as exc:
                self.last_error = str(exc)
                log.warning("bounce mailbox %s@%s: %s", self.settings.username,
                            self.settings.host, exc)
            await asyncio.sleep(self.settings.interval)

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with suppress(asyncio.CancelledError):
                await self._task
            self._task = None
