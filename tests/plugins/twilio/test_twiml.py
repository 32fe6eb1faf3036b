"""The call's TwiML and the script carried in its URL."""

from __future__ import annotations

from xml.etree import ElementTree as ET

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tocsin.errors import ValidationError
from tocsin.plugins.twilio.twiml import (
    CallScript,
    call_twiml,
    parse_query,
    say_language,
    script_query,
    thanks_twiml,
    voicemail_twiml,
)


@given(
    text=st.text(st.characters(blacklist_categories=["Cs", "Cc"]), min_size=1, max_size=200)
    .filter(str.strip),
    repeat=st.integers(1, 10),
    confirm=st.booleans(),
    attempt=st.none() | st.integers(0, 10**9),
)
def test_a_script_survives_its_url_and_its_twiml(
    text: str, repeat: int, confirm: bool, attempt: int | None
) -> None:
    script = CallScript(attempt, text, "fr-FR", repeat, confirm)
    assert parse_query(script_query(script)) == script
    root = ET.fromstring(call_twiml(script, gather_url="http://127.0.0.1/g"))
    says = [s.text for s in root.iter("Say")]
    assert says.count(text) == repeat
    assert (root.find("Gather") is not None) == confirm


def test_languages_follow_the_contact() -> None:
    assert say_language("fr", "en-US") == "fr-FR"
    assert say_language("pt_br", "en-US") == "pt-BR"
    assert say_language("", "en-GB") == "en-GB"
    assert say_language("xx", "en-GB") == "en-GB"


def test_voicemail_and_thanks_hang_up() -> None:
    script = CallScript(1, "Bonjour", "fr-FR", 2, True)
    assert voicemail_twiml(script).count("<Say") == 1
    assert "Merci" in thanks_twiml(script) and thanks_twiml(script).endswith("<Hangup /></Response>")


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({}, "no 'text'"),
        ({"text": "x", "attempt": "a"}, "'attempt'"),
        ({"text": "x", "repeat": "0"}, "'repeat'"),
    ],
)
def test_a_bad_twiml_query_is_refused(query: dict[str, str], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        parse_query(query)
