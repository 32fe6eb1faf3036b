"""Replay protection is shared by every server process on one database.

Two reference servers (each its own runtime, store engine and engine applying statuses,
as two processes would have) on one database, SQLite file or PostgreSQL schema: a
genuine provider callback accepted by the first is refused by the second, and the
attempt's status changes once."""

from __future__ import annotations

import contextlib
import random
import secrets
import time
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from tocsin.config import build_config
from tocsin.model import Attempt, StatusEvent
from tocsin.plugins.http_gateway.channel import dlr_signature
from tocsin.plugins.http_gateway.harness import kannel_options
from tocsin.plugins.http_gateway.settings import parse_settings
from tocsin.plugins.server.app import create_app
from tocsin.plugins.server.demo import make_contacts, seed_alert
from tocsin.runtime import Runtime
from tocsin.testing.twilio_resources import sign

pytestmark = pytest.mark.timeout(120)

BASE_URL = "https://tocsin.example.org"
ACCOUNT = "AC" + "7" * 32
TOKEN = "shared-replay-token"
CHANNELS: dict[str, dict[str, Any]] = {
    "sms": {"type": "twilio-sms", "account_sid": ACCOUNT, "auth_token": TOKEN,
            "api_base_url": "http://127.0.0.1:9/", "from": "+33100000001"},
    "kannel": kannel_options("http://127.0.0.1:9/cgi-bin/sendsms", "kannel-password"),
}


def open_runtime(db_url: str, folder: Path) -> Runtime:
    config = build_config({
        "tocsin": {"data_dir": str(folder), "database": db_url, "base_url": BASE_URL},
        "server": {"secret_key": "test-secret-key-0123456789"},
        "engine": {"poll": 0.1, "flush_interval": 0.02},
        "channels": CHANNELS,
    })
    return Runtime.open(config)


@contextlib.contextmanager
def two_servers(db_url: str, tmp_path: Path) -> Iterator[tuple[Runtime, TestClient[Litestar],
                                                            TestClient[Litestar]]]:
    """Two servers on one database, each with an engine that applies what it receives."""
    first, second = open_runtime(db_url, tmp_path / "a"), open_runtime(db_url, tmp_path / "b")
    assert first.store.engine is not second.store.engine
    try:
        with TestClient(create_app(first, start_engine=True, dispatch=False)) as one, \
                TestClient(create_app(second, start_engine=True, dispatch=False)) as two:
            yield first, one, two
    finally:
        first.close()
        second.close()


def waiting_sms(runtime: Runtime, channel: str, provider_ref: str) -> int:
    """An SMS the provider accepted, waiting in *sent* for its delivery report."""
    now = runtime.clock.now()
    seeded = seed_alert(runtime.store, contacts=0, now=now, means=("sms",),
                        title=f"Replay {uuid.uuid4().hex[:6]}")
    [contact] = make_contacts(runtime.store, 1, rng=random.Random(1), now=now,
                              prefix=uuid.uuid4().hex)
    [attempt_id] = runtime.store.attempts.insert_many([
        Attempt(alert_id=int(seeded.alert.id or 0), contact_id=contact, means="sms",
                address="+33612345678", status="sent", channel=channel, provider_ref=provider_ref,
                created_at=now, sent_at=now)], now=now)
    return attempt_id


def applied_events(runtime: Runtime, attempt_id: int, *, settle: float = 0.5) -> list[StatusEvent]:
    """The attempt's events once one is stored and nothing more came for ``settle`` s."""
    deadline = time.monotonic() + 30
    while not runtime.store.attempts.events(attempt_id):
        assert time.monotonic() < deadline, "no event was applied"
        time.sleep(0.02)
    time.sleep(settle)  # time for a second (wrong) event to be flushed, if one was reported
    return runtime.store.attempts.events(attempt_id)


def twilio_status(ref: str) -> tuple[bytes, Mapping[str, str]]:
    """A delivery report signed as the provider signs it, with its idempotency token."""
    params = [("AccountSid", ACCOUNT), ("MessageSid", ref), ("MessageStatus", "delivered"),
              ("SmsSid", ref), ("SmsStatus", "delivered"), ("To", "+33612345678")]
    url = f"{BASE_URL}/webhooks/twilio/sms/status"
    headers = {"content-type": "application/x-www-form-urlencoded",
               "x-twilio-signature": sign(TOKEN, url, params),
               "i-twilio-idempotency-token": secrets.token_hex(16)}
    return urlencode(params).encode(), headers


def test_a_twilio_callback_accepted_by_one_server_is_refused_by_another(
    db_url: str, tmp_path: Path
) -> None:
    ref = "SM" + secrets.token_hex(16)
    body, headers = twilio_status(ref)
    with two_servers(db_url, tmp_path) as (runtime, one, two):
        attempt_id = waiting_sms(runtime, "sms", ref)
        assert one.post("/webhooks/twilio/sms/status", content=body, headers=headers).status_code == 204
        replayed = two.post("/webhooks/twilio/sms/status", content=body, headers=headers)
        assert replayed.status_code == 403 and "replay" in replayed.text
        assert one.post("/webhooks/twilio/sms/status", content=body, headers=headers).status_code == 403
        events = applied_events(runtime, attempt_id)
        assert [(e.status, e.anomaly) for e in events] == [("received", "")]
        assert runtime.store.attempts.get(attempt_id).status == "received"
        # claims are per delivery: the provider's next callback (a new token) is accepted
        body, headers = twilio_status(ref)
        assert two.post("/webhooks/twilio/sms/status", content=body, headers=headers).status_code == 204


def test_a_gateway_report_applied_by_one_server_is_not_applied_again_by_another(
    db_url: str, tmp_path: Path
) -> None:
    """Gateways do not sign each report; a repeated (message, code) is acknowledged (the
    gateway must stop retrying) and not applied again, whichever server it reaches."""
    ref = uuid.uuid4().hex
    settings = parse_settings("kannel", CHANNELS["kannel"], base_url=BASE_URL)
    url = (f"/webhooks/http-sms/kannel/dlr?ref={ref}&sig={dlr_signature(settings, ref)}"
           "&type=1&answer=DELIVRD")
    with two_servers(db_url, tmp_path) as (runtime, one, two):
        attempt_id = waiting_sms(runtime, "kannel", ref)
        for client in (one, two, one):  # the first applies, the repetitions are acknowledged
            answer = client.get(url)
            assert (answer.status_code, answer.text) == (200, "OK")
        events = applied_events(runtime, attempt_id)
        assert [e.status for e in events] == ["received"]
        assert runtime.store.attempts.get(attempt_id).status == "received"
        forged = url.replace("&sig=", "&sig=0")
        assert two.get(forged).status_code == 403
