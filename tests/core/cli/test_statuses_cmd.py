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


FAX_PLUGIN = '''
from tocsin import hookimpl
from tocsin.status import StatusMachine

FAX = StatusMachine(
    means="fax",
    states=("queued", "dialing", "transmitted", "busy", "failed"),
    initial="queued",
    transitions={"queued": {"dialing", "failed"}, "dialing": {"transmitted", "busy", "failed"}},
    terminal={"transmitted", "busy", "failed"},
    reached={"transmitted"},
    address_kinds=("phone",),
    description="A fax.",
)

@hookimpl
def tocsin_register_status_machines():
    return [FAX]
'''


def test_a_machine_a_plugin_registers_is_printed_like_the_builtins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "acme_fax_plugin.py").write_text(FAX_PLUGIN)
    monkeypatch.syspath_prepend(str(tmp_path))
    config = tmp_path / "fax.toml"
    config.write_text(
        f'[tocsin]\ndatabase = "sqlite:///{tmp_path / "f.db"}"\nplugins = ["acme_fax_plugin"]\n'
    )
    monkeypatch.setenv("TOCSIN_CONFIG", str(config))
    result = CliRunner().invoke(cli, ["statuses", "fax", "--json"])
    assert result.exit_code == 0, result.output
    [fax] = json.loads(result.output)
    assert fax["terminal"] == ["transmitted", "busy", "failed"]
    assert fax["counted_reached"] == ["transmitted"]
    listed = CliRunner().invoke(cli, ["statuses", "--json"])
    means = [m["means"] for m in json.loads(listed.output)]
    assert means == sorted(means) and {"call", "email", "fax", "sms"} <= set(means)
