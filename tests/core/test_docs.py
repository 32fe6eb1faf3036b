"""Every hook, with every parameter, is documented in docs/plugin-authors.md (as
Datasette's suite checks its plugin hooks), and the guide names no hook that is gone."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tocsin.plugin_manager import new_manager

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "plugin-authors.md"
SIGNATURE = re.compile(r"`(tocsin_\w+)\(([^)]*)\)`")


def _specs() -> dict[str, tuple[str, ...]]:
    pm = new_manager()
    specs = {}
    for name in dir(pm.hook):
        caller = getattr(pm.hook, name)
        if name.startswith("tocsin_") and caller.spec is not None:
            specs[name] = tuple(caller.spec.argnames)
    return specs


def _documented() -> dict[str, set[tuple[str, ...]]]:
    found: dict[str, set[tuple[str, ...]]] = {}
    for name, args in SIGNATURE.findall(GUIDE.read_text(encoding="utf-8")):
        params = tuple(a.strip() for a in args.split(",") if a.strip())
        found.setdefault(name, set()).add(params)
    return found


SPECS = _specs()


@pytest.mark.parametrize("hook", sorted(SPECS))
def test_every_hook_is_documented_with_all_its_parameters(hook: str) -> None:
    documented = _documented()
    assert hook in documented, f"{hook} is missing from {GUIDE.name}; add `{hook}(...)` with its parameters"
    assert SPECS[hook] in documented[hook], (
        f"{hook} is documented as {sorted(documented[hook])} but takes {SPECS[hook]}: "
        f"write `{hook}({', '.join(SPECS[hook])})` in {GUIDE.name}"
    )


def test_the_guide_documents_no_hook_that_does_not_exist() -> None:
    stale = sorted(set(_documented()) - set(SPECS))
    assert not stale, f"{GUIDE.name} documents hooks that no longer exist: {stale}"


def test_the_spec_walk_sees_the_hooks() -> None:
    assert {"tocsin_register_channels", "tocsin_server_routes", "tocsin_conformance_harnesses"} <= set(SPECS)
    assert SPECS["tocsin_inbound_message"] == ("runtime", "message")
