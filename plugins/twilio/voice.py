"""``twilio-voice``: calls through a Twilio-compatible Calls API, spoken from TwiML.

The call's instructions are fetched from the reference server's TwiML route (built by
:mod:`tocsin.plugins.twilio.routes`); answering-machine detection is asked for so a
voicemail or a fax is told apart from a person.
"""

from __future__ import annotations

from tocsin.channel import (
    Capabilities,
    ChannelSettings,
    Health,
    Limits,
    OutboundAttempt,
    PermanentFailure,
    SendResult,
    StatusSink,
)
from tocsin.clock import Clock
from tocsin.errors import ValidationError
from tocsin.plugins.twilio.api import TwilioApi
from tocsin.plugins.twilio.settings import TwilioSettings, parse_settings
from tocsin.plugins.twilio.statuses import call_status
from tocsin.plugins.twilio.twiml import CallScript, say_language, script_query

STATUS_EVENTS = ("initiated", "ringing", "answered", "completed")
MAX_URL = 4000
"""The provider takes URLs of at most 4,000 characters (the script travels in one)."""


class TwilioVoiceChannel:
    """Places one call per attempt; progress, AMD and the digit come back by webhook."""

    means = "call"
    capabilities = Capabilities(
        delivery_reports=True,
        dtmf_confirmation=True,
        voicemail_detection=True,
        fax_detection=True,
        text_to_speech=True,
    )

    def __init__(self, settings: TwilioSettings, clock: Clock) -> None:
        self.name = settings.name
        self.settings = settings
        self.api = TwilioApi(settings, clock)
        self.limits = Limits(
            rate=settings.rate * len(settings.senders) if settings.rate else None,
            concurrency=settings.concurrency,
            burst=settings.burst,
        )
        self.sink: StatusSink | None = None

    async def start(self, sink: StatusSink) -> None:
        self.sink = sink
        await self.api.open()

    async def stop(self) -> None:
        await self.api.close()

    def health(self) -> Health:
        return self.api.health()

    def script(self, outbound: OutboundAttempt) -> CallScript:
        """What the call will say, in the contact's language."""
        return CallScript(
            attempt_id=outbound.attempt.id,
            text=outbound.message.text,
            language=say_language(outbound.language, self.settings.language),
            repeat=max(outbound.message.repeat, self.settings.repeat),
            confirm=outbound.requires_confirmation,
        )

    async def send(self, outbound: OutboundAttempt) -> SendResult:
        if outbound.message.audio_url and not outbound.message.text:
            return PermanentFailure("audio calls are not supported by this channel yet; give a text")
        try:
            query = script_query(self.script(outbound))
        except ValidationError as exc:
            return PermanentFailure(str(exc))
        s = self.settings
        twiml_url = s.webhook_url("twiml", query)
        if len(twiml_url) > MAX_URL:
            return PermanentFailure(
                f"the call script is too long for the provider: its TwiML URL has {len(twiml_url)} "
                f"characters, at most {MAX_URL} are accepted (shorten the message)"
            )
        sender = await self.api.senders.acquire()
        data: dict[str, str | list[str]] = {
            "To": outbound.attempt.address,
            "From": sender,
            "Url": twiml_url,
            "Method": "POST",
            "StatusCallback": s.webhook_url("status"),
            "StatusCallbackMethod": "POST",
            "StatusCallbackEvent": list(STATUS_EVENTS),
            "Timeout": str(s.ring_timeout),
        }
        if s.machine_detection:
            data["MachineDetection"] = "Enable"
        return await self.api.create("Calls", data, call_status)


def build(settings: ChannelSettings) -> TwilioVoiceChannel:
    """Build a ``twilio-voice`` channel from its section (refuses bad configuration)."""
    parsed = parse_settings(settings.name, settings.options, base_url=settings.base_url)
    return TwilioVoiceChannel(parsed, settings.clock)
