"""A scripted far end on a real pseudo-terminal, for tests of the transport and session."""

from __future__ import annotations

import asyncio
import contextlib
import os
import tty
from collections.abc import AsyncIterator

from tocsin.hal.session import AtSession
from tocsin.hal.transport import SerialTransport


class PtyPeer:
    """The modem end of a pty, driven by the test: read what the session writes,
    write what a modem would answer."""

    def __init__(self) -> None:
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)
        os.set_blocking(self.master, False)
        self.path = os.ttyname(self.slave)
        self._buffer = bytearray()
        self._data = asyncio.Event()
        asyncio.get_running_loop().add_reader(self.master, self._readable)

    def _readable(self) -> None:
        with contextlib.suppress(BlockingIOError, OSError):
            self._buffer += os.read(self.master, 4096)
            self._data.set()

    async def read_until(self, marker: bytes, timeout: float = 5.0) -> bytes:
        async def wait() -> bytes:
            while marker not in self._buffer:
                self._data.clear()
                await self._data.wait()
            end = self._buffer.index(marker) + len(marker)
            data = bytes(self._buffer[:end])
            del self._buffer[:end]
            return data

        return await asyncio.wait_for(wait(), timeout)

    async def write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            try:
                written = os.write(self.master, view)
            except BlockingIOError:
                await asyncio.sleep(0)
                continue
            view = view[written:]
        await asyncio.sleep(0)

    def close(self) -> None:
        asyncio.get_running_loop().remove_reader(self.master)
        for fd in (self.master, self.slave):
            with contextlib.suppress(OSError):
                os.close(fd)


@contextlib.asynccontextmanager
async def session_on_pty(timeout: float = 5.0) -> AsyncIterator[tuple[AtSession, PtyPeer]]:
    peer = PtyPeer()
    session = AtSession(await SerialTransport.open(peer.path), timeout=timeout)
    await session.start()
    try:
        yield session, peer
    finally:
        await session.close()
        peer.close()
