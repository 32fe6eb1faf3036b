"""One parser for everything that comes back: DSNs, spam complaints, odd bounces.

- RFC 3464 delivery status notifications (``multipart/report; report-type=
  delivery-status``): ``Action: failed`` is *rebound*, ``Action: delivered`` is
  *received*; ``delayed``, ``relayed`` and ``expanded`` change nothing.
- RFC 5965 feedback reports (ARF, ``report-type=feedback-report``): a complaint
  (``Feedback-Type`` abuse, fraud, virus, other) is *marked as spam*.
- Anything else goes through flufl.bounce's detectors (Exim, Postfix, qmail,
  Exchange...): an address it finds permanently failing is *rebound*.

The attempt is named only by a signed token (see :mod:`.tokens`), looked for in this
order: the envelope recipient (the VERP address the bounce was sent to), the bounce's
own recipient headers, the DSN's ``Original-Envelope-Id``, the ARF's
``Original-Mail-From``, then the returned original's ``Return-Path`` and
``Message-ID``. A message naming no valid token is attributed to no attempt.
"""

from __future__ import annotations

import datetime as dt
import email
import logging
from collections.abc import Iterable, Sequence
from email.message import Message

from attrs import frozen
from flufl.bounce import all_failures

from tocsin.model import StatusEvent
from tocsin.plugins.smtp import tokens

log = logging.getLogger(__name__)

REBOUND = "rebound"
RECEIVED = "received"
SPAM = "marked as spam"

COMPLAINTS = {"abuse", "fraud", "virus", "other"}
RECIPIENT_HEADERS = ("Delivered-To", "X-Original-To", "Envelope-To", "X-Envelope-To", "To")


@frozen
class Bounce:
    """What one returned message says about one attempt.

    ``hard`` is set for a permanent failure (a 5.x.x status, or a detector's permanent
    verdict): the address itself is bad and is marked failing.
    """

    status: str
    attempt_id: int
    recipient: str = ""
    reason: str = ""
    kind: str = ""
    hard: bool = False


def _text(value: object) -> str:
    return str(value or "").strip()


def _parts(msg: Message) -> Iterable[Message]:
    try:
        yield from msg.walk()
    except (TypeError, AttributeError):  # malformed nesting: stop walking, keep what we had
        return


def _blocks(part: Message) -> list[Message]:
    """The field blocks of a ``message/delivery-status`` or ``feedback-report`` part."""
    payload = part.get_payload()
    if isinstance(payload, list):
        return [b for b in payload if isinstance(b, Message)]
    if isinstance(payload, str):
        text = payload.replace("\r\n", "\n")
        return [email.message_from_string(chunk) for chunk in text.split("\n\n") if chunk.strip()]
    return []


def _report(msg: Message, report_type: str, part_type: str) -> Message | None:
    if msg.get_content_type() != "multipart/report":
        return None
    if _text(msg.get_param("report-type", header="content-type")).lower() != report_type:
        return None
    return next((p for p in _parts(msg) if p.get_content_type() == part_type), None)


def _headers_text(msg: Message, names: Sequence[str]) -> str:
    return "\n".join(_text(v) for n in names for v in (msg.get_all(n) or []))


def _returned(msg: Message) -> list[Message]:
    kinds = {"message/rfc822", "text/rfc822-headers", "message/rfc822-headers"}
    found: list[Message] = []
    for part in _parts(msg):
        if part is msg or part.get_content_type() not in kinds:
            continue
        payload = part.get_payload()
        if isinstance(payload, list):
            found.extend(p for p in payload if isinstance(p, Message))
        elif isinstance(payload, str):
            found.append(email.message_from_string(payload))
    return found


def attempt_of(msg: Message, secret: str, envelope_recipients: Sequence[str] = ()) -> int | None:
    """The attempt a returned message names (see the module docs for the order)."""
    candidates: list[list[int]] = [
        tokens.attempts_in_verp(secret, "\n".join(envelope_recipients)),
        tokens.attempts_in_verp(secret, _headers_text(msg, RECIPIENT_HEADERS)),
    ]
    dsn = _report(msg, "delivery-status", "message/delivery-status")
    if dsn is not None:
        blocks = _blocks(dsn)
        envid = _text(blocks[0].get("Original-Envelope-Id")) if blocks else ""
        found = tokens.verify_token(secret, tokens.VERP, envid) if envid else None
        candidates.append([found] if found is not None else [])
    arf = _report(msg, "feedback-report", "message/feedback-report")
    if arf is not None:
        fields = "\n".join(_headers_text(b, ("Original-Mail-From",)) for b in _blocks(arf))
        candidates.append(tokens.attempts_in_verp(secret, fields))
    for original in _returned(msg):
        candidates.append(tokens.attempts_in_verp(secret, _headers_text(original, ("Return-Path",))))
        candidates.append(
            tokens.attempts_in_message_ids(secret, _headers_text(original, ("Message-ID",)))
        )
    for found_ids in candidates:
        if found_ids:
            return found_ids[0]
    return None


def _dsn(dsn_part: Message, attempt_id: int) -> Bounce | None:
    outcome: Bounce | None = None
    for block in _blocks(dsn_part)[1:]:
        action = _text(block.get("Action")).lower()
        status = _text(block.get("Status"))
        recipient = _text(block.get("Final-Recipient")).partition(";")[2].strip()
        diagnostic = _text(block.get("Diagnostic-Code")).partition(";")[2].strip()
        reason = " ".join(x for x in (status, diagnostic) if x)
        if action == "failed":
            return Bounce(REBOUND, attempt_id, recipient, reason or "delivery failed", "dsn",
                          hard=not status.startswith("4"))
        if action == "delivered" and outcome is None:
            outcome = Bounce(RECEIVED, attempt_id, recipient, reason or "delivered", "dsn")
    return outcome


def _arf(arf_part: Message, attempt_id: int) -> Bounce | None:
    fields: dict[str, str] = {}
    for block in _blocks(arf_part):
        for key, value in block.items():
            fields.setdefault(key.lower(), _text(value))
    feedback = fields.get("feedback-type", "").lower()
    if feedback not in COMPLAINTS:
        return None
    recipient = fields.get("original-rcpt-to", "").strip("<>")
    agent = fields.get("user-agent", "")
    reason = f"{feedback} complaint" + (f" via {agent}" if agent else "")
    return Bounce(SPAM, attempt_id, recipient, reason, "arf")


def _heuristic(msg: Message, attempt_id: int) -> Bounce | None:
    try:
        _temporary, permanent = all_failures(msg)
    except Exception as exc:
        log.debug("flufl.bounce could not read a message: %s", exc)
        return None
    if not permanent:
        return None
    recipient = sorted(a.decode("utf-8", "replace") if isinstance(a, bytes) else str(a)
                       for a in permanent)[0]
    return Bounce(REBOUND, attempt_id, recipient, "permanent failure (non-standard bounce)",
                  "heuristic", hard=True)


def parse_bounce(raw: bytes | Message, secret: str,
                 envelope_recipients: Sequence[str] = ()) -> Bounce | None:
    """What ``raw`` says about which attempt, or ``None`` (not a bounce, or not ours)."""
    msg = raw if isinstance(raw, Message) else email.message_from_bytes(raw)
    attempt_id = attempt_of(msg, secret, envelope_recipients)
    if attempt_id is None:
        return None
    dsn = _report(msg, "delivery-status", "message/delivery-status")
    if dsn is not None:
        return _dsn(dsn, attempt_id)
    arf = _report(msg, "feedback-report", "message/feedback-report")
    if arf is not None:
        return _arf(arf, attempt_id)
    return _heuristic(msg, attempt_id)


def event_for(bounce: Bounce, *, channel: str, at: dt.datetime, source: str) -> StatusEvent:
    """The status event a bounce reports to the sink."""
    data = {"kind": bounce.kind, "hard": "yes" if bounce.hard else "no"}
    if bounce.recipient:
        data["recipient"] = bounce.recipient
    return StatusEvent(status=bounce.status, at=at, attempt_id=bounce.attempt_id,
                       channel=channel, reason=bounce.reason, source=source, data=data)
