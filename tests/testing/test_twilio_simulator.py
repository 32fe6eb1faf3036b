"""The Twilio simulator speaks the provider's shapes: resources, errors, 429, auth."""

from __future__ import annotations

import httpx2
import pytest

from tocsin.testing.twilio_scenarios import parse_book
from tocsin.testing.twilio_simulator import (
    DEFAULT_ACCOUNT_SID,
    DEFAULT_AUTH_TOKEN,
    TwilioSimulator,
    running_twilio_simulator,
)

pytestmark = pytest.mark.timeout(60)
ROOT = f"/2010-04-01/Accounts/{DEFAULT_ACCOUNT_SID}"
AUTH = (DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN)


def client(base: str, auth: tuple[str, str] | None = AUTH) -> httpx2.AsyncClient:
    return httpx2.AsyncClient(base_url=base, auth=auth, trust_env=False)


async def test_a_message_has_the_providers_json_shape_and_moves_on() -> None:
    async with TwilioSimulator(time_scale=0.001) as sim, client(sim.base_url) as http:
        created = await http.post(f"{ROOT}/Messages.json",
                                  data={"To": "+33612345678", "From": "+33100000001", "Body": "Bonjour"})
        assert created.status_code == 201
        body = created.json()
        assert body["sid"].startswith("SM") and len(body["sid"]) == 34
        assert body["status"] == "queued" and body["direction"] == "outbound-api"
        assert body["uri"] == f"{ROOT}/Messages/{body['sid']}.json"
        assert {"date_created", "num_segments", "error_code", "price_unit", "api_version"} <= set(body)
        await sim.settle()
        fetched = await http.get(f"{ROOT}/Messages/{body['sid']}.json")
        assert fetched.status_code == 200 and fetched.json()["status"] == "delivered"


@pytest.mark.parametrize(
    ("form", "code"),
    [
        ({"From": "+33100000001", "Body": "x"}, 21604),
        ({"To": "0612", "From": "+33100000001", "Body": "x"}, 21211),
        ({"To": "+33612345678", "Body": "x"}, 21603),
        ({"To": "+33612345678", "From": "+33100000001"}, 21602),
        ({"To": "+33612345678", "From": "+33100000001", "Body": "x" * 1601}, 21617),
    ],
)
async def test_invalid_messages_get_the_providers_error_payload(form: dict[str, str], code: int) -> None:
    async with running_twilio_simulator() as base, client(base) as http:
        response = await http.post(f"{ROOT}/Messages.json", data=form)
        assert response.status_code == 400
        payload = response.json()
        assert payload["code"] == code and payload["status"] == 400
        assert payload["more_info"] == f"https://www.twilio.com/docs/errors/{code}"


async def test_wrong_credentials_and_unknown_resources() -> None:
    async with running_twilio_simulator() as base:
        async with client(base, (DEFAULT_ACCOUNT_SID, "wrong")) as http:
            response = await http.get(f"{ROOT}.json")
            assert response.status_code == 401 and response.json()["code"] == 20003
        async with client(base) as http:
            assert (await http.get(f"{ROOT}.json")).json()["sid"] == DEFAULT_ACCOUNT_SID
            missing = await http.get(f"{ROOT}/Calls/CA{'0' * 32}.json")
            assert missing.status_code == 404 and missing.json()["code"] == 20404


async def test_an_account_sending_faster_than_its_rate_gets_429_with_retry_after() -> None:
    async with TwilioSimulator(rate_limit=5, callbacks_enabled=False) as sim, client(sim.base_url) as http:
        form = {"To": "+33612345678", "From": "+33100000001", "Body": "x"}
        answers = [await http.post(f"{ROOT}/Messages.json", data=form) for _ in range(20)]
        codes = [a.status_code for a in answers]
        assert codes.count(201) >= 5 and 429 in codes
        limited = answers[codes.index(429)]
        assert limited.headers["retry-after"] == "1" and limited.json()["code"] == 20429
        assert sim.throttled == codes.count(429)


async def test_a_call_needs_to_from_and_a_url() -> None:
    async with running_twilio_simulator() as base, client(base) as http:
        for form, code in (({"From": "+33100000001", "Url": "http://127.0.0.1/x"}, 21201),
                           ({"To": "+33612345678", "Url": "http://127.0.0.1/x"}, 21213),
                           ({"To": "+33612345678", "From": "+33100000001", "Url": "nope"}, 21205)):
            response = await http.post(f"{ROOT}/Calls.json", data=form)
            assert (response.status_code, response.json()["code"]) == (400, code)


async def test_a_call_whose_twiml_cannot_be_fetched_still_ends_and_reports() -> None:
    book = parse_book({"call": {"default": "answer"}})
    async with TwilioSimulator(scenarios=book, time_scale=0.001) as sim, client(sim.base_url) as http:
        created = await http.post(f"{ROOT}/Calls.json", data={
            "To": "+33612345678", "From": "+33100000001", "Url": "http://127.0.0.1:9/twiml",
            "StatusCallback": "http://127.0.0.1:9/status"})
        assert created.status_code == 201 and created.json()["status"] == "queued"
        await sim.settle()
        call = sim.calls[created.json()["sid"]]
        assert call.status == "completed" and call.twiml_fetches == 1 and call.spoken == []
        # the completed callback was attempted even though nobody listened
        assert [c.values["CallStatus"] for c in sim.callbacks if c.kind == "call-status"] == ["completed"]
