"""The conformance kit runs on every channel type registered through the entry points,
so a new built-in channel is checked without anyone remembering to add it here.

A channel type whose plugin offers no harness (``tocsin_conformance_harnesses``) fails
this test. ``AWAITING_HARNESS`` lists the channel types whose harness is being written
in an open issue; they are strict expected failures, so the entry must be removed as
soon as the harness lands (the test then passes for real, and XPASS fails the suite).
"""

from __future__ import annotations

import pytest

from tocsin.plugin_manager import load_plugins
from tocsin.registry import build_registry
from tocsin.testing import collect_harnesses, run_channel_conformance

AWAITING_HARNESS: dict[str, str] = {}

PM = load_plugins()
REGISTRY = build_registry(PM)
HARNESSES = collect_harnesses(PM)


def _params() -> list[object]:
    params: list[object] = []
    for name in sorted(REGISTRY.channel_types):
        marks = []
        if name in AWAITING_HARNESS and name not in HARNESSES:
            marks.append(pytest.mark.xfail(reason=AWAITING_HARNESS[name], strict=True))
        params.append(pytest.param(name, marks=marks, id=name))
    return params


@pytest.mark.parametrize("channel_type", _params())
def test_every_registered_channel_type_honours_the_contract(channel_type: str) -> None:
    entry = REGISTRY.channel_types[channel_type]
    harness = HARNESSES.get(channel_type)
    assert harness is not None, (
        f"channel type {channel_type!r} (plugin {entry.plugin!r}) offers no conformance harness: "
        "implement tocsin_conformance_harnesses in the plugin (see docs/plugin-authors.md, "
        "'Run the conformance kit')"
    )
    run_channel_conformance(harness)


def test_every_harness_covers_a_registered_channel_type() -> None:
    assert set(HARNESSES) <= set(REGISTRY.channel_types), (
        f"harnesses for unregistered channel types: {sorted(set(HARNESSES) - set(REGISTRY.channel_types))}"
    )


def test_the_awaiting_list_names_only_channel_types_still_without_a_harness() -> None:
    stale = sorted(n for n in AWAITING_HARNESS if n in HARNESSES)
    assert not stale, f"remove {stale} from AWAITING_HARNESS: their harness has landed"
