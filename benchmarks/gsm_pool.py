"""Benchmark of the GSM modem pool over virtual modems.

Virtual modems run real-hardware timing (3 s to submit an SMS, status reports 5 s
later) multiplied by ``--scale`` so that the whole run takes about a minute; the channel
drives each modem at ``--rate`` SMS per minute (a modem's own capacity). Two figures:

- **throughput** of the ``gsm-sms`` channel with 1, 2, 4 and 8 modems, as a share of the
  sum of the modems' capacity (target: at least 95%, i.e. linear growth). Sends are made
  as the engine makes them: ``send`` for every attempt, at most the channel's declared
  concurrency in flight. The steady-state window runs from the first to the last
  message accepted.
- **take-out time**: one of four modems is unplugged in the middle of a send to many
  contacts; how long (in real-hardware time) until the pool has taken it out, and until
  the message it held is accepted by another modem (target for the take-out: under 5 s).

Prints the figures and asserts nothing. Usage:
``python benchmarks/gsm_pool.py [--scale 0.01] [--rate 6] [--per-modem 30]``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import time
from typing import Any

from tocsin.channel import Accepted, ChannelSettings, OutboundAttempt, RenderedMessage
from tocsin.hal.virtual_modem import VirtualModem
from tocsin.model import Attempt, InboundMessage, StatusEvent
from tocsin.plugins.gsm.sms_channel import build_sms_channel

TEXT = "Coupure d'eau demain de 8 h a 12 h dans votre quartier."


class CountingSink:
    def __init__(self) -> None:
        self.events: list[tuple[float, StatusEvent]] = []

    def report(self, event: StatusEvent) -> None:
        self.events.append((asyncio.get_running_loop().time(), event))

    def inbound(self, message: InboundMessage) -> None:
        pass


def outbound(i: int) -> OutboundAttempt:
    attempt = Attempt(alert_id=1, contact_id=i, means="sms", address=f"+3361{i:08d}", status="", id=i)
    return OutboundAttempt(attempt=attempt, message=RenderedMessage(text=TEXT))


def channel_for(vms: list[VirtualModem], scale: float, rate: float) -> Any:
    options = {"type": "gsm-sms", "devices": [vm.device for vm in vms], "time_scale": scale,
               "rate_per_minute": rate, "probe_interval": "30s"}
    return build_sms_channel(ChannelSettings("bench", "gsm-sms", options))


async def send_all(channel: Any, count: int, first: int = 0) -> list[tuple[float, Any]]:
    """Send ``count`` attempts with the channel's concurrency; (time accepted, result)."""
    gate = asyncio.Semaphore(channel.limits.concurrency)
    loop = asyncio.get_running_loop()

    async def one(i: int) -> tuple[float, Any]:
        async with gate:
            result = await channel.send(outbound(i))
            return loop.time(), result

    return await asyncio.gather(*(one(first + i) for i in range(count)))


async def throughput(modems: int, scale: float, rate: float, per_modem: int) -> dict[str, float]:
    vms = [VirtualModem(scale=scale) for _ in range(modems)]
    for vm in vms:
        await vm.start()
    channel = channel_for(vms, scale, rate)
    await channel.start(CountingSink())
    try:
        started = time.perf_counter()
        results = await send_all(channel, modems * per_modem)
        wall = time.perf_counter() - started
    finally:
        await channel.stop()
        for vm in vms:
            await vm.stop()
    accepted = sorted(t for t, r in results if isinstance(r, Accepted))
    window = accepted[-1] - accepted[0]
    # the first message on each modem needs no wait; the steady state starts after them
    measured = (len(accepted) - modems) / (window / scale) * 60  # SMS per real minute
    capacity = modems * rate
    return {"modems": modems, "sent": len(accepted), "wall": wall,
            "per_minute": measured, "capacity": capacity, "share": measured / capacity}


async def takeout(scale: float, rate: float) -> dict[str, float]:
    vms = [VirtualModem(scale=scale, unplug_after=4 if i == 0 else None) for i in range(4)]
    for vm in vms:
        await vm.start()
    channel = channel_for(vms, scale, rate)
    sink = CountingSink()
    await channel.start(sink)
    try:
        results = await send_all(channel, 40)
        pool = channel.pool
        assert pool is not None and vms[0].unplugged_at is not None
        unplugged = vms[0].unplugged_at
        out_at = next(t for device, t in pool.takeouts if device == vms[0].device)
        held = int(vms[0].cut_off[len("+3361"):])  # the attempt the unplug cut off
        resumed = results[held][0]
        sending = [t for t, e in sink.events if e.attempt_id == held and e.status == "sending"]
        redispatched = sending[-1]
        lost = sum(1 for _, r in results if not isinstance(r, Accepted))
    finally:
        await channel.stop()
        for vm in vms:
            with contextlib.suppress(OSError):
                await vm.stop()
    return {"takeout": (out_at - unplugged) / scale, "resume": (resumed - unplugged) / scale,
            "redispatch": (redispatched - unplugged) / scale,
            "lost": lost, "sent": sum(len(vm.messages) for vm in vms)}


async def main(args: argparse.Namespace) -> None:
    logging.basicConfig(level=logging.ERROR)
    print(f"GSM pool over virtual modems: scale {args.scale:g} (1 s of hardware = "
          f"{args.scale * 1000:g} ms), {args.rate:g} SMS/min per modem, "
          f"{args.per_modem} SMS per modem")
    print(f"{'modems':>6} {'sent':>5} {'wall s':>7} {'SMS/min':>9} {'capacity':>9} {'share':>7}")
    for modems in (1, 2, 4, 8):
        row = await throughput(modems, args.scale, args.rate, args.per_modem)
        print(f"{row['modems']:>6} {row['sent']:>5} {row['wall']:>7.2f} {row['per_minute']:>9.1f} "
              f"{row['capacity']:>9.1f} {row['share']:>7.1%}")
    out = await takeout(args.scale, args.rate)
    print("unplugged mid-send (1 of 4 modems at full rate, 40 SMS), real-hardware time after the "
          "unplug:")
    print(f"  taken out of the pool       {out['takeout']:7.3f} s")
    print(f"  held SMS on another modem   {out['redispatch']:7.3f} s (first in line for the next "
          "free rate slot)")
    print(f"  held SMS accepted (+CMGS)   {out['resume']:7.3f} s (includes the network's submit)")
    print(f"  {out['sent']} SMS delivered to the network, {out['lost']} not accepted")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=float, default=0.01)
    parser.add_argument("--rate", type=float, default=6.0)
    parser.add_argument("--per-modem", type=int, default=30)
    asyncio.run(main(parser.parse_args()))
