"""Which attempt each message reference belongs to, and when a message is delivered.

A message of *n* parts is *received* when every part's status report says delivered,
*undelivered* as soon as one part's report is a final failure; "still trying" reports
change nothing. References are per modem, so the key in memory is (device, reference).
Once a message has its verdict, later reports for its parts (a network repeating
itself, the other parts of an undelivered message) are swallowed, until the modem gives
the reference to a new message.

The memory goes with the process, but a status report may arrive hours later (a handset
switched off), after a restart. So every message also gets a durable key, stored as its
attempt's ``provider_ref`` when it is *sent* (:func:`durable_key`): the SIM (its IMSI,
which stays with the reference counter when a modem moves to another port), the
reference of the **last** part, and the recipient. A report the memory does not know is
reported by that key, and the status applier finds the attempt in the store.

- The recipient is in the key because references wrap at 256 per SIM: a busy modem
  reuses a reference within minutes, while the same reference *to the same number* comes
  back only after that contact has had 256 messages from this SIM. When it does, the
  newest attempt with the key must win (see ``docs/hal.md``).
- One key per attempt means that after a restart a multipart message is decided by its
  last part's report; reports of its other parts then name no attempt and are dropped
  (the applier logs them). While the process lives, every part counts.
"""

from __future__ import annotations

import collections

from attrs import define, field, frozen

from tocsin.hal.codes import Delivery, tp_status_meaning
from tocsin.hal.pdu import StatusReport


@define
class _Message:
    attempt_id: int | None
    parts: int
    delivered: set[int] = field(factory=set)
    keys: list[tuple[str, int]] = field(factory=list)
    decided: bool = False


@frozen
class Verdict:
    """A message's final delivery status and why."""

    attempt_id: int | None
    status: str  # "received" or "undelivered"
    reason: str


def durable_key(sim: str, reference: int, number: str) -> str:
    """The ``provider_ref`` of a message whose last part left SIM ``sim`` with
    ``reference``, to ``number`` (``+`` and spaces dropped, as reports vary)."""
    return f"{sim}:{reference}:{''.join(c for c in number if c.isdigit())}"


def part_outcome(report: StatusReport) -> tuple[str, str] | None:
    """(status, reason) that one part's report says, ``None`` for "still trying"."""
    delivery = report.delivery
    if delivery is Delivery.PENDING:
        return None
    if delivery is Delivery.FAILED:
        return "undelivered", f"status report 0x{report.status:02X}: {tp_status_meaning(report.status)}"
    return "received", tp_status_meaning(report.status)


class DeliveryTracker:
    """Status reports in, per-attempt verdicts out."""

    def __init__(self) -> None:
        self._by_ref: dict[tuple[str, int], tuple[_Message, int]] = {}
        self._early: dict[tuple[str, int], StatusReport] = {}
        self._decided: collections.OrderedDict[tuple[str, int], None] = collections.OrderedDict()
        """Keys of messages whose verdict is given: their later reports (a network that
        repeats itself, the other parts of an undelivered message) change nothing."""

    def expect(self, attempt_id: int | None, parts: int) -> _Message:
        return _Message(attempt_id, parts)

    def part_sent(self, message: _Message, device: str, index: int, reference: int) -> Verdict | None:
        """Record that part ``index`` left ``device`` with ``reference``; a report that
        came in before this call is applied now."""
        key = (device, reference)
        message.keys.append(key)
        if message.decided:
            self._remember(key)
            self._early.pop(key, None)
            return None
        self._decided.pop(key, None)  # the reference came round again: a new message
        self._by_ref[key] = (message, index)
        early = self._early.pop(key, None)
        return self.report(device, early) if early else None

    def knows(self, device: str, reference: int) -> bool:
        """Whether a part sent by this process from ``device`` has ``reference``."""
        key = (device, reference)
        return key in self._by_ref or key in self._decided

    def report(self, device: str, report: StatusReport) -> Verdict | None:
        """Apply one status report; a verdict when the message's fate is now known. A
        report for a reference not (yet) known is kept: its part may be about to be
        recorded (``+CDS`` can overtake ``+CMGS`` on the line)."""
        key = (device, report.reference)
        if key in self._decided:
            return None
        found = self._by_ref.get(key)
        if found is None:
            self._early[key] = report
            if len(self._early) > 10_000:  # reports for messages we never sent
                self._early.pop(next(iter(self._early)))
            return None
        message, index = found
        outcome = part_outcome(report)
        if outcome is None:
            return None
        status, reason = outcome
        if status == "received":
            message.delivered.add(index)
            if len(message.delivered) < message.parts:
                return None
        self._forget(message)
        return Verdict(message.attempt_id, status, reason)

    def _forget(self, message: _Message) -> None:
        message.decided = True
        for key in message.keys:
            self._by_ref.pop(key, None)
            self._remember(key)

    def _remember(self, key: tuple[str, int]) -> None:
        self._decided[key] = None
        self._decided.move_to_end(key)
        if len(self._decided) > 10_000:  # references wrap at 256 per modem anyway
            self._decided.popitem(last=False)

    @property
    def waiting(self) -> int:
        """Parts sent whose message has no verdict yet."""
        return len(self._by_ref)
