"""Per-sender rate limiting as providers enforce it (GCRA, no drift).

Each sender has a theoretical arrival time; a send reserves the next slot before it
waits, so concurrent senders are spaced exactly ``interval`` apart and the long-run rate
is the configured one however late each wake-up is.
"""

from __future__ import annotations

from collections.abc import Sequence

from tocsin.clock import Clock


class SenderPool:
    """Chooses the sender that is free soonest and waits for its slot.

    ``rate`` is sends per ``per`` seconds for each sender (``None`` or 0: no limit);
    ``burst`` sends may go back to back before the spacing applies.
    """

    def __init__(
        self,
        senders: Sequence[str],
        clock: Clock,
        *,
        rate: float | None = None,
        per: float = 1.0,
        burst: int = 1,
    ) -> None:
        if not senders:
            raise ValueError("a sender pool needs at least one sender")
        if rate is not None and rate < 0:
            raise ValueError(f"rate must be positive, got {rate}")
        if burst < 1:
            raise ValueError(f"burst must be at least 1, got {burst}")
        self.senders = tuple(senders)
        self._clock = clock
        self._origin = clock.now()  # small offsets keep float precision over long runs
        self.interval = per / rate if rate else 0.0
        self._tolerance = (burst - 1) * self.interval
        self._tat = dict.fromkeys(self.senders, float("-inf"))
        self._turn = 0

    def _now(self) -> float:
        return float((self._clock.now() - self._origin).total_seconds())

    def reserve(self) -> tuple[str, float]:
        """Reserve the next slot: the sender and the seconds to wait before sending."""
        if not self.interval:
            self._turn = (self._turn + 1) % len(self.senders)
            return self.senders[self._turn], 0.0
        now = self._now()
        sender = min(self.senders, key=lambda s: self._tat[s])
        tat = max(self._tat[sender], now)
        self._tat[sender] = tat + self.interval
        return sender, max(0.0, tat - self._tolerance - now)

    async def acquire(self) -> str:
        """Wait for the next free slot and return the sender to use."""
        sender, wait = self.reserve()
        if wait > 0:
            await self._clock.sleep(wait)
        return sender
