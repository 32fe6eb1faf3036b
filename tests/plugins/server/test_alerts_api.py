"""``/api/alerts`` on a real engine: create, send (an operation), statuses from the provider's
callbacks, the alert's events, recontact once the reminders are done, cancel."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from typing import Any

import httpx2

from tocsin.model import Role
from tocsin.runtime import Runtime

from .conftest import LiveServer, Simulator, add_user, token_for

ALERT = {"title": "Alerte crue", "messages": [{"means": "sms", "text": "Crue: évacuez, {{ first_name }}."}],
         "reminder_offsets_seconds": [1, 2]}


def until(check: Callable[[], Any], timeout: float = 30, what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := check():
            return result
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_an_alert_is_sent_through_the_provider_and_its_counts_follow_the_callbacks(
    sending: tuple[Runtime, LiveServer, Simulator],
) -> None:
    runtime, live, sim = sending
    operator = add_user(runtime, "op", Role.OPERATOR)
    h = {"authorization": f"Bearer {token_for(runtime, operator)}"}
    with httpx2.Client(base_url=live.url, headers=h, timeout=10) as api:
        bad = api.post("/api/alerts", json={**ALERT, "messages": [{"means": "fax", "text": "x"}]})
        assert bad.status_code == 400, bad.text
        draft = api.post("/api/alerts", json=ALERT)
        assert draft.status_code == 201, draft.text
        alert_id = draft.json()["id"]
        assert draft.json()["state"] == "draft"
        empty = api.post(f"/api/alerts/{alert_id}/send", json={})
        assert empty.status_code == 400
        started = api.post(f"/api/alerts/{alert_id}/send", json={"groups": ["Centre"]})
        assert started.status_code == 202, started.text
        op = until(lambda: (o := api.get(started.json()["url"]).json())["state"] != "running" and o,
                   what="the send operation")
        assert op["state"] == "done", op
        assert op["result"]["alert_id"] == alert_id

        def settled() -> dict[str, Any] | None:
            status = api.get(f"/api/alerts/{alert_id}/status").json()
            counts = status["counts"]
            # the audience is recorded by the fan-out's first page, with its attempts: until
            # then the alert counts nobody, and nobody is in progress either
            return status if counts["total"] > 0 and counts["in_progress"] == 0 else None

        status = until(settled, what="every SMS to reach a final status")
        assert status["counts"] == {"contacted": 2, "in_progress": 0, "not_contacted": 2,
                                    "total": 4}
        assert status["statuses"]["sms"] == {"received": 2, "undelivered": 1, "failed": 1}
        texts = sorted(m.body for m in sim.sim.messages.values())
        assert texts[0] == "Crue: évacuez, Anne."

        attempts = api.get(f"/api/alerts/{alert_id}/attempts", params={"status": "received"})
        assert attempts.json()["total"] == 2
        detail = api.get(f"/api/attempts/{attempts.json()['items'][0]['id']}").json()
        assert [e["status"] for e in detail["events"]][-1] == "received"

        def reminders_played() -> dict[str, Any] | None:
            s = api.get(f"/api/alerts/{alert_id}/status").json()
            # the reminders are sent and have reached a final status: the recontact will
            # target exactly the contacts still not contacted
            done = s["recontact_refusal"] is None and s["counts"]["in_progress"] == 0
            return s if done else None

        status = until(reminders_played, what="the reminders to be sent and settled")
        assert status["counts"]["not_contacted"] == 2
        before = len(sim.sim.messages)
        recontact = api.post(f"/api/alerts/{alert_id}/recontact")
        assert recontact.status_code == 201, recontact.text
        assert recontact.json()["requested_by"] == operator.id
        until(lambda: len(sim.sim.messages) >= before + 2, what="the recontact's SMS")

        with api.stream("GET", f"/api/alerts/{alert_id}/events") as stream:
            first = next(line for line in stream.iter_lines() if line.startswith("data: "))
        assert json.loads(first[6:])["alert"]["id"] == alert_id

        cancelled = api.post(f"/api/alerts/{alert_id}/cancel")
        assert cancelled.status_code == 200, cancelled.text
        assert cancelled.json()["state"] == "cancelled"
        again = api.post(f"/api/alerts/{alert_id}/cancel")
        assert again.status_code == 400


def test_an_agent_may_read_alerts_but_not_send_them(
    sending: tuple[Runtime, LiveServer, Simulator],
) -> None:
    runtime, live, _ = sending
    agent = add_user(runtime, "agent", Role.AGENT)
    with httpx2.Client(base_url=live.url, timeout=10,
                      headers={"authorization": f"Bearer {token_for(runtime, agent)}"}) as api:
        assert api.get("/api/alerts").status_code == 200
        assert api.post("/api/alerts", json=ALERT).status_code == 403


def test_a_verification_is_resent_to_an_unverified_number_through_the_engines_channel(
    sending: tuple[Runtime, LiveServer, Simulator],
) -> None:
    runtime, live, sim = sending
    operator = add_user(runtime, "op", Role.OPERATOR)
    h = {"authorization": f"Bearer {token_for(runtime, operator)}"}
    contact = runtime.store.contacts.page(search="Anne")[0]
    with httpx2.Client(base_url=live.url, headers=h, timeout=10) as api:
        page = api.get("/contacts", params={"search": "Anne"}, headers={"accept": "text/html"})
        found = re.search(rf'/contacts/{contact.id}/means/(\d+)/verify', page.text)
        assert found, "the contacts page offers to resend the verification"
        means_id = int(found.group(1))
        other = api.post(f"/api/contacts/{contact.id + 1}/means/{means_id}/verify")
        assert other.status_code == 404
        sent = api.post(f"/api/contacts/{contact.id}/means/{means_id}/verify")
        assert sent.status_code == 201, sent.text
        assert sent.json()["via"] == "sms"
        assert sent.json()["address"] == contact.means[0].value
        until(lambda: any(m.to == contact.means[0].value for m in sim.sim.messages.values()),
              what="the verification SMS at the provider")
        back = api.post(f"/contacts/{contact.id}/means/{means_id}/verify",
                        data={"back": "/contacts?search=Anne"}, follow_redirects=False,
                        headers={"accept": "text/html", "accept-language": "en"})
        assert back.status_code == 303
        assert "Verification%20sent" in back.headers["location"]


def test_an_alert_sent_from_the_dashboard_in_a_campaign_needs_the_campaigns_modify_right(
    sending: tuple[Runtime, LiveServer, Simulator],
) -> None:
    from tocsin.model import Campaign
    from tocsin.plugins.server import accounts, campaigns

    runtime, live, _ = sending
    operator = add_user(runtime, "op", Role.OPERATOR)
    campaign = campaigns.create(runtime.store.engine, Campaign("Crues 2026"), runtime.clock.now())
    form = {"title": "Crue de la Loire", "use_sms": "on", "sms_text": "Crue, {{ first_name }}.",
            "groups": "Centre", "reminders": "", "campaign_id": str(campaign.id)}
    h = {"authorization": f"Bearer {token_for(runtime, operator)}", "accept": "text/html",
         "accept-language": "en"}
    with httpx2.Client(base_url=live.url, headers=h, timeout=10) as web:
        refused = web.post("/alerts/new", data=form, follow_redirects=False)
        assert refused.status_code == 400
        assert "you may not modify this campaign" in refused.text
        assert runtime.store.alerts.page() == []
        accounts.set_campaign_rights(runtime.store.engine, int(operator.id or 0),
                                     [accounts.CampaignRight(int(campaign.id or 0), True, False)])
        sent = web.post("/alerts/new", data=form, follow_redirects=False)
        assert sent.status_code == 303, sent.text
        (alert,) = runtime.store.alerts.page()
        assert alert.campaign_id == campaign.id
        assert sent.headers["location"] == f"/alerts/{alert.id}"
        assert "Crues 2026" in web.get("/").text


def test_an_alert_is_cancelled_from_its_page(
    sending: tuple[Runtime, LiveServer, Simulator],
) -> None:
    runtime, live, _ = sending
    operator = add_user(runtime, "op", Role.OPERATOR)
    h = {"authorization": f"Bearer {token_for(runtime, operator)}", "accept": "text/html",
         "accept-language": "en"}
    with httpx2.Client(base_url=live.url, headers=h, timeout=10) as web:
        sent = web.post("/alerts/new", follow_redirects=False, data={
            "title": "Exercice", "use_sms": "on", "sms_text": "Exercice.", "groups": "Centre"})
        assert sent.status_code == 303, sent.text
        page = web.get(sent.headers["location"])
        assert "Cancel the alert" in page.text
        cancelled = web.post(sent.headers["location"] + "/cancel", follow_redirects=False)
        assert cancelled.status_code == 303
        assert "cancelled" in cancelled.headers["location"]
        (alert,) = runtime.store.alerts.page()
        assert alert.state == "cancelled"
        assert "Cancel the alert" not in web.get(sent.headers["location"]).text
