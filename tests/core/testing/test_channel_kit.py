"""The channel conformance kit passes a well-behaved channel and fails, with a readable
story, on channels planted with the faults it exists to find."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from tocsin.channel import (
    Accepted,
    Capabilities,
    Health,
    Limits,
    OutboundAttempt,
    PermanentFailure,
    SendResult,
    StatusSink,
    TemporaryFailure,
    now_event,
)
from tocsin.clock import SystemClock
from tocsin.model import StatusEvent
from tocsin.testing import ChannelUnderTest, ConformanceHarness, Scenario, run_channel_conformance

DELIVERED = "+15550000001"
UNDELIVERED = "+15550000002"
UNKNOWN_NUMBER = "+15550000003"
BUSY_GATEWAY = "+15550000004"

PROGRESS = {
    DELIVERED: ["queued", "sending", "sent", "received"],
    UNDELIVERED: ["queued", "sending", "sent", "undelivered"],
}


class LoopbackSmsChannel:
    """An SMS channel whose provider lives in the same event loop: it accepts a message,
    then reports its progress from a task of its own, sometimes out of order and twice,
    as real providers do. ``fault`` plants one of the bugs the kit must find."""

    name = "loopback"
    means = "sms"
    capabilities = Capabilities(delivery_reports=True)
    limits = Limits()

    def __init__(self, fault: str = "") -> None:
        self.fault = fault
        self.sink: StatusSink | None = None
        self.refs = itertools.count(1)
        self.tasks: set[asyncio.Task[None]] = set()
        self.busy_once: set[int] = set()
        self.clock = SystemClock()
        self.down = False

    async def start(self, sink: StatusSink) -> None:
        self.sink = sink

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()

    def health(self) -> Health:
        if self.fault == "sick health" and self.down:
            raise RuntimeError("provider down")  # the bug: health must report, not raise
        return Health()

    async def send(self, outbound: OutboundAttempt) -> SendResult:
        address, attempt_id = outbound.attempt.address, outbound.attempt.id or 0
        if self.down:
            if self.fault == "raises when down":
                raise ConnectionError("connection refused")  # the bug: nothing typed
            return TemporaryFailure("provider unavailable (503)", retry_after=5.0)
        if address == UNKNOWN_NUMBER:
            return PermanentFailure("unknown destination", code="21211")
        if address == BUSY_GATEWAY and attempt_id not in self.busy_once:
            self.busy_once.add(attempt_id)
            return TemporaryFailure("gateway busy", retry_after=1.0)
        ref = f"SM{next(self.refs):04d}"
        statuses = list(PROGRESS.get(address, PROGRESS[DELIVERED]))
        # Callbacks as providers send them: the last two swapped, one sent twice.
        statuses[-2:] = [statuses[-1], statuses[-2], statuses[-2]]
        if self.fault == "leaves terminal" and "received" in statuses:
            statuses.append("failed")  # the bug: a failure reported after delivery
        if self.fault == "drops an event":
            statuses.remove(PROGRESS[address][-1])  # the bug: the final report never sent
        ref_reported = ref + "-x" if self.fault == "wrong reference" else ref
        task = asyncio.get_running_loop().create_task(self._provider(ref_reported, statuses))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return Accepted(provider_ref=ref, status="accepted")

    async def _provider(self, ref: str, statuses: list[str]) -> None:
        for status in statuses:
            await asyncio.sleep(0)
            assert self.sink is not None
            self.sink.report(self._event(ref, status))

    def _event(self, ref: str, status: str) -> StatusEvent:
        event = now_event(self.clock, None, status, source="loopback")
        return StatusEvent(
            status=event.status, at=event.at, channel=self.name, provider_ref=ref, source=event.source
        )

    async def outage(self, down: bool) -> None:
        self.down = down

    async def settled(self) -> None:
        while self.tasks:
            await asyncio.gather(*self.tasks, return_exceptions=True)


def loopback_harness(fault: str = "") -> ConformanceHarness:
    @asynccontextmanager
    async def run() -> AsyncIterator[ChannelUnderTest]:
        channel = LoopbackSmsChannel(fault)
        yield ChannelUnderTest(
            channel=channel,
            scenarios=[
                Scenario(DELIVERED, {"received"}, "delivered"),
                Scenario(UNDELIVERED, {"undelivered"}, "handset unreachable"),
                Scenario(UNKNOWN_NUMBER, {"failed"}, "unknown number"),
                Scenario(BUSY_GATEWAY, {"received"}, "gateway busy once, then delivered"),
            ],
            settle=channel.settled,
            outage=channel.outage,
            settle_grace=0.0,  # settled() waits for the provider's last report itself
        )

    return ConformanceHarness("loopback-sms", run, "planted channels for the kit's own tests")


def test_a_well_behaved_channel_passes_the_kit() -> None:
    run_channel_conformance(loopback_harness(), max_examples=15, stateful_step_count=15)


def _failure(fault: str, examples: int = 30) -> tuple[str, str]:
    # Hypothesis stops at the first failing example; the budget only bounds the search.
    with pytest.raises(AssertionError) as info:
        run_channel_conformance(loopback_harness(fault), max_examples=examples, stateful_step_count=6)
    notes = "\n".join(getattr(info.value, "__notes__", []))
    return str(info.value), notes


def test_the_kit_fails_a_channel_that_leaves_a_terminal_state_with_the_attempt_story() -> None:
    message, steps = _failure("leaves terminal")
    assert "the channel reported 'failed' for attempt 1" in message
    assert "'received' is terminal; 'failed' cannot follow it" in message
    assert "applied: accepted -> " in message and "-> received" in message
    assert "state.first_sends(" in steps, "hypothesis prints the failing sequence of steps"


def test_the_kit_fails_a_channel_that_drops_an_event_with_the_attempt_story() -> None:
    message, steps = _failure("drops an event")
    assert "after the provider settled, attempt 1 is" in message
    assert "the channel lost an event" in message
    assert "to '+1555000000" in message
    assert "state.first_sends(" in steps and "state.teardown()" in steps


def test_the_kit_fails_a_channel_whose_reports_name_no_attempt() -> None:
    message, _ = _failure("wrong reference")
    assert "names no attempt the kit sent" in message
    assert "provider_ref='SM0001-x'" in message


def test_the_kit_fails_a_channel_that_raises_during_a_provider_outage() -> None:
    message, steps = _failure("raises when down", examples=300)
    assert "send raised ConnectionError: connection refused; a channel returns a typed result" in message
    assert "state.the_provider_goes_down()" in steps


def test_a_harness_scenario_naming_an_unknown_status_is_reported_as_such() -> None:
    @asynccontextmanager
    async def run() -> AsyncIterator[ChannelUnderTest]:
        yield ChannelUnderTest(LoopbackSmsChannel(), [Scenario(DELIVERED, {"delivered"})])

    with pytest.raises(AssertionError, match=r"lists \['delivered'\], which are not sms statuses"):
        run_channel_conformance(ConformanceHarness("loopback-sms", run), max_examples=1)


def test_the_kit_fails_a_channel_whose_health_raises() -> None:
    message, _ = _failure("sick health", examples=300)
    assert "health() raised RuntimeError: provider down; it reports, never raises" in message
