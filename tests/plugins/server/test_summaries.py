"""The overview cache: settled alerts kept, sending ones refreshed behind the page."""

from __future__ import annotations

import datetime as dt
import time

from tocsin.model import Alert, AlertState, Message
from tocsin.plugins.server.web.summaries import OverviewCache

T0 = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)


def alert(state: AlertState, updated: dt.datetime = T0) -> Alert:
    return Alert("a", (Message("sms", "x"),), id=1, state=state, updated_at=updated)


def test_a_finished_alert_is_computed_once_until_its_row_changes() -> None:
    cache, calls = OverviewCache(ttl=0.0), []
    compute = lambda: calls.append(1) or len(calls)  # noqa: E731
    assert cache.get(alert(AlertState.FINISHED), compute) == 1
    assert cache.get(alert(AlertState.FINISHED), compute) == 1
    assert cache.get(alert(AlertState.SENT, T0 + dt.timedelta(seconds=1)), compute) == 2


def test_a_sending_alert_is_served_while_a_fresh_overview_is_computed() -> None:
    cache, calls = OverviewCache(ttl=0.0, max_age=60), []

    def compute() -> int:
        calls.append(1)
        return len(calls)

    assert cache.get(alert(AlertState.SENDING), compute) == 1
    assert cache.get(alert(AlertState.SENDING), compute) == 1  # stale, refresh started
    deadline = time.monotonic() + 5
    while cache.get(alert(AlertState.SENDING), compute) == 1:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    assert len(calls) >= 2


def test_an_overview_too_old_is_recomputed_before_answering() -> None:
    cache, calls = OverviewCache(ttl=0.0, max_age=0.0), []
    compute = lambda: calls.append(1) or len(calls)  # noqa: E731
    assert cache.get(alert(AlertState.SENDING), compute) == 1
    assert cache.get(alert(AlertState.SENDING), compute) == 2
