"""Conformance harnesses for ``twilio-sms`` and ``twilio-voice``: the channel against
the provider simulator, its webhooks served on loopback, one scenario per number.

Test-only components (the simulator, uvicorn) are imported inside ``run``.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping
from typing import Any

from tocsin.testing.harness import ChannelUnderTest, ConformanceHarness, Scenario

NAME = "conformance"

SMS: Mapping[str, tuple[str, frozenset[str], bool]] = {
    "+33612000001": ("delivered", frozenset({"received"}), False),
    "+33612000002": ("undelivered:30005", frozenset({"undelivered"}), False),
    "+33612000003": ("failed:30003", frozenset({"failed"}), False),
    "+33612000004": ("rejected:21211", frozenset({"failed"}), False),
    "+33612000005": ("throttled:1", frozenset({"received"}), False),
    "+33612000006": ("delivered+duplicates+reorder", frozenset({"received"}), False),
    "+33612000007": ("silent", frozenset({"sent"}), False),
}
"""Number → (simulator scenario, statuses a send may end in, requires confirmation)."""

CALLS: Mapping[str, tuple[str, frozenset[str], bool]] = {
    "+33612100001": ("press:1", frozenset({"confirmed"}), True),
    "+33612100002": ("answer", frozenset({"completed"}), False),
    "+33612100003": ("busy", frozenset({"busy"}), False),
    "+33612100004": ("no-answer", frozenset({"no answer"}), False),
    "+33612100005": ("voicemail", frozenset({"voicemail"}), True),
    "+33612100006": ("fax", frozenset({"fax"}), False),
    "+33612100007": ("canceled", frozenset({"failed"}), False),
    "+33612100008": ("press:1+reorder+duplicates", frozenset({"confirmed"}), True),
    "+33612100009": ("press:2", frozenset({"completed"}), True),
}


@contextlib.asynccontextmanager
async def _run(
    channel_type: str, table: Mapping[str, tuple[str, frozenset[str], bool]]
) -> AsyncIterator[ChannelUnderTest]:
    from litestar import Litestar

    from tocsin.channel import ChannelSettings
    from tocsin.clock import SystemClock
    from tocsin.config import build_config
    from tocsin.plugins.cloudkit.host import channel_host
    from tocsin.plugins.twilio import sms, voice
    from tocsin.plugins.twilio.routes import build_router
    from tocsin.testing.http_server import bind_loopback, serving, url_of
    from tocsin.testing.twilio_scenarios import parse_book
    from tocsin.testing.twilio_simulator import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, TwilioSimulator

    means = "sms" if channel_type == "twilio-sms" else "call"
    book = parse_book({means: {number: spec[0] for number, spec in table.items()}})
    sock = bind_loopback()
    hooks_url = url_of(sock)
    async with TwilioSimulator(scenarios=book, time_scale=0.001) as sim:
        options: dict[str, Any] = {
            "type": channel_type, "account_sid": DEFAULT_ACCOUNT_SID, "auth_token": DEFAULT_AUTH_TOKEN,
            "api_base_url": sim.base_url, "from": "+33100000001", "rate": 0, "backoff": 0.01,
        }
        config = build_config({"tocsin": {"base_url": hooks_url}, "channels": {NAME: options}})
        build = sms.build if means == "sms" else voice.build
        channel = build(ChannelSettings(NAME, channel_type, options, base_url=hooks_url))
        scenarios = [Scenario(number, outcomes, spec, confirm)
                     for number, (spec, outcomes, confirm) in table.items()]
        with channel_host(config, SystemClock(), channel) as host:
            app = Litestar(route_handlers=[build_router(host)], openapi_config=None)
            async with serving(app, sock=sock):
                yield ChannelUnderTest(channel, scenarios, settle=sim.settle)


def harnesses() -> list[ConformanceHarness]:
    return [
        ConformanceHarness("twilio-sms", lambda: _run("twilio-sms", SMS), "Twilio simulator, SMS"),
        ConformanceHarness("twilio-voice", lambda: _run("twilio-voice", CALLS), "Twilio simulator, calls"),
    ]
