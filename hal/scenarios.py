"""What the virtual modem's network does, per recipient number or pattern.

A scenario says what becomes of an SMS (delivered, undelivered, a ``+CMS ERROR``, a late
report, no report) and of a call (answered, busy, no answer, answered then ``1``
pressed, voicemail, hung up by the callee), and whether the modem is unplugged in the
middle of sending to that number. The first scenario whose pattern matches wins;
patterns are shell globs over the E.164 number (``+33699*``). :func:`parse_scenario`
reads the ``PATTERN=sms:...,call:...`` form the CLI and configuration use.
"""

from __future__ import annotations

import enum
import fnmatch
from collections.abc import Iterable

from attrs import frozen


class SmsFate(enum.StrEnum):
    DELIVERED = "delivered"
    UNDELIVERED = "undelivered"
    LATE = "late"  # a "still trying" report first, then delivered
    NO_REPORT = "no-report"


class CallFate(enum.StrEnum):
    ANSWER = "answer"  # answers and listens until the caller hangs up
    PRESS_1 = "press-1"  # answers and presses 1 while the message plays
    PRESS_OTHER = "press-2"  # answers and presses 2
    BUSY = "busy"
    NO_ANSWER = "no-answer"
    VOICEMAIL = "voicemail"  # a voicemail answers at once and never presses anything
    HANG_UP = "hang-up"  # answers, then hangs up after a few seconds


@frozen
class Scenario:
    """One rule of the virtual network."""

    pattern: str = "*"
    sms: SmsFate = SmsFate.DELIVERED
    cms_error: int | None = None
    report_status: int | None = None  # TP-Status for an undelivered report (default 0x41)
    call: CallFate = CallFate.ANSWER
    unplug: bool = False

    def matches(self, number: str) -> bool:
        return fnmatch.fnmatchcase(number, self.pattern)


DEFAULT = Scenario()


def scenario_for(scenarios: Iterable[Scenario], number: str) -> Scenario:
    """The first scenario matching ``number``, else :data:`DEFAULT`."""
    return next((s for s in scenarios if s.matches(number)), DEFAULT)


def parse_scenario(spec: str) -> Scenario:
    """``+3369*=sms:undelivered,call:busy``, ``+33611*=cms:42``, ``*=unplug``."""
    pattern, sep, rules = spec.partition("=")
    if not sep or not pattern.strip():
        raise ValueError(f"scenario {spec!r}: expected PATTERN=RULE[,RULE...]")
    values: dict[str, object] = {"pattern": pattern.strip()}
    for rule in filter(None, (r.strip() for r in rules.split(","))):
        key, _, value = rule.partition(":")
        try:
            if key == "sms":
                values["sms"] = SmsFate(value)
            elif key == "call":
                values["call"] = CallFate(value)
            elif key == "cms":
                values["cms_error"] = int(value)
            elif key == "status":
                values["report_status"] = int(value, 0)
            elif key == "unplug":
                values["unplug"] = True
            else:
                raise ValueError(f"unknown rule {key!r} (sms, call, cms, status, unplug)")
        except ValueError as exc:
            raise ValueError(f"scenario {spec!r}: {exc}") from None
    return Scenario(**values)  # type: ignore[arg-type]
