"""The provider's webhooks on the reference server: status callbacks, TwiML, the digit,
and inbound SMS.

Every request must carry a genuine ``X-Twilio-Signature`` for the exact URL Tocsin gave
the provider and must not have been accepted before: a forged, altered or replayed one
is refused with ``403`` and changes nothing. Deliveries are claimed in the store
(:mod:`tocsin.plugins.cloudkit.replay`), so a replay is refused by every server process
on the database, not only by the one that accepted the original. Accepted events are
reported through the runtime's status sink, by channel and provider reference (the
message or call SID).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

from attrs import frozen
from litestar import Request, Response, Router, post
from litestar.params import FromPath

from tocsin.errors import ConfigError, ValidationError
from tocsin.model import InboundMessage, StatusEvent
from tocsin.plugins.cloudkit.host import WebhookHost
from tocsin.plugins.cloudkit.replay import ReplayGuard
from tocsin.plugins.twilio import twiml
from tocsin.plugins.twilio.settings import WEBHOOK_ROOT, TwilioSettings, parse_settings
from tocsin.plugins.twilio.signature import is_valid
from tocsin.plugins.twilio.statuses import MACHINE_ANSWERS, Mapped, call_status, sms_status

MEANS = {"twilio-sms": "sms", "twilio-voice": "call"}
PUBLIC = {"tocsin_right": "public"}
"""Webhooks need no login: the signature is their authentication."""
FORM = "application/x-www-form-urlencoded"
XML = "application/xml"


@frozen
class Delivery:
    """A verified webhook request."""

    channel: str
    settings: TwilioSettings
    means: str
    params: Mapping[str, str]
    query: Mapping[str, str]
    replay_key: str


def _text(status: int, message: str) -> Response[str]:
    return Response(message, status_code=status, media_type="text/plain")


def _xml(document: str) -> Response[str]:
    return Response(document, status_code=200, media_type=XML)


class TwilioWebhooks:
    """The webhook logic of one runtime (the route handlers delegate here)."""

    def __init__(self, runtime: WebhookHost) -> None:
        self.runtime = runtime
        self.guard = ReplayGuard(runtime.store.webhook_claims, runtime.clock)
        self._settings: dict[str, tuple[str, TwilioSettings]] = {}

    def channel(self, name: str) -> tuple[str, TwilioSettings] | None:
        """``(means, settings)`` of a Twilio channel instance, or ``None``."""
        if name not in self._settings:
            section = self.runtime.config.channels.get(name)
            if not section or section.get("type") not in MEANS:
                return None
            core = self.runtime.config.core
            try:
                parsed = parse_settings(name, section, base_url=core.base_url, region=core.default_region)
            except ConfigError:
                return None
            self._settings[name] = (MEANS[str(section["type"])], parsed)
        return self._settings[name]

    async def verify(self, name: str, kind: str, request: Request[Any, Any, Any]) -> Delivery | Response[str]:
        """The verified delivery, or the response refusing it."""
        found = self.channel(name)
        if found is None:
            return _text(404, f"no Twilio channel named {name!r}")
        means, settings = found
        if not request.headers.get("content-type", "").startswith(FORM):
            return _text(415, f"expected {FORM}")
        body = await request.body()
        try:
            params = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
        except (UnicodeDecodeError, ValueError):
            return _text(400, "the body is not a valid form")
        raw_query = request.scope.get("query_string", b"").decode("latin-1")
        url = settings.webhook_url(kind) + (f"?{raw_query}" if raw_query else "")
        sent = request.headers.get("x-twilio-signature")
        if not is_valid(settings.auth_token, url, params, sent):
            return _text(403, "invalid X-Twilio-Signature")
        values = dict(params)
        if values.get("AccountSid", settings.account_sid) != settings.account_sid:
            return _text(403, "the request is for another account")
        key = request.headers.get("i-twilio-idempotency-token") or str(sent)
        if not await self.guard.claim(f"{name}/{kind}", key):
            return _text(403, "this request was already accepted (replay)")
        query = dict(parse_qsl(raw_query, keep_blank_values=True))
        return Delivery(name, settings, means, values, query, key)

    def report(self, delivery: Delivery, mapped: Mapped, provider_ref: str, attempt_id: int | None) -> bool:
        """Hand one event to the runtime's sink; ``False`` when no sink is running."""
        sink = self.runtime.sink
        if sink is None:
            return False
        data = {
            k: v
            for k, v in delivery.params.items()
            if k in {"MessageStatus", "CallStatus", "ErrorCode", "AnsweredBy", "SequenceNumber",
                     "CallDuration", "Digits"}
        }
        sink.report(
            StatusEvent(
                status=mapped.status,
                at=self.runtime.clock.now(),
                attempt_id=attempt_id,
                channel=delivery.channel,
                provider_ref=provider_ref,
                reason=mapped.reason,
                source="twilio",
                data=data,
            )
        )
        return True

    async def _unavailable(self, delivery: Delivery, kind: str) -> Response[str]:
        await self.guard.release(f"{delivery.channel}/{kind}", delivery.replay_key)
        return _text(503, "no status sink is running in this process; retry later")

    async def status(self, name: str, request: Request[Any, Any, Any]) -> Response[str]:
        delivery = await self.verify(name, "status", request)
        if isinstance(delivery, Response):
            return delivery
        p = delivery.params
        if delivery.means == "sms":
            mapped = sms_status(p.get("MessageStatus") or p.get("SmsStatus", ""), p.get("ErrorCode"))
            ref = p.get("MessageSid") or p.get("SmsSid", "")
        else:
            mapped = call_status(p.get("CallStatus", ""), p.get("AnsweredBy"), p.get("ErrorCode"))
            ref = p.get("CallSid", "")
        if mapped is None or not ref:
            return _text(204, "")
        if not self.report(delivery, mapped, ref, None):
            return await self._unavailable(delivery, "status")
        return _text(204, "")

    def _script(self, delivery: Delivery) -> twiml.CallScript | Response[str]:
        if delivery.means != "call":
            return _text(404, "TwiML is served for voice channels only")
        try:
            return twiml.parse_query(delivery.query)
        except ValidationError as exc:
            return _text(400, str(exc))

    async def call(self, name: str, request: Request[Any, Any, Any]) -> Response[str]:
        """The TwiML fetched when the call is answered (by a person or a machine)."""
        delivery = await self.verify(name, "twiml", request)
        if isinstance(delivery, Response):
            return delivery
        script = self._script(delivery)
        if isinstance(script, Response):
            return script
        s = delivery.settings
        answered_by = delivery.params.get("AnsweredBy", "")
        sid = delivery.params.get("CallSid", "")
        if answered_by in MACHINE_ANSWERS or answered_by == "fax":
            mapped = call_status("in-progress", answered_by)
            assert mapped is not None
            if not self.report(delivery, mapped, sid, script.attempt_id):
                return await self._unavailable(delivery, "twiml")
            if answered_by == "fax":
                return _xml(twiml.hangup_twiml())
            return _xml(twiml.voicemail_twiml(script, voice=s.voice))
        gather_url = s.webhook_url("gather", twiml.script_query(script))
        return _xml(twiml.call_twiml(script, gather_url=gather_url, voice=s.voice, prompt=s.confirm_prompt))

    async def gather(self, name: str, request: Request[Any, Any, Any]) -> Response[str]:
        """The digit the contact pressed: ``1`` confirms, anything else replays the message."""
        delivery = await self.verify(name, "gather", request)
        if isinstance(delivery, Response):
            return delivery
        script = self._script(delivery)
        if isinstance(script, Response):
            return script
        s = delivery.settings
        digits = delivery.params.get("Digits", "")
        if script.confirm and digits == twiml.CONFIRM_DIGIT:
            confirmed = Mapped("confirmed", "pressed 1")
            if not self.report(delivery, confirmed, delivery.params.get("CallSid", ""), script.attempt_id):
                return await self._unavailable(delivery, "gather")
            return _xml(twiml.thanks_twiml(script, voice=s.voice, thanks=s.thanks))
        gather_url = s.webhook_url("gather", twiml.script_query(script))
        return _xml(twiml.call_twiml(script, gather_url=gather_url, voice=s.voice, prompt=s.confirm_prompt))


    async def inbound(self, name: str, request: Request[Any, Any, Any]) -> Response[str]:
        """An SMS a contact sent to one of the channel's numbers (a reply, ``STOP``...):
        handed to the sink as an inbound message; the plugins of
        ``tocsin_inbound_message`` decide what it means. No reply is sent."""
        delivery = await self.verify(name, "inbound", request)
        if isinstance(delivery, Response):
            return delivery
        if delivery.means != "sms":
            return _text(404, "inbound messages are received by SMS channels only")
        p = delivery.params
        sink = self.runtime.sink
        if sink is None:
            return await self._unavailable(delivery, "inbound")
        sink.inbound(
            InboundMessage(
                means="sms",
                sender=p.get("From", ""),
                text=p.get("Body", ""),
                at=self.runtime.clock.now(),
                channel=delivery.channel,
                provider_ref=p.get("MessageSid") or p.get("SmsSid"),
            )
        )
        return _xml(twiml.empty_twiml())


def build_router(runtime: WebhookHost) -> Router:
    """The webhook routes of every Twilio channel of ``runtime``, under ``/webhooks/twilio``."""
    hooks = TwilioWebhooks(runtime)

    @post("/{channel:str}/status", opt=PUBLIC, include_in_schema=False, name="twilio-status")
    async def status(channel: FromPath[str], request: Request[Any, Any, Any]) -> Response[str]:
        return await hooks.status(channel, request)

    @post("/{channel:str}/twiml", opt=PUBLIC, include_in_schema=False, name="twilio-twiml")
    async def call(channel: FromPath[str], request: Request[Any, Any, Any]) -> Response[str]:
        return await hooks.call(channel, request)

    @post("/{channel:str}/gather", opt=PUBLIC, include_in_schema=False, name="twilio-gather")
    async def gather(channel: FromPath[str], request: Request[Any, Any, Any]) -> Response[str]:
        return await hooks.gather(channel, request)

    @post("/{channel:str}/inbound", opt=PUBLIC, include_in_schema=False, name="twilio-inbound")
    async def inbound(channel: FromPath[str], request: Request[Any, Any, Any]) -> Response[str]:
        return await hooks.inbound(channel, request)

    return Router(path=WEBHOOK_ROOT, route_handlers=[status, call, gather, inbound])
