"""API tokens for integrators: shown once, stored as a SHA-256 digest.

A token is ``tcs_<prefix>_<secret>``: 256 random bits, so a plain SHA-256 is enough at
rest (a slow password hash is for guessable secrets, and would cost every API call). The
prefix is kept in clear so that a user can tell tokens apart in a list.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import Any

from attrs import frozen
from sqlalchemy import Engine, insert, select, update

from tocsin.errors import NotFoundError, ValidationError
from tocsin.store.schema import api_tokens

PREFIX = "tcs_"


@frozen
class ApiToken:
    """A token as lists show it: never its secret."""

    id: int
    name: str
    prefix: str
    created_at: dt.datetime
    user_id: int
    expires_at: dt.datetime | None = None
    last_used_at: dt.datetime | None = None
    revoked_at: dt.datetime | None = None


@frozen
class NewToken:
    """A token just made: ``token`` is shown this once and never again."""

    token: str
    info: ApiToken


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _to_token(row: Any) -> ApiToken:
    return ApiToken(
        id=row.id,
        name=row.name,
        prefix=row.prefix,
        created_at=row.created_at,
        user_id=row.user_id,
        expires_at=row.expires_at,
        last_used_at=row.last_used_at,
        revoked_at=row.revoked_at,
    )


class Tokens:
    """The API tokens table."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def create(
        self, user_id: int, name: str, *, now: dt.datetime, expires_at: dt.datetime | None = None
    ) -> NewToken:
        name = name.strip()
        if not name:
            raise ValidationError("name: a token needs a name")
        if len(name) > 200:
            raise ValidationError("name: at most 200 characters")
        if expires_at is not None and expires_at <= now:
            raise ValidationError("expires_at: must be in the future")
        prefix = secrets.token_hex(4)
        token = f"{PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
        with self.engine.begin() as conn:
            token_id = conn.execute(
                insert(api_tokens).returning(api_tokens.c.id),
                {
                    "user_id": user_id,
                    "name": name,
                    "prefix": prefix,
                    "token_hash": digest(token),
                    "created_at": now,
                    "expires_at": expires_at,
                },
            ).scalar_one()
        return NewToken(token, ApiToken(token_id, name, prefix, now, user_id, expires_at))

    def list(self, user_id: int | None = None) -> list[ApiToken]:
        query = select(api_tokens).order_by(api_tokens.c.id)
        if user_id is not None:
            query = query.where(api_tokens.c.user_id == user_id)
        with self.engine.connect() as conn:
            return [_to_token(r) for r in conn.execute(query)]

    def get(self, token_id: int) -> ApiToken:
        with self.engine.connect() as conn:
            row = conn.execute(select(api_tokens).where(api_tokens.c.id == token_id)).one_or_none()
        if row is None:
            raise NotFoundError(f"no API token with id {token_id}")
        return _to_token(row)

    def revoke(self, token_id: int, *, now: dt.datetime) -> None:
        with self.engine.begin() as conn:
            done = conn.execute(
                update(api_tokens)
                .where(api_tokens.c.id == token_id, api_tokens.c.revoked_at.is_(None))
                .values(revoked_at=now)
            ).rowcount
        if not done:
            raise NotFoundError(f"no live API token with id {token_id}")

    def authenticate(self, token: str, *, now: dt.datetime) -> int | None:
        """The user id a live token belongs to, or ``None``."""
        if not token.startswith(PREFIX):
            return None
        with self.engine.connect() as conn:
            row = conn.execute(
                select(api_tokens).where(api_tokens.c.token_hash == digest(token))
            ).one_or_none()
        if row is None or row.revoked_at is not None:
            return None
        if row.expires_at is not None and row.expires_at <= now:
            return None
        if row.last_used_at is None or (now - row.last_used_at).total_seconds() > 60:
            with self.engine.begin() as conn:
                conn.execute(
                    update(api_tokens).where(api_tokens.c.id == row.id).values(last_used_at=now)
                )
        return int(row.user_id)
