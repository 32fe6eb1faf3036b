"""Fixtures for the server's tests: a runtime on a fresh database, the app, signed-in clients."""

from __future__ import annotations

import asyncio
import functools
import re
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from tocsin.clock import FakeClock
from tocsin.config import build_config
from tocsin.model import AddressKind, Contact, ContactMeans, Role, User
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


# -- a real server on loopback, and the Twilio simulator as the provider ------------------


class LiveServer:
    """An application under uvicorn on 127.0.0.1, in a thread of the test process."""

    def __init__(self, app: Any, sock: Any) -> None:
        import uvicorn

        from tocsin.testing.http_server import url_of

        self.sock = sock
        self.url = url_of(sock)
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [sock]},
                                       daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            assert self.thread.is_alive(), "uvicorn stopped while starting"
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)
        self.sock.close()


class Simulator:
    """The Twilio-compatible provider simulator, in a thread with its own event loop."""

    def __init__(self, book: Any, time_scale: float) -> None:
        self.book, self.time_scale = book, time_scale
        self.base_url = ""
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self.thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)

    async def _main(self) -> None:
        from tocsin.testing.twilio_simulator import TwilioSimulator

        self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
        async with TwilioSimulator(scenarios=self.book, time_scale=self.time_scale) as sim:
            self.sim = sim
            self.base_url = sim.base_url
            self._ready.set()
            await self._stop.wait()

    def __enter__(self) -> Simulator:
        self.thread.start()
        assert self._ready.wait(30), "the simulator did not start"
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._loop is not None and self._stop is not None
        self._loop.call_soon_threadsafe(self._stop.set)
        self.thread.join(timeout=30)


SMS_BOOK = {"sms": {"+33612000001": "delivered", "+33612000002": "undelivered:30005",
                    "+33612000003": "delivered", "+33612000004": "failed:30003"}}


@pytest.fixture
def sending(request: pytest.FixtureRequest, tmp_path: Path
            ) -> Iterator[tuple[Runtime, LiveServer, Simulator]]:
    """A server with its engine and a twilio-sms channel whose provider is the simulator;
    four contacts in group "Centre": two will be delivered, two will fail. The simulator's
    time scale is the fixture's parameter (default 0.2: an SMS is delivered in 0.5 s)."""
    time_scale = float(getattr(request, "param", 0.2))
    from tocsin.testing.http_server import bind_loopback, url_of
    from tocsin.testing.twilio_scenarios import parse_book
    from tocsin.testing.twilio_simulator import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN

    with Simulator(parse_book(SMS_BOOK), time_scale=time_scale) as sim:
        sock = bind_loopback()
        config = build_config({
            "tocsin": {"data_dir": str(tmp_path), "base_url": url_of(sock),
                       "database": f"sqlite:///{tmp_path / 'tocsin.db'}"},
            "server": {"secret_key": "test-secret-key-0123456789"},
            "engine": {"poll": 0.1, "flush_interval": 0.02},
            "channels": {"sms": {"type": "twilio-sms", "account_sid": DEFAULT_ACCOUNT_SID,
                                 "auth_token": DEFAULT_AUTH_TOKEN, "api_base_url": sim.base_url,
                                 "from": "+33100000001", "rate": 0}},
        })
        runtime = Runtime.open(config)
        people = [Contact(first, "Habitant", means=(ContactMeans(AddressKind.MOBILE, number),))
                  for first, number in zip(("Anne", "Luc", "Zoé", "Jean"), sorted(SMS_BOOK["sms"]),
                                           strict=True)]
        ids = runtime.store.contacts.upsert(people).ids
        runtime.store.groups.create("Centre")
        runtime.store.groups.add("Centre", ids)
        with LiveServer(create_app(runtime, start_engine=True), sock) as live:
            yield runtime, live, sim
        runtime.close()
