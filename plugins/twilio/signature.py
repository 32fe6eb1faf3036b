"""``X-Twilio-Signature``: HMAC-SHA1 over the full URL and the sorted POST parameters.

The signed string is the URL exactly as it was given to the provider (query included),
followed by every parameter name and value, names sorted, each distinct value of a
repeated name sorted; the digest is base64-encoded. Verification compares in constant
time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable


def signature(auth_token: str, url: str, params: Iterable[tuple[str, str]]) -> str:
    """The signature the provider sends for a POST of ``params`` to ``url``."""
    values: dict[str, set[str]] = {}
    for name, value in params:
        values.setdefault(name, set()).add(value)
    payload = url + "".join(name + value for name in sorted(values) for value in sorted(values[name]))
    digest = hmac.new(auth_token.encode(), payload.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def is_valid(auth_token: str, url: str, params: Iterable[tuple[str, str]], sent: str | None) -> bool:
    """Whether ``sent`` is the genuine signature of this request."""
    if not sent or not auth_token:
        return False
    expected = signature(auth_token, url, params)
    return hmac.compare_digest(expected.encode(), sent.strip().encode("utf-8", "replace"))
