"""The provider's REST API as a channel sees it: create a Message or a Call, and read
the answer into a typed send result (never a bare bool).

``201`` is accepted with the resource's SID; ``429`` is a temporary failure honouring
``Retry-After``; 5xx and connection failures are retried with backoff, then temporary;
any other 4xx is permanent, with the provider's error code and meaning as the reason.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import httpx2

from tocsin.channel import Accepted, Health, HealthState, PermanentFailure, SendResult, TemporaryFailure
from tocsin.clock import Clock
from tocsin.errors import ConfigError
from tocsin.plugins.cloudkit.http import TransportFailed, new_client, request_with_retry, retry_after
from tocsin.plugins.cloudkit.ratelimit import SenderPool
from tocsin.plugins.twilio.settings import TwilioSettings
from tocsin.plugins.twilio.statuses import ERROR_MEANINGS, Mapped


def error_reason(response: httpx2.Response) -> tuple[str, str]:
    """``(reason, code)`` from a provider error payload (``code``, ``message``): the code,
    its meaning, and the provider's message when it says more."""
    try:
        payload = response.json()
    except ValueError:
        payload = None
    if isinstance(payload, Mapping) and payload.get("code") is not None:
        code = str(payload["code"])
        message = str(payload.get("message") or "")
        meaning = ERROR_MEANINGS.get(int(code), "") if code.isdigit() else ""
        if meaning and message and meaning.lower() not in message.lower():
            detail = f"{meaning}: {message}"
        else:
            detail = message or meaning
        return f"{code} {detail}".strip(), code
    text = " ".join(response.text.split())[:200]
    return f"HTTP {response.status_code}" + (f": {text}" if text else ""), str(response.status_code)


class TwilioApi:
    """One channel's connection to the provider: client pool, sender pool, health."""

    def __init__(self, settings: TwilioSettings, clock: Clock) -> None:
        self.settings = settings
        self.clock = clock
        self.senders = SenderPool(settings.senders, clock, rate=settings.rate, burst=settings.burst)
        self._client: httpx2.AsyncClient | None = None
        self._health = Health(HealthState.DOWN, "not started")
        self._failures = 0
        self._urls: dict[str, httpx2.URL] = {}

    async def open(self) -> None:
        """Open the pool and check the account answers to these credentials."""
        s = self.settings
        self._client = new_client(
            base_url=s.api_base_url, auth=s.auth, timeout=s.timeout, connections=s.concurrency
        )
        try:
            response = await self._client.get(f"{s.account_path}.json")
        except httpx2.TransportError as exc:
            self._health = Health(HealthState.DOWN, f"provider unreachable: {str(exc) or type(exc).__name__}")
            return
        if response.status_code in {401, 403, 404}:
            reason, _ = error_reason(response)
            await self.close()
            raise ConfigError(f"channels.{s.name}: the provider refused account {s.account_sid}: {reason}")
        self._health = Health(HealthState.OK, f"account {s.account_sid} at {s.api_base_url}")

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
        self._health = Health(HealthState.DOWN, "stopped")

    def health(self) -> Health:
        return self._health

    def _note(self, ok: bool, detail: str = "") -> None:
        self._failures = 0 if ok else self._failures + 1
        if ok:
            self._health = Health(HealthState.OK, f"account {self.settings.account_sid}")
        elif self._failures >= 3:
            self._health = Health(HealthState.DEGRADED, detail, {"consecutive_failures": self._failures})

    async def create(
        self, resource: str, data: Mapping[str, Any], mapper: Callable[[str], Mapped | None]
    ) -> SendResult:
        """POST a new ``Messages`` or ``Calls`` resource; the answer as a send result."""
        if self._client is None:
            return TemporaryFailure("channel not started")
        url = self._urls.get(resource)
        if url is None:  # absolute URLs built once: httpx2 then skips parsing and merging them
            url = self._urls[resource] = httpx2.URL(
                f"{self.settings.api_base_url}{self.settings.account_path}/{resource}.json"
            )
        try:
            response = await request_with_retry(
                self._client, "POST", url, data=data, policy=self.settings.retry, sleep=self.clock.sleep
            )
        except TransportFailed as exc:
            self._note(False, exc.reason)
            return TemporaryFailure(exc.reason, code=str(exc.status or ""))
        if response.status_code in {200, 201}:
            body = response.json()
            self._note(True)
            mapped = mapper(str(body.get("status", "")))
            return Accepted(provider_ref=str(body["sid"]), status=mapped.status if mapped else None)
        reason, code = error_reason(response)
        if response.status_code == 429:
            self._note(True)
            wait = retry_after(response.headers.get("retry-after"), self.clock.now())
            return TemporaryFailure(reason, retry_after=wait, code=code)
        if response.status_code == 401:
            self._health = Health(HealthState.DOWN, f"authentication refused: {reason}")
        return PermanentFailure(reason, code=code)
