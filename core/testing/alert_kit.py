"""The alert conformance machine: one alert driven through time on the real engine.

Each example starts a real :class:`tocsin.app.Tocsin` (SQLite store in a temporary
folder, a fake clock, step mode) with a scripted provider channel per means
(:mod:`tocsin.testing.provider`), sends an alert to a drawn audience, then runs random
steps: time passes (reminders fall due), the provider reports statuses for any attempt
(on time, late, twice, illegal ones too), the operator asks for a recontact or cancels. A model
written from the issue's rules — not from the engine's code — says what must happen,
and after every step the kit checks:

- nobody reached is attempted again (by a reminder or a recontact);
- nobody unreached is forgotten: when a reminder round falls due or a recontact runs,
  every contact not reached at that moment is attempted by every means it has an
  address for;
- a recontact is refused until the automatic reminders are done, and allowed after
  (never for a cancelled alert); after a cancel nothing new is attempted;
- every attempt's status is what its machine makes of the reports, every report is
  recorded (refused ones with an anomaly), *reached* follows the policy;
- the outcome counts add up to the audience and match the model, contact by contact;
- the alert finishes exactly when nothing is left to do.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import shutil
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule
from hypothesis.stateful import run_state_machine_as_test as _run_machine

from tocsin import builtin_statuses
from tocsin.clock import FakeClock
from tocsin.config import build_config
from tocsin.errors import ValidationError
from tocsin.model import (
    Alert,
    AlertState,
    Attempt,
    AttemptKind,
    Category,
    EscalationPlan,
    EscalationStep,
    Message,
    Outcome,
)
from tocsin.reached import DEFAULT_POLICY, ReachedOptions
from tocsin.rules import attempt_reached, contact_outcome, escalation_schedule
from tocsin.status import PENDING, StatusMachine, Verdict
from tocsin.testing import provider
from tocsin.testing.alert_model import (
    MEANS,
    OFFSET_CHOICES,
    OPEN,
    STEP_AFTER,
    Modelled,
    Person,
    people,
)
from tocsin.testing.databases import DatabaseFactory, sqlite_database
from tocsin.testing.settings import kit_settings

T = TypeVar("T")

class AlertConformance(RuleBasedStateMachine):
    """See the module documentation; :func:`alert_conformance` picks the database."""

    database: ClassVar[DatabaseFactory] = staticmethod(sqlite_database)  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.folder = Path(tempfile.mkdtemp(prefix="tocsin-alert-kit-"))
        self.app: Any = None
        self.ticks = 0
        self._database = type(self).database(self.folder)
        self.database_url = self._database.__enter__()

    # -- plumbing ----------------------------------------------------------------------

    def _run(self, awaitable: Any) -> Any:
        return self.loop.run_until_complete(asyncio.wait_for(awaitable, 60))

    def teardown(self) -> None:
        try:
            if self.app is not None:
                self._run(self.app.stop())
        finally:
            self.loop.close()
            self._database.__exit__(None, None, None)
            shutil.rmtree(self.folder, ignore_errors=True)

    def _tick(self) -> None:
        self._run(self.app.run_due())
        self.ticks += 1

    def _store_attempts(self) -> list[Attempt]:
        return list(self.app.store.attempts.for_alert(self.alert_id))

    def _alert_state(self) -> AlertState:
        return AlertState(self.app.store.alerts.get(self.alert_id).state)

    def _reached(self, means: str) -> frozenset[str]:
        states: frozenset[str] = DEFAULT_POLICY.reached(self.machines[means], self.category, self.options)
        return states

    def _outcome(self, contact: int) -> Outcome:
        flags = [
            attempt_reached(m.status, self.machines[m.means], self._reached(m.means))
            for m in self.model.values()
            if m.contact == contact
        ]
        return contact_outcome(flags)

    def _model_outcomes(self) -> dict[int, Outcome]:
        return {cid: self._outcome(cid) for cid in self.people}

    def _contacted(self) -> set[int]:
        return {cid for cid, o in self._model_outcomes().items() if o is Outcome.CONTACTED}

    def _story(self) -> str:
        lines = [
            f"alert {self.alert_id} by {list(self.means)} ({self.category.name}"
            f"{', confirmation required' if self.category.requires_confirmation else ''}), "
            f"reminders at {[int(o.total_seconds() // 60) for o in self.offsets]} min, "
            f"now +{int((self.clock.now() - self.sent_at).total_seconds() // 60)} min, "
            f"state {self._alert_state()}",
        ]
        for aid, m in sorted(self.model.items()):
            lines.append(
                f"  attempt {aid}: contact {m.contact} {m.means} {m.kind} -> {m.status or 'pending'!r} "
                f"({m.reports} reports, {m.refused} refused)"
            )
        return "\n".join(lines)

    # -- the alert ---------------------------------------------------------------------

    @initialize(
        audience=st.lists(people, min_size=1, max_size=6),
        means=st.lists(st.sampled_from(MEANS), min_size=1, max_size=3, unique=True),
        confirmation=st.booleans(),
        options=st.builds(ReachedOptions, st.just("default"), st.booleans(), st.booleans(), st.booleans()),
        offsets=st.one_of(
            st.just((30, 60)),
            st.lists(st.sampled_from(OFFSET_CHOICES), min_size=0, max_size=2, unique=True).map(
                lambda xs: tuple(sorted(xs))
            ),
        ),
        plan=st.one_of(
            st.none(),
            st.tuples(
                st.lists(st.tuples(st.integers(0, 2), st.sampled_from(STEP_AFTER)), min_size=1, max_size=3),
                st.integers(1, 2),
                st.sampled_from([30, 60]),
            ),
        ),
    )
    def send_the_alert(
        self,
        audience: list[Person],
        means: list[str],
        confirmation: bool,
        options: ReachedOptions,
        offsets: tuple[int, ...],
        plan: tuple[list[tuple[int, int]], int, int] | None,
    ) -> None:
        self.clock = FakeClock()
        self.options = options
        self.means = tuple(means)
        self.plan = None
        if plan is not None:  # an escalation plan over the alert's means replaces the reminders
            steps, cycles, interval = plan
            self.plan = EscalationPlan(
                [EscalationStep(means[i % len(means)], dt.timedelta(minutes=after)) for i, after in steps],
                cycles,
                dt.timedelta(minutes=interval),
            )
        self.offsets = () if self.plan else tuple(dt.timedelta(minutes=m) for m in offsets)
        self.category = Category("kit", requires_confirmation=confirmation)
        self.machines: dict[str, StatusMachine] = {m.means: m for m in (builtin_statuses.CALL,
                                                                         builtin_statuses.SMS,
                                                                         builtin_statuses.EMAIL)}
        config = build_config(
            {
                "tocsin": {"data_dir": str(self.folder / "data"), "database": self.database_url},
                "channels": {f"kit-{m}": {"type": provider.TYPE, "means": m} for m in self.means},
                "reminders": {"offsets": [f"{m}m" for m in offsets]},
                "reached": {
                    "count_voicemail": options.count_voicemail,
                    "count_sms_sent": options.count_sms_sent,
                    "count_email_sent": options.count_email_sent,
                },
            }
        )
        from tocsin.app import Tocsin

        self.app = Tocsin(
            config,
            clock=self.clock,
            background=False,
            entry_points=False,
            plugins=(("core-statuses", builtin_statuses), ("conformance-provider", provider.PLUGIN)),
        )
        self._run(self.app.start())
        persons = [Person(i + 1, p.kinds) for i, p in enumerate(audience)]
        ids = list(self.app.store.contacts.upsert([p.contact() for p in persons]).ids)
        self.people = dict(zip(ids, persons, strict=True))
        self.app.store.groups.create("kit audience")
        self.app.store.groups.add("kit audience", ids)
        messages = [Message(m, text="Flood warning: leave now.", subject="Flood warning") for m in self.means]
        alert = self._run(
            self.app.send(
                Alert("Flood warning", messages, category=self.category, plan=self.plan),
                groups=["kit audience"],
            )
        )
        self.alert_id = int(alert.id)
        self.sent_at = self.clock.now()
        self.schedule = escalation_schedule(self.plan, self.sent_at) if self.plan else []
        self.model: dict[int, Modelled] = {}
        self.reports: list[tuple[int, str]] = []
        self.reminders_closed = False
        self._tick()
        first = {s.means for s in self.schedule if s.at <= self.sent_at} if self.plan else set(self.means)
        expected = {(cid, m) for cid, p in self.people.items() for m in first if p.can(m)}
        self._take_new_attempts(AttemptKind.INITIAL, set(), expected, exact=True)

    def _take_new_attempts(
        self,
        kind: AttemptKind,
        contacted_before: set[int],
        must: set[tuple[int, str]],
        *,
        exact: bool = False,
        means: set[str] | None = None,
    ) -> None:
        """Check the attempts the last step created against the rules, and model them."""
        new = [a for a in self._store_attempts() if a.id not in self.model]
        made = Counter((a.contact_id, a.means) for a in new)
        for attempt in new:
            assert means is None or attempt.means in means, (
                f"{kind} attempt {attempt.id} is by {attempt.means}; "
                f"the steps due were by {sorted(means or ())}\n" + self._story()
            )
            assert attempt.kind is kind, (
                f"attempt {attempt.id} is a {attempt.kind}, but this step could only make {kind} attempts\n"
                + self._story()
            )
            assert attempt.contact_id not in contacted_before, (
                f"contact {attempt.contact_id} was reached, yet {kind} attempt {attempt.id} "
                f"({attempt.means}) was made\n" + self._story()
            )
        missing = sorted(must - set(made))
        assert not missing, (
            f"nobody unreached may be forgotten, but no {kind} attempt was made for "
            f"(contact, means) {missing}\n" + self._story()
        )
        if exact:
            assert set(made) == must and all(n == 1 for n in made.values()), (
                f"the {kind} attempts made {dict(made)} are not exactly {sorted(must)}\n" + self._story()
            )
        for attempt in new:
            machine = self.machines[attempt.means]
            status = machine.initial  # the scripted channel accepts every send
            self.model[int(attempt.id or 0)] = Modelled(attempt.contact_id, attempt.means, kind, status)

    def _unreached_pairs(self, contacted: set[int], means: set[str] | None = None) -> set[tuple[int, str]]:
        return {
            (cid, m)
            for cid, p in self.people.items()
            if cid not in contacted
            for m in self.means
            if p.can(m) and (means is None or m in means)
        }

    def _automatic_done(self) -> bool:
        """Whether every reminder round and every escalation step has fallen due."""
        now = self.clock.now()
        return all(self.sent_at + o <= now for o in self.offsets) and all(s.at <= now for s in self.schedule)

    # -- steps -------------------------------------------------------------------------

    @rule(minutes=st.sampled_from([30, 15, 5, 60, 120]))
    def time_passes(self, minutes: int) -> None:
        """The clock moves on; reminder rounds that fall due run."""
        before = self.clock.now()
        state = self._alert_state()
        contacted = self._contacted()
        self.clock.advance(minutes=minutes)
        self._tick()
        after = self.clock.now()
        due = [o for o in self.offsets if before < self.sent_at + o <= after]
        steps = {s.means for s in self.schedule if before < s.at <= after}
        if due and state in OPEN:
            self._take_new_attempts(AttemptKind.REMINDER, contacted, self._unreached_pairs(contacted))
        elif steps and state in OPEN:
            self._take_new_attempts(
                AttemptKind.ESCALATION, contacted, self._unreached_pairs(contacted, steps), means=steps
            )
        else:
            self._take_new_attempts(AttemptKind.REMINDER, contacted, set(), exact=True)

    def _attempt_ids(self) -> list[int]:
        return sorted(self.model)

    @precondition(lambda self: bool(self.model))
    @rule(data=st.data())
    def the_provider_reports(self, data: st.DataObject) -> None:
        """The provider reports a status for any attempt: on time or late, legal or not."""
        attempt_id = data.draw(st.sampled_from(self._attempt_ids()), label="attempt")
        modelled = self.model[attempt_id]
        machine = self.machines[modelled.means]
        status = data.draw(st.sampled_from(machine.states), label="status")
        self._report(attempt_id, status)

    @precondition(lambda self: bool(self.reports))
    @rule(data=st.data())
    def the_provider_reports_again(self, data: st.DataObject) -> None:
        """A report delivered a second time."""
        attempt_id, status = data.draw(st.sampled_from(self.reports), label="report")
        self._report(attempt_id, status)

    def _report(self, attempt_id: int, status: str) -> None:
        modelled = self.model[attempt_id]
        decision = self.machines[modelled.means].decide(modelled.status, status)
        modelled.reports += 1
        if decision.applies:
            modelled.status = status
        elif decision.verdict is Verdict.REFUSE:
            modelled.refused += 1
        channel = self.app.engine.channels[f"kit-{modelled.means}"]
        channel.report(attempt_id, status)
        self.reports.append((attempt_id, status))
        self._tick()
        self._take_new_attempts(AttemptKind.REMINDER, set(), set(), exact=True)

    @precondition(lambda self: self.ticks >= 3)
    @rule()
    def the_operator_recontacts(self) -> None:
        """Recontact: refused before the reminders are done; then immediate, for exactly
        those not reached at that moment."""
        state = self._alert_state()
        passed = all(self.sent_at + o <= self.clock.now() for o in self.offsets)
        allowed = state not in (AlertState.DRAFT, AlertState.CANCELLED) and (passed or self.reminders_closed)
        # With an escalation plan the rules say a recontact waits for the plan's steps
        # (rules.recontact_refusal(steps_left=...)); the engine may not ask yet, so the
        # kit accepts either answer then, and checks the targets when it goes ahead.
        undecided = self.plan is not None and allowed and not self._automatic_done()
        contacted = self._contacted()
        try:
            self._run(self.app.recontact(self.alert_id, by=None))
        except ValidationError as exc:
            if undecided:
                return
            assert not allowed, (
                f"recontact was refused although the reminders are done: {exc}\n" + self._story()
            )
            why = "cancelled" if state is AlertState.CANCELLED else "reminders"
            assert why in str(exc), f"the refusal does not say why: {exc}"
            return
        assert allowed, "recontact was accepted before the automatic reminders were sent\n" + self._story()
        self._tick()
        self._take_new_attempts(AttemptKind.RECONTACT, contacted, self._unreached_pairs(contacted))

    @precondition(lambda self: self.ticks >= 5)  # rarely at once: the reminders need a chance
    @rule()
    def the_operator_cancels(self) -> None:
        """Cancel: refused once the alert is over; afterwards nothing new is attempted,
        and reports for attempts already in flight still count."""
        state = self._alert_state()
        try:
            self._run(self.app.cancel(self.alert_id))
        except ValidationError as exc:
            assert state in (AlertState.FINISHED, AlertState.CANCELLED), (
                f"cancelling a {state} alert was refused: {exc}\n" + self._story()
            )
            return
        assert state in OPEN, f"a {state} alert was cancelled\n" + self._story()
        self._tick()
        assert self._alert_state() is AlertState.CANCELLED
        self._take_new_attempts(AttemptKind.REMINDER, set(), set(), exact=True)

    # -- invariants --------------------------------------------------------------------

    @invariant()
    def attempts_follow_their_machines_and_the_policy(self) -> None:
        if self.app is None or not hasattr(self, "alert_id"):
            return
        for attempt in self._store_attempts():
            modelled = self.model[int(attempt.id or 0)]
            assert attempt.status == modelled.status, (
                f"attempt {attempt.id} is {attempt.status!r} in the store, its machine makes it "
                f"{modelled.status!r}\n" + self._story()
            )
            machine = self.machines[attempt.means]
            expected = attempt_reached(attempt.status, machine, self._reached(attempt.means))
            assert attempt.reached is expected, (
                f"attempt {attempt.id} ({attempt.status!r}) has reached={attempt.reached}, "
                f"the policy says {expected}\n" + self._story()
            )

    @invariant()
    def every_report_is_recorded(self) -> None:
        if self.app is None or not hasattr(self, "alert_id"):
            return
        for attempt_id, modelled in self.model.items():
            events = [e for e in self.app.store.attempts.events(attempt_id) if e.source == provider.SOURCE]
            anomalies = [e for e in events if e.anomaly]
            assert (len(events), len(anomalies)) == (modelled.reports, modelled.refused), (
                f"attempt {attempt_id}: {modelled.reports} reports ({modelled.refused} refused) were made, "
                f"the store recorded {len(events)} ({len(anomalies)} with an anomaly)\n" + self._story()
            )

    @invariant()
    def outcome_counts_add_up_to_the_audience(self) -> None:
        if self.app is None or not hasattr(self, "alert_id"):
            return
        counts = self._run(self.app.outcome_counts(self.alert_id))
        expected = Counter(self._model_outcomes().values())
        assert counts.total == len(self.people), f"{counts} for an audience of {len(self.people)}"
        assert (counts.contacted, counts.in_progress, counts.not_contacted) == (
            expected[Outcome.CONTACTED],
            expected[Outcome.IN_PROGRESS],
            expected[Outcome.NOT_CONTACTED],
        ), f"the store counts {counts}, the rules {dict(expected)}\n" + self._story()

    @invariant()
    def the_alert_finishes_when_nothing_is_left(self) -> None:
        if self.app is None or not hasattr(self, "alert_id"):
            return
        state = self._alert_state()
        # The engine closes an alert once no attempt is in progress: each is terminal or
        # already counts as reached (an e-mail *sent*, when the policy counts it).
        settled = all(
            attempt_reached(m.status, self.machines[m.means], self._reached(m.means)) is not None
            for m in self.model.values()
        )
        everyone = len(self._contacted()) == len(self.people)
        passed = self._automatic_done()
        if state is AlertState.FINISHED:
            assert settled and (everyone or passed or self.reminders_closed), (
                "the alert finished with work left\n" + self._story()
            )
            if not passed:
                self.reminders_closed = True
        elif state is AlertState.SENT and settled and (everyone or passed):
            raise AssertionError("nothing is left to do, yet the alert is not finished\n" + self._story())
        assert all(m.status != PENDING for m in self.model.values())


def alert_conformance(database: DatabaseFactory = sqlite_database) -> type[AlertConformance]:
    """The alert machine on the databases ``database`` makes (see
    :mod:`tocsin.testing.databases`: SQLite by default, or PostgreSQL schemas)."""
    return type("AlertConformanceOn", (AlertConformance,), {"database": staticmethod(database)})


def run_alert_conformance(database: DatabaseFactory = sqlite_database, **kwargs: Any) -> None:
    """Run the alert conformance machine (other keyword arguments go to :func:`kit_settings`)."""
    _run_machine(alert_conformance(database), settings=kit_settings(**kwargs))


__all__ = ["AlertConformance", "alert_conformance", "run_alert_conformance"]
