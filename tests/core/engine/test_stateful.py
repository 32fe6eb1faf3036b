"""An alert through time, with a model beside the engine (hypothesis stateful).

The model knows which contacts can be reached at each moment (their phone is on or
off), when the reminders fall due, and when the operator may recontact; after every
step the engine's outcome counts, attempts per contact, alert state and recontact
availability must match it. A fake clock moves time; nothing sleeps.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

import hypothesis.strategies as st
from hypothesis import settings
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from tocsin.app import Tocsin
from tocsin.channel import (
    Accepted,
    Capabilities,
    ChannelSettings,
    ChannelType,
    Health,
    Limits,
    OutboundAttempt,
    SendResult,
    StatusSink,
)
from tocsin.clock import FakeClock
from tocsin.config import build_config
from tocsin.errors import ValidationError
from tocsin.hookspecs import hookimpl
from tocsin.model import Alert, AlertState, Contact, ContactMeans, Message, StatusEvent

N = 5
OFFSETS = (30, 60)  # minutes


class ScriptedChannel:
    """Delivers an SMS only to handsets that are on, as the test says at send time."""

    capabilities = Capabilities(delivery_reports=True)
    limits = Limits(concurrency=4)

    def __init__(self, settings: ChannelSettings, reachable: set[str]) -> None:
        self.name = settings.name
        self.means = "sms"
        self.clock = settings.clock
        self.reachable = reachable
        self.sink: StatusSink | None = None

    async def start(self, sink: StatusSink) -> None:
        self.sink = sink

    async def stop(self) -> None:
        self.sink = None

    def health(self) -> Health:
        return Health()

    async def send(self, outbound: OutboundAttempt) -> SendResult:
        assert self.sink is not None
        final = "received" if outbound.attempt.address in self.reachable else "undelivered"
        for status in ("sent", final):
            event = StatusEvent(status, self.clock.now(), attempt_id=outbound.attempt.id, source=self.name)
            asyncio.get_running_loop().call_soon(self.sink.report, event)
        return Accepted(provider_ref=f"s-{outbound.attempt.id}", status="accepted")


class ScriptedPlugin:
    def __init__(self) -> None:
        self.reachable: set[str] = set()

    @hookimpl
    def tocsin_register_channels(self) -> list[ChannelType]:
        return [ChannelType("scripted", "sms", lambda s: ScriptedChannel(s, self.reachable))]


def _address(i: int) -> str:
    return f"+3361000000{i}"


class AlertThroughTime(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.folder = tempfile.TemporaryDirectory()
        self.clock = FakeClock()
        self.plugin = ScriptedPlugin()
        config = build_config(
            {
                "tocsin": {
                    "data_dir": self.folder.name,
                    "database": f"sqlite:///{Path(self.folder.name) / 't.db'}",
                    "disable_plugins": ["server", "smtp", "twilio", "gsm", "reports", "clamav"],
                },
                "reminders": {"offsets": [f"{m}m" for m in OFFSETS]},
                "channels": {"text": {"type": "scripted"}},
            }
        )
        self.app = Tocsin(config, clock=self.clock, background=False, plugins=[("scripted", self.plugin)])
        self.run(self.app.start())
        # the model
        self.minutes = 0
        self.rounds_done = 0
        self.reached: set[int] = set()
        self.attempts: Counter[int] = Counter()
        self.ids: list[int] = []
        self.alert_id = 0

    def run(self, coro: Any) -> Any:
        return self.loop.run_until_complete(coro)

    def teardown(self) -> None:
        self.run(self.app.stop())
        self.loop.close()
        self.folder.cleanup()

    # -- the model's rules -----------------------------------------------------------------

    def _attempt_unreached(self) -> None:
        for i in range(N):
            if i not in self.reached:
                self.attempts[i] += 1
                if _address(i) in self.plugin.reachable:
                    self.reached.add(i)

    def _settle(self) -> None:
        if len(self.reached) == N:  # everyone reached: the alert finishes, its reminders close
            self.rounds_done = len(OFFSETS)

    # -- actions -----------------------------------------------------------------------------

    @initialize(on=st.sets(st.integers(0, N - 1)))
    def send(self, on: set[int]) -> None:
        store = self.app.store
        self.ids = list(
            store.contacts.upsert(
                [Contact(first_name=f"C{i}", means=[ContactMeans("mobile", _address(i))]) for i in range(N)]
            ).ids
        )
        store.groups.create("all")
        store.groups.add("all", self.ids)
        self.plugin.reachable.update(_address(i) for i in on)
        alert = self.run(self.app.send(Alert("Storm", [Message("sms", text="Storm")]), groups=["all"]))
        self.alert_id = int(alert.id or 0)
        self.run(self.app.run_due())
        self._attempt_unreached()
        self._settle()

    @rule(i=st.integers(0, N - 1), on=st.booleans())
    def switch_handset(self, i: int, on: bool) -> None:
        (self.plugin.reachable.add if on else self.plugin.reachable.discard)(_address(i))

    @rule(minutes=st.integers(1, 45))
    def time_passes(self, minutes: int) -> None:
        self.clock.advance(minutes=minutes)
        self.minutes += minutes
        self.run(self.app.run_due())
        due = [n for n, m in enumerate(OFFSETS, 1) if n > self.rounds_done and self.minutes >= m]
        if due:
            # rounds falling due together: the first attempts the unreached; the next find
            # those attempts still in the outbox and add none
            self._attempt_unreached()
            self.rounds_done = max(due)
        self._settle()

    @rule()
    def recontact(self) -> None:
        if self.rounds_done < len(OFFSETS):
            try:
                self.run(self.app.recontact(self.alert_id))
            except ValidationError as refused:
                assert "reminders are not all sent" in str(refused)
            else:
                raise AssertionError("recontact was accepted before the reminders")
            return
        self.run(self.app.recontact(self.alert_id))
        self.run(self.app.run_due())
        self._attempt_unreached()
        self._settle()

    @precondition(lambda self: self.alert_id)
    @rule(i=st.integers(0, N - 1), status=st.sampled_from(["sent", "received", "accepted", "undelivered"]))
    def late_or_duplicate_report(self, i: int, status: str) -> None:
        """A provider repeats or delays a report for a finished attempt: it is recorded,
        absorbed or refused, never applied (terminal states are never left)."""
        latest = max(
            a.id for a in self.app.store.attempts.for_alert(self.alert_id) if a.contact_id == self.ids[i]
        )
        sink = self.app.runtime.sink
        assert sink is not None
        sink.report(StatusEvent(status, self.clock.now(), attempt_id=latest, source="late"))
        self.run(self.app.run_due())

    # -- invariants ---------------------------------------------------------------------------

    @invariant()
    def outcomes_match_the_model(self) -> None:
        if not self.alert_id:
            return
        counts = self.run(self.app.outcome_counts(self.alert_id))
        assert (counts.contacted, counts.in_progress, counts.not_contacted) == (
            len(self.reached),
            0,
            N - len(self.reached),
        )

    @invariant()
    def attempts_per_contact_match_the_model(self) -> None:
        if not self.alert_id:
            return
        found = Counter(a.contact_id for a in self.app.store.attempts.for_alert(self.alert_id))
        assert {i: found[cid] for i, cid in enumerate(self.ids)} == {i: self.attempts[i] for i in range(N)}

    @invariant()
    def state_and_recontact_follow_the_rules(self) -> None:
        if not self.alert_id:
            return
        status = self.run(self.app.status(self.alert_id))
        done = self.rounds_done == len(OFFSETS)
        assert (status.alert.state is AlertState.FINISHED) == done
        assert (status.recontact_refusal is None) == done
        assert status.open_attempts == 0


AlertThroughTime.TestCase.settings = settings(max_examples=12, stateful_step_count=10, deadline=None)
test_an_alert_through_time_matches_its_model = AlertThroughTime.TestCase
