"""Durability and several processes: an engine killed with SIGKILL in the middle of a
send loses nothing and sends nothing twice except what was in flight (and not even that
through a channel honouring idempotency keys); two engines on one PostgreSQL database
never send the same attempt."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from sqlalchemy import select

from tocsin.app import Tocsin
from tocsin.model import Alert, Contact, ContactMeans, Message
from tocsin.store import Store
from tocsin.store.schema import attempts

HERE = Path(__file__).parent
RUNNER = HERE / "run_engine.py"


def _config(tmp_path: Path, db_url: str, lease: str = "2s") -> Path:
    path = tmp_path / "tocsin.toml"
    data = {
        "tocsin": {
            "data_dir": str(tmp_path / "data"),
            "database": db_url,
            "disable_plugins": ["server", "smtp", "twilio", "gsm", "reports", "clamav"],
        },
        "engine": {"lease": lease, "claim_batch": 50, "poll": 0.1},
        "channels": {
            "text": {"type": "recording", "means": "sms", "log": str(tmp_path / "sms.log")},
            "mail": {
                "type": "recording",
                "means": "email",
                "log": str(tmp_path / "mail.log"),
                "idempotent": True,
            },
        },
    }
    path.write_text(tomli_w.dumps(data))
    return path


def _seed(db_url: str, n: int) -> None:
    store = Store.open(db_url, upgrade=True)
    ids = store.contacts.upsert(
        [
            Contact(
                first_name=f"C{i}",
                means=[ContactMeans("mobile", f"+336{i:08d}"), ContactMeans("email", f"c{i}@example.org")],
            )
            for i in range(n)
        ]
    ).ids
    store.groups.create("all")
    store.groups.add("all", ids)
    store.close()


async def _queue_alert(config: Path) -> int:
    sys.path.insert(0, str(HERE))
    import recording_channel  # type: ignore[import-not-found]

    async with Tocsin(
        str(config), dispatch=False, background=False, plugins=[("recording", recording_channel)]
    ) as app:
        alert = await app.send(
            Alert(
                "Durable",
                [Message("sms", text="Hi {{ first_name }}"), Message("email", subject="S", text="x")],
                reminder_offsets=(),
            ),
            groups=["all"],
        )
    return int(alert.id or 0)


def _start(config: Path) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, str(RUNNER), str(config)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    return proc


def _records(path: Path) -> list[tuple[str, int, int]]:
    if not path.exists():
        return []
    out = []
    for line in path.read_text().splitlines():
        parts = line.split()
        if len(parts) == 3:  # a line cut by the kill is not a send
            out.append((parts[0], int(parts[1]), int(parts[2])))
    return out


def _statuses(db_url: str, alert_id: int) -> dict[int, tuple[str, str]]:
    store = Store.open(db_url)
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(attempts.c.id, attempts.c.means, attempts.c.status).where(attempts.c.alert_id == alert_id)
        ).all()
    store.close()
    return {r.id: (r.means, r.status) for r in rows}


def _all_received(db_url: str, alert_id: int, expected: int) -> bool:
    statuses = _statuses(db_url, alert_id)
    return len(statuses) == expected and all(s == "received" for _, s in statuses.values())


def _wait(condition: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


@pytest.mark.slow
def test_sigkill_mid_send_loses_nothing_and_resends_only_what_was_in_flight(
    db_url: str, tmp_path: Path
) -> None:
    n = 600
    _seed(db_url, n)
    config = _config(tmp_path, db_url)
    alert_id = asyncio.run(_queue_alert(config))
    first = _start(config)
    try:
        # the kill comes once the whole fan-out is written (its pages race the first sends)
        _wait(
            lambda: len(_records(tmp_path / "sms.log")) + len(_records(tmp_path / "mail.log")) >= 300
            and len(_statuses(db_url, alert_id)) == 2 * n,
            120,
            "a few hundred sends and the whole fan-out written",
        )
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    at_kill = _statuses(db_url, alert_id)
    sent_before = {aid for _, aid, _ in _records(tmp_path / "sms.log") + _records(tmp_path / "mail.log")}
    assert len(at_kill) == 2 * n, "every attempt was in the outbox before the kill"
    pending_at_kill = {aid for aid, (_, status) in at_kill.items() if status == ""}
    assert pending_at_kill, "the kill happened mid-send"
    in_flight = sent_before & pending_at_kill  # handed to the channel, acceptance not yet stored

    second = _start(config)
    try:
        _wait(
            lambda: _all_received(db_url, alert_id, 2 * n),
            120,
            "every attempt to be delivered after the restart",
        )
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(30)

    final = _statuses(db_url, alert_id)
    assert set(final) == set(at_kill)
    sms = Counter(aid for kind, aid, _ in _records(tmp_path / "sms.log") if kind == "deliver")
    mail = Counter(aid for kind, aid, _ in _records(tmp_path / "mail.log") if kind == "deliver")
    sms_ids = {aid for aid, (means, _) in final.items() if means == "sms"}
    mail_ids = set(final) - sms_ids
    assert set(sms) == sms_ids and set(mail) == mail_ids, "nothing lost"
    twice = {aid for aid, count in sms.items() if count > 1}
    assert twice <= in_flight, "only attempts in flight at the kill were sent again"
    assert all(count == 1 for count in mail.values()), "the idempotency key prevented every second delivery"


@pytest.mark.slow
@pytest.mark.postgres
def test_two_engines_on_one_postgresql_database_never_send_the_same_attempt(
    pg_url: str, tmp_path: Path
) -> None:
    n = 500
    _seed(pg_url, n)
    config = _config(tmp_path, pg_url, lease="30s")
    engines = [_start(config), _start(config)]
    try:
        alert_id = asyncio.run(_queue_alert(config))
        _wait(lambda: _all_received(pg_url, alert_id, 2 * n), 180, "every attempt to be delivered")
    finally:
        for proc in engines:
            proc.send_signal(signal.SIGTERM)
        for proc in engines:
            proc.wait(30)
    deliveries = _records(tmp_path / "sms.log") + _records(tmp_path / "mail.log")
    counts = Counter(aid for kind, aid, _ in deliveries)
    assert len(counts) == 2 * n and set(counts.values()) == {1}, "each attempt sent exactly once"
    by_engine = Counter(pid for _, _, pid in deliveries)
    assert set(by_engine) == {p.pid for p in engines}, f"both engines sent: {dict(by_engine)}"
