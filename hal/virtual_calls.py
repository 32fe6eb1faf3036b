"""One call on the virtual modem: the far end behaving as its scenario says."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tocsin.hal.scenarios import CallFate, Scenario

if TYPE_CHECKING:
    from tocsin.hal.virtual_modem import VirtualModem

DIALING, ALERTING, ACTIVE, RELEASED = 2, 3, 0, 6


class VirtualCall:
    """Progress of one outgoing call, driven by its :class:`Scenario`."""

    def __init__(self, modem: VirtualModem, number: str, scenario: Scenario) -> None:
        self.modem = modem
        self.number = number
        self.scenario = scenario
        self.stat = DIALING
        self.spoken: list[str] = []
        self.played: list[str] = []
        """Audio files played into the call, in order."""
        self.digits_pressed = ""
        self.outcome = ""
        self._speech = 0  # the speech now playing (a newer one or a stop supersedes it)

    @property
    def listed(self) -> bool:
        return self.stat != RELEASED

    @property
    def active(self) -> bool:
        return self.stat == ACTIVE

    def clcc_line(self) -> str:
        return f'+CLCC: 1,0,{self.stat},0,0,"{self.number}",145'

    def _set(self, stat: int) -> None:
        self.stat = stat
        self.modem.emit_call_state(self.clcc_line(), f"^DSCI: 1,0,{stat},0,{self.number},145")

    def _end(self, outcome: str, urc: str = "") -> None:
        if self.stat == RELEASED:
            return
        self.outcome = outcome
        if urc:
            self.modem.urc(urc)
        self._set(RELEASED)
        if self.modem.call is self:
            self.modem.call = None

    async def run(self) -> None:
        modem, timing, fate = self.modem, self.modem.timing, self.scenario.call
        self._set(DIALING)
        await modem.pause(timing.dial)
        if self.stat == RELEASED:
            return
        self._set(ALERTING)
        if fate is CallFate.NO_ANSWER:
            await modem.pause(timing.no_answer)
            self._end("no answer", "NO ANSWER")
            return
        await modem.pause(timing.voicemail if fate is CallFate.VOICEMAIL else timing.ring)
        if self.stat == RELEASED:
            return
        if fate is CallFate.BUSY:
            self._end("busy", "BUSY")
            return
        self._set(ACTIVE)
        if fate is CallFate.HANG_UP:
            await modem.pause(timing.hang_up)
            self._end("hung up by callee", "NO CARRIER")

    def speak(self, text: str) -> None:
        """The caller plays ``text``; the far end may press a key while it plays."""
        self.spoken.append(text)
        self._start(len(text) * self.modem.timing.speech_per_char, self.modem.dialect.tts_done)

    def play_file(self, path: str, seconds: float) -> None:
        """The caller plays a stored audio file lasting ``seconds``."""
        self.played.append(path)
        self._start(seconds, self.modem.dialect.audio_done)

    def _start(self, duration: float, done: str) -> None:
        self._speech += 1
        first = len(self.spoken) + len(self.played) == 1
        self.modem.spawn(self._play(duration, self._speech, done, first=first), "speech")

    async def _play(self, duration: float, speech: int, done: str, *, first: bool) -> None:
        modem, timing, fate = self.modem, self.modem.timing, self.scenario.call
        if first and fate in (CallFate.PRESS_1, CallFate.PRESS_OTHER):
            press = min(timing.press, duration)
            await modem.pause(press)
            if not self.active:
                return
            digit = "1" if fate is CallFate.PRESS_1 else "2"
            self.digits_pressed += digit
            modem.emit_digit(digit)
            duration -= press
        await modem.pause(duration)
        if self.active and speech == self._speech and done:
            modem.urc(done)

    def stop_speech(self) -> None:
        """The caller stopped the speech or the file (nothing more is reported for it)."""
        self._speech += 1

    def hang_up_local(self) -> None:
        self._end(self.outcome or ("completed" if self.stat == ACTIVE else "cancelled"))
