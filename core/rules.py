"""The rules of an alert, as pure functions of the alert, its attempts and the clock.

The engine schedules what these functions decide; the reports and the conformance kit
use the same functions, so all three agree by construction.

- An attempt is *reached* (True) when its status counts as reached under the policy,
  *not reached* (False) when its status is terminal otherwise, and *in progress* (None)
  while it can still change.
- A contact is *contacted* when any of its attempts is reached; else *in progress* when
  any attempt is in progress; else *not contacted* (which includes a contact the alert
  could not attempt at all, for want of an address).
- Reminders: at each offset after the initial send (30 min and 1 h by default), every
  contact not yet reached is attempted again, by every means of the alert — except a
  means whose latest attempt is still waiting in the outbox.
- Recontact: only once every reminder has been sent; immediate; only contacts not yet
  reached at that moment; recorded and final.
- Escalation: an ordered plan of steps repeated for a number of cycles; a step targets
  only contacts not yet reached when it falls due; the alert stops early when its target
  of confirmations is met.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence

from attrs import field, frozen

from tocsin.model import Alert, AlertState, Attempt, EscalationPlan, Outcome
from tocsin.reached import ReachedOptions, ReachedPolicy
from tocsin.status import PENDING, StatusMachine

ReachedStates = Mapping[str, frozenset[str]]
"""The statuses that count as reached, by means, for one alert."""


@frozen
class OutcomeCounts:
    """How an alert's audience splits: the pie of the statistics page. The total and the
    shares are fields (0 when the audience is empty) so that they travel with the counts
    to JSON, the reports and the exports."""

    contacted: int = 0
    in_progress: int = 0
    not_contacted: int = 0
    total: int = field(init=False)
    share_contacted: float = field(init=False)
    share_in_progress: float = field(init=False)
    share_not_contacted: float = field(init=False)

    @total.default
    def _total(self) -> int:
        return self.contacted + self.in_progress + self.not_contacted

    @share_contacted.default
    def _share_contacted(self) -> float:
        return self.contacted / self.total if self.total else 0.0

    @share_in_progress.default
    def _share_in_progress(self) -> float:
        return self.in_progress / self.total if self.total else 0.0

    @share_not_contacted.default
    def _share_not_contacted(self) -> float:
        return self.not_contacted / self.total if self.total else 0.0

    def share(self, outcome: Outcome) -> float:
        return {
            Outcome.CONTACTED: self.share_contacted,
            Outcome.IN_PROGRESS: self.share_in_progress,
            Outcome.NOT_CONTACTED: self.share_not_contacted,
        }[outcome]


def reached_states(
    alert: Alert,
    machines: Mapping[str, StatusMachine],
    policy: ReachedPolicy,
    options: ReachedOptions,
) -> dict[str, frozenset[str]]:
    """For each means of ``alert``, the statuses that count as reached."""
    return {
        means: policy.reached(machines[means], alert.category, options)
        for means in alert.means
        if means in machines
    }


def attempt_reached(status: str, machine: StatusMachine, reached: frozenset[str]) -> bool | None:
    """True (reached), False (terminal, not reached) or None (still in progress)."""
    if status in reached:
        return True
    if status != PENDING and machine.is_terminal(status):
        return False
    return None


def contact_outcome(flags: Iterable[bool | None]) -> Outcome:
    """A contact's outcome from the reached flags of its attempts (by every means)."""
    in_progress = False
    for flag in flags:
        if flag is True:
            return Outcome.CONTACTED
        if flag is None:
            in_progress = True
    return Outcome.IN_PROGRESS if in_progress else Outcome.NOT_CONTACTED


def outcomes(audience: Iterable[int], attempts: Iterable[Attempt]) -> dict[int, Outcome]:
    """Each audience member's outcome, from attempts whose ``reached`` flag is set."""
    flags: dict[int, list[bool | None]] = defaultdict(list)
    for attempt in attempts:
        flags[attempt.contact_id].append(attempt.reached)
    return {cid: contact_outcome(flags.get(cid, ())) for cid in audience}


def count_outcomes(by_contact: Mapping[int, Outcome]) -> OutcomeCounts:
    values = list(by_contact.values())
    return OutcomeCounts(
        contacted=values.count(Outcome.CONTACTED),
        in_progress=values.count(Outcome.IN_PROGRESS),
        not_contacted=values.count(Outcome.NOT_CONTACTED),
    )


def unreached(by_contact: Mapping[int, Outcome]) -> list[int]:
    """Contacts not yet reached (not contacted, or still in progress), in id order."""
    return sorted(cid for cid, o in by_contact.items() if o is not Outcome.CONTACTED)


# -- reminders ----------------------------------------------------------------------------


def reminder_offsets(alert: Alert, default: Sequence[dt.timedelta]) -> tuple[dt.timedelta, ...]:
    """The alert's reminder offsets: its own, else its category's, else the default."""
    if alert.plan is not None:
        return ()  # an escalation plan replaces the reminders
    if alert.reminder_offsets is not None:
        return tuple(alert.reminder_offsets)
    if alert.category.reminder_offsets is not None:
        return tuple(alert.category.reminder_offsets)
    return tuple(default)


def reminders_due(
    alert: Alert, offsets: Sequence[dt.timedelta], rounds_done: int, now: dt.datetime
) -> list[int]:
    """Reminder rounds (1-based) that are due at ``now`` and not yet sent."""
    if alert.sent_at is None or alert.state not in (AlertState.SENDING, AlertState.SENT):
        return []
    return [
        number
        for number, offset in enumerate(offsets, start=1)
        if number > rounds_done and alert.sent_at + offset <= now
    ]


def reminder_targets(
    alert: Alert, by_contact: Mapping[int, Outcome], attempts: Iterable[Attempt]
) -> list[tuple[int, str]]:
    """``(contact, means)`` pairs a reminder attempts now: every means of the alert for
    every contact not yet reached, except a means whose latest attempt is still waiting
    in the outbox."""
    latest: dict[tuple[int, str], Attempt] = {}
    for attempt in attempts:
        key = (attempt.contact_id, attempt.means)
        if key not in latest or (attempt.id or 0) > (latest[key].id or 0):
            latest[key] = attempt
    targets = []
    for cid in unreached(by_contact):
        for means in alert.means:
            last = latest.get((cid, means))
            if last is None or last.status != PENDING:
                targets.append((cid, means))
    return targets


# -- recontact ----------------------------------------------------------------------------


def recontact_refusal(
    alert: Alert, offsets: Sequence[dt.timedelta], rounds_done: int, *, steps_left: int = 0
) -> str | None:
    """Why a recontact is not allowed now, or None when it is.

    ``steps_left`` counts the escalation steps not yet run: an escalation plan replaces
    the reminders, so a recontact waits for the plan as it waits for the reminders.
    """
    if alert.state in (AlertState.DRAFT, AlertState.CANCELLED):
        return f"the alert is {alert.state}"
    if alert.sent_at is None:
        return "the alert has not been sent"
    if rounds_done < len(offsets):
        return (
            f"the automatic reminders are not all sent yet ({rounds_done} of {len(offsets)}); "
            "recontact comes after them"
        )
    if steps_left > 0:
        return (
            f"the escalation plan has {steps_left} step(s) left, which replace the automatic "
            "reminders; recontact comes after them"
        )
    return None


def recontact_targets(by_contact: Mapping[int, Outcome]) -> list[int]:
    """The contacts a recontact attempts: those not yet reached at that moment."""
    return unreached(by_contact)


# -- escalation ---------------------------------------------------------------------------


@frozen
class StepDue:
    """One escalation step that has fallen due."""

    cycle: int
    step: int
    means: str
    at: dt.datetime


def escalation_schedule(plan: EscalationPlan, started: dt.datetime) -> list[StepDue]:
    """Every step of ``plan`` with the time it falls due, in order."""
    return sorted(
        (
            StepDue(cycle, index, step.means, started + cycle * plan.cycle_interval + step.after)
            for cycle in range(plan.cycles)
            for index, step in enumerate(plan.steps)
        ),
        key=lambda s: (s.at, s.cycle, s.step),
    )


def escalation_due(
    plan: EscalationPlan, started: dt.datetime, done: int, now: dt.datetime
) -> list[StepDue]:
    """Steps due at ``now`` beyond the first ``done`` already run."""
    return [s for s in escalation_schedule(plan, started)[done:] if s.at <= now]


def target_met(alert: Alert, contacted: int) -> bool:
    """Whether the alert-level target ("stop when 50 have confirmed") is reached."""
    return alert.target_confirmations is not None and contacted >= alert.target_confirmations


# -- dispatch -----------------------------------------------------------------------------


def failure_state(machine: StatusMachine) -> str:
    """The terminal, not-reached state an attempt ends in when it cannot be sent (a
    permanent failure, a cancel, retries exhausted): ``failed`` where the means has it,
    else ``not sent``, else the first terminal state that never counts as reached."""
    for name in ("failed", "not sent"):
        if name in machine.terminal and machine.leads_to(PENDING, name):
            return name
    for name in machine.states:
        if name in machine.terminal and name not in machine.reached and machine.leads_to(PENDING, name):
            return name
    raise ValueError(f"status machine {machine.means!r} has no failure state reachable from the outbox")


def retry_delay(
    tries: int,
    *,
    base: dt.timedelta = dt.timedelta(seconds=30),
    cap: dt.timedelta = dt.timedelta(hours=1),
    retry_after: float | None = None,
) -> dt.timedelta:
    """How long to wait before handing an attempt to its channel again after its
    ``tries``-th temporary failure: exponential (``base`` × 2^(tries-1)) up to ``cap``;
    a provider's ``retry_after`` is honoured when it asks for longer."""
    exponent = max(0, tries - 1)
    delay = cap if exponent >= 32 else min(cap, base * (2**exponent))
    if retry_after is not None and retry_after > 0:
        delay = max(delay, dt.timedelta(seconds=retry_after))
    return delay


def should_retry(tries: int, max_tries: int) -> bool:
    """Whether an attempt that failed temporarily on its ``tries``-th hand-over is
    handed over again (``max_tries`` hand-overs in all)."""
    return tries < max_tries
