"""The registry: everything the loaded plugins registered, by name, without conflicts.

Each registration hook is called plugin by plugin so that a conflict names both
plugins: a name registered twice is refused with :class:`~tocsin.errors.PluginError`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, Generic, TypeVar

import click
from attrs import frozen

from tocsin.campaign import CampaignType
from tocsin.channel import ChannelType
from tocsin.errors import PluginError
from tocsin.plugin_manager import PluginManager
from tocsin.reached import ReachedPolicy
from tocsin.report import Exporter, Report
from tocsin.status import StatusMachine

T = TypeVar("T")


@frozen
class Entry(Generic[T]):
    """A registered object and the plugin that registered it."""

    value: T
    plugin: str


def _collect(
    pm: PluginManager, hook_name: str, what: str, key: Callable[[Any], str], **kwargs: Any
) -> dict[str, Entry[Any]]:
    found: dict[str, Entry[Any]] = {}
    caller = getattr(pm.hook, hook_name)
    for impl in reversed(caller.get_hookimpls()):  # registration order
        result = impl.function(**{k: kwargs[k] for k in impl.argnames if k in kwargs})
        for value in result or ():
            name = key(value)
            if name in found:
                other = found[name].plugin
                who = f"plugin {impl.plugin_name!r}" + (
                    " twice" if other == impl.plugin_name else f" and plugin {other!r}"
                )
                raise PluginError(f"{what} name {name!r} is registered by {who}; names must be unique")
            found[name] = Entry(value, impl.plugin_name)
    return found


@frozen
class Registry:
    """What the plugins registered, each kind by name."""

    channel_types: Mapping[str, Entry[ChannelType]]
    status_machines: Mapping[str, Entry[StatusMachine]]
    reached_policies: Mapping[str, Entry[ReachedPolicy]]
    campaign_types: Mapping[str, Entry[CampaignType]]
    reports: Mapping[str, Entry[Report]]
    exporters: Mapping[str, Entry[Exporter]]

    def machine(self, means: str) -> StatusMachine:
        """The status machine of ``means``; a clear error when no plugin registered one."""
        try:
            return self.status_machines[means].value
        except KeyError:
            known = ", ".join(sorted(self.status_machines)) or "none"
            raise PluginError(f"no status machine for means {means!r} (registered: {known})") from None

    def channel_type(self, name: str) -> ChannelType:
        try:
            return self.channel_types[name].value
        except KeyError:
            known = ", ".join(sorted(self.channel_types)) or "none"
            raise PluginError(f"no channel type {name!r} is registered (registered: {known})") from None

    def reached_policy(self, name: str) -> ReachedPolicy:
        try:
            return self.reached_policies[name].value
        except KeyError:
            known = ", ".join(sorted(self.reached_policies)) or "none"
            raise PluginError(f"no reached policy {name!r} (registered: {known})") from None


def build_registry(pm: PluginManager) -> Registry:
    """Call every registration hook and index the results (see the module docs)."""
    return Registry(
        channel_types=_collect(pm, "tocsin_register_channels", "channel type", lambda c: c.name),
        status_machines=_collect(
            pm, "tocsin_register_status_machines", "status machine (means)", lambda m: m.means
        ),
        reached_policies=_collect(
            pm, "tocsin_register_reached_policies", "reached policy", lambda p: p.name
        ),
        campaign_types=_collect(pm, "tocsin_register_campaign_types", "campaign type", lambda c: c.name),
        reports=_collect(pm, "tocsin_register_reports", "report", lambda r: r.name),
        exporters=_collect(pm, "tocsin_register_exporters", "exporter", lambda e: e.name),
    )


def collect_cli_commands(pm: PluginManager, taken: Iterable[str] = ()) -> dict[str, click.Command]:
    """Plugins' CLI commands by name; a name already taken (by the core too) is refused."""
    entries = _collect(pm, "tocsin_cli_commands", "command", lambda c: c.name)
    for name in taken:
        if name in entries:
            raise PluginError(
                f"command name {name!r} from plugin {entries[name].plugin!r} is taken by the core"
            )
    return {name: e.value for name, e in entries.items()}
