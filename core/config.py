"""Configuration: one TOML file plus the environment for secrets.

The file is found from ``--config``, else ``$TOCSIN_CONFIG``, else ``./tocsin.toml`` when
it exists; with none, the embedded defaults apply (SQLite under ``./tocsin-data``).

Secrets never live in code and need not live in the file: a value written
``"env:NAME"`` is read from the environment variable ``NAME``, and any key can be
overridden by ``TOCSIN__<SECTION>__<KEY>`` (``TOCSIN__CHANNELS__MAIL__PASSWORD``).
:func:`masked` hides secrets for display.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from attrs import field, frozen

from tocsin.errors import ConfigError
from tocsin.reached import ReachedOptions

ENV_FILE = "TOCSIN_CONFIG"
ENV_PREFIX = "TOCSIN__"
SECRET_KEY = re.compile(r"(password|passwd|secret|token|pin|api_key|apikey|auth|private)", re.I)
MASK = "********"

DEFAULT_REMINDERS = (dt.timedelta(minutes=30), dt.timedelta(hours=1))
DEFAULT_BASE_URL = "http://127.0.0.1:8000"


def parse_duration(value: object, *, key: str) -> dt.timedelta:
    """``"30m"``, ``"1h"``, ``"90s"``, ``"1h30m"`` or a number of seconds."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return dt.timedelta(seconds=float(value))
    text = str(value).strip().lower()
    match = re.fullmatch(r"(?:(\d+)d)?\s*(?:(\d+)h)?\s*(?:(\d+)m(?:in)?)?\s*(?:(\d+)s)?", text)
    if not text or not match or not any(match.groups()):
        raise ConfigError(f"{key}: {value!r} is not a duration (use 30m, 1h, 90s or seconds)")
    d, h, m, s = (int(g or 0) for g in match.groups())
    return dt.timedelta(days=d, hours=h, minutes=m, seconds=s)


@frozen
class CoreSettings:
    """The ``[tocsin]`` section."""

    data_dir: Path = Path("tocsin-data")
    database: str = ""
    default_region: str = "FR"
    timezone: str = "UTC"
    locale: str = "en_GB"
    plugins: tuple[str, ...] = ()
    disable_plugins: tuple[str, ...] = ()
    base_url: str = DEFAULT_BASE_URL

    @property
    def database_url(self) -> str:
        return self.database or f"sqlite:///{self.data_dir / 'tocsin.db'}"

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@frozen
class Config:
    """The effective configuration: the core's sections parsed, the rest kept for plugins."""

    data: Mapping[str, Any] = field(factory=dict)
    path: Path | None = None
    core: CoreSettings = field(factory=CoreSettings)
    reminders: tuple[dt.timedelta, ...] = DEFAULT_REMINDERS
    reached: ReachedOptions = field(factory=ReachedOptions)

    def section(self, *names: str) -> Mapping[str, Any]:
        """The table at ``names`` (``section("channels", "mail")``), empty when absent."""
        node: Any = self.data
        for name in names:
            node = node.get(name, {}) if isinstance(node, Mapping) else {}
        return node if isinstance(node, Mapping) else {}

    @property
    def channels(self) -> Mapping[str, Mapping[str, Any]]:
        """``[channels.<name>]`` sections by instance name."""
        return {k: v for k, v in self.section("channels").items() if isinstance(v, Mapping)}

    def with_overrides(self, **core: Any) -> Config:
        """A copy with ``[tocsin]`` keys replaced (tests and host applications)."""
        data = {**self.data, "tocsin": {**self.section("tocsin"), **core}}
        return build_config(data, path=self.path)


def _resolve_secrets(node: Any, where: str, environ: Mapping[str, str]) -> Any:
    if isinstance(node, Mapping):
        return {
            k: _resolve_secrets(v, f"{where}.{k}" if where else k, environ) for k, v in node.items()
        }
    if isinstance(node, list):
        return [_resolve_secrets(v, where, environ) for v in node]
    if isinstance(node, str) and node.startswith("env:"):
        name = node[4:]
        if name not in environ:
            raise ConfigError(f"{where}: environment variable {name} is not set")
        return environ[name]
    return node


def _apply_env_overrides(data: dict[str, Any], environ: Mapping[str, str]) -> dict[str, Any]:
    for name, value in environ.items():
        if not name.startswith(ENV_PREFIX):
            continue
        keys = [k.lower() for k in name[len(ENV_PREFIX) :].split("__") if k]
        if not keys:
            continue
        node = data
        for key in keys[:-1]:
            node = node.setdefault(key, {})
            if not isinstance(node, dict):
                raise ConfigError(f"{name}: {'.'.join(keys)} overrides a value that is not a table")
        node[keys[-1]] = value
    return data


def _strings(value: Any, key: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{key}: expected a list of strings, got {value!r}")
    return tuple(value)


def build_config(data: Mapping[str, Any], *, path: Path | None = None,
                 environ: Mapping[str, str] | None = None) -> Config:
    """Validate ``data`` (a parsed TOML document) into a :class:`Config`."""
    env = os.environ if environ is None else environ
    raw = _apply_env_overrides(_deep_copy(data), env)
    resolved: dict[str, Any] = _resolve_secrets(raw, "", env)
    core_raw = dict(resolved.get("tocsin", {}))
    known = {a.name for a in CoreSettings.__attrs_attrs__}
    if unknown := set(core_raw) - known:
        raise ConfigError(f"tocsin: unknown key(s) {sorted(unknown)}; known: {sorted(known)}")
    base = path.parent if path else Path.cwd()
    data_dir = Path(str(core_raw.get("data_dir", "tocsin-data"))).expanduser()
    if not data_dir.is_absolute():
        data_dir = base / data_dir
    region = str(core_raw.get("default_region", "FR")).upper()
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise ConfigError(f"tocsin.default_region: {region!r} is not a known region code")
    timezone = str(core_raw.get("timezone", "UTC"))
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"tocsin.timezone: {timezone!r} is not a known time zone") from None
    core = CoreSettings(
        data_dir=data_dir,
        database=str(core_raw.get("database", "")),
        default_region=region,
        timezone=timezone,
        locale=str(core_raw.get("locale", "en_GB")),
        plugins=_strings(core_raw.get("plugins"), "tocsin.plugins"),
        disable_plugins=_strings(core_raw.get("disable_plugins"), "tocsin.disable_plugins"),
        base_url=str(core_raw.get("base_url", DEFAULT_BASE_URL)).rstrip("/"),
    )
    reminders_raw = resolved.get("reminders", {}).get("offsets")
    reminders = (
        DEFAULT_REMINDERS
        if reminders_raw is None
        else tuple(parse_duration(v, key="reminders.offsets") for v in reminders_raw)
    )
    if list(reminders) != sorted(reminders):
        raise ConfigError("reminders.offsets: offsets must be in increasing order")
    reached_raw = dict(resolved.get("reached", {}))
    reached_known = {a.name for a in ReachedOptions.__attrs_attrs__}
    if unknown := set(reached_raw) - reached_known:
        raise ConfigError(f"reached: unknown key(s) {sorted(unknown)}; known: {sorted(reached_known)}")
    for key, value in reached_raw.items():
        if key != "policy" and not isinstance(value, bool):
            raise ConfigError(f"reached.{key}: expected true or false, got {value!r}")
    for name, section in resolved.get("channels", {}).items():
        if not isinstance(section, Mapping) or not section.get("type"):
            raise ConfigError(f"channels.{name}: a channel section needs a 'type' (e.g. \"smtp\")")
    return Config(
        data=resolved,
        path=path,
        core=core,
        reminders=reminders,
        reached=ReachedOptions(**reached_raw),
    )


def _deep_copy(node: Any) -> Any:
    if isinstance(node, Mapping):
        return {k: _deep_copy(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_deep_copy(v) for v in node]
    return node


def find_config_path(explicit: str | Path | None = None) -> Path | None:
    """The configuration file to read: explicit, else ``$TOCSIN_CONFIG``, else ./tocsin.toml."""
    if explicit:
        return Path(explicit)
    if os.environ.get(ENV_FILE):
        return Path(os.environ[ENV_FILE])
    default = Path("tocsin.toml")
    return default if default.exists() else None


def load_config(path: str | Path | None = None) -> Config:
    """Read and validate the configuration (see the module documentation)."""
    found = find_config_path(path)
    if found is None:
        return build_config({})
    try:
        with found.open("rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"configuration file {found} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{found}: not valid TOML: {exc}") from None
    return build_config(data, path=found.resolve())


def masked(node: Any, key: str = "") -> Any:
    """``node`` with every secret-looking value replaced by a mask, for display."""
    if isinstance(node, Mapping):
        return {k: masked(v, k) for k, v in node.items()}
    if isinstance(node, list):
        return [masked(v, key) for v in node]
    if key and SECRET_KEY.search(key) and node not in (None, "", False):
        return MASK
    if isinstance(node, str) and "://" in node and "@" in node:
        # a URL with credentials: keep the user, hide the password
        return re.sub(r"(://[^:/@]+):[^@]+@", r"\1:" + MASK + "@", node)
    return node


def effective(config: Config) -> dict[str, Any]:
    """The effective configuration, defaults filled in, as plain data."""
    data: dict[str, Any] = _deep_copy(config.data)
    core = config.core
    data["tocsin"] = {
        "data_dir": str(core.data_dir),
        "database": core.database_url,
        "default_region": core.default_region,
        "timezone": core.timezone,
        "locale": core.locale,
        "plugins": list(core.plugins),
        "disable_plugins": list(core.disable_plugins),
        "base_url": core.base_url,
    }
    data["reminders"] = {"offsets": [f"{int(r.total_seconds())}s" for r in config.reminders]}
    data["reached"] = {
        "policy": config.reached.policy,
        "count_voicemail": config.reached.count_voicemail,
        "count_sms_sent": config.reached.count_sms_sent,
        "count_email_sent": config.reached.count_email_sent,
    }
    return data
