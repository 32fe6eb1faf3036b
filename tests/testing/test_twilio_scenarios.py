"""Scenarios per number: parsing, defaults, first matching pattern wins, clear errors."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tocsin.testing.twilio_scenarios import (
    CALL_OUTCOMES,
    FLAGS,
    SMS_OUTCOMES,
    Scenario,
    parse_book,
    parse_scenario,
)


@given(outcome=st.sampled_from(sorted(SMS_OUTCOMES - {"undelivered", "failed"})),
       flags=st.sets(st.sampled_from(sorted(FLAGS))))
def test_a_written_scenario_parses_back(outcome: str, flags: set[str]) -> None:
    text = "+".join([outcome, *sorted(flags)])
    assert parse_scenario(text, "sms") == Scenario(outcome, "", frozenset(flags))


def test_arguments_have_defaults() -> None:
    assert parse_scenario("undelivered", "sms").argument == "30003"
    assert parse_scenario("press", "call").argument == "1"
    assert parse_scenario("throttled:3", "sms").count == 3


@pytest.mark.parametrize(
    ("text", "means", "message"),
    [
        ("ringing", "sms", "unknown outcome 'ringing'"),
        ("press:12", "call", "press takes one digit"),
        ("undelivered:abc", "sms", "undelivered takes a number"),
        ("delivered+loud", "sms", "unknown flag(s) ['loud']"),
        ("busy", "sms", "unknown outcome 'busy'"),
    ],
)
def test_a_bad_scenario_is_refused_naming_it(text: str, means: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_scenario(text, means)


def test_the_first_matching_pattern_wins_then_the_default() -> None:
    book = parse_book({
        "sms": {"+33611*": "undelivered:30005", "+3361*": "failed", "default": "silent"},
        "call": {"+3362*": "busy"},
        "flags": ["duplicates"],
    })
    assert book.for_number("sms", "+33611000000").outcome == "undelivered"
    assert book.for_number("sms", "+33612000000").outcome == "failed"
    assert book.for_number("sms", "+33700000000") == Scenario("silent", "", frozenset({"duplicates"}))
    assert book.for_number("call", "+33620000000").duplicates
    assert book.for_number("call", "+33700000000").outcome == "answer"
    assert set(CALL_OUTCOMES) >= {"press", "voicemail", "fax"}


def test_a_bad_book_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown key"):
        parse_book({"mms": {}})
    with pytest.raises(ValueError, match=r"scenarios\.flags"):
        parse_book({"flags": ["sometimes"]})


def test_the_demo_book_covers_every_outcome_by_last_digit() -> None:
    from tocsin.testing.twilio_scenarios import demo_book

    book = demo_book()
    sms = {book.for_number("sms", f"+3361234567{d}").outcome for d in range(10)}
    calls = {book.for_number("call", f"+3361234567{d}").outcome for d in range(10)}
    assert sms == {"delivered", "undelivered", "failed", "silent"}
    assert calls == {"press", "busy", "no-answer", "voicemail", "answer", "fax"}
