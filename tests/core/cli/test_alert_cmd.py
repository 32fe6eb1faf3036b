"""``tocsin alert`` and ``tocsin engine run`` end to end, with console channels."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from tocsin.cli import cli
from tocsin.model import Contact, ContactMeans
from tocsin.runtime import Runtime

CONFIG = """
[tocsin]
data_dir = "data"
[channels.text]
type = "console"
means = "sms"
output = "sms.log"
[channels.mail]
type = "console"
means = "email"
output = "none"
[[channels.text.outcomes]]
match = "*9"
statuses = ["accepted", "sent", "undelivered"]
"""

ALERT = """
title = "Boil water notice"
reminders = ["30m"]
[[messages]]
means = "sms"
text = "Hello {{ first_name }}: boil water."
"""


@pytest.fixture
def site(tmp_path: Path) -> Path:
    (tmp_path / "tocsin.toml").write_text(CONFIG)
    (tmp_path / "alert.toml").write_text(ALERT)
    runtime = Runtime.open(str(tmp_path / "tocsin.toml"))
    ids = runtime.store.contacts.upsert(
        [Contact(first_name=f"P{i}", means=[ContactMeans("mobile", f"+3361234567{i}")]) for i in range(10)]
    ).ids
    runtime.store.groups.create("town")
    runtime.store.groups.add("town", ids)
    runtime.close()
    return tmp_path


def _invoke(site: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["--config", str(site / "tocsin.toml"), *args], catch_exceptions=False)
    return result.exit_code, result.output


def _json(site: Path, *args: str) -> dict[str, object]:
    result = CliRunner().invoke(cli, ["--config", str(site / "tocsin.toml"), *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    out = result.stdout
    return json.loads(out[out.index("{") :])  # type: ignore[no-any-return]


def test_alert_send_follows_the_alert_and_prints_its_outcome(site: Path) -> None:
    data: dict[str, object] = _json(
        site, "alert", "send", "--file", str(site / "alert.toml"), "--group", "town", "--json"
    )
    assert data["counts"] == {"contacted": 9, "in_progress": 0, "not_contacted": 1}
    assert data["statuses"] == {"sms": {"received": 9, "undelivered": 1}}
    assert [t["kind"] for t in data["open_timers"]] == ["reminder"]
    log = (site / "data" / "sms.log").read_text()
    assert log.count("boil water") == 10 and "Hello P3" in log


def test_alert_status_list_recontact_and_cancel(site: Path) -> None:
    assert (
        _invoke(site, "alert", "send", "--sms", "Hi {{ first_name }}", "--title", "T", "--group", "town")[0]
        == 0
    )
    status = _json(site, "alert", "status", "1", "--json")
    assert status["recontact_allowed"] is False and "reminders" in status["recontact_refusal"]
    code, out = _invoke(site, "alert", "recontact", "1", "--yes")
    assert code == 1 and "recontact of alert 1 refused" in out
    code, out = _invoke(site, "alert", "list")
    assert code == 0 and "sent" in out and "T" in out
    code, out = _invoke(site, "alert", "cancel", "1")
    assert code == 0 and "alert 1 cancelled; contacted 9 of 10" in out
    assert _json(site, "alert", "status", "1", "--json")["alert"]["state"] == "cancelled"  # type: ignore[index]


def test_bad_input_on_the_command_line_names_the_problem_and_writes_nothing(site: Path) -> None:
    code, out = _invoke(site, "alert", "send", "--title", "x", "--sms", "hi {{ nick }}", "--group", "town")
    assert code == 1 and "unknown field(s) nick" in out
    code, out = _invoke(site, "alert", "send", "--title", "x", "--sms", "hi", "--group", "nowhere")
    assert code == 1 and "no group named 'nowhere'" in out
    code, out = _invoke(site, "alert", "send", "--title", "x", "--group", "town")
    assert code == 1 and "no means" in out
    assert "No" not in _invoke(site, "alert", "list")[1] and _invoke(site, "alert", "status", "1")[0] == 1


def test_a_queued_alert_is_sent_by_engine_run(site: Path) -> None:
    code, out = _invoke(site, "alert", "send", "--title", "T", "--sms", "Hi", "--group", "town", "--no-wait")
    assert code == 0 and "queued" in out
    assert not (site / "data" / "sms.log").exists()
    code, out = _invoke(site, "engine", "run", "--for", "3")
    assert code == 0
    status = _json(site, "alert", "status", "1", "--json")
    assert status["counts"]["contacted"] == 9  # type: ignore[index]
