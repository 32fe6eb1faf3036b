"""Benchmark: import 100,000 contacts from CSV (target: under 20 s, peak memory under 500 MB).

Usage: python benchmarks/contacts_import.py [--rows N] [--postgres URL]
Each run happens in a fresh child process so that its peak RSS is the import's own; on
PostgreSQL it runs in a schema of its own, dropped afterwards.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FIRST = ["Léa", "Noé", "Jade", "Louis", "Emma", "Gabriel", "Chloé", "Raphaël", "Inès", "Arthur"]
LAST = ["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau"]


def make_csv(path: Path, rows: int) -> None:
    rng = random.Random(7)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, delimiter=";")
        writer.writerow(
            ["Identifiant", "Prénom", "Nom", "Portable", "Email", "Téléphone", "Département", "Quartier"]
        )
        for i in range(rows):
            writer.writerow([
                f"c{i}", rng.choice(FIRST), rng.choice(LAST), f"06{12000000 + i:08d}",
                f"person{i}@example.org", f"04{72000000 + i:08d}" if i % 3 == 0 else "",
                f"{rng.randint(1, 95):02d}", rng.choice(["Nord", "Sud", "Centre"]),
            ])


def _schema_url(url: str, schema: str, *, create: bool) -> str:
    """Create (or drop) ``schema`` and return a URL whose search path is it."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin = create_engine(url)
    with admin.begin() as conn:
        verb = f'CREATE SCHEMA "{schema}"' if create else f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'
        conn.execute(text(verb))
    admin.dispose()
    scoped = make_url(url).update_query_dict({"options": f"-csearch_path={schema}"})
    return scoped.render_as_string(hide_password=False)


def child(url: str, path: str) -> None:
    from tocsin.contacts_import import import_contacts
    from tocsin.store import Store

    store = Store.open(url, upgrade=True)
    before = resource.getrusage(resource.RUSAGE_SELF)
    start = time.perf_counter()
    result = import_contacts(store, path, region="FR")
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    peak_mb = after.ru_maxrss / 1024
    print(json.dumps({"rows": result.rows, "seconds": elapsed, "cpu": cpu, "peak_mb": peak_mb}))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--postgres", default="", help="also run against this PostgreSQL URL")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "contacts.csv"
        make_csv(path, args.rows)
        targets = [("sqlite", f"sqlite:///{Path(tmp) / 'bench.db'}")]
        schema = f"bench_import_{os.getpid()}"
        if args.postgres:
            targets.append(("postgresql", _schema_url(args.postgres, schema, create=True)))
        print(f"contacts import: {args.rows} rows, {path.stat().st_size / 1e6:.1f} MB CSV")
        for name, url in targets:
            out = subprocess.run([sys.executable, __file__, "--child", url, str(path)],
                                 capture_output=True, text=True, check=True).stdout
            figures = json.loads(out.strip().splitlines()[-1])
            rate = figures["rows"] / figures["seconds"]
            if name == "postgresql":
                _schema_url(args.postgres, schema, create=False)
            print(f"  {name:<10} {figures['seconds']:6.2f} s wall, {figures['cpu']:6.2f} s CPU  "
                  f"{rate:8.0f} rows/s  peak RSS {figures['peak_mb']:.0f} MB   (targets: < 20 s, < 500 MB)")
        print(f"  (machine load average now: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
