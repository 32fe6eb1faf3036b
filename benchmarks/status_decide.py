"""How fast the status machines judge events and the rules compute outcomes.

The engine applies at least 30,000 status events a second in batches; the machine's
``decide`` and the rules' outcome functions are in that path, so they must be a small
share of it. Prints figures; asserts nothing.

    .venv/bin/python benchmarks/status_decide.py
"""

from __future__ import annotations

import random
import time

from tocsin.builtin_statuses import CALL, EMAIL, SMS
from tocsin.model import Attempt, Category
from tocsin.reached import DEFAULT_POLICY, ReachedOptions
from tocsin.rules import attempt_reached, count_outcomes, outcomes
from tocsin.status import PENDING


def bench_decide(n: int = 300_000) -> None:
    rng = random.Random(4)
    machines = (CALL, SMS, EMAIL)
    cases = []
    for _ in range(n):
        m = rng.choice(machines)
        cases.append((m, rng.choice((PENDING, *m.states)), rng.choice(m.states)))
    start = time.perf_counter()
    for m, current, status in cases:
        m.decide(current, status)
    took = time.perf_counter() - start
    print(f"decide: {n:,} events in {took:.3f} s = {n / took:,.0f} events/s")


def bench_outcomes(contacts: int = 100_000, per_contact: int = 3) -> None:
    rng = random.Random(5)
    machines = {"call": CALL, "sms": SMS, "email": EMAIL}
    general, options = Category("general"), ReachedOptions()
    reached = {name: DEFAULT_POLICY.reached(m, general, options) for name, m in machines.items()}
    attempts = []
    for cid in range(contacts):
        for means in rng.sample(sorted(machines), per_contact):
            status = rng.choice((PENDING, *machines[means].states))
            flag = attempt_reached(status, machines[means], reached[means])
            attempts.append(Attempt(1, cid, means, "x", status, reached=flag))
    start = time.perf_counter()
    counts = count_outcomes(outcomes(range(contacts), attempts))
    took = time.perf_counter() - start
    print(
        f"outcomes: {contacts:,} contacts, {len(attempts):,} attempts in {took:.3f} s "
        f"({counts.contacted:,} contacted, {counts.in_progress:,} in progress, "
        f"{counts.not_contacted:,} not contacted)"
    )


if __name__ == "__main__":
    bench_decide()
    bench_outcomes()
