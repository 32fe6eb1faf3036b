"""Twilio-compatible cloud channels: ``twilio-sms`` and ``twilio-voice``.

Works with Twilio and with providers that copy its Messages and Calls API (the base URL
is configurable), and with Tocsin's own simulator (``tocsin simulate twilio``). Status
callbacks, the call's TwiML and the confirming digit arrive on the reference server
through :mod:`tocsin.plugins.twilio.routes`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from tocsin.channel import ChannelType
from tocsin.hookspecs import hookimpl

if TYPE_CHECKING:
    import click

    from tocsin.runtime import Runtime
    from tocsin.testing.harness import ConformanceHarness


@hookimpl
def tocsin_register_channels() -> list[ChannelType]:
    from tocsin.plugins.twilio import sms, voice

    return [
        ChannelType("twilio-sms", "sms", sms.build, "SMS through a Twilio-compatible Messages API"),
        ChannelType("twilio-voice", "call", voice.build, "Calls through a Twilio-compatible Calls API"),
    ]


@hookimpl
def tocsin_server_routes(runtime: Runtime) -> Sequence[Any]:
    from tocsin.plugins.twilio.routes import MEANS, build_router

    if not any(section.get("type") in MEANS for section in runtime.config.channels.values()):
        return []
    return [build_router(runtime)]


@hookimpl
def tocsin_cli_commands() -> list[click.Command]:
    from tocsin.testing.simulate_cli import simulate

    return [simulate]


@hookimpl
def tocsin_conformance_harnesses() -> list[ConformanceHarness]:
    from tocsin.plugins.twilio.harness import harnesses

    found: list[ConformanceHarness] = harnesses()
    return found
