"""``tocsin alert``: send an alert, follow it, recontact, cancel, list."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.live import Live
from rich.table import Table

from tocsin.app import Tocsin
from tocsin.cli.state import CliState, pass_state
from tocsin.config import parse_duration
from tocsin.engine import AlertStatus
from tocsin.errors import ConfigError, TocsinError, ValidationError
from tocsin.model import Alert, AlertState, Category, EscalationPlan, EscalationStep, Message
from tocsin.serialize import dump

DONE = (AlertState.FINISHED, AlertState.CANCELLED)


# -- reading an alert from options or a file ---------------------------------------------


def _durations(values: Any, key: str) -> tuple[dt.timedelta, ...]:
    if not isinstance(values, list):
        raise ValidationError(f'{key}: expected a list of durations such as ["30m", "1h"]')
    try:
        return tuple(parse_duration(v, key=key) for v in values)
    except ConfigError as exc:
        raise ValidationError(str(exc)) from None


def alert_from_data(data: Mapping[str, Any], where: str) -> Alert:
    """An alert from a TOML/JSON document (see ``tocsin alert send --help``)."""
    known = {
        "title",
        "category",
        "requires_confirmation",
        "messages",
        "reminders",
        "target",
        "plan",
        "campaign_id",
    }
    if unknown := set(data) - known:
        raise ValidationError(f"{where}: unknown key(s) {sorted(unknown)}; known: {sorted(known)}")
    raw_messages = data.get("messages", [])
    if not isinstance(raw_messages, list) or not all(isinstance(m, Mapping) for m in raw_messages):
        raise ValidationError(f"{where}: messages must be a list of tables with a `means`")
    messages = []
    for i, m in enumerate(raw_messages):
        extra = set(m) - {"means", "text", "subject", "html", "audio_url", "repeat"}
        if extra or not m.get("means"):
            raise ValidationError(
                f"{where}: messages[{i}] needs `means` and may have text, subject, html, "
                f"audio_url, repeat (unknown: {sorted(extra)})"
            )
        messages.append(Message(**{k: v for k, v in m.items()}))
    plan = None
    if "plan" in data:
        p = data["plan"]
        steps = tuple(
            EscalationStep(s["means"], parse_duration(s.get("after", 0), key=f"{where}: plan.steps.after"))
            for s in p.get("steps", [])
        )
        plan = EscalationPlan(
            steps,
            cycles=int(p.get("cycles", 1)),
            cycle_interval=parse_duration(
                p.get("cycle_interval", "30m"), key=f"{where}: plan.cycle_interval"
            ),
        )
    return Alert(
        title=str(data.get("title", "")),
        messages=messages,
        category=Category(
            str(data.get("category", "general")), bool(data.get("requires_confirmation", False))
        ),
        reminder_offsets=_durations(data["reminders"], f"{where}: reminders")
        if "reminders" in data
        else None,
        target_confirmations=int(data["target"]) if data.get("target") is not None else None,
        plan=plan,
        campaign_id=data.get("campaign_id"),
    )


def read_alert_file(path: Path) -> Alert:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ValidationError(f"{path}: {exc.strerror}") from None
    try:
        data = json.loads(raw) if path.suffix == ".json" else tomllib.loads(raw.decode())
    except (ValueError, tomllib.TOMLDecodeError) as exc:
        raise ValidationError(
            f"{path}: not valid {'JSON' if path.suffix == '.json' else 'TOML'}: {exc}"
        ) from None
    return alert_from_data(data, str(path))


# -- showing progress --------------------------------------------------------------------


def status_table(status: AlertStatus) -> Table:
    alert = status.alert
    c = status.counts
    table = Table(title=f"Alert {alert.id}: {alert.title} ({alert.state})", title_justify="left")
    for col in ("contacted", "in progress", "not contacted", "audience"):
        table.add_column(col, justify="right")
    table.add_row(str(c.contacted), str(c.in_progress), str(c.not_contacted), str(status.audience))
    return table


def means_table(status: AlertStatus) -> Table:
    table = Table(title="Attempts by means and status", title_justify="left")
    table.add_column("means")
    table.add_column("status")
    table.add_column("attempts", justify="right")
    for means, counts in sorted(status.statuses.items()):
        for name, n in sorted(counts.items()):
            table.add_row(means, name or "waiting", str(n))
    return table


def _view(status: AlertStatus) -> Table:
    outer = Table.grid()
    outer.add_row(status_table(status))
    outer.add_row(means_table(status))
    return outer


def _settled(status: AlertStatus) -> bool:
    """Nothing more happens without the clock moving: finished, or every attempt written
    so far has its outcome and no work is due now."""
    if status.alert.state in DONE:
        return True
    now_due = [t for t in status.open_timers if t.kind in ("fanout", "recontact")]
    return status.open_attempts == 0 and not now_due


async def follow(app: Tocsin, alert_id: int, console: Console, timeout: float | None) -> AlertStatus:
    """Show live progress until the alert settles (or ``timeout`` seconds pass)."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    status = await app.status(alert_id)
    with Live(_view(status), console=console, refresh_per_second=4, transient=False) as live:
        while not _settled(status):
            if timeout is not None and loop.time() - start > timeout:
                break
            await asyncio.sleep(0.25)
            status = await app.status(alert_id)
            live.update(_view(status))
    return status


def _print_next(state: CliState, status: AlertStatus) -> None:
    later = [t for t in status.open_timers if t.kind in ("reminder", "escalation")]
    if later:
        when = min(t.due_at for t in later)
        state.console.print(
            f"{len(later)} reminder/escalation step(s) pending, the next at {when:%Y-%m-%d %H:%M:%S} UTC; "
            "`tocsin engine run` sends them."
        )


def _run(coro: Any) -> Any:
    try:
        return asyncio.run(coro)
    except TocsinError as exc:
        raise click.ClickException(str(exc)) from None


# -- commands ------------------------------------------------------------------------------


@click.group("alert")
def command() -> None:
    """Send alerts and follow them."""


@command.command("send")
@click.option("--title", help="The alert's title.")
@click.option("--category", default="general", show_default=True)
@click.option(
    "--confirm", "requires_confirmation", is_flag=True, help="Calls count only when the contact presses 1."
)
@click.option(
    "--means", "only_means", multiple=True, help="Send only by these means (default: every message given)."
)
@click.option("--sms", "sms_text", help="SMS text (Jinja2 template over the contact's fields).")
@click.option("--call", "call_text", help="Call script read by text-to-speech.")
@click.option("--email-subject")
@click.option("--email-text")
@click.option("--email-html")
@click.option(
    "--file",
    "file_",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The alert as TOML or JSON: title, category, requires_confirmation, messages, "
    "reminders, target, plan.",
)
@click.option("--group", "groups", multiple=True, help="Audience: members of this group (repeatable).")
@click.option(
    "--contact", "contacts", multiple=True, type=int, help="Audience: this contact id (repeatable)."
)
@click.option(
    "--wait/--no-wait",
    default=True,
    show_default=True,
    help="Send from this process with live progress, or only queue it for `tocsin engine run`.",
)
@click.option("--timeout", type=float, default=None, help="Stop following after this many seconds.")
@click.option("--json", "as_json", is_flag=True, help="Print the final status as JSON.")
@pass_state
def send(
    state: CliState,
    title: str | None,
    category: str,
    requires_confirmation: bool,
    only_means: tuple[str, ...],
    sms_text: str | None,
    call_text: str | None,
    email_subject: str | None,
    email_text: str | None,
    email_html: str | None,
    file_: Path | None,
    groups: tuple[str, ...],
    contacts: tuple[int, ...],
    wait: bool,
    timeout: float | None,
    as_json: bool,
) -> None:
    """Send an alert to groups and contacts; everything is checked before anything is written."""
    if file_ is not None:
        alert = read_alert_file(file_)
        if title:
            alert = _retitle(alert, title)
    else:
        messages = []
        if call_text:
            messages.append(Message("call", text=call_text))
        if sms_text:
            messages.append(Message("sms", text=sms_text))
        if email_subject or email_text or email_html:
            messages.append(
                Message("email", subject=email_subject or "", text=email_text or "", html=email_html or "")
            )
        alert = Alert(title or "", messages, category=Category(category, requires_confirmation))
    if only_means:
        missing = sorted(set(only_means) - set(alert.means))
        if missing:
            raise click.ClickException(f"no message given for means {', '.join(missing)}")
        alert = _only(alert, only_means)

    async def go() -> None:
        async with Tocsin(state.config, dispatch=wait) as app:
            sent = await app.send(alert, groups=groups, contacts=contacts)
            state.err.print(
                f"alert {sent.id} sending to {', '.join(groups) or 'contacts'} by {', '.join(sent.means)}"
            )
            if not wait:
                state.console.print(f"alert {sent.id} queued; `tocsin engine run` sends it")
                return
            status = await follow(app, int(sent.id or 0), state.err, timeout)
            if as_json:
                click.echo(json.dumps(_status_data(status), indent=2))
            else:
                _print_next(state, status)

    _run(go())


def _retitle(alert: Alert, title: str) -> Alert:
    from attrs import evolve

    return evolve(alert, title=title)


def _only(alert: Alert, means: tuple[str, ...]) -> Alert:
    from attrs import evolve

    return evolve(alert, messages=tuple(m for m in alert.messages if m.means in means))


def _status_data(status: AlertStatus) -> dict[str, Any]:
    return {
        "alert": dump(status.alert),
        "counts": dump(status.counts),
        "statuses": {m: dict(c) for m, c in status.statuses.items()},
        "audience": status.audience,
        "open_timers": [{"kind": t.kind, "due_at": t.due_at.isoformat()} for t in status.open_timers],
        "recontacts": status.recontacts,
        "recontact_allowed": status.recontact_refusal is None,
        "recontact_refusal": status.recontact_refusal,
    }


@command.command("status")
@click.argument("alert_id", type=int)
@click.option("--json", "as_json", is_flag=True)
@pass_state
def status_(state: CliState, alert_id: int, as_json: bool) -> None:
    """Show an alert's outcome counts, attempts by status and what is pending."""

    async def go() -> None:
        async with Tocsin(state.config, dispatch=False, background=False) as app:
            status = await app.status(alert_id)
        if as_json:
            click.echo(json.dumps(_status_data(status), indent=2))
            return
        state.console.print(status_table(status))
        state.console.print(means_table(status))
        _print_next(state, status)
        if status.recontact_refusal:
            state.console.print(f"recontact not available: {status.recontact_refusal}")
        else:
            state.console.print(f"recontact available: `tocsin alert recontact {alert_id}`")

    _run(go())


@command.command("recontact")
@click.argument("alert_id", type=int)
@click.option("--by", "username", help="The operator asking (recorded).")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation (a recontact cannot be undone).")
@click.option("--wait/--no-wait", default=True, show_default=True)
@click.option("--timeout", type=float, default=None)
@pass_state
def recontact(
    state: CliState, alert_id: int, username: str | None, yes: bool, wait: bool, timeout: float | None
) -> None:
    """Attempt again, now, every contact of the alert not yet reached (after the reminders)."""
    if not yes:
        click.confirm(
            f"Recontact the uncontacted contacts of alert {alert_id}? This cannot be undone", abort=True
        )

    async def go() -> None:
        async with Tocsin(state.config, dispatch=wait) as app:
            by = None
            if username:
                by = (await app.engine.db(lambda: app.store.users.by_username(username)))[0].id
            done = await app.recontact(alert_id, by=by)
            state.err.print(
                f"recontact {done.id} of alert {alert_id} recorded at {done.requested_at:%H:%M:%S}"
            )
            if wait:
                await follow(app, alert_id, state.err, timeout)

    _run(go())


@command.command("cancel")
@click.argument("alert_id", type=int)
@pass_state
def cancel(state: CliState, alert_id: int) -> None:
    """Cancel an alert: waiting attempts are cancelled, those in flight finish."""

    async def go() -> None:
        async with Tocsin(state.config, dispatch=False, background=False) as app:
            alert = await app.cancel(alert_id)
            counts = await app.outcome_counts(alert_id)
        state.console.print(f"alert {alert.id} cancelled; contacted {counts.contacted} of {counts.total}")

    _run(go())


@command.command("list")
@click.option("--limit", default=20, show_default=True)
@pass_state
def list_(state: CliState, limit: int) -> None:
    """Alerts, most recently modified first."""

    async def go() -> None:
        async with Tocsin(state.config, dispatch=False, background=False) as app:
            alerts = await app.alerts(limit=limit)
            table = Table(title="Alerts")
            for col in ("id", "title", "state", "means", "sent", "contacted", "audience"):
                table.add_column(col)
            for a in alerts:
                counts = await app.outcome_counts(int(a.id or 0))
                table.add_row(
                    str(a.id),
                    a.title,
                    str(a.state),
                    ", ".join(a.means),
                    f"{a.sent_at:%Y-%m-%d %H:%M}" if a.sent_at else "",
                    str(counts.contacted),
                    str(counts.total),
                )
        state.console.print(table)

    _run(go())
