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
from sqlalchemy import Subquery, and_, case, func, literal, select

from tocsin.errors import NotFoundError
from tocsin.plugins.reports.overview_model import outcome_chart
from tocsin.plugins.reports.overview_queries import outcome_counts
from tocsin.plugins.reports.sql import QueryRows, flag, is_reached
from tocsin.report import Column, Report, Table, bind_params
from tocsin.runtime import Runtime
from tocsin.store.schema import alert_contacts, alerts, attempts, contact_means, contacts

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


def _preferred(alert_id: int) -> Subquery:
    """Each audience member's preferred usable e-mail and phone (a mobile before a
    landline), ranked by a window function, one row per contact."""
    slot = case((contact_means.c.kind == "email", literal("e")), else_=literal("p"))
    audience = select(alert_contacts.c.contact_id).where(alert_contacts.c.alert_id == alert_id)
    rank = func.row_number().over(
        partition_by=(contact_means.c.contact_id, slot),
        order_by=(contact_means.c.failing, contact_means.c.kind != "mobile",
                  contact_means.c.preference, contact_means.c.value),
    )
    ranked = (
        select(contact_means.c.contact_id, contact_means.c.value, slot.label("slot"),
               rank.label("rank"))
        .where(contact_means.c.kind.in_(("email", "mobile", "phone")),
               contact_means.c.contact_id.in_(audience))
        .subquery("ranked_means")
    )
    first = ranked.c.rank == 1
    return (
        select(ranked.c.contact_id,
               func.max(case((and_(first, ranked.c.slot == "e"), ranked.c.value))).label("email"),
               func.max(case((and_(first, ranked.c.slot == "p"), ranked.c.value))).label("phone"))
        .group_by(ranked.c.contact_id)
        .subquery("preferred")
    )


def _flags(alert_id: int) -> Subquery:
    """Per contact with attempts: whether one reached it, whether one is still open."""
    return (
        select(attempts.c.contact_id,
               func.max(flag(is_reached())).label("reached"),
               func.max(flag(attempts.c.reached.is_(None))).label("pending"))
        .where(attempts.c.alert_id == alert_id)
        .group_by(attempts.c.contact_id)
        .subquery("flags")
    )


def statistics(runtime: Runtime, p: StatisticsParams) -> Table:
    engine = runtime.store.engine
    with engine.connect() as conn:
        title = conn.execute(select(alerts.c.title).where(alerts.c.id == p.alert_id)).scalar_one_or_none()
        if title is None:
            raise NotFoundError(f"no alert with id {p.alert_id}")
        counts = outcome_counts(conn, [p.alert_id])
    best = _preferred(p.alert_id)
    flags = _flags(p.alert_id)
    query = (
        select(contacts.c.first_name, contacts.c.last_name, best.c.email, best.c.phone,
               flags.c.reached)
        .select_from(
            alert_contacts.join(contacts, contacts.c.id == alert_contacts.c.contact_id)
            .outerjoin(flags, flags.c.contact_id == contacts.c.id)
            .outerjoin(best, best.c.contact_id == contacts.c.id)
        )
        .where(alert_contacts.c.alert_id == p.alert_id)
        .order_by(contacts.c.last_name, contacts.c.first_name, contacts.c.id)
    )

    def convert(r: Any) -> Sequence[Any]:
        reached = REACHED if r.reached == 1 else NOT_REACHED
        return (r.first_name, r.last_name, r.email or "", r.phone or "", reached)

    return Table(
        f"Statistics: {title}",
        COLUMNS,
        QueryRows(engine, query, convert),
        meta={"alert_id": p.alert_id, "contacts": counts.total},
        filename="statisticsAlert",
        chart=outcome_chart(counts, title),
    )


REPORT = Report(
    name="statistics",
    title="Alert statistics (statisticsAlert)",
    run=lambda runtime, **values: statistics(runtime, bind_params(StatisticsParams, values)),
    description="Every contact of an alert: first name, last name, e-mail, phone, reached or not.",
    params=StatisticsParams,
)
