"""Serve an ASGI application on loopback with uvicorn, for tests and simulators.

:func:`serving` runs it in the current event loop (an async context manager yielding the
base URL); :class:`ServerThread` runs it in a thread of its own for synchronous tests.
A socket can be bound first (:func:`bind_loopback`) when the URL must be known before
the application is built (webhook URLs given to a provider).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections.abc import AsyncIterator, Iterator
from typing import Any, Literal

import uvicorn

LOOPBACK = "127.0.0.1"
Lifespan = Literal["auto", "on", "off"]


def bind_loopback(port: int = 0) -> socket.socket:
    """A listening TCP socket on 127.0.0.1 (``port`` 0: any free port).

    Made with ``IPPROTO_TCP`` named: asyncio turns Nagle's algorithm off (``TCP_NODELAY``)
    only on sockets whose protocol says TCP, and with it on, a response written as headers
    then body waits for the client's delayed ACK — about 40 ms a request."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((LOOPBACK, port))
    except OSError:
        sock.close()
        raise
    sock.listen(1024)
    sock.set_inheritable(True)
    return sock


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://{host}:{port}"


class _EmbeddedServer(uvicorn.Server):
    """uvicorn without its signal handlers: the host process (a test, the CLI) owns them."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def _server(app: Any, *, log_level: str = "warning", lifespan: Lifespan = "off") -> uvicorn.Server:
    config = uvicorn.Config(
        app,
        lifespan=lifespan,
        log_level=log_level,
        access_log=False,
        http="h11",
        loop="none",
        timeout_graceful_shutdown=2,
        backlog=1024,
    )
    return _EmbeddedServer(config)


@contextlib.asynccontextmanager
async def serving(
    app: Any,
    *,
    sock: socket.socket | None = None,
    port: int = 0,
    log_level: str = "warning",
    lifespan: Lifespan = "off",
) -> AsyncIterator[str]:
    """Serve ``app`` on loopback while the block runs; yields ``http://127.0.0.1:<port>``
    (``lifespan="on"`` runs the application's startup and shutdown)."""
    sock = sock or bind_loopback(port)
    server = _server(app, log_level=log_level, lifespan=lifespan)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:  # uvicorn offers no event for this: poll its flag
            if task.done():
                await task
                raise RuntimeError("the HTTP server stopped while starting")
            await asyncio.sleep(0.005)
        yield url_of(sock)
    finally:
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await task
        sock.close()


class ServerThread:
    """``app`` served in a background thread with its own event loop (sync tests)."""

    def __init__(self, app: Any, *, sock: socket.socket | None = None) -> None:
        self.sock = sock or bind_loopback()
        self.url = url_of(self.sock)
        self._server = _server(app)
        self._thread = threading.Thread(target=self._run, name=f"http-{self.url}", daemon=True)
        self._ready = threading.Event()
        self._error: BaseException | None = None

    def _run(self) -> None:
        async def main() -> None:
            task = asyncio.create_task(self._server.serve(sockets=[self.sock]))
            while not self._server.started and not task.done():
                await asyncio.sleep(0.005)
            self._ready.set()
            await task

        try:
            asyncio.run(main())
        except BaseException as exc:  # reported to the starting thread
            self._error = exc
            self._ready.set()

    def __enter__(self) -> ServerThread:
        self._thread.start()
        self._ready.wait(timeout=30)
        if self._error is not None:
            raise RuntimeError(f"the HTTP server failed to start: {self._error}") from self._error
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self.sock.close()
