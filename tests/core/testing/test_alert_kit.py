"""The alert conformance machine runs the real engine through time and finds no
breach of the rules."""

from __future__ import annotations

from tocsin.testing.alert_kit import run_alert_conformance


def test_the_engine_honours_the_reminder_recontact_and_outcome_rules_through_time() -> None:
    run_alert_conformance()
