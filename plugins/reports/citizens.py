"""By citizen: every contact of an alert with its outcome and, under it, every attempt
by every means (initial, reminders, recontacts) with status, sent and completed times.

Filters: outcome, means, status (a contact is listed when one of its attempts matches,
and only the matching attempts are shown under it), and a name search. A page of
contacts is loaded; an unpaginated run (``limit`` unset) loads no items and streams
every matching row through ``as_table()`` (for CSV and XLSX exports).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

import attrs
from attrs import field, frozen
from sqlalchemy import ColumnElement, Select, and_, case, exists, func, literal, or_, select, true

from tocsin.errors import NotFoundError, ValidationError
from tocsin.model import Outcome
from tocsin.plugins.reports.overview import status_labels
from tocsin.plugins.reports.sql import QueryRows, local
from tocsin.report import Column, Report, Table, bind_params
from tocsin.runtime import Runtime
from tocsin.store.filters import chunks
from tocsin.store.schema import alert_contacts, alerts, attempts, contacts

MAX_PAGE = 1000


def _outcome_value(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return str(Outcome(value.replace("-", " ").replace("_", " ")))
    except ValueError:
        known = ", ".join(o.value for o in Outcome)
        raise ValidationError(f"outcome: {value!r} is not one of {known}") from None


def _limit(_: Any, attribute: attrs.Attribute[Any], value: int | None) -> None:
    if value is not None and not 1 <= value <= MAX_PAGE:
        raise ValidationError(f"limit: {value} is not between 1 and {MAX_PAGE}")


def _not_negative(_: Any, attribute: attrs.Attribute[Any], value: int) -> None:
    if value < 0:
        raise ValidationError(f"{attribute.name}: {value} is negative")


def waiting_is_pending(value: str | None) -> str | None:
    """Users call the outbox status (the empty string) *waiting*."""
    return "" if value == "waiting" else value


@frozen
class CitizensParams:
    alert_id: int
    outcome: str | None = field(default=None, converter=_outcome_value)
    means: str | None = None
    status: str | None = field(default=None, converter=waiting_is_pending)
    search: str = ""
    limit: int | None = field(default=50, validator=_limit)
    offset: int = field(default=0, validator=_not_negative)


@frozen
class CitizenAttempt:
    id: int
    means: str
    kind: str
    round: int
    address: str
    status: str
    label: str
    reached: bool | None
    sent_at: dt.datetime | None
    completed_at: dt.datetime | None
    error: str


@frozen
class Citizen:
    contact_id: int
    first_name: str
    last_name: str
    outcome: str
    attempts: tuple[CitizenAttempt, ...]


@frozen(slots=False)
class CitizensPage:
    alert_id: int
    title: str
    total: int
    offset: int
    limit: int | None
    items: tuple[Citizen, ...]
    filename: str = "citizens"

    def as_table(self) -> Table:
        stream: Callable[[], Table] = self.__dict__["_stream"]
        return stream()


def _outcome_expr(alert_id: int) -> ColumnElement[str]:
    def has(cond: ColumnElement[bool]) -> ColumnElement[bool]:
        return exists().where(
            attempts.c.alert_id == alert_id, attempts.c.contact_id == alert_contacts.c.contact_id, cond
        )

    return case(
        (has(attempts.c.reached == true()), literal(str(Outcome.CONTACTED))),
        (has(attempts.c.reached.is_(None)), literal(str(Outcome.IN_PROGRESS))),
        else_=literal(str(Outcome.NOT_CONTACTED)),
    )


def _attempt_filter(p: CitizensParams) -> list[ColumnElement[bool]]:
    conds: list[ColumnElement[bool]] = []
    if p.means:
        conds.append(attempts.c.means == p.means)
    if p.status is not None:
        conds.append(attempts.c.status == p.status)
    return conds


def _contacts_query(p: CitizensParams, *, counting: bool = False) -> Select[Any]:
    columns: list[Any] = [contacts.c.id]
    if not counting:  # the outcome is worked out for the rows shown, not for a count
        columns += [contacts.c.first_name, contacts.c.last_name,
                    _outcome_expr(p.alert_id).label("outcome")]
    query = (
        select(*columns)
        .select_from(alert_contacts.join(contacts, contacts.c.id == alert_contacts.c.contact_id))
        .where(alert_contacts.c.alert_id == p.alert_id)
    )
    if p.outcome:
        query = query.where(_outcome_expr(p.alert_id) == p.outcome)
    if conds := _attempt_filter(p):
        query = query.where(
            exists().where(
                attempts.c.alert_id == p.alert_id, attempts.c.contact_id == contacts.c.id, *conds
            )
        )
    if term := p.search.strip().lower():
        pattern = f"%{term}%"
        full = func.lower(contacts.c.first_name + " " + contacts.c.last_name)
        query = query.where(
            or_(func.lower(contacts.c.first_name).like(pattern),
                func.lower(contacts.c.last_name).like(pattern), full.like(pattern))
        )
    return query


def _ordered(query: Select[Any]) -> Select[Any]:
    return query.order_by(contacts.c.last_name, contacts.c.first_name, contacts.c.id)


TABLE_COLUMNS = (
    Column("contact_id", "Contact", int),
    Column("first_name", "First name"),
    Column("last_name", "Last name"),
    Column("outcome", "Outcome"),
    Column("means", "Means"),
    Column("kind", "Kind"),
    Column("address", "Address"),
    Column("status", "Status"),
    Column("sent_at", "Sent", dt.datetime),
    Column("completed_at", "Completed", dt.datetime),
    Column("error", "Reason"),
)


def citizens(runtime: Runtime, p: CitizensParams) -> CitizensPage:
    """One page of the alert's contacts with their attempts (see the module docs)."""
    engine = runtime.store.engine
    zone = runtime.config.core.zone
    labels = status_labels(runtime)
    base = _contacts_query(p)
    with engine.connect() as conn:
        title = conn.execute(select(alerts.c.title).where(alerts.c.id == p.alert_id)).scalar_one_or_none()
        if title is None:
            raise NotFoundError(f"no alert with id {p.alert_id}")
        counted = _contacts_query(p, counting=True).subquery()
        total = int(conn.execute(select(func.count()).select_from(counted)).scalar_one())
        items: tuple[Citizen, ...] = ()
        if p.limit is not None:
            page = conn.execute(_ordered(base).limit(p.limit).offset(p.offset)).all()
            found: dict[int, list[CitizenAttempt]] = {r.id: [] for r in page}
            for chunk in chunks([r.id for r in page], 500):
                for a in conn.execute(
                    select(attempts)
                    .where(attempts.c.alert_id == p.alert_id, attempts.c.contact_id.in_(chunk),
                           *_attempt_filter(p))
                    .order_by(attempts.c.contact_id, attempts.c.created_at, attempts.c.id)
                ):
                    found[a.contact_id].append(
                        CitizenAttempt(
                            a.id, a.means, a.kind, a.round, a.address, a.status,
                            labels.get(a.means, {}).get(a.status, a.status or "waiting"),
                            a.reached, local(a.sent_at, zone), local(a.completed_at, zone), a.error,
                        )
                    )
            items = tuple(
                Citizen(r.id, r.first_name, r.last_name, r.outcome, tuple(found[r.id])) for r in page
            )
    result = CitizensPage(p.alert_id, title, total, p.offset, p.limit, items,
                          filename=f"citizens-{p.alert_id}")
    result.__dict__["_stream"] = lambda: _table(runtime, p, title)
    return result


def _table(runtime: Runtime, p: CitizensParams, title: str) -> Table:
    zone = runtime.config.core.zone
    window = _ordered(_contacts_query(p))
    if p.limit is not None:
        window = window.limit(p.limit)
    if p.offset:
        window = window.offset(p.offset)
    page = window.subquery("page")
    conds = _attempt_filter(p)
    joined = (
        select(page, attempts.c.means, attempts.c.kind, attempts.c.address, attempts.c.status,
               attempts.c.sent_at, attempts.c.completed_at, attempts.c.error)
        .select_from(page.outerjoin(
            attempts,
            and_(attempts.c.alert_id == p.alert_id, attempts.c.contact_id == page.c.id, *conds),
        ))
        .order_by(page.c.last_name, page.c.first_name, page.c.id, attempts.c.created_at, attempts.c.id)
    )

    def convert(r: Any) -> Sequence[Any]:
        return (r.id, r.first_name, r.last_name, r.outcome, r.means or "", r.kind or "",
                r.address or "", r.status or "", local(r.sent_at, zone),
                local(r.completed_at, zone), r.error or "")

    return Table(f"Citizens: {title}", TABLE_COLUMNS, QueryRows(runtime.store.engine, joined, convert),
                 filename=f"citizens-{p.alert_id}")


REPORT = Report(
    name="citizens",
    title="By citizen",
    run=lambda runtime, **values: citizens(runtime, bind_params(CitizensParams, values)),
    description="Each contact of an alert with its outcome and every attempt by every means; "
    "filter by outcome, means, status; search by name; paginate.",
    params=CitizensParams,
)
