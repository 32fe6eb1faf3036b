"""A byte stream to a modem: pyserial driven from asyncio.

Real ports (``/dev/ttyUSB0``, ``/dev/serial/by-id/...``, ``COM3``) and pseudo-terminals
have a file descriptor: the event loop watches it and reads without blocking. URL
ports without one (``rfc2217://host:port``, ``socket://``) are read by a small thread
that only moves bytes into the loop; nothing else ever runs on it. Any I/O error
(the device was unplugged) ends the stream with :class:`~tocsin.hal.errors.ModemGone`.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Protocol

import serial

from tocsin.hal.errors import ModemGone

log = logging.getLogger(__name__)


class Transport(Protocol):
    """What the AT session needs from a byte stream."""

    name: str

    async def read(self) -> bytes:
        """The next bytes received; raises :class:`ModemGone` when the device is gone."""

    async def write(self, data: bytes) -> None:
        """Send ``data``; raises :class:`ModemGone` when the device is gone."""

    async def close(self) -> None:
        """Release the device (idempotent)."""


class SerialTransport:
    """pyserial under asyncio. Build it with :meth:`open`."""

    def __init__(self, port: serial.SerialBase, name: str) -> None:
        self.name = name
        self._port = port
        self._queue: asyncio.Queue[bytes | BaseException] = asyncio.Queue()
        self._loop = asyncio.get_running_loop()
        self._closed = False
        self._fd: int | None = None
        self._thread: threading.Thread | None = None
        try:
            self._fd = port.fileno()
        except (AttributeError, NotImplementedError, OSError, ValueError):
            self._fd = None
        if self._fd is not None:
            self._loop.add_reader(self._fd, self._on_readable)
        else:
            self._thread = threading.Thread(target=self._pump, name=f"serial-{name}", daemon=True)
            self._thread.start()

    @classmethod
    async def open(cls, url: str, *, baudrate: int = 115200) -> SerialTransport:
        """Open ``url`` (a device path or a pyserial URL); :class:`ModemGone` if absent."""
        try:
            port = await asyncio.to_thread(
                serial.serial_for_url, url, baudrate=baudrate, timeout=0, write_timeout=5
            )
        except (serial.SerialException, OSError, ValueError) as exc:
            raise ModemGone(f"cannot open {url}: {exc}") from exc
        return cls(port, url)

    # -- reading -------------------------------------------------------------------------

    def _on_readable(self) -> None:
        try:
            waiting = self._port.in_waiting
            data = self._port.read(waiting or 1)
        except (serial.SerialException, OSError) as exc:
            self._fail(exc)
            return
        if data:
            self._queue.put_nowait(bytes(data))

    def _pump(self) -> None:
        """Thread body for ports without a descriptor: bytes only, into the loop."""
        self._port.timeout = 0.2
        while not self._closed:
            try:
                data = self._port.read(max(1, self._port.in_waiting))
            except (serial.SerialException, OSError) as exc:
                if not self._closed:
                    self._loop.call_soon_threadsafe(self._fail, exc)
                return
            if data:
                self._loop.call_soon_threadsafe(self._queue.put_nowait, bytes(data))

    def _fail(self, exc: BaseException) -> None:
        if self._fd is not None:
            self._loop.remove_reader(self._fd)
            self._fd = None
        self._queue.put_nowait(ModemGone(f"{self.name}: {exc}"))

    async def read(self) -> bytes:
        item = await self._queue.get()
        if isinstance(item, BaseException):
            self._queue.put_nowait(item)  # every later read fails the same way
            raise item
        return item

    # -- writing -------------------------------------------------------------------------

    async def write(self, data: bytes) -> None:
        if self._closed:
            raise ModemGone(f"{self.name}: closed")
        try:
            if self._thread is None:
                self._port.write(data)
            else:
                await asyncio.to_thread(self._port.write, data)
        except (serial.SerialException, OSError) as exc:
            raise ModemGone(f"{self.name}: write failed: {exc}") from exc

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._fd is not None:
            self._loop.remove_reader(self._fd)
            self._fd = None
        try:
            self._port.close()
        except (serial.SerialException, OSError) as exc:
            log.debug("closing %s: %s", self.name, exc)
        self._queue.put_nowait(ModemGone(f"{self.name}: closed"))
