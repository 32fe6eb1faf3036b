"""``http-sms``: one generic channel for HTTP SMS gateways (Kannel's ``sendsms``,
Jasmin's HTTP API, playSMS's web services...), configured per gateway.

A send fills the configured parameter templates and calls the gateway; the answer is
accepted when its HTTP status is one of ``accepted_status`` and its body matches
``accepted_pattern``; the gateway's message id is read as ``message_id`` says. ``429``
honours ``Retry-After``; 5xx and connection failures are retried with backoff.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Mapping
from typing import Any

import httpx2

from tocsin.channel import (
    Accepted,
    Capabilities,
    ChannelSettings,
    Health,
    HealthState,
    Limits,
    OutboundAttempt,
    PermanentFailure,
    SendResult,
    StatusSink,
    TemporaryFailure,
)
from tocsin.clock import Clock
from tocsin.plugins.cloudkit.http import (
    TransportFailed,
    install_log_redaction,
    new_client,
    request_with_retry,
    retry_after,
)
from tocsin.plugins.cloudkit.ratelimit import SenderPool
from tocsin.plugins.http_gateway.settings import GatewaySettings, parse_settings


def dlr_signature(settings: GatewaySettings, ref: str) -> str:
    """What makes a delivery-report URL unguessable: an HMAC of the channel and reference."""
    message = f"{settings.name}:{ref}".encode()
    return hmac.new(settings.dlr_secret.encode(), message, hashlib.sha256).hexdigest()[:32]


def _json_path(payload: Any, path: str) -> Any:
    for part in path.split("."):
        if isinstance(payload, list) and part.isdigit() and int(part) < len(payload):
            payload = payload[int(part)]
        elif isinstance(payload, Mapping) and part in payload:
            payload = payload[part]
        else:
            return None
    return payload


def message_id(spec: str, response: httpx2.Response, ref: str) -> str | None:
    """The gateway's id for the message, read as ``spec`` says (``None``: not found)."""
    kind, _, arg = spec.partition(":")
    if kind == "ref":
        return ref
    if kind == "body":
        return response.text.strip() or None
    if kind == "header":
        header = response.headers.get(arg)
        return str(header) if header is not None else None
    if kind == "regex":
        match = re.search(arg, response.text)
        return (match.group(1) if match and match.groups() else match.group(0) if match else None)
    try:
        found = _json_path(response.json(), arg)
    except ValueError:
        return None
    return None if found in (None, "") else str(found)


def _excerpt(response: httpx2.Response) -> str:
    text = " ".join(response.text.split())[:200]
    return f"HTTP {response.status_code}" + (f": {text}" if text else "")


class HttpSmsChannel:
    """An SMS gateway reached over HTTP (see the module documentation)."""

    means = "sms"

    def __init__(self, settings: GatewaySettings, clock: Clock) -> None:
        self.name = settings.name
        self.settings = settings
        self.clock = clock
        self.capabilities = Capabilities(delivery_reports=settings.dlr is not None)
        self.limits = Limits(
            rate=settings.rate, concurrency=settings.concurrency, message_size=settings.max_length,
            burst=settings.burst,
        )
        self.pool = SenderPool([settings.sender or "-"], clock, rate=settings.rate, burst=settings.burst)
        self.sink: StatusSink | None = None
        self._client: httpx2.AsyncClient | None = None
        self._health = Health(HealthState.DOWN, "not started")

    async def start(self, sink: StatusSink) -> None:
        install_log_redaction()
        self.sink = sink
        self._client = new_client(
            timeout=self.settings.timeout,
            connections=self.settings.concurrency,
            headers=self.settings.headers,
        )
        self._health = Health(HealthState.OK, f"gateway {httpx2.URL(self.settings.url).host}")

    async def stop(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
        self._health = Health(HealthState.DOWN, "stopped")

    def health(self) -> Health:
        return self._health

    def values(self, outbound: OutboundAttempt, ref: str) -> dict[str, str]:
        """The placeholders' values for one message."""
        s = self.settings
        to = outbound.attempt.address
        dlr = s.dlr_url(ref, dlr_signature(s, ref)) if s.dlr is not None else ""
        return {"to": to, "to_digits": to.lstrip("+"), "text": outbound.message.text,
                "sender": s.sender, "ref": ref, "dlr_url": dlr}

    async def send(self, outbound: OutboundAttempt) -> SendResult:
        s = self.settings
        text = outbound.message.text
        if not text.strip():
            return PermanentFailure("the message is empty")
        if len(text) > s.max_length:
            return PermanentFailure(f"the message is longer than {s.max_length} characters ({len(text)})")
        if self._client is None:
            return TemporaryFailure("channel not started")
        ref = f"{outbound.attempt.id or 0}-{secrets.token_hex(6)}"
        values = self.values(outbound, ref)
        url = s.url.format_map(values)
        params = {k: v.format_map(values) for k, v in s.params.items()}
        request: dict[str, Any] = {}
        if s.method == "GET":
            request["params"] = params
        elif s.body == "json":
            request["json"] = params
        else:
            request["data"] = params
        await self.pool.acquire()
        try:
            response = await request_with_retry(
                self._client, s.method, url, policy=s.retry, sleep=self.clock.sleep, **request
            )
        except TransportFailed as exc:
            self._health = Health(HealthState.DEGRADED, exc.reason)
            return TemporaryFailure(exc.reason, code=str(exc.status or ""))
        self._health = Health(HealthState.OK, f"gateway {response.url.host}")
        if response.status_code == 429:
            wait = retry_after(response.headers.get("retry-after"), self.clock.now())
            return TemporaryFailure(_excerpt(response), retry_after=wait, code="429")
        accepted = response.status_code in s.accepted_status and (
            s.accepted_pattern is None or s.accepted_pattern.search(response.text) is not None
        )
        if not accepted:
            return PermanentFailure(_excerpt(response), code=str(response.status_code))
        provider_ref = message_id(s.message_id, response, ref)
        if provider_ref is None:
            return PermanentFailure(f"accepted but no message id ({s.message_id}) in {_excerpt(response)}")
        return Accepted(provider_ref=provider_ref, status=s.accepted_as)


def build(settings: ChannelSettings) -> HttpSmsChannel:
    """Build an ``http-sms`` channel from its section (refuses bad configuration)."""
    return HttpSmsChannel(parse_settings(settings.name, settings.options, base_url=settings.base_url),
                          settings.clock)


__all__ = ["HttpSmsChannel", "build", "dlr_signature", "message_id"]
