"""The ``gsm-sms`` channel: the SMS status machine driven by what the modems report.

*queued* while waiting for a modem, *sending* during ``AT+CMGS``, *sent* on
``+CMGS: <ref>``, then *received* or *undelivered* from the status reports of every
part (see :mod:`~tocsin.plugins.gsm.tracking`), or *failed* on a ``+CMS ERROR``, with
the code's meaning as the reason. The attempt's provider reference is the message's
durable key (SIM, last part's reference, recipient): a report that arrives after a
restart, when this process never sent the message, is reported by that key and the
status applier finds its attempt in the store. Replies go to the sink's ``inbound``, tagged with the
last attempt sent to that number.

``send`` returns once the modem has taken the message (``+CMGS``), so an attempt the
process loses in a crash was never accepted and is sent again. Failures that blame a
modem (port lost, time-out, SIM or modem error) are retried on another modem by the
pool. Once an attempt is *queued*, the channel never hands it back: a failure after
that is final (*failed*, with the reason). Only when no modem at all is in service does
``send`` return a temporary failure, before reporting anything.
"""

from __future__ import annotations

import itertools
import logging

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
from tocsin.hal.codes import CMS_TEMPORARY
from tocsin.hal.errors import AtError, CapabilityError, HalError
from tocsin.hal.modem import Modem
from tocsin.hal.pdu import split_text
from tocsin.hal.pool import ModemPool, NoModemAvailable, is_modem_fault
from tocsin.hal.sms import PartialSend, ReceivedReport, ReceivedSms, SentSms, SmsReceiver, send_sms
from tocsin.model import InboundMessage
from tocsin.plugins.gsm.common import Reporter, check_number, pool_health
from tocsin.plugins.gsm.settings import GsmSettings, parse_settings
from tocsin.plugins.gsm.tracking import DeliveryTracker, Verdict, durable_key, part_outcome

log = logging.getLogger(__name__)

MEANS = "sms"
MAX_TEXT = 1530  # ten GSM-7 parts; longer alerts belong in an e-mail
RETRY_AFTER = 60.0


class GsmSmsChannel:
    """SMS through a pool of GSM modems."""

    means = MEANS

    def __init__(self, settings: GsmSettings, clock: Clock) -> None:
        self.name = settings.name
        self.settings = settings
        self.capabilities = Capabilities(delivery_reports=settings.status_reports, inbound=True)
        self.limits = Limits(rate=None, concurrency=2 * len(settings.devices), message_size=MAX_TEXT)
        self.clock = clock
        self.pool: ModemPool | None = None
        self.tracker = DeliveryTracker()
        self._report = Reporter(self.name, clock)
        self._sink: StatusSink | None = None
        self._receivers: dict[str, SmsReceiver] = {}
        self._last_attempt: dict[str, int | None] = {}
        self._sims: dict[str, str] = {}
        """Device -> the SIM in it (IMSI, or the device when the modem does not say)."""
        self._refs = itertools.count()

    # -- life -----------------------------------------------------------------------------

    async def start(self, sink: StatusSink) -> None:
        """Open the modems; refuse modems that cannot send SMS (or report delivery)."""
        self._sink = sink
        self._report.sink = sink
        pool = self.settings.build_pool(on_ready=self._modem_ready)
        await pool.start()
        needs = ("sms", "delivery_reports") if self.settings.status_reports else ("sms",)
        try:
            for modem in pool.modems():
                modem.profile.require(*needs)
        except CapabilityError as exc:
            await pool.stop()
            raise CapabilityError(f"channel {self.name!r}: {exc}") from None
        self.pool = pool

    async def stop(self) -> None:
        for receiver in self._receivers.values():
            receiver.close()
        self._receivers.clear()
        if self.pool is not None:
            await self.pool.stop()
            self.pool = None

    def health(self) -> Health:
        return pool_health(self.pool)

    def _modem_ready(self, modem: Modem) -> None:
        old = self._receivers.pop(modem.device, None)
        if old is not None:
            old.close()
        self._sims[modem.device] = (modem.info.imsi if modem.info else "") or modem.device
        self._receivers[modem.device] = SmsReceiver(modem, self._on_received)

    # -- sending --------------------------------------------------------------------------

    async def send(self, outbound: OutboundAttempt) -> SendResult:
        attempt = outbound.attempt
        number = attempt.address.strip()
        text = outbound.message.text
        if problem := check_number(number):
            return PermanentFailure(problem)
        if not text:
            return PermanentFailure("the SMS text is empty")
        if len(text) > MAX_TEXT:
            return PermanentFailure(f"the SMS text has {len(text)} characters (at most {MAX_TEXT})")
        if self.pool is None:
            return TemporaryFailure(f"channel {self.name!r} is not started", RETRY_AFTER)
        if self.pool.available == 0:
            return TemporaryFailure(f"no modem in service ({self.health().detail})", RETRY_AFTER)
        self._report(attempt.id, "queued")
        parts = len(split_text(text))
        reference = next(self._refs) % 256
        settings = self.settings

        async def job(modem: Modem) -> SentSms:
            self._report(attempt.id, "sending", modem=modem.device)
            message = self.tracker.expect(attempt.id, parts)

            def on_part(index: int, ref: int) -> None:
                verdict = self.tracker.part_sent(message, modem.device, index, ref)
                if verdict is not None:
                    self._apply(verdict)

            try:
                return await send_sms(
                    modem, number, text, reference=reference, on_part=on_part,
                    timeout=settings.bound(settings.submit_timeout),
                    status_report=settings.status_reports,
                )
            except PartialSend as exc:
                if is_modem_fault(exc.cause):
                    raise exc.cause from exc  # the whole message again, on another modem
                raise

        try:
            sent = await self.pool.run(job, prefer=settings.operator_for(number),
                                       timeout=settings.bound(settings.queue_timeout))
        except NoModemAvailable as exc:
            return PermanentFailure(str(exc), code="no-modem")
        except PartialSend as exc:
            return PermanentFailure(f"only {len(exc.sent)} of {parts} parts left: {exc.cause}")
        except AtError as exc:
            reason = f"{exc.meaning} (+{exc.kind} ERROR: {exc.code})" if exc.code is not None \
                else exc.meaning
            if exc.code in CMS_TEMPORARY:
                reason += "; a temporary network condition: the alert's reminders try again"
            return PermanentFailure(reason, code=str(exc.code or ""))
        except HalError as exc:
            return PermanentFailure(str(exc))
        self._last_attempt[number] = attempt.id
        key = durable_key(self._sim(sent.device), sent.references[-1], number)
        return Accepted(provider_ref=key, status="sent")

    # -- what comes back ------------------------------------------------------------------

    def _apply(self, verdict: Verdict) -> None:
        self._report(verdict.attempt_id, verdict.status, verdict.reason)

    def _sim(self, device: str) -> str:
        return self._sims.get(device) or device

    def _on_received(self, event: ReceivedSms | ReceivedReport) -> None:
        if isinstance(event, ReceivedReport):
            self._on_report(event)
            return
        if self._sink is None:
            return
        self._sink.inbound(InboundMessage(
            means=MEANS, sender=event.sender, text=event.text, at=self.clock.now(),
            channel=self.name, attempt_id=self._last_attempt.get(event.sender),
        ))


    def _on_report(self, event: ReceivedReport) -> None:
        """A status report: the memory decides while it knows the message; otherwise (a
        report for a message sent before a restart) it goes by durable key."""
        report = event.report
        known = self.tracker.knows(event.device, report.reference)
        verdict = self.tracker.report(event.device, report)
        if verdict is not None:
            self._apply(verdict)
            return
        outcome = part_outcome(report)
        if known or outcome is None:
            return
        status, reason = outcome
        key = durable_key(self._sim(event.device), report.reference, report.recipient)
        self._report.by_ref(key, status, reason)


def build_sms_channel(settings: ChannelSettings) -> GsmSmsChannel:
    options = {k: v for k, v in settings.options.items()}
    return GsmSmsChannel(parse_settings(settings.name, options, voice=False), settings.clock)
