"""Voice calls on a :class:`~tocsin.hal.modem.Modem`: dial, follow, speak, listen, hang up.

Call progress comes from the profile's source (``+CLCC`` or ``^DSCI`` pushed by the
modem, or ``AT+CLCC`` asked when nothing is pushed) and from the final codes ``BUSY``,
``NO ANSWER`` and ``NO CARRIER``. Everything is awaited as events on one queue fed by
the session's subscriber; timeouts bound each wait, nothing sleeps.

Once answered, the call plays its message: an audio file stored on the modem when the
plan names one (profiles with the ``audio`` capability: SIMCom's ``AT+CREC=4``, which
reports ``+CREC: 0`` when it has played), else the text by the modem's text-to-speech.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
from collections.abc import Callable

from attrs import frozen

from tocsin.hal.errors import AtError, CapabilityError, HalError, ModemGone
from tocsin.hal.modem import Modem
from tocsin.hal.profiles import CallEvents, check_audio_name
from tocsin.hal.session import Urc

log = logging.getLogger(__name__)

# +CLCC / ^DSCI <stat> values (TS 27.007 §7.18)
STAT_ACTIVE, STAT_DIALING, STAT_ALERTING, STAT_RELEASED = "0", "2", "3", "6"


class Progress(enum.StrEnum):
    """What the caller hears about a call as it goes."""

    STARTED = "started"
    RINGING = "ringing"
    ANSWERED = "in progress"


class Outcome(enum.StrEnum):
    """How a call ended (names of the call status machine)."""

    BUSY = "busy"
    NO_ANSWER = "no answer"
    COMPLETED = "completed"
    CONFIRMED = "confirmed"
    FAILED = "failed"


@frozen
class CallPlan:
    """What to do once the call is answered; times are real-hardware seconds."""

    text: str
    repeat: int = 1
    confirm: bool = False
    audio: str = ""
    """An audio file on the modem (a name in the profile's directory, or a path) played
    instead of the text; the modem must have the ``audio`` capability."""
    volume: int = 90
    ring_timeout: float = 45.0
    confirm_window: float = 8.0
    max_duration: float = 300.0
    poll_interval: float = 1.0


@frozen
class CallResult:
    outcome: Outcome
    digits: str = ""
    reason: str = ""
    answered: bool = False


class _End(Exception):
    def __init__(self, outcome: Outcome, reason: str = "") -> None:
        self.outcome = outcome
        self.reason = reason


def _stat(urc: Urc) -> str | None:
    """The <stat> of a +CLCC / ^DSCI line (third field)."""
    fields = [f.strip() for f in urc.value.split(",")]
    return fields[2] if len(fields) > 2 else None


class _Call:
    def __init__(self, modem: Modem, number: str, plan: CallPlan,
                 on_progress: Callable[[Progress], None]) -> None:
        self.modem = modem
        self.number = number
        self.plan = plan
        self.on_progress = on_progress
        self.events: asyncio.Queue[Urc] = asyncio.Queue()
        self.digits = ""
        self.answered = False
        self.alerting = False
        self.started = False

    def _on_urc(self, urc: Urc) -> None:
        self.events.put_nowait(urc)

    async def _next(self, timeout: float) -> Urc | None:
        try:
            return await asyncio.wait_for(self.events.get(), timeout)
        except TimeoutError:
            return None

    def _handle(self, urc: Urc) -> str | None:
        """Apply one event; returns 'played' when the message (speech or audio file) finished, raises _End."""
        profile = self.modem.profile
        if urc.name == "GONE":
            raise _End(Outcome.FAILED, f"modem lost: {urc.line}")
        if urc.name in ("+CLCC", "^DSCI"):
            stat = _stat(urc)
            if stat == STAT_ALERTING and not self.alerting:
                self.alerting = True
                self.on_progress(Progress.RINGING)
            elif stat == STAT_ACTIVE and not self.answered:
                self.answered = True
                self.on_progress(Progress.ANSWERED)
            elif stat == STAT_RELEASED:
                raise self._hung_up()
        elif urc.name == "BUSY":
            raise _End(Outcome.BUSY)
        elif urc.name in ("NO ANSWER", "NO DIALTONE"):
            raise _End(Outcome.NO_ANSWER if urc.name == "NO ANSWER" else Outcome.FAILED, urc.name.lower())
        elif urc.name == "NO CARRIER":
            raise self._hung_up()
        elif profile.dtmf_urc and urc.name == profile.dtmf_urc:
            digit = profile.dtmf_digit(urc)
            self.digits += digit
            if self.plan.confirm and digit == "1":
                raise _End(Outcome.CONFIRMED)
        elif urc.name in (profile.tts_done, profile.audio_done) and urc.name:
            return "played"
        return None

    def _hung_up(self) -> _End:
        if not self.answered:
            return _End(Outcome.NO_ANSWER, "released before answer")
        if self.plan.confirm and "1" in self.digits:
            return _End(Outcome.CONFIRMED)
        return _End(Outcome.COMPLETED, "hung up by the callee")

    async def _poll(self) -> None:
        """For profiles without pushed progress: ask AT+CLCC while the call lasts."""
        while True:
            try:
                response = await self.modem.command("AT+CLCC")
            except HalError:
                return
            values = response.prefixed("+CLCC")
            if not values:
                self.events.put_nowait(Urc("+CLCC", f"+CLCC: 1,0,{STAT_RELEASED}"))
            for value in values:
                self.events.put_nowait(Urc("+CLCC", f"+CLCC: {value}"))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.modem.session.gone.wait(), self.plan.poll_interval)
                return

    async def run(self) -> CallResult:
        unsubscribe = self.modem.subscribe(self._on_urc)
        poller: asyncio.Task[None] | None = None
        try:
            try:
                await self.modem.command(f"ATD{self.number};", timeout=self.plan.ring_timeout)
            except AtError as exc:
                return CallResult(Outcome.FAILED, reason=str(exc))
            self.started = True
            self.on_progress(Progress.STARTED)
            if self.modem.profile.call_events is CallEvents.POLL:
                poller = asyncio.create_task(self._poll())
            try:
                await self._wait_answer()
                await self._speak()
                raise _End(Outcome.COMPLETED)
            except _End as end:
                await self._hang_up()
                return CallResult(end.outcome, self.digits, end.reason, self.answered)
        except ModemGone as exc:
            if not self.started:
                raise  # nothing happened yet: the pool may try another modem
            return CallResult(Outcome.FAILED, self.digits, f"modem lost: {exc}", self.answered)
        finally:
            unsubscribe()
            if poller is not None:
                poller.cancel()

    def _drain(self) -> None:
        """Apply every event already received (may raise _End)."""
        while not self.events.empty():
            self._handle(self.events.get_nowait())

    async def _wait_answer(self) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.plan.ring_timeout
        while not self.answered:
            left = deadline - loop.time()
            urc = await self._next(left) if left > 0 else None
            if urc is None:
                raise _End(Outcome.NO_ANSWER, "no answer before the ring timeout")
            self._handle(urc)

    def _message_command(self) -> str | None:
        """The command that plays the message once, ``None`` when the modem cannot."""
        profile, plan = self.modem.profile, self.plan
        if plan.audio:
            if profile.audio_command is None:
                return None
            return profile.audio_command(profile.audio_path(plan.audio), plan.volume)
        return profile.tts_command(plan.text) if profile.tts_command is not None else None

    def _refusal(self, exc: AtError) -> str:
        if not self.plan.audio:
            return f"text-to-speech refused: {exc}"
        meaning = self.modem.profile.audio_errors.get(exc.code or -1, exc.meaning)
        return f"audio file {self.plan.audio!r} refused: {meaning} ({exc})"

    async def _speak(self) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.plan.max_duration
        command = self._message_command()
        for _ in range(max(1, self.plan.repeat)):
            if command is None:
                break
            try:
                await self.modem.command(command)
            except AtError as exc:
                self._drain()  # a hang-up that came first explains the refusal
                raise _End(Outcome.FAILED, self._refusal(exc)) from None
            while True:
                urc = await self._next(max(0.0, deadline - loop.time()))
                if urc is None:
                    raise _End(Outcome.COMPLETED, "maximum call duration reached")
                if self._handle(urc) == "played":
                    break
        if self.plan.confirm:
            window_end = loop.time() + self.plan.confirm_window
            while (left := window_end - loop.time()) > 0:
                urc = await self._next(left)
                if urc is None:
                    break
                self._handle(urc)

    async def _hang_up(self) -> None:
        profile = self.modem.profile
        stop = profile.audio_stop if self.plan.audio else profile.tts_stop
        with contextlib.suppress(HalError):
            if stop:
                with contextlib.suppress(AtError):
                    await self.modem.command(stop)
            await self.modem.command("ATH")


async def place_call(
    modem: Modem, number: str, plan: CallPlan, on_progress: Callable[[Progress], None]
) -> CallResult:
    """Dial ``number``, report progress through ``on_progress``, play ``plan`` when
    answered, listen for digits, hang up, and say how the call ended.

    Raises :class:`~tocsin.hal.errors.CapabilityError` before dialling when the plan
    has an audio file and the modem cannot play one, or when the file name is bad."""
    modem.profile.require(*(("voice", "audio") if plan.audio else ("voice",)))
    if plan.audio and (problem := check_audio_name(plan.audio)):
        raise CapabilityError(problem)
    return await _Call(modem, number, plan, on_progress).run()
