"""The status machine judges every reported status the way the issue says, checked
against an independent reading of the declared tables (plain fixpoints written here)."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from tocsin.builtin_statuses import CALL, EMAIL, SMS
from tocsin.status import PENDING, StatusMachine, Verdict, describe
from tocsin.testing.strategies import legal_paths, provider_streams, random_machines

BUILTIN = (CALL, SMS, EMAIL)
machines = st.one_of(st.sampled_from(BUILTIN), random_machines())
UNKNOWN = st.sampled_from(["delivered", "DELIVERED", "in-progress", "no-answer", "x", " sent", PENDING])


# -- an independent model of the rules ---------------------------------------------------


def successors(machine: StatusMachine, state: str) -> set[str]:
    if state == PENDING:
        return {machine.initial, *machine.entry}
    return set(machine.transitions.get(state, ())) | set(machine.refinements.get(state, ()))


def descendants(machine: StatusMachine, state: str) -> set[str]:
    found: set[str] = set()
    frontier = successors(machine, state)
    while frontier:
        found |= frontier
        frontier = {n for s in frontier for n in successors(machine, s)} - found
    return found


def ancestors(machine: StatusMachine, state: str) -> set[str]:
    return {s for s in machine.states if state in descendants(machine, s)}


def expected_verdict(machine: StatusMachine, current: str, status: str) -> Verdict:
    if status not in machine.states:
        return Verdict.REFUSE
    if status == current:
        return Verdict.DUPLICATE
    if status in descendants(machine, current):
        return Verdict.APPLY
    if current != PENDING and status in ancestors(machine, current):
        return Verdict.ABSORB
    return Verdict.REFUSE


def feed(machine: StatusMachine, stream: list[str]) -> tuple[list[str], list[Verdict]]:
    """Apply ``stream`` from the outbox; returns the applied statuses and every verdict."""
    current, applied, verdicts = PENDING, [], []
    for status in stream:
        decision = machine.decide(current, status)
        verdicts.append(decision.verdict)
        if decision.applies:
            current = status
            applied.append(status)
    return applied, verdicts


def leaves_terminal(machine: StatusMachine, applied: list[str]) -> bool:
    """Whether a terminal state is followed by anything but one of its refinements."""
    return any(
        before in machine.terminal and after not in refinement_closure(machine, before)
        for before, after in itertools.pairwise(applied)
    )


def refinement_closure(machine: StatusMachine, state: str) -> set[str]:
    found: set[str] = set()
    frontier = set(machine.refinements.get(state, ()))
    while frontier:
        found |= frontier
        frontier = {n for s in frontier for n in machine.refinements.get(s, ())} - found
    return found


# -- properties --------------------------------------------------------------------------


@given(data=st.data())
def test_decide_matches_the_independent_model_for_every_pair_of_states(data: st.DataObject) -> None:
    machine = data.draw(machines)
    current = data.draw(st.sampled_from([PENDING, *machine.states]))
    status = data.draw(st.one_of(st.sampled_from(machine.states), UNKNOWN))
    decision = machine.decide(current, status)
    assert decision.verdict is expected_verdict(machine, current, status)
    assert decision.status == status
    if decision.verdict is Verdict.REFUSE:
        assert decision.reason, "a refusal says why (it becomes the attempt's anomaly)"


@given(data=st.data())
def test_a_legal_path_delivered_shuffled_and_duplicated_ends_where_the_path_ends(
    data: st.DataObject,
) -> None:
    machine = data.draw(machines)
    path = data.draw(legal_paths(machine))
    stream = data.draw(provider_streams(path))
    applied, verdicts = feed(machine, stream)
    assert Verdict.REFUSE not in verdicts, "late implied events and duplicates are never refused"
    assert applied[-1:] == path[-1:], "the furthest status of the path wins, whatever the order"
    assert machine.is_legal_sequence(applied)
    assert len(applied) == len(set(applied)), "a status is applied at most once"


@given(data=st.data())
def test_applied_sequences_are_legal_and_never_leave_a_terminal_state(data: st.DataObject) -> None:
    machine = data.draw(machines)
    stream = data.draw(st.lists(st.one_of(st.sampled_from(machine.states), UNKNOWN), max_size=20))
    applied, verdicts = feed(machine, stream)
    assert machine.is_legal_sequence(applied)
    for before, after in zip([PENDING, *applied], applied, strict=False):
        assert after in descendants(machine, before), f"{after!r} applied after {before!r}"
    assert not leaves_terminal(machine, applied)
    for status, verdict in zip(stream, verdicts, strict=True):
        if status not in machine.states:
            assert verdict is Verdict.REFUSE


@given(data=st.data())
def test_feeding_any_event_already_seen_again_changes_nothing(data: st.DataObject) -> None:
    machine = data.draw(machines)
    stream = data.draw(st.lists(st.one_of(st.sampled_from(machine.states), UNKNOWN), min_size=1))
    applied, _ = feed(machine, stream)
    current = applied[-1] if applied else PENDING
    again = data.draw(st.sampled_from(stream))
    assert not machine.decide(current, again).applies


def test_is_legal_sequence_refuses_a_backward_step_and_a_terminal_left() -> None:
    assert SMS.is_legal_sequence(["accepted", "sent", "received"])
    assert not SMS.is_legal_sequence(["sent", "queued"])
    assert not SMS.is_legal_sequence(["received", "failed"])
    assert CALL.is_legal_sequence(["queued", "in progress", "completed", "confirmed"])
    assert not CALL.is_legal_sequence(["queued", "confirmed", "completed"])


# -- stateful: several attempts, events arriving in any order --------------------------


class DecideMachine(RuleBasedStateMachine):
    """Attempts of one machine fed a random stream: legal steps, late and duplicate
    events, unknown and illegal statuses; the model says what must happen."""

    @initialize(machine=machines, count=st.integers(1, 4))
    def start(self, machine: StatusMachine, count: int) -> None:
        self.machine = machine
        self.current = {n: PENDING for n in range(count)}
        self.applied: dict[int, list[str]] = {n: [] for n in range(count)}
        self.seen: dict[int, list[str]] = {n: [] for n in range(count)}
        self.refused: dict[int, list[tuple[int, str]]] = {n: [] for n in range(count)}

    def report(self, attempt: int, status: str) -> Verdict:
        before = self.current[attempt]
        expected = expected_verdict(self.machine, before, status)
        decision = self.machine.decide(before, status)
        assert decision.verdict is expected, (before, status, decision)
        self.seen[attempt].append(status)
        if decision.applies:
            self.current[attempt] = status
            self.applied[attempt].append(status)
        elif decision.verdict is Verdict.REFUSE:
            self.refused[attempt].append((len(self.applied[attempt]), status))
        return decision.verdict

    @rule(data=st.data())
    def a_step_forward(self, data: st.DataObject) -> None:
        attempt = data.draw(st.sampled_from(sorted(self.current)))
        nexts = sorted(descendants(self.machine, self.current[attempt]))
        if nexts:
            assert self.report(attempt, data.draw(st.sampled_from(nexts))) is Verdict.APPLY

    @rule(data=st.data())
    def a_late_implied_event(self, data: st.DataObject) -> None:
        attempt = data.draw(st.sampled_from(sorted(self.current)))
        if self.current[attempt] != PENDING:
            before = sorted(ancestors(self.machine, self.current[attempt]))
            if before:
                assert self.report(attempt, data.draw(st.sampled_from(before))) is Verdict.ABSORB

    @precondition(lambda self: any(self.seen.values()))
    @rule(data=st.data())
    def a_duplicate(self, data: st.DataObject) -> None:
        attempt = data.draw(st.sampled_from([a for a, s in self.seen.items() if s]))
        assert self.report(attempt, data.draw(st.sampled_from(self.seen[attempt]))) is not Verdict.APPLY

    @rule(data=st.data(), status=UNKNOWN)
    def an_unknown_status(self, data: st.DataObject, status: str) -> None:
        attempt = data.draw(st.sampled_from(sorted(self.current)))
        assert self.report(attempt, status) is Verdict.REFUSE

    @rule(data=st.data())
    def any_known_status(self, data: st.DataObject) -> None:
        attempt = data.draw(st.sampled_from(sorted(self.current)))
        self.report(attempt, data.draw(st.sampled_from(self.machine.states)))

    @invariant()
    def applied_sequences_are_legal(self) -> None:
        for applied in self.applied.values():
            assert self.machine.is_legal_sequence(applied)
            assert not leaves_terminal(self.machine, applied)

    @invariant()
    def a_refused_status_is_never_applied_later(self) -> None:
        for attempt, refused in self.refused.items():
            for position, status in refused:
                assert status not in self.applied[attempt][position:]


TestDecideMachine = DecideMachine.TestCase
# Half the profile's examples (ci: 50, long: 1000), 30 steps each.
TestDecideMachine.settings = settings(
    max_examples=max(10, (settings.default.max_examples if settings.default else 100) // 2),
    stateful_step_count=30,
    deadline=None,
)


# -- validation --------------------------------------------------------------------------


def _machine(**changes: object) -> StatusMachine:
    base: dict[str, object] = {
        "means": "push",
        "states": ("queued", "delivered", "failed"),
        "initial": "queued",
        "transitions": {"queued": {"delivered", "failed"}},
        "terminal": {"delivered", "failed"},
        "reached": {"delivered"},
    }
    base.update(changes)
    return StatusMachine(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"initial": "new"}, "initial state 'new' is not a state"),
        ({"terminal": {"delivered", "gone"}}, "terminal states ['gone'] are not states"),
        ({"reached": {"read"}}, "reached states ['read'] are not states"),
        ({"transitions": {"queued": {"read"}}}, "transition from 'queued' names unknown states ['read']"),
        (
            {"transitions": {"queued": {"delivered", "failed"}, "delivered": {"failed"}}},
            "terminal state 'delivered' has transitions (use refinements)",
        ),
        ({"refinements": {"queued": {"delivered"}}}, "refinement 'queued' -> ['delivered'] must join"),
        ({"states": ("queued", "delivered", "failed", "lost")}, "states ['lost'] cannot be reached"),
        ({"states": ("queued", "queued", "delivered", "failed")}, "a state is listed twice"),
        (
            {"refinements": {"delivered": {"failed"}}},
            "refinement 'delivered' -> ['failed'] would take a reached state back",
        ),
        (
            {"refinements": {"delivered": {"failed"}, "failed": {"delivered"}}},
            "states ['delivered', 'failed'] can follow themselves",
        ),
        (
            {
                "states": ("queued", "sending", "delivered", "failed"),
                "transitions": {"queued": {"sending", "delivered", "failed"}, "sending": {"sending"}},
            },
            "states ['sending'] lead to no terminal state",
        ),
    ],
)
def test_an_invalid_machine_is_refused_naming_what_is_wrong(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match="status machine 'push' is invalid") as info:
        _machine(**changes)
    assert message in str(info.value)


def test_a_valid_plugin_machine_is_accepted_and_judges_like_the_builtins() -> None:
    push = _machine()
    assert push.decide(PENDING, "delivered").verdict is Verdict.APPLY
    assert push.decide("delivered", "queued").verdict is Verdict.ABSORB
    refused = push.decide("delivered", "failed")
    assert refused.verdict is Verdict.REFUSE
    assert refused.reason == "'delivered' is terminal; 'failed' cannot follow it"
    assert push.decide("queued", "read").reason == "unknown push status 'read'"


def test_describe_lists_states_with_labels_terminal_and_reached_flags() -> None:
    data = describe(SMS)
    assert data["means"] == "sms"
    assert data["initial"] == "accepted"
    assert data["terminal"] == ["received", "undelivered", "failed", "confirmed"]
    assert data["reached"] == ["received", "confirmed"]
    states = {s["state"]: s for s in data["states"]}  # type: ignore[attr-defined]
    assert states["received"]["label"] == "received (delivered)"
    assert states["sent"]["next"] == ["confirmed", "received", "undelivered"]
    assert states["received"]["refined_by"] == ["confirmed"]
    assert states["confirmed"]["label"] == "confirmed (replied)"
    assert states["received"]["terminal"] is True
