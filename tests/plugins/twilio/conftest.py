"""Twilio channel tests: the channels against the simulator, the webhooks served by
uvicorn on loopback from a real runtime, and a sink that records what they report."""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import AsyncIterator, Iterable, Mapping
from pathlib import Path
from typing import Any

from attrs import define, field

from tocsin import builtin_statuses
from tocsin.channel import ChannelSettings, OutboundAttempt, RenderedMessage
from tocsin.config import build_config
from tocsin.model import Attempt, InboundMessage, StatusEvent
from tocsin.plugins import twilio as twilio_plugin
from tocsin.plugins.twilio.routes import build_router
from tocsin.runtime import Runtime
from tocsin.status import PENDING, StatusMachine
from tocsin.testing.http_server import bind_loopback, serving, url_of
from tocsin.testing.twilio_scenarios import ScenarioBook, parse_book
from tocsin.testing.twilio_simulator import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, TwilioSimulator

TOKEN_ENV = "TOCSIN_TEST_TWILIO_TOKEN"
SENDER = "+33100000001"


class RecordingSink:
    """A status sink that keeps every event (thread-safe: webhooks may run elsewhere)."""

    def __init__(self) -> None:
        self.events: list[StatusEvent] = []
        self.messages: list[InboundMessage] = []
        self._lock = threading.Lock()

    def report(self, event: StatusEvent) -> None:
        with self._lock:
            self.events.append(event)

    def inbound(self, message: InboundMessage) -> None:
        with self._lock:
            self.messages.append(message)

    def for_ref(self, ref: str | None) -> list[StatusEvent]:
        return [e for e in self.events if e.provider_ref == ref]


def apply(machine: StatusMachine, first: str | None, events: Iterable[StatusEvent]) -> list[str]:
    """The statuses the machine applies, in order: the send's own status, then the events."""
    current = PENDING
    applied: list[str] = []
    for status in ([first] if first else []) + [e.status for e in events]:
        if machine.decide(current, status).applies:
            current = status
            applied.append(status)
    return applied


def outbound(
    address: str,
    text: str = "Alerte crue: évacuez la zone basse.",
    *,
    means: str = "sms",
    attempt_id: int = 1,
    language: str = "",
    confirm: bool = False,
    repeat: int = 1,
) -> OutboundAttempt:
    attempt = Attempt(alert_id=1, contact_id=attempt_id, means=means, address=address, status="",
                      id=attempt_id, channel=means)
    return OutboundAttempt(attempt, RenderedMessage(text=text, repeat=repeat), language=language,
                           requires_confirmation=confirm)


@define
class TwilioEnv:
    """A simulator, a runtime whose webhooks are served on loopback, and its sink."""

    sim: TwilioSimulator
    runtime: Runtime
    sink: RecordingSink
    hooks_url: str
    channels: list[Any] = field(factory=list)

    def build(self, name: str) -> Any:
        section = self.runtime.config.channels[name]
        kind = self.runtime.registry.channel_type(str(section["type"]))
        return kind.build(ChannelSettings(name, kind.name, section, base_url=self.hooks_url))

    async def started(self, name: str) -> Any:
        channel = self.build(name)
        await channel.start(self.sink)
        self.channels.append(channel)
        return channel


def channel_sections(api_url: str, **overrides: Any) -> dict[str, Any]:
    common = {"account_sid": DEFAULT_ACCOUNT_SID, "auth_token": f"env:{TOKEN_ENV}",
              "api_base_url": api_url, "from": SENDER, "rate": 0, "backoff": 0.01}
    return {
        "sms": {"type": "twilio-sms", **common, **overrides},
        "voice": {"type": "twilio-voice", "language": "en-GB", **common, **overrides},
    }


@contextlib.asynccontextmanager
async def twilio_env(
    tmp_path: Path,
    scenarios: Mapping[str, Any] | ScenarioBook | None = None,
    *,
    token: str = DEFAULT_AUTH_TOKEN,
    **overrides: Any,
) -> AsyncIterator[TwilioEnv]:
    """Everything a channel test needs, on loopback, torn down afterwards."""
    book = scenarios if isinstance(scenarios, ScenarioBook) else parse_book(scenarios or {})
    hooks_sock = bind_loopback()
    hooks_url = url_of(hooks_sock)
    async with TwilioSimulator(scenarios=book, time_scale=0.002) as sim:
        previous = os.environ.get(TOKEN_ENV)
        os.environ[TOKEN_ENV] = token  # the channels read their token as "env:..."
        try:
            config = build_config(
                {"tocsin": {"data_dir": str(tmp_path), "base_url": hooks_url},
                 "channels": channel_sections(sim.base_url, **overrides)},
            )
        finally:
            if previous is None:
                os.environ.pop(TOKEN_ENV)
            else:
                os.environ[TOKEN_ENV] = previous
        runtime = Runtime.open(
            config, entry_points=False,
            plugins=[("core-statuses", builtin_statuses), ("twilio", twilio_plugin)],
        )
        sink = RecordingSink()
        runtime.sink = sink
        from litestar import Litestar

        app = Litestar(route_handlers=[build_router(runtime)], openapi_config=None)
        env = TwilioEnv(sim, runtime, sink, hooks_url)
        try:
            async with serving(app, sock=hooks_sock):
                yield env
                await sim.settle()
        finally:
            for channel in env.channels:
                await channel.stop()
            runtime.close()
