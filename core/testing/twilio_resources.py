"""The Twilio simulator's resources: Message and Call records in the provider's JSON
shapes, its error payloads, and the signature it puts on every callback.

The signature is written here independently of the channel plugin's verifier, so each
checks the other (and both are checked against the provider's published example).
"""

from __future__ import annotations

import base64
import datetime as dt
import email.utils
import hashlib
import hmac
import uuid
from collections.abc import Iterable
from typing import Any

from attrs import Factory, define

API_VERSION = "2010-04-01"


def new_sid(prefix: str) -> str:
    """A resource SID: two letters and 32 hex digits (``SM...``, ``CA...``)."""
    return prefix + uuid.uuid4().hex


def rfc2822(when: dt.datetime | None) -> str | None:
    """Dates as the API writes them: ``Mon, 23 Nov 2026 14:00:00 +0000``."""
    return email.utils.format_datetime(when) if when else None


def error_payload(code: int, message: str, status: int) -> dict[str, Any]:
    """The API's error body."""
    return {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


def sign(auth_token: str, url: str, params: Iterable[tuple[str, str]]) -> str:
    """``X-Twilio-Signature`` of a POST: HMAC-SHA1(url + sorted name/value pairs), base64."""
    grouped: dict[str, set[str]] = {}
    for name, value in params:
        grouped.setdefault(name, set()).add(value)
    data = url
    for name in sorted(grouped):
        for value in sorted(grouped[name]):
            data += name + value
    return base64.b64encode(hmac.new(auth_token.encode(), data.encode(), hashlib.sha1).digest()).decode()


@define
class MessageRecord:
    """One outbound message the simulator holds."""

    sid: str
    account_sid: str
    to: str
    from_: str
    body: str
    status: str
    created: dt.datetime
    status_callback: str = ""
    messaging_service_sid: str | None = None
    error_code: int | None = None
    error_message: str | None = None
    updated: dt.datetime | None = None
    sent: dt.datetime | None = None

    def to_json(self) -> dict[str, Any]:
        segments = max(1, -(-len(self.body) // 153)) if len(self.body) > 160 else 1
        return {
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "body": self.body,
            "date_created": rfc2822(self.created),
            "date_sent": rfc2822(self.sent),
            "date_updated": rfc2822(self.updated or self.created),
            "direction": "outbound-api",
            "error_code": self.error_code,
            "error_message": self.error_message,
            "from": self.from_,
            "messaging_service_sid": self.messaging_service_sid,
            "num_media": "0",
            "num_segments": str(segments),
            "price": None,
            "price_unit": "USD",
            "sid": self.sid,
            "status": self.status,
            "subresource_uris": {
                "media": f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{self.sid}/Media.json"
            },
            "to": self.to,
            "uri": f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{self.sid}.json",
        }


@define
class CallRecord:
    """One outbound call the simulator holds, with what it heard and did."""

    sid: str
    account_sid: str
    to: str
    from_: str
    url: str
    method: str
    status: str
    created: dt.datetime
    status_callback: str = ""
    status_events: tuple[str, ...] = ()
    machine_detection: bool = False
    timeout: int = 60
    answered_by: str | None = None
    started: dt.datetime | None = None
    ended: dt.datetime | None = None
    duration: int | None = None
    spoken: list[tuple[str, str]] = Factory(list)
    """``(language, text)`` of every ``Say`` played, in order."""
    digits: list[str] = Factory(list)
    twiml_fetches: int = 0

    def to_json(self) -> dict[str, Any]:
        base = f"/{API_VERSION}/Accounts/{self.account_sid}/Calls/{self.sid}"
        return {
            "account_sid": self.account_sid,
            "annotation": None,
            "answered_by": self.answered_by,
            "api_version": API_VERSION,
            "caller_name": None,
            "date_created": rfc2822(self.created),
            "date_updated": rfc2822(self.ended or self.started or self.created),
            "direction": "outbound-api",
            "duration": str(self.duration) if self.duration is not None else None,
            "end_time": rfc2822(self.ended),
            "forwarded_from": None,
            "from": self.from_,
            "from_formatted": self.from_,
            "group_sid": None,
            "parent_call_sid": None,
            "phone_number_sid": None,
            "price": None,
            "price_unit": "USD",
            "queue_time": "0",
            "sid": self.sid,
            "start_time": rfc2822(self.started),
            "status": self.status,
            "subresource_uris": {
                "notifications": f"{base}/Notifications.json",
                "recordings": f"{base}/Recordings.json",
            },
            "to": self.to,
            "to_formatted": self.to,
            "trunk_sid": None,
            "uri": f"{base}.json",
        }


def account_json(sid: str, created: dt.datetime) -> dict[str, Any]:
    return {
        "auth_token": "[redacted]",
        "date_created": rfc2822(created),
        "date_updated": rfc2822(created),
        "friendly_name": "Tocsin simulator account",
        "owner_account_sid": sid,
        "sid": sid,
        "status": "active",
        "type": "Full",
        "uri": f"/{API_VERSION}/Accounts/{sid}.json",
    }
