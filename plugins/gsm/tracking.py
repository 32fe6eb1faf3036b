"""Which attempt each message reference belongs to, and when a message is delivered.

A message of *n* parts is *received* when every part's status report says delivered,
*undelivered* as soon as one part's report is a final failure; "still trying" reports
change nothing. References are per modem, so the key is (device, reference).
"""

from __future__ import annotations

from attrs import define, field

from tocsin.hal.codes import Delivery, tp_status_meaning
from tocsin.hal.pdu import StatusReport


@define
class _Message:
    attempt_id: int | None
    parts: int
    delivered: set[int] = field(factory=set)
    keys: list[tuple[str, int]] = field(factory=list)


@define
class Verdict:
    """A message's final delivery status and why."""

    attempt_id: int | None
    status: str  # "received" or "undelivered"
    reason: str


class DeliveryTracker:
    """Status reports in, per-attempt verdicts out."""

    def __init__(self) -> None:
        self._by_ref: dict[tuple[str, int], tuple[_Message, int]] = {}
        self._early: dict[tuple[str, int], StatusReport] = {}

    def expect(self, attempt_id: int | None, parts: int) -> _Message:
        return _Message(attempt_id, parts)

    def part_sent(self, message: _Message, device: str, index: int, reference: int) -> Verdict | None:
        """Record that part ``index`` left ``device`` with ``reference``; a report that
        came in before this call is applied now."""
        key = (device, reference)
        self._by_ref[key] = (message, index)
        message.keys.append(key)
        early = self._early.pop(key, None)
        return self.report(device, early) if early else None

    def report(self, device: str, report: StatusReport) -> Verdict | None:
        """Apply one status report; a verdict when the message's fate is now known."""
        key = (device, report.reference)
        found = self._by_ref.get(key)
        if found is None:
            self._early[key] = report
            if len(self._early) > 10_000:  # reports for messages we never sent
                self._early.pop(next(iter(self._early)))
            return None
        message, index = found
        delivery = report.delivery
        if delivery is Delivery.PENDING:
            return None
        if delivery is Delivery.FAILED:
            self._forget(message)
            meaning = tp_status_meaning(report.status)
            return Verdict(message.attempt_id, "undelivered",
                           f"status report 0x{report.status:02X}: {meaning}")
        message.delivered.add(index)
        if len(message.delivered) < message.parts:
            return None
        self._forget(message)
        return Verdict(message.attempt_id, "received", tp_status_meaning(report.status))

    def _forget(self, message: _Message) -> None:
        for key in message.keys:
            self._by_ref.pop(key, None)

    @property
    def waiting(self) -> int:
        """Parts sent whose message has no verdict yet."""
        return len(self._by_ref)
