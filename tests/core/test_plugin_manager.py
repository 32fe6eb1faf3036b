"""The plugin manager: entry points, configured modules, conflicts refused by name."""

from __future__ import annotations

import sys
import types

import click
import pytest

from tocsin import hookimpl
from tocsin.config import build_config
from tocsin.errors import PluginError
from tocsin.plugin_manager import describe_plugins, load_plugins
from tocsin.registry import build_registry, collect_cli_commands
from tocsin.status import StatusMachine

FAX = StatusMachine(
    means="fax", states=("queued", "sent", "failed"), initial="queued",
    transitions={"queued": {"sent", "failed"}}, terminal={"sent", "failed"}, reached={"sent"},
)


class FaxPlugin:
    @hookimpl
    def tocsin_register_status_machines(self) -> list[StatusMachine]:
        return [FAX]


class OtherFaxPlugin:
    @hookimpl
    def tocsin_register_status_machines(self) -> list[StatusMachine]:
        return [FAX]


def test_builtin_plugins_come_through_the_entry_points() -> None:
    pm = load_plugins(build_config({}, environ={}))
    infos = {i.name: i for i in describe_plugins(pm)}
    assert infos["core-statuses"].distribution == "tocsin"
    assert "tocsin_register_status_machines" in infos["core-statuses"].hooks
    registry = build_registry(pm)
    assert {"call", "sms", "email"} <= set(registry.status_machines)
    assert registry.status_machines["sms"].plugin == "core-statuses"


def test_a_plugin_object_registers_a_new_means() -> None:
    pm = load_plugins(build_config({}, environ={}), extra=[("fax", FaxPlugin())])
    assert build_registry(pm).machine("fax") is FAX


def test_a_name_registered_twice_is_refused_naming_both_plugins() -> None:
    pm = load_plugins(build_config({}, environ={}), extra=[("fax-a", FaxPlugin()), ("fax-b", OtherFaxPlugin())])
    with pytest.raises(PluginError, match="'fax' is registered by plugin 'fax-[ab]' and plugin 'fax-[ab]'"):
        build_registry(pm)


def test_a_plugin_name_taken_twice_is_refused() -> None:
    with pytest.raises(PluginError, match="already taken"):
        load_plugins(None, entry_points=False, extra=[("x", FaxPlugin()), ("x", OtherFaxPlugin())])


def test_plugins_named_in_configuration_are_loaded(monkeypatch: pytest.MonkeyPatch) -> None:
    module = types.ModuleType("acme_fax_plugin")

    @hookimpl
    def tocsin_register_status_machines() -> list[StatusMachine]:
        return [FAX]

    module.tocsin_register_status_machines = tocsin_register_status_machines  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "acme_fax_plugin", module)
    pm = load_plugins(build_config({"tocsin": {"plugins": ["acme_fax_plugin"]}}, environ={}))
    assert "fax" in build_registry(pm).status_machines
    with pytest.raises(PluginError, match="'no_such_module'"):
        load_plugins(build_config({"tocsin": {"plugins": ["no_such_module"]}}, environ={}))


def test_disabled_plugins_are_not_loaded() -> None:
    pm = load_plugins(build_config({"tocsin": {"disable_plugins": ["core-statuses"]}}, environ={}))
    assert "core-statuses" not in {i.name for i in describe_plugins(pm)}


def test_a_command_name_taken_by_the_core_is_refused() -> None:
    class Clash:
        @hookimpl
        def tocsin_cli_commands(self) -> list[click.Command]:
            return [click.Command("contacts")]

    pm = load_plugins(None, entry_points=False, extra=[("clash", Clash())])
    with pytest.raises(PluginError, match="command name 'contacts' from plugin 'clash' is taken"):
        collect_cli_commands(pm, taken=["contacts", "groups"])


def test_configure_hook_can_refuse_configuration() -> None:
    from tocsin.errors import ConfigError

    class Picky:
        @hookimpl
        def tocsin_configure(self, config: object) -> None:
            raise ConfigError("acme.level: must be between 1 and 3")

    with pytest.raises(ConfigError, match="acme.level"):
        load_plugins(build_config({}, environ={}), entry_points=False, extra=[("picky", Picky())])



