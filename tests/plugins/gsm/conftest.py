"""Channels over virtual modems on real pseudo-terminals, and a sink that records."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterable
from typing import Any

from tocsin.channel import ChannelSettings, OutboundAttempt, RenderedMessage
from tocsin.clock import FakeClock
from tocsin.model import Attempt, InboundMessage, StatusEvent
from tocsin.plugins.gsm.plugin import GSM_SMS, GSM_VOICE

SCALE = 0.005  # 200 times faster than real hardware


class RecordingSink:
    """Records every event and lets a test wait for the ones it expects."""

    def __init__(self) -> None:
        self.events: list[StatusEvent] = []
        self.inbound_messages: list[InboundMessage] = []
        self._changed = asyncio.Event()

    def report(self, event: StatusEvent) -> None:
        self.events.append(event)
        self._changed.set()

    def inbound(self, message: InboundMessage) -> None:
        self.inbound_messages.append(message)
        self._changed.set()

    def statuses(self, attempt_id: int) -> list[str]:
        return [e.status for e in self.events if e.attempt_id == attempt_id]

    def last(self, attempt_id: int) -> StatusEvent:
        return [e for e in self.events if e.attempt_id == attempt_id][-1]

    async def wait_until(self, done: Any, timeout: float = 10.0) -> None:
        async def loop() -> None:
            while not done():
                self._changed.clear()
                await self._changed.wait()

        await asyncio.wait_for(loop(), timeout)

    async def wait_terminal(self, ids: Iterable[int], terminal: set[str], timeout: float = 10.0) -> None:
        wanted = list(ids)
        await self.wait_until(
            lambda: all(any(s in terminal for s in self.statuses(i)) for i in wanted), timeout
        )


def outbound(attempt_id: int, number: str, text: str, *, means: str = "sms",
             confirm: bool = False, repeat: int = 1, language: str = "") -> OutboundAttempt:
    attempt = Attempt(alert_id=1, contact_id=attempt_id, means=means, address=number, status="",
                      id=attempt_id)
    return OutboundAttempt(attempt=attempt, message=RenderedMessage(text=text, repeat=repeat),
                           requires_confirmation=confirm, language=language)


def settings_for(kind: str, devices: list[str], **options: Any) -> ChannelSettings:
    base: dict[str, Any] = {"type": kind, "devices": devices, "time_scale": SCALE,
                            "probe_interval": "2s"}
    base.update(options)
    return ChannelSettings(name=f"test-{kind}", type=kind, options=base,
                           clock=FakeClock(dt.datetime(2026, 5, 4, 9, 0, tzinfo=dt.UTC)))


def build(kind: str, devices: list[str], **options: Any) -> Any:
    channel_type = GSM_SMS if kind == "gsm-sms" else GSM_VOICE
    return channel_type.build(settings_for(kind, devices, **options))
