"""The server's own tables and queries on PostgreSQL (the production database)."""

from __future__ import annotations

import time

import httpx2
import pytest
from litestar import Litestar
from litestar.testing import TestClient

from tocsin.clock import FakeClock
from tocsin.model import Role
from tocsin.plugins.server.app import create_app
from tocsin.plugins.server.demo import seed_alert
from tocsin.plugins.server.webhooks import Webhooks
from tocsin.runtime import Runtime

from .conftest import add_user, sign_in, token_for

pytestmark = pytest.mark.postgres

CSV = "prénom;nom;portable\nAnne;Dupont;06 11 22 33 44\nLuc;Morel;06 55 66 77 88\n"


def test_sessions_tokens_throttling_imports_and_reports_work_on_postgresql(
    pg_runtime: Runtime, clock: FakeClock
) -> None:
    add_user(pg_runtime, "ann", Role.OPERATOR)
    seeded = seed_alert(pg_runtime.store, contacts=30, now=clock.now())
    headers = {"authorization": f"Bearer {token_for(pg_runtime, add_user(pg_runtime, 'op', Role.OPERATOR))}"}
    with TestClient[Litestar](create_app(pg_runtime)) as client:
        for _ in range(5):
            assert sign_in(client, "ann", "wrong password!").status_code == 401
        assert sign_in(client, "ann").status_code == 429
        clock.advance(minutes=16)
        assert sign_in(client, "ann").status_code == 303
        assert client.get("/api/me").json()["user"]["username"] == "ann"

        started = client.post("/api/contacts/import", headers=headers,
                              files={"file": ("people.csv", CSV.encode(), "text/csv")})
        assert started.status_code == 202
        deadline = time.monotonic() + 30
        while (op := client.get(started.json()["url"], headers=headers).json())["state"] == "running":
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert op["state"] == "done" and op["result"]["created"] == 2

        overview = client.get("/api/reports/overview", params={"alert_id": seeded.alert.id},
                              headers=headers).json()
        outcome = overview["total"]["outcome"]
        assert outcome["contacted"] + outcome["in_progress"] + outcome["not_contacted"] == 30
        page = client.get(f"/alerts/{seeded.alert.id}", headers={**headers, "accept": "text/html"})
        assert page.status_code == 200


async def test_webhook_deliveries_are_claimed_once_on_postgresql(
    pg_runtime: Runtime, clock: FakeClock
) -> None:
    first = Webhooks(pg_runtime.store.engine, clock)
    second = Webhooks(pg_runtime.store.engine, clock)  # another server process
    first.subscribe("http://127.0.0.1:9/hook", ["alert.sent"])
    first.enqueue("alert.sent", [{"alert": {"id": n}} for n in range(10)])
    claimed_first = first._claim(6)
    claimed_second = second._claim(10)
    ids_first = {r.id for r in claimed_first}
    ids_second = {r.id for r in claimed_second}
    assert len(ids_first) == 6 and len(ids_second) == 4
    assert not ids_first & ids_second
    async with httpx2.AsyncClient(timeout=1) as client:  # nothing listens on port 9
        assert await first.deliver_due(client, max_tries=3) == 0  # all claimed already
