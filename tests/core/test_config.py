"""Configuration: one TOML file, secrets from the environment, masked for display."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from tocsin.config import MASK, build_config, effective, load_config, masked, parse_duration
from tocsin.errors import ConfigError


def test_defaults_need_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TOCSIN_CONFIG", raising=False)
    config = load_config()
    assert config.path is None
    assert config.core.database_url == f"sqlite:///{tmp_path / 'tocsin-data' / 'tocsin.db'}"
    assert config.reminders == (dt.timedelta(minutes=30), dt.timedelta(hours=1))


def test_file_from_environment_with_relative_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "conf" / "tocsin.toml"
    path.parent.mkdir()
    path.write_text('[tocsin]\ndata_dir = "data"\ntimezone = "Europe/Paris"\n[reminders]\noffsets = ["10m", 3600]\n')
    monkeypatch.setenv("TOCSIN_CONFIG", str(path))
    config = load_config()
    assert config.core.data_dir == path.parent / "data"
    assert config.core.zone.key == "Europe/Paris"
    assert config.reminders == (dt.timedelta(minutes=10), dt.timedelta(hours=1))


def test_secrets_come_from_the_environment_and_are_masked() -> None:
    env = {"SMTP_PASS": "hunter2", "TOCSIN__CHANNELS__MAIL__USERNAME": "alerts"}
    config = build_config(
        {
            "tocsin": {"database": "postgresql://tocsin:s3cret@db/tocsin"},
            "channels": {"mail": {"type": "smtp", "host": "mx", "password": "env:SMTP_PASS"}},
        },
        environ=env,
    )
    assert config.channels["mail"]["password"] == "hunter2"
    assert config.channels["mail"]["username"] == "alerts"
    shown = masked(effective(config))
    assert shown["channels"]["mail"]["password"] == MASK
    assert shown["tocsin"]["database"] == f"postgresql://tocsin:{MASK}@db/tocsin"
    assert "hunter2" not in repr(shown) and "s3cret" not in repr(shown)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"tocsin": {"colour": "red"}}, "tocsin: unknown key"),
        ({"tocsin": {"default_region": "XX"}}, "default_region: 'XX'"),
        ({"tocsin": {"timezone": "Mars/Olympus"}}, "tocsin.timezone"),
        ({"reminders": {"offsets": ["1h", "30m"]}}, "increasing order"),
        ({"reminders": {"offsets": ["soon"]}}, "'soon' is not a duration"),
        ({"reached": {"count_voicemail": "yes"}}, "reached.count_voicemail"),
        ({"channels": {"mail": {"host": "x"}}}, "channels.mail: a channel section needs a 'type'"),
        ({"channels": {"mail": {"type": "smtp", "password": "env:NOPE_NOT_SET"}}}, "NOPE_NOT_SET"),
    ],
)
def test_bad_configuration_names_the_key(data: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        build_config(data, environ={})


def test_unreadable_files_are_refused_clearly(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[tocsin\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(bad)


def test_durations() -> None:
    assert parse_duration("1h30m", key="k") == dt.timedelta(minutes=90)
    assert parse_duration("45s", key="k") == dt.timedelta(seconds=45)
    assert parse_duration(2.5, key="k") == dt.timedelta(seconds=2.5)
