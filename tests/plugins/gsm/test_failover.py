"""A modem unplugged in the middle of a send to many contacts: nothing is lost."""

from __future__ import annotations

import asyncio

from tocsin.builtin_statuses import SMS
from tocsin.channel import Accepted
from tocsin.hal.virtual_modem import VirtualModem

from .conftest import SCALE, RecordingSink, build, outbound

TERMINAL = set(SMS.terminal)


async def test_unplugging_a_modem_mid_send_leaves_every_attempt_terminal_and_none_lost():
    # The first modem pulls its cable in the middle of its fifth SMS part.
    vms = [VirtualModem(scale=SCALE, unplug_after=5 if i == 0 else None) for i in range(3)]
    for vm in vms:
        await vm.start()
    channel = build("gsm-sms", [vm.device for vm in vms], rate_per_minute=30, probe_interval="3s")
    sink = RecordingSink()
    await channel.start(sink)
    try:
        numbers = [f"+336500000{i:02d}" for i in range(60)]
        texts = {n: f"Alerte {n} " + ("long " * 40 if i % 7 == 0 else "") for i, n in enumerate(numbers)}
        results = await asyncio.gather(*(
            channel.send(outbound(i + 1, n, texts[n])) for i, n in enumerate(numbers)
        ))
        assert all(isinstance(r, Accepted) for r in results), [
            r for r in results if not isinstance(r, Accepted)]
        assert not vms[0].plugged
        assert channel.health().state.value == "degraded"
        assert vms[0].submits == 5 and len(vms[0].messages) < 5
        delivered = [(m.recipient, m.text) for vm in vms for m in vm.messages]
        assert sorted(delivered) == sorted(texts.items())  # each once, whole
        # Plugged back in: the probe puts it back, and the network hands over the status
        # reports it held for the messages that modem had sent.
        await vms[0].start()
        await _until(lambda: channel.health().state.value == "ok")
        try:
            await sink.wait_terminal(range(1, 61), TERMINAL, timeout=30)
        except TimeoutError:
            stuck = {i: sink.statuses(i) for i in range(1, 61) if not set(sink.statuses(i)) & TERMINAL}
            raise AssertionError(f"not terminal: {stuck}; held {[vm._held_reports for vm in vms]}; "
                                 f"tracker {channel.tracker._by_ref}") from None
        assert all(sink.last(i).status == "received" for i in range(1, 61))
        assert channel.tracker.waiting == 0
    finally:
        await channel.stop()
        for vm in vms:
            await vm.stop()


async def _until(condition) -> None:
    async def loop() -> None:
        while not condition():
            await asyncio.sleep(0.02)

    await asyncio.wait_for(loop(), 10)
