"""The ``[channels.<name>] type = "gsm-sms" | "gsm-voice"`` sections, validated up front.

Bad configuration is refused when the channel is built, with a :class:`ConfigError`
naming the key. The SIM PIN belongs in the environment (``pin = "env:SIM_PIN"``) and is
never logged. Times are written as durations (``"45s"``, ``"5m"``) in real-hardware
time; ``time_scale`` shrinks them all for virtual modems.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from attrs import field, frozen

from tocsin.config import parse_duration
from tocsin.errors import ConfigError
from tocsin.hal.errors import HalError
from tocsin.hal.modem import Modem
from tocsin.hal.pool import ModemPool, PoolSettings
from tocsin.hal.profiles import PROFILES, check_audio_name

MIN_TIMEOUT = 5.0
"""Wall-clock floor of scaled safety timeouts (seconds)."""

COMMON_KEYS = {
    "type", "devices", "pin", "pins", "profile", "baudrate", "rate_per_minute", "max_errors",
    "probe_interval", "time_scale", "command_timeout", "queue_timeout", "routes",
}
SMS_KEYS = COMMON_KEYS | {"submit_timeout", "status_reports"}
VOICE_KEYS = COMMON_KEYS | {
    "repeat", "ring_timeout", "confirm_window", "max_duration", "confirmation", "poll_interval",
    "default_language", "audio_files", "volume",
}


@frozen
class GsmSettings:
    """One GSM channel's configuration (both kinds share the modem part)."""

    name: str
    devices: tuple[str, ...]
    pins: Mapping[str, str]
    profile: str | None = None
    baudrate: int = 115200
    pool: PoolSettings = field(factory=PoolSettings)
    command_timeout: float = 10.0
    queue_timeout: float = 600.0
    routes: Mapping[str, str] = field(factory=dict)
    submit_timeout: float = 60.0
    status_reports: bool = True
    repeat: int = 2
    ring_timeout: float = 45.0
    confirm_window: float = 8.0
    max_duration: float = 300.0
    poll_interval: float = 1.0
    confirmation: bool = True
    default_language: str = "en"
    audio_files: Mapping[str, str] = field(factory=dict)
    """A message's ``audio_url`` (a URL the cloud channels fetch, or a name) -> the file
    stored on the modems that plays it."""
    volume: int = 90

    @property
    def scale(self) -> float:
        return self.pool.time_scale

    def scaled(self, seconds: float) -> float:
        """``seconds`` of real-hardware time in this channel's time."""
        return seconds * self.pool.time_scale

    def bound(self, seconds: float) -> float:
        """A safety timeout in this channel's time: scaled, but never under
        :data:`MIN_TIMEOUT`, so a busy host does not fail a fast virtual modem."""
        return max(self.scaled(seconds), min(seconds, MIN_TIMEOUT))

    def operator_for(self, number: str) -> str:
        """The operator a route sends ``number`` through (longest prefix), or ``""``."""
        best = max((p for p in self.routes if number.startswith(p)), key=len, default="")
        return self.routes.get(best, "") if best else ""

    async def open_modem(self, device: str) -> Modem:
        """Open a modem for the pool; one not registered on a network is refused (the
        pool probes it again later: a modem just powered on is still searching)."""
        modem = await Modem.open(
            device, pin=self.pins.get(device) or self.pins.get("*"), profile=self.profile,
            timeout=self.bound(self.command_timeout), baudrate=self.baudrate,
        )
        if modem.info is not None and not modem.info.registered:
            state = modem.info.registration
            await modem.close()
            raise HalError(f"{device}: {state} on the network (signal {modem.info.signal})")
        return modem

    def build_pool(self, **callbacks: Any) -> ModemPool:
        return ModemPool(self.devices, functools.partial(GsmSettings.open_modem, self), self.pool,
                         **callbacks)


def _number(options: Mapping[str, Any], key: str, where: str, default: float, *,
            minimum: float = 0.0, integer: bool = False) -> Any:
    value = options.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"{where}.{key}: expected a number, got {value!r}")
    if value < minimum or (integer and int(value) != value):
        kind = "an integer" if integer else "a number"
        raise ConfigError(f"{where}.{key}: expected {kind} >= {minimum:g}, got {value!r}")
    return int(value) if integer else float(value)


def _duration(options: Mapping[str, Any], key: str, where: str, default: float) -> float:
    if key not in options:
        return default
    seconds = parse_duration(options[key], key=f"{where}.{key}").total_seconds()
    if seconds <= 0:
        raise ConfigError(f"{where}.{key}: must be longer than zero")
    return seconds


def _bool(options: Mapping[str, Any], key: str, where: str, default: bool) -> bool:
    value = options.get(key, default)
    if not isinstance(value, bool):
        raise ConfigError(f"{where}.{key}: expected true or false, got {value!r}")
    return value


def _audio_files(options: Mapping[str, Any], where: str) -> dict[str, str]:
    files = options.get("audio_files", {})
    if not isinstance(files, Mapping) or not all(
        isinstance(k, str) and k.strip() and isinstance(v, str) for k, v in files.items()
    ):
        raise ConfigError(
            f'{where}.audio_files: expected a table of "audio URL or name" = "file on the modem"')
    for key, value in files.items():
        if problem := check_audio_name(value):
            raise ConfigError(f"{where}.audio_files.{key}: {problem}")
    return {k.strip(): v for k, v in files.items()}


def _volume(options: Mapping[str, Any], where: str) -> int:
    volume: int = _number(options, "volume", where, 90, integer=True)
    if volume > 100:
        raise ConfigError(f"{where}.volume: expected 0 to 100, got {volume}")
    return volume


def parse_settings(name: str, options: Mapping[str, Any], *, voice: bool) -> GsmSettings:
    """Validate one channel section (``options`` with secrets already resolved)."""
    where = f"channels.{name}"
    known = VOICE_KEYS if voice else SMS_KEYS
    if unknown := set(options) - known:
        raise ConfigError(f"{where}: unknown key(s) {sorted(unknown)}; known: {sorted(known)}")
    devices = options.get("devices")
    if isinstance(devices, str):
        devices = [devices]
    if not devices or not all(isinstance(d, str) and d.strip() for d in devices):
        raise ConfigError(f"{where}.devices: a list of serial ports is required "
                          '(e.g. ["/dev/serial/by-id/usb-SimTech-if02"])')
    if len(set(devices)) != len(devices):
        raise ConfigError(f"{where}.devices: a port is listed twice")
    pins: dict[str, str] = {}
    if "pin" in options:
        pins["*"] = str(options["pin"])
    raw_pins = options.get("pins", {})
    if not isinstance(raw_pins, Mapping):
        raise ConfigError(f"{where}.pins: expected a table of device = PIN")
    for device, pin in raw_pins.items():
        if device not in devices:
            raise ConfigError(f"{where}.pins: {device!r} is not one of the devices")
        pins[device] = str(pin)
    for pin in pins.values():
        if not (pin.isdigit() and 4 <= len(pin) <= 8):
            raise ConfigError(f"{where}.pin: a SIM PIN is 4 to 8 digits")  # value not shown
    profile = options.get("profile", "auto")
    if profile != "auto" and profile not in PROFILES:
        raise ConfigError(f"{where}.profile: {profile!r} is not a modem profile "
                          f"(auto, {', '.join(sorted(PROFILES))})")
    routes = options.get("routes", {})
    if not isinstance(routes, Mapping) or not all(
        isinstance(k, str) and k.startswith("+") and k[1:].isdigit() and isinstance(v, str)
        for k, v in routes.items()
    ):
        raise ConfigError(f'{where}.routes: expected a table of "+prefix" = "operator name"')
    scale = _number(options, "time_scale", where, 1.0)
    if scale <= 0:
        raise ConfigError(f"{where}.time_scale: must be positive")
    pool = PoolSettings(
        rate_per_minute=_number(options, "rate_per_minute", where, 2.0 if voice else 6.0, minimum=0.001),
        max_errors=_number(options, "max_errors", where, 3, minimum=1, integer=True),
        probe_interval=_duration(options, "probe_interval", where, 30.0),
        time_scale=scale,
    )
    return GsmSettings(
        name=name,
        devices=tuple(d.strip() for d in devices),
        pins=pins,
        profile=None if profile == "auto" else profile,
        baudrate=_number(options, "baudrate", where, 115200, minimum=300, integer=True),
        pool=pool,
        command_timeout=_duration(options, "command_timeout", where, 10.0),
        queue_timeout=_duration(options, "queue_timeout", where, 600.0),
        routes=dict(routes),
        submit_timeout=_duration(options, "submit_timeout", where, 60.0),
        status_reports=_bool(options, "status_reports", where, True),
        repeat=_number(options, "repeat", where, 2, minimum=1, integer=True),
        ring_timeout=_duration(options, "ring_timeout", where, 45.0),
        confirm_window=_duration(options, "confirm_window", where, 8.0),
        max_duration=_duration(options, "max_duration", where, 300.0),
        poll_interval=_duration(options, "poll_interval", where, 1.0),
        confirmation=_bool(options, "confirmation", where, True),
        default_language=str(options.get("default_language", "en")),
        audio_files=_audio_files(options, where),
        volume=_volume(options, where),
    )
