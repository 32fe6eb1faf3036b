"""The reference server inside the demo's event loop, next to the engine, the modems and
the mail server: uvicorn on a socket bound up front (so a taken port is reported before
anything starts), with the application's lifespan, and without uvicorn's own signal
handlers (the demo owns Ctrl-C and stops everything in order)."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import socket
from collections.abc import AsyncIterator, Iterator

import uvicorn

from tocsin.errors import ConfigError
from tocsin.runtime import Runtime
from tocsin.testing.http_server import LOOPBACK, bind_loopback

HOST = LOOPBACK


def bind(port: int) -> socket.socket:
    """A listening socket on loopback (:func:`~tocsin.testing.http_server.bind_loopback`,
    which keeps Nagle off), or a :class:`ConfigError` saying the port is taken."""
    try:
        return bind_loopback(port)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise ConfigError(f"port {port} on {HOST} is taken; choose another with --port") from None
        raise ConfigError(f"cannot listen on {HOST}:{port}: {exc.strerror}") from None


class _HostedServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@contextlib.asynccontextmanager
async def serving(runtime: Runtime, sock: socket.socket) -> AsyncIterator[str]:
    """Serve the reference server for ``runtime`` (whose engine the host runs) on
    ``sock`` while the block runs; yields its base URL."""
    from tocsin.plugins.server.app import create_app

    config = uvicorn.Config(create_app(runtime), lifespan="on", log_level="warning",
                            access_log=False, timeout_graceful_shutdown=2)
    server = _HostedServer(config)
    task = asyncio.create_task(server.serve(sockets=[sock]), name="tocsin-demo-server")
    try:
        while not server.started:  # uvicorn offers no event for this
            if task.done():
                await task
                raise ConfigError("the reference server stopped while starting (see above)")
            await asyncio.sleep(0.02)
        host, port = sock.getsockname()[:2]
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await task
        sock.close()
