"""What a channel plugin gives the conformance kit: a harness that starts the real thing.

A harness names the channel type it covers and an async context manager, ``run``, that
starts whatever real component the channel talks to (a virtual modem on a
pseudo-terminal, a provider simulator on loopback, an SMTP server), builds the channel
against it, and yields a :class:`ChannelUnderTest`: the channel (not started: the kit
starts it with its own sink), the addresses to send to with the statuses each may end
in, and ``settle``, which waits until the provider has reported all it will.

Plugins offer harnesses through the ``tocsin_conformance_harnesses`` hook. This module
imports nothing beyond attrs, so a plugin module can implement the hook without the test
dependencies installed; import the components the harness starts inside ``run``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from contextlib import AbstractAsyncContextManager
from typing import Any

from attrs import field, frozen

from tocsin.channel import Channel, RenderedMessage
from tocsin.errors import PluginError
from tocsin.status import StatusMachine
from tocsin.values import as_frozenset, as_tuple


@frozen
class Scenario:
    """An address the channel can send to, and every status a send to it may end in
    once the provider has settled (for example a number the simulator delivers to:
    ``{"received"}``; a number it rejects: ``{"failed", "undelivered"}``).

    List only terminal states, except where the provider truly never reports further
    (an e-mail accepted by an SMTP server that sends no delivery notice stays *sent*).
    A send that is still elsewhere once the provider has settled means an event was lost.
    """

    address: str
    outcomes: frozenset[str] = field(converter=as_frozenset)
    description: str = ""
    requires_confirmation: bool = False


TEST_MESSAGE = RenderedMessage(
    text="Tocsin conformance: this is a test.",
    subject="Tocsin conformance",
    html="<p>Tocsin conformance: this is a test.</p>",
)


async def _nothing_to_wait_for() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


@frozen
class ChannelUnderTest:
    """What a harness yields.

    ``settle`` waits until the provider has sent every report it will for the sends so
    far (a simulator's queue of callbacks drained, a modem's status reports delivered);
    the default suits a channel that reports everything before ``send`` returns.
    ``machine`` overrides the status machine registered for the channel's means.
    ``message`` is what each send carries. ``outage``, when given, takes the provider
    down (``await outage(True)``: the simulator answers 503, the SMTP server stops, the
    modem is unplugged) and brings it back (``await outage(False)``); during an outage a
    send must return a ``TemporaryFailure`` (never raise), and once the provider is back
    the retried sends must end as their scenarios say. ``settle_grace`` is how long
    after ``settle`` the kit still listens for reports the provider has already sent (bytes
    still in a pseudo-terminal) before it calls a send short; 0 when ``settle`` is exact.
    """

    channel: Channel
    scenarios: tuple[Scenario, ...] = field(converter=as_tuple)
    settle: Callable[[], Awaitable[None]] = _nothing_to_wait_for
    machine: StatusMachine | None = None
    message: RenderedMessage = TEST_MESSAGE
    outage: Callable[[bool], Awaitable[None]] | None = None
    settle_grace: float = 0.5

    def __attrs_post_init__(self) -> None:
        if not self.scenarios:
            raise ValueError("a ChannelUnderTest needs at least one Scenario to send to")


@frozen
class ConformanceHarness:
    """A channel type's harness: ``run()`` is an async context manager yielding a
    :class:`ChannelUnderTest` (write it with :func:`contextlib.asynccontextmanager`)."""

    channel_type: str
    run: Callable[[], AbstractAsyncContextManager[ChannelUnderTest]]
    description: str = ""


def collect_harnesses(pm: Any) -> dict[str, ConformanceHarness]:
    """Every harness the loaded plugins offer, by channel type; a channel type covered
    twice is refused naming both plugins."""
    found: dict[str, tuple[ConformanceHarness, str]] = {}
    for impl in reversed(pm.hook.tocsin_conformance_harnesses.get_hookimpls()):
        harnesses: Iterable[ConformanceHarness] = impl.function() or ()
        for harness in harnesses:
            if not isinstance(harness, ConformanceHarness):
                raise PluginError(
                    f"plugin {impl.plugin_name!r} returned {harness!r} from "
                    "tocsin_conformance_harnesses; expected ConformanceHarness objects"
                )
            if harness.channel_type in found:
                other = found[harness.channel_type][1]
                raise PluginError(
                    f"channel type {harness.channel_type!r} has a harness from plugin "
                    f"{impl.plugin_name!r} and from plugin {other!r}; one is enough"
                )
            found[harness.channel_type] = (harness, impl.plugin_name)
    return {name: pair[0] for name, pair in found.items()}


__all__ = ["ChannelUnderTest", "ConformanceHarness", "Scenario", "collect_harnesses"]
