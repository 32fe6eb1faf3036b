"""The bounce parser: a corpus of DSN and ARF messages, and properties on arbitrary MIME."""

from __future__ import annotations

import email.message
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tocsin.plugins.smtp import tokens
from tocsin.plugins.smtp.bounces import parse_bounce

from .conftest import SECRET

CORPUS = Path(__file__).parent / "corpus"
ATTEMPT = 4242
RCPT = "zoe.martin@example.net"


def load(name: str, attempt_id: int = ATTEMPT) -> bytes:
    text = (CORPUS / name).read_text()
    verp = tokens.verp_address(SECRET, attempt_id, "example.org")
    forged = f"bounces+{attempt_id}-0123456789abcdef@example.org"
    values = {
        "verp": verp,
        "envid": tokens.make_token(SECRET, tokens.VERP, attempt_id),
        "mid": tokens.message_id(SECRET, attempt_id, "example.org"),
        "rcpt": RCPT,
        "forged": forged,
        "forged_envid": f"{attempt_id}-0123456789abcdef",
    }
    for key, value in values.items():
        text = text.replace("{" + key + "}", value)
    return text.replace("\n", "\r\n").encode()


@pytest.mark.parametrize(
    ("name", "status", "hard", "kind"),
    [
        ("postfix_failed.eml", "rebound", True, "dsn"),
        ("envid_only_failed.eml", "rebound", True, "dsn"),
        ("failed_after_retries.eml", "rebound", False, "dsn"),
        ("exchange_delivered.eml", "received", False, "dsn"),
        ("arf_abuse.eml", "marked as spam", False, "arf"),
        ("arf_redacted_headers_only.eml", "marked as spam", False, "arf"),
        ("exim_nonstandard.eml", "rebound", True, "heuristic"),
        ("qmail_nonstandard.eml", "rebound", True, "heuristic"),
    ],
)
def test_corpus_message_is_classified_and_attributed(name, status, hard, kind):
    bounce = parse_bounce(load(name), SECRET)
    assert bounce is not None
    assert (bounce.status, bounce.attempt_id, bounce.hard, bounce.kind) == (status, ATTEMPT, hard, kind)


@pytest.mark.parametrize("name", ["delayed.eml", "arf_not_spam.eml", "out_of_office.eml"])
def test_corpus_message_that_changes_nothing_reports_nothing(name):
    assert parse_bounce(load(name), SECRET) is None


def test_forged_token_is_attributed_to_no_attempt():
    assert parse_bounce(load("forged_token.eml"), SECRET) is None


def test_tokens_signed_with_another_secret_are_ignored():
    assert parse_bounce(load("postfix_failed.eml"), "another-secret-of-enough-length") is None


def test_dsn_reason_keeps_status_and_diagnostic():
    bounce = parse_bounce(load("postfix_failed.eml"), SECRET)
    assert bounce is not None and bounce.recipient == RCPT
    assert bounce.reason.startswith("5.1.1 550 5.1.1") and "User" in bounce.reason


def test_envelope_recipient_wins_over_tokens_quoted_inside():
    raw = load("postfix_failed.eml", attempt_id=1)  # quotes attempt 1 everywhere
    envelope = [tokens.verp_address(SECRET, 2, "example.org")]
    bounce = parse_bounce(raw, SECRET, envelope)
    assert bounce is not None and bounce.attempt_id == 2


# -- properties ---------------------------------------------------------------------------

header_text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n"),
                      max_size=60)
content_types = st.sampled_from([
    "text/plain", "text/html", "message/delivery-status", "message/feedback-report",
    "message/rfc822", "text/rfc822-headers", "application/octet-stream",
])
forged_verp = st.builds(lambda n, sig: f"bounces+{n}-{sig}@example.org",
                        st.integers(0, 10**12), st.text("0123456789abcdef", min_size=16, max_size=16))
field_lines = st.lists(
    st.tuples(st.sampled_from(["Action", "Status", "Final-Recipient", "Original-Envelope-Id",
                               "Feedback-Type", "Original-Mail-From", "Diagnostic-Code",
                               "Return-Path", "Message-ID", "X-Failed-Recipients"]),
              st.one_of(header_text, forged_verp,
                        st.sampled_from(["failed", "delivered", "abuse", "5.1.1", "2.0.0"]))),
    max_size=8,
)


@st.composite
def mime_messages(draw: st.DrawFn) -> bytes:
    """Arbitrary MIME shaped like reports: random parts, fields, forged tokens."""
    boundary = "b" + draw(st.text("abcdef0123456789", min_size=1, max_size=8))
    report_type = draw(st.sampled_from(["delivery-status", "feedback-report", "", "x"]))
    top = draw(st.sampled_from(["multipart/report", "multipart/mixed", "text/plain"]))
    headers = draw(field_lines)
    lines = [f"{k}: {v}" for k, v in headers]
    lines.append(f'Content-Type: {top}; report-type={report_type}; boundary="{boundary}"')
    lines.append(f"To: {draw(st.one_of(header_text, forged_verp))}")
    lines.append("")
    for _ in range(draw(st.integers(0, 4))):
        lines.append(f"--{boundary}")
        lines.append(f"Content-Type: {draw(content_types)}")
        lines.append("")
        for block in range(draw(st.integers(0, 3))):
            lines.extend(f"{k}: {v}" for k, v in draw(field_lines))
            lines.append("" if block else draw(header_text))
    if draw(st.booleans()):
        lines.append(f"--{boundary}--")
    lines.append(draw(st.text(max_size=200)))
    return "\r\n".join(lines).encode("utf-8", "surrogatepass")


@settings(max_examples=300)
@given(raw=st.one_of(st.binary(max_size=2000), mime_messages()))
def test_parser_never_crashes_and_never_attributes_without_a_valid_token(raw):
    assert parse_bounce(raw, SECRET) is None


@settings(max_examples=200)
@given(raw=mime_messages(), attempt_id=st.integers(0, 10**9))
def test_parser_attributes_only_to_the_attempt_the_envelope_names(raw, attempt_id):
    envelope = [tokens.verp_address(SECRET, attempt_id, "example.org")]
    bounce = parse_bounce(raw, SECRET, envelope)
    assert bounce is None or bounce.attempt_id == attempt_id


@settings(max_examples=100)
@given(attempt_id=st.integers(0, 10**9), noise=mime_messages())
def test_a_valid_token_inside_arbitrary_noise_names_its_attempt(attempt_id, noise):
    msg = email.message.EmailMessage()
    msg["To"] = tokens.verp_address(SECRET, attempt_id, "example.org")
    msg["Subject"] = "Undelivered Mail Returned to Sender"
    msg.set_content(noise.decode("utf-8", "replace"))
    bounce = parse_bounce(msg.as_bytes(), SECRET)
    assert bounce is None or bounce.attempt_id == attempt_id
