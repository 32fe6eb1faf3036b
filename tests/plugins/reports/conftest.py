"""Fixtures of the report tests: a runtime over the ``store`` fixture (SQLite and
PostgreSQL) with the installed plugins, a clock and a time zone that is not UTC."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tocsin.clock import FakeClock
from tocsin.config import build_config
from tocsin.plugin_manager import load_plugins
from tocsin.registry import build_registry
from tocsin.runtime import Runtime
from tocsin.store import Store

sys.path.insert(0, str(Path(__file__).parent))  # reports_dataset, shared by these tests

from reports_dataset import BASE


def make_runtime(store: Store, *, timezone: str = "Europe/Paris", locale: str = "fr_FR") -> Runtime:
    config = build_config({"tocsin": {"timezone": timezone, "locale": locale}}, environ={})
    pm = load_plugins(config)
    return Runtime(config, pm, build_registry(pm), store, FakeClock(BASE))


@pytest.fixture
def runtime(store: Store) -> Runtime:
    return make_runtime(store)
