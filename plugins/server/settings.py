"""The ``[server]`` section of the configuration, validated once.

``secret_key`` signs session cookies; give it as ``"env:NAME"``. Without one, a random
key is made once and kept in ``<data_dir>/server-secret`` (readable by its owner only),
so sessions survive a restart of a single-machine deployment.
"""

from __future__ import annotations

import os
import secrets
import time
from pathlib import Path
from typing import Any

from attrs import frozen

from tocsin.config import Config, parse_duration
from tocsin.errors import ConfigError

LANGUAGES = ("fr", "en")


@frozen
class ServerSettings:
    host: str = "127.0.0.1"
    port: int = 8000
    secret_key: str = ""
    session_seconds: int = 12 * 3600
    cookie_secure: bool = False
    login_max_failures: int = 5
    login_window_seconds: int = 900
    default_language: str = "fr"
    webhook_max_tries: int = 8
    webhook_timeout: float = 10.0
    page_size: int = 50


_KNOWN = {
    "host", "port", "secret_key", "session_lifetime", "cookie_secure", "login_max_failures",
    "login_window", "default_language", "webhook_max_tries", "webhook_timeout", "page_size",
}


def _int(raw: dict[str, Any], key: str, default: int, minimum: int = 1) -> int:
    value = raw.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).isdigit():
        raise ConfigError(f"server.{key}: expected a whole number, got {value!r}")
    if int(value) < minimum:
        raise ConfigError(f"server.{key}: must be at least {minimum}, got {value!r}")
    return int(value)


def _secret(config: Config, given: str) -> str:
    if given:
        if len(given) < 16:
            raise ConfigError("server.secret_key: too short, use at least 16 characters")
        return given
    path = Path(config.core.data_dir) / "server-secret"
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first: use theirs
        time.sleep(0.1)
        return path.read_text().strip()
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key


def check_section(config: Config) -> dict[str, Any]:
    """The ``[server]`` keys, refusing unknown ones (no secret is made here)."""
    raw = dict(config.section("server"))
    if unknown := set(raw) - _KNOWN:
        raise ConfigError(f"server: unknown key(s) {sorted(unknown)}; known: {sorted(_KNOWN)}")
    language = str(raw.get("default_language", "fr"))
    if language not in LANGUAGES:
        raise ConfigError(f"server.default_language: {language!r} is not one of {LANGUAGES}")
    return raw


def server_settings(config: Config) -> ServerSettings:
    """The validated ``[server]`` settings (see the module documentation)."""
    raw = check_section(config)
    lifetime = parse_duration(raw.get("session_lifetime", "12h"), key="server.session_lifetime")
    window = parse_duration(raw.get("login_window", "15m"), key="server.login_window")
    secure = raw.get("cookie_secure", False)
    if not isinstance(secure, bool):
        raise ConfigError(f"server.cookie_secure: expected true or false, got {secure!r}")
    timeout = raw.get("webhook_timeout", 10.0)
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
        raise ConfigError(f"server.webhook_timeout: expected seconds > 0, got {timeout!r}")
    return ServerSettings(
        host=str(raw.get("host", "127.0.0.1")),
        port=_int(raw, "port", 8000, 0),
        secret_key=_secret(config, str(raw.get("secret_key", ""))),
        session_seconds=int(lifetime.total_seconds()),
        cookie_secure=secure,
        login_max_failures=_int(raw, "login_max_failures", 5),
        login_window_seconds=int(window.total_seconds()),
        default_language=str(raw.get("default_language", "fr")),
        webhook_max_tries=_int(raw, "webhook_max_tries", 8),
        webhook_timeout=float(timeout),
        page_size=_int(raw, "page_size", 50),
    )
