"""Provider statuses map onto the machines' states, reasons keep the error meaning."""

from __future__ import annotations

import pytest

from tocsin.builtin_statuses import CALL, SMS
from tocsin.plugins.twilio.statuses import CALL_STATUSES, SMS_STATUSES, call_status, sms_status


def test_every_mapped_status_is_a_state_of_its_machine() -> None:
    assert set(SMS_STATUSES.values()) <= set(SMS.states)
    assert set(CALL_STATUSES.values()) <= set(CALL.states)


@pytest.mark.parametrize(
    ("provider", "code", "status", "reason"),
    [
        ("delivered", None, "received", ""),
        ("undelivered", "30005", "undelivered", "30005 unknown destination handset"),
        ("failed", "30008", "failed", "30008 unknown error"),
        ("canceled", None, "failed", "canceled"),
        ("undelivered", "39999", "undelivered", "39999 provider error"),
    ],
)
def test_sms_statuses(provider: str, code: str | None, status: str, reason: str) -> None:
    mapped = sms_status(provider, code)
    assert mapped is not None and (mapped.status, mapped.reason) == (status, reason)


def test_inbound_message_statuses_are_not_tracked() -> None:
    assert sms_status("receiving") is None and sms_status("received") is None


@pytest.mark.parametrize(
    ("provider", "answered_by", "status"),
    [
        ("initiated", None, "started"),
        ("in-progress", "human", "in progress"),
        ("in-progress", "machine_start", "voicemail"),
        ("completed", "machine_end_beep", "voicemail"),
        ("completed", "fax", "fax"),
        ("completed", "unknown", "completed"),
        ("no-answer", None, "no answer"),
        ("canceled", None, "failed"),
    ],
)
def test_call_statuses_with_answering_machine_detection(
    provider: str, answered_by: str | None, status: str
) -> None:
    mapped = call_status(provider, answered_by)
    assert mapped is not None and mapped.status == status
