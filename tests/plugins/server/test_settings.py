"""The ``[server]`` section: validated, and a signing key made once when none is given."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from tocsin.config import build_config
from tocsin.errors import ConfigError
from tocsin.plugins.server.settings import server_settings


def test_without_a_secret_key_one_is_made_once_and_kept_private(tmp_path: Path) -> None:
    config = build_config({"tocsin": {"data_dir": str(tmp_path)}})
    first = server_settings(config).secret_key
    assert len(first) >= 32
    assert server_settings(config).secret_key == first
    mode = (tmp_path / "server-secret").stat().st_mode
    assert stat.S_IMODE(mode) == 0o600


@pytest.mark.parametrize(("section", "message"), [
    ({"colour": "red"}, "unknown key"),
    ({"secret_key": "short"}, "too short"),
    ({"port": "eighty"}, "server.port"),
    ({"default_language": "de"}, "server.default_language"),
    ({"session_lifetime": "forever"}, "server.session_lifetime"),
    ({"cookie_secure": "yes"}, "server.cookie_secure"),
    ({"webhook_timeout": 0}, "server.webhook_timeout"),
])
def test_a_bad_server_section_is_refused_naming_the_key(tmp_path: Path, section: dict[str, object],
                                                        message: str) -> None:
    config = build_config({"tocsin": {"data_dir": str(tmp_path)}, "server": section})
    with pytest.raises(ConfigError, match=message):
        server_settings(config)
