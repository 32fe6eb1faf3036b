"""A Twilio-compatible channel's configuration, validated once, and its webhook URLs.

Secrets (``auth_token``, ``api_secret``) come from the configuration (``"env:NAME"``)
and are kept out of ``repr``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode, urlsplit

from attrs import field, frozen

from tocsin.errors import ConfigError, ValidationError
from tocsin.plugins.cloudkit.http import RetryPolicy, positive, rate_option
from tocsin.validate import phone_e164

DEFAULT_API = "https://api.twilio.com"
API_VERSION = "2010-04-01"
WEBHOOK_ROOT = "/webhooks/twilio"

KNOWN_KEYS = frozenset(
    {
        "type", "account_sid", "auth_token", "api_key", "api_secret", "from", "messaging_service_sid",
        "api_base_url", "webhook_base_url", "rate", "burst", "concurrency", "timeout", "retries",
        "backoff", "language", "voice", "repeat", "machine_detection", "ring_timeout",
        "confirm_prompt", "thanks",
    }
)


@frozen
class TwilioSettings:
    """One ``[channels.<name>]`` section of type ``twilio-sms`` or ``twilio-voice``."""

    name: str
    account_sid: str
    auth_token: str = field(repr=False)
    senders: tuple[str, ...]
    webhook_base_url: str
    api_base_url: str = DEFAULT_API
    api_key: str = ""
    api_secret: str = field(default="", repr=False)
    messaging_service_sid: str = ""
    rate: float | None = 1.0
    burst: int = 1
    concurrency: int = 10
    timeout: float = 10.0
    retry: RetryPolicy = field(factory=RetryPolicy)
    language: str = "en-US"
    voice: str = ""
    repeat: int = 2
    machine_detection: bool = True
    ring_timeout: int = 30
    confirm_prompt: str = ""
    thanks: str = ""

    @property
    def auth(self) -> tuple[str, str]:
        """Basic-auth credentials for the API: an API key pair when given, else the account."""
        if self.api_key:
            return self.api_key, self.api_secret
        return self.account_sid, self.auth_token

    @property
    def account_path(self) -> str:
        return f"/{API_VERSION}/Accounts/{self.account_sid}"

    def webhook_url(self, kind: str, query: Mapping[str, str] | None = None) -> str:
        """The URL the provider calls back for ``kind`` (``status``, ``twiml``, ``gather``)."""
        url = f"{self.webhook_base_url}{WEBHOOK_ROOT}/{self.name}/{kind}"
        return f"{url}?{urlencode(dict(query))}" if query else url


def _text(options: Mapping[str, Any], key: str, where: str, default: str = "") -> str:
    value = options.get(key, default)
    if not isinstance(value, str):
        raise ConfigError(f"{where}.{key}: expected a string, got {value!r}")
    return value


def _int(options: Mapping[str, Any], key: str, where: str, default: int, minimum: int) -> int:
    value = options.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(f"{where}.{key}: expected an integer >= {minimum}, got {value!r}")
    return value


def _url(value: str, key: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise ConfigError(f"{key}: {value!r} is not an http(s) URL")
    return value.rstrip("/")


def parse_settings(
    name: str, options: Mapping[str, Any], *, base_url: str, region: str = "FR"
) -> TwilioSettings:
    """Validate one channel section; every error names the key."""
    where = f"channels.{name}"
    if unknown := set(options) - KNOWN_KEYS:
        raise ConfigError(f"{where}: unknown key(s) {sorted(unknown)}; known: {sorted(KNOWN_KEYS)}")
    sid = _text(options, "account_sid", where)
    if not sid:
        raise ConfigError(f"{where}.account_sid: required (the account SID, AC...)")
    token = _text(options, "auth_token", where)
    if not token:
        raise ConfigError(f'{where}.auth_token: required (write "env:TWILIO_AUTH_TOKEN")')
    raw_from = options.get("from", [])
    raw_senders = [raw_from] if isinstance(raw_from, str) else raw_from
    if not isinstance(raw_senders, list) or not all(isinstance(s, str) for s in raw_senders):
        raise ConfigError(f"{where}.from: expected a phone number or a list of them")
    senders: list[str] = []
    for sender in raw_senders:
        if sender.startswith("+") or sender[:1].isdigit():
            try:
                senders.append(phone_e164(sender, region))
            except ValidationError as exc:
                raise ConfigError(f"{where}.from: {sender!r} is not a phone number: {exc}") from None
        else:
            senders.append(sender)  # an alphanumeric sender id or a short code name
    service = _text(options, "messaging_service_sid", where)
    if not senders and not service:
        raise ConfigError(f"{where}.from: required (or messaging_service_sid for SMS)")
    hook_base = _text(options, "webhook_base_url", where) or base_url
    if not hook_base:
        raise ConfigError(f"{where}.webhook_base_url: no base URL ([tocsin] base_url) for callbacks")
    api_key = _text(options, "api_key", where)
    api_secret = _text(options, "api_secret", where)
    if bool(api_key) != bool(api_secret):
        raise ConfigError(f"{where}.api_secret: api_key and api_secret go together")
    return TwilioSettings(
        name=name,
        account_sid=sid,
        auth_token=token,
        senders=tuple(senders) or (service,),
        webhook_base_url=_url(hook_base, f"{where}.webhook_base_url"),
        api_base_url=_url(_text(options, "api_base_url", where, DEFAULT_API), f"{where}.api_base_url"),
        api_key=api_key,
        api_secret=api_secret,
        messaging_service_sid=service,
        rate=rate_option(options, "rate", 1.0, where=where),
        burst=_int(options, "burst", where, 1, 1),
        concurrency=_int(options, "concurrency", where, 10, 1),
        timeout=positive(options, "timeout", 10.0, where=where) or 10.0,
        retry=RetryPolicy(
            retries=_int(options, "retries", where, 2, 0),
            backoff=positive(options, "backoff", 0.5, where=where),
        ),
        language=_text(options, "language", where, "en-US"),
        voice=_text(options, "voice", where),
        repeat=_int(options, "repeat", where, 2, 1),
        machine_detection=bool(options.get("machine_detection", True)),
        ring_timeout=_int(options, "ring_timeout", where, 30, 5),
        confirm_prompt=_text(options, "confirm_prompt", where),
        thanks=_text(options, "thanks", where),
    )
