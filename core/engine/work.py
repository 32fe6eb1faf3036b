"""Timer work, one page at a time: the fan-out, reminder rounds, escalation steps and
recontacts. Each page runs in one transaction that writes its attempts and moves the
timer's cursor, so a crash resumes at the next page and never writes a page twice.

These functions are synchronous (the engine runs them in its database thread); what to
attempt is decided by :mod:`tocsin.rules`, this module only writes it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from attrs import field, frozen
from sqlalchemy import Connection, select, update

from tocsin import rules
from tocsin.engine.audience import ResolvedAudience, page
from tocsin.model import Alert, Attempt, AttemptKind, Contact, ContactMeans
from tocsin.status import PENDING, StatusMachine
from tocsin.store import Store
from tocsin.store.attempts import to_attempt
from tocsin.store.bulk import ATTEMPT_ROWS, CLAIMED_ATTEMPT_ROWS, Bulk
from tocsin.store.contacts import SENDING_COLUMNS, sending_contact
from tocsin.store.filters import among
from tocsin.store.schema import alert_contacts, attempts, contact_means, contacts, recontacts
from tocsin.store.timers import Timer

FANOUT = "fanout"
REMINDER = "reminder"
ESCALATION = "escalation"
RECONTACT = "recontact"
KINDS = (FANOUT, REMINDER, ESCALATION, RECONTACT)


@frozen
class PageResult:
    """What one page wrote: attempts, for which channels, and whether the timer is done;
    ``claimed`` are the attempts written already claimed for this engine (the hand-off),
    ``contacts`` the page's contacts as read for sending (the hand-off renders with them)."""

    done: bool
    written: int = 0
    channels: frozenset[str] = frozenset()
    payload: Mapping[str, Any] | None = None
    claimed: tuple[Attempt, ...] = ()
    contacts: Mapping[int, Contact] = field(factory=dict)


@frozen
class Context:
    """What page functions need to know besides the store."""

    alert: Alert
    machines: Mapping[str, StatusMachine]
    routes: Mapping[str, str]
    now: dt.datetime
    node: str = ""
    lease_until: dt.datetime | None = None
    hand_off: Mapping[str, int] = field(factory=dict)
    """How many new attempts of each channel this engine's pools take at once: those are
    written already claimed (leased to ``node`` until ``lease_until``, one try counted)
    and handed to the pools, with no claim to run for them."""


class LeaseLost(Exception):
    """Another engine took this timer over (our lease ran out): the page is rolled back."""


class TimerClosed(LeaseLost):
    """The timer was closed meanwhile (its alert was cancelled or met its target): the
    work simply stops; nothing went wrong."""


def _address(contact: Contact | None, machine: StatusMachine) -> str | None:
    if contact is None or contact.opted_out:
        return None
    means = contact.preferred(*machine.address_kinds)
    return means.value if means else None


NewAttempt = tuple[Any, ...]
"""An attempt row for :data:`tocsin.store.bulk.ATTEMPT_ROWS` (channel at index 3)."""


def _new_attempt(
    ctx: Context, bulk: Bulk, contact_id: int, means: str, address: str, kind: AttemptKind, round_: int
) -> NewAttempt:
    now = bulk.ts(ctx.now)
    return (ctx.alert.id, contact_id, means, ctx.routes[means], address, str(kind), round_, now, now, now)


def _reachable(conn: Connection, ids: Sequence[int]) -> dict[int, Contact]:
    """The page's contacts with their means, whether they opted out and the fields
    templates use: the one read of them the page and the hand-off need."""
    means: dict[int, list[ContactMeans]] = {}
    for row in conn.execute(
        select(
            contact_means.c.contact_id, contact_means.c.kind, contact_means.c.value,
            contact_means.c.preference, contact_means.c.failing,
        ).where(among(contact_means.c.contact_id, ids, conn.dialect.name))
    ):
        means.setdefault(row.contact_id, []).append(
            ContactMeans(row.kind, row.value, preference=row.preference, failing=row.failing)
        )
    return {
        row.id: sending_contact(row, means.get(row.id, ()))
        for row in conn.execute(select(*SENDING_COLUMNS).where(among(contacts.c.id, ids, conn.dialect.name)))
    }


def _hold(store: Store, timer: Timer, ctx: Context, conn: Connection) -> None:
    """Renew the lease first thing in the page's transaction; a timer closed meanwhile
    (the alert was cancelled) or taken over stops here, before any work."""
    if ctx.lease_until is not None and not store.timers.extend(timer.id, ctx.node, ctx.lease_until, conn):
        if store.timers.is_done(timer.id, conn):
            raise TimerClosed(f"timer {timer.id} was closed (its alert was cancelled or is over)")
        raise LeaseLost(f"timer {timer.id} is no longer held by {ctx.node}")


def _finish_page(
    store: Store,
    timer: Timer,
    payload: Mapping[str, Any],
    new: Sequence[NewAttempt],
    last_id: int,
    done: bool,
    ctx: Context,
    conn: Connection,
    contacts: Mapping[int, Contact] | None = None,
) -> PageResult:
    bulk = Bulk(store.dialect)
    waiting, claimed = _split_hand_off(new, ctx)
    handed = _write_claimed(store, bulk, claimed, ctx, conn)
    bulk.insert(conn, ATTEMPT_ROWS, waiting)
    moved = {**payload, "after": last_id}
    store.timers.progress(timer.id, moved, conn)
    if done:
        store.timers.complete(timer.id, now=ctx.now, conn=conn)
    return PageResult(done, len(new), frozenset(a[3] for a in new), moved, handed, contacts or {})


def _split_hand_off(new: Sequence[NewAttempt], ctx: Context) -> tuple[list[NewAttempt], list[NewAttempt]]:
    """The page's attempts to leave in the outbox, and those to write claimed."""
    if not ctx.hand_off or ctx.lease_until is None or not ctx.node:
        return list(new), []
    room = dict(ctx.hand_off)
    waiting: list[NewAttempt] = []
    claimed: list[NewAttempt] = []
    for row in new:
        channel = row[3]
        if room.get(channel, 0) > 0:
            room[channel] -= 1
            claimed.append(row)
        else:
            waiting.append(row)
    return waiting, claimed


def _new_ids(store: Store, n: int, conn: Connection) -> list[int]:
    """``n`` ids for attempts about to be written with explicit ids."""
    if store.dialect == "postgresql":
        return store.attempts.next_ids(n, conn)
    # SQLite: the page's transaction holds the database's single write lock already (its
    # timer's lease was renewed first), so nobody else takes ids meanwhile
    top = int(conn.exec_driver_sql("SELECT COALESCE(MAX(id), 0) FROM attempts").scalar_one())
    return list(range(top + 1, top + 1 + n))


def _write_claimed(
    store: Store, bulk: Bulk, rows: Sequence[NewAttempt], ctx: Context, conn: Connection
) -> tuple[Attempt, ...]:
    if not rows:
        return ()
    until = bulk.ts(ctx.lease_until)
    ids = _new_ids(store, len(rows), conn)
    bulk.insert(
        conn, CLAIMED_ATTEMPT_ROWS, [(i, *row, ctx.node, until, 1) for i, row in zip(ids, rows, strict=True)]
    )
    return tuple(
        Attempt(
            id=i, alert_id=row[0], contact_id=row[1], means=row[2], channel=row[3], address=row[4],
            kind=row[5], round=row[6], status=PENDING, tries=1,
        )
        for i, row in zip(ids, rows, strict=True)
    )


def fanout_page(store: Store, timer: Timer, ctx: Context, size: int) -> PageResult:
    """The next page of the initial send: record the audience (with the means each
    contact has no address for) and write the attempts of the means due now."""
    payload = timer.payload
    audience = ResolvedAudience.from_payload(payload["audience"])
    now_means = set(payload.get("means", ctx.alert.means))
    with store.engine.begin() as conn:
        _hold(store, timer, ctx, conn)
        ids = page(conn, audience, int(payload.get("after", 0)), size)
        if not ids:
            store.timers.complete(timer.id, now=ctx.now, conn=conn)
            return PageResult(True)
        found = _reachable(conn, ids)
        bulk = Bulk(store.dialect)
        audience_rows: list[tuple[int, str]] = []
        new: list[NewAttempt] = []
        for cid in ids:
            contact = found.get(cid)
            if contact is None:  # deleted since the alert was sent
                continue
            missing = []
            for means in ctx.alert.means:
                address = _address(contact, ctx.machines[means])
                if address is None:
                    missing.append(means)
                elif means in now_means:
                    new.append(_new_attempt(ctx, bulk, cid, means, address, AttemptKind.INITIAL, 0))
            audience_rows.append((cid, ",".join(missing)))
        store.alerts.add_audience(int(ctx.alert.id or 0), audience_rows, conn)
        return _finish_page(store, timer, payload, new, ids[-1], len(ids) < size, ctx, conn, found)


def _audience_page(conn: Connection, alert_id: int, after: int, size: int) -> list[int]:
    return list(
        conn.execute(
            select(alert_contacts.c.contact_id)
            .where(alert_contacts.c.alert_id == alert_id, alert_contacts.c.contact_id > after)
            .order_by(alert_contacts.c.contact_id)
            .limit(size)
        ).scalars()
    )


def _page_attempts(conn: Connection, alert_id: int, ids: Sequence[int]) -> list[Attempt]:
    return [
        to_attempt(r)
        for r in conn.execute(
            select(attempts).where(
                attempts.c.alert_id == alert_id, among(attempts.c.contact_id, ids, conn.dialect.name)
            )
        )
    ]


def _latest(items: Sequence[Attempt]) -> dict[tuple[int, str], Attempt]:
    latest: dict[tuple[int, str], Attempt] = {}
    for a in items:
        key = (a.contact_id, a.means)
        if key not in latest or (a.id or 0) > (latest[key].id or 0):
            latest[key] = a
    return latest


def _targets(kind: str, ctx: Context, payload: Mapping[str, Any], by_contact: Any, items: Sequence[Attempt]
             ) -> list[tuple[int, str]]:
    """The rules' choice of ``(contact, means)`` pairs for one page."""
    reminder_like = rules.reminder_targets(ctx.alert, by_contact, items)
    if kind == REMINDER:
        return reminder_like
    if kind == RECONTACT:
        chosen = set(rules.recontact_targets(by_contact))
        return [(c, m) for c, m in reminder_like if c in chosen]
    step_means = payload["means"]
    return [(c, m) for c, m in reminder_like if m == step_means]


def again_page(store: Store, timer: Timer, ctx: Context, size: int) -> PageResult:
    """The next page of a reminder round, an escalation step or a recontact: the rules
    pick who is attempted again, by which means, from the page's attempts."""
    payload = timer.payload
    kind = timer.kind
    attempt_kind = {
        REMINDER: AttemptKind.REMINDER,
        RECONTACT: AttemptKind.RECONTACT,
        ESCALATION: AttemptKind.ESCALATION,
    }[kind]
    round_ = int(payload.get("round", 0))
    alert_id = int(ctx.alert.id or 0)
    with store.engine.begin() as conn:
        _hold(store, timer, ctx, conn)
        ids = _audience_page(conn, alert_id, int(payload.get("after", 0)), size)
        if not ids:
            store.timers.complete(timer.id, now=ctx.now, conn=conn)
            return PageResult(True)
        items = _page_attempts(conn, alert_id, ids)
        by_contact = rules.outcomes(ids, items)
        targets = [(c, m) for c, m in _targets(kind, ctx, payload, by_contact, items) if m in ctx.routes]
        latest = _latest(items)
        need_contact = [c for c, m in targets if (c, m) not in latest]
        found = _reachable(conn, sorted(set(need_contact))) if need_contact else {}
        bulk = Bulk(store.dialect)
        new: list[NewAttempt] = []
        for cid, means in targets:
            last = latest.get((cid, means))
            address = last.address if last is not None else _address(found.get(cid), ctx.machines[means])
            if address:
                new.append(_new_attempt(ctx, bulk, cid, means, address, attempt_kind, round_))
        if kind == RECONTACT and new and payload.get("recontact_id"):
            conn.execute(
                update(recontacts)
                .where(recontacts.c.id == payload["recontact_id"])
                .values(attempts=recontacts.c.attempts + len(new))
            )
        return _finish_page(store, timer, payload, new, ids[-1], len(ids) < size, ctx, conn, found)


def run_page(store: Store, timer: Timer, ctx: Context, size: int) -> PageResult:
    """One page of any kind of timer work."""
    if timer.kind == FANOUT:
        return fanout_page(store, timer, ctx, size)
    return again_page(store, timer, ctx, size)


__all__ = [
    "ESCALATION",
    "FANOUT",
    "KINDS",
    "RECONTACT",
    "REMINDER",
    "Context",
    "LeaseLost",
    "PageResult",
    "TimerClosed",
    "run_page",
]
