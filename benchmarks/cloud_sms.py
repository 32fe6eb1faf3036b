"""Cloud SMS benchmark: throughput of ``twilio-sms`` through the simulator, and the
accuracy of its per-sender rate limiter.

1. 10,000 SMS with no rate limit through the simulator running as its own process
   (``tocsin simulate twilio --no-callbacks``), so client and server each get a core:
   prints requests per second (the aim is over 1,000/s).
2. The rate limiter at 1 and 10 messages per second over a minute (both at once,
   each channel driven by more workers than it needs): prints the rate achieved and
   its error (the aim is within 2%).

Usage: ``python benchmarks/cloud_sms.py [--messages 10000] [--duration 60]
[--concurrency 64]``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

from tocsin.channel import Accepted, ChannelSettings, OutboundAttempt, RenderedMessage, StatusSink
from tocsin.model import Attempt, InboundMessage, StatusEvent
from tocsin.plugins.twilio.sms import TwilioSmsChannel, build
from tocsin.testing.http_server import bind_loopback
from tocsin.testing.twilio_simulator import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN


class NullSink:
    def report(self, event: StatusEvent) -> None: ...

    def inbound(self, message: InboundMessage) -> None: ...


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


SIMULATOR_PID: list[int] = []


@contextlib.asynccontextmanager
async def simulator_process() -> AsyncIterator[str]:
    """``tocsin simulate twilio`` in its own process; yields its base URL."""
    sock = bind_loopback()
    port = sock.getsockname()[1]
    sock.close()
    tocsin = Path(sys.executable).with_name("tocsin")
    proc = await asyncio.create_subprocess_exec(
        str(tocsin), "simulate", "twilio", "--port", str(port), "--no-callbacks", "--quiet",
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env={**os.environ, "TOCSIN_CONFIG": ""},
    )
    SIMULATOR_PID[:] = [proc.pid]
    try:
        assert proc.stdout is not None
        banner = (await proc.stdout.readline()).decode().strip()
        if not banner.startswith("Twilio simulator on "):
            raise RuntimeError(f"the simulator did not start: {banner!r}")
        yield banner.removeprefix("Twilio simulator on ")
    finally:
        proc.send_signal(signal.SIGINT)
        await proc.wait()


def channel(api: str, *, rate: float, concurrency: int, name: str) -> TwilioSmsChannel:
    options = {
        "account_sid": DEFAULT_ACCOUNT_SID, "auth_token": DEFAULT_AUTH_TOKEN, "api_base_url": api,
        "from": "+33100000001", "rate": rate, "concurrency": concurrency,
    }
    return build(ChannelSettings(name, "twilio-sms", options, base_url="http://127.0.0.1:9"))


def outbound(i: int) -> OutboundAttempt:
    attempt = Attempt(alert_id=1, contact_id=i, means="sms", address=f"+336{i % 10**8:08d}",
                      status="", id=i, channel="bench")
    return OutboundAttempt(attempt, RenderedMessage(text=f"Alerte {i}: test de charge."))


async def drive(ch: TwilioSmsChannel, total: int | None, workers: int, until: float | None,
                stamps: list[float]) -> int:
    """Send with ``workers`` tasks until ``total`` sends or the ``until`` deadline."""
    counter = iter(range(1, 10**9))
    accepted = 0

    async def worker() -> None:
        nonlocal accepted
        for i in counter:
            if total is not None and i > total:
                return
            if until is not None and time.monotonic() >= until:
                return
            result = await ch.send(outbound(i))
            if isinstance(result, Accepted):
                accepted += 1
                stamps.append(time.monotonic())
            else:
                print(f"  send {i}: {result}", file=sys.stderr)

    await asyncio.gather(*(worker() for _ in range(workers)))
    return accepted


async def throughput(api: str, messages: int, concurrency: int) -> None:
    ch = channel(api, rate=0, concurrency=concurrency, name="bench")
    sink: StatusSink = NullSink()
    await ch.start(sink)
    try:
        await drive(ch, 200, concurrency, None, [])  # warm the connection pool
        stamps: list[float] = []
        server_cpu, client_cpu = cpu_seconds(SIMULATOR_PID[0]), time.process_time()
        start = time.monotonic()
        accepted = await drive(ch, messages, concurrency, None, stamps)
        elapsed = time.monotonic() - start
        server_cpu = cpu_seconds(SIMULATOR_PID[0]) - server_cpu
        client_cpu = time.process_time() - client_cpu
    finally:
        await ch.stop()
    print(f"throughput: {accepted:,} SMS accepted in {elapsed:.2f} s "
          f"= {accepted / elapsed:,.0f} requests/s (concurrency {concurrency}, no rate limit)")
    per = max(accepted, 1)
    print(f"  CPU per request: channel {client_cpu / per * 1000:.2f} ms, simulator "
          f"{server_cpu / per * 1000:.2f} ms; load average now {os.getloadavg()[0]:.1f} "
          f"on {os.cpu_count()} CPUs")


async def limiter(api: str, duration: float) -> None:
    rates = (1.0, 10.0)
    channels = [channel(api, rate=r, concurrency=4, name=f"rate{r:g}") for r in rates]
    for ch in channels:
        await ch.start(NullSink())
    stamps: list[list[float]] = [[] for _ in rates]
    try:
        start = time.monotonic()
        until = start + duration
        await asyncio.gather(*(drive(ch, None, 4, until, s) for ch, s in zip(channels, stamps, strict=True)))
    finally:
        for ch in channels:
            await ch.stop()
    for rate, sent in zip(rates, stamps, strict=True):
        span = sent[-1] - sent[0]
        achieved = (len(sent) - 1) / span if span > 0 else float("nan")
        error = (achieved - rate) / rate * 100
        in_window = sum(1 for t in sent if t < start + duration)
        expected = rate * duration
        print(f"rate limiter at {rate:g}/s over {duration:g} s: {in_window} accepted in the window "
              f"(ideal {expected:g}, {(in_window - expected) / expected * 100:+.2f}%); "
              f"measured spacing {achieved:.4f}/s ({error:+.2f}%)")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--skip-limiter", action="store_true")
    args = parser.parse_args()
    async with simulator_process() as api:
        print(f"simulator: {api} (separate process, callbacks off)")
        await throughput(api, args.messages, args.concurrency)
        if not args.skip_limiter:
            await limiter(api, args.duration)


if __name__ == "__main__":
    asyncio.run(main())
