"""Scenarios of the Twilio simulator: what happens to a message or a call, per number.

A scenario is written ``outcome[:argument][+flag...]``:

- SMS: ``delivered``, ``undelivered[:code]`` (default 30003), ``failed[:code]`` (30008),
  ``silent`` (sent, never a final report);
- calls: ``answer`` (a person listens, hangs up), ``press[:digit]`` (a person presses a
  digit, default 1), ``busy``, ``no-answer``, ``voicemail``, ``fax``, ``failed[:code]``,
  ``canceled``;
- both: ``rejected[:code]`` (the API refuses the create: 400, default 21211),
  ``throttled[:n]`` (the first n creates answer 429), ``server-error[:n]`` (the first n
  answer 500);
- flags: ``+duplicates`` (every callback delivered twice, as a provider retry),
  ``+reorder`` (callbacks delivered in shuffled order).

A book maps number patterns (``fnmatch``: ``+3361*``) to scenarios, per means, with a
default for each.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping
from typing import Any

from attrs import field, frozen

SMS_OUTCOMES = frozenset({"delivered", "undelivered", "failed", "silent"})
CALL_OUTCOMES = frozenset({"answer", "press", "busy", "no-answer", "voicemail", "fax", "failed", "canceled"})
API_OUTCOMES = frozenset({"rejected", "throttled", "server-error"})
FLAGS = frozenset({"duplicates", "reorder"})
DEFAULT_ARGUMENTS = {
    "undelivered": "30003",
    "failed": "30008",
    "rejected": "21211",
    "throttled": "1",
    "server-error": "1",
    "press": "1",
}


def _flags(value: Iterable[str]) -> frozenset[str]:
    return frozenset(value)


@frozen
class Scenario:
    """One parsed scenario."""

    outcome: str
    argument: str = ""
    flags: frozenset[str] = field(default=frozenset(), converter=_flags)

    @property
    def duplicates(self) -> bool:
        return "duplicates" in self.flags

    @property
    def reorder(self) -> bool:
        return "reorder" in self.flags

    @property
    def count(self) -> int:
        """For ``throttled`` and ``server-error``: how many creates fail first."""
        return int(self.argument) if self.argument.isdigit() else 1


def parse_scenario(text: str, means: str) -> Scenario:
    """Parse ``text`` for ``means`` (``sms`` or ``call``); ``ValueError`` naming the problem."""
    head, *flags = text.strip().split("+")
    outcome, _, argument = head.partition(":")
    allowed = (SMS_OUTCOMES if means == "sms" else CALL_OUTCOMES) | API_OUTCOMES
    if outcome not in allowed:
        raise ValueError(
            f"{means} scenario {text!r}: unknown outcome {outcome!r} (known: {sorted(allowed)})"
        )
    if unknown := set(flags) - FLAGS:
        raise ValueError(
            f"{means} scenario {text!r}: unknown flag(s) {sorted(unknown)} (known: {sorted(FLAGS)})"
        )
    argument = argument or DEFAULT_ARGUMENTS.get(outcome, "")
    if outcome == "press" and (len(argument) != 1 or argument not in "0123456789*#"):
        raise ValueError(f"call scenario {text!r}: press takes one digit, got {argument!r}")
    numeric = {"undelivered", "failed", "rejected", "throttled", "server-error"}
    if outcome in numeric and not argument.isdigit():
        raise ValueError(f"{means} scenario {text!r}: {outcome} takes a number, got {argument!r}")
    return Scenario(outcome, argument, frozenset(str(f) for f in flags))


@frozen
class ScenarioBook:
    """Scenarios by number pattern, per means; first matching pattern wins."""

    sms: tuple[tuple[str, Scenario], ...] = ()
    call: tuple[tuple[str, Scenario], ...] = ()
    sms_default: Scenario = Scenario("delivered")
    call_default: Scenario = Scenario("answer")

    def for_number(self, means: str, number: str) -> Scenario:
        rules, default = (self.sms, self.sms_default) if means == "sms" else (self.call, self.call_default)
        for pattern, scenario in rules:
            if fnmatch.fnmatchcase(number, pattern):
                return scenario
        return default


def parse_book(data: Mapping[str, Any]) -> ScenarioBook:
    """A book from a mapping (a TOML file): ``[sms]`` and ``[call]`` tables of
    ``"pattern" = "scenario"`` (``default`` is the fallback), and optional top-level
    ``flags = ["duplicates", "reorder"]`` added to every scenario."""
    if unknown := set(data) - {"sms", "call", "flags"}:
        raise ValueError(f"scenarios: unknown key(s) {sorted(unknown)} (known: call, flags, sms)")
    extra = data.get("flags", [])
    if not isinstance(extra, list) or set(extra) - FLAGS:
        raise ValueError(f"scenarios.flags: expected a list among {sorted(FLAGS)}, got {extra!r}")
    parts: dict[str, Any] = {}
    for means in ("sms", "call"):
        table = data.get(means, {})
        if not isinstance(table, Mapping):
            raise ValueError(f"scenarios.{means}: expected a table of pattern = scenario")
        rules = []
        for pattern, text in table.items():
            if not isinstance(text, str):
                raise ValueError(f"scenarios.{means}.{pattern}: expected a scenario string, got {text!r}")
            scenario = parse_scenario(text, means)
            flags = frozenset(scenario.flags | {str(f) for f in extra})
            scenario = Scenario(scenario.outcome, scenario.argument, flags)
            if pattern == "default":
                parts[f"{means}_default"] = scenario
            else:
                rules.append((pattern, scenario))
        parts[means] = tuple(rules)
        parts.setdefault(f"{means}_default", Scenario(
            "delivered" if means == "sms" else "answer", "", frozenset(extra)))
    return ScenarioBook(**parts)


DEMO_BOOK = {
    "sms": {
        "*1": "undelivered:30005",
        "*2": "failed:30003",
        "*3": "silent",
        "*4": "delivered+duplicates+reorder",
        "*5": "undelivered:30006",
        "default": "delivered",
    },
    "call": {
        "*1": "busy",
        "*2": "no-answer",
        "*3": "voicemail",
        "*4": "press:2",
        "*5": "answer",
        "*6": "fax",
        "*7": "press:1+duplicates+reorder",
        "default": "press:1",
    },
}
"""A book for demonstrations: the number's last digit picks what happens, so a demo
audience shows every status (SMS ending 1: undelivered; calls ending 3: voicemail...)."""


def demo_book() -> ScenarioBook:
    """:data:`DEMO_BOOK` parsed (what ``tocsin simulate twilio --demo`` uses)."""
    return parse_book(DEMO_BOOK)
