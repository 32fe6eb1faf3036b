"""The provider's statuses and error codes, mapped onto Tocsin's SMS and call machines.

Error meanings are kept as the attempt's reason, so an operator reads "unknown
destination handset" rather than a number.
"""

from __future__ import annotations

from collections.abc import Mapping

from attrs import frozen

SMS_STATUSES: Mapping[str, str] = {
    "accepted": "accepted",
    "scheduled": "accepted",
    "queued": "queued",
    "sending": "sending",
    "sent": "sent",
    "delivered": "received",
    "read": "received",
    "undelivered": "undelivered",
    "failed": "failed",
    "canceled": "failed",
}
"""Message status (``MessageStatus``) → SMS machine state."""

CALL_STATUSES: Mapping[str, str] = {
    "queued": "queued",
    "initiated": "started",
    "ringing": "ringing",
    "in-progress": "in progress",
    "answered": "in progress",
    "completed": "completed",
    "busy": "busy",
    "no-answer": "no answer",
    "failed": "failed",
    "canceled": "failed",
}
"""Call status (``CallStatus``) → call machine state; *canceled* becomes *failed*."""

MACHINE_ANSWERS = frozenset(
    {"machine_start", "machine_end_beep", "machine_end_silence", "machine_end_other"}
)
"""``AnsweredBy`` values meaning an answering machine (voicemail)."""

ERROR_MEANINGS: Mapping[int, str] = {
    20003: "authentication failed (account SID or auth token)",
    20404: "resource not found",
    20429: "too many requests",
    21211: "invalid 'To' phone number",
    21212: "invalid 'From' phone number",
    21408: "permission to send to this region is not enabled",
    21602: "message body is required",
    21603: "a 'From' number is required",
    21604: "a 'To' number is required",
    21606: "the 'From' number cannot send messages",
    21610: "the recipient has opted out (STOP)",
    21612: "the 'To' number cannot be reached from the 'From' number",
    21614: "the 'To' number is not a mobile number",
    21617: "message body exceeds 1600 characters",
    21201: "no 'To' number is specified",
    21205: "the TwiML URL is not valid",
    21213: "no 'From' number is specified",
    21215: "international calling to this number is not enabled",
    30001: "queue overflow",
    30002: "account suspended",
    30003: "unreachable destination handset",
    30004: "message blocked",
    30005: "unknown destination handset",
    30006: "landline or unreachable carrier",
    30007: "carrier filtered (message flagged as spam)",
    30008: "unknown error",
    30009: "missing segment",
    30010: "message price exceeds max price",
    30034: "sender not registered for this traffic (A2P 10DLC)",
    13224: "invalid phone number",
    13225: "the destination is a forbidden number",
    13227: "no international permission for this destination",
}
"""Meanings of the provider's error codes (API errors and delivery errors)."""


def meaning(code: int | str | None) -> str:
    """``"30005 unknown destination handset"``, or ``""`` when there is no code."""
    if code in (None, "", "0", 0):
        return ""
    try:
        number = int(str(code))
    except ValueError:
        return f"error {code}"
    return f"{number} {ERROR_MEANINGS.get(number, 'provider error')}"


@frozen
class Mapped:
    """A provider status turned into a Tocsin status and its reason."""

    status: str
    reason: str = ""


def sms_status(provider_status: str, error_code: str | None = None) -> Mapped | None:
    """The SMS state for a ``MessageStatus``; ``None`` for statuses Tocsin does not track
    (inbound ``receiving``/``received``)."""
    status = SMS_STATUSES.get(provider_status)
    if status is None:
        return None
    reason = meaning(error_code)
    if provider_status == "canceled":
        reason = "canceled" + (f": {reason}" if reason else "")
    return Mapped(status, reason)


def call_status(
    provider_status: str, answered_by: str | None = None, error_code: str | None = None
) -> Mapped | None:
    """The call state for a ``CallStatus`` (answering-machine detection applied)."""
    status = CALL_STATUSES.get(provider_status)
    if status is None:
        return None
    if status in {"completed", "in progress"} and answered_by:
        if answered_by in MACHINE_ANSWERS:
            return Mapped("voicemail", f"answered by {answered_by}")
        if answered_by == "fax":
            return Mapped("fax", "answered by a fax machine")
    reason = meaning(error_code)
    if provider_status == "canceled":
        reason = "canceled" + (f": {reason}" if reason else "")
    return Mapped(status, reason)
