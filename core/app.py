"""Tocsin inside a host application: ``async with Tocsin(config) as app: ...``.

The application object opens the runtime (configuration, plugins, store), starts the
engine and offers the operations a host needs: create and send an alert, cancel it,
recontact its uncontacted contacts, read its status and outcome counts. With a fake
clock, start it with ``background=False`` and drive it with :meth:`Tocsin.run_due`.
For hosts without asyncio, :mod:`tocsin.sync` wraps the same operations.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from tocsin.clock import Clock
from tocsin.config import Config
from tocsin.engine import AlertStatus, Engine, TickReport, engine_settings
from tocsin.errors import TocsinError
from tocsin.model import Alert, AlertState, Audience, Recontact
from tocsin.rules import OutcomeCounts
from tocsin.runtime import Runtime
from tocsin.store import Store

DONE_STATES = (AlertState.FINISHED, AlertState.CANCELLED)


class Tocsin:
    """One running Tocsin: runtime plus engine.

    ``background`` runs dispatch, status batches and timers as tasks (a real
    deployment); without it nothing happens until :meth:`run_due`. ``dispatch=False``
    starts no senders (a process that only creates alerts or receives webhooks while
    ``tocsin engine run`` sends elsewhere). ``engine`` overrides ``[engine]`` keys.
    """

    def __init__(
        self,
        config: Config | str | Path | None = None,
        *,
        clock: Clock | None = None,
        plugins: Iterable[tuple[str, object]] = (),
        entry_points: bool = True,
        background: bool = True,
        dispatch: bool = True,
        engine: Mapping[str, Any] | None = None,
    ) -> None:
        self._config = config
        self._clock = clock
        self._plugins = tuple(plugins)
        self._entry_points = entry_points
        self._background = background
        self._dispatch = dispatch
        self._engine_options = dict(engine or {})
        self._runtime: Runtime | None = None
        self._engine: Engine | None = None

    # -- life ------------------------------------------------------------------------------

    async def __aenter__(self) -> Tocsin:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def start(self) -> None:
        """Open the runtime, start the engine, then call the plugins' startup hooks."""
        config = str(self._config) if isinstance(self._config, Path) else self._config
        runtime = await asyncio.to_thread(
            Runtime.open, config, clock=self._clock, plugins=self._plugins, entry_points=self._entry_points
        )
        try:
            engine = Engine(runtime, engine_settings(runtime.config, **self._engine_options))
            await engine.start(background=self._background, dispatch=self._dispatch)
        except BaseException:
            runtime.close()
            raise
        runtime.services["engine"] = engine
        self._runtime, self._engine = runtime, engine
        for result in runtime.pm.hook.tocsin_startup(runtime=runtime):
            if inspect.isawaitable(result):
                await result

    async def stop(self) -> None:
        """Call the shutdown hooks, stop the engine (in-flight sends finish), close."""
        if self._runtime is None or self._engine is None:
            return
        runtime, engine = self._runtime, self._engine
        try:
            for result in runtime.pm.hook.tocsin_shutdown(runtime=runtime):
                if inspect.isawaitable(result):
                    await result
        finally:
            await engine.stop()
            runtime.services.pop("engine", None)
            runtime.close()
            self._runtime = self._engine = None

    @property
    def runtime(self) -> Runtime:
        if self._runtime is None:
            raise TocsinError("Tocsin is not started: use `async with Tocsin(config) as app:`")
        return self._runtime

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            raise TocsinError("Tocsin is not started: use `async with Tocsin(config) as app:`")
        return self._engine

    @property
    def store(self) -> Store:
        return self.runtime.store

    @property
    def clock(self) -> Clock:
        return self.runtime.clock

    # -- operations ------------------------------------------------------------------------

    async def create(self, alert: Alert) -> Alert:
        """Check and store an alert as a draft (sent later with :meth:`send`)."""
        return await self.engine.create(alert)

    async def send(
        self,
        alert: Alert | int,
        audience: Audience | None = None,
        *,
        groups: Iterable[str] = (),
        contacts: Iterable[int] = (),
        by: int | None = None,
    ) -> Alert:
        """Send an alert (a new one, or a draft by id) to an audience: groups by name,
        contacts by id. Everything is checked before anything is written."""
        if audience is None:
            audience = Audience(groups=tuple(groups), contact_ids=tuple(contacts))
        return await self.engine.send(alert, audience, by=by)

    async def cancel(self, alert_id: int) -> Alert:
        return await self.engine.cancel(alert_id)

    async def recontact(self, alert_id: int, *, by: int | None = None) -> Recontact:
        return await self.engine.recontact(alert_id, by=by)

    async def status(self, alert_id: int) -> AlertStatus:
        return await self.engine.status(alert_id)

    async def outcome_counts(self, alert_id: int) -> OutcomeCounts:
        return await self.engine.db(lambda: self.store.outcomes.counts(alert_id))

    async def alerts(self, *, limit: int = 50, offset: int = 0) -> list[Alert]:
        """Alerts, most recently modified first."""
        return await self.engine.db(lambda: self.store.alerts.page(limit=limit, offset=offset))

    async def run_due(self) -> TickReport:
        """Run all the work due at the clock's *now* and return (see :meth:`Engine.tick`)."""
        return await self.engine.tick()

    async def wait_finished(self, alert_id: int, *, timeout: float | None = None, poll: float = 0.1
                            ) -> AlertStatus:
        """Wait (background mode) until the alert is finished or cancelled."""

        async def loop() -> AlertStatus:
            while True:  # the alert's state is cheap to read; its counts are not
                alert = await self.engine.db(lambda: self.store.alerts.get(alert_id))
                if alert.state in DONE_STATES:
                    return await self.status(alert_id)
                await asyncio.sleep(poll)

        return await asyncio.wait_for(loop(), timeout)


__all__ = ["Tocsin"]
