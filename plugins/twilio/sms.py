"""``twilio-sms``: text messages through a Twilio-compatible Messages API.

Delivery reports come back through the status webhook; replies (``STOP``...) through
the inbound webhook, once the number's incoming-message URL points at it."""

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
from tocsin.plugins.twilio.api import TwilioApi
from tocsin.plugins.twilio.settings import TwilioSettings, parse_settings
from tocsin.plugins.twilio.statuses import sms_status

MAX_BODY = 1600


class TwilioSmsChannel:
    """Sends one SMS per attempt; delivery reports come back through the status webhook."""

    means = "sms"
    capabilities = Capabilities(delivery_reports=True, inbound=True)

    def __init__(self, settings: TwilioSettings, clock: Clock) -> None:
        self.name = settings.name
        self.settings = settings
        self.api = TwilioApi(settings, clock)
        per_sender = settings.rate
        self.limits = Limits(
            rate=per_sender * len(settings.senders) if per_sender else None,
            concurrency=settings.concurrency,
            message_size=MAX_BODY,
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

    async def send(self, outbound: OutboundAttempt) -> SendResult:
        body = outbound.message.text
        if not body.strip():
            return PermanentFailure("21602 message body is required", code="21602")
        if len(body) > MAX_BODY:
            return PermanentFailure(f"21617 message body exceeds {MAX_BODY} characters", code="21617")
        sender = await self.api.senders.acquire()
        data = {
            "To": outbound.attempt.address,
            "Body": body,
            "StatusCallback": self.settings.webhook_url("status"),
        }
        if self.settings.messaging_service_sid and sender == self.settings.messaging_service_sid:
            data["MessagingServiceSid"] = sender
        else:
            data["From"] = sender
        return await self.api.create("Messages", data, sms_status)


def build(settings: ChannelSettings) -> TwilioSmsChannel:
    """Build a ``twilio-sms`` channel from its section (refuses bad configuration)."""
    parsed = parse_settings(settings.name, settings.options, base_url=settings.base_url)
    return TwilioSmsChannel(parsed, settings.clock)
