"""Reference server benchmarks; prints figures, asserts nothing.

1. Status webhooks: a load generator on loopback sends signed Twilio-style status
   callbacks (``delivered`` for attempts waiting in ``sent``) to ``tocsin serve`` running
   in its own process, over keep-alive connections; reports requests/s and latency
   percentiles, then checks how many events the engine applied. Target: > 2,000 req/s with
   p99 < 50 ms.
2. The dashboard page of one alert with 300,000 attempts (100,000 contacts by SMS, call
   and e-mail): time to render ``/alerts/<id>`` through the same server. Target: < 300 ms.

   The page takes the alert's overview from a cache refreshed in the background while the
   alert is being sent (see ``tocsin.plugins.server.web.summaries``); the first render
   computes it and is printed apart.

Usage: ``python benchmarks/server.py [--requests N] [--connections C] [--contacts K]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

import httpx2
from sqlalchemy import func, select

from tocsin.config import load_config
from tocsin.model import AlertState, Attempt, Role, User
from tocsin.plugins.server.demo import make_contacts, seed_alert
from tocsin.plugins.server.passwords import hash_password
from tocsin.plugins.server.tokens import Tokens
from tocsin.plugins.twilio.signature import signature
from tocsin.runtime import Runtime
from tocsin.store.schema import attempts
from tocsin.testing.http_server import bind_loopback

ACCOUNT = "AC" + "0" * 31 + "1"
TOKEN = "benchmark-auth-token"


def write_config(folder: Path, port: int) -> Path:
    path = folder / "tocsin.toml"
    path.write_text(f"""
[tocsin]
data_dir = "{folder}"
base_url = "http://127.0.0.1:{port}"

[server]
secret_key = "benchmark-secret-key-0123456789"
port = {port}

[engine]
flush_interval = 0.05
flush_max = 5000

[channels.sms]
type = "twilio-sms"
account_sid = "{ACCOUNT}"
auth_token = "{TOKEN}"
api_base_url = "http://127.0.0.1:9/"
from = "+33100000001"
""")
    return path


def seed_waiting_sms(runtime: Runtime, count: int) -> list[str]:
    """An alert whose ``count`` SMS were accepted by the provider and wait in *sent*."""
    now = runtime.clock.now()
    seeded = seed_alert(runtime.store, contacts=0, now=now, means=("sms",), title="Webhooks")
    ids = make_contacts(runtime.store, count, rng=random.Random(3), now=now, prefix="hook")
    refs = [f"SM{secrets.token_hex(16)}" for _ in ids]
    rows = [Attempt(alert_id=seeded.alert.id, contact_id=c, means="sms", address=f"+3361{c:07d}",
                    status="sent", channel="sms", provider_ref=ref, created_at=now, sent_at=now)
            for c, ref in zip(ids, refs, strict=True)]
    with runtime.store.transaction() as conn:
        runtime.store.alerts.add_audience(int(seeded.alert.id or 0), [(c, "") for c in ids], conn)
        runtime.store.attempts.insert_many(rows, now=now, conn=conn, returning=False)
        runtime.store.alerts.set_state(int(seeded.alert.id or 0), AlertState.SENDING, now=now,
                                       conn=conn)
    return refs


def requests_for(refs: list[str], port: int) -> list[bytes]:
    """Fully formed HTTP/1.1 requests, signed as the provider signs them."""
    url = f"http://127.0.0.1:{port}/webhooks/twilio/sms/status"
    out = []
    for ref in refs:
        params = [("AccountSid", ACCOUNT), ("MessageSid", ref), ("MessageStatus", "delivered"),
                  ("SmsSid", ref), ("To", "+33612345678")]
        body = urlencode(params).encode()
        head = (f"POST /webhooks/twilio/sms/status HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                f"Content-Type: application/x-www-form-urlencoded\r\n"
                f"X-Twilio-Signature: {signature(TOKEN, url, params)}\r\n"
                f"I-Twilio-Idempotency-Token: {secrets.token_hex(8)}\r\n"
                f"Content-Length: {len(body)}\r\n\r\n")
        out.append(head.encode() + body)
    return out


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    if length:
        await reader.readexactly(length)
    return status


async def load(
    port: int, payloads: list[bytes], connections: int
) -> tuple[list[float], dict[int, int], float]:
    queue = list(reversed(payloads))
    latencies: list[float] = []
    codes: dict[int, int] = {}

    async def worker() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while queue:
                payload = queue.pop()
                start = time.perf_counter()
                writer.write(payload)
                status = await _read_response(reader)
                latencies.append(time.perf_counter() - start)
                codes[status] = codes.get(status, 0) + 1
        finally:
            writer.close()

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(connections)))
    return latencies, codes, time.perf_counter() - start


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def wait_ready(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx2.get(f"{url}/api/health", timeout=2).status_code == 200:
                return
        except httpx2.HTTPError:
            time.sleep(0.2)
    raise SystemExit("the server did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--connections", type=int, default=12)
    parser.add_argument("--contacts", type=int, default=100_000,
                        help="contacts of the big alert (x3 means = attempts)")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="tocsin-bench-server-"))
    sock = bind_loopback()
    port = sock.getsockname()[1]
    sock.close()
    config = write_config(folder, port)
    runtime = Runtime.open(load_config(config))
    t = time.perf_counter()
    refs = seed_waiting_sms(runtime, args.requests)
    print(f"seeded {len(refs):,} SMS waiting for their delivery report in "
          f"{time.perf_counter() - t:.1f} s")
    t = time.perf_counter()
    big = seed_alert(runtime.store, contacts=args.contacts, now=runtime.clock.now(),
                     title="Big alert")
    print(f"seeded an alert of {big.attempts:,} attempts ({args.contacts:,} contacts) in "
          f"{time.perf_counter() - t:.1f} s")
    admin = runtime.store.users.create(User("bench", role=Role.ADMINISTRATOR),
                                       password_hash=hash_password("benchmark-password"))
    token = Tokens(runtime.store.engine).create(int(admin.id or 0), "bench",
                                                now=runtime.clock.now()).token
    payloads = requests_for(refs, port)
    env = {**os.environ, "TOCSIN_CONFIG": str(config)}
    # BENCH_SERVER_CMD: how to start the CLI, "|"-separated (e.g. a profiling wrapper)
    launcher = os.environ.get("BENCH_SERVER_CMD") or "-c|from tocsin.cli import main; main()"
    server = subprocess.Popen(
        [sys.executable, *launcher.split("|"), "serve", "--no-dispatch",
         "--port", str(port)], env=env, stdout=subprocess.DEVNULL,
        stderr=(folder / "server.log").open("wb"))
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base)
        # warm up (imports, first queries), then measure
        asyncio.run(load(port, payloads[:200], 8))
        latencies, codes, elapsed = asyncio.run(load(port, payloads[200:], args.connections))
        n = len(latencies)
        print(f"\nstatus webhooks: {n:,} requests over {args.connections} connections in "
              f"{elapsed:.2f} s = {n / elapsed:,.0f} req/s")
        print(f"  latency p50 {percentile(latencies, 50) * 1000:.1f} ms, "
              f"p95 {percentile(latencies, 95) * 1000:.1f} ms, "
              f"p99 {percentile(latencies, 99) * 1000:.1f} ms, "
              f"max {max(latencies) * 1000:.1f} ms; answers {dict(sorted(codes.items()))}")
        deadline = time.monotonic() + 60
        applied = 0
        while time.monotonic() < deadline:
            with runtime.store.engine.connect() as conn:
                applied = int(conn.execute(select(func.count()).select_from(attempts).where(
                    attempts.c.channel == "sms", attempts.c.status == "received")).scalar_one())
            if applied >= n + 200:
                break
            time.sleep(0.5)
        print(f"  events applied by the engine: {applied:,} of {n + 200:,}")

        with httpx2.Client(base_url=base, timeout=60,
                          headers={"authorization": f"Bearer {token}",
                                   "accept": "text/html", "accept-language": "fr"}) as client:
            page = f"/alerts/{big.alert.id}"
            timings = []
            for _ in range(12):
                start = time.perf_counter()
                answer = client.get(page)
                timings.append(time.perf_counter() - start)
                assert answer.status_code == 200, answer.text[:500]
            cold, timings = timings[0], timings[2:]
            print(f"\ndashboard page of an alert of {big.attempts:,} attempts: "
                  f"median {statistics.median(timings) * 1000:.0f} ms, "
                  f"max {max(timings) * 1000:.0f} ms over {len(timings)} renders "
                  f"(first render, overview computed cold: {cold * 1000:.0f} ms)")
            for extra in (f"{page}/pie.svg", f"{page}?outcome=not+contacted",
                          f"{page}?search=martin"):
                start = time.perf_counter()
                client.get(extra)
                print(f"  {extra}: {(time.perf_counter() - start) * 1000:.0f} ms")
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        runtime.close()


if __name__ == "__main__":
    main()
