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
from tocsin.model import AlertState, Role, User
from tocsin.plugins.demo.alert import GROUP, demo_alert
from tocsin.plugins.demo.folder import prepare, write_config
from tocsin.plugins.demo.people import PHONES, citizens, write_csv
from tocsin.plugins.demo.providers import Providers, running_providers
from tocsin.plugins.demo.serving import HOST, bind, serving
from tocsin.store import Store

ADMIN = "admin"
REMINDERS = ("3m", "6m")
"""Shorter than the defaults (30 min, 1 h) so reminders and recontact happen during a demo."""
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


def settled(status: AlertStatus) -> bool:
    """Nothing more happens until a timer (reminder) is due."""
    if status.alert.state in (AlertState.FINISHED, AlertState.CANCELLED):
        return True
    due_now = [t for t in status.open_timers if t.kind in ("fanout", "recontact")]
    return status.open_attempts == 0 and not due_now


def progress_line(status: AlertStatus) -> str:
    c = status.counts
    parts = [f"contacted {c.contacted} · in progress {c.in_progress} · not contacted {c.not_contacted}"]
    for means in sorted(status.statuses):
        counts = sorted(status.statuses[means].items(), key=lambda kv: (-kv[1], kv[0]))
        parts.append(f"{means}: " + ", ".join(f"{n} {s or 'waiting'}" for s, n in counts))
    return " | ".join(parts)


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


def _intro(console: Console, options: DemoOptions, url: str | None, password: str,
           config_path: Path, alert_id: int, imported: int, providers: Providers) -> None:
    print_ = console.print
    print_()
    if url is not None:
        print_(f"Dashboard: {url}/", markup=False, soft_wrap=True)
        print_(f"Login: {ADMIN}  Password: {password}", markup=False, soft_wrap=True)
        print_(f"  this alert:      {url}/alerts/{alert_id}", markup=False, soft_wrap=True)
        print_(f"  the log:         {url}/log", markup=False, soft_wrap=True)
        print_(f"  contacts:        {url}/contacts", markup=False, soft_wrap=True)
        print_(f"  channels/modems: {url}/channels", markup=False, soft_wrap=True)
        print_(f"  API (OpenAPI):   {url}/api/schema", markup=False, soft_wrap=True)
    through = "two virtual GSM modems" if options.via == "modem" else "the Twilio simulator"
    print_(f"Alert {alert_id} sent to {imported} contacts by SMS, call (press 1 to confirm) and e-mail "
           f"through {through} ([engine.routes] chooses) and the local mail server.",
           markup=False, soft_wrap=True)
    print_("What the phones do: " + "; ".join(f"{p.pattern} {p.label}" for p in PHONES.values()),
           markup=False, soft_wrap=True)
    print_("What the mailboxes do: bounce.* bounce back (rebound), complain.* mark it as spam, "
           "unknown.* are refused (not sent), the others confirm delivery (received).",
           markup=False, soft_wrap=True)
    print_(f"Reminders at +{REMINDERS[0]} and +{REMINDERS[1]}; then recontact is possible.",
           markup=False, soft_wrap=True)
    print_(f"Configuration: {config_path}  (try: tocsin --config {config_path} alert status {alert_id})",
           markup=False, soft_wrap=True)
    if providers.twilio_url:
        print_(f"Twilio simulator: {providers.twilio_url}", markup=False, soft_wrap=True)
    stop_when = f"after {options.duration:g} s" if options.duration is not None else "on Ctrl-C"
    if not options.server:
        stop_when = "when the alert settles, or " + stop_when
    print_(f"The demo stops {stop_when}.", markup=False, soft_wrap=True)
    print_()


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
                _intro(console, options, url, password, config_path, alert.id, imported, providers)
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
