"""Signed attempt tokens: what names an attempt, and what never does."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tocsin.plugins.smtp import tokens

from .conftest import SECRET

ids = st.integers(0, 10**18 - 1)
purposes = st.sampled_from([tokens.VERP, tokens.OPEN, tokens.MESSAGE_ID])


@given(attempt_id=ids, purpose=purposes)
def test_a_token_names_its_attempt_for_its_purpose_only(attempt_id, purpose):
    token = tokens.make_token(SECRET, purpose, attempt_id)
    assert tokens.verify_token(SECRET, purpose, token) == attempt_id
    assert tokens.verify_token(SECRET, purpose, token.upper()) == attempt_id  # case folded
    for other in {tokens.VERP, tokens.OPEN, tokens.MESSAGE_ID} - {purpose}:
        assert tokens.verify_token(SECRET, other, token) is None
    assert tokens.verify_token("another-secret-of-some-length", purpose, token) is None


@given(attempt_id=ids, other=ids)
def test_a_token_moved_to_another_attempt_is_refused(attempt_id, other):
    signature = tokens.make_token(SECRET, tokens.VERP, attempt_id).split("-")[1]
    if other != attempt_id:
        assert tokens.verify_token(SECRET, tokens.VERP, f"{other}-{signature}") is None


@given(text=st.text(max_size=200))
def test_arbitrary_text_names_no_attempt(text):
    assert tokens.verify_token(SECRET, tokens.VERP, text) is None
    assert tokens.attempts_in_verp(SECRET, text) == []
    assert tokens.attempts_in_message_ids(SECRET, text) == []


@given(attempt_id=ids, before=st.text(max_size=40), after=st.text(max_size=40))
def test_verp_and_message_id_are_found_inside_text(attempt_id, before, after):
    verp = tokens.verp_address(SECRET, attempt_id, "example.org")
    mid = tokens.message_id(SECRET, attempt_id, "example.org")
    assert tokens.attempts_in_verp(SECRET, f"{before} <{verp}> {after}") == [attempt_id]
    assert tokens.attempts_in_message_ids(SECRET, f"{before} {mid} {after}") == [attempt_id]
