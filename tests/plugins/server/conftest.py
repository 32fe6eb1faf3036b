"""Fixtures for the server's tests: a runtime on a fresh database, the app, signed-in clients."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from tocsin.clock import FakeClock
from tocsin.config import build_config
from tocsin.model import Role, User
from tocsin.plugins.server.app import create_app
from tocsin.plugins.server.passwords import hash_password
from tocsin.runtime import Runtime

PASSWORD = "correct horse battery"


def make_runtime(db_url: str, data_dir: Path, clock: FakeClock | None = None, **server: Any) -> Runtime:
    config = build_config({
        "tocsin": {"data_dir": str(data_dir), "database": db_url},
        "server": {"secret_key": "test-secret-key-0123456789", **server},
    })
    return Runtime.open(config, clock=clock)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def runtime(tmp_path: Path, clock: FakeClock) -> Iterator[Runtime]:
    """A runtime on a fresh SQLite database, with the installed plugins."""
    rt = make_runtime(f"sqlite:///{tmp_path / 'tocsin.db'}", tmp_path, clock)
    yield rt
    rt.close()


@pytest.fixture
def pg_runtime(pg_url: str, tmp_path: Path, clock: FakeClock) -> Iterator[Runtime]:
    rt = make_runtime(pg_url, tmp_path, clock)
    yield rt
    rt.close()


@pytest.fixture
def app(runtime: Runtime) -> Litestar:
    return create_app(runtime)


@pytest.fixture
def client(app: Litestar) -> Iterator[TestClient[Litestar]]:
    with TestClient(app) as c:
        yield c


@functools.cache
def password_hash(password: str) -> str:
    """A real argon2 hash, made once per password for the whole run (hashing is slow on purpose)."""
    return hash_password(password)


def add_user(runtime: Runtime, username: str, role: Role, password: str = PASSWORD) -> User:
    return runtime.store.users.create(
        User(username, role=role), password_hash=password_hash(password), now=runtime.clock.now()
    )


def token_for(runtime: Runtime, user: User) -> str:
    from tocsin.plugins.server.tokens import Tokens

    assert user.id is not None
    return Tokens(runtime.store.engine).create(user.id, "test", now=runtime.clock.now()).token


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]*)"', html)
    assert found, "the page has no CSRF field"
    return found.group(1)


def sign_in(client: TestClient[Litestar], username: str, password: str = PASSWORD) -> Any:
    """Sign in through the login form; returns the final response of the form post."""
    page = client.get("/login")
    return client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": csrf_of(page.text),
              "next": "/"},
        follow_redirects=False,
    )


@pytest.fixture
def users(runtime: Runtime) -> dict[Role, User]:
    """One user of each role."""
    return {role: add_user(runtime, f"user-{role.value}", role) for role in Role}


@pytest.fixture
def api(client: TestClient[Litestar], runtime: Runtime, users: dict[Role, User]
        ) -> Callable[[Role], dict[str, str]]:
    """``api(role)``: headers carrying an API token of that role's user."""
    tokens = {role: token_for(runtime, user) for role, user in users.items()}
    return lambda role: {"authorization": f"Bearer {tokens[role]}"}
