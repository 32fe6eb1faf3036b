"""The ``smtp`` plugin: registers the e-mail channel, its open-tracking route, and marks
addresses failing after a hard bounce. Registered through the ``tocsin`` entry points
like any third-party plugin."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tocsin.channel import Channel, ChannelSettings, ChannelType
from tocsin.hookspecs import hookimpl
from tocsin.model import AttemptChange

MEANS = "email"
REBOUND = "rebound"


def build_channel(settings: ChannelSettings) -> Channel:
    """Build an ``smtp`` channel (imported here: aiosmtplib is the ``smtp`` extra)."""
    from tocsin.plugins.smtp.channel import build_channel as build

    return build(settings)

SMTP = ChannelType(
    name="smtp",
    means=MEANS,
    build=build_channel,
    description="E-mail through SMTP servers (pooled, failover), with bounce and complaint "
    "intake and optional open tracking.",
)


@hookimpl
def tocsin_register_channels() -> list[ChannelType]:
    return [SMTP]


@hookimpl
def tocsin_server_routes(runtime: Any) -> list[Any]:
    from tocsin.plugins.smtp.tracking import pixel_route, tracking_secrets

    secrets = tracking_secrets(runtime.config.channels)
    return [pixel_route(runtime, secrets)] if secrets else []


def _soft(runtime: Any, attempt_id: int) -> bool:
    """Whether the report behind this *rebound* said the failure was not permanent
    (a 4.x.x status after the remote server gave up retrying): the address may be fine."""
    events = [e for e in runtime.store.attempts.events(attempt_id)
              if e.status == REBOUND and not e.anomaly]
    return bool(events) and events[-1].data.get("hard") == "no"


def failing_addresses(runtime: Any, changes: Sequence[AttemptChange]) -> list[str]:
    """Addresses of the e-mail attempts in ``changes`` that have just bounced hard."""
    ids = [c.attempt_id for c in changes if c.means == MEANS and c.new_status == REBOUND]
    if not ids:
        return []
    with runtime.store.transaction() as conn:
        attempts = runtime.store.attempts.load(ids, conn)
    return sorted({a.address for a in attempts.values() if not _soft(runtime, a.id)})


@hookimpl
def tocsin_attempts_changed(runtime: Any, changes: Sequence[AttemptChange]) -> None:
    """A hard bounce marks the address failing, so later alerts skip or flag it."""
    for address in failing_addresses(runtime, changes):
        runtime.store.contacts.set_means_flags(address, failing=True)


@hookimpl
def tocsin_conformance_harnesses() -> list[Any]:
    """The conformance kit's harness for ``smtp`` (see :mod:`.harness`)."""
    from tocsin.plugins.smtp.harness import harnesses

    return list(harnesses())


@hookimpl
def tocsin_cli_commands() -> list[Any]:
    """``tocsin mail check|read-bounce|demo-server``."""
    from tocsin.plugins.smtp.cli import command

    return [command]
