"""Generic HTTP SMS gateway channel (``http-sms``): Kannel, Jasmin, playSMS and the like.

One channel type configured per gateway (URL and parameter templates, how to read the
message id, how delivery reports arrive and what their codes mean); ready
configurations are in ``contrib/gateways/``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from tocsin.channel import ChannelType
from tocsin.hookspecs import hookimpl

if TYPE_CHECKING:
    from tocsin.runtime import Runtime
    from tocsin.testing.harness import ConformanceHarness


@hookimpl
def tocsin_register_channels() -> list[ChannelType]:
    from tocsin.plugins.http_gateway.channel import build

    return [ChannelType("http-sms", "sms", build, "SMS through an HTTP gateway (Kannel, Jasmin, playSMS...)")]


@hookimpl
def tocsin_server_routes(runtime: Runtime) -> Sequence[Any]:
    from tocsin.plugins.http_gateway.routes import TYPE, build_router

    if not any(section.get("type") == TYPE for section in runtime.config.channels.values()):
        return []
    return [build_router(runtime)]


@hookimpl
def tocsin_conformance_harnesses() -> list[ConformanceHarness]:
    from tocsin.plugins.http_gateway.harness import harnesses

    found: list[ConformanceHarness] = harnesses()
    return found
