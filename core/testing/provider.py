"""A channel whose provider is the test: the alert conformance machine's way to decide,
step by step, what becomes of every message the real engine sends.

``send`` accepts every attempt (returning the means' first status and a provider
reference) and remembers it; the test then calls :meth:`ScriptedChannel.report` with
whatever status it wants, whenever it wants — on time, late, twice — exactly as a
provider's callbacks reach a real channel. Register it in a Tocsin through
:data:`PLUGIN` and configure ``[channels.<name>] type = "conformance-provider"`` with the
``means`` it serves.
"""

from __future__ import annotations

import itertools
from typing import Any

from tocsin.channel import (
    Accepted,
    Capabilities,
    ChannelSettings,
    ChannelType,
    Health,
    Limits,
    OutboundAttempt,
    SendResult,
    StatusSink,
    TemporaryFailure,
)
from tocsin.clock import Clock
from tocsin.errors import ConfigError
from tocsin.hookspecs import hookimpl
from tocsin.model import StatusEvent

TYPE = "conformance-provider"
SOURCE = "conformance-provider"


class ScriptedChannel:
    """Accepts every send; reports what the test tells it to."""

    capabilities = Capabilities(delivery_reports=True, dtmf_confirmation=True)
    limits = Limits(concurrency=100)

    def __init__(self, name: str, means: str, clock: Clock) -> None:
        self.name = name
        self.means = means
        self.clock = clock
        self.sent: dict[int, OutboundAttempt] = {}
        self.refs: dict[int, str] = {}
        self._refs = itertools.count(1)
        self._sink: StatusSink | None = None

    async def start(self, sink: StatusSink) -> None:
        self._sink = sink

    async def stop(self) -> None:
        self._sink = None

    def health(self) -> Health:
        return Health(data={"sent": len(self.sent)})

    async def send(self, outbound: OutboundAttempt) -> SendResult:
        attempt_id = outbound.attempt.id
        if self._sink is None or attempt_id is None:
            return TemporaryFailure("the scripted channel is not started")
        ref = self.refs.get(attempt_id) or f"{self.name}-{next(self._refs)}"
        self.sent[attempt_id] = outbound
        self.refs[attempt_id] = ref
        return Accepted(provider_ref=ref)

    def report(self, attempt_id: int, status: str) -> StatusEvent:
        """Report ``status`` for a sent attempt, by provider reference as callbacks do."""
        if self._sink is None:
            raise RuntimeError("the scripted channel is not started")
        if attempt_id not in self.refs:
            raise KeyError(f"attempt {attempt_id} was never sent through channel {self.name!r}")
        event = StatusEvent(
            status=status,
            at=self.clock.now(),
            channel=self.name,
            provider_ref=self.refs[attempt_id],
            source=SOURCE,
        )
        self._sink.report(event)
        return event


def build(settings: ChannelSettings) -> ScriptedChannel:
    means = settings.options.get("means")
    if not isinstance(means, str) or not means:
        raise ConfigError(f"channels.{settings.name}.means: say which means this channel serves")
    return ScriptedChannel(settings.name, means, settings.clock)


class _Plugin:
    @hookimpl
    def tocsin_register_channels(self) -> list[ChannelType]:
        return [ChannelType(TYPE, "*", build, "the conformance kit's scripted provider")]


PLUGIN: Any = _Plugin()
"""Register with ``Tocsin(..., plugins=[("conformance-provider", PLUGIN)])``."""

__all__ = ["PLUGIN", "SOURCE", "TYPE", "ScriptedChannel", "build"]
