"""Conformance harness for ``http-sms``: the channel configured for Kannel's
``sendsms`` against the gateway simulator, its delivery-report route served on loopback.

Test-only components (the simulator, uvicorn) are imported inside ``run``.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping
from typing import Any

from tocsin.testing.harness import ChannelUnderTest, ConformanceHarness, Scenario

NAME = "conformance"

SMS: Mapping[str, tuple[str, frozenset[str]]] = {
    "+33612200001": ("delivered", frozenset({"received"})),
    "+33612200002": ("undelivered", frozenset({"undelivered"})),
    "+33612200003": ("failed", frozenset({"failed"})),
    "+33612200004": ("rejected", frozenset({"failed"})),
    "+33612200005": ("throttled:1", frozenset({"received"})),
    "+33612200006": ("delivered+duplicates+reorder", frozenset({"received"})),
    "+33612200007": ("silent", frozenset({"sent"})),
}
"""Number → (simulator scenario, statuses a send may end in)."""


def kannel_options(url: str, password: str) -> dict[str, Any]:
    """An ``http-sms`` section for Kannel's sendsms (as in contrib/gateways/kannel.toml)."""
    return {
        "type": "http-sms", "url": url, "method": "GET", "sender": "+33100000000",
        "accepted_status": [202], "accepted_pattern": "^[03]: ", "message_id": "ref",
        "dlr_secret": "conformance-dlr-secret", "backoff": 0.01,
        "params": {"username": "tocsin", "password": password, "from": "{sender}", "to": "{to}",
                   "text": "{text}", "dlr-mask": "31", "dlr-url": "{dlr_url}&type=%d&answer=%A"},
        "dlr": {"status_param": "type", "reason_param": "answer", "reply": "OK",
                "statuses": {"1": "received", "2": "undelivered", "4": "queued", "8": "sent",
                             "16": "failed"}},
    }


@contextlib.asynccontextmanager
async def _run() -> AsyncIterator[ChannelUnderTest]:
    from litestar import Litestar

    from tocsin.channel import ChannelSettings
    from tocsin.clock import SystemClock
    from tocsin.config import build_config
    from tocsin.plugins.cloudkit.host import channel_host
    from tocsin.plugins.http_gateway.channel import build
    from tocsin.plugins.http_gateway.routes import build_router
    from tocsin.testing.gateway_simulator import PASSWORD, GatewaySimulator
    from tocsin.testing.http_server import bind_loopback, serving, url_of
    from tocsin.testing.twilio_scenarios import parse_book

    book = parse_book({"sms": {number: spec for number, (spec, _) in SMS.items()}})
    sock = bind_loopback()
    hooks_url = url_of(sock)
    async with GatewaySimulator(scenarios=book, time_scale=0.001) as sim:
        options = kannel_options(f"{sim.base_url}/cgi-bin/sendsms", PASSWORD)
        config = build_config({"tocsin": {"base_url": hooks_url}, "channels": {NAME: options}})
        channel = build(ChannelSettings(NAME, "http-sms", options, base_url=hooks_url))
        scenarios = [Scenario(number, outcomes, spec) for number, (spec, outcomes) in SMS.items()]
        with channel_host(config, SystemClock(), channel) as host:
            app = Litestar(route_handlers=[build_router(host)], openapi_config=None)
            async with serving(app, sock=sock):
                yield ChannelUnderTest(channel, scenarios, settle=sim.settle)


def harnesses() -> list[ConformanceHarness]:
    return [ConformanceHarness("http-sms", _run, "gateway simulator, Kannel sendsms dialect")]
