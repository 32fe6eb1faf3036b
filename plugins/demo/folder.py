"""The demo's own data folder: made fresh for every run, and never someone else's.

A folder the demo made carries a marker file. A run empties such a folder (it holds only
what an earlier run left: the SQLite database, the configuration, the contacts file) and
holds a lock on the marker while it runs, so two demos never share a folder; a folder
without the marker that is not empty is refused and left untouched.
"""

from __future__ import annotations

import fcntl
import os
import shutil
from pathlib import Path
from typing import IO, Any

import tomli_w

from tocsin.errors import ConfigError

MARKER = ".tocsin-demo"
CONFIG_NAME = "tocsin.toml"


def prepare(folder: Path) -> IO[str]:
    """Empty (or create) ``folder`` for a new run; returns the locked marker, to keep
    open while the demo runs. Raises :class:`ConfigError` naming the problem."""
    folder = folder.resolve()
    marker = folder / MARKER
    if folder.exists() and not folder.is_dir():
        raise ConfigError(f"{folder} is a file, not a folder; choose another --data-dir")
    if folder.exists() and any(folder.iterdir()) and not marker.exists():
        raise ConfigError(f"{folder} is not empty and was not made by `tocsin demo`; "
                          "choose another --data-dir (nothing was changed)")
    folder.mkdir(parents=True, exist_ok=True)
    handle = marker.open("a+", encoding="utf-8")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise ConfigError(f"another `tocsin demo` is running with {folder}; "
                          "stop it or choose another --data-dir") from None
    for entry in folder.iterdir():
        if entry.name == MARKER:
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()
    return handle


def write_config(folder: Path, data: dict[str, Any]) -> Path:
    """Write the run's configuration (readable by its owner only: it holds the demo's
    signing secret)."""
    path = folder / CONFIG_NAME
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(b"# Written by `tocsin demo` for this run; the modems' ports live while it runs.\n")
        tomli_w.dump(data, fh)
    return path
