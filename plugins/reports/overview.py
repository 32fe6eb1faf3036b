"""Overview of an alert (or of every communication of a campaign): who was contacted,
and for each means, attempts by status, reached share, median time to reach and
failures by reason.

Definitions (all computed in SQL):

- a contact's outcome follows the ``reached`` contract: *contacted* if any attempt
  reached it, else *in progress* if any attempt is still open, else *not contacted*;
  audience members without any attempt are *not contacted*, and those with a recorded
  reason (``alert_contacts.missing``, the means they had no address for) are listed by it;
- per means, the *reached share* is the share of the contacts attempted by that means
  that it reached;
- the *time to reach* is the time from the alert's start (``sent_at``, else its
  creation) to the completion of a reaching attempt; the report gives the median over
  the reaching attempts of each means;
- failures are the attempts that ended not reached, by status and reason.

For a campaign, each communication gets its own figures and the total is computed over
all of them at once (a contact in two communications counts twice).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from attrs import frozen
from sqlalchemy import Connection, func, select

from tocsin.errors import NotFoundError, ValidationError
from tocsin.plugins.reports.overview_model import (
    AlertFigures,
    Failure,
    MeansReport,
    Overview,
    ReasonCount,
    StatusCount,
)
from tocsin.plugins.reports.overview_queries import (
    means_reports,
    not_attempted,
    outcome_counts,
)
from tocsin.plugins.reports.sql import flag, local
from tocsin.report import Report, bind_params
from tocsin.rules import OutcomeCounts
from tocsin.runtime import Runtime
from tocsin.store.schema import alerts, campaigns


@frozen
class OverviewParams:
    """Exactly one of ``alert_id`` and ``campaign_id``."""

    alert_id: int | None = None
    campaign_id: int | None = None

    def __attrs_post_init__(self) -> None:
        if (self.alert_id is None) == (self.campaign_id is None):
            raise ValidationError("overview: give exactly one of alert_id and campaign_id")


def figures(
    conn: Connection, ids: Sequence[int], *, title: str, labels: dict[str, dict[str, str]],
    zone: dt.tzinfo,
) -> AlertFigures:
    """The figures of the alerts ``ids`` taken together."""
    outcome = outcome_counts(conn, ids)
    stamps = conn.execute(
        select(func.min(alerts.c.sent_at), func.max(alerts.c.finished_at), func.count(),
               func.sum(flag(alerts.c.finished_at.is_(None))), func.min(alerts.c.state))
        .where(alerts.c.id.in_(ids))
    ).one()
    sent = stamps[0]
    finished = stamps[1] if not stamps[3] else None  # finished only when all are
    state = str(stamps[4]) if len(ids) == 1 and stamps[4] is not None else ""
    return AlertFigures(
        title=title,
        alert_ids=tuple(ids),
        state=state,
        sent_at=local(sent, zone),
        finished_at=local(finished, zone),
        outcome=outcome,
        means=means_reports(conn, ids, labels),
        not_attempted=not_attempted(conn, ids),
    )


def status_labels(runtime: Runtime) -> dict[str, dict[str, str]]:
    """The names users know for each means' statuses."""
    return {
        means: {s: e.value.label(s) for s in e.value.states}
        for means, e in runtime.registry.status_machines.items()
    }


def overview(runtime: Runtime, params: OverviewParams) -> Overview:
    """Compute the overview (see the module documentation)."""
    zone = runtime.config.core.zone
    labels = status_labels(runtime)
    now = runtime.clock.now().astimezone(zone)
    with runtime.store.engine.connect() as conn:
        if params.alert_id is not None:
            row = conn.execute(select(alerts.c.title).where(alerts.c.id == params.alert_id)).one_or_none()
            if row is None:
                raise NotFoundError(f"no alert with id {params.alert_id}")
            fig = figures(conn, [params.alert_id], title=row.title, labels=labels, zone=zone)
            return Overview(row.title, fig, (fig,), now, filename=f"overview-{params.alert_id}")
        camp = conn.execute(
            select(campaigns.c.name).where(campaigns.c.id == params.campaign_id)
        ).one_or_none()
        if camp is None:
            raise NotFoundError(f"no campaign with id {params.campaign_id}")
        members = conn.execute(
            select(alerts.c.id, alerts.c.title)
            .where(alerts.c.campaign_id == params.campaign_id)
            .order_by(alerts.c.created_at, alerts.c.id)
        ).all()
        each = tuple(figures(conn, [a.id], title=a.title, labels=labels, zone=zone) for a in members)
        total = figures(conn, [a.id for a in members], title=camp.name, labels=labels, zone=zone)
        return Overview(camp.name, total, each, now, campaign_id=params.campaign_id,
                        filename=f"overview-campaign-{params.campaign_id}")


REPORT = Report(
    name="overview",
    title="Overview of an alert",
    run=lambda runtime, **values: overview(runtime, bind_params(OverviewParams, values)),
    description="Contacted / in progress / not contacted, and per means: attempts by status, "
    "reached share, median time to reach, failures by reason. For a campaign, per "
    "communication and in total.",
    params=OverviewParams,
)


__all__ = [
    "REPORT",
    "AlertFigures",
    "Failure",
    "MeansReport",
    "OutcomeCounts",
    "Overview",
    "OverviewParams",
    "ReasonCount",
    "StatusCount",
    "figures",
    "overview",
    "status_labels",
]
