"""The three source folders form one import namespace, in editable and regular installs."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

import tocsin
import tocsin.hal
import tocsin.plugins

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = {"tocsin": ROOT / "core", "tocsin.hal": ROOT / "hal", "tocsin.plugins": ROOT / "plugins"}


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def _packages_on_disk() -> set[str]:
    found = set()
    for prefix, folder in FOLDERS.items():
        for init in folder.rglob("__init__.py"):
            rel = init.parent.relative_to(folder)
            if any(part.startswith(".") or part == "__pycache__" for part in rel.parts):
                continue
            found.add(".".join([prefix, *rel.parts]))
    return found


def test_every_package_on_disk_is_listed_in_pyproject() -> None:
    listed = set(_pyproject()["tool"]["setuptools"]["packages"])
    missing = _packages_on_disk() - listed
    assert not missing, f"add these packages to [tool.setuptools] packages: {sorted(missing)}"
    assert not listed - _packages_on_disk(), "pyproject lists packages that do not exist"


def test_top_level_holds_only_the_agreed_entries() -> None:
    allowed = {
        "pyproject.toml", "core", "plugins", "hal", "contrib", "tests", "docs", "README.md",
        "Makefile", ".ci", "benchmarks", ".gitignore", ".git",
    }
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    top = {p.split("/")[0] for p in tracked}
    assert top <= allowed, f"unexpected top-level entries: {sorted(top - allowed)}"


def test_editable_install_maps_each_folder_to_its_package() -> None:
    assert Path(tocsin.__file__).parent == FOLDERS["tocsin"]
    assert Path(tocsin.hal.__file__).parent == FOLDERS["tocsin.hal"]
    assert Path(tocsin.plugins.__file__).parent == FOLDERS["tocsin.plugins"]


@pytest.mark.slow
def test_regular_install_from_a_wheel_imports_the_same_namespace(tmp_path: Path) -> None:
    wheel_dir = tmp_path / "wheel"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(wheel_dir), str(ROOT)],
        check=True, capture_output=True,
    )
    (wheel,) = wheel_dir.glob("tocsin-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    for needed in ("tocsin/__init__.py", "tocsin/hal/__init__.py", "tocsin/plugins/__init__.py",
                   "tocsin/store/migrations/env.py", "tocsin/store/migrations/script.py.mako",
                   "tocsin/py.typed"):
        assert needed in names, f"{needed} missing from the wheel"
    assert not [n for n in names if n.startswith(("core/", "hal/", "plugins/"))]
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
        check=True, capture_output=True,
    )
    probe = (
        "import tocsin, tocsin.hal, tocsin.plugins, tocsin.store.migrations, importlib.metadata as m;"
        "print(tocsin.__file__); print(tocsin.hal.__file__); print(tocsin.plugins.__file__);"
        "print(sorted(e.name for e in m.entry_points(group='tocsin')))"
    )
    env = {**os.environ, "PYTHONPATH": str(target)}
    out = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True, cwd=tmp_path
    ).stdout.splitlines()
    assert all(line.startswith(str(target)) for line in out[:3]), out
    assert "core-statuses" in out[3]
