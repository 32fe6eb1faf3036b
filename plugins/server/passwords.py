"""Passwords hashed with argon2id; a hash made with weaker parameters is upgraded on login."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from tocsin.errors import ValidationError

_HASHER = PasswordHasher()
MIN_LENGTH = 10

# verified against when the user does not exist, so both cases take the same time
_DUMMY = _HASHER.hash("tocsin-dummy-password")


def check_strength(password: str) -> None:
    """Refuse a password too short to be worth hashing."""
    if len(password) < MIN_LENGTH:
        raise ValidationError(f"password: use at least {MIN_LENGTH} characters")


def hash_password(password: str) -> str:
    check_strength(password)
    return _HASHER.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    """Whether ``password`` matches ``stored`` (``None``: no password, always false)."""
    try:
        return _HASHER.verify(stored or _DUMMY, password) and stored is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    return _HASHER.check_needs_rehash(stored)
