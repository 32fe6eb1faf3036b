"""``tocsin statuses [MEANS]`` prints each registered machine as users know it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from tocsin.cli import cli


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    config = tmp_path / "tocsin.toml"
    config.write_text(
        f'[tocsin]\ndatabase = "sqlite:///{tmp_path / "t.db"}"\n\n[reached]\ncount_voicemail = true\n'
    )
    monkeypatch.setenv("TOCSIN_CONFIG", str(config))
    monkeypatch.setenv("COLUMNS", "200")
    return CliRunner()


def test_every_registered_machine_is_printed_with_the_names_users_know(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["statuses"])
    assert result.exit_code == 0, result.output
    for title in ("call:", "sms:", "email:"):
        assert title in result.output
    for label in ("no answer", "received (delivered)", "rebound (hard bounce)", "marked as spam"):
        assert label in result.output
    assert "accepted (first)" in result.output


def test_json_gives_transitions_terminal_states_and_what_the_policy_counts(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["statuses", "call", "--json"])
    assert result.exit_code == 0, result.output
    [call] = json.loads(result.output)
    assert call["means"] == "call"
    assert call["terminal"] == ["busy", "fax", "voicemail", "completed", "confirmed", "no answer", "failed"]
    states = {s["state"]: s for s in call["states"]}
    assert states["in progress"]["next"] == ["completed", "confirmed", "failed", "fax", "voicemail"]
    assert states["completed"]["refined_by"] == ["confirmed"]
    # count_voicemail = true in the configuration; never under confirmation.
    assert call["counted_reached"] == ["voicemail", "completed", "confirmed"]
    assert call["counted_reached_confirmation"] == ["confirmed"]


def test_an_unknown_means_is_refused_naming_the_registered_ones(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["statuses", "fax"])
    assert result.exit_code == 1
    assert "no status machine for means 'fax' (registered: call, email, sms)" in result.output
