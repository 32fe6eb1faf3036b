"""A channel plugin for the durability tests: it records every send it receives in a
file (flushed at once, so a SIGKILL of the process keeps it), and, when ``idempotent``,
behaves as a provider honouring idempotency keys: a key seen before (its delivery is in
the file, across restarts) is acknowledged again without a second delivery.

Its delivery reports are at least once, as a provider's callbacks are: a report the
engine had not yet written when it was killed would otherwise be gone, so on start the
channel reports again every delivery in its file, and the status machine absorbs the
ones already applied."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
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
)
from tocsin.hookspecs import hookimpl
from tocsin.model import StatusEvent


class RecordingChannel:
    def __init__(self, settings: ChannelSettings) -> None:
        options = settings.options
        self.name = settings.name
        self.means = str(options["means"])
        self.clock = settings.clock
        self.log = Path(str(options["log"]))
        self.idempotent = bool(options.get("idempotent", False))
        self.pause = float(options.get("pause", 0.001))
        self.capabilities = Capabilities(delivery_reports=True, idempotency_key=self.idempotent)
        self.limits = Limits(concurrency=int(options.get("concurrency", 4)))
        self._sink: StatusSink | None = None
        self._keys: set[str] = set()
        self._fh: Any = None

    async def start(self, sink: StatusSink) -> None:
        self._sink = sink
        delivered: list[int] = []
        if self.log.exists():  # the provider's memory of the keys it has delivered
            for line in self.log.read_text().splitlines():
                parts = line.split()
                if len(parts) == 3 and parts[0] == "deliver":
                    self._keys.add(f"tocsin-attempt-{parts[1]}")
                    delivered.append(int(parts[1]))
        self._fh = self.log.open("a", encoding="utf-8")
        for aid in delivered:  # at-least-once reports: repeated after a restart
            event = StatusEvent("received", self.clock.now(), attempt_id=aid, source=self.name)
            asyncio.get_running_loop().call_soon(sink.report, event)

    async def stop(self) -> None:
        if self._fh is not None:
            self._fh.close()
        self._sink = None

    def health(self) -> Health:
        return Health()

    def _write(self, line: str) -> None:
        self._fh.write(line + "\n")
        self._fh.flush()

    async def send(self, outbound: OutboundAttempt) -> SendResult:
        aid = outbound.attempt.id
        await asyncio.sleep(self.pause)
        key = outbound.idempotency_key
        if self.idempotent and key in self._keys:
            self._write(f"dedup {aid} {os.getpid()}")
        else:
            self._write(f"deliver {aid} {os.getpid()}")  # one write: delivery and key together
            self._keys.add(key)
        assert self._sink is not None
        sink = self._sink
        delivered = StatusEvent("received", self.clock.now(), attempt_id=aid, source=self.name)
        asyncio.get_running_loop().call_soon(sink.report, delivered)
        first = "accepted" if self.means == "sms" else "sent"
        return Accepted(provider_ref=f"{self.name}-{aid}", status=first)


@hookimpl
def tocsin_register_channels() -> list[ChannelType]:
    return [ChannelType("recording", "*", RecordingChannel, "records every send (tests)")]
