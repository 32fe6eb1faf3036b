"""A GSM modem: an AT session, a profile, and the modem's own state.

``Modem.open`` opens the port, initialises the modem (echo off, numeric errors, SIM
PIN from configuration, PDU mode, new-message and status-report indications, the
profile's own set-up) and identifies it. SMS, calls and USSD live in their own modules
(:mod:`~tocsin.hal.sms`, :mod:`~tocsin.hal.voice`, :mod:`~tocsin.hal.ussd`) and work on
a :class:`Modem`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Callable, Coroutine
from typing import Any

import attrs
from attrs import frozen

from tocsin.hal.errors import AtError, SimError
from tocsin.hal.profiles import Profile, detect_profile, profile_named
from tocsin.hal.session import AtSession, Response, Urc
from tocsin.hal.transport import SerialTransport, Transport

log = logging.getLogger(__name__)

REGISTRATION = {
    "0": "not registered",
    "1": "registered (home)",
    "2": "searching",
    "3": "registration denied",
    "4": "unknown",
    "5": "registered (roaming)",
}


@frozen
class ModemInfo:
    """What ``probe`` prints about a modem."""

    device: str
    manufacturer: str
    model: str
    revision: str
    imei: str
    imsi: str
    operator: str
    signal: int | None  # RSSI 0-31, None when unknown (99)
    registration: str
    profile: str

    @property
    def registered(self) -> bool:
        return self.registration.startswith("registered")

    @property
    def signal_dbm(self) -> int | None:
        return None if self.signal is None else -113 + 2 * self.signal


def _single(response: Response) -> str:
    """The one information line of a response (``AT+CGSN`` -> the IMEI)."""
    lines = [ln for ln in response.lines if ln]
    return lines[0].split(":", 1)[-1].strip().strip('"') if lines else ""


class Modem:
    """One modem in use. Build with :meth:`open`, close with :meth:`close`."""

    def __init__(self, session: AtSession, profile: Profile, *, device: str) -> None:
        self.session = session
        self.profile = profile
        self.device = device
        self.info: ModemInfo | None = None
        self.tasks: set[asyncio.Task[None]] = set()
        self.stored_reports = False
        self._backlog: list[Urc] = []
        self._stop_backlog: Callable[[], None] | None = session.subscribe(self._keep)

    def _keep(self, urc: Urc) -> None:
        if len(self._backlog) < 200:
            self._backlog.append(urc)

    def take_backlog(self) -> list[Urc]:
        """URCs that arrived before anyone listened (a status report delivered while the
        modem was being initialised); the first caller gets them, later ones nothing."""
        if self._stop_backlog is not None:
            self._stop_backlog()
            self._stop_backlog = None
        backlog, self._backlog = self._backlog, []
        return backlog

    @classmethod
    async def open(
        cls,
        device: str,
        *,
        pin: str | None = None,
        profile: str | None = None,
        timeout: float = 10.0,
        baudrate: int = 115200,
        transport: Transport | None = None,
    ) -> Modem:
        """Open, initialise and identify the modem at ``device`` (see the module docs)."""
        link = transport or await SerialTransport.open(device, baudrate=baudrate)
        session = AtSession(link, timeout=timeout)
        await session.start()
        try:
            modem = cls(session, profile_named(profile) if profile else profile_named("generic"),
                        device=device)
            await modem.initialise(pin)
            info = await modem.identify()
            if profile is None:
                modem.profile = detect_profile(info.manufacturer, info.model)
            await modem.apply_profile()
            modem.info = attrs.evolve(info, profile=modem.profile.name)
        except BaseException:
            await session.close()
            raise
        return modem

    async def command(self, command: str, **kwargs: object) -> Response:
        return await self.session.command(command, **kwargs)  # type: ignore[arg-type]

    def subscribe(self, callback: Callable[[Urc], None]) -> Callable[[], None]:
        return self.session.subscribe(callback)

    @property
    def gone(self) -> bool:
        return self.session.gone.is_set()

    async def close(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        await self.session.close()

    def spawn(self, coro: Coroutine[Any, Any, None], name: str) -> None:
        """Run ``coro`` as a task owned by this modem (cancelled on close)."""
        task = asyncio.create_task(coro, name=f"{self.device}:{name}")
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    # -- initialisation -------------------------------------------------------------------

    async def initialise(self, pin: str | None) -> None:
        """Echo off, numeric errors, SIM unlocked, PDU mode, new-message and status-report
        indications on (stored and announced when the modem can, else pushed)."""
        # Whatever an earlier user of the port left unread comes before the echo of a
        # command: echo on, one command in step (everything before its echo dropped),
        # then echo off for good.
        with contextlib.suppress(AtError):
            await self.command("ATE1")
        await self.command("AT", sync=True)
        await self.command("ATE0")
        await self.command("AT+CMEE=1")
        await self.unlock(pin)
        await self.command("AT+CMGF=0")
        try:
            # messages and status reports stored, announced by index (+CMTI / +CDSI):
            # nothing is lost if the host is not reading at the moment they arrive
            await self.command("AT+CNMI=2,1,0,2,0")
            self.stored_reports = True
        except AtError:
            await self.command("AT+CNMI=2,1,0,1,0")  # reports pushed directly (+CDS)
            self.stored_reports = False

    async def unlock(self, pin: str | None) -> None:
        state = _single(await self.command("AT+CPIN?")).upper()
        if state == "READY":
            return
        if state != "SIM PIN":
            raise SimError(f"{self.device}: SIM is in state {state!r}; it needs attention by hand")
        if not pin:
            raise SimError(f"{self.device}: the SIM asks for a PIN and none is configured")
        try:
            await self.command(f'AT+CPIN="{pin}"')
        except AtError as exc:
            raise SimError(f"{self.device}: the SIM refused the configured PIN ({exc.meaning})") from None
        # Never log the PIN itself; say only that it was accepted.
        log.info("%s: SIM unlocked", self.device)

    async def apply_profile(self) -> None:
        for command in self.profile.setup:
            await self.command(command)

    # -- identification -------------------------------------------------------------------

    async def _optional(self, command: str) -> str:
        try:
            return _single(await self.command(command))
        except AtError:
            return ""

    async def identify(self) -> ModemInfo:
        manufacturer = await self._optional("AT+CGMI")
        model = await self._optional("AT+CGMM")
        revision = await self._optional("AT+CGMR")
        imei = await self._optional("AT+CGSN")
        imsi = await self._optional("AT+CIMI")
        operator = await self.operator()
        return ModemInfo(
            device=self.device, manufacturer=manufacturer, model=model, revision=revision,
            imei=imei, imsi=imsi, operator=operator, signal=await self.signal(),
            registration=await self.registration(), profile=self.profile.name,
        )

    async def operator(self) -> str:
        try:
            values = (await self.command("AT+COPS?")).prefixed("+COPS")
        except AtError:
            return ""
        match = re.match(r'\d+,\d+,"([^"]*)"', values[0]) if values else None
        return match.group(1) if match else ""

    async def signal(self) -> int | None:
        value = await self._optional("AT+CSQ")
        rssi = value.split(",")[0].strip()
        return int(rssi) if rssi.isdigit() and int(rssi) != 99 else None

    async def registration(self) -> str:
        value = await self._optional("AT+CREG?")
        parts = [p.strip() for p in value.split(",")]
        stat = parts[1] if len(parts) > 1 else parts[0] if parts else ""
        return REGISTRATION.get(stat, "unknown")

    async def probe(self) -> ModemInfo:
        """Ask the modem who and where it is now (it must answer, else it raises)."""
        self.info = await self.identify()
        return self.info
