"""The runtime: one configuration, its plugins, its registry, its store and its clock.

Everything that runs Tocsin (the CLI, the engine, the reference server, a host
application) works through one :class:`Runtime`; hooks receive it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from tocsin.channel import StatusSink
from tocsin.clock import Clock, SystemClock
from tocsin.config import Config, load_config
from tocsin.plugin_manager import PluginManager, load_plugins
from tocsin.reached import ReachedPolicy
from tocsin.registry import Registry, build_registry
from tocsin.store import Store


class Runtime:
    """What a running Tocsin holds; build it with :meth:`open`."""

    def __init__(
        self,
        config: Config,
        pm: PluginManager,
        registry: Registry,
        store: Store,
        clock: Clock,
    ) -> None:
        self.config = config
        self.pm = pm
        self.registry = registry
        self.store = store
        self.clock = clock
        self.services: dict[str, Any] = {}
        """Objects a plugin shares with others during the run (engine, server...)."""
        self.sink: StatusSink | None = None
        """Where status events and inbound messages go in this process (set by the engine
        or the status applier when they start); webhooks report through it."""

    @classmethod
    def open(
        cls,
        config: Config | str | None = None,
        *,
        clock: Clock | None = None,
        plugins: Iterable[tuple[str, object]] = (),
        entry_points: bool = True,
        upgrade: bool = True,
    ) -> Runtime:
        """Load the configuration and the plugins, open (and upgrade) the store."""
        if not isinstance(config, Config):
            config = load_config(config)
        pm = load_plugins(config, entry_points=entry_points, extra=plugins)
        registry = build_registry(pm)
        registry.reached_policy(config.reached.policy)  # refuse an unknown policy now
        store = Store.open(config.core.database_url, upgrade=upgrade)
        return cls(config, pm, registry, store, clock or SystemClock())

    @property
    def reached_policy(self) -> ReachedPolicy:
        return self.registry.reached_policy(self.config.reached.policy)

    def close(self) -> None:
        self.store.close()
