"""Hook specifications: everything a plugin can add to Tocsin, and when it is asked.

Every hook is prefixed ``tocsin_``. Plugins implement them with :data:`hookimpl`; the
built-in plugins do so through the same ``tocsin`` entry-point group as third-party ones.
Unless a hook says "the first non-None result wins", every implementation is called and
the results are collected in a list. Observer hooks are called after the store has
committed, with batches, never per row; an observer must not block (do slow work in a
task of its own).
"""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    import click

    from tocsin.campaign import CampaignType
    from tocsin.channel import ChannelType
    from tocsin.config import Config
    from tocsin.model import Alert, Assignment, AttemptChange, InboundMessage
    from tocsin.reached import ReachedPolicy
    from tocsin.report import Exporter, Report
    from tocsin.runtime import Runtime
    from tocsin.scan import ScanFinding, ScanPart
    from tocsin.status import StatusMachine
    from tocsin.testing.harness import ConformanceHarness

PROJECT = "tocsin"

hookspec = pluggy.HookspecMarker(PROJECT)
"""Marks a hook specification (only this module uses it)."""

hookimpl = pluggy.HookimplMarker(PROJECT)
"""Marks a plugin's implementation of a hook: ``@hookimpl def tocsin_...``."""


# -------------------------------------------------------------------------------------
# Registration: each returns a list, and all results are collected. A name registered
# twice (by one plugin or two) is refused when the registry is built.
# -------------------------------------------------------------------------------------


@hookspec
def tocsin_register_channels() -> Sequence[ChannelType]:
    """Called when the registry is built, to collect the channel types plugins offer.

    :return: a list of :class:`tocsin.channel.ChannelType`; each ``name`` (``smtp``,
        ``gsm-sms``...) is what a ``[channels.<instance>] type = ...`` section names.

    All results are collected.
    """


@hookspec
def tocsin_register_status_machines() -> Sequence[StatusMachine]:
    """Called when the registry is built, to collect one status machine per means.

    :return: a list of :class:`tocsin.status.StatusMachine`; a means (``call``,
        ``sms``, ``email``, ``push``...) may have only one machine.

    All results are collected.
    """


@hookspec
def tocsin_register_reached_policies() -> Sequence[ReachedPolicy]:
    """Called when the registry is built, to collect policies deciding which terminal
    states count as *reached* (chosen by name in ``[reached] policy``).

    :return: a list of :class:`tocsin.reached.ReachedPolicy`.

    All results are collected.
    """


@hookspec
def tocsin_register_campaign_types() -> Sequence[CampaignType]:
    """Called when the registry is built, to collect kinds of campaign (alert, survey,
    dialer...).

    :return: a list of :class:`tocsin.campaign.CampaignType`.

    All results are collected.
    """


@hookspec
def tocsin_register_reports() -> Sequence[Report]:
    """Called when the registry is built, to collect reports over the store.

    :return: a list of :class:`tocsin.report.Report`, each reading the store through
        aggregate queries.

    All results are collected.
    """


@hookspec
def tocsin_register_exporters() -> Sequence[Exporter]:
    """Called when the registry is built, to collect export formats (xlsx, pdf, csv...).

    :return: a list of :class:`tocsin.report.Exporter`.

    All results are collected.
    """


# -------------------------------------------------------------------------------------
# Extension points
# -------------------------------------------------------------------------------------


@hookspec
def tocsin_cli_commands() -> Sequence[click.Command]:
    """Called when the ``tocsin`` command line starts, to add subcommands.

    :return: a list of :class:`click.Command` (or groups) added to the ``tocsin`` group;
        a name already taken is refused.

    All results are collected.
    """


@hookspec
def tocsin_server_routes(runtime: Runtime) -> Sequence[Any]:
    """Called when the reference server builds its application, to add routes
    (provider webhooks, tracking pixels, pages).

    :param runtime: the running :class:`tocsin.runtime.Runtime` (store, registry,
        channels, clock, configuration) the routes serve.
    :return: a list of route handlers or routers of the server's ASGI framework
        (Litestar); each declares the right it needs.

    All results are collected.
    """


@hookspec
def tocsin_scan_message(
    channel: str, parts: Sequence[ScanPart]
) -> Awaitable[ScanFinding | None] | ScanFinding | None:
    """Called when a channel is about to send content (an e-mail's text, HTML and
    attachments), to let content scanners (ClamAV, a policy filter) refuse it.

    :param channel: the name of the channel instance sending (``[channels.<name>]``).
    :param parts: the :class:`tocsin.scan.ScanPart` of the message (name, content type,
        decoded bytes), in message order.
    :return: a :class:`tocsin.scan.ScanFinding` when a part must not be sent, ``None``
        when the scanner finds nothing (or is not configured), or an awaitable of either.
        Raise :class:`tocsin.scan.ScanError` when the scan could not be done: the channel
        then does not send the message unscanned (it reports a temporary failure).

    All implementations are called and awaited; any finding refuses the message (an
    e-mail becomes *rejected* with the finding as its reason).
    """


@hookspec(firstresult=True)
def tocsin_inbound_message(runtime: Runtime, message: InboundMessage) -> str | None:
    """Called when a contact sends something back (a reply SMS, an e-mail reply, a DTMF
    digit), to let one plugin claim it: confirmation, opt-out, conversation.

    :param runtime: the running :class:`tocsin.runtime.Runtime`.
    :param message: the :class:`tocsin.model.InboundMessage` received.
    :return: a short description of what the plugin did with it (for the log), or
        ``None`` to let the next plugin look at it.

    The first non-None result wins; later plugins are not called.
    """


# -------------------------------------------------------------------------------------
# Lifecycle
# -------------------------------------------------------------------------------------


@hookspec
def tocsin_configure(config: Config) -> None:
    """Called when the configuration has been read, before anything starts, so each
    plugin can validate its own sections.

    :param config: the effective :class:`tocsin.config.Config`.
    :return: nothing; raise :class:`tocsin.errors.ConfigError` naming the bad key.

    All implementations are called.
    """


@hookspec
def tocsin_startup(runtime: Runtime) -> Awaitable[None] | None:
    """Called when a runtime starts (engine, server or host application), after the
    store is open and the channels have started.

    :param runtime: the :class:`tocsin.runtime.Runtime` starting.
    :return: ``None``, or an awaitable that the runtime awaits before it serves.

    All implementations are called.
    """


@hookspec
def tocsin_shutdown(runtime: Runtime) -> Awaitable[None] | None:
    """Called when a runtime stops, before the channels stop and the store closes.

    :param runtime: the :class:`tocsin.runtime.Runtime` stopping.
    :return: ``None``, or an awaitable that the runtime awaits.

    All implementations are called.
    """


# -------------------------------------------------------------------------------------
# Observers: after the store has committed, in batches
# -------------------------------------------------------------------------------------


@hookspec
def tocsin_attempts_changed(runtime: Runtime, changes: Sequence[AttemptChange]) -> None:
    """Called when a batch of status changes has been committed, in the status applier's
    database thread, never on the event loop: an implementation may use the store
    synchronously, and reaches asyncio objects only through ``call_soon_threadsafe``.
    Batches come one at a time, in the order they were committed; an exception is logged
    and does not undo the batch.

    :param runtime: the running :class:`tocsin.runtime.Runtime`.
    :param changes: the :class:`tocsin.model.AttemptChange` of the batch, in the order
        they were applied (only applied changes: refused events are not included).
    :return: nothing.

    All implementations are called.
    """


@hookspec
def tocsin_alert_sent(runtime: Runtime, alert: Alert) -> None:
    """Called when an alert's initial attempts have all been written to the outbox.

    :param runtime: the running :class:`tocsin.runtime.Runtime`.
    :param alert: the :class:`tocsin.model.Alert`, now in state *sending*.
    :return: nothing.

    All implementations are called.
    """


@hookspec
def tocsin_alert_finished(runtime: Runtime, alert: Alert) -> None:
    """Called when an alert has nothing left to do: every attempt is terminal and no
    reminder or escalation step remains (or it was cancelled).

    :param runtime: the running :class:`tocsin.runtime.Runtime`.
    :param alert: the :class:`tocsin.model.Alert`, now *finished* or *cancelled*.
    :return: nothing.

    All implementations are called.
    """


@hookspec
def tocsin_contact_assigned(runtime: Runtime, assignments: Sequence[Assignment]) -> None:
    """Called when contacts have been assigned to, or unassigned from, agents.

    :param runtime: the running :class:`tocsin.runtime.Runtime`.
    :param assignments: the committed :class:`tocsin.model.Assignment` records.
    :return: nothing.

    All implementations are called.
    """


# -------------------------------------------------------------------------------------
# Testing: what the conformance kit (tocsin.testing) asks of plugins
# -------------------------------------------------------------------------------------


@hookspec
def tocsin_conformance_harnesses() -> Sequence[ConformanceHarness]:
    """Called when a test suite runs the conformance kit, to collect one harness per
    channel type a plugin offers (never called in production).

    :return: a list of :class:`tocsin.testing.harness.ConformanceHarness`: the channel
        type's ``name`` and ``run``, an async context manager that starts the real
        component the channel needs (virtual modem, provider simulator, SMTP server on
        loopback) and yields a :class:`tocsin.testing.harness.ChannelUnderTest` (the
        built channel, address scenarios with the statuses each may end in, and a way to
        wait until the provider has settled). Import test-only dependencies inside
        ``run``. Tocsin's own suite fails when a registered channel type has no harness.

    All results are collected; a channel type covered by two harnesses is refused.
    """
