"""The garbage collector's threshold while engines run: raised, never lowered, put back
by the last engine to stop; ``gc_threshold = 0`` and bad values."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from typing import Any

import pytest

from tocsin.config import build_config
from tocsin.engine import collector
from tocsin.engine.settings import engine_settings
from tocsin.errors import ConfigError


@pytest.fixture(autouse=True)
def thresholds() -> Iterator[tuple[int, int, int]]:
    before = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    yield gc.get_threshold()
    gc.set_threshold(*before)


def test_the_threshold_is_raised_while_held_and_put_back_by_the_last_release() -> None:
    assert collector.hold(20_000) and collector.hold(5_000)
    assert gc.get_threshold() == (20_000, 10, 10)
    collector.release()
    assert gc.get_threshold() == (20_000, 10, 10)  # one engine still runs
    collector.release()
    assert gc.get_threshold() == (700, 10, 10)
    collector.release()  # one release too many changes nothing
    assert gc.get_threshold() == (700, 10, 10)


def test_a_higher_threshold_of_the_host_is_kept_and_zero_leaves_the_collector_alone() -> None:
    gc.set_threshold(100_000, 20, 20)
    assert collector.hold(20_000)
    assert gc.get_threshold() == (100_000, 20, 20)
    collector.release()
    assert gc.get_threshold() == (100_000, 20, 20)
    assert collector.hold(0) is False
    assert gc.get_threshold() == (100_000, 20, 20)


async def test_a_running_engine_holds_its_configured_threshold(make_app: Any) -> None:
    app = await make_app(engine={"gc_threshold": 12_345})
    assert gc.get_threshold()[0] == 12_345
    await app.stop()
    assert gc.get_threshold() == (700, 10, 10)


@pytest.mark.parametrize("bad", [-1, 1.5, "many", True])
def test_a_bad_gc_threshold_is_refused_with_its_name(bad: object) -> None:
    config = build_config({"engine": {"gc_threshold": bad}})
    with pytest.raises(ConfigError, match="engine.gc_threshold"):
        engine_settings(config)
