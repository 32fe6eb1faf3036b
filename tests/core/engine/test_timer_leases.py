"""A page of timer work starts by renewing the timer's lease: a timer taken over by
another engine stops with LeaseLost (a warning), one closed meanwhile (its alert was
cancelled) with TimerClosed (nothing went wrong)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tocsin.engine import work
from tocsin.model import Alert, Message
from tocsin.store.timers import Timer

NOW = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)
LEASE = dt.timedelta(minutes=5)


def _claimed_reminder(runtime: Any, node: str) -> tuple[Alert, Timer]:
    store = runtime.store
    alert = store.alerts.insert(Alert("T", [Message("sms", text="x")]))
    with store.engine.begin() as conn:
        store.timers.add(work.REMINDER, alert.id, NOW, {"round": 1}, now=NOW, conn=conn)
    [timer] = store.timers.claim_due(node, now=NOW, lease=LEASE)
    return alert, timer


def _page(runtime: Any, alert: Alert, timer: Timer, node: str) -> None:
    ctx = work.Context(alert, {}, {}, NOW, node, NOW + LEASE)
    work.run_page(runtime.store, timer, ctx, 10)


def test_a_timer_closed_meanwhile_stops_its_work_as_closed(make_runtime: Any) -> None:
    runtime = make_runtime()
    alert, timer = _claimed_reminder(runtime, "node-a")
    with runtime.store.engine.begin() as conn:
        runtime.store.timers.close_for_alert(int(alert.id or 0), now=NOW, conn=conn)
    with pytest.raises(work.TimerClosed, match="was closed"):
        _page(runtime, alert, timer, "node-a")


def test_a_timer_held_by_another_engine_stops_its_work_as_lost(make_runtime: Any) -> None:
    runtime = make_runtime()
    alert, timer = _claimed_reminder(runtime, "node-a")
    later = NOW + LEASE + dt.timedelta(seconds=1)
    assert runtime.store.timers.claim_due("node-b", now=later, lease=LEASE)  # the lease ran out
    with pytest.raises(work.LeaseLost, match="no longer held by node-a") as raised:
        _page(runtime, alert, timer, "node-a")
    assert not isinstance(raised.value, work.TimerClosed)
