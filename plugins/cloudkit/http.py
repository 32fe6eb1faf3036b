"""The pooled HTTP client of the cloud channels and the retry policy for provider APIs.

One ``httpx2.AsyncClient`` per channel: HTTP/1.1 (HTTP/2 off, as most SMS APIs and
gateways speak it), a keep-alive pool sized to the channel's concurrency. Server errors
(5xx) and connection failures are retried with exponential backoff inside one send;
``429`` is returned at once so the caller can honour ``Retry-After``.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import httpx2
from attrs import frozen

from tocsin.errors import ConfigError

USER_AGENT = "tocsin-cloud/1"


@frozen
class RetryPolicy:
    """How many times a send is retried on 5xx or a connection failure, and how far apart."""

    retries: int = 2
    backoff: float = 0.5
    max_backoff: float = 8.0

    def delay(self, attempt: int) -> float:
        """Seconds to wait before retry number ``attempt`` (1-based)."""
        return float(min(self.max_backoff, self.backoff * 2 ** (attempt - 1)))


class TransportFailed(Exception):
    """The provider could not be reached (or kept answering 5xx) after every retry."""

    def __init__(self, reason: str, *, status: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


def new_client(
    *,
    base_url: str = "",
    auth: tuple[str, str] | None = None,
    timeout: float = 10.0,
    connections: int = 10,
    headers: Mapping[str, str] | None = None,
) -> httpx2.AsyncClient:
    """A keep-alive HTTP/1.1 client for one channel."""
    limits = httpx2.Limits(
        max_connections=connections, max_keepalive_connections=connections, keepalive_expiry=30.0
    )
    return httpx2.AsyncClient(
        base_url=base_url,
        auth=httpx2.BasicAuth(*auth) if auth else None,
        http2=False,
        limits=limits,
        timeout=httpx2.Timeout(timeout),
        headers={"User-Agent": USER_AGENT, **(headers or {})},
        follow_redirects=False,
        trust_env=False,
    )


async def request_with_retry(
    client: httpx2.AsyncClient,
    method: str,
    url: str | httpx2.URL,
    *,
    policy: RetryPolicy,
    sleep: Callable[[float], Awaitable[None]],
    **kwargs: Any,
) -> httpx2.Response:
    """Send, retrying 5xx answers and connection failures; any other answer is returned.

    Raises :class:`TransportFailed` when the retries are spent. A read timeout is not
    retried (the provider may have taken the message): it fails at once.
    """
    last = ""
    status: int | None = None
    for attempt in range(policy.retries + 1):
        if attempt:
            await sleep(policy.delay(attempt))
        try:
            response = await client.request(method, url, **kwargs)
        except (httpx2.ConnectError, httpx2.ConnectTimeout, httpx2.PoolTimeout) as exc:
            last, status = f"cannot connect to the provider: {str(exc) or type(exc).__name__}", None
            continue
        except httpx2.TransportError as exc:
            raise TransportFailed(f"provider connection failed: {str(exc) or type(exc).__name__}") from exc
        if response.status_code >= 500:
            last, status = f"provider error HTTP {response.status_code}", response.status_code
            continue
        return response
    raise TransportFailed(f"{last} (after {policy.retries + 1} tries)", status=status)


def retry_after(value: str | None, now: dt.datetime) -> float | None:
    """Seconds a ``Retry-After`` header asks for (delta-seconds or HTTP date), if any."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - now).total_seconds())


def positive(options: Mapping[str, Any], key: str, default: float, *, where: str) -> float:
    """A positive number option, or a clear error naming it."""
    value = options.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ConfigError(f"{where}.{key}: expected a positive number, got {value!r}")
    return float(value)


def rate_option(options: Mapping[str, Any], key: str, default: float | None, *, where: str) -> float | None:
    """A rate option: a positive number, or 0 / absent for no limit."""
    value = options.get(key, default)
    if value is None:
        return None
    rate = positive(options, key, 0.0, where=where) if key in options else float(value)
    return rate or None


class _RedactQuery(logging.Filter):
    """Drops query strings from httpx2's request log lines: gateways take passwords there."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                arg.copy_with(query=None) if isinstance(arg, httpx2.URL) and arg.query else arg
                for arg in record.args
            )
        return True


_REDACTION = _RedactQuery()


def install_log_redaction() -> None:
    """Keep credentials sent in query strings out of the logs (idempotent)."""
    logger = logging.getLogger("httpx2")
    if _REDACTION not in logger.filters:
        logger.addFilter(_REDACTION)
