"""Harnesses are collected through the hook, one per channel type; the kit's settings
follow the hypothesis profile; the pytest plugin gives its fixtures to any suite."""

from __future__ import annotations

import asyncio
import contextlib
import importlib.metadata
from collections.abc import AsyncIterator
from typing import Any

import pytest
from hypothesis import settings

from tocsin.clock import FakeClock
from tocsin.errors import PluginError
from tocsin.hookspecs import hookimpl
from tocsin.plugin_manager import load_plugins
from tocsin.store import Store
from tocsin.testing import ChannelUnderTest, ConformanceHarness, Scenario, collect_harnesses, kit_settings


@contextlib.asynccontextmanager
async def _nothing() -> AsyncIterator[ChannelUnderTest]:
    raise AssertionError("never entered in these tests")
    yield


class Offers:
    def __init__(self, *harnesses: object) -> None:
        self.harnesses = list(harnesses)

    @hookimpl
    def tocsin_conformance_harnesses(self) -> list[object]:
        return self.harnesses


def test_harnesses_are_collected_by_channel_type() -> None:
    pm = load_plugins(entry_points=False, extra=[("acme", Offers(ConformanceHarness("acme-push", _nothing)))])
    assert list(collect_harnesses(pm)) == ["acme-push"]


def test_two_harnesses_for_one_channel_type_are_refused_naming_both_plugins() -> None:
    pm = load_plugins(
        entry_points=False,
        extra=[
            ("one", Offers(ConformanceHarness("acme-push", _nothing))),
            ("two", Offers(ConformanceHarness("acme-push", _nothing))),
        ],
    )
    with pytest.raises(PluginError, match=r"'acme-push' has a harness from plugin '(one|two)' and from"):
        collect_harnesses(pm)


def test_a_hook_returning_something_else_is_refused_by_name() -> None:
    pm = load_plugins(entry_points=False, extra=[("odd", Offers("acme-push"))])
    with pytest.raises(PluginError, match="plugin 'odd' returned 'acme-push'"):
        collect_harnesses(pm)


def test_a_channel_under_test_needs_a_scenario() -> None:
    with pytest.raises(ValueError, match="at least one Scenario"):
        ChannelUnderTest(channel=object(), scenarios=())  # type: ignore[arg-type]
    assert Scenario("+33612345678", ["received"]).outcomes == frozenset({"received"})


def test_the_kit_runs_a_tenth_of_the_profile_with_short_runs_in_ci_and_long_ones_in_long() -> None:
    assert settings.default is not None
    ci = settings.get_profile("ci")
    long = settings.get_profile("long")
    with settings_profile(ci):
        assert (kit_settings().max_examples, kit_settings().stateful_step_count) == (10, 12)
    with settings_profile(long):
        assert (kit_settings().max_examples, kit_settings().stateful_step_count) == (200, 40)
    assert kit_settings(max_examples=3).max_examples == 3


@contextlib.contextmanager
def settings_profile(profile: settings):  # type: ignore[no-untyped-def]
    previous = settings.default
    settings.register_profile("_kit_probe", profile)
    settings.load_profile("_kit_probe")
    try:
        yield
    finally:
        settings.register_profile("_kit_restore", previous)
        settings.load_profile("_kit_restore")


def test_the_pytest_plugin_is_registered_through_the_pytest11_entry_point() -> None:
    found = [ep for ep in importlib.metadata.entry_points(group="pytest11") if ep.name == "tocsin"]
    assert [ep.value for ep in found] == ["tocsin.testing.pytest_plugin"]


def test_the_pytest_plugin_fixtures_come_with_the_entry_point(
    tocsin_clock: FakeClock, tocsin_store: Store, tocsin_harnesses: dict[str, ConformanceHarness]
) -> None:
    # No conftest defines these: pytest found them through the entry point, as it will
    # in a third party's suite.
    before = tocsin_clock.now()
    tocsin_clock.advance(minutes=30)
    assert (tocsin_clock.now() - before).total_seconds() == 1800
    assert tocsin_store.current_revision() is not None
    assert all(isinstance(h, ConformanceHarness) for h in tocsin_harnesses.values())
    assert "smtp" in tocsin_harnesses


async def test_the_virtual_modem_fixture_answers_at_commands_over_real_pyserial(
    tocsin_virtual_modem: Any,
) -> None:
    import serial

    def talk() -> bytes:
        with serial.Serial(tocsin_virtual_modem.device, 115200, timeout=5) as port:
            port.write(b"ATE0\r")
            port.read_until(b"OK\r\n")
            port.write(b"AT+CGMI\r")
            return bytes(port.read_until(b"OK\r\n"))

    answer = await asyncio.to_thread(talk)
    assert answer.endswith(b"OK\r\n")
    assert b"SIMCOM" in answer, answer  # the default dialect's manufacturer
