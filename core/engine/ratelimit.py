"""A token bucket measured on the engine's clock, so a fake clock drives it in tests.

The dispatcher asks how many sends the channel's declared rate allows *now* and claims
no more than that from the outbox; it never sleeps holding claimed work.
"""

from __future__ import annotations

import datetime as dt

from tocsin.channel import Limits


class TokenBucket:
    """``rate`` sends per ``per`` seconds, bursts of up to ``burst``; unlimited when no rate."""

    def __init__(self, limits: Limits, now: dt.datetime) -> None:
        self.rate = limits.rate
        self.per = limits.per
        self.capacity = float(max(1, limits.burst))
        self.tokens = self.capacity
        self.stamp = now

    @property
    def unlimited(self) -> bool:
        return not self.rate

    def _refill(self, now: dt.datetime) -> None:
        if self.rate and now > self.stamp:
            gained = (now - self.stamp).total_seconds() * self.rate / self.per
            self.tokens = min(self.capacity, self.tokens + gained)
        self.stamp = max(self.stamp, now)

    def available(self, now: dt.datetime) -> int:
        """Whole sends allowed at ``now`` (a large number when unlimited)."""
        if self.unlimited:
            return 1 << 30
        self._refill(now)
        return int(self.tokens)

    def take(self, n: int, now: dt.datetime) -> None:
        if self.unlimited or n <= 0:
            return
        self._refill(now)
        self.tokens -= n

    def wait_time(self, now: dt.datetime) -> float:
        """Seconds until one more send is allowed (0 when one is allowed now)."""
        if self.unlimited:
            return 0.0
        self._refill(now)
        if self.tokens >= 1:
            return 0.0
        assert self.rate is not None
        return (1 - self.tokens) * self.per / self.rate
