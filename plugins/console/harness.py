"""The console channel's conformance harness: nothing to start, the outcomes are its own.

Each scenario is an outcome the channel is configured with, so the kit checks that what
the console channel reports follows the SMS machine, through delivery, non-delivery,
refusal and a provider that is briefly unavailable.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from tocsin.channel import ChannelSettings
from tocsin.plugins.console.channel import build
from tocsin.testing.harness import ChannelUnderTest, ConformanceHarness, Scenario

DELIVERED = "+33612000001"
UNDELIVERED = "+33612000002"
REFUSED = "+33612000003"
LATE = "+33612000004"


@contextlib.asynccontextmanager
async def _run() -> AsyncIterator[ChannelUnderTest]:
    channel = build(
        ChannelSettings(
            name="conformance-console",
            type="console",
            options={
                "means": "sms",
                "output": "none",
                "outcomes": [
                    {"match": UNDELIVERED,
                     "statuses": ["accepted", "queued", "sending", "sent", "undelivered"]},
                    {"match": REFUSED, "result": "permanent", "reason": "unknown subscriber",
                     "status": "failed"},
                    # a provider that skips intermediate reports: accepted, then received
                    {"match": LATE, "statuses": ["accepted", "received"]},
                ],
            },
        )
    )
    yield ChannelUnderTest(
        channel=channel,
        scenarios=(
            Scenario(DELIVERED, {"received"}, "delivered through every intermediate status"),
            Scenario(UNDELIVERED, {"undelivered"}, "sent, then reported undelivered"),
            Scenario(REFUSED, {"failed"}, "refused at once with a permanent failure"),
            Scenario(LATE, {"received"}, "accepted, then received with no report in between"),
        ),
        settle_grace=0.0,
    )


def harnesses() -> list[ConformanceHarness]:
    return [ConformanceHarness("console", _run, "console channel serving sms, with its own outcomes")]
