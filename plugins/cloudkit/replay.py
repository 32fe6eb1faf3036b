"""Refusing replayed webhooks: each signed delivery is accepted once, by one process.

A delivery is identified by the provider's idempotency token when it sends one, else by
its signature (a byte-identical replay has the same one). The claim is a row in the
store (:class:`tocsin.store.webhook_claims.WebhookClaims`, the SHA-256 of the identity),
so every server process on one database refuses a delivery that any of them accepted;
the store is the only record, nothing is remembered in memory. Claims are kept at least
``window`` seconds: now and then (every ``purge_every`` seconds of the clock, not on
every request) a write removes those older than that.

The store is synchronous and the routes run on the event loop, so the store work is done
in a worker thread, as the reference server's handlers do. Claims that arrive while a
write is under way wait for the next one and go together (one statement, one commit):
under load a commit serves many requests, and alone a request waits for nothing.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib

import anyio.to_thread

from tocsin.clock import Clock
from tocsin.store.webhook_claims import WebhookClaims

DAY = 86_400.0

Pending = tuple[tuple[str, str], "asyncio.Future[bool]"]


def guard_key(key: str) -> str:
    """The key stored for a delivery's identity: its SHA-256, in hex."""
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


class ReplayGuard:
    """Claims deliveries in the store (see the module documentation)."""

    def __init__(
        self,
        claims: WebhookClaims,
        clock: Clock,
        *,
        window: float = DAY,
        purge_every: float = 60.0,
    ) -> None:
        if window <= 0 or purge_every <= 0:
            raise ValueError("the replay window and the purge interval must be positive")
        self.claims = claims
        self.clock = clock
        self.window = dt.timedelta(seconds=window)
        self.purge_every = dt.timedelta(seconds=purge_every)
        self._next_purge: dt.datetime | None = None
        self._pending: list[Pending] = []
        self._writer: asyncio.Task[None] | None = None

    async def claim(self, scope: str, key: str) -> bool:
        """Record ``key`` as accepted; ``False`` when it already was (a replay)."""
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._pending.append(((scope, guard_key(key)), future))
        if self._writer is None or self._writer.done():
            # a task of its own: a request cancelled meanwhile leaves the others' claims alone
            self._writer = asyncio.create_task(self._write_pending())
        return await future

    async def release(self, scope: str, key: str) -> None:
        """Forget a claim whose delivery could not be applied, so its retry is accepted."""
        await anyio.to_thread.run_sync(self.claims.release, scope, guard_key(key))

    async def _write_pending(self) -> None:
        while self._pending:
            batch, self._pending = self._pending, []
            try:
                won = await anyio.to_thread.run_sync(self._write, [pair for pair, _ in batch])
            except asyncio.CancelledError:
                for _, future in batch + self._pending:
                    future.cancel()
                self._pending = []
                raise
            except Exception as exc:  # the store failed: these requests fail (the provider retries)
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for (_, future), result in zip(batch, won, strict=True):
                if not future.done():
                    future.set_result(result)

    def _write(self, pairs: list[tuple[str, str]]) -> list[bool]:
        now = self.clock.now()
        if self._next_purge is None or now >= self._next_purge:
            self.claims.purge(older_than=now - self.window)
            self._next_purge = now + self.purge_every
        return self.claims.claim_many(pairs, now=now)
