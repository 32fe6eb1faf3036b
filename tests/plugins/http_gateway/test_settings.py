"""The ready configurations parse; a bad section is refused naming the key."""

from __future__ import annotations

from typing import Any

import pytest

from tocsin.config import build_config
from tocsin.errors import ConfigError
from tocsin.plugins.http_gateway.settings import parse_settings

from .conftest import contrib_sections, secrets_in_env

BASE = "http://127.0.0.1:8000"
GOOD = {"type": "http-sms", "url": "http://127.0.0.1:13013/send", "params": {"to": "{to}", "text": "{text}"}}


@pytest.mark.parametrize("name", ["kannel", "jasmin", "playsms"])
def test_each_contrib_configuration_is_valid(name: str) -> None:
    with secrets_in_env():
        config = build_config({"channels": contrib_sections()})
    parsed = parse_settings(name, config.channels[name], base_url=BASE)
    assert parsed.name == name
    assert (parsed.dlr is not None) == (name != "playsms")
    assert "password" not in repr(parsed) and "dlr_secret" not in repr(parsed)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"url": "ftp://gw"}, "url: expected the gateway's http(s) send URL"),
        ({"method": "PUT"}, "method: expected GET or POST"),
        ({"params": {"to": "{to}"}}, "must use {to} (or {to_digits}) and {text}"),
        ({"params": {"to": "{to}", "text": "{txt}"}}, "unknown placeholder(s) ['txt']"),
        ({"params": {"to": "{to", "text": "{text}"}}, "is not a valid template"),
        ({"accepted_status": [404]}, "accepted_status: expected a list of 2xx"),
        ({"accepted_pattern": "("}, "accepted_pattern: not a regular expression"),
        ({"message_id": "xpath://id"}, "message_id: expected ref, body"),
        ({"message_id": "regex:("}, "message_id: not a regular expression"),
        ({"params": {"to": "{to}", "text": "{text}", "u": "{dlr_url}"}}, "dlr_secret: a {dlr_url} needs"),
        (
            {"dlr": {"status_param": "s", "statuses": {"1": "delivered"}}},
            "['delivered'] are not SMS statuses",
        ),
        ({"dlr": {"statuses": {"1": "received"}}}, "dlr.status_param: required"),
        ({"concurrency": 0}, "concurrency: expected an integer >= 1"),
        ({"colour": 1}, "unknown key(s) ['colour']"),
    ],
)
def test_bad_configuration_is_refused_naming_the_key(change: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_settings("gw", {**GOOD, **change}, base_url=BASE)
    assert "channels.gw" in str(info.value) and message in str(info.value)


def test_the_simulator_demo_configuration_is_valid() -> None:
    import tomllib

    from .conftest import CONTRIB

    data = tomllib.loads((CONTRIB.parent / "simulator" / "tocsin-cloud-demo.toml").read_text())
    config = build_config(data)
    from tocsin.plugins.twilio.settings import parse_settings as twilio_settings

    for name in ("cloud-sms", "cloud-calls"):
        assert twilio_settings(name, config.channels[name], base_url=config.core.base_url).name == name
    assert parse_settings("gateway-sms", config.channels["gateway-sms"], base_url=BASE).dlr is not None
