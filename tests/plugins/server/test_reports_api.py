"""``/api/reports``: the report plugins' results as JSON and as files, with campaign rights."""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable

import openpyxl
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import insert

from tocsin.model import Role, User
from tocsin.plugins.server.demo import seed_alert
from tocsin.runtime import Runtime
from tocsin.store.schema import alerts, campaigns

Headers = Callable[[Role], dict[str, str]]


def test_the_overview_of_an_alert_matches_an_independent_count(
    client: TestClient[Litestar], runtime: Runtime, api: Headers
) -> None:
    seeded = seed_alert(runtime.store, contacts=40, now=runtime.clock.now())
    answer = client.get("/api/reports/overview", params={"alert_id": seeded.alert.id},
                        headers=api(Role.OPERATOR))
    assert answer.status_code == 200, answer.text
    outcome = answer.json()["total"]["outcome"]
    attempts = runtime.store.attempts.for_alert(seeded.alert.id)
    contacted = {a.contact_id for a in attempts if a.reached}
    in_progress = {a.contact_id for a in attempts if a.reached is None} - contacted
    assert outcome["contacted"] == len(contacted)
    assert outcome["in_progress"] == len(in_progress)
    assert outcome["not_contacted"] == 40 - len(contacted) - len(in_progress)


def test_bad_report_parameters_are_named(client: TestClient[Litestar], api: Headers) -> None:
    unknown = client.get("/api/reports/overview", params={"colour": "red"},
                         headers=api(Role.OPERATOR))
    assert unknown.status_code == 400 and "colour" in unknown.json()["detail"]
    bad = client.get("/api/reports/citizens", params={"alert_id": "x"}, headers=api(Role.OPERATOR))
    assert bad.status_code == 400 and "alert_id" in bad.json()["detail"]
    missing = client.get("/api/reports/nope", headers=api(Role.OPERATOR))
    assert missing.status_code == 404 and "overview" in missing.json()["detail"]


def test_statistics_download_as_a_real_excel_file(
    client: TestClient[Litestar], runtime: Runtime, api: Headers
) -> None:
    seeded = seed_alert(runtime.store, contacts=25, now=runtime.clock.now())
    answer = client.get("/api/reports/statistics/export/xlsx",
                        params={"alert_id": seeded.alert.id}, headers=api(Role.OPERATOR))
    assert answer.status_code == 200, answer.text
    assert 'filename="statisticsAlert.xlsx"' in answer.headers["content-disposition"]
    book = openpyxl.load_workbook(io.BytesIO(answer.content))
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    assert len(rows) == 1 + 25


def test_a_large_export_runs_as_an_operation_and_is_downloaded_after(
    client: TestClient[Litestar], runtime: Runtime, api: Headers
) -> None:
    seeded = seed_alert(runtime.store, contacts=30, now=runtime.clock.now())
    h = api(Role.OPERATOR)
    started = client.post("/api/reports/statistics/export/csv",
                          params={"alert_id": seeded.alert.id}, headers=h)
    assert started.status_code == 202
    op_url = started.json()["url"]
    deadline = time.monotonic() + 30
    while (op := client.get(op_url, headers=h).json())["state"] == "running":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert op["state"] == "done", op
    download = client.get(f"/api/reports/operations/{op['id']}/download", headers=h)
    assert download.status_code == 200
    rows = list(csv.reader(io.StringIO(download.content.decode("utf-8-sig"))))
    assert len(rows) == 31


def test_exporting_a_campaigns_alert_needs_the_campaigns_export_right(
    client: TestClient[Litestar], runtime: Runtime, api: Headers, users: dict[Role, User]
) -> None:
    seeded = seed_alert(runtime.store, contacts=5, now=runtime.clock.now())
    with runtime.store.transaction() as conn:
        campaign_id = conn.execute(insert(campaigns).returning(campaigns.c.id), {
            "name": "Hiver", "kind": "alert", "contract_types": [],
            "created_at": runtime.clock.now()}).scalar_one()
        conn.execute(alerts.update().where(alerts.c.id == seeded.alert.id)
                     .values(campaign_id=campaign_id))
    url = "/api/reports/statistics/export/csv"
    params = {"alert_id": seeded.alert.id}
    refused = client.get(url, params=params, headers=api(Role.OPERATOR))
    assert refused.status_code == 403
    readable = client.get("/api/reports/statistics", params=params, headers=api(Role.OPERATOR))
    assert readable.status_code == 200  # reading follows the role; exporting needs the right
    assert client.get(url, params=params, headers=api(Role.ADMINISTRATOR)).status_code == 200
    operator = users[Role.OPERATOR]
    granted = client.put(f"/api/users/{operator.id}/campaign-rights",
                         json=[{"campaign_id": campaign_id, "can_export": True}],
                         headers=api(Role.ADMINISTRATOR))
    assert granted.status_code == 200, granted.text
    assert client.get(url, params=params, headers=api(Role.OPERATOR)).status_code == 200
