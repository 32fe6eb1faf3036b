"""Conformance harness for ``smtp``: the channel against the demo mail server on loopback,
its bounce receiver taking the server's real DSN and ARF reports.

Each address exercises one path of the e-mail machine (see :mod:`.demo` for the
conventions): delivered, hard bounce, spam complaint, refused at RCPT, refused after DATA,
greylisted then taken, taken without any report, and an address that fails validation.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import AsyncIterator

from tocsin.testing.harness import ChannelUnderTest, ConformanceHarness, Scenario

NAME = "conformance-mail"

SCENARIOS: tuple[tuple[str, frozenset[str], str], ...] = (
    ("zoe@example.net", frozenset({"received"}), "taken, delivery report"),
    ("bounce@example.net", frozenset({"rebound"}), "taken, then a hard bounce (RFC 3464)"),
    ("complain@example.net", frozenset({"marked as spam"}), "taken, then a complaint (ARF)"),
    ("unknown@example.net", frozenset({"not sent"}), "550 at RCPT"),
    ("virus@example.net", frozenset({"rejected"}), "554 after DATA"),
    ("greylist@example.net", frozenset({"received", "not sent"}), "451 once, then taken"),
    ("silent@example.net", frozenset({"sent"}), "taken, no report ever"),
    ("not an address", frozenset({"not sent"}), "fails validation before any connection"),
)
"""Address → statuses a send may end in, and what the server does with it. A greylisted
address may also end *not sent* when the kit gives up retrying before the server yields."""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.asynccontextmanager
async def _run() -> AsyncIterator[ChannelUnderTest]:
    from tocsin.channel import ChannelSettings
    from tocsin.plugins.smtp.channel import build_channel
    from tocsin.plugins.smtp.demo import start_demo_mail

    bounce_port = _free_port()
    demo = await start_demo_mail(bounce_to=("127.0.0.1", bounce_port))
    try:
        options = {
            "type": "smtp", "host": "127.0.0.1", "port": demo.port, "tls": "none",
            "from_address": "alerts@example.org", "token_secret": "conformance-token-secret",
            "bounce_smtp": {"host": "127.0.0.1", "port": bounce_port},
        }
        channel = build_channel(ChannelSettings(NAME, "smtp", options))
        yield ChannelUnderTest(channel, [Scenario(a, o, d) for a, o, d in SCENARIOS],
                               settle=demo.settle)
    finally:
        await demo.stop()


def harnesses() -> list[ConformanceHarness]:
    return [ConformanceHarness("smtp", _run, "demo mail server on loopback, DSN and ARF reports")]
