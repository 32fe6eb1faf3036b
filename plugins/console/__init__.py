"""The ``console`` channel plugin: sends by printing (or writing to a file), for the demo,
the benchmarks and tests, with configurable simulated outcomes and delays."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tocsin.channel import ChannelType
from tocsin.hookspecs import hookimpl
from tocsin.plugins.console.channel import build

if TYPE_CHECKING:
    from tocsin.testing.harness import ConformanceHarness


@hookimpl
def tocsin_register_channels() -> list[ChannelType]:
    return [
        ChannelType(
            name="console",
            means="*",
            build=build,
            description="Prints each message (or writes it to a file) and reports simulated "
            "statuses; any means (set `means`).",
        )
    ]


@hookimpl
def tocsin_conformance_harnesses() -> list[ConformanceHarness]:
    from tocsin.plugins.console.harness import harnesses

    return harnesses()
