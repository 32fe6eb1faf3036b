"""Fixtures for the engine tests: a Tocsin on SQLite and PostgreSQL, driven by a fake
clock, with console channels for every means and a few contacts."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from attrs import define, field

from tocsin.app import Tocsin
from tocsin.clock import FakeClock
from tocsin.config import Config, build_config
from tocsin.hookspecs import hookimpl
from tocsin.model import AlertState, AttemptChange, Contact, ContactMeans
from tocsin.runtime import Runtime


def console(means: str, **options: Any) -> dict[str, Any]:
    return {"type": "console", "means": means, "output": "none", **options}


CHANNELS = {"phone": console("call"), "text": console("sms"), "mail": console("email")}


def make_config(db_url: str, tmp_path: Path, channels: Mapping[str, Any] | None = None, **sections: Any
                ) -> Config:
    data: dict[str, Any] = {
        "tocsin": {"data_dir": str(tmp_path / "data"), "database": db_url},
        "channels": dict(CHANNELS if channels is None else channels),
    }
    data.update(sections)
    return build_config(data)


@define
class Recorder:
    """A plugin recording what the observer hooks receive."""

    changes: list[AttemptChange] = field(factory=list)
    sent: list[int] = field(factory=list)
    finished: list[tuple[int, AlertState]] = field(factory=list)

    @hookimpl
    def tocsin_attempts_changed(self, runtime: Any, changes: Any) -> None:
        self.changes.extend(changes)

    @hookimpl
    def tocsin_alert_sent(self, runtime: Any, alert: Any) -> None:
        self.sent.append(alert.id)

    @hookimpl
    def tocsin_alert_finished(self, runtime: Any, alert: Any) -> None:
        self.finished.append((alert.id, alert.state))


def person(i: int, *, mobile: bool = True, email: bool = True, phone: bool = False, **attributes: str
           ) -> Contact:
    means = []
    if mobile:
        means.append(ContactMeans("mobile", f"+336{i:08d}"))
    if phone:
        means.append(ContactMeans("phone", f"+331{i:08d}"))
    if email:
        means.append(ContactMeans("email", f"p{i}@example.org"))
    return Contact(first_name=f"First{i}", last_name=f"Last{i}", external_id=f"x{i}", means=means,
                   attributes=attributes)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


AppFactory = Callable[..., Tocsin]


@pytest.fixture
async def make_app(db_url: str, tmp_path: Path, clock: FakeClock, recorder: Recorder
                   ) -> AsyncIterator[Callable[..., Any]]:
    """``await make_app(channels=..., **sections)``: a started Tocsin in step mode."""
    started: list[Tocsin] = []

    async def factory(channels: Mapping[str, Any] | None = None, *, plugins: tuple[Any, ...] = (),
                      engine: Mapping[str, Any] | None = None, **sections: Any) -> Tocsin:
        app = Tocsin(
            make_config(db_url, tmp_path, channels, **sections),
            clock=clock,
            background=False,
            plugins=(("recorder", recorder), *plugins),
            engine=engine,
        )
        await app.start()
        started.append(app)
        return app

    yield factory
    for app in started:
        await app.stop()


@pytest.fixture
async def app(make_app: Callable[..., Any]) -> Tocsin:
    return await make_app()  # type: ignore[no-any-return]


def add_group(app: Tocsin, name: str, contacts: list[Contact]) -> list[int]:
    ids = list(app.store.contacts.upsert(contacts).ids)
    app.store.groups.create(name)
    app.store.groups.add(name, ids)
    return ids


@pytest.fixture
def make_runtime(db_url: str, tmp_path: Path, clock: FakeClock, recorder: Recorder
                 ) -> Iterator[Callable[..., Runtime]]:
    """``make_runtime()``: a runtime with the recorder plugin, closed after the test."""
    opened: list[Runtime] = []

    def factory(channels: Mapping[str, Any] | None = None) -> Runtime:
        runtime = Runtime.open(
            make_config(db_url, tmp_path, channels), clock=clock, plugins=[("recorder", recorder)]
        )
        opened.append(runtime)
        return runtime

    yield factory
    for runtime in opened:
        runtime.close()


@pytest.fixture
def config(db_url: str, tmp_path: Path) -> Config:
    return make_config(db_url, tmp_path)


@pytest.fixture
def helpers() -> Any:
    class H:
        person = staticmethod(person)
        add_group = staticmethod(add_group)
        console = staticmethod(console)

    return H
