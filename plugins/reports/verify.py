"""Verification of a contact's means: a one-time code (and a link) sent to the address,
and the means marked verified when the contact gives it back.

A challenge is stored as a salted hash of its six-digit code and a hash of its link
token, never the secrets themselves; it expires (24 hours by default), a newer
challenge for the same means supersedes the older one, and five wrong codes lock it
(the operator resends). The code comes back by a reply SMS or e-mail, by DTMF digits
during a call (through ``tocsin_inbound_message``), or as the link's token.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets

from attrs import frozen
from sqlalchemy import ColumnElement, Connection, insert, select, update

from tocsin.channel import RenderedMessage
from tocsin.errors import NotFoundError, ValidationError
from tocsin.store import Store
from tocsin.store.schema import contact_means, verifications

CODE_DIGITS = 6
TTL = dt.timedelta(hours=24)
MAX_FAILURES = 5
VIA_FOR_KIND = {"email": ("email",), "mobile": ("sms", "call"), "phone": ("call",)}
CODE_PATTERN = re.compile(r"^\D{0,40}?(\d(?:[\s-]?\d){5})\D{0,40}$")


@frozen
class Challenge:
    """A challenge just issued: the only moment its code and token are known."""

    verification_id: int
    means_id: int
    contact_id: int
    kind: str
    address: str
    via: str
    code: str
    token: str
    expires_at: dt.datetime


@frozen
class Confirmation:
    """What a code or a token achieved."""

    verified: bool
    means_ids: tuple[int, ...] = ()
    reason: str = ""


def _code_hash(salt: str, code: str) -> str:
    return hashlib.sha256(f"{salt}:{code}".encode()).hexdigest()


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue(store: Store, means_id: int, *, now: dt.datetime, via: str | None = None,
          ttl: dt.timedelta = TTL, conn: Connection | None = None) -> Challenge:
    """A new challenge for the means ``means_id``, sent ``via`` sms, call or email
    (default: the usual one for its kind); earlier open challenges are superseded."""
    if conn is None:
        with store.transaction() as own:
            return issue(store, means_id, now=now, via=via, ttl=ttl, conn=own)
    means = conn.execute(select(contact_means).where(contact_means.c.id == means_id)).one_or_none()
    if means is None:
        raise NotFoundError(f"no contact means with id {means_id}")
    allowed = VIA_FOR_KIND.get(means.kind, ())
    via = via or (allowed[0] if allowed else None)
    if via not in allowed:
        raise ValidationError(
            f"via: a {means.kind} address is verified by {' or '.join(allowed) or 'nothing'}, not {via!r}"
        )
    conn.execute(
        update(verifications)
        .where(verifications.c.means_id == means_id, verifications.c.confirmed_at.is_(None),
               verifications.c.expires_at > now)
        .values(expires_at=now)
    )
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    token = secrets.token_urlsafe(24)
    salt = secrets.token_hex(8)
    expires = now + ttl
    vid = conn.execute(
        insert(verifications).returning(verifications.c.id),
        {"means_id": means_id, "via": via, "salt": salt, "code_hash": _code_hash(salt, code),
         "token_hash": _token_hash(token), "created_at": now, "expires_at": expires},
    ).scalar_one()
    return Challenge(vid, means_id, means.contact_id, means.kind, means.value, via, code, token,
                     expires)


def _open(now: dt.datetime) -> list[ColumnElement[bool]]:
    return [verifications.c.confirmed_at.is_(None), verifications.c.expires_at > now,
            verifications.c.failures < MAX_FAILURES]


def _mark(conn: Connection, rows: list[tuple[int, int]], now: dt.datetime) -> Confirmation:
    ids = [vid for vid, _ in rows]
    means_ids = sorted({m for _, m in rows})
    conn.execute(update(verifications).where(verifications.c.id.in_(ids)).values(confirmed_at=now))
    conn.execute(update(contact_means).where(contact_means.c.id.in_(means_ids)).values(verified=True))
    return Confirmation(True, tuple(means_ids))


def normalise_code(text: str) -> str | None:
    """The code in a reply ("123456", "code: 123 456", DTMF "1-2-3-4-5-6"), if any."""
    match = CODE_PATTERN.match(text.strip())
    return re.sub(r"\D", "", match.group(1)) if match else None


def confirm_code(store: Store, address: str, code: str, *, now: dt.datetime) -> Confirmation:
    """Check ``code`` sent back from ``address``; a match marks the means verified, a
    wrong code counts against every open challenge of that address."""
    with store.transaction() as conn:
        rows = conn.execute(
            select(verifications.c.id, verifications.c.means_id, verifications.c.salt,
                   verifications.c.code_hash, verifications.c.failures)
            .join(contact_means, contact_means.c.id == verifications.c.means_id)
            .where(contact_means.c.value == address.strip(), *_open(now))
        ).all()
        if not rows:
            return Confirmation(False, reason="no verification is pending for this address")
        good = [(r.id, r.means_id) for r in rows
                if hmac.compare_digest(r.code_hash, _code_hash(r.salt, code))]
        if good:
            return _mark(conn, good, now)
        conn.execute(
            update(verifications).where(verifications.c.id.in_([r.id for r in rows]))
            .values(failures=verifications.c.failures + 1)
        )
        locked = all(r.failures + 1 >= MAX_FAILURES for r in rows)
        return Confirmation(False, reason="wrong code; too many wrong codes, ask for a new one"
                            if locked else "wrong code")


def confirm_token(store: Store, token: str, *, now: dt.datetime) -> Confirmation:
    """Check a link's token; a live one marks its means verified."""
    with store.transaction() as conn:
        row = conn.execute(
            select(verifications.c.id, verifications.c.means_id, verifications.c.confirmed_at,
                   verifications.c.expires_at, verifications.c.failures)
            .where(verifications.c.token_hash == _token_hash(token))
        ).one_or_none()
        if row is None:
            return Confirmation(False, reason="unknown verification link")
        if row.confirmed_at is not None:
            return Confirmation(True, (row.means_id,), reason="already verified")
        if row.expires_at <= now or row.failures >= MAX_FAILURES:
            return Confirmation(False, reason="this verification link has expired; ask for a new one")
        return _mark(conn, [(row.id, row.means_id)], now)


def link(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/verify/{token}"


def message(challenge: Challenge, *, now: dt.datetime, base_url: str,
            organisation: str = "") -> RenderedMessage:
    """What the contact receives: the code (and for an e-mail, the link)."""
    who = f" from {organisation}" if organisation else ""
    code = challenge.code
    hours = max(1, round((challenge.expires_at - now).total_seconds() / 3600))
    if challenge.via == "email":
        url = link(base_url, challenge.token)
        text = (f"To confirm this address for alerts{who}, open {url}\n"
                f"or give this code: {code}\nThe link and the code expire in {hours} hours.")
        html = (f"<p>To confirm this address for alerts{who}, <a href=\"{url}\">open this link</a> "
                f"or give this code: <b>{code}</b>.</p><p>They expire in {hours} hours.</p>")
        return RenderedMessage(text=text, subject="Confirm your address for alerts", html=html)
    if challenge.via == "call":
        spoken = ", ".join(code)
        return RenderedMessage(
            text=f"Your verification code{who} is {spoken}. Key in these six digits to confirm.",
            repeat=2,
        )
    return RenderedMessage(text=f"Your verification code{who}: {code}. Reply with it to confirm "
                                f"this number for alerts.")
