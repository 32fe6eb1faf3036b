"""Engine benchmark: one alert to N contacts by 3 means through instant console channels.

Prints: end-to-end time until every attempt is terminal (each with at least two status
events), status events applied per second, time from "send" to the first hand-over
(p50/p99 over several sends), peak memory, and a plain asyncio + sqlite3 baseline doing
the same writes with no framework, with Tocsin's throughput as a share of it.

    .venv/bin/python benchmarks/engine.py                 # 100k contacts, SQLite
    .venv/bin/python benchmarks/engine.py --postgres      # and PostgreSQL
    .venv/bin/python benchmarks/engine.py --contacts 1000000 --skip-baseline --ttfs 0
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import resource
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, func, insert, select, text

from tocsin.app import Tocsin
from tocsin.config import build_config
from tocsin.model import Alert, AlertState, Message
from tocsin.store import Store
from tocsin.store.schema import attempts, contact_means, contacts, group_members, groups

PG = os.environ.get("TOCSIN_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
UTC = dt.UTC
OTHER_PLUGINS = ("server", "smtp", "twilio", "gsm", "reports", "clamav", "http-gateway")

CHANNELS = {
    "phone": {
        "type": "console",
        "means": "call",
        "output": "none",
        "concurrency": 50,
        "statuses": ["queued", "completed"],
    },
    "text": {
        "type": "console",
        "means": "sms",
        "output": "none",
        "concurrency": 50,
        "statuses": ["accepted", "received"],
    },
    "mail": {
        "type": "console",
        "means": "email",
        "output": "none",
        "concurrency": 50,
        "statuses": ["sent", "received"],
    },
}
ALERT = Alert(
    "Benchmark",
    [
        Message("call", text="This is a test of the alert system."),
        Message("sms", text="Test alert for {{ first_name }}"),
        Message("email", subject="Test alert", text="Hello {{ full_name }}"),
    ],
    reminder_offsets=(),
)


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def seed(store: Store, n: int) -> None:
    """N contacts, each with a mobile and an e-mail, all in group "all" (bulk SQL)."""
    now = dt.datetime.now(UTC)
    chunk = 5000
    with store.engine.begin() as conn:
        gid = conn.execute(
            insert(groups).returning(groups.c.id), {"name": "all", "created_at": now}
        ).scalar_one()
    for start in range(0, n, chunk):
        rows = [
            {
                "first_name": f"F{i}",
                "last_name": f"L{i}",
                "attributes": {},
                "created_at": now,
                "updated_at": now,
            }
            for i in range(start, min(n, start + chunk))
        ]
        with store.engine.begin() as conn:
            ids = (
                conn.execute(insert(contacts).returning(contacts.c.id, sort_by_parameter_order=True), rows)
                .scalars()
                .all()
            )
            conn.execute(
                insert(contact_means),
                [{"contact_id": c, "kind": "mobile", "value": f"+336{c:08d}"} for c in ids]
                + [{"contact_id": c, "kind": "email", "value": f"c{c}@example.org"} for c in ids],
            )
            conn.execute(insert(group_members), [{"group_id": gid, "contact_id": c} for c in ids])
    store.analyze("contacts", "contact_means", "group_members")  # as `tocsin contacts import` does


def db_urls(kind: str) -> tuple[str, Any]:
    if kind == "sqlite":
        folder = Path(tempfile.mkdtemp(prefix="tocsin-bench-"))
        return f"sqlite:///{folder / 'bench.db'}", None
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    return f"{PG}?options=-csearch_path%3D{schema}", (admin, schema)


def drop(cleanup: Any) -> None:
    if cleanup:
        admin, schema = cleanup
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


async def time_to_first_send(app: Tocsin, trials: int) -> list[float]:
    """Send to the whole audience, note when the first attempt reaches a channel, cancel."""
    first: list[float] = []
    channels = list(app.engine.channels.values())
    originals = {c.name: c.send for c in channels}
    marker: dict[str, float] = {}

    def wrap(channel: Any) -> Any:
        original = originals[channel.name]

        async def send(outbound: Any) -> Any:
            marker.setdefault("t", time.perf_counter())
            return await original(outbound)

        return send

    for channel in channels:
        channel.send = wrap(channel)  # type: ignore[method-assign]
    try:
        for _ in range(trials):
            marker.clear()
            start = time.perf_counter()
            alert = await app.send(ALERT, groups=["all"])
            while "t" not in marker:
                await asyncio.sleep(0.001)
            first.append(marker["t"] - start)
            await app.cancel(alert.id)
            await asyncio.sleep(0.05)
    finally:
        for channel in channels:
            channel.send = originals[channel.name]  # type: ignore[method-assign]
    return first


async def applier_rate(app: Tocsin, n: int) -> dict[str, Any]:
    """The status applier alone: two events for each of ``n`` waiting attempts, applied
    in batches through the status machines (SMS: accepted, then received)."""
    from tocsin.model import StatusEvent
    from tocsin.store.bulk import ATTEMPT_ROWS, Bulk

    store = app.store
    now = dt.datetime.now(UTC)
    alert = await app.engine.db(lambda: store.alerts.insert(Alert("applier", [Message("sms", text="x")])))
    with store.engine.connect() as conn:
        contact_ids = list(conn.execute(select(contacts.c.id).order_by(contacts.c.id).limit(n)).scalars())
    bulk = Bulk(store.dialect)
    stamp = bulk.ts(now)
    rows = [
        (alert.id, c, "sms", "nowhere", f"+336{c:08d}", "initial", 0, stamp, stamp, stamp)
        for c in contact_ids
    ]
    with store.engine.begin() as conn:
        bulk.insert(conn, ATTEMPT_ROWS, rows)
        ids = list(conn.execute(select(attempts.c.id).where(attempts.c.alert_id == alert.id)).scalars())
    applier = app.engine.applier
    start = time.perf_counter()
    cpu = time.process_time()
    for status in ("accepted", "received"):
        for i in range(0, len(ids), 20_000):  # batches as a busy engine would queue them
            for aid in ids[i : i + 20_000]:
                applier.report(StatusEvent(status, now, attempt_id=aid, source="bench"))
            while applier.pending:
                await applier.flush()
    elapsed = time.perf_counter() - start
    return {
        "applier_events": 2 * len(ids),
        "applier_events_per_s": round(2 * len(ids) / elapsed),
        "applier_cpu_s": round(time.process_time() - cpu, 2),
    }


async def run_tocsin(url: str, n: int, ttfs_trials: int) -> dict[str, Any]:
    config = build_config(
        {
            "tocsin": {
                "database": url,
                "data_dir": tempfile.mkdtemp(prefix="tocsin-bench-data-"),
                # the engine alone: observers of other plugins (outbound webhooks...) are not measured
                "disable_plugins": [p for p in OTHER_PLUGINS],
            },
            "channels": CHANNELS,
        }
    )
    store = Store.open(url, upgrade=True)
    t0 = time.perf_counter()
    seed(store, n)
    seeded = time.perf_counter() - t0
    store.close()
    result: dict[str, Any] = {"contacts": n, "seed_s": round(seeded, 1)}
    async with Tocsin(config, engine={"flush_max": 20000, "claim_batch": 2000, "page": 2000}) as app:
        base_events = app.engine.applier.totals["events"]
        start = time.perf_counter()
        cpu = time.process_time()
        alert = await app.send(ALERT, groups=["all"])
        status = await app.wait_finished(alert.id, timeout=1800, poll=0.25)
        elapsed = time.perf_counter() - start
        cpu = time.process_time() - cpu
        events = app.engine.applier.totals["events"] - base_events
        assert status.alert.state is AlertState.FINISHED, status.alert.state
        with app.store.engine.connect() as conn:
            total = conn.execute(
                select(func.count()).select_from(attempts).where(attempts.c.alert_id == alert.id)
            ).scalar_one()
            terminal = conn.execute(
                select(func.count())
                .select_from(attempts)
                .where(attempts.c.alert_id == alert.id, attempts.c.reached.is_not(None))
            ).scalar_one()
            few_events = conn.execute(
                text(
                    "select count(*) from (select attempt_id from status_events se join attempts a "
                    "on a.id = se.attempt_id where a.alert_id = :a group by attempt_id having count(*) < 2) x"
                ),
                {"a": alert.id},
            ).scalar_one()
        result.update(
            attempts=total,
            terminal=terminal,
            attempts_with_fewer_than_2_events=few_events,
            end_to_end_s=round(elapsed, 2),
            cpu_s=round(cpu, 2),
            attempts_per_s=round(total / elapsed),
            events=events,
            events_applied_per_s=round(events / elapsed),
            contacted=status.counts.contacted,
        )
        result.update(await applier_rate(app, 100_000))
        if ttfs_trials:
            samples = sorted(await time_to_first_send(app, ttfs_trials))
            result["ttfs_p50_ms"] = round(statistics.median(samples) * 1000, 1)
            result["ttfs_p99_ms"] = round(samples[min(len(samples) - 1, int(0.99 * len(samples)))] * 1000, 1)
            result["ttfs_max_ms"] = round(samples[-1] * 1000, 1)
    result["peak_rss_mb"] = round(peak_mb())
    return result


def baseline(n: int) -> dict[str, Any]:
    """The same writes with plain asyncio and sqlite3: attempts inserted in bulk, two
    status updates and two events per attempt, in batches, from one worker thread."""
    folder = Path(tempfile.mkdtemp(prefix="tocsin-baseline-"))
    path = folder / "b.db"
    store = Store.open(f"sqlite:///{path}", upgrade=True)
    seed(store, n)
    store.close()

    def work() -> tuple[float, float]:
        db = sqlite3.connect(path)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        now = dt.datetime.now(UTC).replace(tzinfo=None).isoformat(" ")
        start = time.perf_counter()
        cpu = time.process_time()
        ids = [r[0] for r in db.execute("select contact_id from group_members order by contact_id")]
        db.execute(
            "insert into alerts (title, category, requires_confirmation, state, spec, created_at, "
            "updated_at) values ('b', 'g', 0, 'sending', '{}', ?, ?)",
            (now, now),
        )
        alert_id = db.execute("select max(id) from alerts").fetchone()[0]
        for i in range(0, len(ids), 2000):
            page = ids[i : i + 2000]
            with db:
                db.executemany(
                    "insert into alert_contacts (alert_id, contact_id, missing) values (?, ?, '')",
                    [(alert_id, c) for c in page],
                )
                db.executemany(
                    "insert into attempts (alert_id, contact_id, means, channel, address, kind, round,"
                    " status, error, tries, anomalies, created_at, due_at, updated_at) "
                    "values (?, ?, ?, ?, ?, 'initial', 0, '', '', 0, 0, ?, ?, ?)",
                    [
                        (alert_id, c, m, m, f"a{c}", now, now, now)
                        for c in page
                        for m in ("call", "sms", "email")
                    ],
                )
        rows = [r[0] for r in db.execute("select id from attempts where alert_id = ?", (alert_id,))]
        for status, reached in (("accepted", None), ("received", 1)):
            for i in range(0, len(rows), 20000):
                batch = rows[i : i + 20000]
                with db:
                    db.executemany(
                        "update attempts set status = ?, reached = ?, updated_at = ? where id = ?",
                        [(status, reached, now, a) for a in batch],
                    )
                    db.executemany(
                        "insert into status_events (attempt_id, status, at, received_at, reason, source,"
                        " data, anomaly) values (?, ?, ?, ?, '', 'b', '{}', '')",
                        [(a, status, now, now) for a in batch],
                    )
        elapsed = time.perf_counter() - start, time.process_time() - cpu
        db.close()
        return elapsed

    elapsed, cpu = asyncio.run(asyncio.to_thread(work))  # type: ignore[arg-type]
    return {"baseline_s": round(elapsed, 2), "baseline_cpu_s": round(cpu, 2), "baseline_attempts": 3 * n}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--postgres", action="store_true", help="also run on PostgreSQL")
    parser.add_argument("--only-postgres", action="store_true")
    parser.add_argument("--skip-baseline", action="store_true")
    parser.add_argument("--ttfs", type=int, default=20, help="sends used to measure time to first send")
    args = parser.parse_args()
    kinds = ["postgres"] if args.only_postgres else ["sqlite"] + (["postgres"] if args.postgres else [])
    report: dict[str, Any] = {}
    if not args.skip_baseline and "sqlite" in kinds:
        report["baseline"] = baseline(args.contacts)
        print("baseline (asyncio + sqlite3):", json.dumps(report["baseline"]), flush=True)
    for kind in kinds:
        url, cleanup = db_urls(kind)
        try:
            report[kind] = asyncio.run(run_tocsin(url, args.contacts, args.ttfs))
        finally:
            drop(cleanup)
        print(f"tocsin on {kind}:", json.dumps(report[kind]), flush=True)
    if "baseline" in report and "sqlite" in report:
        share = report["baseline"]["baseline_s"] / report["sqlite"]["end_to_end_s"]
        cpu_share = report["baseline"]["baseline_cpu_s"] / report["sqlite"]["cpu_s"]
        print(
            f"Tocsin's throughput on SQLite is {share:.0%} of the plain asyncio+sqlite3 baseline "
            f"(by CPU time, {cpu_share:.0%}; wall-clock shares suffer when the machine is shared)"
        )
    print(f"peak memory of this process: {peak_mb():.0f} MB", file=sys.stderr)


if __name__ == "__main__":
    main()
