"""Conformance harnesses for ``gsm-sms`` and ``gsm-voice``: each channel over two virtual
modems on pseudo-terminals (real pyserial), one scenario per number.

The SMS harness can take the provider down: it unplugs both modems and plugs them back
(the network keeps the status reports it owes and hands them over when the modems
listen again).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping
from typing import Any

from tocsin.testing.harness import ChannelUnderTest, ConformanceHarness, Scenario

SCALE = 0.002
NAME = "conformance"

SMS: Mapping[str, tuple[str, frozenset[str]]] = {
    "+33612000001": ("sms:delivered", frozenset({"received"})),
    "+33612000002": ("sms:undelivered,status:0x46", frozenset({"undelivered"})),
    "+33612000003": ("cms:21", frozenset({"failed"})),
    "+33612000004": ("sms:late", frozenset({"received"})),
    "+33612000005": ("sms:no-report", frozenset({"sent"})),
    "+33612000006": ("cms:42", frozenset({"failed"})),
}
"""Number → (virtual network scenario, statuses a send may end in)."""

CALLS: Mapping[str, tuple[str, frozenset[str], bool]] = {
    "+33611000001": ("call:press-1", frozenset({"confirmed"}), True),
    "+33611000002": ("call:answer", frozenset({"completed"}), False),
    "+33611000003": ("call:busy", frozenset({"busy"}), False),
    "+33611000004": ("call:no-answer", frozenset({"no answer"}), False),
    # a GSM modem cannot tell a voicemail from a person: the call is completed
    "+33611000005": ("call:voicemail", frozenset({"completed"}), True),
    "+33611000006": ("call:press-2", frozenset({"completed"}), True),
    "+33611000007": ("call:hang-up", frozenset({"completed"}), False),
}
"""Number → (virtual network scenario, statuses a call may end in, confirmation)."""

SMS_TEXT = "Tocsin conformance 🚨: an alert long enough to need two UCS-2 parts, " * 1 + "é" * 10


async def _until(condition: Any, timeout: float = 20.0) -> None:
    async def wait() -> None:
        while not condition():
            await asyncio.sleep(0.005)

    await asyncio.wait_for(wait(), timeout)


@contextlib.asynccontextmanager
async def _run(channel_type: str) -> AsyncIterator[ChannelUnderTest]:
    from tocsin.channel import ChannelSettings, RenderedMessage
    from tocsin.hal.scenarios import parse_scenario
    from tocsin.hal.virtual_modem import virtual_modems
    from tocsin.plugins.gsm.sms_channel import build_sms_channel
    from tocsin.plugins.gsm.voice_channel import build_voice_channel

    sms = channel_type == "gsm-sms"
    rules = [parse_scenario(f"{number}={spec[0]}") for number, spec in (SMS if sms else CALLS).items()]
    async with virtual_modems(2, scenarios=rules, scale=SCALE) as vms:
        options: dict[str, Any] = {
            "type": channel_type, "devices": [vm.device for vm in vms], "time_scale": SCALE,
            "probe_interval": "1s", "rate_per_minute": 60,
        }
        settings = ChannelSettings(NAME, channel_type, options)
        if sms:
            channel: Any = build_sms_channel(settings)
            # (attrs converters confuse mypy's view of Scenario and ChannelUnderTest)
            scenarios = [Scenario(n, outcomes, spec)  # type: ignore[arg-type]
                         for n, (spec, outcomes) in SMS.items()]

            async def settle() -> None:
                for vm in vms:
                    await vm.settled()
                for _ in range(5):
                    await asyncio.sleep(0)

            async def outage(down: bool) -> None:
                if down:
                    for vm in vms:
                        vm.unplug()
                    await _until(lambda: channel.pool is not None and channel.pool.available == 0)
                else:
                    for vm in vms:
                        if not vm.plugged:
                            await vm.start()
                    await _until(lambda: channel.health().state.value == "ok")

            yield ChannelUnderTest(channel, scenarios, settle=settle, outage=outage,  # type: ignore[arg-type]
                                   message=RenderedMessage(text=SMS_TEXT))
        else:
            channel = build_voice_channel(settings)
            scenarios = [Scenario(n, outcomes, spec, confirm)  # type: ignore[arg-type]
                         for n, (spec, outcomes, confirm) in CALLS.items()]

            async def calls_ended() -> None:
                await _until(lambda: channel.active_calls == 0, timeout=60)
                for _ in range(5):
                    await asyncio.sleep(0)

            yield ChannelUnderTest(channel, scenarios, settle=calls_ended,  # type: ignore[arg-type]
                                   message=RenderedMessage(text="Tocsin conformance call.", repeat=2))


def harnesses() -> list[ConformanceHarness]:
    return [
        ConformanceHarness("gsm-sms", lambda: _run("gsm-sms"), "two virtual SIMCom modems, SMS"),
        ConformanceHarness("gsm-voice", lambda: _run("gsm-voice"), "two virtual SIMCom modems, calls"),
    ]
