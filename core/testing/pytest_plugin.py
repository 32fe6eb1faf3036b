"""The pytest plugin of the conformance kit, registered through the ``pytest11`` entry
point so that a plugin author's test suite gets these fixtures by installing Tocsin."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from tocsin.clock import FakeClock
from tocsin.store import Store
from tocsin.testing.harness import ConformanceHarness, collect_harnesses


@pytest.fixture
def tocsin_clock() -> FakeClock:
    """A clock that only moves when the test moves it."""
    return FakeClock()


@pytest.fixture
def tocsin_store(tmp_path: Path) -> Iterator[Store]:
    """A migrated store on a fresh SQLite database in the test's temporary folder."""
    store = Store.open(f"sqlite:///{tmp_path / 'tocsin-test.db'}", upgrade=True)
    yield store
    store.close()


@pytest.fixture(scope="session")
def tocsin_harnesses() -> dict[str, ConformanceHarness]:
    """Every conformance harness the installed plugins offer, by channel type."""
    from tocsin.plugin_manager import load_plugins

    harnesses: dict[str, ConformanceHarness] = collect_harnesses(load_plugins())
    return harnesses


try:  # the async fixture needs pytest-asyncio (the ``test`` extra); the others do not
    import pytest_asyncio
except ImportError:  # pragma: no cover - depends on what is installed
    pytest_asyncio = None  # type: ignore[assignment]


async def _virtual_modem() -> AsyncIterator[Any]:
    """A started virtual GSM modem (:class:`tocsin.hal.virtual_modem.VirtualModem`, a
    hundred times faster than real hardware) on a pseudo-terminal: open
    ``modem.device`` with pyserial as you would a USB modem. Unplugged afterwards."""
    from tocsin.hal.virtual_modem import virtual_modems

    async with virtual_modems(1) as (modem,):
        yield modem


if pytest_asyncio is not None:
    tocsin_virtual_modem = pytest_asyncio.fixture(_virtual_modem, name="tocsin_virtual_modem")
