"""The conformance kit's state machines on the smtp channel (demo server, real reports)."""

from __future__ import annotations

from tocsin.plugins.smtp.harness import harnesses
from tocsin.testing import run_channel_conformance


def test_smtp_channel_passes_the_conformance_kit():
    [harness] = harnesses()
    run_channel_conformance(harness)
