"""The AT session over a real pty: final results, prompts, URCs anywhere, errors."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools

import pytest
from attrs import frozen
from hypothesis import given, settings
from hypothesis import strategies as st

from tocsin.hal.errors import AtError, AtTimeout, ModemGone
from tocsin.hal.pdu import encode_status_report
from tocsin.hal.session import Urc, final_error

from .conftest import session_on_pty

CDS_PDU = encode_status_report(7, "+33612345678", 0, dt.datetime(2026, 1, 1, tzinfo=dt.UTC))


@frozen
class Step:
    command: str
    lines: tuple[str, ...]
    final: str
    body: str | None = None


STEPS = [
    Step("AT+CSQ", ("+CSQ: 20,99",), "OK"),
    Step("AT+CLCC", ('+CLCC: 1,0,3,0,0,"+33612345678",145',), "OK"),
    Step("AT+CGSN", ("350000000000001",), "OK"),
    Step("AT+CMGR=1", ("+CMGR: 0,,25", CDS_PDU), "OK"),
    Step("AT+CMGS=20", ("+CMGS: 7",), "OK", body="0011000B913316325476F80000AA03C8F40F"),
    Step("AT+CMGS=20", (), "+CMS ERROR: 42", body="0011000B913316325476F80000AA03C8F40F"),
    Step("AT+CPIN?", (), "+CME ERROR: 10"),
    Step("AT+NOPE", (), "ERROR"),
    Step("AT", (), "OK"),
]
URCS = [
    Urc("RING", "RING"),
    Urc("+CMTI", '+CMTI: "SM",3'),
    Urc("+CDS", "+CDS: 25", CDS_PDU),
    Urc("NO CARRIER", "NO CARRIER"),
    Urc("+CLCC", '+CLCC: 1,0,0,0,0,"+33612345678",145'),
    Urc("^RSSI", "^RSSI: 18"),
    Urc("+DTMF", "+DTMF: 1"),
    Urc("+CUSD", '+CUSD: 0,"Solde: 5 €",15'),
]
ENDING = st.sampled_from(["\r\n", "\n", "\r"])


def _asks(step: Step) -> str:
    """The response prefix ``step``'s command asks for (``AT+CLCC`` -> ``+CLCC``)."""
    return step.command[2:].split("=")[0].rstrip("?")


@st.composite
def scripts(draw):
    """Steps, each with URCs inserted between (or after) its lines, and line endings."""
    echo = draw(st.booleans())
    out = []
    for step in draw(st.lists(st.sampled_from(STEPS), min_size=1, max_size=5)):
        allowed = [u for u in URCS if u.name != _asks(step)]
        # a URC after the final result may be read once the next command is sent (its line
        # ends only with the next bytes): it must not be one any command asks for, or it
        # is rightly taken as that command's response
        trailing = [u for u in allowed if u.name not in {_asks(s) for s in STEPS}]
        inserts = draw(st.lists(
            st.tuples(st.integers(0, len(step.lines)), st.sampled_from(allowed))
            | st.tuples(st.just(len(step.lines) + 1), st.sampled_from(trailing)),
            max_size=3))
        endings = draw(st.lists(ENDING, min_size=20, max_size=20))
        cuts = draw(st.lists(st.integers(0, 400), max_size=8))
        after_prompt = draw(st.none() | st.sampled_from(allowed)) if step.body else None
        out.append((step, inserts, endings, cuts, after_prompt))
    return echo, out


def render(step: Step, inserts, endings) -> tuple[list[Urc], bytes]:
    """The modem's output after the command (or after the body), and the URCs it holds."""
    ending = iter(endings * 5)
    chunks: list[str] = []
    urcs: list[Urc] = []
    for position in range(len(step.lines) + 2):
        for where, urc in inserts:
            if where == position:
                urcs.append(urc)
                chunks.append(f"{next(ending)}{urc.line}{next(ending)}")
                if urc.body:
                    chunks.append(f"{urc.body}{next(ending)}")
        if position < len(step.lines):
            chunks.append(f"{next(ending)}{step.lines[position]}{next(ending)}")
        elif position == len(step.lines):
            chunks.append(f"{next(ending)}{step.final}{next(ending)}")
    return urcs, "".join(chunks).encode()


async def write_split(peer, data: bytes, cuts: list[int]) -> None:
    points = sorted({c % (len(data) + 1) for c in cuts} | {0, len(data)})
    for start, end in itertools.pairwise(points):
        await peer.write(data[start:end])


async def play(echo: bool, script) -> None:
    async with session_on_pty() as (session, peer):
        seen: list[Urc] = []
        session.subscribe(seen.append)
        expected_urcs: list[Urc] = []

        async def modem() -> None:
            for step, inserts, endings, cuts, after_prompt in script:
                command = await peer.read_until(b"\r")
                assert command.decode().strip() == step.command
                if echo:
                    await peer.write(command)
                if step.body is not None:
                    prompt = "\r\n> "
                    if after_prompt is not None:  # a URC in the same burst as the prompt
                        expected_urcs.append(after_prompt)
                        prompt += f"\r\n{after_prompt.line}\r\n"
                        prompt += f"{after_prompt.body}\r\n" if after_prompt.body else ""
                    await peer.write(prompt.encode())
                    body = await peer.read_until(b"\x1a")
                    assert body[:-1].decode() == step.body
                    if echo:
                        await peer.write(body)
                urcs, data = render(step, inserts, endings)
                expected_urcs.extend(urcs)
                await write_split(peer, data, cuts)

        far_end = asyncio.create_task(modem())
        for step, *_ in script:
            error = final_error(step.command, step.final)
            if error is None:
                response = await session.command(step.command, body=step.body)
                assert response.lines == step.lines
                assert response.final == step.final
            else:
                with pytest.raises(AtError) as caught:
                    await session.command(step.command, body=step.body)
                assert (caught.value.kind, caught.value.code) == (error.kind, error.code)
        await far_end
        for _ in range(50):
            if len(seen) >= len(expected_urcs):
                break
            await asyncio.sleep(0.01)
        assert seen == expected_urcs


@settings(max_examples=60)
@given(scripts())
def test_responses_and_unsolicited_codes_are_told_apart_whatever_the_interleaving(script):
    echo, steps = script
    asyncio.run(play(echo, steps))


async def test_errors_carry_their_code_and_its_meaning():
    async with session_on_pty() as (session, peer):
        async def answer() -> None:
            await peer.read_until(b"\r")
            await peer.write(b"\r\n+CMS ERROR: 21\r\n")

        task = asyncio.create_task(answer())
        with pytest.raises(AtError) as caught:
            await session.command("AT+CMGS=12", body="00")
        await task
        assert caught.value.code == 21 and caught.value.kind == "CMS"
        assert caught.value.meaning == "short message transfer rejected"
        assert "+CMS ERROR: 21" in str(caught.value)


async def test_a_command_without_answer_times_out_and_the_session_goes_on():
    async with session_on_pty(timeout=0.2) as (session, peer):
        with pytest.raises(AtTimeout, match="AT\\+CSQ"):
            await session.command("AT+CSQ")
        await peer.read_until(b"\r")

        async def answer() -> None:
            await peer.read_until(b"\r")
            await peer.write(b"\r\nOK\r\n")

        task = asyncio.create_task(answer())
        response = await session.command("AT", timeout=2)
        await task
        assert response.final == "OK"


async def test_a_vanished_port_fails_the_running_command_and_every_later_one():
    async with session_on_pty(timeout=5) as (session, peer):
        gone: list[Urc] = []
        session.subscribe(lambda u: gone.append(u) if u.name == "GONE" else None)
        running = asyncio.create_task(session.command("AT+CSQ"))
        await peer.read_until(b"\r")
        peer.close()
        with pytest.raises(ModemGone):
            await running
        with pytest.raises(ModemGone):
            await session.command("AT")
        assert [u.name for u in gone] == ["GONE"]


async def test_a_failing_subscriber_does_not_stop_the_others():
    async with session_on_pty() as (session, peer):
        seen: list[str] = []

        def broken(urc: Urc) -> None:
            raise RuntimeError("subscriber bug")

        session.subscribe(broken)
        session.subscribe(lambda u: seen.append(u.line))
        await peer.write(b"\r\nRING\r\n")
        for _ in range(100):
            if seen:
                break
            await asyncio.sleep(0.01)
        assert seen == ["RING"]


async def test_call_results_end_a_dial_command_but_are_unsolicited_otherwise():
    async with session_on_pty() as (session, peer):
        seen: list[str] = []
        session.subscribe(lambda u: seen.append(u.name))

        async def answer() -> None:
            await peer.read_until(b"\r")
            await peer.write(b"\r\nBUSY\r\n")
            await peer.read_until(b"\r")
            await peer.write(b"\r\nBUSY\r\n\r\nOK\r\n")

        task = asyncio.create_task(answer())
        response = await session.command("ATD+33612345678;")
        assert response.final == "BUSY"
        response = await session.command("AT+CSQ")
        assert response.final == "OK"
        await task
        assert seen == ["BUSY"]


async def test_a_synchronising_command_drops_everything_before_its_echo():
    async with session_on_pty() as (session, peer):
        async def answer() -> None:
            await peer.read_until(b"\r")
            await peer.write(b"\r\nOK\r\n\r\n+CSQ: 5,99\r\nAT\r\r\nOK\r\n")

        task = asyncio.create_task(answer())
        response = await session.command("AT", sync=True)
        await task
        assert response.lines == () and response.final == "OK"
