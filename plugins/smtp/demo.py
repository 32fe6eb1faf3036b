"""A local mail server for demos and tests: an SMTP sink that bounces some addresses.

``start_demo_mail()`` starts, in the running event loop, an aiosmtpd server that
advertises DSN, keeps every message it takes in memory, and sends back real reports to
the message's return path at ``bounce_to`` (the channel's bounce receiver): RFC 3464
*failed* reports (5.1.1, unknown user) for recipients chosen by ``bounce_when`` (by
default local parts starting with ``bounce``), RFC 5965 complaints for ``complain...``,
and *delivered* reports for the others when the sender asked for one (``NOTIFY=SUCCESS``).
Some local parts are refused during the dialogue (see :class:`_Sink`), so every e-mail
status can be shown. Nothing leaves the machine.
"""

from __future__ import annotations

import asyncio
import email
import email.utils
import logging
import socket
import threading
from collections.abc import Callable
from contextlib import suppress
from typing import Any

import aiosmtplib
from aiosmtpd.smtp import SMTP as SMTPServer
from aiosmtpd.smtp import Envelope, Session
from attrs import field, frozen

log = logging.getLogger(__name__)

DSN_MAIL_PARAMS = ("RET", "ENVID")
DSN_RCPT_PARAMS = ("NOTIFY", "ORCPT")


@frozen
class Received:
    """One message as the demo server received it."""

    mail_from: str
    recipients: tuple[str, ...]
    data: bytes
    mail_options: tuple[str, ...] = ()
    rcpt_options: tuple[str, ...] = ()
    peer: str = ""
    tls: bool = False
    authenticated: bool = False

    @property
    def message(self) -> email.message.Message:
        return email.message_from_bytes(self.data)


def _split_params(arg: str, names: tuple[str, ...]) -> tuple[str, list[str]]:
    """``arg`` without the DSN parameters (aiosmtpd does not know them), and those."""
    kept, dsn = [], []
    for word in arg.split(" "):
        if word.split("=", 1)[0].upper() in names:
            dsn.append(word)
        else:
            kept.append(word)
    return " ".join(kept), dsn


class DsnSMTP(SMTPServer):
    """aiosmtpd's server, advertising and accepting the DSN extension (RFC 3461)."""

    _dsn_mail: list[str]
    _dsn_rcpt: list[str]

    async def smtp_EHLO(self, hostname: str) -> None:
        original_push = self.push

        async def push(status: str) -> None:
            if status.startswith("250 ") and not getattr(self, "_dsn_said", False):
                self._dsn_said = True
                await original_push("250-DSN")
            await original_push(status)

        self._dsn_said = False
        self.push = push  # type: ignore[method-assign, assignment]
        try:
            await super().smtp_EHLO(hostname)
        finally:
            self.push = original_push  # type: ignore[method-assign]

    async def smtp_MAIL(self, arg: str | None) -> None:
        self._dsn_rcpt = []
        if arg is not None:
            arg, self._dsn_mail = _split_params(arg, DSN_MAIL_PARAMS)
        await super().smtp_MAIL(arg)

    async def smtp_RCPT(self, arg: str | None) -> None:
        if arg is not None:
            arg, dsn = _split_params(arg, DSN_RCPT_PARAMS)
            self._dsn_rcpt = getattr(self, "_dsn_rcpt", []) + dsn
        await super().smtp_RCPT(arg)

    def _set_rset_state(self) -> None:
        super()._set_rset_state()  # type: ignore[no-untyped-call]
        self._dsn_mail = []
        self._dsn_rcpt = []


def build_dsn(received: Received, recipient: str, *, action: str, status: str,
              diagnostic: str, reporting_mta: str = "demo.tocsin.invalid") -> bytes:
    """An RFC 3464 report about ``recipient`` of ``received``, addressed to its sender."""
    envid = next((o.split("=", 1)[1] for o in received.mail_options
                  if o.upper().startswith("ENVID=")), "")
    boundary = email.utils.make_msgid(domain="dsn").strip("<>")
    failed = action == "failed"
    human = (f"Your message to {recipient} could not be delivered: {diagnostic}"
             if failed else f"Your message to {recipient} was delivered.")
    original = received.message
    lines = [
        f"From: Mail Delivery System <MAILER-DAEMON@{reporting_mta}>",
        f"To: {received.mail_from}",
        "Subject: Delivery Status Notification (" + ("Failure)" if failed else "Success)"),
        f"Date: {email.utils.formatdate()}",
        f"Message-ID: {email.utils.make_msgid(domain=reporting_mta)}",
        "Auto-Submitted: auto-replied",
        "MIME-Version: 1.0",
        f'Content-Type: multipart/report; report-type=delivery-status; boundary="{boundary}"',
        "",
        f"--{boundary}",
        "Content-Type: text/plain; charset=us-ascii",
        "",
        human,
        "",
        f"--{boundary}",
        "Content-Type: message/delivery-status",
        "",
        f"Reporting-MTA: dns; {reporting_mta}",
        *([f"Original-Envelope-Id: {envid}"] if envid else []),
        "",
        f"Final-Recipient: rfc822; {recipient}",
        f"Action: {action}",
        f"Status: {status}",
        *([f"Diagnostic-Code: smtp; {diagnostic}"] if diagnostic else []),
        "",
        f"--{boundary}",
        "Content-Type: text/rfc822-headers",
        "",
        *(f"{k}: {v}" for k, v in original.items()),
        "",
        f"--{boundary}--",
        "",
    ]
    return "\r\n".join(lines).encode("utf-8")


def free_port() -> int:
    """A TCP port free on loopback now (for the bounce receiver of a demo)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def send_report(report: bytes, recipient: str, host: str, port: int) -> None:
    """Deliver a report as MTAs do: null sender (``MAIL FROM:<>``), one recipient."""
    smtp = aiosmtplib.SMTP(hostname=host, port=port, start_tls=False, timeout=10)
    async with smtp:
        await smtp.mail("")
        await smtp.rcpt(recipient)
        await smtp.data(report)


def build_arf(received: Received, recipient: str,
              reporting: str = "feedback.demo.tocsin.invalid") -> bytes:
    """An RFC 5965 abuse report (a spam complaint) about ``received``."""
    boundary = email.utils.make_msgid(domain="arf").strip("<>")
    original = received.message
    lines = [
        f"From: Feedback Loop <fbl@{reporting}>",
        f"To: {received.mail_from}",
        "Subject: Abuse report",
        f"Date: {email.utils.formatdate()}",
        f"Message-ID: {email.utils.make_msgid(domain=reporting)}",
        "MIME-Version: 1.0",
        f'Content-Type: multipart/report; report-type=feedback-report; boundary="{boundary}"',
        "",
        f"--{boundary}",
        "Content-Type: text/plain; charset=us-ascii",
        "",
        "This is an e-mail abuse report: the recipient marked this message as spam.",
        "",
        f"--{boundary}",
        "Content-Type: message/feedback-report",
        "",
        "Feedback-Type: abuse",
        "User-Agent: TocsinDemoFeedbackLoop/1.0",
        "Version: 1",
        f"Original-Mail-From: <{received.mail_from}>",
        f"Original-Rcpt-To: <{recipient}>",
        "",
        f"--{boundary}",
        "Content-Type: text/rfc822-headers",
        "",
        *(f"{k}: {v}" for k, v in original.items()),
        "",
        f"--{boundary}--",
        "",
    ]
    return "\r\n".join(lines).encode("utf-8")


def _local(address: str) -> str:
    return address.split("@", 1)[0].lower()


def _default_bounce_when(recipient: str) -> bool:
    return _local(recipient).startswith("bounce")


@frozen
class DemoMail:
    """A running demo server: where it listens, what it got, how to stop it."""

    server: asyncio.base_events.Server
    received: list[Received] = field(factory=list)
    reports_sent: list[tuple[str, str]] = field(factory=list)
    tasks: set[asyncio.Task[None]] = field(factory=set)

    @property
    def host(self) -> str:
        return str(self.server.sockets[0].getsockname()[0])

    @property
    def port(self) -> int:
        return int(self.server.sockets[0].getsockname()[1])

    def channel_section(self, bounce_port: int, token_secret: str, **extra: Any) -> dict[str, Any]:
        """A ``[channels.<name>]`` section sending through this server, its bounce receiver
        listening on ``bounce_port`` (the port given to :func:`start_demo_mail` as
        ``bounce_to``)."""
        return {
            "type": "smtp", "host": self.host, "port": self.port, "tls": "none",
            "from_address": "alerts@example.org", "from_name": "Tocsin demo",
            "token_secret": token_secret,
            "bounce_smtp": {"host": "127.0.0.1", "port": bounce_port},
            **extra,
        }

    async def settle(self) -> None:
        """Wait until every report due so far has been sent."""
        while self.tasks:
            await asyncio.gather(*list(self.tasks), return_exceptions=True)

    async def stop(self) -> None:
        await self.settle()
        self.server.close()
        with suppress(Exception):
            await asyncio.wait_for(self.server.wait_closed(), 2)


class _Sink:
    """The demo server's behaviour, chosen by the recipient's local part:

    ``unknown...`` refused at RCPT (550), ``virus...`` refused after DATA (554),
    ``greylist...`` refused once (451) then taken, ``bounce...`` (or ``bounce_when``)
    taken then a *failed* report, ``complain...`` taken then a spam complaint (ARF),
    ``silent...`` taken without any report; anyone else taken, with a *delivered* report
    when the sender asked for one.
    """

    def __init__(self, bounce_when: Callable[[str], bool],
                 bounce_to: tuple[str, int] | None) -> None:
        self.bounce_when = bounce_when
        self.bounce_to = bounce_to
        self.demo: DemoMail | None = None
        self.greylisted: set[str] = set()

    async def handle_RCPT(self, server: DsnSMTP, session: Session, envelope: Envelope,
                          address: str, rcpt_options: list[str]) -> str:
        if _local(address).startswith("unknown"):
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, server: DsnSMTP, session: Session,
                          envelope: Envelope) -> str:
        assert self.demo is not None
        first = _local(envelope.rcpt_tos[0]) if envelope.rcpt_tos else ""
        if first.startswith("virus"):
            return "554 5.7.1 Message rejected: infected with Demo.Test.Virus"
        if first.startswith("greylist") and envelope.rcpt_tos[0] not in self.greylisted:
            self.greylisted.add(envelope.rcpt_tos[0])
            return "451 4.7.1 Greylisted, please try again later"
        data = envelope.original_content or b""
        received = Received(
            mail_from=str(envelope.mail_from),
            recipients=tuple(envelope.rcpt_tos),
            data=data if isinstance(data, bytes) else data.encode(),
            mail_options=tuple(getattr(server, "_dsn_mail", ())),
            rcpt_options=tuple(getattr(server, "_dsn_rcpt", ())),
            peer=str(session.peer),
            tls=session.ssl is not None,
            authenticated=bool(session.authenticated),
        )
        self.demo.received.append(received)
        if self.bounce_to is not None and received.mail_from:
            for rcpt in received.recipients:
                task = asyncio.get_running_loop().create_task(self._report(received, rcpt))
                self.demo.tasks.add(task)
                task.add_done_callback(self.demo.tasks.discard)
        return "250 OK"

    def _report_for(self, received: Received, rcpt: str) -> tuple[str, bytes] | None:
        local = _local(rcpt)
        if local.startswith("silent"):
            return None
        if self.bounce_when(rcpt):
            return "failure", build_dsn(received, rcpt, action="failed", status="5.1.1",
                                        diagnostic=f"550 5.1.1 <{rcpt}>: user unknown")
        if local.startswith("complain"):
            return "complaint", build_arf(received, rcpt)
        if any("SUCCESS" in o.upper() for o in received.rcpt_options):
            return "success", build_dsn(received, rcpt, action="delivered", status="2.0.0",
                                        diagnostic="")
        return None

    async def _report(self, received: Received, rcpt: str) -> None:
        assert self.bounce_to is not None and self.demo is not None
        found = self._report_for(received, rcpt)
        if found is None:
            return
        kind, report = found
        host, port = self.bounce_to
        try:
            await send_report(report, received.mail_from, host, port)
            self.demo.reports_sent.append((rcpt, kind))
        except (aiosmtplib.SMTPException, OSError) as exc:
            log.warning("demo mail: could not return a report for %s: %s", rcpt, exc)


async def start_demo_mail(
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    bounce_to: tuple[str, int] | None = None,
    bounce_when: Callable[[str], bool] = _default_bounce_when,
    server_options: dict[str, Any] | None = None,
    handler: Any = None,
) -> DemoMail:
    """Start the demo server in the running loop (see the module docs).

    ``server_options`` go to aiosmtpd's ``SMTP`` (``tls_context``, ``require_starttls``,
    ``authenticator``...); ``handler`` replaces the sink (tests script refusals with it).
    """
    sink = _Sink(bounce_when, bounce_to)
    options = {"hostname": "demo.tocsin.invalid", "enable_SMTPUTF8": True, **(server_options or {})}
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: DsnSMTP(handler or sink, **options), host, port)
    demo = DemoMail(server)
    sink.demo = demo
    if handler is not None and hasattr(handler, "bind"):
        handler.bind(demo)
    return demo


class DemoMailThread:
    """The demo server in a thread of its own, for callers without an event loop at hand
    (a synchronous ``make demo`` script)::

        bounce_port = free_port()
        with DemoMailThread(bounce_to=("127.0.0.1", bounce_port)) as demo:
            section = demo.channel_section(bounce_port, token_secret="...")
            ...
    """

    def __init__(self, **options: Any) -> None:
        self.options = options
        self.demo: DemoMail | None = None
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="tocsin-demo-mail",
                                        daemon=True)

    def start(self) -> DemoMail:
        """Start the thread and the server; returns once it listens."""
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(start_demo_mail(**self.options), self._loop)
        self.demo = future.result(timeout=10)
        return self.demo

    def stop(self) -> None:
        """Send the reports still due, stop the server, end the thread."""
        if self.demo is not None:
            asyncio.run_coroutine_threadsafe(self.demo.stop(), self._loop).result(timeout=30)
            self.demo = None
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    def __enter__(self) -> DemoMail:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
