"""Channel instances built from ``[channels.<name>]`` sections, and which one sends
each means."""

from __future__ import annotations

from collections.abc import Mapping

from tocsin.channel import Channel, ChannelSettings
from tocsin.errors import ConfigError, PluginError
from tocsin.runtime import Runtime


def build_channels(runtime: Runtime) -> dict[str, Channel]:
    """Every configured channel instance, built by its type (a bad section is refused)."""
    built: dict[str, Channel] = {}
    config = runtime.config
    for name, section in config.channels.items():
        type_name = str(section["type"])
        try:
            channel_type = runtime.registry.channel_type(type_name)
        except PluginError as exc:
            raise ConfigError(f"channels.{name}: {exc}") from None
        settings = ChannelSettings(
            name=name,
            type=type_name,
            options={k: v for k, v in section.items() if k != "type"},
            clock=runtime.clock,
            data_dir=config.core.data_dir,
            base_url=config.core.base_url,
            hooks=runtime.pm.hook,  # extension hooks a channel calls (content scanners)
        )
        channel = channel_type.build(settings)
        if channel.means not in runtime.registry.status_machines:
            raise ConfigError(
                f"channels.{name}: it sends means {channel.means!r}, which has no status machine"
            )
        built[name] = channel
    return built


def routing(channels: Mapping[str, Channel], pinned: Mapping[str, str]) -> dict[str, str]:
    """Means -> channel name: the first configured channel of each means, unless
    ``[engine.routes]`` pins another."""
    routes: dict[str, str] = {}
    for name, channel in channels.items():
        routes.setdefault(channel.means, name)
    for means, name in pinned.items():
        if name not in channels:
            raise ConfigError(f"engine.routes.{means}: no channel named {name!r}")
        if channels[name].means != means:
            raise ConfigError(
                f"engine.routes.{means}: channel {name!r} sends {channels[name].means}, not {means}"
            )
        routes[means] = name
    return routes
