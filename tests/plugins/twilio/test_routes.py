"""Webhook security: forged, altered and replayed callbacks are refused with 403 and
change nothing; genuine ones are applied exactly once. The routes run in a real
Litestar application under uvicorn on loopback, signed by the simulator's signer."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import httpx2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from litestar import Litestar

from tocsin import builtin_statuses
from tocsin.config import build_config
from tocsin.plugins import twilio as twilio_plugin
from tocsin.plugins.twilio.routes import build_router
from tocsin.plugins.twilio.statuses import CALL_STATUSES, SMS_STATUSES
from tocsin.runtime import Runtime
from tocsin.testing.http_server import ServerThread, bind_loopback, url_of
from tocsin.testing.twilio_resources import sign

from .conftest import RecordingSink

SID = "AC" + "1" * 32
TOKEN = "webhook-test-token"


class Hooks:
    def __init__(self, url: str, sink: RecordingSink, client: httpx2.Client, runtime: Runtime) -> None:
        self.url, self.sink, self.client, self.runtime = url, sink, client, runtime

    def post(self, path: str, params: list[tuple[str, str]], *, signature: str | None = None,
             token: str | None = None, sign_url: str | None = None,
             sign_params: list[tuple[str, str]] | None = None, auth_token: str = TOKEN) -> httpx2.Response:
        url = f"{self.url}{path}"
        headers = {"Content-Type": "application/x-www-form-urlencoded",
                   "I-Twilio-Idempotency-Token": token or uuid.uuid4().hex}
        if signature is None:
            signature = sign(auth_token, sign_url or url, sign_params if sign_params is not None else params)
        if signature:
            headers["X-Twilio-Signature"] = signature
        return self.client.post(url, content=urlencode(params), headers=headers)


@pytest.fixture(scope="module")
def hooks(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hooks]:
    sock = bind_loopback()
    base = url_of(sock)
    common = {"account_sid": SID, "auth_token": TOKEN, "from": "+33100000001"}
    config = build_config({
        "tocsin": {"data_dir": str(tmp_path_factory.mktemp("hooks")), "base_url": base},
        "channels": {"sms": {"type": "twilio-sms", **common}, "voice": {"type": "twilio-voice", **common}},
    })
    runtime = Runtime.open(config, entry_points=False,
                           plugins=[("core-statuses", builtin_statuses), ("twilio", twilio_plugin)])
    sink = RecordingSink()
    runtime.sink = sink
    app = Litestar(route_handlers=[build_router(runtime)], openapi_config=None)
    with ServerThread(app, sock=sock), httpx2.Client(trust_env=False, timeout=10) as client:
        yield Hooks(base, sink, client, runtime)
    runtime.close()


def sms_params(sid: str, status: str, error: str = "") -> list[tuple[str, str]]:
    params = [("AccountSid", SID), ("MessageSid", sid), ("MessageStatus", status), ("SmsSid", sid),
              ("SmsStatus", status), ("To", "+33612345678"), ("From", "+33100000001"),
              ("ApiVersion", "2010-04-01")]
    return params + ([("ErrorCode", error)] if error else [])


sids = st.text("0123456789abcdef", min_size=32, max_size=32).map(lambda h: "SM" + h)
statuses = st.sampled_from(sorted(SMS_STATUSES))
printable = st.text(st.characters(min_codepoint=32, max_codepoint=0x2FF), max_size=30)


@settings(max_examples=40)
@given(sid=sids, status=statuses, error=st.sampled_from(["", "30003", "30007"]))
def test_a_genuine_callback_is_applied_once_and_its_replay_refused(
    hooks: Hooks, sid: str, status: str, error: str
) -> None:
    params = sms_params(sid, status, error)
    token = uuid.uuid4().hex
    before = len(hooks.sink.events)
    first = hooks.post("/webhooks/twilio/sms/status", params, token=token)
    assert first.status_code == 204
    assert len(hooks.sink.events) == before + 1
    event = hooks.sink.events[-1]
    assert (event.channel, event.provider_ref, event.status) == ("sms", sid, SMS_STATUSES[status])
    replay = hooks.post("/webhooks/twilio/sms/status", params, token=token)
    assert replay.status_code == 403
    assert len(hooks.sink.events) == before + 1


def _forgery(draw: st.DrawFn, params: list[tuple[str, str]], url: str) -> dict[str, Any]:
    kind = draw(st.sampled_from(
        ["random-signature", "no-signature", "altered-value", "added-param", "removed-param",
         "other-url", "other-token", "other-account"]))
    if kind == "random-signature":
        return {"signature": draw(st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=1))}
    if kind == "no-signature":
        return {"signature": ""}
    if kind == "altered-value":
        index = draw(st.integers(0, len(params) - 1))
        name, value = params[index]
        new = draw(printable.filter(lambda v, old=value: v != old))
        return {"send_params": [*params[:index], (name, new), *params[index + 1:]]}
    if kind == "added-param":
        return {"send_params": [*params, ("X" + draw(st.text("abcdef", min_size=1, max_size=5)), "1")]}
    if kind == "removed-param":
        index = draw(st.integers(0, len(params) - 1))
        return {"send_params": params[:index] + params[index + 1:]}
    if kind == "other-url":
        extra = draw(st.sampled_from(["/", "&x=1" if "?" in url else "?x=1", "s", "#"]))
        return {"sign_url": url + extra}
    if kind == "other-token":
        return {"auth_token": draw(printable.filter(lambda t: t != TOKEN))}
    return {"send_params": [(k, "AC" + "2" * 32 if k == "AccountSid" else v) for k, v in params],
            "resign": True}


GATHER_PATH = "/webhooks/twilio/voice/gather?" + urlencode(
    {"lang": "fr-FR", "repeat": "2", "confirm": "1", "attempt": "42", "text": "Alerte."}
)


def call_params(sid: str, status: str) -> list[tuple[str, str]]:
    return [("AccountSid", SID), ("CallSid", sid), ("CallStatus", status), ("To", "+33612345678"),
            ("From", "+33100000001"), ("Direction", "outbound-api")]


@st.composite
def forged_requests(draw: st.DrawFn) -> tuple[str, list[tuple[str, str]], dict[str, Any]]:
    path = draw(st.sampled_from(["/webhooks/twilio/sms/status", "/webhooks/twilio/voice/status",
                                 GATHER_PATH, "/webhooks/twilio/sms/inbound"]))
    if path.endswith("sms/inbound"):
        params = [("AccountSid", SID), ("From", "+33612345678"), ("To", "+33100000001"),
                  ("Body", draw(printable)), ("MessageSid", draw(sids))]
    elif path.endswith("sms/status"):
        params = sms_params(draw(sids), draw(statuses))
    elif path.endswith("voice/status"):
        params = call_params("CA" + draw(sids)[2:], draw(st.sampled_from(sorted(CALL_STATUSES))))
    else:
        params = [*call_params("CA" + draw(sids)[2:], "in-progress"), ("Digits", "1")]
    return path, params, _forgery(draw, params, path)


@settings(max_examples=80)
@given(forged=forged_requests())
def test_a_forged_or_altered_callback_is_refused_and_changes_nothing(
    hooks: Hooks, forged: tuple[str, list[tuple[str, str]], dict[str, Any]]
) -> None:
    path, params, how = forged
    before = len(hooks.sink.events), len(hooks.sink.messages)
    send = how.get("send_params", params)
    sign_url = f"{hooks.url}{how['sign_url']}" if "sign_url" in how else None
    response = hooks.post(
        path, send, signature=how.get("signature"), sign_url=sign_url,
        sign_params=send if how.get("resign") else params, auth_token=how.get("auth_token", TOKEN),
    )
    assert response.status_code == 403
    assert (len(hooks.sink.events), len(hooks.sink.messages)) == before


def _voice_url(hooks: Hooks, kind: str) -> str:
    query = urlencode({"lang": "fr-FR", "repeat": "2", "confirm": "1", "attempt": "42",
                       "text": "Alerte. Restez chez vous."})
    return f"/webhooks/twilio/voice/{kind}?{query}"


def test_the_twiml_route_serves_the_gather_to_a_person(hooks: Hooks) -> None:
    path = _voice_url(hooks, "twiml")
    response = hooks.post(path, [("AccountSid", SID), ("CallSid", "CA" + "3" * 32), ("AnsweredBy", "human")])
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/xml")
    assert '<Gather input="dtmf" numDigits="1"' in response.text
    assert response.text.count('<Say language="fr-FR">Alerte. Restez chez vous.</Say>') == 2


def test_pressing_1_is_reported_once_as_confirmed(hooks: Hooks) -> None:
    path = _voice_url(hooks, "gather")
    params = [("AccountSid", SID), ("CallSid", "CA" + "4" * 32), ("Digits", "1")]
    before = len(hooks.sink.events)
    token = uuid.uuid4().hex
    response = hooks.post(path, params, token=token)
    assert response.status_code == 200 and "Merci" in response.text
    event = hooks.sink.events[-1]
    assert (event.status, event.attempt_id, event.provider_ref) == ("confirmed", 42, "CA" + "4" * 32)
    assert hooks.post(path, params, token=token).status_code == 403
    assert len(hooks.sink.events) == before + 1


def test_a_forged_digit_is_refused(hooks: Hooks) -> None:
    path = _voice_url(hooks, "gather")
    params = [("AccountSid", SID), ("CallSid", "CA" + "5" * 32), ("Digits", "1")]
    before = len(hooks.sink.events)
    tampered_url = path.replace("attempt=42", "attempt=43")
    assert hooks.post(tampered_url, params, sign_url=f"{hooks.url}{path}").status_code == 403
    assert len(hooks.sink.events) == before


def test_an_unknown_channel_is_404_and_a_wrong_content_type_415(hooks: Hooks) -> None:
    assert hooks.post("/webhooks/twilio/nope/status", sms_params("SM1", "sent")).status_code == 404
    response = hooks.client.post(f"{hooks.url}/webhooks/twilio/sms/status", json={"MessageSid": "SM1"})
    assert response.status_code == 415


def test_without_a_running_sink_the_callback_is_refused_with_503_and_can_be_retried(
    hooks: Hooks, monkeypatch: pytest.MonkeyPatch
) -> None:
    params = sms_params("SM" + "6" * 32, "delivered")
    token = uuid.uuid4().hex
    monkeypatch.setattr(hooks.runtime, "sink", None)
    assert hooks.post("/webhooks/twilio/sms/status", params, token=token).status_code == 503
    monkeypatch.setattr(hooks.runtime, "sink", hooks.sink)
    before = len(hooks.sink.events)
    assert hooks.post("/webhooks/twilio/sms/status", params, token=token).status_code == 204
    assert len(hooks.sink.events) == before + 1
