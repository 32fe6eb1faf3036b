"""What the two GSM channels share: address checks, health, status events."""

from __future__ import annotations

import re

from tocsin.channel import Health, HealthState, StatusSink
from tocsin.clock import Clock
from tocsin.hal.pool import ModemPool
from tocsin.model import StatusEvent

E164 = re.compile(r"^\+[1-9]\d{6,14}$")


def check_number(address: str) -> str | None:
    """Why ``address`` cannot be dialled or texted, or ``None`` when it is E.164."""
    if not E164.match(address.strip()):
        return f"{address!r} is not an E.164 phone number (+ and 7 to 15 digits)"
    return None


def pool_health(pool: ModemPool | None) -> Health:
    if pool is None:
        return Health(HealthState.DOWN, "not started")
    members = pool.status()
    data = {m.device: {"state": m.state.value, "operator": m.operator, "jobs": m.jobs,
                       "reason": m.reason} for m in members}
    up = pool.available
    if up == pool.size:
        return Health(HealthState.OK, f"{up} modem(s) in service", data)
    if up == 0:
        return Health(HealthState.DOWN, "no modem in service", data)
    return Health(HealthState.DEGRADED, f"{up} of {pool.size} modems in service", data)


class Reporter:
    """Status events for one channel, stamped with its clock."""

    def __init__(self, channel: str, clock: Clock) -> None:
        self.channel = channel
        self.clock = clock
        self.sink: StatusSink | None = None

    def __call__(self, attempt_id: int | None, status: str, reason: str = "",
                 **data: str) -> None:
        if self.sink is None:
            return
        self.sink.report(StatusEvent(status=status, at=self.clock.now(), attempt_id=attempt_id,
                                     channel=self.channel, reason=reason, source="gsm", data=data))

    def by_ref(self, provider_ref: str, status: str, reason: str = "") -> None:
        """A status for the attempt whose ``provider_ref`` is this, found by the engine in
        the store (the process that sent it may be gone)."""
        if self.sink is None:
            return
        self.sink.report(StatusEvent(status=status, at=self.clock.now(), channel=self.channel,
                                     provider_ref=provider_ref, reason=reason, source="gsm"))
