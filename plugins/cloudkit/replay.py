"""Refusing replayed webhooks: each signed delivery is accepted once.

A delivery is identified by the provider's idempotency token when it sends one, else by
its signature (a byte-identical replay has the same one). Claims are kept for a window
and a bounded number of entries, in this process's memory.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable


class ReplayGuard:
    """Remembers the deliveries already accepted (see the module documentation)."""

    def __init__(
        self,
        *,
        window: float = 86_400.0,
        max_entries: int = 200_000,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.window = window
        self.max_entries = max_entries
        self._monotonic = monotonic
        self._seen: OrderedDict[tuple[str, str], float] = OrderedDict()

    def _purge(self, now: float) -> None:
        while self._seen:
            key, when = next(iter(self._seen.items()))
            if now - when < self.window and len(self._seen) <= self.max_entries:
                break
            del self._seen[key]

    def claim(self, scope: str, key: str) -> bool:
        """Record ``key`` as accepted; ``False`` when it already was (a replay)."""
        now = self._monotonic()
        self._purge(now)
        if (scope, key) in self._seen:
            return False
        self._seen[(scope, key)] = now
        return True

    def release(self, scope: str, key: str) -> None:
        """Forget a claim whose delivery could not be applied, so its retry is accepted."""
        self._seen.pop((scope, key), None)
