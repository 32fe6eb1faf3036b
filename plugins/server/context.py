"""What every request handler of the server shares: one object on the application state."""

from __future__ import annotations

import datetime as dt
from typing import Any

from tocsin.plugins.server.operations import Operations
from tocsin.plugins.server.sessions import CookieSigner, Sessions
from tocsin.plugins.server.settings import ServerSettings
from tocsin.plugins.server.throttle import LoginThrottle
from tocsin.plugins.server.tokens import Tokens
from tocsin.plugins.server.webhooks import Webhooks
from tocsin.runtime import Runtime
from tocsin.store import Store


class ServerContext:
    """The runtime plus the server's own repositories and settings."""

    def __init__(self, runtime: Runtime, settings: ServerSettings) -> None:
        self.runtime = runtime
        self.settings = settings
        engine = runtime.store.engine
        self.sessions = Sessions(engine)
        self.tokens = Tokens(engine)
        self.throttle = LoginThrottle(
            engine, max_failures=settings.login_max_failures, window=settings.login_window_seconds
        )
        self.operations = Operations(engine, runtime.clock)
        self.webhooks = Webhooks(engine, runtime.clock)
        self.signer = CookieSigner(settings.secret_key, settings.session_seconds)
        self.extras: dict[str, Any] = {}
        """Objects the server's parts keep for the run (operations runner, webhook worker)."""

    @property
    def store(self) -> Store:
        return self.runtime.store

    def now(self) -> dt.datetime:
        return self.runtime.clock.now()


from litestar.di import NamedDependency  # noqa: E402

Ctx = NamedDependency[ServerContext]
"""Annotation of a handler parameter that receives the :class:`ServerContext`."""
