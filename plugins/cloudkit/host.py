"""What a webhook route needs from the process serving it: the configuration (to find
its channel and secrets), a clock (to stamp events) and the status sink (to report
them). A :class:`tocsin.runtime.Runtime` is one; a conformance harness builds a
smaller one around the kit's sink."""

from __future__ import annotations

from typing import Protocol

from tocsin.channel import StatusSink
from tocsin.clock import Clock
from tocsin.config import Config


class WebhookHost(Protocol):
    """The part of a runtime that webhook routes use."""

    config: Config
    clock: Clock

    @property
    def sink(self) -> StatusSink | None: ...


class ChannelHost:
    """A webhook host whose sink is the channel's own (what the channel was started
    with): used by conformance harnesses, where the kit starts the channel with its sink
    and the webhooks must report to the same one."""

    def __init__(self, config: Config, clock: Clock, channel: object) -> None:
        self.config = config
        self.clock = clock
        self.channel = channel

    @property
    def sink(self) -> StatusSink | None:
        sink = getattr(self.channel, "sink", None)
        return sink if isinstance(sink, StatusSink) else None
