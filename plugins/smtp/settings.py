"""The ``[channels.<name>] type = "smtp"`` section, validated up front.

Bad configuration is refused when the channel is built, with a :class:`ConfigError`
naming the key; nothing is checked for the first time at send time.

One server can be written directly in the section (``host``, ``port``...); several, for
failover in order, as ``[[channels.<name>.servers]]`` tables. Passwords and the token
secret belong in the environment (``password = "env:SMTP_PASSWORD"``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from attrs import field, frozen

from tocsin.errors import ConfigError
from tocsin.errors import ValidationError as _ValidationError
from tocsin.validate import email_address

TLS_MODES = ("starttls", "implicit", "none")
SCAN_MODES = ("auto", "required", "off")

SERVER_KEYS = {
    "host", "port", "tls", "verify", "cafile", "username", "password", "rate", "per",
    "concurrency", "timeout", "local_hostname",
}
CHANNEL_KEYS = {
    "type", "servers", "from_address", "from_name", "bounce_domain", "token_secret",
    "list_unsubscribe", "dsn", "tracking_pixel", "scan", "reply_to", "bounce_smtp",
    "bounce_imap", "failover_cooldown", "concurrency",
} | SERVER_KEYS


@frozen
class ServerSettings:
    """One SMTP server: where, how securely, as whom, and how hard to drive it."""

    host: str
    port: int
    tls: str = "starttls"
    verify: bool = True
    cafile: str | None = None
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    rate: float | None = None
    per: float = 1.0
    concurrency: int = 4
    timeout: float = 30.0
    local_hostname: str | None = None

    @property
    def label(self) -> str:
        return f"{self.host}:{self.port}"


@frozen
class ImapSettings:
    """The bounce mailbox polled over IMAP (``bounce_imap`` table)."""

    host: str
    port: int
    username: str
    password: str = field(repr=False)
    mailbox: str = "INBOX"
    tls: str = "implicit"
    verify: bool = True
    cafile: str | None = None
    interval: float = 60.0


@frozen
class ListenSettings:
    """Where the bounce receiver listens (``bounce_smtp`` table)."""

    host: str = "127.0.0.1"
    port: int = 2525


@frozen
class SmtpSettings:
    """The whole channel section, validated."""

    servers: tuple[ServerSettings, ...]
    from_address: str
    token_secret: str = field(repr=False)
    from_name: str = ""
    bounce_domain: str = ""
    reply_to: str = ""
    list_unsubscribe: str = ""
    dsn: bool = True
    tracking_pixel: bool = False
    scan: str = "auto"
    failover_cooldown: float = 30.0
    bounce_smtp: ListenSettings | None = None
    bounce_imap: ImapSettings | None = None

    @property
    def concurrency(self) -> int:
        return sum(s.concurrency for s in self.servers)


def _get(section: Mapping[str, Any], key: str, kind: type | tuple[type, ...], where: str) -> Any:
    value = section[key]
    if isinstance(value, bool) and kind is not bool and bool not in (
        kind if isinstance(kind, tuple) else (kind,)
    ):
        raise ConfigError(f"{where}.{key}: expected {_kind_name(kind)}, got {value!r}")
    if not isinstance(value, kind):
        raise ConfigError(f"{where}.{key}: expected {_kind_name(kind)}, got {value!r}")
    return value


def _kind_name(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    names = {bool: "true or false", int: "a number", float: "a number", str: "a string"}
    return " or ".join(dict.fromkeys(names.get(k, k.__name__) for k in kinds))


def _opt(section: Mapping[str, Any], key: str, kind: type | tuple[type, ...], where: str,
         default: Any) -> Any:
    return _get(section, key, kind, where) if key in section else default


def _positive(value: float, key: str) -> float:
    if value <= 0:
        raise ConfigError(f"{key}: must be greater than zero, got {value!r}")
    return value


def _port(value: int, key: str) -> int:
    if not 0 < value < 65536:
        raise ConfigError(f"{key}: {value!r} is not a TCP port")
    return value


def _tls(section: Mapping[str, Any], where: str, default: str) -> str:
    tls = str(_opt(section, "tls", str, where, default))
    if tls not in TLS_MODES:
        raise ConfigError(f"{where}.tls: {tls!r} is not one of {', '.join(TLS_MODES)}")
    return tls


def parse_server(section: Mapping[str, Any], where: str) -> ServerSettings:
    """One server table (or the channel section itself when it has a ``host``)."""
    if not section.get("host"):
        raise ConfigError(f"{where}.host: an SMTP server needs a host")
    tls = _tls(section, where, "starttls")
    default_port = {"starttls": 587, "implicit": 465, "none": 25}[tls]
    username = _opt(section, "username", str, where, None)
    password = _opt(section, "password", str, where, None)
    if (username is None) != (password is None):
        raise ConfigError(f"{where}: username and password go together (AUTH needs both)")
    rate = _opt(section, "rate", (int, float), where, None)
    return ServerSettings(
        host=_get(section, "host", str, where),
        port=_port(int(_opt(section, "port", int, where, default_port)), f"{where}.port"),
        tls=tls,
        verify=_opt(section, "verify", bool, where, True),
        cafile=_opt(section, "cafile", str, where, None),
        username=username,
        password=password,
        rate=None if rate is None else _positive(float(rate), f"{where}.rate"),
        per=_positive(float(_opt(section, "per", (int, float), where, 1.0)), f"{where}.per"),
        concurrency=int(_positive(_opt(section, "concurrency", int, where, 4), f"{where}.concurrency")),
        timeout=_positive(float(_opt(section, "timeout", (int, float), where, 30.0)), f"{where}.timeout"),
        local_hostname=_opt(section, "local_hostname", str, where, None),
    )


def _address(value: str, key: str) -> str:
    try:
        return email_address(value)
    except _ValidationError as exc:
        raise ConfigError(f"{key}: {exc}") from None


def _imap(section: Any, where: str) -> ImapSettings:
    if not isinstance(section, Mapping):
        raise ConfigError(f"{where}: expected a table")
    for key in ("host", "username", "password"):
        if not isinstance(section.get(key), str) or not section.get(key):
            raise ConfigError(f"{where}.{key}: the bounce mailbox needs a {key}")
    tls = _tls(section, where, "implicit")
    if tls == "starttls":
        raise ConfigError(f"{where}.tls: use 'implicit' (port 993) or 'none' for IMAP")
    return ImapSettings(
        host=section["host"],
        port=_port(int(_opt(section, "port", int, where, 993 if tls == "implicit" else 143)),
                   f"{where}.port"),
        username=section["username"],
        password=section["password"],
        mailbox=_opt(section, "mailbox", str, where, "INBOX"),
        tls=tls,
        verify=_opt(section, "verify", bool, where, True),
        cafile=_opt(section, "cafile", str, where, None),
        interval=_positive(float(_opt(section, "interval", (int, float), where, 60.0)),
                           f"{where}.interval"),
    )


def _listen(section: Any, where: str) -> ListenSettings:
    if not isinstance(section, Mapping):
        raise ConfigError(f"{where}: expected a table")
    port = int(_opt(section, "port", int, where, 2525))
    if port:  # 0: any free port (tests, demos); the receiver tells which one it got
        _port(port, f"{where}.port")
    return ListenSettings(host=_opt(section, "host", str, where, "127.0.0.1"), port=port)


def parse_settings(name: str, options: Mapping[str, Any]) -> SmtpSettings:
    """Validate one channel section; :class:`ConfigError` names the first bad key."""
    where = f"channels.{name}"
    if unknown := set(options) - CHANNEL_KEYS:
        raise ConfigError(f"{where}: unknown key(s) {sorted(unknown)}; known: {sorted(CHANNEL_KEYS)}")
    if "servers" in options:
        raw = options["servers"]
        if not isinstance(raw, list) or not raw or not all(isinstance(s, Mapping) for s in raw):
            raise ConfigError(f"{where}.servers: expected a non-empty list of tables")
        if misplaced := (set(options) & SERVER_KEYS):
            raise ConfigError(f"{where}: {sorted(misplaced)} belong inside each servers table")
        servers = []
        for i, s in enumerate(raw):
            if unknown := set(s) - SERVER_KEYS:
                raise ConfigError(f"{where}.servers[{i}]: unknown key(s) {sorted(unknown)}")
            servers.append(parse_server(s, f"{where}.servers[{i}]"))
    else:
        servers = [parse_server(options, where)]
    if not options.get("from_address"):
        raise ConfigError(f"{where}.from_address: the sender address is required")
    from_address = _address(_get(options, "from_address", str, where), f"{where}.from_address")
    secret = options.get("token_secret")
    if not isinstance(secret, str) or len(secret) < 16:
        raise ConfigError(
            f"{where}.token_secret: at least 16 characters are required (it signs the "
            "bounce and tracking tokens; put it in the environment: \"env:NAME\")"
        )
    bounce_domain = str(_opt(options, "bounce_domain", str, where, "")) or from_address.rsplit("@", 1)[1]
    _address(f"bounces@{bounce_domain}", f"{where}.bounce_domain")
    scan = str(_opt(options, "scan", str, where, "auto"))
    if scan not in SCAN_MODES:
        raise ConfigError(f"{where}.scan: {scan!r} is not one of {', '.join(SCAN_MODES)}")
    unsubscribe = str(_opt(options, "list_unsubscribe", str, where, ""))
    if unsubscribe and not unsubscribe.startswith(("mailto:", "https://", "http://")):
        raise ConfigError(f"{where}.list_unsubscribe: expected a mailto: or https:// URL")
    reply_to = str(_opt(options, "reply_to", str, where, ""))
    return SmtpSettings(
        servers=tuple(servers),
        from_address=from_address,
        token_secret=secret,
        from_name=_opt(options, "from_name", str, where, ""),
        bounce_domain=bounce_domain,
        reply_to=_address(reply_to, f"{where}.reply_to") if reply_to else "",
        list_unsubscribe=unsubscribe,
        dsn=_opt(options, "dsn", bool, where, True),
        tracking_pixel=_opt(options, "tracking_pixel", bool, where, False),
        scan=scan,
        failover_cooldown=_positive(
            float(_opt(options, "failover_cooldown", (int, float), where, 30.0)),
            f"{where}.failover_cooldown",
        ),
        bounce_smtp=_listen(options["bounce_smtp"], f"{where}.bounce_smtp")
        if "bounce_smtp" in options else None,
        bounce_imap=_imap(options["bounce_imap"], f"{where}.bounce_imap")
        if "bounce_imap" in options else None,
    )
