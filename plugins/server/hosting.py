"""Running the engine inside the server process (``tocsin serve``).

A host application that already runs :class:`tocsin.app.Tocsin` mounts the server on
``tocsin.runtime`` and keeps its own engine; ``tocsin serve`` has no host, so the server
starts an engine on its runtime for its lifetime, exactly as ``Tocsin.start`` does.
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import AsyncIterator, Mapping
from typing import Any

from tocsin.runtime import Runtime


@contextlib.asynccontextmanager
async def engine_running(runtime: Runtime, *, dispatch: bool = True,
                         options: Mapping[str, Any] | None = None) -> AsyncIterator[None]:
    """Start an engine (unless one already runs for ``runtime``) and the startup hooks."""
    if runtime.services.get("engine") is not None:
        yield
        return
    from tocsin.engine import Engine, engine_settings

    engine = Engine(runtime, engine_settings(runtime.config, **dict(options or {})))
    await engine.start(background=True, dispatch=dispatch)
    runtime.services["engine"] = engine
    try:
        for result in runtime.pm.hook.tocsin_startup(runtime=runtime):
            if inspect.isawaitable(result):
                await result
        yield
    finally:
        try:
            for result in runtime.pm.hook.tocsin_shutdown(runtime=runtime):
                if inspect.isawaitable(result):
                    await result
        finally:
            await engine.stop()
            runtime.services.pop("engine", None)
