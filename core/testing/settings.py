"""How hard the conformance kit's state machines run, derived from the hypothesis profile.

Each example of a channel machine starts the channel's real components, so the kit runs
a fraction of the profile's examples: with the ``ci`` profile (100 examples, the default
of Tocsin's suite) the kit runs 10 examples of 12 steps; with ``long``
(``HYPOTHESIS_PROFILE=long``, 2000 examples) it runs 200 examples of 40 steps.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, settings


def kit_settings(**overrides: Any) -> settings:
    """Settings for a kit state machine under the current hypothesis profile."""
    base = settings.default
    assert base is not None
    thorough = base.max_examples > 100
    values: dict[str, Any] = {
        "max_examples": max(5, base.max_examples // 10),
        "stateful_step_count": 40 if thorough else 12,
        "deadline": None,
        "suppress_health_check": [*base.suppress_health_check, HealthCheck.too_slow],
        # One failure, shrunk, reads better than a group of the same bug met twice.
        "report_multiple_bugs": False,
    }
    values.update(overrides)
    return settings(base, **values)


__all__ = ["kit_settings"]
