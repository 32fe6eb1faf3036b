"""A wake that arrives while a loop is reading is not lost: the loop reads again at once
instead of sleeping until its next poll. Only PostgreSQL runs the engine's database work
in several threads, where a send can commit while the timer loop or a channel's feeder is
still reading."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from tocsin.app import Tocsin
from tocsin.model import Alert, Message
from tocsin.store.schema import attempts

from .conftest import add_group, make_config, person

pytestmark = pytest.mark.postgres

POLL = {"poll": 60}  # far longer than any wait below: only a kept wake gets the work going
ALERT = Alert("Flood", [Message("sms", text="Flood")], reminder_offsets=())


def _record_sends(app: Tocsin, channel_name: str) -> list[int]:
    channel: Any = app.engine.channels[channel_name]
    real_send = channel.send
    sent: list[int] = []

    async def send(outbound: Any) -> Any:
        sent.append(outbound.attempt.id)
        return await real_send(outbound)

    channel.send = send
    return sent


async def _until(condition: Callable[[], bool], what: str, timeout: float = 20) -> None:
    async def poll() -> None:
        while not condition():
            await asyncio.sleep(0.01)

    try:
        await asyncio.wait_for(poll(), timeout)
    except TimeoutError:
        pytest.fail(f"{what}: not within {timeout} s (the engine polls every {POLL['poll']} s)")


def _written(app: Tocsin, alert_id: int) -> int:
    with app.store.engine.connect() as conn:
        query = select(func.count()).select_from(attempts).where(attempts.c.alert_id == alert_id)
        return int(conn.execute(query).scalar_one())


async def test_an_alert_sent_while_the_timer_loop_reads_the_timers_is_fanned_out_at_once(
    pg_url: str, tmp_path: Path, gate: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    sms = {"text": {"type": "console", "means": "sms", "output": "none"}}
    async with Tocsin(make_config(pg_url, tmp_path, sms), engine=POLL) as app:
        add_group(app, "town", [person(i, email=False) for i in range(1, 4)])
        sent = _record_sends(app, "text")
        claim = gate(app.store.timers.claim_due)
        monkeypatch.setattr(app.store.timers, "claim_due", claim)
        claim.arm()
        app.engine.wake()
        await claim.holding()  # the loop has read the timers: none due
        await app.send(ALERT, groups=["town"])  # commits its fan-out timer and wakes the loop
        claim.release()
        await _until(lambda: len(sent) == 3, "the alert's three attempts handed to the channel")


async def test_attempts_left_in_the_outbox_while_the_feeder_reads_it_are_claimed_at_once(
    pg_url: str, tmp_path: Path, gate: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # one worker and a claim of one: the page hands two attempts over and leaves eight
    # in the outbox for the feeder
    sms = {"text": {"type": "console", "means": "sms", "output": "none", "concurrency": 1}}
    async with Tocsin(make_config(pg_url, tmp_path, sms), engine={**POLL, "claim_batch": 1}) as app:
        add_group(app, "town", [person(i, email=False) for i in range(1, 11)])
        sent = _record_sends(app, "text")
        claim = gate(app.store.outbox.claim)
        monkeypatch.setattr(app.store.outbox, "claim", claim)
        claim.arm()
        app.engine.dispatcher.wake()
        await claim.holding()  # the feeder has read the outbox: empty
        alert = await app.send(ALERT, groups=["town"])
        await _until(lambda: len(sent) == 2 and _written(app, int(alert.id or 0)) == 10,
                     "the first page written and its hand-off sent")
        claim.release()
        await _until(lambda: len(sent) == 10, "the eight attempts of the outbox handed to the channel")
