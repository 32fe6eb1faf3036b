"""``/api/plugins``, ``/api/channels`` and ``/api/health``: what runs, and how it is doing."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from attrs import frozen
from litestar import Router, get

from tocsin.channel import Channel, Health, HealthState
from tocsin.config import masked
from tocsin.plugin_manager import PluginInfo, describe_plugins
from tocsin.plugins.server.context import Ctx
from tocsin.plugins.server.rights import Right, need
from tocsin.runtime import Runtime


@frozen
class ChannelInfo:
    """A configured channel instance, its type's facts, and its health when it runs here."""

    name: str
    type: str
    means: str
    plugin: str
    running: bool
    health: Health | None
    options: dict[str, Any]


@frozen
class ServiceHealth:
    """Whether the server answers and its store can be read."""

    status: str
    database: str
    channels: dict[str, str]


def live_channels(runtime: Runtime) -> Mapping[str, Channel]:
    """The channels running in this process (started by the engine), by instance name."""
    found = runtime.services.get("channels")
    if isinstance(found, Mapping):
        return found
    engine = runtime.services.get("engine")
    channels = getattr(engine, "channels", None)
    return channels if isinstance(channels, Mapping) else {}


def channel_infos(runtime: Runtime) -> list[ChannelInfo]:
    live = live_channels(runtime)
    infos = []
    for name, section in sorted(runtime.config.channels.items()):
        type_name = str(section.get("type", ""))
        entry = runtime.registry.channel_types.get(type_name)
        channel = live.get(name)
        try:
            health = channel.health() if channel is not None else None
        except Exception as exc:  # a channel's own health check failing is its health
            health = Health(HealthState.DOWN, f"health check failed: {exc}")
        infos.append(
            ChannelInfo(
                name=name,
                type=type_name,
                means=entry.value.means if entry else "",
                plugin=entry.plugin if entry else "",
                running=channel is not None,
                health=health,
                options=masked({k: v for k, v in section.items() if k != "type"}),
            )
        )
    return infos


@get("/plugins", opt=need(Right.SYSTEM_READ), sync_to_thread=True)
def list_plugins(ctx: Ctx) -> list[PluginInfo]:
    """Loaded plugins, their distribution, version and the hooks they implement."""
    return describe_plugins(ctx.runtime.pm)


@get("/channels", opt=need(Right.SYSTEM_READ), sync_to_thread=True)
def list_channels(ctx: Ctx) -> list[ChannelInfo]:
    """Configured channels with their health (secrets masked)."""
    return channel_infos(ctx.runtime)


@get("/health", opt=need(Right.PUBLIC), sync_to_thread=True)
def health(ctx: Ctx) -> ServiceHealth:
    """For load balancers and monitoring: no detail beyond states."""
    try:
        ctx.store.contacts.count()
        database = "ok"
    except Exception:
        database = "down"
    channels = {c.name: str(c.health.state) if c.health else "stopped" for c in
                channel_infos(ctx.runtime)}
    status = "ok" if database == "ok" else "down"
    return ServiceHealth(status, database, channels)


router = Router("/api", route_handlers=[list_plugins, list_channels, health], tags=["system"])
