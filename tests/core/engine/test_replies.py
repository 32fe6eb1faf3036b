"""The reply keyword matcher and the ``[inbound]`` section: whole replies only, whatever
the case, the accents and the punctuation around them."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tocsin.builtin_statuses import CALL, SMS
from tocsin.engine.replies import (
    DEFAULT_CONFIRM_KEYWORDS,
    STOP,
    InboundSettings,
    KeywordSet,
    confirmable_states,
    normalise,
    parse_inbound,
    sender_number,
)
from tocsin.errors import ConfigError

DEFAULT = InboundSettings().confirm_keywords

edges = st.text(st.sampled_from(" \t\n.!?,;:…¡¿-—()\"'«»👍🙂*+"), max_size=4)
"""What phone keyboards put around a word: spaces, punctuation, an emoji."""


def _shout(word: str, flips: list[bool]) -> str:
    padded = (flips + [False] * len(word))[: len(word)]
    return "".join(c.upper() if up else c.lower() for c, up in zip(word, padded, strict=True))


@given(keyword=st.sampled_from(DEFAULT_CONFIRM_KEYWORDS), before=edges, after=edges,
       flips=st.lists(st.booleans(), max_size=3))
def test_a_keyword_matches_in_any_case_with_anything_around_it(keyword, before, after, flips):
    assert DEFAULT.matches(before + _shout(keyword, flips) + after)


@given(keyword=st.sampled_from(["OUI", "YES"]), marks=st.lists(st.sampled_from("\u0301\u0300\u0302\u0308"),
                                                                min_size=1, max_size=3))
def test_accents_do_not_matter(keyword, marks):
    marks = marks[: len(keyword) - 1]
    accented = keyword[0] + "".join(
        f"{c}{m}" for c, m in zip(keyword[1 : 1 + len(marks)], marks, strict=True)
    ) + keyword[1 + len(marks) :]
    assert DEFAULT.matches(unicodedata.normalize("NFC", accented))


@given(keyword=st.sampled_from(DEFAULT_CONFIRM_KEYWORDS),
       more=st.text(st.characters(categories=["L", "N"]), min_size=1, max_size=10))
def test_a_reply_that_says_more_than_the_keyword_is_not_one(keyword, more):
    assert not DEFAULT.matches(f"{keyword} {more}")
    assert not DEFAULT.matches(f"{more} {keyword}")


@given(st.text(max_size=30))
def test_normalising_is_idempotent_and_matching_agrees_with_it(text):
    once = normalise(text)
    assert normalise(once) == once
    assert DEFAULT.matches(text) == (once in {"1", "oui", "yes"})
    assert once == once.strip()


@given(st.text(max_size=30))
def test_no_text_is_both_a_confirmation_and_an_opt_out(text):
    assert not (DEFAULT.matches(text) and STOP.matches(text))


def test_examples_from_real_phones():
    for text in ("1", " 1 ", "1.", "1️⃣", "Oui", "OUI !", "oui.", "ouí", "Yes!!", "«oui»", "yes 👍"):
        assert DEFAULT.matches(text), text
    for text in ("", "0", "11", "non", "oui merci", "yes please", "o u i", "1 2"):
        assert not DEFAULT.matches(text), text
    for text in ("STOP", "stop.", "Arrêt", "ARRET", "stop all"):
        assert STOP.matches(text), text


def test_the_inbound_section_has_defaults_and_takes_its_keys():
    assert parse_inbound({}) == InboundSettings()
    settings = parse_inbound({"confirm_keywords": ["D'accord", "OK"], "reply_window": "2h",
                              "confirm_digit": "9"})
    assert settings.confirm_keywords.matches("d'accord!") and settings.confirm_keywords.matches("ok")
    assert not settings.confirm_keywords.matches("oui")
    assert settings.reply_window == dt.timedelta(hours=2) and settings.confirm_digit == "9"


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"confirm_keywords": "OUI"}, "inbound.confirm_keywords: expected a list"),
        ({"confirm_keywords": []}, "at least one keyword"),
        ({"confirm_keywords": ["OK", "!!"]}, "'!!' is no keyword"),
        ({"confirm_keywords": ["OK", 1]}, "expected a list of texts, got 1"),
        ({"confirm_keywords": ["oui", "Stop"]}, "['stop'] already mean opt-out"),
        ({"reply_window": "soon"}, "inbound.reply_window: 'soon' is not a duration"),
        ({"reply_window": 0}, "inbound.reply_window: must be longer than zero"),
        ({"confirm_digit": "12"}, "inbound.confirm_digit: expected one key of a phone pad"),
        ({"confirm_word": ["OK"]}, "inbound: unknown key(s) ['confirm_word']"),
    ],
)
def test_a_bad_inbound_section_is_refused_naming_the_key(section, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        parse_inbound(section)


def test_keyword_sets_compare_normalised_forms():
    assert KeywordSet.of(["Oui", "OUI", "oui!"], key="k").words == {"oui"}


def test_the_sender_is_normalised_like_contact_numbers():
    assert sender_number("+33612345678", "FR") == "+33612345678"
    assert sender_number("06 12 34 56 78", "FR") == "+33612345678"
    assert sender_number("Orange", "FR") is None


def test_a_reply_confirms_sent_or_received_sms_and_is_a_duplicate_once_confirmed():
    assert set(confirmable_states(SMS)) == {"accepted", "queued", "sending", "sent", "received", "confirmed"}
    assert "completed" in confirmable_states(CALL) and "busy" not in confirmable_states(CALL)
