"""Sending and receiving SMS in PDU mode on a :class:`~tocsin.hal.modem.Modem`.

Sending: each part is an ``AT+CMGS=<length>``, the PDU after the ``> `` prompt, and
``+CMGS: <mr>`` back; the message references let status reports be matched. Receiving:
``+CMTI`` / ``+CDSI`` (a message or report stored at an index: read with ``AT+CMGR``,
then deleted), ``+CMT`` / ``+CDS`` (pushed directly). When it starts listening, the
receiver also sweeps the storage (``AT+CMGL=4``) for whatever arrived while nobody
read the port (a cable pulled, a restart). Received events go to the listener on the
event loop.
"""

from __future__ import annotations

import collections
import itertools
import logging
from collections.abc import Callable

from attrs import frozen

from tocsin.hal.errors import AtError, HalError
from tocsin.hal.modem import Modem
from tocsin.hal.pdu import Deliver, PduError, StatusReport, decode, encode_submit
from tocsin.hal.reassembly import Reassembler
from tocsin.hal.session import Urc

log = logging.getLogger(__name__)

SUBMIT_TIMEOUT = 60.0
"""Seconds a modem may take to submit one part to the network (real hardware)."""


@frozen
class SentSms:
    """What a modem did with a message: one message reference per part."""

    device: str
    references: tuple[int, ...]


class PartialSend(HalError):
    """A multipart message failed after some parts left: ``sent`` were submitted."""

    def __init__(self, cause: HalError, sent: tuple[int, ...]) -> None:
        self.cause = cause
        self.sent = sent
        super().__init__(f"{cause} (after {len(sent)} part(s) were submitted)")


async def send_sms(
    modem: Modem, number: str, text: str, *, reference: int = 0, timeout: float = SUBMIT_TIMEOUT,
    status_report: bool = True, on_part: Callable[[int, int], None] | None = None,
) -> SentSms:
    """Send ``text`` to ``number`` (GSM-7 or UCS-2, split in parts as needed).

    ``on_part(index, reference)`` is called as each part leaves, before the next one is
    sent, so that an early status report can be matched.

    Raises :class:`AtError` (``+CMS ERROR`` with its meaning) when the first part is
    refused, :class:`PartialSend` when a later one is, and the session's errors.
    """
    references: list[int] = []
    for part in encode_submit(number, text, reference=reference, status_report=status_report):
        try:
            response = await modem.command(f"AT+CMGS={part.tpdu_length}", body=part.hex, timeout=timeout)
        except HalError as exc:
            if references:
                raise PartialSend(exc, tuple(references)) from exc
            raise
        values = response.prefixed("+CMGS")
        if not values or not values[0].split(",")[0].strip().isdigit():
            error = AtError(f"AT+CMGS={part.tpdu_length}", "ERROR", None,
                            f"no message reference in {response.lines!r}")
            if references:
                raise PartialSend(error, tuple(references))
            raise error
        references.append(int(values[0].split(",")[0]))
        if on_part is not None:
            on_part(len(references), references[-1])
    return SentSms(modem.device, tuple(references))


@frozen
class ReceivedSms:
    """A whole received message (parts joined)."""

    device: str
    sender: str
    text: str
    message: Deliver


@frozen
class ReceivedReport:
    """A status report for the part with message reference ``report.reference``."""

    device: str
    report: StatusReport


SmsListener = Callable[[ReceivedSms | ReceivedReport], None]


class SmsReceiver:
    """Listens on one modem for incoming messages and status reports."""

    def __init__(self, modem: Modem, listener: SmsListener) -> None:
        self.modem = modem
        self.listener = listener
        self.reassembler = Reassembler()
        self._seen: collections.OrderedDict[str, None] = collections.OrderedDict()
        self._unsubscribe = modem.subscribe(self._on_urc)
        for urc in modem.take_backlog():
            self._on_urc(urc)
        modem.spawn(self._sweep(), "sms-sweep")

    def close(self) -> None:
        self._unsubscribe()

    def _on_urc(self, urc: Urc) -> None:
        if urc.name in ("+CMT", "+CDS") and urc.body:
            self._on_pdu(urc.body)
        elif urc.name in ("+CMTI", "+CDSI"):
            index = urc.value.split(",")[-1].strip()
            if index.isdigit():
                self.modem.spawn(self._fetch(int(index)), f"fetch-sms-{index}")

    async def _sweep(self) -> None:
        """Read and delete everything stored (``AT+CMGL=4``: all messages, PDU mode)."""
        try:
            response = await self.modem.command("AT+CMGL=4")
        except HalError as exc:
            log.info("%s: could not list stored messages: %s", self.modem.device, exc)
            return
        for head, pdu in itertools.pairwise(response.lines):
            if not head.startswith("+CMGL:"):
                continue
            index = head.split(":", 1)[1].split(",")[0].strip()
            self._on_pdu(pdu)
            try:
                await self.modem.command(f"AT+CMGD={index}")
            except HalError as exc:
                log.warning("%s: could not delete stored message %s: %s",
                            self.modem.device, index, exc)

    async def _fetch(self, index: int) -> None:
        try:
            response = await self.modem.command(f"AT+CMGR={index}")
            pdus = [ln for ln in response.lines if not ln.startswith("+CMGR")]
            await self.modem.command(f"AT+CMGD={index}")
        except HalError as exc:
            log.warning("%s: could not read stored message %d: %s", self.modem.device, index, exc)
            return
        for line in pdus:
            self._on_pdu(line)

    def _on_pdu(self, hex_pdu: str) -> None:
        # A stored message may be both announced and swept: handle each PDU once.
        if hex_pdu in self._seen:
            return
        self._seen[hex_pdu] = None
        if len(self._seen) > 512:
            self._seen.popitem(last=False)
        try:
            decoded = decode(hex_pdu)
        except PduError as exc:
            log.warning("%s: dropped an undecodable PDU: %s", self.modem.device, exc)
            return
        if isinstance(decoded, StatusReport):
            self.listener(ReceivedReport(self.modem.device, decoded))
        elif isinstance(decoded, Deliver):
            text = self.reassembler.add(decoded)
            if text is not None:
                self.listener(ReceivedSms(self.modem.device, decoded.sender, text, decoded))
