"""Signed attempt tokens: how a bounce or a pixel fetch names its attempt without guessing.

A token is ``<attempt id>-<signature>``, the signature an HMAC-SHA256 of the attempt id
and the token's purpose under the channel's secret, cut to 16 hex digits (64 bits). It
uses only lowercase letters, digits and ``-``, so it survives mail servers that fold the
case of local parts. A token that does not verify names no attempt: a forged or mangled
bounce is never attributed to someone else's attempt.
"""

from __future__ import annotations

import hashlib
import hmac
import re

VERP = "verp"
OPEN = "open"
MESSAGE_ID = "mid"

_TOKEN = re.compile(r"(?<![0-9a-z])(\d{1,18})-([0-9a-f]{16})(?![0-9a-z])", re.I)
_VERP = re.compile(r"bounces\+(\d{1,18}-[0-9a-f]{16})@", re.I)


def _signature(secret: str, purpose: str, attempt_id: int) -> str:
    mac = hmac.new(secret.encode(), f"{purpose}:{attempt_id}".encode(), hashlib.sha256)
    return mac.hexdigest()[:16]


def make_token(secret: str, purpose: str, attempt_id: int) -> str:
    """The token naming ``attempt_id`` for ``purpose`` (VERP, OPEN, MESSAGE_ID)."""
    if attempt_id < 0:
        raise ValueError("an attempt id is never negative")
    return f"{attempt_id}-{_signature(secret, purpose, attempt_id)}"


def verify_token(secret: str, purpose: str, token: str) -> int | None:
    """The attempt id a token names, or ``None`` when it is not a valid token."""
    match = _TOKEN.fullmatch(token.strip())
    if not match:
        return None
    attempt_id = int(match.group(1))
    expected = _signature(secret, purpose, attempt_id)
    return attempt_id if hmac.compare_digest(expected, match.group(2).lower()) else None


def verp_address(secret: str, attempt_id: int, domain: str) -> str:
    """The return path of an attempt: ``bounces+<token>@<domain>``."""
    return f"bounces+{make_token(secret, VERP, attempt_id)}@{domain}"


def message_id(secret: str, attempt_id: int, domain: str) -> str:
    """A ``Message-ID`` that names the attempt (bounces often quote it)."""
    return f"<tocsin.{make_token(secret, MESSAGE_ID, attempt_id)}@{domain}>"


def attempts_in_verp(secret: str, text: str) -> list[int]:
    """Attempt ids of every valid VERP address found in ``text``, in order."""
    found = (verify_token(secret, VERP, m.group(1)) for m in _VERP.finditer(text))
    return list(dict.fromkeys(a for a in found if a is not None))


def attempts_in_message_ids(secret: str, text: str) -> list[int]:
    """Attempt ids of every valid Tocsin ``Message-ID`` found in ``text``, in order."""
    pattern = re.compile(r"<tocsin\.(\d{1,18}-[0-9a-f]{16})@", re.I)
    found = (verify_token(secret, MESSAGE_ID, m.group(1)) for m in pattern.finditer(text))
    return list(dict.fromkeys(a for a in found if a is not None))
