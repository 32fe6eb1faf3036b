"""``http-sms`` tests: the contrib configurations against the gateway simulator, with
the delivery-report route served by uvicorn on loopback from a real runtime."""

from __future__ import annotations

import contextlib
import os
import tomllib
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from attrs import define, field

from tocsin import builtin_statuses
from tocsin.channel import ChannelSettings
from tocsin.config import build_config
from tocsin.model import InboundMessage, StatusEvent
from tocsin.plugins import http_gateway as gateway_plugin
from tocsin.plugins.http_gateway.routes import build_router
from tocsin.runtime import Runtime
from tocsin.status import PENDING, StatusMachine
from tocsin.testing.gateway_simulator import PASSWORD, GatewaySimulator
from tocsin.testing.http_server import bind_loopback, serving, url_of
from tocsin.testing.twilio_scenarios import parse_book

CONTRIB = Path(__file__).resolve().parents[3] / "contrib" / "gateways"
SECRETS = {
    "TOCSIN_KANNEL_PASSWORD": PASSWORD,
    "TOCSIN_KANNEL_DLR_SECRET": "kannel-dlr-secret",
    "TOCSIN_JASMIN_PASSWORD": PASSWORD,
    "TOCSIN_JASMIN_DLR_SECRET": "jasmin-dlr-secret",
    "TOCSIN_PLAYSMS_TOKEN": PASSWORD,
}
class RecordingSink:
    """A status sink that keeps every event (webhooks run in the server's task)."""

    def __init__(self) -> None:
        self.events: list[StatusEvent] = []
        self.messages: list[InboundMessage] = []

    def report(self, event: StatusEvent) -> None:
        self.events.append(event)

    def inbound(self, message: InboundMessage) -> None:
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


PATHS = {"kannel": "/cgi-bin/sendsms", "jasmin": "/send", "playsms": "/index.php"}


def contrib_sections() -> dict[str, dict[str, Any]]:
    """Every channel section of the ready configurations in contrib/gateways/."""
    sections: dict[str, dict[str, Any]] = {}
    for path in sorted(CONTRIB.glob("*.toml")):
        sections.update(tomllib.loads(path.read_text())["channels"])
    return sections


@contextlib.contextmanager
def secrets_in_env() -> Iterator[None]:
    previous = {k: os.environ.get(k) for k in SECRETS}
    os.environ.update(SECRETS)
    try:
        yield
    finally:
        for key, value in previous.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@define
class GatewayEnv:
    sim: GatewaySimulator
    runtime: Runtime
    sink: RecordingSink
    hooks_url: str
    channels: list[Any] = field(factory=list)

    async def started(self, name: str) -> Any:
        section = self.runtime.config.channels[name]
        kind = self.runtime.registry.channel_type("http-sms")
        channel = kind.build(ChannelSettings(name, "http-sms", section, base_url=self.hooks_url))
        await channel.start(self.sink)
        self.channels.append(channel)
        return channel


@contextlib.asynccontextmanager
async def gateway_env(
    tmp_path: Path, scenarios: Mapping[str, Any] | None = None, **overrides: Any
) -> AsyncIterator[GatewayEnv]:
    from litestar import Litestar

    hooks_sock = bind_loopback()
    hooks_url = url_of(hooks_sock)
    async with GatewaySimulator(scenarios=parse_book(scenarios or {}), time_scale=0.002) as sim:
        sections = contrib_sections()
        for name, section in sections.items():
            section["url"] = sim.base_url + PATHS[name]
            section["rate"] = 0
            section["backoff"] = 0.01
            section.update(overrides)
        with secrets_in_env():
            config = build_config({"tocsin": {"data_dir": str(tmp_path), "base_url": hooks_url},
                                   "channels": sections})
        plugins = [("core-statuses", builtin_statuses), ("http-gateway", gateway_plugin)]
        runtime = Runtime.open(config, entry_points=False, plugins=plugins)
        sink = RecordingSink()
        runtime.sink = sink
        app = Litestar(route_handlers=[build_router(runtime)], openapi_config=None)
        env = GatewayEnv(sim, runtime, sink, hooks_url)
        try:
            async with serving(app, sock=hooks_sock):
                yield env
                await sim.settle()
        finally:
            for channel in env.channels:
                await channel.stop()
            runtime.close()
