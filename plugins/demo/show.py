"""What the demo prints: where to look and what the contacts do, then one line of
progress each time the alert's figures change."""

from __future__ import annotations

import functools
from pathlib import Path

from rich.console import Console

from tocsin.engine import AlertStatus
from tocsin.model import AlertState
from tocsin.plugins.demo.people import PHONES

ADMIN = "admin"
REMINDERS = ("3m", "6m")
"""Shorter than the defaults (30 min, 1 h) so reminders and recontact happen during a demo."""


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


def intro(console: Console, via: str, duration: float | None, server: bool, url: str | None,
          password: str, config_path: Path, alert_id: int, imported: int, twilio_url: str) -> None:
    """Where to look, how to sign in, and what each contact's phone and mailbox will do."""
    print_ = functools.partial(console.print, markup=False, soft_wrap=True)
    print_()
    if url is not None:
        print_(f"Dashboard: {url}/")
        print_(f"Login: {ADMIN}  Password: {password}")
        print_(f"  this alert:      {url}/alerts/{alert_id}")
        print_(f"  the log:         {url}/log")
        print_(f"  contacts:        {url}/contacts")
        print_(f"  channels/modems: {url}/channels")
        print_(f"  API (OpenAPI):   {url}/api/schema")
    through = "two virtual GSM modems" if via == "modem" else "the Twilio simulator"
    print_(f"Alert {alert_id} sent to {imported} contacts by SMS, call (press 1 to confirm) and e-mail "
           f"through {through} ([engine.routes] chooses) and the local mail server.")
    print_("What the phones do: " + "; ".join(f"{p.pattern} {p.label}" for p in PHONES.values()))
    print_("What the mailboxes do: bounce.* bounce back (rebound), complain.* mark it as spam, "
           "unknown.* are refused (not sent), the others confirm delivery (received).")
    print_(f"Reminders at +{REMINDERS[0]} and +{REMINDERS[1]}; then recontact is possible.")
    print_(f"Configuration: {config_path}  (try: tocsin --config {config_path} alert status {alert_id})")
    if twilio_url:
        print_(f"Twilio simulator: {twilio_url}")
    stop_when = f"after {duration:g} s" if duration is not None else "on Ctrl-C"
    if not server:
        stop_when = "when the alert settles, or " + stop_when
    print_(f"The demo stops {stop_when}.")
    print_()
