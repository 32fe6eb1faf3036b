"""The AT command session: one command at a time, unsolicited codes to subscribers.

A reader task turns the transport's bytes into lines (:mod:`tocsin.hal.lines`) and
sorts each one: the echo of the command being run is dropped, a final result ends the
command, an unsolicited result code (URC) goes to every subscriber at once — even
between the lines of a response — and anything else belongs to the running command's
response. Subscribers are called on the event loop, never on a thread.

A line is a URC when its name (``RING``, ``+CMTI``...) is in :data:`URC_NAMES` and the
running command did not ask for it (``AT+CLCC`` makes ``+CLCC:`` lines a response).
``+CMT`` and ``+CDS`` carry their PDU on a second line, kept with them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Callable
from typing import Any

from attrs import frozen

from tocsin.hal.codes import cme_meaning, cms_meaning
from tocsin.hal.errors import AtError, AtTimeout, ModemGone
from tocsin.hal.lines import CTRL_Z, LineReader, Token
from tocsin.hal.transport import Transport

log = logging.getLogger(__name__)

URC_NAMES = frozenset(
    {
        "RING", "+CRING", "+CLIP", "+CLCC", "^DSCI", "NO CARRIER", "BUSY", "NO ANSWER",
        "NO DIALTONE", "+CMTI", "+CMT", "+CDS", "+CDSI", "+CUSD", "+DTMF", "+RXDTMF",
        "+QTONEDET", "+CTTS", "+QTTS", "+CREC", "+CREG", "+CGREG", "+CPIN", "+CFUN",
        "CALL READY", "SMS READY", "RDY", "+QIND", "^RSSI", "^MODE", "^BOOT", "^SRVST",
        "+CSQN", "VOICE CALL", "MISSED_CALL",
    }
)
"""Names that are unsolicited unless the running command asked for them."""

TWO_LINE_URCS = frozenset({"+CMT", "+CDS"})
CALL_RESULTS = frozenset({"NO CARRIER", "BUSY", "NO ANSWER", "NO DIALTONE"})
_ERROR = re.compile(r"^\+(CME|CMS) ERROR:\s*(.+)$")


@frozen
class Urc:
    """An unsolicited result code: its name, its first line and, for two-line codes,
    the line that followed (the PDU of ``+CMT`` / ``+CDS``)."""

    name: str
    line: str
    body: str = ""

    @property
    def value(self) -> str:
        """What follows ``NAME:`` on the first line."""
        return self.line.split(":", 1)[1].strip() if ":" in self.line else ""


@frozen
class Response:
    """The information lines of a command and its final result."""

    command: str
    lines: tuple[str, ...]
    final: str = "OK"

    def prefixed(self, prefix: str) -> list[str]:
        """Values of the lines starting with ``prefix:`` (``+CSQ`` -> ``['20,99']``)."""
        return [ln.split(":", 1)[1].strip() for ln in self.lines if ln.startswith(prefix + ":")]


def line_name(line: str) -> str:
    """``+CMTI: "SM",3`` -> ``+CMTI``; ``RING`` -> ``RING``; ``NO CARRIER`` stays whole."""
    if line[:1] in "+^" and ":" in line:
        return line.split(":", 1)[0].strip().upper()
    return line.strip().upper()


def command_prefix(command: str) -> str:
    """The response prefix a command asks for: ``AT+CLCC`` -> ``+CLCC``."""
    match = re.match(r"(?i)^AT([+^][A-Z0-9]+)", command)
    return match.group(1).upper() if match else ""


def is_dial(command: str) -> bool:
    return command.upper().startswith(("ATD", "ATA"))


def final_error(command: str, line: str) -> AtError | None:
    """The error a final-result line stands for, or ``None`` for a success."""
    if line == "ERROR":
        return AtError(command, "ERROR", None, "error")
    match = _ERROR.match(line)
    if not match:
        return None
    kind, raw = match.group(1), match.group(2).strip()
    if raw.isdigit():
        code = int(raw)
        return AtError(command, kind, code, cme_meaning(code) if kind == "CME" else cms_meaning(code))
    return AtError(command, kind, None, raw.lower())


def is_final(command: str, line: str) -> bool:
    if line in ("OK", "ERROR") or _ERROR.match(line):
        return True
    return is_dial(command) and (line in CALL_RESULTS or line.startswith("CONNECT"))


class _Pending:
    def __init__(self, command: str, body: str | None, sync: bool = False) -> None:
        self.command = command
        self.body = body
        self.synced = not sync
        self.prefix = command_prefix(command)
        self.lines: list[str] = []
        self.prompt: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.done: asyncio.Future[Response] = asyncio.get_running_loop().create_future()


Subscriber = Callable[[Urc], None]


class AtSession:
    """AT commands over a transport. ``start`` it, then ``command`` and ``subscribe``."""

    def __init__(self, transport: Transport, *, timeout: float = 10.0) -> None:
        self.transport = transport
        self.name = transport.name
        self.timeout = timeout
        self._reader = LineReader()
        self._lock = asyncio.Lock()
        self._pending: _Pending | None = None
        self._urc_head: Urc | None = None
        self._subscribers: list[Subscriber] = []
        self._task: asyncio.Task[None] | None = None
        self.gone = asyncio.Event()
        """Set when the transport failed: every later command raises ModemGone."""
        self.gone_reason = ""

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._read_loop(), name=f"at-reader-{self.name}")

    async def close(self) -> None:
        await self.transport.close()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self._mark_gone("session closed")

    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        """Call ``callback(urc)`` for every URC; returns a function that unsubscribes."""
        self._subscribers.append(callback)

        def unsubscribe() -> None:
            with contextlib.suppress(ValueError):
                self._subscribers.remove(callback)

        return unsubscribe

    # -- commands ------------------------------------------------------------------------

    async def command(
        self, command: str, *, timeout: float | None = None, body: str | None = None,
        sync: bool = False,
    ) -> Response:
        """Run ``command`` and return its response; with ``body``, wait for the ``> ``
        prompt, send the body and Ctrl-Z, then wait for the final result (a final result
        instead of the prompt ends the command without sending the body). With ``sync``
        (echo must be on), everything before the echo of ``command`` is stale output of
        an earlier user of the port and is discarded: this puts the session in step.

        Raises :class:`AtError` (with the code's meaning), :class:`AtTimeout` or
        :class:`ModemGone`.
        """
        limit = self.timeout if timeout is None else timeout
        async with self._lock:
            if self.gone.is_set():
                raise ModemGone(f"{self.name}: {self.gone_reason}")
            pending = _Pending(command, body, sync)
            self._pending = pending
            try:
                await self.transport.write(command.encode() + b"\r")
                if body is not None:
                    await self._wait({pending.prompt, pending.done}, limit, command + " (prompt)")
                    if not pending.done.done():
                        await self.transport.write(body.encode() + CTRL_Z.encode())
                await self._wait({pending.done}, limit, command)
                response = pending.done.result()
            finally:
                self._pending = None
        error = final_error(command, response.final)
        if error is not None:
            raise error
        return response

    async def _wait(self, futures: set[asyncio.Future[Any]], limit: float, what: str) -> None:
        """Until one of ``futures`` is done; AtTimeout after ``limit``, ModemGone if the
        port goes first."""
        gone = asyncio.ensure_future(self.gone.wait())
        try:
            done, _ = await asyncio.wait({*futures, gone}, timeout=limit,
                                         return_when=asyncio.FIRST_COMPLETED)
        finally:
            gone.cancel()
        if done & futures:
            return
        if self.gone.is_set():
            raise ModemGone(f"{self.name}: {self.gone_reason}")
        raise AtTimeout(f"{self.name}: no answer to {what!r} within {limit:g} s")

    # -- reading -------------------------------------------------------------------------

    async def _read_loop(self) -> None:
        try:
            while True:
                data = await self.transport.read()
                for token in self._reader.feed(data):
                    self._on_token(token)
        except ModemGone as exc:
            self._mark_gone(str(exc))

    def _mark_gone(self, reason: str) -> None:
        if not self.gone.is_set():
            self.gone_reason = reason
            self.gone.set()
            self._publish(Urc("GONE", reason))

    def _on_token(self, token: str | Token) -> None:
        pending = self._pending
        if token is Token.PROMPT:
            if pending is not None and pending.body is not None and not pending.prompt.done():
                pending.prompt.set_result(None)
            return
        line = token
        if self._urc_head is not None:
            head, self._urc_head = self._urc_head, None
            self._publish(Urc(head.name, head.line, line))
            return
        name = line_name(line)
        if pending is not None:
            if line.upper() == pending.command.upper() or line == pending.body:
                pending.synced = True
                return  # echo
            if not pending.synced:
                log.debug("%s: discarding stale output %r", self.name, line)
                return
            if is_final(pending.command, line):
                if not pending.done.done():
                    pending.done.set_result(Response(pending.command, tuple(pending.lines), line))
                return
            if name in URC_NAMES and name != pending.prefix:
                self._urc(name, line)
                return
            pending.lines.append(line)
            return
        self._urc(name, line)

    def _urc(self, name: str, line: str) -> None:
        if name in TWO_LINE_URCS:
            self._urc_head = Urc(name, line)
        else:
            self._publish(Urc(name, line))

    def _publish(self, urc: Urc) -> None:
        for callback in list(self._subscribers):
            try:
                callback(urc)
            except Exception:
                log.exception("%s: a URC subscriber failed on %r", self.name, urc.line)
