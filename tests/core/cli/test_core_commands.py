"""The core commands work as the README documents them: plugins, db, contacts, groups, config."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from tocsin.cli import cli

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "tocsin.toml"
    path.write_text(
        '[tocsin]\ndata_dir = "data"\ndefault_region = "FR"\n'
        '[channels.mail]\ntype = "smtp"\nhost = "127.0.0.1"\npassword = "env:TEST_SMTP_PASSWORD"\n'
    )
    return path


def run(config: Path, *args: str) -> str:
    result = CliRunner().invoke(
        cli, ["--config", str(config), *args], env={"TEST_SMTP_PASSWORD": "hunter2"}, catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    return result.output


def test_help_lists_core_and_plugin_commands(config_file: Path) -> None:
    out = run(config_file, "--help")
    for name in ("plugins", "db", "contacts", "groups", "config", "statuses"):
        assert name in out


def test_db_upgrade_creates_the_database_then_is_a_no_op(config_file: Path) -> None:
    first = run(config_file, "db", "upgrade")
    assert "upgraded from empty to" in first
    assert (config_file.parent / "data" / "tocsin.db").exists()
    assert "already at revision" in run(config_file, "db", "upgrade")


def test_contacts_import_then_groups(config_file: Path, tmp_path: Path) -> None:
    csv_path = tmp_path / "people.csv"
    csv_path.write_text("ref;Prénom;Nom;Portable\nr1;Léa;Martin;0612345678\nr2;Noé;Petit;0612345679\n")
    run(config_file, "groups", "create", "north")
    out = run(config_file, "contacts", "import", str(csv_path), "--group", "north")
    assert "imported 2 contact(s)" in out and "2 created" in out
    listed = run(config_file, "groups", "list")
    assert "north" in listed and "2" in listed
    shown = json.loads(run(config_file, "contacts", "show", "1"))
    assert shown["means"][0]["value"] == "+33612345678"
    assert "removed" in run(config_file, "groups", "remove", "north", "1")


def test_contacts_import_errors_exit_non_zero_and_name_cells(config_file: Path, tmp_path: Path) -> None:
    csv_path = tmp_path / "bad.csv"
    csv_path.write_text("email,mobile\nnot-mail,0612345678\nok@example.org,99\n")
    result = CliRunner().invoke(
        cli, ["--config", str(config_file), "contacts", "import", str(csv_path)],
        env={"TEST_SMTP_PASSWORD": "x"},
    )
    assert result.exit_code == 1
    assert "row 2, column 'email'" in result.output and "row 3, column 'mobile'" in result.output
    assert "nothing was imported" in result.output


def test_config_show_masks_secrets(config_file: Path) -> None:
    out = run(config_file, "config", "show")
    assert "hunter2" not in out and "********" in out
    assert 'default_region = "FR"' in out


def test_plugins_lists_distribution_version_and_hooks(config_file: Path) -> None:
    data = json.loads(run(config_file, "plugins", "--json"))
    core = next(p for p in data if p["name"] == "core-statuses")
    assert core["distribution"] == "tocsin" and core["version"]
    assert "tocsin_register_status_machines" in core["hooks"]


@pytest.mark.slow
def test_example_third_party_plugin_installs_and_loads(tmp_path: Path) -> None:
    """The contrib example is installed like any third-party package and found by entry point."""
    target = tmp_path / "site"
    source = tmp_path / "example"
    shutil.copytree(ROOT / "contrib" / "example-plugin", source)
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
         "--target", str(target), str(source)],
        check=True, capture_output=True,
    )
    env = {**os.environ, "PYTHONPATH": str(target), "TOCSIN_CONFIG": str(tmp_path / "none.toml")}
    (tmp_path / "none.toml").write_text("")
    tocsin = Path(sys.executable).parent / "tocsin"
    listed = subprocess.run([tocsin, "plugins", "--json"], env=env, capture_output=True, text=True, check=True)
    example = next(p for p in json.loads(listed.stdout) if p["name"] == "example-push")
    assert (example["distribution"], example["version"]) == ("tocsin-example", "1.0.0")
    statuses = subprocess.run([tocsin, "statuses", "push", "--json"], env=env, capture_output=True,
                              text=True, check=True)
    assert json.loads(statuses.stdout)[0]["means"] == "push"
    hello = subprocess.run([tocsin, "push-hello"], env=env, capture_output=True, text=True, check=True)
    assert hello.stdout.strip() == "hello from tocsin-example"
