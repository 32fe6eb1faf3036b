"""The transport: ports with a descriptor (pty) and URL ports read by a pump thread."""

from __future__ import annotations

import asyncio

import pytest

from tocsin.hal.errors import ModemGone
from tocsin.hal.session import AtSession
from tocsin.hal.transport import SerialTransport


async def _answering_server() -> tuple[asyncio.Server, int, list[bytes]]:
    """A loopback TCP peer (what an RFC 2217 / ser2net port server fronts) that answers
    every AT command with OK and a URC first."""
    received: list[bytes] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while line := await reader.readuntil(b"\r"):
                received.append(line)
                writer.write(b"\r\nRING\r\n\r\n+CSQ: 17,99\r\n\r\nOK\r\n")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    return server, port, received


async def test_a_network_serial_port_answers_commands_and_codes():
    server, port, received = await _answering_server()
    transport = await SerialTransport.open(f"socket://127.0.0.1:{port}")
    session = AtSession(transport, timeout=5)
    seen: list[str] = []
    loop_thread: list[bool] = []

    def on_urc(urc) -> None:
        seen.append(urc.name)
        loop_thread.append(asyncio.get_running_loop() is not None)

    session.subscribe(on_urc)
    await session.start()
    try:
        response = await session.command("AT+CSQ")
        assert response.prefixed("+CSQ") == ["17,99"]
        assert received == [b"AT+CSQ\r"]
        assert seen == ["RING"] and loop_thread == [True]
    finally:
        await session.close()
        server.close()
        await server.wait_closed()


async def test_a_port_without_descriptor_is_read_by_a_pump_thread_into_the_loop():
    transport = await SerialTransport.open("loop://")  # pyserial's loopback: no descriptor
    assert transport._thread is not None
    try:
        await transport.write(b"\r\nOK\r\n")
        data = b""
        while data != b"\r\nOK\r\n":
            data += await asyncio.wait_for(transport.read(), 5)
    finally:
        await transport.close()
    with pytest.raises(ModemGone):
        await transport.read()


async def test_a_port_that_cannot_be_opened_is_modem_gone():
    with pytest.raises(ModemGone, match="cannot open"):
        await SerialTransport.open("/nonexistent/ttyUSB0")
    with pytest.raises(ModemGone):
        await SerialTransport.open("socket://127.0.0.1:1")


async def test_writing_to_a_closed_transport_is_modem_gone():
    server, port, _ = await _answering_server()
    transport = await SerialTransport.open(f"socket://127.0.0.1:{port}")
    await transport.close()
    with pytest.raises(ModemGone):
        await transport.write(b"AT\r")
    with pytest.raises(ModemGone):
        await transport.read()
    server.close()
    await server.wait_closed()
