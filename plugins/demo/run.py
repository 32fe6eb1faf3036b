"""One run of ``tocsin demo``, in order: a fresh data folder, the providers, the
configuration, the engine (``Tocsin``), the contacts imported from a CSV file, an
administrator, the reference server, then a real alert sent through the engine, followed
until Ctrl-C, ``--duration``, or (without the server) until it settles; then the final
report. Everything listens on 127.0.0.1 only.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import signal
import socket
from pathlib import Path
from typing import Any

from attrs import frozen
from rich.console import Console

from tocsin.app import Tocsin
from tocsin.cli.alert_cmd import means_table, status_table
from tocsin.config import load_config
from tocsin.contacts_import import import_contacts
from tocsin.engine import AlertStatus
from tocsin.model import Role, User
from tocsin.plugins.demo.alert import GROUP, demo_alert
from tocsin.plugins.demo.folder import prepare, write_config
from tocsin.plugins.demo.people import citizens, write_csv
from tocsin.plugins.demo.providers import Providers, running_providers
from tocsin.plugins.demo.serving import HOST, bind, serving
from tocsin.plugins.demo.show import ADMIN, REMINDERS, intro, progress_line, settled
from tocsin.store import Store

PROGRESS_EVERY = 2.0
QUIET_LOGGERS = ("mail.log",)


@frozen
class DemoOptions:
    data_dir: Path
    port: int = 8000
    via: str = "modem"
    duration: float | None = None
    server: bool = True
    contacts: int = 50
    time_scale: float = 0.05


def run_demo(options: DemoOptions, console: Console) -> None:
    """Run the demo in this process (see the module documentation)."""
    lock = prepare(options.data_dir)
    try:
        sock = bind(options.port) if options.server else None
        try:
            asyncio.run(_main(options, console, sock))
        finally:
            if sock is not None:
                sock.close()
    finally:
        lock.close()


def _config(folder: Path, options: DemoOptions, providers: Providers, base_url: str) -> dict[str, Any]:
    return {
        "tocsin": {"data_dir": str(folder), "default_region": "FR", "timezone": "Europe/Paris",
                   "locale": "fr_FR", "base_url": base_url},
        "server": {"host": HOST, "port": options.port},
        "reminders": {"offsets": list(REMINDERS)},
        "engine": {"poll": 0.2, "routes": providers.routes},
        "channels": providers.channels,
    }


def _seed(store: Store, folder: Path, count: int) -> int:
    """Import the citizens through the ordinary importer, into the demo's group."""
    path = write_csv(folder / "contacts.csv", citizens(count))
    store.groups.create(GROUP, "Citoyens de démonstration")
    return int(import_contacts(store, path, region="FR", group=GROUP).created)


def _admin(store: Store) -> str:
    from tocsin.plugins.server.passwords import hash_password

    password = secrets.token_urlsafe(12)
    store.users.create(User(ADMIN, display_name="Administrateur (démo)", role=Role.ADMINISTRATOR),
                       password_hash=hash_password(password))
    return password


def _quiet_loggers() -> None:
    """Litestar's logging setup (the reference server's, the simulator's) lets every
    library's INFO lines through (the mail server's dialogue, migrations...): they would
    bury the demo's own lines. Warnings and errors still show."""
    for name in ("", *QUIET_LOGGERS):
        logging.getLogger(name).setLevel(logging.WARNING)


def _stop_event() -> asyncio.Event:
    """Set on the first Ctrl-C or SIGTERM; a second one interrupts as usual."""
    loop, stop = asyncio.get_running_loop(), asyncio.Event()
    signals = (signal.SIGINT, signal.SIGTERM)

    def on_signal() -> None:
        stop.set()
        for sig in signals:
            loop.remove_signal_handler(sig)

    for sig in signals:
        loop.add_signal_handler(sig, on_signal)
    return stop


async def _follow(app: Tocsin, alert_id: int, console: Console, stop: asyncio.Event,
                  options: DemoOptions) -> AlertStatus:
    loop = asyncio.get_running_loop()
    start = loop.time()
    deadline = start + options.duration if options.duration is not None else None
    last = ""
    while True:
        status = await app.status(alert_id)
        line = progress_line(status)
        if line != last:
            console.print(f"[{loop.time() - start:5.0f}s] {line}", highlight=False, markup=False,
                          soft_wrap=True)
            last = line
        if not options.server and settled(status):
            return status
        wait = PROGRESS_EVERY if deadline is None else min(PROGRESS_EVERY, deadline - loop.time())
        if wait <= 0:
            return status
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), wait)
        if stop.is_set():
            return await app.status(alert_id)


async def _main(options: DemoOptions, console: Console, sock: socket.socket | None) -> None:
    folder = options.data_dir.resolve()
    (folder / "ports").mkdir()
    base_url = f"http://{HOST}:{options.port}"
    stop = _stop_event()
    final: AlertStatus | None = None
    async with running_providers(options.via, scale=options.time_scale, base_url=base_url,
                                 link_dir=folder / "ports") as providers:
        _quiet_loggers()
        config_path = write_config(folder, _config(folder, options, providers, base_url))
        app = Tocsin(load_config(str(config_path)))
        await app.start()
        try:
            imported = await asyncio.to_thread(_seed, app.store, folder, options.contacts)
            password = await asyncio.to_thread(_admin, app.store)
            async with contextlib.AsyncExitStack() as stack:
                url = None
                if sock is not None:
                    url = await stack.enter_async_context(serving(app.runtime, sock))
                _quiet_loggers()
                alert = await app.send(demo_alert(), groups=[GROUP])
                assert alert.id is not None
                intro(console, options.via, options.duration, options.server, url, password,
                      config_path, alert.id, imported, providers.twilio_url)
                final = await _follow(app, alert.id, console, stop, options)
                console.print("Stopping: what is already in a modem's or a server's hands "
                              "finishes first (a few seconds)...", markup=False, soft_wrap=True)
        finally:
            await app.stop()
    if final is not None:
        console.print()
        console.print(status_table(final))
        console.print(means_table(final))
        for line in providers.summary():
            console.print(line, markup=False, soft_wrap=True)
