"""Channel configuration is refused at build time with an error naming the key."""

from __future__ import annotations

from typing import Any

import pytest

from tocsin.channel import ChannelSettings
from tocsin.errors import ConfigError
from tocsin.plugins.twilio import sms, voice
from tocsin.plugins.twilio.settings import parse_settings

GOOD = {"type": "twilio-sms", "account_sid": "AC1", "auth_token": "t", "from": "+33 1 00 00 00 01"}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"account_sid": ""}, "account_sid: required"),
        ({"auth_token": ""}, "auth_token: required"),
        ({"from": []}, "from: required"),
        ({"from": "+33 12"}, "from: '+33 12' is not a phone number"),
        ({"rate": -1}, "rate: expected a positive number"),
        ({"rate": "fast"}, "rate: expected a positive number"),
        ({"concurrency": 0}, "concurrency: expected an integer >= 1"),
        ({"api_base_url": "ftp://x"}, "api_base_url: 'ftp://x' is not an http(s) URL"),
        ({"api_key": "SK1"}, "api_secret: api_key and api_secret go together"),
        ({"colour": "blue"}, "unknown key(s) ['colour']"),
    ],
)
def test_bad_configuration_is_refused_naming_the_key(change: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_settings("alerts", {**GOOD, **change}, base_url="http://127.0.0.1:8000")
    assert "channels.alerts" in str(info.value)
    assert message in str(info.value)


def test_senders_are_normalised_and_the_secret_is_not_in_repr() -> None:
    parsed = parse_settings("alerts", {**GOOD, "from": ["+33 1 00 00 00 01", "TOCSIN"]},
                            base_url="http://127.0.0.1:8000/")
    assert parsed.senders == ("+33100000001", "TOCSIN")
    assert "t'" not in repr(parsed).replace("type", "") and "auth_token" not in repr(parsed)
    assert parsed.webhook_url("status") == "http://127.0.0.1:8000/webhooks/twilio/alerts/status"


def test_declared_limits_follow_the_rate_per_sender() -> None:
    options = {**GOOD, "from": ["+33100000001", "+33100000002"], "rate": 1, "concurrency": 4}
    channel = sms.build(ChannelSettings("alerts", "twilio-sms", options, base_url="http://127.0.0.1:8000"))
    assert (channel.limits.rate, channel.limits.concurrency, channel.limits.message_size) == (2.0, 4, 1600)
    assert channel.capabilities.delivery_reports
    unlimited = voice.build(
        ChannelSettings("calls", "twilio-voice", {**options, "rate": 0}, base_url="http://127.0.0.1:8000")
    )
    assert unlimited.limits.rate is None and unlimited.means == "call"
    assert unlimited.capabilities.dtmf_confirmation and unlimited.capabilities.voicemail_detection
