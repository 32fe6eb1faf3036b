"""The plugin manager: built-in and third-party plugins found the same way.

Plugins come from the ``tocsin`` entry-point group (built-in ones included: the core
has no back door) and from modules named in ``[tocsin] plugins``. A plugin named in
``[tocsin] disable_plugins`` is not loaded.
"""

from __future__ import annotations

import importlib
import importlib.metadata as md
from collections.abc import Iterable
from types import ModuleType

import pluggy
from attrs import frozen

from tocsin import hookspecs
from tocsin.config import Config
from tocsin.errors import PluginError

ENTRY_POINT_GROUP = "tocsin"


@frozen
class PluginInfo:
    """What ``tocsin plugins`` shows for one loaded plugin."""

    name: str
    module: str
    distribution: str
    version: str
    hooks: tuple[str, ...]


class PluginManager(pluggy.PluginManager):
    """pluggy's manager, remembering which distribution each plugin came from."""

    def __init__(self) -> None:
        super().__init__(hookspecs.PROJECT)
        self.add_hookspecs(hookspecs)
        self.distributions: dict[str, tuple[str, str]] = {}


def new_manager() -> PluginManager:
    """An empty manager that knows Tocsin's hook specifications."""
    return PluginManager()


def _entry_points() -> Iterable[md.EntryPoint]:
    return md.entry_points(group=ENTRY_POINT_GROUP)


def _register(pm: PluginManager, plugin: object, name: str) -> None:
    if pm.has_plugin(name):
        raise PluginError(f"plugin name {name!r} is already taken by another loaded plugin")
    try:
        pm.register(plugin, name=name)
    except ValueError as exc:  # pluggy: the same object registered twice
        raise PluginError(f"plugin {name!r} could not be registered: {exc}") from exc
    except pluggy.PluginValidationError as exc:
        raise PluginError(f"plugin {name!r} is invalid: {exc}") from exc


def load_plugins(
    config: Config | None = None,
    *,
    entry_points: bool = True,
    extra: Iterable[tuple[str, object]] = (),
) -> PluginManager:
    """A manager with every plugin loaded: entry points, configured modules, ``extra``.

    ``extra`` lets a host application or a test register plugin objects directly, as
    ``(name, plugin)`` pairs.
    """
    pm = new_manager()
    disabled = set(config.core.disable_plugins) if config else set()
    if entry_points:
        for ep in sorted(_entry_points(), key=lambda e: e.name):
            if ep.name in disabled:
                continue
            try:
                plugin = ep.load()
            except Exception as exc:
                raise PluginError(f"plugin {ep.name!r} ({ep.value}) failed to import: {exc}") from exc
            _register(pm, plugin, ep.name)
            if ep.dist is not None:
                pm.distributions[ep.name] = (ep.dist.name, ep.dist.version)
    for module_name in config.core.plugins if config else ():
        if module_name in disabled:
            continue
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            raise PluginError(f"plugin module {module_name!r} named in tocsin.plugins: {exc}") from exc
        _register(pm, module, module_name)
    for name, plugin in extra:
        _register(pm, plugin, name)
    if config is not None:
        pm.hook.tocsin_configure(config=config)
    return pm


def _distribution_of(module: str) -> tuple[str, str]:
    top = module.split(".")[0]
    dists = md.packages_distributions().get(top, [])
    for dist_name in dists:
        try:
            return dist_name, md.version(dist_name)
        except md.PackageNotFoundError:
            continue
    return "", ""


def describe_plugins(pm: PluginManager) -> list[PluginInfo]:
    """Every loaded plugin with its distribution, version and the hooks it implements."""
    infos = []
    for name, plugin in pm.list_name_plugin():
        if plugin is None:
            continue
        module = plugin.__name__ if isinstance(plugin, ModuleType) else type(plugin).__module__
        if name in pm.distributions:
            dist_name, version = pm.distributions[name]
        else:
            dist_name, version = _distribution_of(module)
        hooks = tuple(sorted(h.name for h in pm.get_hookcallers(plugin) or ()))
        infos.append(PluginInfo(name, module, dist_name, version, hooks))
    return sorted(infos, key=lambda i: i.name)
