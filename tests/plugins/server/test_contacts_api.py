"""``/api/contacts`` and ``/api/groups``: validation, all-or-nothing, imports as operations."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from litestar import Litestar
from litestar.testing import TestClient

from tocsin.model import Role
from tocsin.runtime import Runtime

Headers = Callable[[Role], dict[str, str]]


def wait_operation(client: TestClient[Litestar], url: str, headers: dict[str, str]) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        op: dict[str, Any] = client.get(url, headers=headers).json()
        if op["state"] != "running":
            return op
        time.sleep(0.05)
    raise AssertionError(f"operation {url} still running")


def test_a_contact_is_created_with_numbers_in_e164_and_read_back(
    client: TestClient[Litestar], api: Headers
) -> None:
    body = {"first_name": "Zoé", "last_name": "Martin", "external_id": "Z1", "language": "FR",
            "means": [{"kind": "mobile", "value": "06 12 34 56 78"},
                      {"kind": "email", "value": "zoe@example.org", "verified": True}]}
    made = client.post("/api/contacts", json=body, headers=api(Role.OPERATOR))
    assert made.status_code == 201, made.text
    contact = made.json()
    assert {(m["kind"], m["value"]) for m in contact["means"]} == {
        ("mobile", "+33612345678"), ("email", "zoe@example.org")}
    assert contact["language"] == "fr"
    read = client.get(f"/api/contacts/{contact['id']}", headers=api(Role.AGENT)).json()
    assert read == contact
    listed = client.get("/api/contacts", params={"search": "mart"}, headers=api(Role.AGENT)).json()
    assert [c["id"] for c in listed["items"]] == [contact["id"]]


def test_a_bad_means_is_refused_naming_the_field_and_nothing_is_stored(
    client: TestClient[Litestar], runtime: Runtime, api: Headers
) -> None:
    body = {"first_name": "A", "means": [{"kind": "email", "value": "a@b.org"},
                                         {"kind": "mobile", "value": "12"}]}
    answer = client.post("/api/contacts", json=body, headers=api(Role.OPERATOR))
    assert answer.status_code == 400
    assert answer.json()["detail"].startswith("means[1].value:")
    unknown_kind = client.post("/api/contacts", json={"means": [{"kind": "fax", "value": "1"}]},
                               headers=api(Role.OPERATOR))
    assert unknown_kind.status_code == 400
    assert runtime.store.contacts.count() == 0


def test_replacing_a_contact_keeps_its_id_and_replaces_its_means(
    client: TestClient[Litestar], api: Headers
) -> None:
    h = api(Role.OPERATOR)
    made = client.post("/api/contacts", json={"first_name": "A", "external_id": "A1", "means": [
        {"kind": "email", "value": "a@b.org"}]}, headers=h).json()
    other = client.post("/api/contacts", json={"first_name": "B", "external_id": "B1"}, headers=h)
    assert other.status_code == 201
    clash = client.put(f"/api/contacts/{made['id']}", json={"external_id": "B1"}, headers=h)
    assert clash.status_code == 400
    assert "external_id" in clash.json()["detail"]
    replaced = client.put(f"/api/contacts/{made['id']}", json={
        "first_name": "Anne", "external_id": "A1",
        "means": [{"kind": "phone", "value": "+33 1 44 55 66 77"}]}, headers=h).json()
    assert replaced["id"] == made["id"]
    assert replaced["created_at"] == made["created_at"]
    assert replaced["first_name"] == "Anne"
    assert [m["value"] for m in replaced["means"]] == ["+33144556677"]
    assert client.delete(f"/api/contacts/{made['id']}", headers=h).status_code == 204
    assert client.get(f"/api/contacts/{made['id']}", headers=h).status_code == 404


def test_groups_gain_and_lose_members_all_or_nothing(
    client: TestClient[Litestar], api: Headers
) -> None:
    h = api(Role.OPERATOR)
    ids = [client.post("/api/contacts", json={"first_name": n}, headers=h).json()["id"]
           for n in ("a", "b", "c")]
    assert client.post("/api/groups", json={"name": "Quartier nord"}, headers=h).status_code == 201
    assert client.post("/api/groups", json={"name": "Quartier nord"}, headers=h).status_code == 400
    refused = client.post("/api/groups/Quartier nord/members",
                          json={"contact_ids": [ids[0], 99999]}, headers=h)
    assert refused.status_code == 404
    assert client.get("/api/groups/Quartier nord", headers=h).json()["members"] == 0
    added = client.post("/api/groups/Quartier nord/members", json={"contact_ids": ids}, headers=h)
    assert added.json() == {"count": 3}
    members = client.get("/api/groups/Quartier nord/members", params={"limit": 2}, headers=h).json()
    assert members == {"items": ids[:2], "total": 3, "limit": 2, "offset": 0}
    removed = client.post("/api/groups/Quartier nord/members/remove",
                          json={"contact_ids": [ids[0]]}, headers=h)
    assert removed.json() == {"count": 1}
    listed = client.get("/api/groups", headers=h).json()
    assert [(g["group"]["name"], g["members"]) for g in listed] == [("Quartier nord", 2)]


CSV_OK = (
    "prénom;nom;portable;courriel\n"
    "Anne;Dupont;06 11 22 33 44;anne@example.org\nLuc;Morel;;luc@example.org\n"
)
CSV_BAD = "prénom;nom;portable\nAnne;Dupont;06 11 22 33 44\nLuc;Morel;not a number\n"


def test_an_import_runs_as_an_operation_and_fills_the_group(
    client: TestClient[Litestar], runtime: Runtime, api: Headers
) -> None:
    h = api(Role.OPERATOR)
    client.post("/api/groups", json={"name": "Imported"}, headers=h)
    started = client.post("/api/contacts/import", headers=h,
                          files={"file": ("people.csv", CSV_OK.encode(), "text/csv")},
                          data={"group": "Imported"})
    assert started.status_code == 202, started.text
    op = wait_operation(client, started.json()["url"], h)
    assert op["state"] == "done", op
    assert op["result"]["created"] == 2
    assert runtime.store.groups.list()[0][1] == 2


def test_a_refused_import_lists_every_bad_cell_and_imports_nothing(
    client: TestClient[Litestar], runtime: Runtime, api: Headers
) -> None:
    h = api(Role.OPERATOR)
    started = client.post("/api/contacts/import", headers=h,
                          files={"file": ("people.csv", CSV_BAD.encode(), "text/csv")})
    op = wait_operation(client, started.json()["url"], h)
    assert op["state"] == "failed"
    assert op["result"]["errors"] == [
        {"row": 3, "column": "portable", "message": op["result"]["errors"][0]["message"]}]
    assert "not a number" in op["result"]["errors"][0]["message"]
    assert runtime.store.contacts.count() == 0


def test_an_import_can_be_followed_as_server_sent_events(
    client: TestClient[Litestar], api: Headers
) -> None:
    h = api(Role.OPERATOR)
    started = client.post("/api/contacts/import", headers=h,
                          files={"file": ("people.csv", CSV_OK.encode(), "text/csv")}).json()
    with client.stream("GET", started["events_url"], headers=h) as stream:
        text = "".join(stream.iter_text())
    events = [block for block in text.replace("\r\n", "\n").split("\n\n") if block.strip()]
    last = events[-1]
    assert "event: done" in last
    data = json.loads(next(line[6:] for line in last.splitlines() if line.startswith("data: ")))
    assert data["result"]["rows"] == 2


def test_another_users_operation_is_not_shown(client: TestClient[Litestar], api: Headers) -> None:
    started = client.post("/api/contacts/import", headers=api(Role.OPERATOR),
                          files={"file": ("people.csv", CSV_OK.encode(), "text/csv")}).json()
    assert client.get(started["url"], headers=api(Role.AGENT)).status_code == 403
    assert client.get(started["url"], headers=api(Role.ADMINISTRATOR)).status_code == 200


def test_an_import_of_an_unsupported_file_is_refused_at_once(
    client: TestClient[Litestar], api: Headers
) -> None:
    answer = client.post("/api/contacts/import", headers=api(Role.OPERATOR),
                         files={"file": ("people.pdf", b"%PDF", "application/pdf")})
    assert answer.status_code == 400
    assert "people.pdf" in answer.json()["detail"]


def test_an_operation_whose_process_stopped_is_reported_failed(
    client: TestClient[Litestar], runtime: Runtime, api: Headers
) -> None:
    from tocsin.clock import FakeClock
    from tocsin.plugins.server.operations import STALE_SECONDS, Operations

    clock = runtime.clock
    assert isinstance(clock, FakeClock)
    users = client.get("/api/me", headers=api(Role.OPERATOR)).json()
    orphan = Operations(runtime.store.engine, clock).create("contacts-import", users["user"]["id"])
    url = f"/api/operations/{orphan.id}"
    assert client.get(url, headers=api(Role.OPERATOR)).json()["state"] == "running"
    clock.advance(seconds=STALE_SECONDS + 1)
    op = client.get(url, headers=api(Role.OPERATOR)).json()
    assert op["state"] == "failed"
    assert op["error"].startswith("interrupted")
