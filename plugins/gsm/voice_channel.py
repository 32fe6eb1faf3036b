"""The ``gsm-voice`` channel: the call status machine driven by the modem.

*queued* while waiting for a modem, *started* on ``ATD``, *ringing* when the far end
alerts, *in progress* when answered; then *busy*, *no answer*, *completed*, *confirmed*
(the contact pressed 1 while the message played, for categories that require it) or
*failed*. The message is spoken by the modem's text-to-speech, repeated. GSM modems
cannot tell a voicemail or a fax from a person: the capabilities say so, and such a
call ends *completed*, never *voicemail*.

A message with an ``audio_url`` is a recorded message: the modems play a file stored on
them instead of speaking the text. The URL (what a cloud channel would fetch) is mapped
to the file by ``audio_files``; a bare name is taken as the file itself. On modems that
cannot play files (their profile lacks ``audio``), such a message is refused with that
reason rather than read out by the text-to-speech.

``send`` returns once the call is dialled; the modem stays with the call until it
ends, and the rest is reported through the sink. As for SMS, a failure once the call is
*queued* is final; only when no modem is in service does ``send`` fail temporarily.
"""

from __future__ import annotations

import asyncio
import logging

import attrs

from tocsin.channel import (
    Accepted,
    Capabilities,
    ChannelSettings,
    Health,
    Limits,
    OutboundAttempt,
    PermanentFailure,
    SendResult,
    StatusSink,
    TemporaryFailure,
)
from tocsin.clock import Clock
from tocsin.hal.errors import CapabilityError, HalError
from tocsin.hal.modem import Modem
from tocsin.hal.pool import ModemPool, NoModemAvailable
from tocsin.hal.profiles import check_audio_name
from tocsin.hal.voice import CallPlan, CallResult, Progress, place_call
from tocsin.plugins.gsm.common import Reporter, check_number, pool_health
from tocsin.plugins.gsm.settings import GsmSettings, parse_settings

log = logging.getLogger(__name__)

MEANS = "call"
RETRY_AFTER = 120.0


class GsmVoiceChannel:
    """Voice calls through a pool of GSM modems with text-to-speech."""

    means = MEANS

    def __init__(self, settings: GsmSettings, clock: Clock) -> None:
        self.name = settings.name
        self.settings = settings
        self.capabilities = Capabilities(
            dtmf_confirmation=settings.confirmation, text_to_speech=True,
            voicemail_detection=False, fax_detection=False,
        )
        self.limits = Limits(rate=None, concurrency=2 * len(settings.devices), message_size=1000)
        self.clock = clock
        self.pool: ModemPool | None = None
        self._report = Reporter(self.name, clock)
        self._calls: set[asyncio.Task[None]] = set()

    async def start(self, sink: StatusSink) -> None:
        """Open the modems; refuse any that cannot call, speak or (when confirmation is
        on) hear digits."""
        self._report.sink = sink
        pool = self.settings.build_pool()
        await pool.start()
        needs = ("voice", "tts", "dtmf") if self.settings.confirmation else ("voice", "tts")
        try:
            for modem in pool.modems():
                modem.profile.require(*needs)
        except CapabilityError as exc:
            await pool.stop()
            raise CapabilityError(f"channel {self.name!r}: {exc}") from None
        self.pool = pool
        # audio files are optional: a message with one is refused on modems that lack it
        self.capabilities = attrs.evolve(
            self.capabilities, audio=all(m.profile.capabilities.audio for m in pool.modems()))

    async def stop(self) -> None:
        for task in list(self._calls):
            task.cancel()
        if self._calls:
            await asyncio.gather(*self._calls, return_exceptions=True)
        if self.pool is not None:
            await self.pool.stop()
            self.pool = None

    def health(self) -> Health:
        return pool_health(self.pool)

    @property
    def active_calls(self) -> int:
        """Calls dialled or waiting for a modem whose outcome is not reported yet."""
        return len(self._calls)

    def audio_for(self, audio_url: str) -> str:
        """The modem file that plays ``audio_url`` (``""``: none, speak the text);
        :class:`ValueError` saying why it cannot be played."""
        url = audio_url.strip()
        if not url:
            return ""
        if url in self.settings.audio_files:
            return self.settings.audio_files[url]
        if "://" in url:
            raise ValueError(
                f"audio {url!r} is a URL, and a GSM modem plays only files stored on it: "
                f"map it to one in channels.{self.name}.audio_files")
        if problem := check_audio_name(url):
            raise ValueError(problem)
        return url

    def plan_for(self, outbound: OutboundAttempt) -> CallPlan:
        s = self.settings
        return CallPlan(
            text=outbound.message.text,
            audio=self.audio_for(outbound.message.audio_url),
            volume=s.volume,
            repeat=outbound.message.repeat if outbound.message.repeat > 1 else s.repeat,
            confirm=outbound.requires_confirmation and s.confirmation,
            ring_timeout=s.bound(s.ring_timeout),
            confirm_window=s.scaled(s.confirm_window),
            max_duration=s.bound(s.max_duration),
            poll_interval=s.scaled(s.poll_interval),
        )

    async def send(self, outbound: OutboundAttempt) -> SendResult:
        attempt = outbound.attempt
        number = attempt.address.strip()
        if problem := check_number(number):
            return PermanentFailure(problem)
        try:
            audio = self.audio_for(outbound.message.audio_url)
        except ValueError as exc:
            return PermanentFailure(str(exc))
        if not outbound.message.text and not audio:
            return PermanentFailure("the call has no text to speak and no audio file to play")
        if audio and (problem := self._cannot_play()):
            return PermanentFailure(problem)
        if outbound.requires_confirmation and not self.settings.confirmation:
            return PermanentFailure(f"channel {self.name!r} is configured without DTMF confirmation")
        if self.pool is None:
            return TemporaryFailure(f"channel {self.name!r} is not started", RETRY_AFTER)
        if self.pool.available == 0:
            return TemporaryFailure(f"no modem in service ({self.health().detail})", RETRY_AFTER)
        pool = self.pool
        plan = self.plan_for(outbound)
        dialled: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._report(attempt.id, "queued")
        note = self._language_note(outbound.language)

        async def job(modem: Modem) -> CallResult:
            def progress(step: Progress) -> None:
                if step is Progress.STARTED:
                    if not dialled.done():
                        dialled.set_result(modem.device)
                    return
                self._report(attempt.id, step.value, modem=modem.device)

            return await place_call(modem, number, plan, progress)

        async def call() -> None:
            try:
                result = await pool.run(job, timeout=self.settings.bound(self.settings.queue_timeout))
            except NoModemAvailable as exc:
                if not dialled.done():
                    dialled.set_exception(exc)
                return
            except HalError as exc:
                if not dialled.done():
                    dialled.set_exception(exc)
                else:
                    self._report(attempt.id, "failed", str(exc))
                return
            if not dialled.done():
                dialled.set_result("")  # never dialled: the result says why
            reason = result.reason or note
            self._report(attempt.id, result.outcome.value, reason, digits=result.digits)

        task = asyncio.create_task(call(), name=f"{self.name}-call-{attempt.id}")
        self._calls.add(task)
        task.add_done_callback(self._calls.discard)
        try:
            device = await dialled
        except NoModemAvailable as exc:
            return PermanentFailure(str(exc), code="no-modem")
        except HalError as exc:
            return PermanentFailure(str(exc))
        if not device:
            return Accepted(status="queued")  # the outcome (failed) follows through the sink
        return Accepted(provider_ref=f"{device}#{attempt.id}", status="started")

    def _cannot_play(self) -> str | None:
        """Why the modems cannot play an audio file, or ``None`` when one can."""
        if self.pool is None:
            return None  # not started: the temporary failure below says so
        lacking = []
        for modem in self.pool.modems():
            try:
                modem.profile.require("audio")
            except CapabilityError as exc:
                lacking.append(str(exc))
            else:
                return None
        return f"channel {self.name!r} cannot play an audio file: {'; '.join(lacking)}" if lacking else None

    def _language_note(self, language: str) -> str:
        if not language or self.pool is None:
            return ""
        for modem in self.pool.modems():
            spoken = modem.profile.tts_languages
            if spoken and language.split("-")[0].lower() not in spoken:
                return (f"spoken by the modem's text-to-speech, which has no {language!r} voice "
                        f"({', '.join(spoken)} only)")
        return ""


def build_voice_channel(settings: ChannelSettings) -> GsmVoiceChannel:
    options = dict(settings.options)
    return GsmVoiceChannel(parse_settings(settings.name, options, voice=True), settings.clock)
