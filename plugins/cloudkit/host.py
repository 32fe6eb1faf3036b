"""What a webhook route needs from the process serving it: the configuration (to find
its channel and secrets), a clock (to stamp events), the store (where deliveries are
claimed, so that a replay is refused by every process on the database) and the status
sink (to report them). A :class:`tocsin.runtime.Runtime` is one; a conformance harness
builds a smaller one around the kit's sink, with a store of its own
(:func:`channel_host`)."""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from tocsin.channel import StatusSink
from tocsin.clock import Clock
from tocsin.config import Config
from tocsin.store import Store


class WebhookHost(Protocol):
    """The part of a runtime that webhook routes use."""

    config: Config
    clock: Clock
    store: Store

    @property
    def sink(self) -> StatusSink | None: ...


class ChannelHost:
    """A webhook host whose sink is the channel's own (what the channel was started
    with): used by conformance harnesses, where the kit starts the channel with its sink
    and the webhooks must report to the same one."""

    def __init__(self, config: Config, clock: Clock, channel: object, store: Store) -> None:
        self.config = config
        self.clock = clock
        self.channel = channel
        self.store = store

    @property
    def sink(self) -> StatusSink | None:
        sink = getattr(self.channel, "sink", None)
        return sink if isinstance(sink, StatusSink) else None


@contextlib.contextmanager
def channel_host(config: Config, clock: Clock, channel: object) -> Iterator[ChannelHost]:
    """A :class:`ChannelHost` with a real store of its own: a migrated SQLite file in a
    temporary folder, removed afterwards (replays are refused as in production)."""
    with tempfile.TemporaryDirectory(prefix="tocsin-webhooks-") as folder:
        store = Store.open(f"sqlite:///{Path(folder) / 'webhooks.db'}", upgrade=True)
        try:
            yield ChannelHost(config, clock, channel, store)
        finally:
            store.close()
