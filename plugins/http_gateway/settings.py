"""An ``http-sms`` channel's configuration: how to call one gateway's send API and how
to read its answers and delivery reports, validated once with errors naming the key.

Parameter templates use ``{placeholders}``: ``to`` (E.164), ``to_digits`` (without
``+``), ``text``, ``sender``, ``ref`` (Tocsin's reference for the message) and
``dlr_url`` (the delivery-report URL, signed with ``dlr_secret``).
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from attrs import field, frozen

from tocsin.errors import ConfigError
from tocsin.plugins.cloudkit.http import RetryPolicy, positive, rate_option

PLACEHOLDERS = frozenset({"to", "to_digits", "text", "sender", "ref", "dlr_url"})
SMS_STATES = frozenset({"accepted", "queued", "sending", "sent", "received", "undelivered", "failed"})
WEBHOOK_ROOT = "/webhooks/http-sms"
KNOWN_KEYS = frozenset(
    {
        "type", "url", "method", "body", "params", "headers", "sender", "rate", "burst", "concurrency",
        "timeout", "retries", "backoff", "accepted_status", "accepted_pattern", "message_id",
        "accepted_as", "dlr_secret", "dlr", "webhook_base_url", "max_length",
    }
)
DLR_KEYS = frozenset({"id_param", "status_param", "reason_param", "statuses", "reply"})


@frozen
class DeliveryReports:
    """How the gateway's delivery reports arrive and what their codes mean."""

    status_param: str
    statuses: Mapping[str, str]
    id_param: str = "ref"
    reason_param: str = ""
    reply: str = "OK"


@frozen
class GatewaySettings:
    """One ``[channels.<name>]`` section of type ``http-sms``."""

    name: str
    url: str
    webhook_base_url: str
    method: str = "GET"
    body: str = "form"
    params: Mapping[str, str] = field(factory=dict, repr=False)
    headers: Mapping[str, str] = field(factory=dict, repr=False)
    sender: str = ""
    rate: float | None = None
    burst: int = 1
    concurrency: int = 4
    timeout: float = 10.0
    retry: RetryPolicy = field(factory=RetryPolicy)
    accepted_status: frozenset[int] = frozenset({200, 201, 202})
    accepted_pattern: re.Pattern[str] | None = None
    message_id: str = "ref"
    accepted_as: str = "queued"
    dlr_secret: str = field(default="", repr=False)
    dlr: DeliveryReports | None = None
    max_length: int = 1600

    def dlr_url(self, ref: str, signature: str) -> str:
        return f"{self.webhook_base_url}{WEBHOOK_ROOT}/{self.name}/dlr?ref={ref}&sig={signature}"


def _fields(template: str, key: str) -> set[str]:
    try:
        names = {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}
    except ValueError as exc:
        raise ConfigError(f"{key}: {template!r} is not a valid template: {exc}") from None
    if unknown := names - PLACEHOLDERS:
        raise ConfigError(f"{key}: unknown placeholder(s) {sorted(unknown)}; known: {sorted(PLACEHOLDERS)}")
    return names


def _table(options: Mapping[str, Any], key: str, where: str) -> dict[str, str]:
    value = options.get(key, {})
    if not isinstance(value, Mapping) or not all(isinstance(v, str | int | float) for v in value.values()):
        raise ConfigError(f"{where}.{key}: expected a table of name = \"value\"")
    return {str(k): str(v) for k, v in value.items()}


def _dlr(raw: Any, where: str) -> DeliveryReports:
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where}.dlr: expected a table")
    if unknown := set(raw) - DLR_KEYS:
        raise ConfigError(f"{where}.dlr: unknown key(s) {sorted(unknown)}; known: {sorted(DLR_KEYS)}")
    status_param = raw.get("status_param")
    if not isinstance(status_param, str) or not status_param:
        raise ConfigError(f"{where}.dlr.status_param: required (the parameter carrying the code)")
    statuses = _table(raw, "statuses", f"{where}.dlr")
    if not statuses:
        raise ConfigError(f"{where}.dlr.statuses: map at least one gateway code to an SMS status")
    if bad := {v for v in statuses.values() if v not in SMS_STATES}:
        raise ConfigError(f"{where}.dlr.statuses: {sorted(bad)} are not SMS statuses {sorted(SMS_STATES)}")
    return DeliveryReports(
        status_param=status_param,
        statuses=statuses,
        id_param=str(raw.get("id_param", "ref")),
        reason_param=str(raw.get("reason_param", "")),
        reply=str(raw.get("reply", "OK")),
    )


def parse_settings(name: str, options: Mapping[str, Any], *, base_url: str) -> GatewaySettings:
    """Validate one ``http-sms`` section; every error names the key."""
    where = f"channels.{name}"
    if unknown := set(options) - KNOWN_KEYS:
        raise ConfigError(f"{where}: unknown key(s) {sorted(unknown)}; known: {sorted(KNOWN_KEYS)}")
    url = options.get("url")
    if not isinstance(url, str) or urlsplit(url).scheme not in {"http", "https"}:
        raise ConfigError(f"{where}.url: expected the gateway's http(s) send URL, got {url!r}")
    method = str(options.get("method", "GET")).upper()
    if method not in {"GET", "POST"}:
        raise ConfigError(f"{where}.method: expected GET or POST, got {method!r}")
    body = str(options.get("body", "form"))
    if body not in {"form", "json"}:
        raise ConfigError(f"{where}.body: expected \"form\" or \"json\", got {body!r}")
    params = _table(options, "params", where)
    used = _fields(url, f"{where}.url")
    for key, template in params.items():
        used |= _fields(template, f"{where}.params.{key}")
    if not {"to", "to_digits"} & used or "text" not in used:
        raise ConfigError(f"{where}.params: the templates must use {{to}} (or {{to_digits}}) and {{text}}")
    statuses = options.get("accepted_status", [200, 201, 202])
    if not isinstance(statuses, list) or not all(isinstance(s, int) and 200 <= s < 300 for s in statuses):
        raise ConfigError(f"{where}.accepted_status: expected a list of 2xx HTTP statuses")
    pattern = options.get("accepted_pattern")
    try:
        compiled = re.compile(pattern) if pattern else None
    except re.error as exc:
        raise ConfigError(f"{where}.accepted_pattern: not a regular expression: {exc}") from None
    message_id = str(options.get("message_id", "ref"))
    kind, _, arg = message_id.partition(":")
    if kind not in {"ref", "regex", "json", "header", "body"} or (
        kind in {"regex", "json", "header"} and not arg
    ):
        raise ConfigError(
            f"{where}.message_id: expected ref, body, regex:<re>, json:<path> or header:<name>, "
            f"got {message_id!r}"
        )
    if kind == "regex":
        try:
            re.compile(arg)
        except re.error as exc:
            raise ConfigError(f"{where}.message_id: not a regular expression: {exc}") from None
    accepted_as = str(options.get("accepted_as", "queued"))
    if accepted_as not in {"accepted", "queued", "sending", "sent"}:
        raise ConfigError(f"{where}.accepted_as: expected accepted, queued, sending or sent")
    dlr = _dlr(options["dlr"], where) if "dlr" in options else None
    secret = str(options.get("dlr_secret", ""))
    if "dlr_url" in used and (dlr is None or not secret):
        raise ConfigError(f"{where}.dlr_secret: a {{dlr_url}} needs a [dlr] table and a dlr_secret")
    if dlr is not None and "dlr_url" not in used:
        raise ConfigError(f"{where}.dlr: delivery reports need {{dlr_url}} in a parameter")
    if dlr is not None and dlr.id_param != "ref" and kind == "ref":
        raise ConfigError(f"{where}.dlr.id_param: reports name the gateway's id, so set message_id")
    hook_base = str(options.get("webhook_base_url") or base_url).rstrip("/")
    if dlr is not None and urlsplit(hook_base).scheme not in {"http", "https"}:
        raise ConfigError(f"{where}.webhook_base_url: no base URL ([tocsin] base_url) for reports")
    max_length = options.get("max_length", 1600)
    if isinstance(max_length, bool) or not isinstance(max_length, int) or max_length < 1:
        raise ConfigError(f"{where}.max_length: expected a positive integer, got {max_length!r}")
    concurrency = options.get("concurrency", 4)
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise ConfigError(f"{where}.concurrency: expected an integer >= 1, got {concurrency!r}")
    burst = options.get("burst", 1)
    if isinstance(burst, bool) or not isinstance(burst, int) or burst < 1:
        raise ConfigError(f"{where}.burst: expected an integer >= 1, got {burst!r}")
    retries = options.get("retries", 2)
    if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
        raise ConfigError(f"{where}.retries: expected an integer >= 0, got {retries!r}")
    return GatewaySettings(
        name=name,
        url=url,
        webhook_base_url=hook_base,
        method=method,
        body=body,
        params=params,
        headers=_table(options, "headers", where),
        sender=str(options.get("sender", "")),
        rate=rate_option(options, "rate", None, where=where),
        burst=burst,
        concurrency=concurrency,
        timeout=positive(options, "timeout", 10.0, where=where) or 10.0,
        retry=RetryPolicy(retries=retries, backoff=positive(options, "backoff", 0.5, where=where)),
        accepted_status=frozenset(statuses),
        accepted_pattern=compiled,
        message_id=message_id,
        accepted_as=accepted_as,
        dlr_secret=secret,
        dlr=dlr,
        max_length=max_length,
    )
