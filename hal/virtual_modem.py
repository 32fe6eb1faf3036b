"""A virtual GSM modem on a pseudo-terminal: the hardware our tests, the demo and the
conformance kit use.

It opens a pty, points a stable link at its slave end (as udev's ``/dev/serial/by-id``
names do) and answers AT commands in one of the dialects of
:mod:`~tocsin.hal.virtual_dialects`, with the timing of real hardware multiplied by
``scale`` (``scale=0.01`` runs a hundred times faster). The driver talks to it through
real pyserial, exactly as to a USB modem. What happens to each message and call comes
from the scenarios (:mod:`~tocsin.hal.scenarios`); ``unplug`` closes the pty as a
pulled cable would, ``replug`` brings the modem back under the same name.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import itertools
import logging
import os
import re
import tempfile
import tty
from collections.abc import AsyncIterator, Coroutine, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from attrs import define, field, frozen

from tocsin.hal.codes import classify_tp_status
from tocsin.hal.pdu import PduError, Submit, decode, encode_deliver, encode_status_report, join_units
from tocsin.hal.scenarios import Scenario, SmsFate, scenario_for
from tocsin.hal.virtual_calls import VirtualCall
from tocsin.hal.virtual_dialects import DIALECTS, Dialect

log = logging.getLogger(__name__)


@frozen
class Timing:
    """Real-hardware durations in seconds (multiplied by the modem's ``scale``)."""

    command: float = 0.02
    submit: float = 3.0  # one SMS part from body to +CMGS
    report: float = 5.0  # +CMGS to the status report
    dial: float = 1.5  # ATD to alerting
    ring: float = 5.0  # alerting to answer or busy
    no_answer: float = 30.0
    voicemail: float = 1.0  # a voicemail answers fast
    speech_per_char: float = 0.05
    press: float = 2.0  # answer (speech start) to the key press
    hang_up: float = 4.0  # a callee that hangs up does so after this
    ussd: float = 2.0


@define
class SentMessage:
    """A message as the network saw it (parts joined), and its fate."""

    recipient: str
    text: str
    references: list[int]
    fate: str = ""


@define
class _Assembly:
    recipient: str
    parts: dict[int, str] = field(factory=dict)
    references: list[int] = field(factory=list)


class VirtualModem:
    """One emulated modem. ``await start()``; its port is :attr:`device`."""

    _counter = itertools.count()

    def __init__(
        self,
        *,
        dialect: str = "simcom",
        scenarios: Sequence[Scenario] = (),
        scale: float = 1.0,
        timing: Timing | None = None,
        pin: str | None = None,
        operator: str = "Tocsin Mobile",
        network: bool = True,
        name: str | None = None,
        link_dir: str | Path | None = None,
        balance: str = "Your balance is 12.34 EUR",
        unplug_after: int | None = None,
        audio_files: Mapping[str, float] | None = None,
    ) -> None:
        if dialect not in DIALECTS:
            raise ValueError(f"unknown dialect {dialect!r} (known: {', '.join(sorted(DIALECTS))})")
        if scale <= 0:
            raise ValueError("scale must be positive")
        number = next(self._counter)
        self.dialect: Dialect = DIALECTS[dialect]
        self.scenarios = list(scenarios)
        self.scale = scale
        self.timing = timing or Timing()
        self.pin = pin
        self.operator = operator
        self.network = network
        self.balance = balance
        self.unplug_after = unplug_after
        """Pull the cable in the middle of this many-th SMS part (once)."""
        self.audio_files: dict[str, float] = dict(audio_files or {})
        """Audio files stored on the modem (path -> seconds it plays), for dialects that
        play files (SIMCom ``AT+CREC``)."""
        self.submits = 0
        self.name = name or f"vmodem{number}"
        self.imei = f"35{number:013d}"
        self.imsi = f"20801{number:010d}"
        self._own_dir = link_dir is None
        self._dir = Path(link_dir) if link_dir else Path(tempfile.mkdtemp(prefix="tocsin-vmodem-"))
        self.device = str(self._dir / self.name)
        """Stable path of the port (a link to the current pty), like /dev/serial/by-id."""
        self.messages: list[SentMessage] = []
        self.calls: list[VirtualCall] = []
        self.inbox: dict[int, str] = {}
        self.plugged = False
        self.unplugged_at: float | None = None
        """Loop time of the last unplug (for benchmarks)."""
        self.cut_off = ""
        """Recipient of the SMS the last mid-send unplug cut off."""
        self._master: int | None = None
        self._slave: int | None = None
        self._buffer = bytearray()
        self._body_for: int | None = None
        self._commands: asyncio.Queue[tuple[str, str | None]] = asyncio.Queue()
        self._tasks: set[asyncio.Task[None]] = set()
        self._worker: asyncio.Task[None] | None = None
        self._assembling: dict[tuple[str, int], _Assembly] = {}
        self._next_ref = 0
        self._changed = asyncio.Event()
        self._held_reports: dict[int, tuple[str, Scenario]] = {}
        """Status reports the network still owes: kept while unplugged, sent once the
        host switches indications on again (``AT+CNMI``)."""
        self._reset_state()

    def _reset_state(self) -> None:
        self.echo = True
        self.store_reports = False
        self.unlocked = self.pin is None
        self.call_urcs = False
        self.dtmf = False
        self.call: VirtualCall | None = None

    # -- life -----------------------------------------------------------------------------

    async def start(self) -> str:
        """Plug the modem in; returns :attr:`device`."""
        master, slave = os.openpty()
        tty.setraw(slave)
        os.set_blocking(master, False)
        self._master, self._slave = master, slave
        link_tmp = self.device + ".new"
        with contextlib.suppress(FileNotFoundError):
            os.unlink(link_tmp)
        os.symlink(os.ttyname(slave), link_tmp)
        os.replace(link_tmp, self.device)
        self._buffer.clear()
        self._body_for = None
        self._commands = asyncio.Queue()
        self._reset_state()
        asyncio.get_running_loop().add_reader(master, self._on_readable)
        self._worker = asyncio.create_task(self._work(), name=f"{self.name}-worker")
        self.plugged = True
        return self.device

    def unplug(self) -> None:
        """Pull the cable: the port disappears, whatever the modem was doing."""
        if not self.plugged:
            return
        self.plugged = False
        loop = asyncio.get_running_loop()
        self.unplugged_at = loop.time()
        if self._master is not None:
            loop.remove_reader(self._master)
        for task in [*self._tasks, *([self._worker] if self._worker else [])]:
            task.cancel()
        for fd in (self._master, self._slave):
            if fd is not None:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self._master = self._slave = None
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.device)

    async def replug(self) -> str:
        """Plug the modem back in under the same :attr:`device` name."""
        self.unplug()
        return await self.start()

    async def stop(self) -> None:
        self.unplug()
        await asyncio.sleep(0)
        if self._own_dir:
            with contextlib.suppress(OSError):
                self._dir.rmdir()

    async def __aenter__(self) -> VirtualModem:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def spawn(self, coro: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.create_task(coro, name=f"{self.name}:{name}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def pause(self, seconds: float) -> None:
        """Simulated hardware time (the one place the emulator sleeps), scaled."""
        await asyncio.sleep(seconds * self.scale)

    # -- bytes in and out -----------------------------------------------------------------

    async def settled(self) -> None:
        """Until the network owes no status report and the host has read (and deleted)
        everything stored: what a test waits for before it checks the outcomes."""
        while self._held_reports or self.inbox:
            self._changed.clear()
            await self._changed.wait()

    def _touch(self) -> None:
        self._changed.set()

    def write(self, text: str) -> None:
        if self._master is None:
            return
        try:
            os.write(self._master, text.encode())
        except BlockingIOError:
            log.warning("%s: output dropped, nobody reads the port", self.name)
        except OSError as exc:
            log.debug("%s: write failed: %s", self.name, exc)

    def urc(self, line: str, body: str = "") -> None:
        """Emit an unsolicited result code (any time, even inside a response)."""
        self.write(f"\r\n{line}\r\n" + (f"{body}\r\n" if body else ""))

    def _on_readable(self) -> None:
        assert self._master is not None
        try:
            data = os.read(self._master, 4096)
        except BlockingIOError:
            return
        except OSError:
            return
        self._buffer += data
        self._split()

    def _split(self) -> None:
        while True:
            if self._body_for is not None:
                end = next((i for i, b in enumerate(self._buffer) if b in (0x1A, 0x1B)), -1)
                if end < 0:
                    return
                body = self._buffer[:end].decode(errors="replace").strip()
                cancelled = self._buffer[end] == 0x1B
                del self._buffer[: end + 1]
                if self.echo:
                    self.write(body)
                command = f"AT+CMGS={self._body_for}"
                self._body_for = None
                self._commands.put_nowait((command, None if cancelled else body))
                continue
            end = self._buffer.find(b"\r")
            if end < 0:
                return
            line = self._buffer[:end].decode(errors="replace").strip()
            del self._buffer[: end + 1]
            if not line:
                continue
            match = re.fullmatch(r"(?i)AT\+CMGS=(\d+)", line)
            if match and self.unlocked:
                if self.echo:
                    self.write(line + "\r")
                self._body_for = int(match.group(1))
                self.write("\r\n> ")
                continue
            self._commands.put_nowait((line, None))

    async def _work(self) -> None:
        while True:
            command, body = await self._commands.get()
            if self.echo and body is None and not command.upper().startswith("AT+CMGS="):
                self.write(command + "\r")  # echoed as the command processor reads it
            await self.pause(self.timing.command)
            try:
                lines, final = await self._run(command, body)
            except _Unplugged:
                return
            out = "".join(f"\r\n{ln}\r\n" for ln in lines) + f"\r\n{final}\r\n"
            self.write(out)

    # -- commands -------------------------------------------------------------------------

    async def _run(self, command: str, body: str | None) -> tuple[list[str], str]:
        upper = command.upper()
        if not upper.startswith("AT"):
            return [], "ERROR"
        rest = command[2:]
        head = rest.upper()
        if head in ("", "E0", "E1", "V1", "Z") or head.startswith(("+CMEE", "&F")):
            if head in ("E0", "E1"):
                self.echo = head == "E1"
            return [], "OK"
        if head == "I":
            return [self.dialect.manufacturer, self.dialect.model, self.dialect.revision], "OK"
        if head.startswith("+CPIN"):
            return self._cpin(rest)
        if not self.unlocked:
            return [], "+CME ERROR: 11"
        simple = {
            "+CGMI": [self.dialect.manufacturer],
            "+CGMM": [self.dialect.model],
            "+CGMR": [self.dialect.revision],
            "+CGSN": [self.imei],
            "+CIMI": [self.imsi],
            "+CSQ": ["+CSQ: 20,99" if self.network else "+CSQ: 99,99"],
            "+CREG?": ["+CREG: 0,1" if self.network else "+CREG: 0,0"],
            "+COPS?": [f'+COPS: 0,0,"{self.operator}"' if self.network else "+COPS: 0"],
        }
        if head in simple:
            return simple[head], "OK"
        if head.startswith("+CNMI"):
            fields = head.split("=", 1)[1].split(",") if "=" in head else []
            self.store_reports = len(fields) > 3 and fields[3].strip() == "2"
            # the host listens again: the network hands over the reports it held
            for reference, (recipient, scenario) in self._held_reports.items():
                self.spawn(self._report(reference, recipient, scenario), f"report-{reference}")
            return [], "OK"
        if head.startswith(("+CMGF", "+CSMS", "+CPMS", "+CSCS")):
            return [], "OK"
        if head.startswith("+CMGS="):
            return await self._cmgs(body)
        if head.startswith("+CMGR="):
            index = int(head[6:] or -1)
            if index not in self.inbox:
                return [], "+CMS ERROR: 321"
            pdu = self.inbox[index]
            return [f"+CMGR: 0,,{len(pdu) // 2 - 1}", pdu], "OK"
        if head.startswith("+CMGL"):
            lines: list[str] = []
            for index, pdu in sorted(self.inbox.items()):
                lines += [f"+CMGL: {index},0,,{len(pdu) // 2 - 1}", pdu]
            return lines, "OK"
        if head.startswith("+CMGD="):
            self.inbox.pop(int(head[6:].split(",")[0] or -1), None)
            self._touch()
            return [], "OK"
        if head.startswith("+CUSD="):
            return self._cusd(rest)
        return await self._voice(command, head)

    def _cpin(self, rest: str) -> tuple[list[str], str]:
        if rest.endswith("?"):
            return [f"+CPIN: {'READY' if self.unlocked else 'SIM PIN'}"], "OK"
        given = rest.split("=", 1)[1].strip().strip('"') if "=" in rest else ""
        if self.unlocked:
            return [], "+CME ERROR: 3"
        if given != self.pin:
            return [], "+CME ERROR: 16"
        self.unlocked = True
        return [], "OK"

    def _cusd(self, rest: str) -> tuple[list[str], str]:
        code = rest.split(",")[1].strip('"') if "," in rest else ""

        async def answer() -> None:
            await self.pause(self.timing.ussd)
            self.urc(f'+CUSD: 0,"{self.balance} ({code})",15')

        self.spawn(answer(), "ussd")
        return [], "OK"

    # -- SMS ------------------------------------------------------------------------------

    async def _cmgs(self, body: str | None) -> tuple[list[str], str]:
        if body is None:
            return [], "OK"  # cancelled with ESC
        try:
            submit = decode(body)
        except PduError:
            return [], "+CMS ERROR: 304"
        if not isinstance(submit, Submit):
            return [], "+CMS ERROR: 304"
        scenario = scenario_for(self.scenarios, submit.recipient)
        if self.dialect.chatter:
            self.urc(self.dialect.chatter)
        self.submits += 1
        if scenario.unplug or self.submits == self.unplug_after:
            self.unplug_after = None
            self.cut_off = submit.recipient
            await self.pause(self.timing.submit / 2)
            self.unplug()
            raise _Unplugged
        if not self.network:
            await self.pause(self.timing.submit)
            return [], "+CMS ERROR: 331"
        await self.pause(self.timing.submit)
        if scenario.cms_error is not None:
            return [], f"+CMS ERROR: {scenario.cms_error}"
        reference = self._next_ref
        self._next_ref = (self._next_ref + 1) % 256
        self._record(submit, reference, scenario)
        if submit.status_report and scenario.sms is not SmsFate.NO_REPORT:
            self._held_reports[reference] = (submit.recipient, scenario)
            self.spawn(self._report(reference, submit.recipient, scenario), f"report-{reference}")
        return [f"+CMGS: {reference}"], "OK"

    def _record(self, submit: Submit, reference: int, scenario: Scenario) -> None:
        concat = submit.concat
        key = (submit.recipient, concat.reference if concat else -1 - reference)
        assembly = self._assembling.setdefault(key, _Assembly(submit.recipient))
        assembly.parts[concat.number if concat else 1] = submit.units
        assembly.references.append(reference)
        if len(assembly.parts) == (concat.parts if concat else 1):
            del self._assembling[key]
            text = join_units("".join(assembly.parts[n] for n in sorted(assembly.parts)))
            self.messages.append(SentMessage(submit.recipient, text, assembly.references,
                                             scenario.sms.value))

    async def _report(self, reference: int, recipient: str, scenario: Scenario) -> None:
        await self.pause(self.timing.report)
        now = dt.datetime.now(dt.UTC)
        if scenario.sms is SmsFate.LATE:
            self._cds(encode_status_report(reference, recipient, 0x21, now))
            await self.pause(self.timing.report)
            status = 0x00
        elif scenario.sms is SmsFate.UNDELIVERED:
            status = scenario.report_status if scenario.report_status is not None else 0x41
            if classify_tp_status(status).value == "delivered":
                status = 0x41
        else:
            status = 0x00
        self._held_reports.pop(reference, None)
        self._touch()
        self._cds(encode_status_report(reference, recipient, status, now))

    def _cds(self, pdu: str) -> None:
        if self.store_reports:
            index = max(self.inbox, default=0) + 1
            self.inbox[index] = pdu
            self.urc(f'+CDSI: "SM",{index}')
        else:
            self.urc(f"+CDS: {len(pdu) // 2 - 1}", pdu)

    def receive_sms(self, sender: str, text: str) -> None:
        """A contact sends ``text``: stored in the inbox and announced with ``+CMTI``."""
        at = dt.datetime.now(dt.UTC)
        for pdu in encode_deliver(sender, text, at, reference=self._next_ref):
            index = max(self.inbox, default=0) + 1
            self.inbox[index] = pdu
            self.urc(f'+CMTI: "SM",{index}')
        self._next_ref = (self._next_ref + 1) % 256

    # -- voice ----------------------------------------------------------------------------

    async def _voice(self, command: str, head: str) -> tuple[list[str], str]:
        dialect = self.dialect
        if dialect.call_urc_on and head == dialect.call_urc_on[2:].upper():
            self.call_urcs = True
            return [], "OK"
        if dialect.dtmf_on and head == dialect.dtmf_on[2:].upper():
            self.dtmf = True
            return [], "OK"
        if head.startswith("D") and command.endswith(";"):
            if not dialect.voice:
                return [], "ERROR"
            if not self.network:
                return [], "NO CARRIER"
            if self.call is not None:
                return [], "+CME ERROR: 3"
            number = command[3:-1].strip()
            call = VirtualCall(self, number, scenario_for(self.scenarios, number))
            self.call = call
            self.calls.append(call)
            self.spawn(call.run(), f"call-{number}")
            return [], "OK"
        if head in ("H", "+CHUP"):
            if self.call is not None:
                self.call.hang_up_local()
            return [], "OK"
        if head == "+CLCC":
            return ([self.call.clcc_line()] if self.call and self.call.listed else []), "OK"
        if dialect.tts and head.startswith(dialect.tts[2:].upper() + "="):
            return self._tts(command.split("=", 1)[1])
        if dialect.audio and head.startswith(dialect.audio[2:].upper() + "="):
            return self._play_file(command.split("=", 1)[1])
        return [], "ERROR"

    def _stop_playing(self) -> tuple[list[str], str]:
        """Speech and file playback stop the same way: nothing more is reported for them."""
        if self.call is not None:
            self.call.stop_speech()
        return [], "OK"

    def _play_file(self, args: str) -> tuple[list[str], str]:
        """``4,"<path>",<channel>,<level>`` plays a stored file; ``5`` stops it."""
        mode, _, rest = args.partition(",")
        if mode.strip() == "5":
            return self._stop_playing()
        fields = rest.split(",")
        if mode.strip() != "4" or len(fields) < 3 or not fields[-1].strip().isdigit():
            return [], "ERROR"
        path = ",".join(fields[:-2]).strip().strip('"')
        if path not in self.audio_files:
            return [], self.dialect.audio_missing or "ERROR"
        if self.call is None or not self.call.active:
            return [], "+CME ERROR: 3"
        self.call.play_file(path, self.audio_files[path])
        return [], "OK"

    def _tts(self, args: str) -> tuple[list[str], str]:
        mode, _, payload = args.partition(",")
        if mode.strip() == "0":
            return self._stop_playing()
        text = payload.strip().strip('"')
        if mode.strip() == "1":
            text = bytes.fromhex(text).decode("utf-16-be", "replace")
        if self.call is None or not self.call.active:
            return [], "+CME ERROR: 3"
        self.call.speak(text)
        return [], "OK"

    def emit_call_state(self, line_clcc: str, line_dsci: str) -> None:
        if not self.call_urcs:
            return
        self.urc(line_clcc if self.dialect.call_urc == "+CLCC" else line_dsci)

    def emit_digit(self, digit: str) -> None:
        if not self.dtmf:
            return
        value = str(ord(digit)) if self.dialect.dtmf_ascii else digit
        self.urc(f"{self.dialect.dtmf_urc}: {value}")


class _Unplugged(Exception):
    """The modem was unplugged while running a command."""


@contextlib.asynccontextmanager
async def virtual_modems(
    count: int = 1,
    *,
    dialects: Iterable[str] | str = "simcom",
    scenarios: Sequence[Scenario] = (),
    scale: float = 0.01,
    **options: object,
) -> AsyncIterator[list[VirtualModem]]:
    """Start ``count`` virtual modems; yields them (``[m.device for m in ...]`` are the
    ports), and unplugs them on exit. ``dialects`` is one name or one per modem."""
    names = [dialects] * count if isinstance(dialects, str) else list(dialects)
    if len(names) != count:
        raise ValueError(f"{len(names)} dialects given for {count} modems")
    modems = [VirtualModem(dialect=d, scenarios=scenarios, scale=scale, **options)  # type: ignore[arg-type]
              for d in names]
    try:
        for modem in modems:
            await modem.start()
        yield modems
    finally:
        for modem in modems:
            await modem.stop()
