"""A thin synchronous facade over :class:`tocsin.app.Tocsin` for hosts without asyncio.

``with SyncTocsin(config) as app: app.send(alert, groups=["town"])`` runs the engine
in a background thread with its own event loop; each method waits for its result.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

from tocsin.app import Tocsin
from tocsin.engine import AlertStatus, TickReport
from tocsin.model import Alert, Audience, Recontact
from tocsin.rules import OutcomeCounts

T = TypeVar("T")


class SyncTocsin:
    """The same operations as :class:`~tocsin.app.Tocsin`, blocking."""

    def __init__(self, config: Any = None, **options: Any) -> None:
        self.app = Tocsin(config, **options)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="tocsin-loop", daemon=True)

    def _run(self, coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def __enter__(self) -> SyncTocsin:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> None:
        self._thread.start()
        self._run(self.app.start())

    def close(self) -> None:
        if self._thread.is_alive():
            try:
                self._run(self.app.stop())
            finally:
                self._loop.call_soon_threadsafe(self._loop.stop)
                self._thread.join()
                self._loop.close()

    def create(self, alert: Alert) -> Alert:
        return self._run(self.app.create(alert))

    def send(self, alert: Alert | int, audience: Audience | None = None, **kwargs: Any) -> Alert:
        return self._run(self.app.send(alert, audience, **kwargs))

    def cancel(self, alert_id: int) -> Alert:
        return self._run(self.app.cancel(alert_id))

    def recontact(self, alert_id: int, *, by: int | None = None) -> Recontact:
        return self._run(self.app.recontact(alert_id, by=by))

    def status(self, alert_id: int) -> AlertStatus:
        return self._run(self.app.status(alert_id))

    def outcome_counts(self, alert_id: int) -> OutcomeCounts:
        return self._run(self.app.outcome_counts(alert_id))

    def run_due(self) -> TickReport:
        return self._run(self.app.run_due())

    def wait_finished(self, alert_id: int, *, timeout: float | None = None) -> AlertStatus:
        return self._run(self.app.wait_finished(alert_id, timeout=timeout))


__all__ = ["SyncTocsin"]
