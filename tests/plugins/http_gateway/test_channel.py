"""``http-sms`` with the ready Kannel, Jasmin and playSMS configurations, against the
gateway simulator: acceptance, message ids, delivery reports and their codes, errors."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx2
import pytest

from tocsin.builtin_statuses import SMS
from tocsin.channel import Accepted, OutboundAttempt, PermanentFailure, RenderedMessage, TemporaryFailure
from tocsin.model import Attempt

from .conftest import apply, gateway_env

pytestmark = pytest.mark.timeout(60)


def outbound(
    address: str, text: str = "Coupure d'eau demain 8h-12h.", attempt_id: int = 1
) -> OutboundAttempt:
    attempt = Attempt(alert_id=1, contact_id=attempt_id, means="sms", address=address, status="",
                      id=attempt_id, channel="gw")
    return OutboundAttempt(attempt, RenderedMessage(text=text))


async def test_kannel_delivered_goes_queued_sent_received(tmp_path: Path) -> None:
    async with gateway_env(tmp_path) as env:
        channel = await env.started("kannel")
        result = await channel.send(outbound("+33612345678"))
        assert isinstance(result, Accepted) and result.status == "queued"
        assert result.provider_ref and result.provider_ref.startswith("1-")
        await env.sim.settle()
        events = env.sink.for_ref(result.provider_ref)
        assert [e.data["code"] for e in events] == ["8", "1"]
        assert apply(SMS, result.status, events) == ["queued", "sent", "received"]
        (message,) = env.sim.messages.values()
        assert (message.to, message.sender, message.text) == ("+33612345678", "+33100000000",
                                                              "Coupure d'eau demain 8h-12h.")
        assert {r.reply for r in env.sim.reports} == {"OK"}


@pytest.mark.parametrize(
    ("scenario", "final", "reason"),
    [("undelivered", "undelivered", "NACK/0x0000000b/Invalid Destination Address"),
     ("failed", "failed", "NACK/0x00000045/Submit failed")],
)
async def test_kannel_failures_keep_the_gateway_answer_as_reason(
    tmp_path: Path, scenario: str, final: str, reason: str
) -> None:
    async with gateway_env(tmp_path, {"sms": {"default": scenario}}) as env:
        channel = await env.started("kannel")
        result = await channel.send(outbound("+33612345678"))
        assert isinstance(result, Accepted)
        await env.sim.settle()
        events = env.sink.for_ref(result.provider_ref)
        assert apply(SMS, result.status, events)[-1] == final
        assert events[-1].reason == reason


async def test_kannel_refusals_are_typed(tmp_path: Path) -> None:
    scenarios = {"sms": {"+3361*": "rejected", "+3362*": "throttled:1", "+3363*": "server-error:9"}}
    async with gateway_env(tmp_path, scenarios, retries=1) as env:
        channel = await env.started("kannel")
        denied = await channel.send(outbound("+33611111111"))
        assert isinstance(denied, PermanentFailure) and "denied" in denied.reason and denied.code == "403"
        throttled = await channel.send(outbound("+33622222222"))
        assert isinstance(throttled, TemporaryFailure) and throttled.retry_after == 1.0
        broken = await channel.send(outbound("+33633333333"))
        assert isinstance(broken, TemporaryFailure) and "HTTP 503" in broken.reason


async def test_a_wrong_password_is_a_permanent_failure_naming_it(tmp_path: Path) -> None:
    async with gateway_env(tmp_path) as env:
        section = dict(env.runtime.config.channels["kannel"])
        section["params"] = {**section["params"], "password": "wrong"}
        from tocsin.channel import ChannelSettings
        from tocsin.plugins.http_gateway.channel import build

        channel = build(ChannelSettings("kannel", "http-sms", section, base_url=env.hooks_url))
        await channel.start(env.sink)
        try:
            result = await channel.send(outbound("+33612345678"))
        finally:
            await channel.stop()
        assert isinstance(result, PermanentFailure) and "Authorization failed" in result.reason


async def test_jasmin_reports_name_its_message_id_and_get_their_ack(tmp_path: Path) -> None:
    async with gateway_env(tmp_path) as env:
        channel = await env.started("jasmin")
        result = await channel.send(outbound("+33612345678"))
        assert isinstance(result, Accepted)
        assert str(uuid.UUID(str(result.provider_ref))) == result.provider_ref
        await env.sim.settle()
        events = env.sink.for_ref(result.provider_ref)
        assert [e.data["code"] for e in events] == ["ESME_ROK", "DELIVRD"]
        assert apply(SMS, result.status, events) == ["queued", "sent", "received"]
        assert {r.reply for r in env.sim.reports} == {"ACK/Jasmin"}


async def test_jasmin_duplicated_reordered_reports_are_applied_once(tmp_path: Path) -> None:
    async with gateway_env(tmp_path, {"sms": {"default": "delivered+duplicates+reorder"}}) as env:
        channel = await env.started("jasmin")
        result = await channel.send(outbound("+33612345678"))
        assert isinstance(result, Accepted)
        await env.sim.settle()
        assert len(env.sim.reports) == 4
        events = env.sink.for_ref(result.provider_ref)
        assert [e.status for e in events] == ["received", "sent"]
        assert apply(SMS, result.status, events) == ["queued", "received"]


async def test_playsms_reads_the_id_from_json_and_has_no_reports(tmp_path: Path) -> None:
    async with gateway_env(tmp_path, {"sms": {"+3369*": "rejected"}}) as env:
        channel = await env.started("playsms")
        assert not channel.capabilities.delivery_reports
        result = await channel.send(outbound("+33612345678"))
        assert isinstance(result, Accepted) and result.status == "queued"
        assert result.provider_ref and len(result.provider_ref) == 8
        refused = await channel.send(outbound("+33699999999"))
        assert isinstance(refused, PermanentFailure) and '"error": "200"' in refused.reason


async def test_a_report_without_the_right_signature_is_refused_and_changes_nothing(tmp_path: Path) -> None:
    async with gateway_env(tmp_path) as env:
        channel = await env.started("kannel")
        result = await channel.send(outbound("+33612345678"))
        assert isinstance(result, Accepted)
        await env.sim.settle()
        before = len(env.sink.events)
        url = f"{env.hooks_url}/webhooks/http-sms/kannel/dlr"
        async with httpx2.AsyncClient(trust_env=False) as client:
            for query in ({"ref": result.provider_ref, "sig": "0" * 32, "type": "2"},
                          {"ref": result.provider_ref, "type": "2"},
                          {"ref": "1-aaaaaaaaaaaa", "sig": "", "type": "1"}):
                response = await client.get(url, params=query)
                assert response.status_code == 403
            assert (await client.get(f"{env.hooks_url}/webhooks/http-sms/nope/dlr")).status_code == 404
        assert len(env.sink.events) == before
