"""The demo's data folder: fresh at each run, never someone else's, never shared."""

from __future__ import annotations

from pathlib import Path

import pytest

from tocsin.errors import ConfigError
from tocsin.plugins.demo.folder import MARKER, prepare, write_config


def test_a_new_folder_is_made_and_marked(tmp_path: Path) -> None:
    lock = prepare(tmp_path / "tocsin-data" / "demo")
    lock.close()
    assert [p.name for p in (tmp_path / "tocsin-data" / "demo").iterdir()] == [MARKER]


def test_what_an_earlier_run_left_is_removed(tmp_path: Path) -> None:
    folder = tmp_path / "demo"
    prepare(folder).close()
    (folder / "tocsin.db").write_text("old")
    (folder / "ports").mkdir()
    (folder / "ports" / "vmodem0").write_text("")
    prepare(folder).close()
    assert [p.name for p in folder.iterdir()] == [MARKER]


def test_a_folder_the_demo_did_not_make_is_refused_and_left_untouched(tmp_path: Path) -> None:
    (tmp_path / "precious.txt").write_text("keep me")
    with pytest.raises(ConfigError, match="was not made by `tocsin demo`"):
        prepare(tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["precious.txt"]


def test_a_file_in_place_of_the_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "demo").write_text("a file")
    with pytest.raises(ConfigError, match="is a file"):
        prepare(tmp_path / "demo")


def test_two_demos_never_share_a_folder(tmp_path: Path) -> None:
    folder = tmp_path / "demo"
    first = prepare(folder)
    (folder / "tocsin.db").write_text("in use")
    try:
        with pytest.raises(ConfigError, match="another `tocsin demo` is running"):
            prepare(folder)
        assert (folder / "tocsin.db").read_text() == "in use"
    finally:
        first.close()


def test_the_configuration_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    path = write_config(tmp_path, {"tocsin": {"default_region": "FR"}})
    assert path.stat().st_mode & 0o777 == 0o600
    assert 'default_region = "FR"' in path.read_text()
