"""``twilio-sms`` against the simulator: statuses, error meanings, 429, 5xx, duplicates."""

from __future__ import annotations

from pathlib import Path

import pytest

from tocsin.builtin_statuses import SMS
from tocsin.channel import Accepted, PermanentFailure, TemporaryFailure
from tocsin.errors import ConfigError
from tocsin.testing.twilio_simulator import TwilioSimulator

from .conftest import apply, outbound, twilio_env

pytestmark = pytest.mark.timeout(60)


async def test_a_delivered_sms_goes_queued_sent_received(tmp_path: Path) -> None:
    async with twilio_env(tmp_path) as env:
        channel = await env.started("sms")
        result = await channel.send(outbound("+33612345678"))
        assert isinstance(result, Accepted)
        assert result.provider_ref and result.provider_ref.startswith("SM")
        assert result.status == "queued"
        await env.sim.settle()
        events = env.sink.for_ref(result.provider_ref)
        assert [e.status for e in events] == ["sent", "received"]
        assert all(e.channel == "sms" for e in events)
        assert apply(SMS, result.status, events) == ["queued", "sent", "received"]
        record = env.sim.messages[result.provider_ref]
        assert record.body == "Alerte crue: évacuez la zone basse."
        assert record.from_ == "+33100000001"


@pytest.mark.parametrize(
    ("scenario", "final", "reason"),
    [
        ("undelivered:30005", "undelivered", "30005 unknown destination handset"),
        ("undelivered:30006", "undelivered", "30006 landline or unreachable carrier"),
        ("undelivered:30007", "undelivered", "30007 carrier filtered (message flagged as spam)"),
        ("failed:30003", "failed", "30003 unreachable destination handset"),
    ],
)
async def test_a_failed_delivery_keeps_the_error_meaning_as_reason(
    tmp_path: Path, scenario: str, final: str, reason: str
) -> None:
    async with twilio_env(tmp_path, {"sms": {"+3361*": scenario}}) as env:
        channel = await env.started("sms")
        result = await channel.send(outbound("+33611111111"))
        assert isinstance(result, Accepted)
        await env.sim.settle()
        events = env.sink.for_ref(result.provider_ref)
        assert apply(SMS, result.status, events)[-1] == final
        assert events[-1].reason == reason
        assert events[-1].data["ErrorCode"] == reason.split()[0]


async def test_an_invalid_number_is_a_permanent_failure_with_the_api_reason(tmp_path: Path) -> None:
    async with twilio_env(tmp_path, {"sms": {"+3362*": "rejected:21614"}}) as env:
        channel = await env.started("sms")
        result = await channel.send(outbound("+33622222222"))
        assert isinstance(result, PermanentFailure)
        assert result.code == "21614"
        assert result.reason.startswith("21614 the 'To' number is not a mobile number")
        assert not env.sim.messages


async def test_429_is_a_temporary_failure_with_the_retry_after(tmp_path: Path) -> None:
    async with twilio_env(tmp_path, {"sms": {"+3363*": "throttled:1"}}) as env:
        channel = await env.started("sms")
        first = await channel.send(outbound("+33633333333"))
        assert isinstance(first, TemporaryFailure)
        assert first.retry_after == 1.0 and first.code == "20429"
        second = await channel.send(outbound("+33633333333"))
        assert isinstance(second, Accepted)


async def test_5xx_is_retried_with_backoff_then_accepted(tmp_path: Path) -> None:
    async with twilio_env(tmp_path, {"sms": {"+3364*": "server-error:2"}}, retries=2) as env:
        channel = await env.started("sms")
        result = await channel.send(outbound("+33644444444"))
        assert isinstance(result, Accepted)
        assert env.sim.creates == 3


async def test_5xx_beyond_the_retries_is_a_temporary_failure(tmp_path: Path) -> None:
    async with twilio_env(tmp_path, {"sms": {"+3364*": "server-error:9"}}, retries=1) as env:
        channel = await env.started("sms")
        result = await channel.send(outbound("+33644444444"))
        assert isinstance(result, TemporaryFailure)
        assert "HTTP 500" in result.reason and "2 tries" in result.reason
        assert env.sim.creates == 2


async def test_duplicated_and_reordered_callbacks_end_in_the_right_state(tmp_path: Path) -> None:
    async with twilio_env(tmp_path, {"sms": {"default": "delivered+duplicates+reorder"}}) as env:
        channel = await env.started("sms")
        result = await channel.send(outbound("+33655555555"))
        assert isinstance(result, Accepted)
        await env.sim.settle()
        posted = [c for c in env.sim.callbacks if c.values["MessageSid"] == result.provider_ref]
        # delivered arrives before sent; each is delivered twice and the replay is refused
        assert [c.values["MessageStatus"] for c in posted] == ["delivered"] * 2 + ["sent"] * 2
        assert [c.status_code for c in posted] == [204, 403, 204, 403]
        events = env.sink.for_ref(result.provider_ref)
        assert [e.status for e in events] == ["received", "sent"]
        assert apply(SMS, result.status, events) == ["queued", "received"]


async def test_an_empty_or_too_long_body_is_refused_before_any_request(tmp_path: Path) -> None:
    async with twilio_env(tmp_path) as env:
        channel = await env.started("sms")
        empty = await channel.send(outbound("+33612345678", "  "))
        long = await channel.send(outbound("+33612345678", "x" * 1601))
        assert isinstance(empty, PermanentFailure) and empty.code == "21602"
        assert isinstance(long, PermanentFailure) and long.code == "21617"
        assert env.sim.creates == 0


async def test_wrong_credentials_are_refused_at_start(tmp_path: Path) -> None:
    async with twilio_env(tmp_path, token="not-the-token") as env:
        channel = env.build("sms")
        with pytest.raises(ConfigError, match="20003"):
            await channel.start(env.sink)


async def test_health_is_ok_once_started_and_down_when_stopped(tmp_path: Path) -> None:
    async with twilio_env(tmp_path) as env:
        channel = env.build("sms")
        assert channel.health().state == "down"
        await channel.start(env.sink)
        assert channel.health().state == "ok"
        await channel.stop()
        assert channel.health().state == "down"


async def test_a_reply_is_handed_to_the_sink_as_an_inbound_message(tmp_path: Path) -> None:
    async with twilio_env(tmp_path) as env:
        url = f"{env.hooks_url}/webhooks/twilio/sms/inbound"
        assert await env.sim.inbound_sms(url, "+33612345678", "+33100000001", "STOP") == 200
        (message,) = env.sink.messages
        assert (message.means, message.sender, message.text, message.channel) == (
            "sms", "+33612345678", "STOP", "sms")
        assert message.provider_ref and message.provider_ref.startswith("SM")
        # calls have no inbound messages; a forged reply is refused
        voice = f"{env.hooks_url}/webhooks/twilio/voice/inbound"
        assert await env.sim.inbound_sms(voice, "+33612345678", "+33100000001", "1") == 404
        forged = TwilioSimulator(accounts={"AC" + "0" * 31 + "1": "another-token"})
        async with forged:
            assert await forged.inbound_sms(url, "+33612345678", "+33100000001", "STOP") == 403
        assert len(env.sink.messages) == 1
