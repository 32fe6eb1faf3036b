"""Declarative status machines: one per means, the single judge of every status change.

A machine declares its states (with the names users know), the initial state, the
allowed transitions, the terminal states and which terminal states count as *reached*
by default. :meth:`StatusMachine.decide` judges one reported status against the current
one the way providers really report: a status further along a legal path is applied
(providers skip intermediate callbacks), a status already implied by the current one is
absorbed (late or duplicate callbacks), anything else is refused and recorded as an
anomaly by the caller, never applied.

Before a channel takes it, an attempt waits in Tocsin's outbox with the status
:data:`PENDING` (the empty string): the machine's ``initial`` state is the first one a
channel reports (a call is *queued*, an SMS *accepted*, an e-mail *sent*).

A terminal state is never left, except towards one of its declared *refinements*: a
completed call becomes *confirmed* when the digit arrives after the hang-up report, a
received e-mail becomes *opened*. A refinement of a reached state is reached too, so a
finished attempt that counted never stops counting.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from functools import cached_property

import attrs
from attrs import field, frozen

PENDING = ""
"""The status of an attempt that is in the outbox, not yet handed to a channel."""


class Verdict(enum.StrEnum):
    """What to do with a reported status."""

    APPLY = "apply"
    DUPLICATE = "duplicate"
    ABSORB = "absorb"
    REFUSE = "refuse"


@frozen
class Decision:
    """The machine's judgement of one reported status."""

    verdict: Verdict
    status: str
    reason: str = ""

    @property
    def applies(self) -> bool:
        return self.verdict is Verdict.APPLY


def _frozen_map(value: Mapping[str, Iterable[str]]) -> Mapping[str, frozenset[str]]:
    return {k: frozenset(v) for k, v in value.items()}


def _names(value: Iterable[str]) -> tuple[str, ...]:
    return tuple(value)


def _name_set(value: Iterable[str]) -> frozenset[str]:
    return frozenset(value)


@frozen(eq=False)
class StatusMachine:
    """The statuses of one means and how they may follow each other.

    ``labels`` gives each state the name users know when it differs from the state's
    identifier; ``address_kinds`` lists the contact address kinds this means can use,
    most preferred first; ``reached`` are the states that count as reached under the
    default policy (see :mod:`tocsin.reached`).
    """

    means: str
    states: tuple[str, ...] = field(converter=_names)
    initial: str
    transitions: Mapping[str, frozenset[str]] = field(converter=_frozen_map)
    terminal: frozenset[str] = field(converter=_name_set)
    reached: frozenset[str] = field(converter=_name_set)
    refinements: Mapping[str, frozenset[str]] = field(factory=dict, converter=_frozen_map)
    address_kinds: tuple[str, ...] = field(default=(), converter=_names)
    labels: Mapping[str, str] = field(factory=dict)
    description: str = ""
    entry: frozenset[str] = field(default=frozenset(), converter=_name_set)
    """States a channel may report first besides ``initial`` (an e-mail refused before
    sending is *not sent* without ever being *sent*)."""

    def __attrs_post_init__(self) -> None:
        known = set(self.states)
        problems: list[str] = []
        if len(known) != len(self.states):
            problems.append("a state is listed twice")
        if self.initial not in known:
            problems.append(f"initial state {self.initial!r} is not a state")
        for name, group in (("terminal", self.terminal), ("reached", self.reached)):
            if unknown := set(group) - known:
                problems.append(f"{name} states {sorted(unknown)} are not states")
        for table_name, table in (("transition", self.transitions), ("refinement", self.refinements)):
            for source, targets in table.items():
                if source not in known or not targets <= known:
                    bad = sorted(({source} | targets) - known)
                    problems.append(f"{table_name} from {source!r} names unknown states {bad}")
        for source in self.terminal:
            if self.transitions.get(source):
                problems.append(f"terminal state {source!r} has transitions (use refinements)")
        for source, targets in self.refinements.items():
            if source not in self.terminal or not targets <= self.terminal:
                problems.append(f"refinement {source!r} -> {sorted(targets)} must join terminal states")
            if source in self.reached and (lost := sorted(targets - self.reached)):
                problems.append(f"refinement {source!r} -> {lost} would take a reached state back")
        if unknown := set(self.entry) - known:
            problems.append(f"entry states {sorted(unknown)} are not states")
        unreachable = known - self._reachable_from_pending()
        if unreachable:
            problems.append(f"states {sorted(unreachable)} cannot be reached from {self.initial!r}")
        if looping := sorted(s for s in known if s in self._reachable_from(s)):
            problems.append(f"states {looping} can follow themselves (a cycle); statuses only move forward")
        if stuck := sorted(
            s for s in known - set(self.terminal) if not self._reachable_from(s) & self.terminal
        ):
            problems.append(f"states {stuck} lead to no terminal state")
        if problems:
            raise ValueError(f"status machine {self.means!r} is invalid: " + "; ".join(problems))

    # -- structure ---------------------------------------------------------------------

    def _next(self, state: str) -> frozenset[str]:
        return self.transitions.get(state, frozenset()) | self.refinements.get(state, frozenset())

    def _reachable_from(self, state: str) -> frozenset[str]:
        seen: set[str] = set()
        todo = list(self._next(state))
        while todo:
            s = todo.pop()
            if s not in seen:
                seen.add(s)
                todo.extend(self._next(s))
        return frozenset(seen)

    def _reachable_from_pending(self) -> frozenset[str]:
        starts = {self.initial} | set(self.entry)
        return frozenset(starts).union(*(self._reachable_from(s) for s in starts))

    @cached_property
    def _from_pending(self) -> frozenset[str]:
        return self._reachable_from_pending()

    @cached_property
    def _closure(self) -> Mapping[str, frozenset[str]]:
        return {s: self._reachable_from(s) for s in self.states}

    def label(self, state: str) -> str:
        """The name users know for ``state``."""
        if state == PENDING:
            return "waiting"
        return self.labels.get(state, state)

    def is_terminal(self, state: str) -> bool:
        return state in self.terminal

    def can_follow(self, current: str, status: str) -> bool:
        """Whether ``status`` is one direct step after ``current``."""
        return status in self._next(current)

    def leads_to(self, current: str, status: str) -> bool:
        """Whether ``status`` lies further along some legal path from ``current``."""
        if current == PENDING:
            return status in self._from_pending
        return status in self._closure.get(current, frozenset())

    # -- judgement ---------------------------------------------------------------------

    @cached_property
    def _decisions(self) -> Mapping[tuple[str, str], Decision]:
        """Every judgement between known states, computed once (the engine's hot path)."""
        return {
            (current, status): self._judge(current, status)
            for current in (PENDING, *self.states)
            for status in self.states
        }

    def decide(self, current: str, status: str) -> Decision:
        """Judge ``status`` reported for an attempt that is now in ``current``."""
        decision = self._decisions.get((current, status))
        return decision if decision is not None else self._judge(current, status)

    def _judge(self, current: str, status: str) -> Decision:
        if status not in self._closure:
            return Decision(Verdict.REFUSE, status, f"unknown {self.means} status {status!r}")
        if current not in self._closure and current != PENDING:
            return Decision(Verdict.REFUSE, status, f"current status {current!r} is unknown")
        if status == current:
            return Decision(Verdict.DUPLICATE, status)
        if self.leads_to(current, status):
            return Decision(Verdict.APPLY, status)
        if current != PENDING and self.leads_to(status, current):
            return Decision(Verdict.ABSORB, status, f"{status!r} is implied by {current!r}")
        if current in self.terminal:
            return Decision(
                Verdict.REFUSE, status, f"{current!r} is terminal; {status!r} cannot follow it"
            )
        return Decision(Verdict.REFUSE, status, f"{status!r} cannot follow {current!r}")

    def is_legal_sequence(self, statuses: Iterable[str]) -> bool:
        """Whether applied statuses follow each other along legal paths from the start."""
        current = PENDING
        for status in statuses:
            if status == current:
                continue
            if not self.leads_to(current, status):
                return False
            current = status
        return True


def describe(machine: StatusMachine) -> dict[str, object]:
    """A JSON-ready description of ``machine`` (for the CLI, the API and the docs)."""
    return {
        "means": machine.means,
        "description": machine.description,
        "initial": machine.initial,
        "entry": sorted({machine.initial} | machine.entry),
        "states": [
            {
                "state": s,
                "label": machine.label(s),
                "terminal": s in machine.terminal,
                "reached": s in machine.reached,
                "next": sorted(machine.transitions.get(s, ())),
                "refined_by": sorted(machine.refinements.get(s, ())),
            }
            for s in machine.states
        ],
        "terminal": [s for s in machine.states if s in machine.terminal],
        "reached": [s for s in machine.states if s in machine.reached],
        "address_kinds": list(machine.address_kinds),
    }


__all__ = ["PENDING", "Decision", "StatusMachine", "Verdict", "describe"]

assert attrs.has(StatusMachine)
