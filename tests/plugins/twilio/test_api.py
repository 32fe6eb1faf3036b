"""The provider's error answers become reasons an operator can read."""

from __future__ import annotations

import httpx2
import pytest

from tocsin.plugins.twilio.api import error_reason


@pytest.mark.parametrize(
    ("status", "body", "reason", "code"),
    [
        (400, {"code": 21610, "message": "Attempt to send to unsubscribed recipient"},
         "21610 the recipient has opted out (STOP): Attempt to send to unsubscribed recipient", "21610"),
        (400, {"code": 21602, "message": "Message body is required."}, "21602 Message body is required.",
         "21602"),
        (400, {"code": 21999, "message": "Something new"}, "21999 Something new", "21999"),
        (401, {"code": 20003}, "20003 authentication failed (account SID or auth token)", "20003"),
        (403, "<html>\n<b>Forbidden</b>\n</html>", "HTTP 403: <html> <b>Forbidden</b> </html>", "403"),
        (400, "", "HTTP 400", "400"),
    ],
)
def test_error_reasons(status: int, body: object, reason: str, code: str) -> None:
    response = (httpx2.Response(status, json=body) if isinstance(body, dict)
                else httpx2.Response(status, text=str(body)))
    assert error_reason(response) == (reason, code)
