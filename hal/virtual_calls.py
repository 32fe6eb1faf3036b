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
        self._speech += 1
        self.modem.spawn(self._play(text, self._speech, first=len(self.spoken) == 1), "speech")

    async def _play(self, text: str, speech: int, *, first: bool) -> None:
        modem, timing, fate = self.modem, self.modem.timing, self.scenario.call
        duration = len(text) * timing.speech_per_char
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
        if self.active and speech == self._speech and modem.dialect.tts_done:
            modem.urc(modem.dialect.tts_done)

    def stop_speech(self) -> None:
        """The caller stopped the speech (nothing more is reported for it)."""
        self._speech += 1

    def hang_up_local(self) -> None:
        self._end(self.outcome or ("completed" if self.stat == ACTIVE else "cancelled"))
