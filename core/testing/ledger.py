"""The conformance kit's ledger: every send and every reported event, judged by the
channel's status machine exactly as the engine judges them, with a record per event.

The ledger is the kit's model of the engine's applier: it keeps, per attempt, the
statuses applied, the reports as the channel made them, and one :class:`Record` per
event (applied, absorbed, duplicate, refused with its anomaly, or unmatched when the
event names no attempt). The kit's assertions read it; their messages print it.
"""

from __future__ import annotations

import enum
import itertools
from collections.abc import Mapping

import attrs
from attrs import define, frozen

from tocsin.model import StatusEvent
from tocsin.rules import attempt_reached
from tocsin.status import PENDING, StatusMachine, Verdict
from tocsin.testing.harness import Scenario


class Origin(enum.StrEnum):
    """Where an event the ledger judged came from."""

    SEND = "send result"
    CHANNEL = "channel report"
    DUPLICATE = "duplicate delivery"


@frozen
class Record:
    """One event and what the machine made of it (``verdict`` None: unmatched)."""

    seq: int
    origin: Origin
    status: str
    attempt_id: int | None
    verdict: Verdict | None
    before: str
    reason: str = ""

    def describe(self) -> str:
        what = self.verdict.value if self.verdict else "UNMATCHED"
        why = f" ({self.reason})" if self.reason else ""
        before = self.before or "pending"
        return f"#{self.seq} {self.origin.value}: {self.status!r} on {before!r} -> {what}{why}"


@define
class Track:
    """One attempt the kit sent, and everything that happened to it."""

    attempt_id: int
    scenario: Scenario
    status: str = PENDING
    provider_ref: str | None = None
    reached: bool | None = None
    tries: int = 0
    outage_tries: int = 0
    settled: bool = False
    applied: list[str] = attrs.Factory(list)
    records: list[Record] = attrs.Factory(list)
    results: list[str] = attrs.Factory(list)

    def history(self) -> str:
        """The attempt's story, for assertion messages."""
        lines = [
            f"attempt {self.attempt_id} to {self.scenario.address!r}"
            + (f" ({self.scenario.description})" if self.scenario.description else "")
            + f", expected to end in {sorted(self.scenario.outcomes)}:",
            "  send results: " + (", ".join(self.results) or "none"),
            "  applied: " + (" -> ".join(self.applied) or "nothing"),
        ]
        lines += ["  " + r.describe() for r in self.records]
        return "\n".join(lines)


class Ledger:
    """Attempts by id and by provider reference, and every judged event."""

    def __init__(self, machine: StatusMachine, reached: Mapping[bool, frozenset[str]], channel: str) -> None:
        self.machine = machine
        self.reached = reached
        """The states counted as reached, for a regular category (False) and for one that
        requires confirmation (True)."""
        self.channel = channel
        self.tracks: dict[int, Track] = {}
        self.by_ref: dict[str, int] = {}
        self.records: list[Record] = []
        self.unmatched: list[tuple[Record, StatusEvent]] = []
        self.delivered: list[StatusEvent] = []
        """Channel reports judged so far (what a duplicate delivery can repeat)."""
        self._seq = itertools.count(1)

    def new_track(self, attempt_id: int, scenario: Scenario) -> Track:
        track = Track(attempt_id, scenario)
        self.tracks[attempt_id] = track
        return track

    def remember_ref(self, track: Track, ref: str) -> str | None:
        """Index ``ref``; returns the attempt that already had it, if any."""
        other = self.by_ref.get(ref)
        if other is not None and other != track.attempt_id:
            return f"attempt {other}"
        self.by_ref[ref] = track.attempt_id
        track.provider_ref = ref
        return None

    def find(self, event: StatusEvent) -> Track | None:
        """The attempt an event names: by id, else by the channel's provider reference."""
        if event.attempt_id is not None:
            return self.tracks.get(event.attempt_id)
        if event.provider_ref is not None and event.channel in ("", self.channel):
            attempt_id = self.by_ref.get(event.provider_ref)
            return self.tracks.get(attempt_id) if attempt_id is not None else None
        return None

    def reached_states(self, track: Track) -> frozenset[str]:
        return self.reached[track.scenario.requires_confirmation]

    def apply(self, track: Track, status: str, origin: Origin) -> Record:
        """Judge ``status`` for ``track`` and apply it when the machine says so."""
        decision = self.machine.decide(track.status, status)
        record = Record(
            next(self._seq), origin, status, track.attempt_id, decision.verdict, track.status,
            decision.reason,
        )
        if decision.applies:
            track.status = status
            track.applied.append(status)
            track.reached = attempt_reached(status, self.machine, self.reached_states(track))
        track.records.append(record)
        self.records.append(record)
        return record

    def apply_event(self, event: StatusEvent, origin: Origin) -> Record:
        """Judge a reported event; one naming no known attempt is recorded as unmatched."""
        track = self.find(event)
        if origin is Origin.CHANNEL:
            self.delivered.append(event)
        if track is None:
            record = Record(
                next(self._seq), origin, event.status, event.attempt_id, None, "",
                f"names no attempt the kit sent (attempt_id={event.attempt_id!r}, "
                f"channel={event.channel!r}, provider_ref={event.provider_ref!r})",
            )
            self.records.append(record)
            self.unmatched.append((record, event))
            return record
        return self.apply(track, event.status, origin)


__all__ = ["Ledger", "Origin", "Record", "Track"]
