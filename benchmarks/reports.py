"""Benchmark of the report plugins on a large store; prints figures, asserts nothing.

With 1,000,000 attempts in the store (100,000 contacts, one alert of 300,000 attempts and
seven of 100,000), it measures on SQLite and PostgreSQL:

- the overview of the 300,000-attempt alert (target < 200 ms),
- the first page of the communications log for "this month" and "last 30 days"
  (target < 200 ms),
- the first page of the by-citizen report,
- the statisticsAlert XLSX of the alert's 100,000 contacts, written by a fresh process
  whose peak memory (max RSS) is read (target < 15 s, < 300 MB).

Usage: ``python benchmarks/reports.py [--attempts N] [--sqlite-only | --postgres-only]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tocsin.builtin_statuses import CALL, EMAIL, SMS
from tocsin.clock import FakeClock
from tocsin.config import build_config
from tocsin.model import Alert, AlertState, Attempt, AttemptKind, Contact, ContactMeans, Message
from tocsin.plugin_manager import load_plugins
from tocsin.registry import build_registry
from tocsin.runtime import Runtime
from tocsin.store import Store

NOW = dt.datetime(2026, 3, 28, 12, 0, tzinfo=dt.UTC)
PG = os.environ.get("TOCSIN_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
MACHINES = (CALL, SMS, EMAIL)
CHUNK = 50_000


def runtime_for(store: Store) -> Runtime:
    config = build_config({"tocsin": {"timezone": "Europe/Paris", "locale": "fr_FR"}}, environ={})
    pm = load_plugins(config)
    return Runtime(config, pm, build_registry(pm), store, FakeClock(NOW))


def _attempt(rng: random.Random, alert_id: int, contact_id: int, start: dt.datetime) -> Attempt:
    machine = rng.choice(MACHINES)
    status = rng.choice(("", *machine.states))
    terminal = status in machine.terminal
    reached = (status in machine.reached) if terminal else None
    created = start + dt.timedelta(seconds=rng.randrange(0, 4 * 3600))
    sent = created + dt.timedelta(seconds=rng.randrange(1, 60)) if status else None
    done = sent + dt.timedelta(seconds=rng.randrange(5, 3600)) if terminal and sent else None
    return Attempt(alert_id, contact_id, machine.means, f"addr-{contact_id}", status,
                   kind=AttemptKind.INITIAL, reached=reached,
                   error=rng.choice(("", "unreachable handset", "busy")) if reached is False else "",
                   created_at=created, sent_at=sent, completed_at=done)


def populate(store: Store, total: int, contacts_n: int, big: int) -> int:
    """Fill the store; returns the id of the big alert."""
    rng = random.Random(8)
    t0 = time.perf_counter()
    people = [
        Contact(f"First{i}", f"Last{i:06d}", means=[
            ContactMeans("email", f"c{i}@example.org"), ContactMeans("mobile", f"+336{i:08d}")])
        for i in range(contacts_n)
    ]
    ids: list[int] = []
    for i in range(0, contacts_n, CHUNK):
        ids.extend(store.contacts.upsert(people[i : i + CHUNK], now=NOW).ids)
    del people
    alerts_n = 1 + max(0, (total - big) // contacts_n)
    big_id = 0
    written = 0
    for a in range(alerts_n):
        size = big if a == 0 else min(contacts_n, total - written)
        if size <= 0:
            break
        start = NOW - dt.timedelta(days=29 - a * 3, hours=3)
        alert = store.alerts.insert(
            Alert(f"Benchmark alert {a}", [Message("sms", "x")], state=AlertState.SENDING, sent_at=start),
            now=start)
        assert alert.id is not None
        big_id = big_id or alert.id
        per_contact = max(1, size // contacts_n)
        audience = ids[: min(contacts_n, size)]
        with store.transaction() as conn:
            store.alerts.add_audience(alert.id, [(c, "") for c in audience], conn)
        batch: list[Attempt] = []
        for c in audience:
            for _ in range(per_contact):
                batch.append(_attempt(rng, alert.id, c, start))
                if len(batch) == CHUNK:
                    store.attempts.insert_many(batch, now=NOW, returning=False)
                    written += len(batch)
                    batch = []
        if batch:
            store.attempts.insert_many(batch, now=NOW, returning=False)
            written += len(batch)
    print(f"  populated {written:,} attempts, {contacts_n:,} contacts in {time.perf_counter() - t0:.0f} s")
    return big_id


def timed(fn: Callable[[], Any], runs: int = 5) -> tuple[float, Any]:
    result = fn()  # warm caches
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000, result


def xlsx_in_child(url: str, alert_id: int, out: Path) -> tuple[float, float]:
    """Write the XLSX in a fresh interpreter; returns (seconds, peak RSS in MB)."""
    folder = str(Path(__file__).parent)
    code = (
        f"import sys, time; sys.path.insert(0, {folder!r})\n"
        "from reports import runtime_for\n"
        "from tocsin.store import Store\n"
        f"rt = runtime_for(Store.open({url!r}))\n"
        "t = time.perf_counter()\n"
        f"result = rt.registry.reports['statistics'].value.run(rt, alert_id={alert_id})\n"
        f"with open({str(out)!r}, 'wb') as fh: rt.registry.exporters['xlsx'].value.write(result, fh)\n"
        "print(time.perf_counter() - t)\n"
    )
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return float(proc.stdout.strip().splitlines()[-1]), max(peak_kb, before) / 1024


def bench(label: str, url: str, total: int, contacts_n: int, big: int, reuse: bool = False) -> None:
    print(f"{label}:")
    store = Store.open(url, upgrade=True)
    if reuse:
        with store.engine.connect() as conn:
            big_id = int(conn.execute(text("SELECT min(id) FROM alerts")).scalar_one())
    else:
        big_id = populate(store, total, contacts_n, big)
    # What autovacuum does on a live database: statistics, and PostgreSQL's visibility map
    # (without it no index-only scan is possible on freshly loaded rows).
    if store.dialect == "postgresql":
        with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    else:
        with store.engine.begin() as conn:
            conn.execute(text("ANALYZE"))
    rt = runtime_for(store)
    reports = rt.registry.reports
    ms, o = timed(lambda: reports["overview"].value.run(rt, alert_id=big_id))
    print(f"  overview of an alert of {sum(m.attempts for m in o.total.means):,} attempts: {ms:.0f} ms")
    for period in ("this-month", "last-30-days"):
        ms, page = timed(lambda p=period: reports["log"].value.run(rt, period=p, limit=50))
        print(f"  communications log, {period}, first page of 50 "
              f"(of {page.total:,}{'+' if page.total_capped else ''}): {ms:.0f} ms")
    ms, page = timed(lambda: reports["log"].value.run(rt, period="last-30-days", means="sms",
                                                      status="received", limit=50))
    print(f"  communications log, last-30-days, sms received, first page "
          f"(of {page.total:,}{'+' if page.total_capped else ''}): {ms:.0f} ms")
    ms, page = timed(lambda: reports["citizens"].value.run(rt, alert_id=big_id, limit=50))
    print(f"  by citizen, first page of 50 (of {page.total:,}): {ms:.0f} ms")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "statisticsAlert.xlsx"
        seconds, peak = xlsx_in_child(url, big_id, out)
        print(f"  statisticsAlert.xlsx of {contacts_n:,} contacts: {seconds:.1f} s, "
              f"peak RSS {peak:.0f} MB, {out.stat().st_size / 1e6:.1f} MB")
    store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--attempts", type=int, default=1_000_000)
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--big", type=int, default=300_000, help="attempts of the measured alert")
    parser.add_argument("--sqlite-only", action="store_true")
    parser.add_argument("--postgres-only", action="store_true")
    parser.add_argument("--keep", metavar="SCHEMA",
                        help="PostgreSQL: fill this schema once and keep it (later runs reuse it)")
    parser.add_argument("--sqlite-file", metavar="PATH",
                        help="SQLite: fill this file once and keep it (later runs reuse it)")
    args = parser.parse_args()
    if not args.postgres_only and args.sqlite_file:
        path = Path(args.sqlite_file)
        bench("SQLite", f"sqlite:///{path}", args.attempts, args.contacts, args.big,
              reuse=path.exists())
    elif not args.postgres_only:
        with tempfile.TemporaryDirectory() as tmp:
            bench("SQLite", f"sqlite:///{tmp}/bench.db", args.attempts, args.contacts, args.big)
    if not args.sqlite_only:
        schema = args.keep or f"bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(PG)
        with admin.begin() as conn:
            exists = conn.execute(text("SELECT 1 FROM pg_namespace WHERE nspname = :s"),
                                  {"s": schema}).first()
            if not exists:
                conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        try:
            url = make_url(PG).update_query_dict({"options": f"-csearch_path={schema}"})
            bench("PostgreSQL", url.render_as_string(hide_password=False), args.attempts,
                  args.contacts, args.big, reuse=bool(exists))
        finally:
            if not args.keep:
                with admin.begin() as conn:
                    conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()


if __name__ == "__main__":
    main()
