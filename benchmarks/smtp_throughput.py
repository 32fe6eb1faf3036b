"""Benchmark of the smtp channel: e-mails per second to a local aiosmtpd server.

Side by side in one run, to the same server (running in its own process, so that client
and server each have a core):

- **tocsin pooled**: the ``smtp`` channel's ``send`` for every attempt (address check,
  message built with VERP and Message-ID tokens, long-lived pooled connections);
- **plain aiosmtplib loop** (the ceiling): one connection, ``send_message`` in a loop,
  minimal messages; the channel aims for at least 80% of it;
- **one connection per message**: ``aiosmtplib.send`` per message, as most notification
  libraries do (Apprise's e-mail plugin opens a session per notification); the channel
  aims for at least 5 times it.

Two server set-ups are measured: a plain relay (no TLS, no AUTH: a new connection costs
only the greeting, EHLO and QUIT) and a submission server as deployments use (STARTTLS
with a certificate checked against a test CA, then AUTH), where every new connection also
pays a TLS handshake and a login.

Prints the figures and asserts nothing. Usage:
``python benchmarks/smtp_throughput.py [--count 10000] [--concurrency 4]
[--setup plain|submission|both] [--per-message-count N]``.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import socket
import ssl
import tempfile
import time
from collections.abc import Awaitable, Callable
from email.message import EmailMessage
from typing import Any

import aiosmtplib

from tocsin.channel import Accepted, ChannelSettings, OutboundAttempt, RenderedMessage
from tocsin.model import Attempt
from tocsin.plugins.smtp.channel import build_channel

TEXT = "Coupure d'eau demain de 8 h à 12 h dans votre quartier. Merci de votre compréhension."
SUBJECT = "Alerte : coupure d'eau"
USER, PASSWORD = "alerts", "benchmark-password"


# -- the server (its own process) ---------------------------------------------------------


def serve(port: int, counter: Any, ready: Any, tls: tuple[str, str] | None) -> None:
    """aiosmtpd taking and counting every message (STARTTLS and AUTH when ``tls``)."""
    from aiosmtpd.smtp import SMTP, AuthResult

    options: dict[str, Any] = {}
    if tls is not None:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(*tls)

        def authenticate(server: Any, session: Any, envelope: Any, mechanism: str,
                         auth_data: Any) -> AuthResult:
            ok = auth_data.login == USER.encode() and auth_data.password == PASSWORD.encode()
            return AuthResult(success=ok, handled=False)

        options = {"tls_context": context, "require_starttls": True,
                   "authenticator": authenticate, "auth_required": True}

    class Count:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            with counter.get_lock():
                counter.value += 1
            return "250 OK"

    async def run() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(
            lambda: SMTP(Count(), hostname="bench.local", **options), "127.0.0.1", port)
        ready.set()
        async with server:
            await server.serve_forever()

    asyncio.run(run())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- the three clients --------------------------------------------------------------------


def plain_message(i: int) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "alerts@example.org"
    msg["To"] = f"citizen{i}@example.net"
    msg["Subject"] = SUBJECT
    msg.set_content(TEXT)
    return msg


def client_options(cafile: str | None) -> dict[str, Any]:
    if cafile is None:
        return {"start_tls": False}
    return {"start_tls": True, "cert_bundle": cafile, "username": USER, "password": PASSWORD}


async def plain_loop(port: int, count: int, cafile: str | None) -> int:
    sent = 0
    async with aiosmtplib.SMTP(hostname="127.0.0.1", port=port, **client_options(cafile)) as smtp:
        for i in range(count):
            await smtp.send_message(plain_message(i))
            sent += 1
    return sent


async def per_message(port: int, count: int, cafile: str | None) -> int:
    sent = 0
    for i in range(count):
        await aiosmtplib.send(plain_message(i), hostname="127.0.0.1", port=port,
                              **client_options(cafile))
        sent += 1
    return sent


class NullSink:
    def report(self, event: object) -> None: ...

    def inbound(self, message: object) -> None: ...


async def tocsin_pooled(port: int, count: int, concurrency: int, cafile: str | None) -> int:
    security: dict[str, Any] = {"tls": "none"} if cafile is None else {
        "tls": "starttls", "cafile": cafile, "username": USER, "password": PASSWORD}
    channel = build_channel(ChannelSettings(name="mail", type="smtp", options={
        "type": "smtp", "host": "127.0.0.1", "port": port, **security,
        "concurrency": concurrency, "from_address": "alerts@example.org",
        "from_name": "Mairie", "token_secret": "benchmark-secret-of-32-characters",
    }))
    await channel.start(NullSink())
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(1, count + 1):
        queue.put_nowait(i)
    sent = 0

    async def worker() -> None:
        nonlocal sent
        while not queue.empty():
            i = queue.get_nowait()
            result = await channel.send(OutboundAttempt(
                attempt=Attempt(alert_id=1, contact_id=i, means="email",
                                address=f"citizen{i}@example.net", status="", id=i),
                message=RenderedMessage(text=TEXT, subject=SUBJECT),
                contact_name=f"Citoyen {i}",
            ))
            sent += isinstance(result, Accepted)

    await asyncio.gather(*(worker() for _ in range(concurrency * 2)))
    await channel.stop()
    return sent


# -- measuring ----------------------------------------------------------------------------


def measure(name: str, run: Callable[[], Awaitable[int]], counter: Any) -> float:
    before = counter.value
    start = time.perf_counter()
    sent: int = asyncio.run(run())  # type: ignore[arg-type]
    elapsed = time.perf_counter() - start
    received = counter.value - before
    rate = float(sent / elapsed)
    print(f"  {name:<34} {sent:>6} sent {received:>6} received  {elapsed:7.2f} s"
          f"  {rate:8.0f} msg/s")
    return rate


def run_setup(name: str, args: argparse.Namespace, tls: tuple[str, str] | None,
              cafile: str | None) -> None:
    port = free_port()
    counter, ready = mp.Value("l", 0), mp.Event()
    server = mp.Process(target=serve, args=(port, counter, ready, tls), daemon=True)
    server.start()
    ready.wait(10)
    try:
        print(f"\n{name}: {args.count} e-mails to a local aiosmtpd server (its own process)")
        pooled = measure(f"tocsin pooled (concurrency {args.concurrency})",
                         lambda: tocsin_pooled(port, args.count, args.concurrency, cafile),
                         counter)
        ceiling = measure("plain aiosmtplib loop (ceiling)",
                          lambda: plain_loop(port, args.count, cafile), counter)
        few = min(args.count, args.per_message_count or args.count)
        single = measure("one connection per message",
                         lambda: per_message(port, few, cafile), counter)
        print(f"  tocsin / ceiling:          {pooled / ceiling:6.0%}   (aim: at least 80%)")
        print(f"  tocsin / one per message:  {pooled / single:6.1f}x  (aim: at least 5x)")
    finally:
        server.terminate()
        server.join(5)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--setup", choices=("plain", "submission", "both"), default="both")
    parser.add_argument("--per-message-count", type=int, default=0,
                        help="send fewer e-mails in the slow one-connection-per-message mode "
                        "(its rate is what is compared)")
    args = parser.parse_args()
    if args.setup in ("plain", "both"):
        run_setup("plain relay (no TLS, no AUTH)", args, None, None)
    if args.setup in ("submission", "both"):
        import trustme

        ca = trustme.CA()
        with tempfile.TemporaryDirectory() as tmp:
            cert, key, cafile = (os.path.join(tmp, n) for n in ("cert.pem", "key.pem", "ca.pem"))
            issued = ca.issue_cert("127.0.0.1")
            issued.cert_chain_pems[0].write_to_path(cert)
            issued.private_key_pem.write_to_path(key)
            ca.cert_pem.write_to_path(cafile)
            run_setup("submission (STARTTLS, checked certificate, AUTH)", args, (cert, key),
                      cafile)


if __name__ == "__main__":
    main()
