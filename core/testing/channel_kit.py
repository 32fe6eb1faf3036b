"""The channel conformance machine: drives any channel through its contract.

For each example the kit enters the channel's harness (which starts the real provider
side: virtual modem, simulator, SMTP server), starts the channel with a recording sink,
then runs random steps: sends to the harness's scenarios, deliveries of the channel's
reports in order and out of order, duplicate deliveries, retries after temporary
failures, provider outages (when the harness can cause them), waits, and settles (the
harness says the provider has reported everything).
After every step it asserts:

- every attempt's applied statuses form a legal sequence of the channel's machine;
- the channel never reports a status its machine refuses, in whatever order and however
  often the reports are delivered: a status after a terminal one (other than a
  refinement), a status on another branch, an unknown status;
- *reached* is what the reached policy says for the attempt's status;
- no event is lost: every report names an attempt the kit sent and is recorded as
  applied, absorbed, duplicate or refused; once the provider has settled every send is
  in one of its scenario's outcomes;
- the channel declares its facts (name, means, capabilities, limits) and ``health()``
  reports a :class:`~tocsin.channel.Health` at every step without raising;
- ``send`` returns a typed result and provider references are unique; during a provider
  outage (when the harness can cause one) it returns a temporary failure.

A failure shows the offending attempt's whole story, and hypothesis prints the steps.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import threading
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar, TypeVar

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule
from hypothesis.stateful import run_state_machine_as_test as _run_machine

from tocsin.channel import (
    Accepted,
    Capabilities,
    Health,
    Limits,
    OutboundAttempt,
    PermanentFailure,
    TemporaryFailure,
)
from tocsin.model import Attempt, Category, InboundMessage, StatusEvent
from tocsin.reached import DEFAULT_POLICY, ReachedOptions, ReachedPolicy
from tocsin.rules import attempt_reached, failure_state
from tocsin.status import PENDING, StatusMachine, Verdict
from tocsin.testing.harness import ChannelUnderTest, ConformanceHarness
from tocsin.testing.ledger import Ledger, Origin, Track
from tocsin.testing.settings import kit_settings

T = TypeVar("T")

MAX_SENDS = 8
"""Sends per example: enough for interleavings, few enough for real components."""
MAX_TRIES = 3
"""Hand-overs after temporary failures before the kit, like the engine, gives up."""
SEND_TIMEOUT = 30.0
SETTLE_TIMEOUT = 60.0


F = TypeVar("F", bound=Callable[..., Any])


def _step(function: F) -> F:
    """Marks the machine clean once a rule or an invariant has run to the end, so that
    teardown knows whether the example failed already."""

    @functools.wraps(function)
    def step(self: ChannelConformance, *args: Any, **kwargs: Any) -> Any:
        self._clean = False
        result = function(self, *args, **kwargs)
        self._clean = True
        return result

    return step  # type: ignore[return-value]


class RecordingSink:
    """The sink the kit starts the channel with; reports may come from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.queue: list[StatusEvent] = []
        self.inbound_messages: list[InboundMessage] = []
        self.total = 0

    def report(self, event: StatusEvent) -> None:
        with self._lock:
            self.queue.append(event)
            self.total += 1

    def inbound(self, message: InboundMessage) -> None:
        with self._lock:
            self.inbound_messages.append(message)

    def take(self, index: int = 0) -> StatusEvent:
        with self._lock:
            return self.queue.pop(index)

    def pending(self) -> int:
        with self._lock:
            return len(self.queue)


class ChannelConformance(RuleBasedStateMachine):
    """Subclassed per harness by :func:`channel_conformance`; see the module docs."""

    harness: ClassVar[ConformanceHarness]
    machines: ClassVar[dict[str, StatusMachine]] = {}
    policy: ClassVar[ReachedPolicy] = DEFAULT_POLICY
    options: ClassVar[ReachedOptions] = ReachedOptions()

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self._context = self.harness.run()
        self._entered = False
        self.sink = RecordingSink()
        self.down = False
        try:
            self.cut: ChannelUnderTest = self._run(self._context.__aenter__(), "entering the harness")
            self._entered = True
            self._prepare()
        except BaseException:
            self._close()  # hypothesis calls teardown only once __init__ has returned
            raise
        self._clean = True

    def _prepare(self) -> None:
        channel = self.cut.channel
        _check_facts(channel)
        self.machine = self.cut.machine or self._machine_for(channel.means)
        reached = {
            flag: self.policy.reached(self.machine, Category("conformance", flag), self.options)
            for flag in (False, True)
        }
        self.ledger = Ledger(self.machine, reached, channel.name)
        for scenario in self.cut.scenarios:
            if unknown := sorted(scenario.outcomes - set(self.machine.states)):
                raise AssertionError(
                    f"the harness's scenario {scenario.address!r} lists {unknown}, which are not "
                    f"{self.machine.means} statuses (they are: {', '.join(self.machine.states)})"
                )
        self._ids = itertools.count(1)
        self._run(channel.start(self.sink), f"starting channel {channel.name!r}")
        self._started = True

    # -- plumbing ----------------------------------------------------------------------

    def _machine_for(self, means: str) -> StatusMachine:
        try:
            return self.machines[means]
        except KeyError:
            raise AssertionError(
                f"channel {self.cut.channel.name!r} serves means {means!r}, but no status machine "
                f"is registered for it (registered: {sorted(self.machines)}); register one or set "
                "ChannelUnderTest.machine"
            ) from None

    def _run(self, awaitable: Awaitable[T], what: str, timeout: float = SEND_TIMEOUT) -> T:
        async def bounded() -> T:
            return await asyncio.wait_for(awaitable, timeout)

        try:
            result = self.loop.run_until_complete(bounded())
        except TimeoutError:
            raise AssertionError(f"{what} did not finish within {timeout:.0f} s") from None
        self.loop.run_until_complete(_yield_to_channel())
        return result

    def teardown(self) -> None:
        try:
            # Every example ends with the provider settled, so the check that every send
            # ends as its scenario says runs in each (unless a step has failed already).
            if getattr(self, "_clean", False) and self.ledger.tracks:
                self.settle()
        finally:
            self._close()

    def _close(self) -> None:
        try:
            if getattr(self, "_started", False):
                self._run(self.cut.channel.stop(), "stopping the channel")
        finally:
            try:
                if self._entered:
                    self._run(self._context.__aexit__(None, None, None), "leaving the harness")
            finally:
                self.loop.close()

    def _fail(self, track: Track, problem: str) -> AssertionError:
        return AssertionError(f"{problem}\n{track.history()}")

    # -- sending -----------------------------------------------------------------------

    def _hand_over(self, track: Track) -> None:
        attempt = Attempt(
            alert_id=None,
            contact_id=track.attempt_id,
            means=self.machine.means,
            address=track.scenario.address,
            status=PENDING,
            id=track.attempt_id,
            channel=self.cut.channel.name,
            tries=track.tries,
        )
        outbound = OutboundAttempt(
            attempt,
            self.cut.message,
            contact_name="Conformance Contact",
            language="en",
            requires_confirmation=track.scenario.requires_confirmation,
            alert_title="Tocsin conformance",
        )
        try:
            result = self._run(self.cut.channel.send(outbound), f"send of attempt {track.attempt_id}")
        except AssertionError:
            raise
        except Exception as exc:
            raise self._fail(
                track, f"send raised {type(exc).__name__}: {exc}; a channel returns a typed result"
            ) from exc
        track.tries += 1
        track.results.append(
            type(result).__name__
            + (f"({_status(result)!r})" if _status(result) else "")
            + (" during an outage" if self.down else "")
        )
        if self.down:
            if not isinstance(result, TemporaryFailure):
                raise self._fail(
                    track,
                    f"during a provider outage send returned {result!r}; it must return a "
                    "TemporaryFailure so that the engine tries again later",
                )
            track.outage_tries += 1
            return
        if isinstance(result, Accepted):
            ref = result.provider_ref
            if ref is not None and (other := self.ledger.remember_ref(track, ref)):
                raise self._fail(track, f"provider reference {ref!r} was already given to {other}")
            self._judge_own(track, result.status or self.machine.initial)
        elif isinstance(result, PermanentFailure):
            self._judge_own(track, result.status or failure_state(self.machine))
        elif isinstance(result, TemporaryFailure):
            if track.tries - track.outage_tries >= MAX_TRIES:
                self._judge_own(track, failure_state(self.machine))
        else:
            raise self._fail(
                track, f"send returned {result!r}; expected Accepted, TemporaryFailure or PermanentFailure"
            )

    def _judge_own(self, track: Track, status: str) -> None:
        record = self.ledger.apply(track, status, Origin.SEND)
        if record.verdict is Verdict.REFUSE:
            raise self._fail(track, f"send result status {status!r} is refused: {record.reason}")

    @initialize(data=st.data())
    @_step
    def first_sends(self, data: st.DataObject) -> None:
        """Every example starts with a few sends, so every one has something to check."""
        for _ in range(data.draw(st.integers(1, 3), label="first sends")):
            self.send(data)

    @precondition(lambda self: len(self.ledger.tracks) < MAX_SENDS)
    @rule(data=st.data())
    @_step
    def send(self, data: st.DataObject) -> None:
        """Send to one of the harness's addresses."""
        scenario = data.draw(st.sampled_from(self.cut.scenarios), label="scenario")
        track = self.ledger.new_track(next(self._ids), scenario)
        self._hand_over(track)

    @rule(which=st.integers(0, MAX_SENDS - 1))
    @_step
    def retry(self, which: int) -> None:
        """Hand an attempt that failed temporarily to the channel again."""
        waiting = [t for t in self.ledger.tracks.values() if t.status == PENDING and t.tries]
        if waiting:
            self._hand_over(waiting[which % len(waiting)])

    # -- the channel's reports ---------------------------------------------------------

    def _deliver(self, index: int) -> None:
        event = self.sink.take(index)
        record = self.ledger.apply_event(event, Origin.CHANNEL)
        self._check_record(record)

    def _check_record(self, record: Any) -> None:
        if record.verdict is Verdict.REFUSE:
            track = self.ledger.tracks[record.attempt_id]
            raise self._fail(
                track,
                f"the channel reported {record.status!r} for attempt {track.attempt_id}, which the "
                f"{self.machine.means} machine refuses ({record.reason}): a channel must never leave "
                "a terminal state, jump to another branch or report an unknown status",
            )

    # Which reports are waiting depends on the provider's timing, so these rules draw
    # plain numbers and take what is there: hypothesis needs the same draws on replay.

    @rule()
    @_step
    def deliver_next_report(self) -> None:
        """Apply the oldest report the channel made."""
        if self.sink.pending():
            self._deliver(0)

    @rule(position=st.integers(0, 63))
    @_step
    def deliver_a_later_report_first(self, position: int) -> None:
        """Apply a report out of order, as providers' callbacks arrive."""
        waiting = self.sink.pending()
        if waiting > 1:
            self._deliver(1 + position % (waiting - 1))

    @rule(which=st.integers(0, 255))
    @_step
    def deliver_a_report_again(self, which: int) -> None:
        """Apply a report a second time, as providers retry callbacks."""
        if self.ledger.delivered:
            event = self.ledger.delivered[which % len(self.ledger.delivered)]
            self._check_record(self.ledger.apply_event(event, Origin.DUPLICATE))

    @precondition(lambda self: self.cut.outage is not None and not self.down)
    @rule()
    @_step
    def the_provider_goes_down(self) -> None:
        """A provider outage: sends must fail temporarily until it is back."""
        assert self.cut.outage is not None
        self._run(self.cut.outage(True), "taking the provider down")
        self.down = True

    @precondition(lambda self: self.down)
    @rule()
    @_step
    def the_provider_comes_back(self) -> None:
        """The outage ends; waiting sends are retried."""
        assert self.cut.outage is not None
        self._run(self.cut.outage(False), "bringing the provider back")
        self.down = False

    @rule()
    @_step
    def let_time_pass(self) -> None:
        """Let the channel and its provider work for a moment."""
        self.loop.run_until_complete(asyncio.sleep(0.02))

    @precondition(lambda self: self.ledger.tracks)
    @rule()
    @_step
    def settle(self) -> None:
        """Wait until the provider has reported everything, apply it all, and check
        every send ended as its scenario says."""
        if self.down:
            self.the_provider_comes_back()
        for track in list(self.ledger.tracks.values()):
            while track.status == PENDING and track.tries and track.tries - track.outage_tries < MAX_TRIES:
                self._hand_over(track)
        self._run(self.cut.settle(), "the harness's settle()", SETTLE_TIMEOUT)
        self._drain_until_settled()
        self._check_unmatched()
        for track in self.ledger.tracks.values():
            track.settled = True
            if track.status not in track.scenario.outcomes:
                raise self._fail(
                    track,
                    f"after the provider settled, attempt {track.attempt_id} is "
                    f"{track.status or 'pending'!r}, not one of {sorted(track.scenario.outcomes)}: "
                    "the channel lost an event (or the scenario's outcomes are wrong)",
                )

    def _drain_until_settled(self) -> None:
        """Apply every waiting report; give the channel up to the harness's
        ``settle_grace`` seconds more to pass on reports its provider has already sent
        (bytes still in a pseudo-terminal) before an attempt counts as short."""
        deadline = self.loop.time() + self.cut.settle_grace
        while True:
            while self.sink.pending():
                self._deliver(0)
            short = any(t.status not in t.scenario.outcomes for t in self.ledger.tracks.values())
            if not short or self.loop.time() >= deadline:
                return
            self.loop.run_until_complete(asyncio.sleep(0.01))

    # -- invariants --------------------------------------------------------------------

    @invariant()
    @_step
    def applied_statuses_are_legal_and_terminal_states_are_never_left(self) -> None:
        for track in self.ledger.tracks.values():
            if not self.machine.is_legal_sequence(track.applied):
                raise self._fail(track, "the applied statuses are not a legal sequence")
            for before, after in itertools.pairwise(track.applied):
                if self.machine.is_terminal(before) and not self.machine.leads_to(before, after):
                    raise self._fail(track, f"terminal {before!r} was left for {after!r}")

    @invariant()
    @_step
    def health_is_reported(self) -> None:
        try:
            health = self.cut.channel.health()
        except Exception as exc:
            problem = f"health() raised {type(exc).__name__}: {exc}; it reports, never raises"
            raise AssertionError(problem) from exc
        assert isinstance(health, Health), f"health() returned {health!r}, not a Health"

    @invariant()
    @_step
    def reached_follows_the_policy(self) -> None:
        for track in self.ledger.tracks.values():
            expected = attempt_reached(track.status, self.machine, self.ledger.reached_states(track))
            if track.reached is not expected:
                raise self._fail(track, f"reached is {track.reached}, the policy says {expected}")

    def _check_unmatched(self) -> None:
        if self.ledger.unmatched:
            record, event = self.ledger.unmatched[0]
            raise AssertionError(
                f"the channel reported {event.status!r}, but the event {record.reason}: the engine "
                f"could not apply it. Event: {event!r}"
            )

    @invariant()
    @_step
    def no_event_is_lost(self) -> None:
        self._check_unmatched()
        judged = sum(1 for r in self.ledger.records if r.origin is Origin.CHANNEL)
        taken = self.sink.total - self.sink.pending()
        assert judged == taken, f"{taken} reports were taken from the sink but {judged} were recorded"
        for track in self.ledger.tracks.values():
            if track.settled and track.status not in track.scenario.outcomes:
                raise self._fail(track, f"settled attempt {track.attempt_id} moved to {track.status!r}")


def _check_facts(channel: Any) -> None:
    """The facts every channel declares, of the right types."""
    problems = []
    facts: tuple[tuple[str, type], ...] = (
        ("name", str), ("means", str), ("capabilities", Capabilities), ("limits", Limits)
    )
    for attribute, kind in facts:
        value = getattr(channel, attribute, None)
        if not isinstance(value, kind):
            problems.append(f"{attribute} is {value!r}, not a {kind.__name__}")
    for method in ("start", "stop", "send", "health"):
        if not callable(getattr(channel, method, None)):
            problems.append(f"it has no {method}()")
    if problems:
        raise AssertionError(f"channel {channel!r} does not declare its facts: " + "; ".join(problems))


def _status(result: object) -> str | None:
    return getattr(result, "status", None)


async def _yield_to_channel() -> None:
    for _ in range(3):
        await asyncio.sleep(0)


def channel_conformance(
    harness: ConformanceHarness,
    *,
    machines: dict[str, StatusMachine] | None = None,
    policy: ReachedPolicy = DEFAULT_POLICY,
    options: ReachedOptions | None = None,
) -> type[ChannelConformance]:
    """A :class:`ChannelConformance` machine for ``harness``; machines default to those
    registered by the installed plugins (entry points)."""
    if machines is None:
        from tocsin.plugin_manager import load_plugins
        from tocsin.registry import build_registry

        registry = build_registry(load_plugins())
        machines = {name: entry.value for name, entry in registry.status_machines.items()}
    name = "ChannelConformance_" + "".join(c if c.isalnum() else "_" for c in harness.channel_type)
    attributes: dict[str, Any] = {
        "harness": harness,
        "machines": machines,
        "policy": policy,
        "options": options or ReachedOptions(),
    }
    return type(name, (ChannelConformance,), attributes)


def run_channel_conformance(harness: ConformanceHarness, **kwargs: Any) -> None:
    """Run the channel conformance machine on ``harness`` (from a synchronous test).

    Keyword arguments go to :func:`kit_settings` (``max_examples=...``,
    ``stateful_step_count=...``) except ``machines``, ``policy`` and ``options``, which
    go to :func:`channel_conformance`.
    """
    factory_keys = ("machines", "policy", "options")
    factory = {k: kwargs.pop(k) for k in factory_keys if k in kwargs}
    machine = channel_conformance(harness, **factory)
    _run_machine(machine, settings=kit_settings(**kwargs))


__all__ = ["ChannelConformance", "RecordingSink", "channel_conformance", "run_channel_conformance"]
