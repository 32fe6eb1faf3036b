"""``statisticsAlert``: every contact of an alert with its e-mail, phone and whether the
alert reached it, streamed (one row per contact, read straight from the database).

The e-mail and phone are the contact's preferred usable ones (mobile before landline);
*reached* means the contact's outcome is *contacted*; *in progress* and *not contacted*
both read "not reached". The chart is the outcome split of the overview.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from attrs import frozen
from sqlalchemy import ScalarSelect, select

from tocsin.errors import NotFoundError
from tocsin.model import Outcome
from tocsin.plugins.reports.citizens import _outcome_expr
from tocsin.plugins.reports.overview_queries import outcome_counts
from tocsin.plugins.reports.sql import QueryRows
from tocsin.report import Column, Report, Table, bind_params
from tocsin.runtime import Runtime
from tocsin.store.schema import alert_contacts, alerts, contact_means, contacts

REACHED = "reached"
NOT_REACHED = "not reached"

COLUMNS = (
    Column("first_name", "First name"),
    Column("last_name", "Last name"),
    Column("email", "E-mail"),
    Column("phone", "Phone"),
    Column("reached", "Reached"),
)


@frozen
class StatisticsParams:
    alert_id: int


def preferred(*kinds: str) -> ScalarSelect[Any]:
    """The contact's preferred usable value among ``kinds`` (earlier kinds first)."""
    order = [contact_means.c.kind != k for k in kinds]
    return (
        select(contact_means.c.value)
        .where(contact_means.c.contact_id == contacts.c.id, contact_means.c.kind.in_(kinds))
        .order_by(contact_means.c.failing, *order, contact_means.c.preference, contact_means.c.value)
        .limit(1)
        .scalar_subquery()
    )


def statistics(runtime: Runtime, p: StatisticsParams) -> Table:
    engine = runtime.store.engine
    with engine.connect() as conn:
        title = conn.execute(select(alerts.c.title).where(alerts.c.id == p.alert_id)).scalar_one_or_none()
        if title is None:
            raise NotFoundError(f"no alert with id {p.alert_id}")
        counts = outcome_counts(conn, [p.alert_id])
    query = (
        select(
            contacts.c.first_name,
            contacts.c.last_name,
            preferred("email").label("email"),
            preferred("mobile", "phone").label("phone"),
            _outcome_expr(p.alert_id).label("outcome"),
        )
        .select_from(alert_contacts.join(contacts, contacts.c.id == alert_contacts.c.contact_id))
        .where(alert_contacts.c.alert_id == p.alert_id)
        .order_by(contacts.c.last_name, contacts.c.first_name, contacts.c.id)
    )

    def convert(r: Any) -> Sequence[Any]:
        reached = REACHED if r.outcome == Outcome.CONTACTED else NOT_REACHED
        return (r.first_name, r.last_name, r.email or "", r.phone or "", reached)

    return Table(
        f"Statistics: {title}",
        COLUMNS,
        QueryRows(engine, query, convert),
        meta={"alert_id": p.alert_id, "contacts": counts.total},
        filename="statisticsAlert",
        chart=counts.chart(title),
    )


REPORT = Report(
    name="statistics",
    title="Alert statistics (statisticsAlert)",
    run=lambda runtime, **values: statistics(runtime, bind_params(StatisticsParams, values)),
    description="Every contact of an alert: first name, last name, e-mail, phone, reached or not.",
    params=StatisticsParams,
)
