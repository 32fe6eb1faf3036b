"""A small asyncio client for clamd's socket protocol (``PING``, ``VERSION``, ``INSTREAM``).

clamd (Debian's clamav-daemon) listens on a Unix socket (``/run/clamav/clamd.ctl``) or a
TCP port. ``INSTREAM`` sends the bytes in length-prefixed chunks and a zero-length chunk,
and clamd answers ``stream: OK`` or ``stream: <signature> FOUND``. Commands use the
``z`` prefix: requests and replies end with a NUL byte.
"""

from __future__ import annotations

import asyncio
import struct

from attrs import frozen

from tocsin.scan import ScanError

CHUNK = 64 * 1024


@frozen
class ClamdAddress:
    """Where clamd listens: a Unix socket path, or a host and port."""

    socket: str = ""
    host: str = ""
    port: int = 3310
    timeout: float = 30.0

    @property
    def label(self) -> str:
        return self.socket or f"{self.host}:{self.port}"


@frozen
class Verdict:
    """clamd's answer for one stream: ``signature`` is empty when the data is clean."""

    signature: str = ""

    @property
    def infected(self) -> bool:
        return bool(self.signature)


async def _open(address: ClamdAddress) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    try:
        if address.socket:
            return await asyncio.wait_for(asyncio.open_unix_connection(address.socket),
                                          address.timeout)
        return await asyncio.wait_for(asyncio.open_connection(address.host, address.port),
                                      address.timeout)
    except (OSError, TimeoutError) as exc:
        raise ScanError(f"clamd at {address.label} is not reachable: {exc}") from exc


async def _command(address: ClamdAddress, command: bytes, body: bytes | None = None) -> str:
    reader, writer = await _open(address)
    try:
        writer.write(b"z" + command + b"\0")
        if body is not None:
            for start in range(0, len(body), CHUNK):
                chunk = body[start:start + CHUNK]
                writer.write(struct.pack("!L", len(chunk)) + chunk)
                await writer.drain()
            writer.write(struct.pack("!L", 0))
        await writer.drain()
        reply = await asyncio.wait_for(reader.readuntil(b"\0"), address.timeout)
    except (OSError, TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError) as exc:
        raise ScanError(f"clamd at {address.label} failed during {command.decode()}: {exc}") from exc
    finally:
        writer.close()
    return reply.rstrip(b"\0").decode("utf-8", "replace").strip()


async def ping(address: ClamdAddress) -> bool:
    """Whether clamd answers ``PONG``."""
    return await _command(address, b"PING") == "PONG"


async def version(address: ClamdAddress) -> str:
    return await _command(address, b"VERSION")


def parse_reply(reply: str) -> Verdict:
    """``stream: OK`` -> clean; ``stream: X FOUND`` -> X; anything else is an error."""
    _, _, result = reply.partition(": ")
    if result == "OK":
        return Verdict()
    if result.endswith(" FOUND"):
        return Verdict(result.removesuffix(" FOUND").strip())
    raise ScanError(f"clamd could not scan: {reply or 'no answer'}")


async def scan_bytes(address: ClamdAddress, data: bytes) -> Verdict:
    """Scan ``data`` with ``INSTREAM``; :class:`ScanError` when clamd could not."""
    return parse_reply(await _command(address, b"INSTREAM", data))
