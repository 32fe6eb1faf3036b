"""``tocsin report`` and ``tocsin export`` through the real command line (click), on a
SQLite database named by a configuration file."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from click.testing import CliRunner
from reports_dataset import BASE, SAlert, SAttempt, Scenario, SContact, write
from sqlalchemy import select

from tocsin.cli import cli
from tocsin.store import Store
from tocsin.store.schema import contact_means


@pytest.fixture
def config(tmp_path: Path) -> Path:
    db = tmp_path / "tocsin.db"
    path = tmp_path / "tocsin.toml"
    path.write_text(f'[tocsin]\ndatabase = "sqlite:///{db}"\ntimezone = "Europe/Paris"\n'
                    'locale = "fr_FR"\n')
    store = Store.open(f"sqlite:///{db}", upgrade=True)
    # an hour ago, but never before midnight in Paris: the exports' "today" is Paris's
    now = dt.datetime.now(dt.UTC)
    midnight = now.astimezone(ZoneInfo("Europe/Paris")).replace(hour=0, minute=0, second=0, microsecond=0)
    start = max(now - dt.timedelta(hours=1), midnight.astimezone(dt.UTC) + dt.timedelta(seconds=1))
    people = [SContact("Anne", "Martin", "anne@example.org", "+33612345678", None, (False,) * 3),
              SContact("Bruno", "Petit", None, None, "+33145678901", (True,) * 3)]
    alert = SAlert("Coupure d'eau", "sending", start, False, [(0, ""), (1, "sms")], [
        SAttempt(0, "sms", "received", True, "", "initial", start, start, start + dt.timedelta(minutes=2)),
        SAttempt(1, "call", "busy", False, "", "initial", start, start, start + dt.timedelta(minutes=1)),
    ])
    written = write(store, Scenario(people, [alert]))
    store.close()
    (path.parent / "alert_id").write_text(str(written.alert_ids[0]))
    return path


def run(config: Path, *args: str) -> str:
    alert = (config.parent / "alert_id").read_text()
    args = tuple(a.replace("alert_id=1", f"alert_id={alert}") for a in args)
    result = CliRunner().invoke(cli, ["--config", str(config), *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_report_lists_reports_and_prints_an_overview_as_json(config: Path) -> None:
    listing = run(config, "report")
    for name in ("overview", "citizens", "statistics", "log", "verification"):
        assert name in listing
    data = json.loads(run(config, "report", "overview", "alert_id=1", "--json"))
    assert data["total"]["outcome"]["contacted"] == 1
    assert data["total"]["outcome"]["not_contacted"] == 1
    page = json.loads(run(config, "report", "citizens", "alert_id=1", "outcome=contacted", "--json"))
    assert page["total"] == 1 and [c["last_name"] for c in page["items"]] == ["Martin"]
    assert "total: 2" in run(config, "report", "citizens", "alert_id=1")


def test_report_refuses_bad_parameters_with_a_clear_message(config: Path) -> None:
    result = CliRunner().invoke(cli, ["--config", str(config), "report", "overview", "alert_id=x"])
    assert result.exit_code != 0 and "parameter alert_id: 'x' is not a valid int" in result.output
    result = CliRunner().invoke(cli, ["--config", str(config), "report", "nope"])
    assert result.exit_code != 0 and "no report named 'nope'" in result.output
    result = CliRunner().invoke(cli, ["--config", str(config), "export", "log", "pdf"])
    assert result.exit_code != 0 and "cannot write the 'log' report" in result.output


def test_export_writes_statistics_xlsx_and_log_csv_under_their_usual_names(
    config: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    run(config, "export", "statistics", "xlsx", "alert_id=1")
    ws = openpyxl.load_workbook(tmp_path / "statisticsAlert.xlsx").worksheets[0]
    assert [[c.value for c in row] for row in ws.iter_rows()] == [
        ["First name", "Last name", "E-mail", "Phone", "Reached"],
        ["Anne", "Martin", "anne@example.org", "+33612345678", "reached"],
        ["Bruno", "Petit", None, "+33145678901", "not reached"],
    ]
    out = tmp_path / "log.csv"
    run(config, "export", "log", "csv", "period=today", "-o", str(out))
    rows = list(csv.reader(io.StringIO(out.read_text("utf-8-sig"))))
    assert rows[0][:3] == ["Type", "Status", "Date sent"] and len(rows) == 3
    assert {r[0] for r in rows[1:]} == {"sms", "call"}
    run(config, "export", "overview", "pdf", "alert_id=1", "-o", str(tmp_path / "o.pdf"))
    assert (tmp_path / "o.pdf").read_bytes().startswith(b"%PDF")
    assert BASE.tzinfo is dt.UTC


def test_verification_confirm_marks_the_address_verified(config: Path) -> None:
    from tocsin.plugins.reports import verify

    store = Store.open(_db_url(config))
    try:
        with store.engine.connect() as conn:
            mid = conn.execute(select(contact_means.c.id)
                               .where(contact_means.c.value == "anne@example.org")).scalar_one()
        challenge = verify.issue(store, mid, now=dt.datetime.now(dt.UTC))
    finally:
        store.close()
    result = CliRunner().invoke(cli, ["--config", str(config), "verification", "confirm",
                                      "anne@example.org", "000000" if challenge.code != "000000" else "1"])
    assert result.exit_code != 0 and "wrong code" in result.output
    assert "anne@example.org verified" in run(config, "verification", "confirm", "anne@example.org",
                                              challenge.code)
    rows = json.loads(run(config, "report", "verification", "--json"))["rows"]
    assert "anne@example.org" not in {r[4] for r in rows}


def _db_url(config: Path) -> str:
    return config.read_text().split('"')[1]
