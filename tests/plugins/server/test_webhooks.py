"""Outbound webhooks: subscriptions, signed deliveries to a real receiver, retries, the log."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx2
import pytest
from litestar import Litestar
from litestar.testing import TestClient

from tocsin.clock import FakeClock
from tocsin.model import Alert, AlertState, AttemptChange, Message, Role
from tocsin.plugins.server.webhooks import Webhooks, backoff, sign, verify
from tocsin.runtime import Runtime


class Receiver:
    """An HTTP server on loopback that records what it receives and fails when told."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.fail_next = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                receiver.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                status = 503 if receiver.fail_next > 0 else 204
                receiver.fail_next -= 1
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def change(attempt_id: int, status: str, clock: FakeClock) -> AttemptChange:
    return AttemptChange(attempt_id, 1, 7, "sms", "sent", status, clock.now(), reached=True)


async def deliver(hooks: Webhooks) -> int:
    async with httpx2.AsyncClient(timeout=5) as client:
        return await hooks.deliver_due(client, max_tries=3)


def test_the_signature_is_checked_and_refuses_tampering_and_old_timestamps() -> None:
    body = b'{"a":1}'
    header = sign("whsec_x", body, 1_000_000)
    assert verify("whsec_x", body, header, now=1_000_010)
    assert not verify("whsec_x", b'{"a":2}', header, now=1_000_010)
    assert not verify("whsec_y", body, header, now=1_000_010)
    assert not verify("whsec_x", body, header, now=1_000_000 + 3600)


def test_backoff_doubles_and_is_capped() -> None:
    waits = [backoff(n).total_seconds() for n in range(1, 12)]
    assert waits[:4] == [10, 20, 40, 80]
    assert max(waits) == 3600
    assert waits == sorted(waits)


async def test_status_changes_reach_the_subscriber_signed_in_one_batch(
    runtime: Runtime, clock: FakeClock, receiver: Receiver
) -> None:
    hooks = Webhooks(runtime.store.engine, clock)
    new = hooks.subscribe(receiver.url, ["attempt.status"])
    hooks.subscribe(receiver.url + "/alerts-only", ["alert.finished"])
    runtime.services["server.webhooks"] = hooks
    runtime.pm.hook.tocsin_attempts_changed(
        runtime=runtime, changes=[change(1, "received", clock), change(2, "failed", clock)])
    assert await deliver(hooks) == 1
    (headers, body), = receiver.received
    assert headers["tocsin-event"] == "attempt.status"
    assert verify(new.secret, body, headers["tocsin-signature"], now=int(clock.now().timestamp()))
    payload = json.loads(body)
    assert [c["new_status"] for c in payload["data"]["changes"]] == ["received", "failed"]
    log = hooks.deliveries(new.webhook.id)
    assert [(d.state, d.tries, d.last_status) for d in log] == [("delivered", 1, 204)]


async def test_a_failing_receiver_is_retried_with_backoff_then_given_up(
    runtime: Runtime, clock: FakeClock, receiver: Receiver
) -> None:
    hooks = Webhooks(runtime.store.engine, clock)
    hook = hooks.subscribe(receiver.url, ["alert.sent"]).webhook
    alert = Alert("Flood", [Message("sms", "x")], id=4, state=AlertState.SENDING)
    runtime.services["server.webhooks"] = hooks
    runtime.pm.hook.tocsin_alert_sent(runtime=runtime, alert=alert)
    receiver.fail_next = 1
    assert await deliver(hooks) == 1
    assert await deliver(hooks) == 0  # not due yet
    clock.advance(seconds=backoff(1).total_seconds())
    assert await deliver(hooks) == 1
    assert [d.state for d in hooks.deliveries(hook.id)] == ["delivered"]
    assert [json.loads(b)["data"]["alert"]["title"] for _, b in receiver.received] == ["Flood"] * 2
    receiver.fail_next = 10
    hooks.enqueue("alert.sent", [{"alert": {"id": 5}}])
    for tries in range(1, 4):
        assert await deliver(hooks) == 1
        clock.advance(seconds=backoff(tries).total_seconds())
    latest = hooks.deliveries(hook.id)[0]
    assert (latest.state, latest.tries, latest.last_status) == ("failed", 3, 503)
    assert "503" in latest.last_error
    assert await deliver(hooks) == 0


async def test_a_delivery_enqueued_while_the_worker_reads_is_sent_without_waiting_for_the_poll(
    runtime: Runtime, clock: FakeClock, receiver: Receiver, gate: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    hooks = Webhooks(runtime.store.engine, clock)
    hooks.subscribe(receiver.url, ["alert.sent"])
    claim = gate(hooks._claim)
    monkeypatch.setattr(hooks, "_claim", claim)
    claim.arm()
    worker = asyncio.create_task(hooks.run(max_tries=3, timeout=5, poll=60))
    try:
        await claim.holding()  # the worker's first read: nothing due
        hooks.enqueue("alert.sent", [{"alert": {"id": 5}}])  # wakes the worker meanwhile
        claim.release()
        for _ in range(2000):  # 20 s, against a poll of 60 s
            if receiver.received:
                break
            await asyncio.sleep(0.01)
        assert [json.loads(b)["data"]["alert"]["id"] for _, b in receiver.received] == [5]
    finally:
        worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await worker


def test_subscriptions_are_managed_by_administrators_through_the_api(
    client: TestClient[Litestar], api: Callable[[Role], dict[str, str]], receiver: Receiver
) -> None:
    h = api(Role.ADMINISTRATOR)
    bad = client.post("/api/webhooks", json={"url": "ftp://x", "events": ["alert.sent"]}, headers=h)
    assert bad.status_code == 400 and "url" in bad.json()["detail"]
    unknown = client.post("/api/webhooks", json={"url": receiver.url, "events": ["nope"]}, headers=h)
    assert unknown.status_code == 400 and "events" in unknown.json()["detail"]
    made = client.post("/api/webhooks", json={"url": receiver.url}, headers=h)
    assert made.status_code == 201
    secret, hook_id = made.json()["secret"], made.json()["webhook"]["id"]
    assert secret not in client.get(f"/api/webhooks/{hook_id}", headers=h).text
    assert client.post(f"/api/webhooks/{hook_id}/ping", headers=h).json() == {"count": 1}
    deadline = dt.datetime.now() + dt.timedelta(seconds=20)
    while not receiver.received and dt.datetime.now() < deadline:  # the server's own worker
        client.get("/api/health")
    (headers, body), = receiver.received
    assert headers["tocsin-event"] == "ping"
    assert verify(secret, body, headers["tocsin-signature"],
                  now=int(client.app.state["tocsin"].now().timestamp()))
    # the worker records the outcome once the receiver has answered: a moment after it got the body
    log = client.get(f"/api/webhooks/{hook_id}/deliveries", headers=h).json()
    while log[0]["state"] == "pending" and dt.datetime.now() < deadline:
        log = client.get(f"/api/webhooks/{hook_id}/deliveries", headers=h).json()
    assert log[0]["state"] == "delivered"
    paused = client.patch(f"/api/webhooks/{hook_id}", json={"active": False}, headers=h).json()
    assert paused["active"] is False
    assert client.delete(f"/api/webhooks/{hook_id}", headers=h).status_code == 204
