"""Users who operate Tocsin (administrators, operators, agents)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from tocsin.clock import UTC
from tocsin.errors import NotFoundError, ValidationError
from tocsin.model import Role, User
from tocsin.store.schema import users


def _to_user(row: Any) -> User:
    return User(
        id=row.id,
        username=row.username,
        display_name=row.display_name,
        email=row.email,
        role=Role(row.role),
        language=row.language,
        active=row.active,
        created_at=row.created_at,
    )


class Users:
    """The users repository; password hashes never leave it except to be checked."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def create(self, user: User, *, password_hash: str | None = None, now: dt.datetime | None = None) -> User:
        if not user.username.strip():
            raise ValidationError("a user needs a username")
        now = now or dt.datetime.now(UTC)
        try:
            with self.engine.begin() as conn:
                uid = conn.execute(
                    insert(users).returning(users.c.id),
                    {
                        "username": user.username.strip(),
                        "display_name": user.display_name,
                        "email": user.email,
                        "role": str(user.role),
                        "language": user.language,
                        "active": user.active,
                        "password_hash": password_hash,
                        "created_at": now,
                    },
                ).scalar_one()
        except IntegrityError:
            raise ValidationError(f"a user named {user.username!r} already exists") from None
        return self.get(uid)

    def get(self, user_id: int) -> User:
        with self.engine.connect() as conn:
            row = conn.execute(select(users).where(users.c.id == user_id)).one_or_none()
        if row is None:
            raise NotFoundError(f"no user with id {user_id}")
        return _to_user(row)

    def by_username(self, username: str) -> tuple[User, str | None]:
        """The user and their password hash."""
        with self.engine.connect() as conn:
            row = conn.execute(select(users).where(users.c.username == username)).one_or_none()
        if row is None:
            raise NotFoundError(f"no user named {username!r}")
        return _to_user(row), row.password_hash

    def list(self) -> list[User]:
        with self.engine.connect() as conn:
            return [_to_user(r) for r in conn.execute(select(users).order_by(users.c.username))]

    def set_password_hash(self, user_id: int, password_hash: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(users).where(users.c.id == user_id).values(password_hash=password_hash))
