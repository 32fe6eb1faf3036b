"""Outbound webhooks for integrators: subscriptions, signed deliveries, retries, a log.

An integrator subscribes a URL to events (``attempt.status``, ``alert.sent``,
``alert.finished``). Observers of the engine's hooks write one *delivery* row per
subscription and batch (never one per attempt); a worker in each server process claims
due deliveries and POSTs them as JSON. Every delivery is signed::

    Tocsin-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>

so the receiver checks the sender and refuses a replay (an old ``t``, or a
``Tocsin-Delivery`` id seen before). A failed delivery is retried with exponential backoff
until ``[server] webhook_max_tries``; the rows are the delivery log. The secret is shown
once at subscription; it is kept in the store because signing needs it.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import hmac
import json
import logging
import secrets
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

import httpx2
from attrs import frozen
from sqlalchemy import Engine, delete, insert, or_, select, update

from tocsin.clock import Clock
from tocsin.errors import NotFoundError, ValidationError
from tocsin.store.schema import webhook_deliveries, webhooks

log = logging.getLogger("tocsin.server.webhooks")

EVENTS = ("attempt.status", "alert.sent", "alert.finished", "ping")
BATCH = 500
"""Attempt changes per delivery."""
CLAIM_SECONDS = 120


@frozen
class Webhook:
    id: int
    url: str
    events: list[str]
    description: str
    active: bool
    created_at: dt.datetime
    created_by: int | None = None


@frozen
class NewWebhook:
    """A subscription just made: ``secret`` is shown this once."""

    secret: str
    webhook: Webhook


@frozen
class Delivery:
    id: int
    webhook_id: int
    event: str
    state: str
    tries: int
    created_at: dt.datetime
    next_at: dt.datetime | None
    delivered_at: dt.datetime | None
    last_status: int | None
    last_error: str


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """The ``Tocsin-Signature`` header value for ``body`` sent at ``timestamp``."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify(secret: str, body: bytes, header: str, *, now: int, tolerance: int = 300) -> bool:
    """What a receiver does: the signature matches and is recent (helper for integrators)."""
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        timestamp = int(parts.get("t", ""))
    except ValueError:
        return False
    if abs(now - timestamp) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, body, timestamp), header)


def backoff(tries: int) -> dt.timedelta:
    """Wait after the ``tries``-th failure: 10 s, 20 s, 40 s... capped at one hour."""
    return dt.timedelta(seconds=min(10 * 2 ** max(tries - 1, 0), 3600))


def _to_webhook(row: Any) -> Webhook:
    return Webhook(row.id, row.url, list(row.events), row.description, row.active, row.created_at,
                   row.created_by)


def _to_delivery(row: Any) -> Delivery:
    return Delivery(row.id, row.webhook_id, row.event, row.state, row.tries, row.created_at,
                    row.next_at, row.delivered_at, row.last_status, row.last_error)


def check_url(url: str) -> str:
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError(f"url: {url!r} is not an http(s) URL")
    if len(url) > 2000:
        raise ValidationError("url: at most 2000 characters")
    return url.strip()


def check_events(events: Sequence[str]) -> list[str]:
    if not events:
        raise ValidationError(f"events: name at least one of {', '.join(EVENTS[:-1])}")
    if unknown := [e for e in events if e not in EVENTS[:-1]]:
        raise ValidationError(f"events: unknown {unknown}; known: {', '.join(EVENTS[:-1])}")
    return sorted(set(events))


class Webhooks:
    """The subscriptions and their deliveries."""

    def __init__(self, engine: Engine, clock: Clock) -> None:
        self.engine = engine
        self.clock = clock
        self.wake = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None

    # -- subscriptions ------------------------------------------------------------------

    def subscribe(self, url: str, events: Sequence[str], *, description: str = "",
                  created_by: int | None = None) -> NewWebhook:
        url, events = check_url(url), check_events(events)
        if len(description) > 300:
            raise ValidationError("description: at most 300 characters")
        secret = "whsec_" + secrets.token_urlsafe(32)
        now = self.clock.now()
        with self.engine.begin() as conn:
            hook_id = conn.execute(
                insert(webhooks).returning(webhooks.c.id),
                {"url": url, "secret": secret, "events": events, "description": description,
                 "active": True, "created_by": created_by, "created_at": now},
            ).scalar_one()
        return NewWebhook(secret, self.get(hook_id))

    def get(self, hook_id: int) -> Webhook:
        with self.engine.connect() as conn:
            row = conn.execute(select(webhooks).where(webhooks.c.id == hook_id)).one_or_none()
        if row is None:
            raise NotFoundError(f"no webhook with id {hook_id}")
        return _to_webhook(row)

    def subscriptions(self) -> list[Webhook]:
        with self.engine.connect() as conn:
            return [_to_webhook(r) for r in conn.execute(select(webhooks).order_by(webhooks.c.id))]

    def set_active(self, hook_id: int, active: bool) -> Webhook:
        with self.engine.begin() as conn:
            if not conn.execute(
                update(webhooks).where(webhooks.c.id == hook_id).values(active=active)
            ).rowcount:
                raise NotFoundError(f"no webhook with id {hook_id}")
        return self.get(hook_id)

    def remove(self, hook_id: int) -> None:
        with self.engine.begin() as conn:
            if not conn.execute(delete(webhooks).where(webhooks.c.id == hook_id)).rowcount:
                raise NotFoundError(f"no webhook with id {hook_id}")

    def deliveries(self, hook_id: int, *, limit: int = 50, offset: int = 0) -> list[Delivery]:
        """The delivery log of a subscription, newest first."""
        self.get(hook_id)
        query = (select(webhook_deliveries).where(webhook_deliveries.c.webhook_id == hook_id)
                 .order_by(webhook_deliveries.c.id.desc()).limit(limit).offset(offset))
        with self.engine.connect() as conn:
            return [_to_delivery(r) for r in conn.execute(query)]

    # -- queueing -----------------------------------------------------------------------

    def enqueue(self, event: str, payloads: Iterable[Mapping[str, Any]],
                only: int | None = None) -> int:
        """A delivery per payload for every active subscription to ``event``."""
        now = self.clock.now()
        items = list(payloads)
        with self.engine.begin() as conn:
            query = select(webhooks.c.id, webhooks.c.events).where(webhooks.c.active.is_(True))
            if only is not None:
                query = query.where(webhooks.c.id == only)
            targets = [r.id for r in conn.execute(query) if event in r.events or event == "ping"]
            rows = [
                {"webhook_id": t, "event": event, "payload": dict(p), "state": "pending",
                 "tries": 0, "next_at": now, "last_error": "", "created_at": now}
                for t in targets for p in items
            ]
            if rows:
                conn.execute(insert(webhook_deliveries), rows)
        if rows and self._loop is not None:
            self._loop.call_soon_threadsafe(self.wake.set)
        return len(rows)

    # -- delivering ---------------------------------------------------------------------

    def _claim(self, limit: int) -> list[Any]:
        now = self.clock.now()
        with self.engine.begin() as conn:
            due = conn.execute(
                select(webhook_deliveries.c.id)
                .where(
                    webhook_deliveries.c.state == "pending",
                    webhook_deliveries.c.next_at <= now,
                    or_(webhook_deliveries.c.claimed_until.is_(None),
                        webhook_deliveries.c.claimed_until < now),
                )
                .order_by(webhook_deliveries.c.next_at, webhook_deliveries.c.id)
                .limit(limit)
            ).scalars().all()
            claimed = []
            until = now + dt.timedelta(seconds=CLAIM_SECONDS)
            for delivery_id in due:  # one by one: another process may claim concurrently
                if conn.execute(
                    update(webhook_deliveries)
                    .where(webhook_deliveries.c.id == delivery_id,
                           or_(webhook_deliveries.c.claimed_until.is_(None),
                               webhook_deliveries.c.claimed_until < now))
                    .values(claimed_until=until)
                ).rowcount:
                    claimed.append(delivery_id)
            if not claimed:
                return []
            rows = conn.execute(
                select(webhook_deliveries, webhooks.c.url, webhooks.c.secret)
                .join(webhooks, webhooks.c.id == webhook_deliveries.c.webhook_id)
                .where(webhook_deliveries.c.id.in_(claimed))
            ).all()
        return list(rows)

    def _record(self, delivery_id: int, tries: int, status: int | None, error: str,
                max_tries: int) -> None:
        now = self.clock.now()
        ok = status is not None and 200 <= status < 300
        values: dict[str, Any] = {"tries": tries, "last_status": status, "last_error": error[:2000],
                                  "claimed_until": None}
        if ok:
            values.update(state="delivered", delivered_at=now, next_at=None)
        elif tries >= max_tries:
            values.update(state="failed", next_at=None)
            log.error("webhook delivery %d given up after %d tries: %s", delivery_id, tries, error)
        else:
            values.update(next_at=now + backoff(tries))
            log.warning("webhook delivery %d failed (try %d), retried in %s: %s", delivery_id,
                        tries, backoff(tries), error)
        with self.engine.begin() as conn:
            conn.execute(update(webhook_deliveries)
                         .where(webhook_deliveries.c.id == delivery_id).values(values))

    async def deliver_due(self, client: httpx2.AsyncClient, *, max_tries: int,
                          limit: int = 100) -> int:
        """Send the deliveries that are due now; returns how many were tried."""
        claimed = await asyncio.to_thread(self._claim, limit)

        async def one(row: Any) -> None:
            body = json.dumps({"id": row.id, "event": row.event, "created_at":
                               row.created_at.isoformat(), "data": row.payload},
                              separators=(",", ":")).encode()
            stamp = int(self.clock.now().timestamp())
            headers = {"content-type": "application/json", "user-agent": "Tocsin-Webhooks/1",
                       "tocsin-event": row.event, "tocsin-delivery": str(row.id),
                       "tocsin-signature": sign(row.secret, body, stamp)}
            status: int | None = None
            error = ""
            try:
                answer = await client.post(row.url, content=body, headers=headers)
                status = answer.status_code
                if not 200 <= status < 300:
                    error = f"HTTP {status}: {answer.text[:200]}"
            except httpx2.HTTPError as exc:
                error = f"{type(exc).__name__}: {exc}"
            await asyncio.to_thread(self._record, row.id, row.tries + 1, status, error, max_tries)

        await asyncio.gather(*(one(row) for row in claimed))
        return len(claimed)

    async def run(self, *, max_tries: int, timeout: float, poll: float = 1.0) -> None:
        """Deliver forever (the server runs this as a background task)."""
        self._loop = asyncio.get_running_loop()
        self.wake = asyncio.Event()  # bound to this loop
        async with httpx2.AsyncClient(timeout=timeout, follow_redirects=False) as client:
            while True:
                self.wake.clear()  # before the read: a wake while it runs is kept
                tried = await self.deliver_due(client, max_tries=max_tries)
                if tried:
                    continue
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.wake.wait(), timeout=poll)


def change_payloads(changes: Sequence[Any]) -> list[dict[str, Any]]:
    """``attempt.status`` payloads: the changes of a batch, :data:`BATCH` per delivery."""
    from tocsin.serialize import converter

    data = [converter.unstructure(c) for c in changes]
    return [{"changes": data[i : i + BATCH]} for i in range(0, len(data), BATCH)]


def alert_payload(alert: Any) -> dict[str, Any]:
    """``alert.sent`` / ``alert.finished`` payload: the alert's identity and state."""
    from tocsin.serialize import converter

    return {"alert": {
        "id": alert.id, "title": alert.title, "state": str(alert.state),
        "campaign_id": alert.campaign_id, "means": list(alert.means),
        "sent_at": converter.unstructure(alert.sent_at),
        "finished_at": converter.unstructure(alert.finished_at),
    }}
