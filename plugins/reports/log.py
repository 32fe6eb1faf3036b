"""The communications log: every attempt of a period, newest first, with its means,
status, dates, recipient and communication; filters by means, status, alert, contact.

An attempt belongs to the period in which it was created (written to the outbox), which
is when it was sent for every attempt that left; the period is read in the deployment's
time zone (see :mod:`tocsin.plugins.reports.periods`). A page is loaded; an unpaginated
run streams every row through ``as_table()``; a page counts its matches up to
:data:`COUNT_CAP`. The export's chart is the split of the period's attempts into
reached, in progress and not reached.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

from attrs import field, frozen
from sqlalchemy import ColumnElement, Select, func, select

from tocsin.plugins.reports.citizens import _limit, _not_negative, waiting_is_pending
from tocsin.plugins.reports.overview import status_labels
from tocsin.plugins.reports.periods import Period, first_week_day, resolve
from tocsin.plugins.reports.sql import QueryRows, flag, is_reached, local
from tocsin.report import Chart, Column, Report, Table, bind_params
from tocsin.runtime import Runtime
from tocsin.store.schema import alerts, attempts, contacts


@frozen
class LogParams:
    period: str = "this-week"
    start: dt.date | None = None
    end: dt.date | None = None
    means: str | None = None
    status: str | None = field(default=None, converter=waiting_is_pending)  # type: ignore[misc]
    alert_id: int | None = None
    contact_id: int | None = None
    limit: int | None = field(default=50, validator=_limit)
    offset: int = field(default=0, validator=_not_negative)


@frozen
class LogEntry:
    attempt_id: int
    means: str
    status: str
    label: str
    kind: str
    sent_at: dt.datetime | None
    completed_at: dt.datetime | None
    created_at: dt.datetime
    contact_id: int
    recipient: str
    address: str
    alert_id: int | None
    communication: str


@frozen(slots=False)
class LogPage:
    """One page of the log. ``total`` counts the matching attempts up to
    :data:`COUNT_CAP` (``total_capped`` says there are more: narrow the period or
    export, which has them all)."""

    period: Period
    total: int
    total_capped: bool
    offset: int
    limit: int | None
    items: tuple[LogEntry, ...]
    filename: str

    def as_table(self) -> Table:
        stream: Callable[[], Table] = self.__dict__["_stream"]
        return stream()


COUNT_CAP = 10_000
"""A page counts matching attempts up to this many (counting a million takes seconds)."""

COLUMNS = (
    Column("means", "Type"),
    Column("status", "Status"),
    Column("sent_at", "Date sent", dt.datetime),
    Column("completed_at", "Date completed", dt.datetime),
    Column("recipient", "Recipient"),
    Column("address", "Address"),
    Column("communication", "Communication"),
    Column("kind", "Kind"),
    Column("attempt_id", "Attempt", int),
)


def _filters(p: LogParams, period: Period) -> list[ColumnElement[bool]]:
    conds = [attempts.c.created_at >= period.start, attempts.c.created_at < period.end]
    if p.means:
        conds.append(attempts.c.means == p.means)
    if p.status is not None:
        conds.append(attempts.c.status == p.status)
    if p.alert_id is not None:
        conds.append(attempts.c.alert_id == p.alert_id)
    if p.contact_id is not None:
        conds.append(attempts.c.contact_id == p.contact_id)
    return conds


def _rows(conds: list[ColumnElement[bool]]) -> Select[Any]:
    recipient = func.trim(contacts.c.first_name + " " + contacts.c.last_name)
    return (
        select(
            attempts.c.id, attempts.c.means, attempts.c.status, attempts.c.kind,
            attempts.c.sent_at, attempts.c.completed_at, attempts.c.created_at,
            attempts.c.contact_id, recipient.label("recipient"), attempts.c.address,
            attempts.c.alert_id, func.coalesce(alerts.c.title, "").label("communication"),
        )
        .select_from(
            attempts.join(contacts, contacts.c.id == attempts.c.contact_id).outerjoin(
                alerts, alerts.c.id == attempts.c.alert_id
            )
        )
        .where(*conds)
        .order_by(attempts.c.created_at.desc(), attempts.c.id.desc())
    )


def period_of(runtime: Runtime, p: LogParams) -> Period:
    core = runtime.config.core
    return resolve(p.period, runtime.clock.now(), core.zone, first_week_day(core.locale),
                   p.start, p.end)


def communications_log(runtime: Runtime, p: LogParams) -> LogPage:
    """One page of the log (see the module documentation)."""
    zone = runtime.config.core.zone
    labels = status_labels(runtime)
    period = period_of(runtime, p)
    conds = _filters(p, period)

    def label(means: str, status: str) -> str:
        return str(labels.get(means, {}).get(status, status or "waiting"))

    with runtime.store.engine.connect() as conn:
        matching = select(attempts.c.id).where(*conds).limit(COUNT_CAP + 1).subquery()
        counted = int(conn.execute(select(func.count()).select_from(matching)).scalar_one())
        items: tuple[LogEntry, ...] = ()
        if p.limit is not None:
            items = tuple(
                LogEntry(r.id, r.means, r.status, label(r.means, r.status), r.kind,
                         local(r.sent_at, zone), local(r.completed_at, zone),
                         r.created_at.astimezone(zone), r.contact_id, r.recipient, r.address,
                         r.alert_id, r.communication)
                for r in conn.execute(_rows(conds).limit(p.limit).offset(p.offset))
            )
    today = runtime.clock.now().astimezone(zone).date()
    name = f"CommunicationsLog-{today.isoformat()}"
    page = LogPage(period, min(counted, COUNT_CAP), counted > COUNT_CAP, p.offset, p.limit, items,
                   name)

    def table() -> Table:
        with runtime.store.engine.connect() as conn:
            split = conn.execute(
                select(func.count(), func.sum(flag(is_reached())),
                       func.sum(flag(attempts.c.reached.is_(None)))).where(*conds)
            ).one()
        total, reached, pending = int(split[0]), int(split[1] or 0), int(split[2] or 0)
        chart = Chart("Attempts", ("reached", "in progress", "not reached"),
                      (reached, pending, total - reached - pending))
        query = _rows(conds)
        if p.limit is not None:
            query = query.limit(p.limit)
        if p.offset:
            query = query.offset(p.offset)

        def convert(r: Any) -> Sequence[Any]:
            return (r.means, label(r.means, r.status), local(r.sent_at, zone),
                    local(r.completed_at, zone), r.recipient, r.address, r.communication, r.kind,
                    r.id)

        title = f"Communications log {period.first.isoformat()} to {period.last.isoformat()}"
        return Table(title, COLUMNS, QueryRows(runtime.store.engine, query, convert),
                     meta={"total": total}, filename=name, chart=chart)

    page.__dict__["_stream"] = table
    return page


REPORT = Report(
    name="log",
    title="Communications log",
    run=lambda runtime, **values: communications_log(runtime, bind_params(LogParams, values)),
    description="Every attempt of a period, newest first (today, this-week, last-week, "
    "this-month, last-month, last-7-days, last-14-days, last-30-days, custom).",
    params=LogParams,
)
