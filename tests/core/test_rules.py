"""The alert rules (outcome, reminders, recontact, escalation) against an independent
model written here from the issue's sentences."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from tocsin.builtin_statuses import CALL, EMAIL, SMS
from tocsin.model import (
    Alert,
    AlertState,
    Attempt,
    Category,
    EscalationPlan,
    EscalationStep,
    Message,
    Outcome,
)
from tocsin.reached import DEFAULT_POLICY, ReachedOptions
from tocsin.rules import (
    attempt_reached,
    count_outcomes,
    escalation_due,
    escalation_schedule,
    outcomes,
    reached_states,
    recontact_refusal,
    recontact_targets,
    reminder_offsets,
    reminder_targets,
    reminders_due,
    target_met,
)
from tocsin.status import PENDING

MACHINES = {"call": CALL, "sms": SMS, "email": EMAIL}
T0 = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC)
DEFAULT_OFFSETS = (dt.timedelta(minutes=30), dt.timedelta(hours=1))

means_sets = st.lists(st.sampled_from(sorted(MACHINES)), min_size=1, max_size=3, unique=True)
categories = st.sampled_from([Category("general"), Category("evacuation", requires_confirmation=True)])
options = st.builds(ReachedOptions, st.just("default"), st.booleans(), st.booleans(), st.booleans())


def make_alert(means: list[str], category: Category, **kw: object) -> Alert:
    return Alert(
        title="Flood warning",
        messages=[Message(m, text="Leave now") for m in means],
        category=category,
        id=1,
        **kw,  # type: ignore[arg-type]
    )


@st.composite
def alerts_with_attempts(draw: st.DrawFn) -> tuple[Alert, list[int], list[Attempt], ReachedOptions]:
    """An alert, its audience, and attempts by its means in random statuses."""
    means = draw(means_sets)
    alert = make_alert(means, draw(categories), state=AlertState.SENDING, sent_at=T0)
    opts = draw(options)
    audience = list(range(1, draw(st.integers(0, 12)) + 1))
    reached = reached_states(alert, MACHINES, DEFAULT_POLICY, opts)
    attempts = []
    for contact in audience:
        for _ in range(draw(st.integers(0, 4))):
            m = draw(st.sampled_from(means))
            status = draw(st.sampled_from([PENDING, *MACHINES[m].states]))
            attempts.append(
                Attempt(
                    alert_id=1,
                    contact_id=contact,
                    means=m,
                    address=f"addr-{contact}",
                    status=status,
                    id=len(attempts) + 1,
                    reached=attempt_reached(status, MACHINES[m], reached[m]),
                )
            )
    return alert, audience, attempts, opts


# -- the model ---------------------------------------------------------------------------


def model_reached_states(alert: Alert, opts: ReachedOptions) -> dict[str, set[str]]:
    """Which statuses count, by means, read from the policy's documentation."""
    confirm = alert.category.requires_confirmation
    table = {
        "call": {"confirmed"} if confirm else {"completed", "confirmed"},
        "sms": {"confirmed"} if confirm else {"received", "confirmed"},
        "email": {"received", "opened", "marked as spam"},
    }
    if opts.count_voicemail and not confirm:
        table["call"].add("voicemail")
    if opts.count_sms_sent and not confirm:
        table["sms"].add("sent")
    if opts.count_email_sent:
        table["email"].add("sent")
    return {m: table[m] for m in alert.means}


def model_outcome(alert: Alert, opts: ReachedOptions, contact: int, attempts: list[Attempt]) -> Outcome:
    counts = model_reached_states(alert, opts)
    mine = [a for a in attempts if a.contact_id == contact]
    if any(a.status in counts[a.means] for a in mine):
        return Outcome.CONTACTED
    if any(a.status == PENDING or a.status not in MACHINES[a.means].terminal for a in mine):
        return Outcome.IN_PROGRESS
    return Outcome.NOT_CONTACTED


# -- outcome -------------------------------------------------------------------------------


@given(alerts_with_attempts())
def test_each_contact_outcome_matches_the_model_and_counts_add_up_to_the_audience(
    case: tuple[Alert, list[int], list[Attempt], ReachedOptions],
) -> None:
    alert, audience, attempts, opts = case
    by_contact = outcomes(audience, attempts)
    assert set(by_contact) == set(audience), "nobody in the audience is forgotten"
    for contact in audience:
        assert by_contact[contact] is model_outcome(alert, opts, contact, attempts)
    counts = count_outcomes(by_contact)
    assert counts.total == len(audience)
    if audience:
        total_share = sum(counts.share(o) for o in Outcome)
        assert abs(total_share - 1.0) < 1e-9


@given(alerts_with_attempts())
def test_reached_states_follow_the_policy_documentation(
    case: tuple[Alert, list[int], list[Attempt], ReachedOptions],
) -> None:
    alert, _, _, opts = case
    assert reached_states(alert, MACHINES, DEFAULT_POLICY, opts) == model_reached_states(alert, opts)


def test_a_contact_without_any_attempt_is_not_contacted() -> None:
    assert outcomes([7], []) == {7: Outcome.NOT_CONTACTED}


# -- reminders -----------------------------------------------------------------------------


@given(alerts_with_attempts())
def test_reminders_target_every_unreached_contact_by_every_means_and_never_a_reached_one(
    case: tuple[Alert, list[int], list[Attempt], ReachedOptions],
) -> None:
    alert, audience, attempts, opts = case
    by_contact = outcomes(audience, attempts)
    targets = reminder_targets(alert, by_contact, attempts)
    expected = set()
    for contact in audience:
        if model_outcome(alert, opts, contact, attempts) is Outcome.CONTACTED:
            continue
        for means in alert.means:
            mine = [a for a in attempts if a.contact_id == contact and a.means == means]
            latest = max(mine, key=lambda a: a.id or 0) if mine else None
            if latest is None or latest.status != PENDING:
                expected.add((contact, means))
    assert set(targets) == expected
    assert len(targets) == len(set(targets)), "one attempt per contact and means"


@given(
    offsets=st.lists(st.integers(1, 180), min_size=0, max_size=4, unique=True).map(
        lambda xs: tuple(dt.timedelta(minutes=x) for x in sorted(xs))
    ),
    done=st.integers(0, 4),
    minutes=st.integers(-10, 240),
    state=st.sampled_from(list(AlertState)),
)
def test_reminder_rounds_fall_due_at_their_offsets_once_each(
    offsets: tuple[dt.timedelta, ...], done: int, minutes: int, state: AlertState
) -> None:
    alert = make_alert(["sms"], Category("general"), state=state, sent_at=T0)
    now = T0 + dt.timedelta(minutes=minutes)
    due = reminders_due(alert, offsets, done, now)
    if state not in (AlertState.SENDING, AlertState.SENT):
        assert due == []
    else:
        assert due == [n for n in range(1, len(offsets) + 1) if n > done and T0 + offsets[n - 1] <= now]


def test_reminders_are_30_minutes_and_1_hour_by_default_unless_the_alert_or_category_says_otherwise() -> None:
    plain = make_alert(["sms"], Category("general"))
    assert reminder_offsets(plain, DEFAULT_OFFSETS) == DEFAULT_OFFSETS
    quick = (dt.timedelta(minutes=5),)
    category = Category("storm", reminder_offsets=quick)
    assert reminder_offsets(make_alert(["sms"], category), DEFAULT_OFFSETS) == quick
    own = (dt.timedelta(minutes=10), dt.timedelta(minutes=20))
    assert reminder_offsets(make_alert(["sms"], category, reminder_offsets=own), DEFAULT_OFFSETS) == own
    plan = EscalationPlan([EscalationStep("call")])
    assert reminder_offsets(make_alert(["call"], category, plan=plan), DEFAULT_OFFSETS) == ()


def test_an_unsent_alert_has_no_reminder_due() -> None:
    draft = make_alert(["sms"], Category("general"))
    assert reminders_due(draft, DEFAULT_OFFSETS, 0, T0 + dt.timedelta(days=1)) == []


# -- recontact -----------------------------------------------------------------------------


@given(done=st.integers(0, 3), count=st.integers(0, 3), state=st.sampled_from(list(AlertState)))
def test_recontact_is_allowed_only_after_every_reminder_of_a_sent_alert(
    done: int, count: int, state: AlertState
) -> None:
    offsets = tuple(dt.timedelta(minutes=30 * (i + 1)) for i in range(count))
    alert = make_alert(["call"], Category("general"), state=state, sent_at=T0)
    refusal = recontact_refusal(alert, offsets, done)
    allowed = state not in (AlertState.DRAFT, AlertState.CANCELLED) and done >= count
    assert (refusal is None) is allowed
    if not allowed and state not in (AlertState.DRAFT, AlertState.CANCELLED):
        assert f"({done} of {count})" in (refusal or "")


def test_recontact_waits_for_the_escalation_plan_that_replaces_the_reminders() -> None:
    plan = EscalationPlan([EscalationStep("call"), EscalationStep("sms", dt.timedelta(minutes=5))])
    alert = make_alert(["call", "sms"], Category("general"), state=AlertState.SENT, sent_at=T0, plan=plan)
    offsets = reminder_offsets(alert, DEFAULT_OFFSETS)
    refusal = recontact_refusal(alert, offsets, 0, steps_left=1)
    assert refusal is not None and "escalation plan has 1 step(s) left" in refusal
    assert recontact_refusal(alert, offsets, 0, steps_left=0) is None


def test_recontact_of_a_never_sent_alert_is_refused_with_a_reason() -> None:
    alert = make_alert(["call"], Category("general"), state=AlertState.SENDING)
    assert recontact_refusal(alert, (), 0) == "the alert has not been sent"
    assert recontact_refusal(make_alert(["call"], Category("g")), (), 0) == "the alert is draft"


@given(alerts_with_attempts())
def test_recontact_targets_exactly_the_contacts_not_reached_at_that_moment(
    case: tuple[Alert, list[int], list[Attempt], ReachedOptions],
) -> None:
    alert, audience, attempts, opts = case
    targets = recontact_targets(outcomes(audience, attempts))
    assert targets == sorted(
        c for c in audience if model_outcome(alert, opts, c, attempts) is not Outcome.CONTACTED
    )


# -- escalation ----------------------------------------------------------------------------

plans = st.builds(
    EscalationPlan,
    st.lists(
        st.builds(
            EscalationStep,
            st.sampled_from(["call", "sms", "email"]),
            st.integers(0, 30).map(lambda m: dt.timedelta(minutes=m)),
        ),
        min_size=1,
        max_size=4,
    ),
    st.integers(1, 4),
    st.integers(1, 90).map(lambda m: dt.timedelta(minutes=m)),
)


@given(plan=plans, done=st.integers(0, 20), minutes=st.integers(0, 400))
def test_the_escalation_schedule_runs_every_step_of_every_cycle_in_time_order(
    plan: EscalationPlan, done: int, minutes: int
) -> None:
    schedule = escalation_schedule(plan, T0)
    assert len(schedule) == plan.cycles * len(plan.steps)
    expected = sorted(
        (T0 + c * plan.cycle_interval + s.after, c, i, s.means)
        for c in range(plan.cycles)
        for i, s in enumerate(plan.steps)
    )
    assert [(s.at, s.cycle, s.step, s.means) for s in schedule] == expected
    now = T0 + dt.timedelta(minutes=minutes)
    due = escalation_due(plan, T0, done, now)
    assert due == [s for s in schedule[done:] if s.at <= now]


def test_the_target_of_confirmations_stops_the_alert_when_met() -> None:
    alert = make_alert(["call"], Category("evacuation", requires_confirmation=True), target_confirmations=50)
    assert not target_met(alert, 49)
    assert target_met(alert, 50)
    assert not target_met(make_alert(["call"], Category("general")), 10_000)
