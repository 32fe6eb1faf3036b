"""Browser sessions: a random secret in a signed cookie, its SHA-256 in the store.

The cookie is signed with the server's secret key (itsdangerous), so a forged or
tampered cookie is refused before the store is asked; the row lets a logout or an
administrator end a session at once. Each session has its own CSRF token, which every
form and every unsafe request made with the cookie must send back.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import Any

from attrs import frozen
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import Engine, delete, insert, select, update

from tocsin.store.schema import sessions

COOKIE = "tocsin_session"


@frozen
class Session:
    key: str
    """The SHA-256 of the secret (the row's id)."""
    user_id: int
    csrf_token: str
    expires_at: dt.datetime


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class CookieSigner:
    """Signs and checks session cookies with the server's secret key."""

    def __init__(self, secret_key: str, max_age: int) -> None:
        self._serializer = URLSafeTimedSerializer(secret_key, salt="tocsin-session")
        self.max_age = max_age

    def sign(self, secret: str) -> str:
        return self._serializer.dumps(secret)

    def unsign(self, cookie: str) -> str | None:
        try:
            value: Any = self._serializer.loads(cookie, max_age=self.max_age)
        except BadSignature:
            return None
        return value if isinstance(value, str) else None


class Sessions:
    """The sessions table."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def open(self, user_id: int, *, now: dt.datetime, lifetime: int, ip: str = "") -> tuple[str, Session]:
        """A new session; returns the secret (for the cookie) and the session."""
        secret = secrets.token_urlsafe(32)
        session = Session(
            key=_digest(secret),
            user_id=user_id,
            csrf_token=secrets.token_urlsafe(32),
            expires_at=now + dt.timedelta(seconds=lifetime),
        )
        with self.engine.begin() as conn:
            conn.execute(delete(sessions).where(sessions.c.expires_at < now))
            conn.execute(
                insert(sessions),
                {
                    "id": session.key,
                    "user_id": user_id,
                    "csrf_token": session.csrf_token,
                    "ip": ip[:64],
                    "created_at": now,
                    "expires_at": session.expires_at,
                    "last_seen_at": now,
                },
            )
        return secret, session

    def find(self, secret: str, *, now: dt.datetime) -> Session | None:
        """The live session of ``secret``, or ``None`` (unknown or expired)."""
        key = _digest(secret)
        with self.engine.connect() as conn:
            row = conn.execute(select(sessions).where(sessions.c.id == key)).one_or_none()
        if row is None or row.expires_at <= now:
            return None
        if (now - row.last_seen_at).total_seconds() > 60:
            with self.engine.begin() as conn:
                conn.execute(update(sessions).where(sessions.c.id == key).values(last_seen_at=now))
        return Session(key, row.user_id, row.csrf_token, row.expires_at)

    def close(self, key: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(sessions).where(sessions.c.id == key))

    def close_all(self, user_id: int) -> int:
        with self.engine.begin() as conn:
            return conn.execute(delete(sessions).where(sessions.c.user_id == user_id)).rowcount
