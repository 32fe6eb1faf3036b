"""``tocsin.testing``: the conformance kit and fixtures for plugin authors' test suites.

- :func:`run_channel_conformance` drives a channel, through the harness its plugin
  offers (``tocsin_conformance_harnesses``), against its status machine and the
  reached policy;
- :func:`run_alert_conformance` drives an alert through time on the real engine;
- the pytest plugin (entry point ``pytest11``) gives fixtures: ``tocsin_clock``,
  ``tocsin_store``, ``tocsin_harnesses``, ``tocsin_virtual_modem``;
- :mod:`tocsin.testing.strategies` draws status machines, legal paths and provider
  streams for property tests of a machine.

The harness classes import nothing but attrs; the machines need hypothesis (the
``test`` extra).
"""

from __future__ import annotations

from typing import Any

from tocsin.testing.harness import ChannelUnderTest, ConformanceHarness, Scenario, collect_harnesses

__all__ = [
    "AlertConformance",
    "ChannelConformance",
    "ChannelUnderTest",
    "ConformanceHarness",
    "Scenario",
    "alert_conformance",
    "channel_conformance",
    "collect_harnesses",
    "kit_settings",
    "run_alert_conformance",
    "run_channel_conformance",
]


def __getattr__(name: str) -> Any:
    """The state machines load hypothesis only when asked for."""
    if name in ("channel_conformance", "run_channel_conformance", "ChannelConformance"):
        from tocsin.testing import channel_kit

        return getattr(channel_kit, name)
    if name in ("run_alert_conformance", "alert_conformance", "AlertConformance"):
        from tocsin.testing import alert_kit

        return getattr(alert_kit, name)
    if name == "kit_settings":
        from tocsin.testing.settings import kit_settings

        return kit_settings
    raise AttributeError(f"module 'tocsin.testing' has no attribute {name!r}")
