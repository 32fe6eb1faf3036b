"""The console channel, through the channel contract with a recording sink."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from tocsin.channel import (
    Accepted,
    Channel,
    ChannelSettings,
    OutboundAttempt,
    PermanentFailure,
    RenderedMessage,
    TemporaryFailure,
)
from tocsin.clock import FakeClock
from tocsin.errors import ConfigError
from tocsin.model import Attempt, InboundMessage, StatusEvent
from tocsin.plugins.console.channel import build


class Sink:
    def __init__(self) -> None:
        self.events: list[StatusEvent] = []
        self.messages: list[InboundMessage] = []

    def report(self, event: StatusEvent) -> None:
        self.events.append(event)

    def inbound(self, message: InboundMessage) -> None:
        self.messages.append(message)


def _channel(tmp_path: Path, clock: FakeClock | None = None, **options: Any) -> Channel:
    settings = ChannelSettings(
        "c", "console", {"output": "none", **options}, clock=clock or FakeClock(), data_dir=tmp_path
    )
    return build(settings)


def _outbound(address: str = "+33600000001", means: str = "sms", aid: int = 7) -> OutboundAttempt:
    return OutboundAttempt(
        Attempt(1, 1, means, address, "", id=aid), RenderedMessage(text="Hello", subject="S")
    )


async def test_a_send_is_accepted_and_the_remaining_statuses_follow_through_the_sink(tmp_path: Path) -> None:
    channel = _channel(tmp_path, means="sms")
    assert isinstance(channel, Channel)
    sink = Sink()
    await channel.start(sink)
    result = await channel.send(_outbound())
    assert isinstance(result, Accepted) and result.status == "accepted" and result.provider_ref
    assert sink.events == []  # callbacks come after the send returns, as providers' do
    await asyncio.sleep(0)
    assert [e.status for e in sink.events] == ["queued", "sending", "sent", "received"]
    assert {e.attempt_id for e in sink.events} == {7}
    await channel.stop()


async def test_outcomes_match_addresses_by_pattern(tmp_path: Path) -> None:
    channel = _channel(
        tmp_path,
        means="email",
        outcomes=[
            {"match": "*@bad.example", "result": "permanent", "reason": "no such user", "status": "not sent"},
            {"match": "*@slow.example", "result": "temporary", "reason": "greylisted", "retry_after": 300},
            {"match": "*@spam.example", "statuses": ["sent", "marked as spam"]},
        ],
    )
    sink = Sink()
    await channel.start(sink)
    bad = await channel.send(_outbound("x@bad.example", "email"))
    assert bad == PermanentFailure("no such user", status="not sent")
    slow = await channel.send(_outbound("x@slow.example", "email"))
    assert slow == TemporaryFailure("greylisted", retry_after=300.0)
    spam = await channel.send(_outbound("x@spam.example", "email"))
    await asyncio.sleep(0)
    assert isinstance(spam, Accepted) and spam.status == "sent"
    assert [e.status for e in sink.events] == ["marked as spam"]
    await channel.stop()


async def test_delays_run_on_the_engines_clock_and_dtmf_arrives_as_inbound(tmp_path: Path) -> None:
    clock = FakeClock()
    channel = _channel(tmp_path, clock, means="call", delay=10, outcomes=[{"match": "*", "dtmf": "1"}])
    sink = Sink()
    await channel.start(sink)
    result = await channel.send(_outbound(means="call"))
    assert isinstance(result, Accepted) and result.status == "queued"
    await asyncio.sleep(0)
    assert sink.events == []
    for expected in (["started"], ["started", "ringing"]):
        clock.advance(10)
        for _ in range(3):
            await asyncio.sleep(0)
        assert [e.status for e in sink.events] == expected
    for _ in range(3):
        clock.advance(10)
        for _ in range(3):
            await asyncio.sleep(0)
    assert [e.status for e in sink.events][-1] == "completed"
    assert [(m.means, m.text, m.attempt_id) for m in sink.messages] == [("call", "1", 7)]
    await channel.stop()


async def test_messages_are_written_to_the_output_file(tmp_path: Path) -> None:
    channel = _channel(tmp_path, means="sms", output="out/console.log")
    await channel.start(Sink())
    await channel.send(_outbound())
    await channel.stop()
    text = (tmp_path / "out" / "console.log").read_text()
    assert "+33600000001" in text and "Hello" in text


async def test_the_declared_limits_come_from_the_section(tmp_path: Path) -> None:
    channel = _channel(tmp_path, means="sms", rate=6, per=60, concurrency=2)
    assert (channel.limits.rate, channel.limits.per, channel.limits.concurrency) == (6.0, 60.0, 2)
    assert channel.limits.interval == 10.0


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({}, "means: say which means"),
        ({"means": "push"}, "statuses: give the statuses"),
        ({"means": "sms", "outcomes": [{"match": "*", "result": "maybe"}]}, "'maybe' is not one of"),
        ({"means": "sms", "outcomes": [{"match": "*", "colour": "red"}]}, "unknown key(s) ['colour']"),
        ({"means": "sms", "rate": -1}, "rate: expected a positive number"),
        ({"means": "sms", "delay": "soon"}, "delay: expected seconds"),
        ({"means": "sms", "volume": 11}, "unknown key(s) ['volume']"),
    ],
)
def test_bad_configuration_is_refused_naming_the_key(
    tmp_path: Path, options: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigError) as refused:
        build(ChannelSettings("c", "console", options, data_dir=tmp_path))
    assert message in str(refused.value)
    assert "channels.c" in str(refused.value)
