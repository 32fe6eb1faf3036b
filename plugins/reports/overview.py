"""Overview of an alert (or of every communication of a campaign): who was contacted,
and for each means, attempts by status, reached share, median time to reach and
failures by reason.

Definitions (all computed in SQL):

- a contact's outcome follows the ``reached`` contract: *contacted* if any attempt
  reached it, else *in progress* if any attempt is still open, else *not contacted*;
  audience members without any attempt are *not contacted* (their reason is
  ``alert_contacts.missing``);
- per means, the *reached share* is the share of the contacts attempted by that means
  that it reached;
- the *time to reach* of a contact by a means is the time from the alert's start
  (``sent_at``, else its creation) to the completion of its first reaching attempt by
  that means; the report gives the median over the contacts reached by it;
- failures are the attempts that ended not reached, by status and reason.

For a campaign, each communication gets its own figures and the total is computed over
all of them at once (a contact in two communications counts twice).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from attrs import field, frozen
from sqlalchemy import Connection, and_, exists, func, select

from tocsin.errors import NotFoundError, ValidationError
from tocsin.model import Outcome
from tocsin.plugins.reports.sql import contact_outcomes, epoch_seconds, flag, is_reached, local
from tocsin.report import Chart, Column, Report, Table, bind_params
from tocsin.runtime import Runtime
from tocsin.status import PENDING
from tocsin.store.schema import alert_contacts, alerts, attempts, campaigns


@frozen
class OverviewParams:
    """Exactly one of ``alert_id`` and ``campaign_id``."""

    alert_id: int | None = None
    campaign_id: int | None = None

    def __attrs_post_init__(self) -> None:
        if (self.alert_id is None) == (self.campaign_id is None):
            raise ValidationError("overview: give exactly one of alert_id and campaign_id")


@frozen
class OutcomeCounts:
    """The pie: contacts by outcome, with their shares of the audience (0 when empty)."""

    contacted: int
    in_progress: int
    not_contacted: int
    total: int = field(init=False)
    share_contacted: float = field(init=False)
    share_in_progress: float = field(init=False)
    share_not_contacted: float = field(init=False)

    @total.default
    def _total(self) -> int:
        return self.contacted + self.in_progress + self.not_contacted

    @share_contacted.default
    def _sc(self) -> float:
        return self.contacted / self.total if self.total else 0.0

    @share_in_progress.default
    def _sp(self) -> float:
        return self.in_progress / self.total if self.total else 0.0

    @share_not_contacted.default
    def _sn(self) -> float:
        return self.not_contacted / self.total if self.total else 0.0

    def chart(self, title: str) -> Chart:
        labels = (str(Outcome.CONTACTED), str(Outcome.IN_PROGRESS), str(Outcome.NOT_CONTACTED))
        return Chart(title, labels, (self.contacted, self.in_progress, self.not_contacted))


@frozen
class StatusCount:
    """Attempts of one means in one status (``label`` is the name users know)."""

    status: str
    label: str
    count: int


@frozen
class Failure:
    """Attempts that ended not reached, with one status and one reason."""

    status: str
    label: str
    reason: str
    count: int


@frozen
class ReasonCount:
    """Audience members that got no attempt at all, by the means they lacked."""

    missing: str
    count: int


@frozen
class MeansReport:
    """The figures of one means."""

    means: str
    attempts: int
    attempts_reached: int
    attempts_in_progress: int
    contacts: int
    contacts_reached: int
    reached_share: float
    median_seconds_to_reach: float | None
    statuses: tuple[StatusCount, ...]
    failures: tuple[Failure, ...]


@frozen
class AlertFigures:
    """Figures of one communication, or of a campaign's communications together."""

    title: str
    alert_ids: tuple[int, ...]
    state: str
    sent_at: dt.datetime | None
    finished_at: dt.datetime | None
    outcome: OutcomeCounts
    means: tuple[MeansReport, ...]
    not_attempted: tuple[ReasonCount, ...]


@frozen
class Overview:
    """The overview report's result: the total and, for a campaign, each communication."""

    title: str
    total: AlertFigures
    communications: tuple[AlertFigures, ...]
    generated_at: dt.datetime
    campaign_id: int | None = None
    filename: str = "overview"

    def chart(self) -> Chart:
        return self.total.outcome.chart(self.title)

    def as_table(self) -> Table:
        """The figures as one long table: one row per figure."""
        columns = (
            Column("communication", "Communication"),
            Column("section", "Section"),
            Column("means", "Means"),
            Column("item", "Item"),
            Column("detail", "Detail"),
            Column("count", "Count", int),
            Column("share", "Share", float),
        )
        groups = [self.total] if not self.campaign_id else [*self.communications, self.total]
        rows: list[tuple[Any, ...]] = []
        for fig in groups:
            name = fig.title if fig is not self.total or not self.campaign_id else "total"
            o = fig.outcome
            for label, count, share in (
                (Outcome.CONTACTED, o.contacted, o.share_contacted),
                (Outcome.IN_PROGRESS, o.in_progress, o.share_in_progress),
                (Outcome.NOT_CONTACTED, o.not_contacted, o.share_not_contacted),
            ):
                rows.append((name, "outcome", "", str(label), "", count, share))
            for r in fig.not_attempted:
                rows.append((name, "no attempt", "", "missing address", r.missing, r.count, None))
            for m in fig.means:
                rows.append((name, "means", m.means, "attempts", "", m.attempts, None))
                rows.append((name, "means", m.means, "contacts reached", "", m.contacts_reached,
                             m.reached_share))
                rows.append((name, "means", m.means, "median seconds to reach", "",
                             None, m.median_seconds_to_reach))
                for s in m.statuses:
                    rows.append((name, "status", m.means, s.label, s.status, s.count, None))
                for f in m.failures:
                    rows.append((name, "failure", m.means, f.label, f.reason, f.count, None))
        return Table(self.title, columns, rows, filename=self.filename, chart=self.chart())


# -- queries ----------------------------------------------------------------------------


def _outcome_counts(conn: Connection, ids: Sequence[int]) -> tuple[OutcomeCounts, int]:
    per = contact_outcomes(ids)
    row = conn.execute(
        select(
            func.count(),
            func.coalesce(func.sum(per.c.any_reached), 0),
            func.coalesce(func.sum(flag(and_(per.c.any_reached == 0, per.c.any_pending == 1))), 0),
        ).select_from(per)
    ).one()
    attempted, contacted, in_progress = int(row[0]), int(row[1]), int(row[2])
    audience = int(
        conn.execute(
            select(func.count()).select_from(alert_contacts).where(alert_contacts.c.alert_id.in_(ids))
        ).scalar_one()
    )
    # Every attempted contact belongs to the audience (the engine records it there).
    unattempted = max(audience - attempted, 0)
    counts = OutcomeCounts(contacted, in_progress, attempted - contacted - in_progress + unattempted)
    return counts, unattempted


def _not_attempted(conn: Connection, ids: Sequence[int]) -> tuple[ReasonCount, ...]:
    ac = alert_contacts
    has_attempt = exists().where(
        attempts.c.alert_id == ac.c.alert_id, attempts.c.contact_id == ac.c.contact_id
    )
    rows = conn.execute(
        select(ac.c.missing, func.count())
        .where(ac.c.alert_id.in_(ids), ~has_attempt)
        .group_by(ac.c.missing)
        .order_by(func.count().desc(), ac.c.missing)
    )
    return tuple(ReasonCount(r[0], int(r[1])) for r in rows)


def _medians(conn: Connection, ids: Sequence[int]) -> dict[str, float]:
    """Median seconds to reach per means (window functions: no row reaches Python)."""
    dialect = conn.dialect.name
    start = func.coalesce(alerts.c.sent_at, alerts.c.created_at)
    first = (
        select(
            attempts.c.means,
            (epoch_seconds(func.min(attempts.c.completed_at), dialect)
             - epoch_seconds(func.min(start), dialect)).label("seconds"),
        )
        .join(alerts, alerts.c.id == attempts.c.alert_id)
        .where(attempts.c.alert_id.in_(ids), is_reached(), attempts.c.completed_at.is_not(None))
        .group_by(attempts.c.alert_id, attempts.c.contact_id, attempts.c.means)
        .subquery("first_reach")
    )
    ranked = select(
        first.c.means,
        first.c.seconds,
        func.row_number().over(partition_by=first.c.means, order_by=first.c.seconds).label("rn"),
        func.count().over(partition_by=first.c.means).label("n"),
    ).subquery("ranked")
    rows = conn.execute(
        select(ranked.c.means, func.avg(ranked.c.seconds))
        .where(ranked.c.rn.in_([(ranked.c.n + 1) // 2, (ranked.c.n + 2) // 2]))
        .group_by(ranked.c.means)
    )
    return {r[0]: float(r[1]) for r in rows}


def _means_reports(
    conn: Connection, ids: Sequence[int], labels: dict[str, dict[str, str]]
) -> tuple[MeansReport, ...]:
    def label(means: str, status: str) -> str:
        if status == PENDING:
            return "waiting"
        return labels.get(means, {}).get(status, status)

    by_status: dict[str, list[StatusCount]] = defaultdict(list)
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for means, status, count, reached, pending in conn.execute(
        select(
            attempts.c.means,
            attempts.c.status,
            func.count(),
            func.sum(flag(is_reached())),
            func.sum(flag(attempts.c.reached.is_(None))),
        )
        .where(attempts.c.alert_id.in_(ids))
        .group_by(attempts.c.means, attempts.c.status)
        .order_by(attempts.c.means, func.count().desc(), attempts.c.status)
    ):
        by_status[means].append(StatusCount(status, label(means, status), int(count)))
        t = totals[means]
        t[0] += int(count)
        t[1] += int(reached or 0)
        t[2] += int(pending or 0)

    per = (
        select(attempts.c.means, func.max(flag(is_reached())).label("r"))
        .where(attempts.c.alert_id.in_(ids))
        .group_by(attempts.c.alert_id, attempts.c.contact_id, attempts.c.means)
        .subquery("per_means_contact")
    )
    contacts = {
        r[0]: (int(r[1]), int(r[2] or 0))
        for r in conn.execute(select(per.c.means, func.count(), func.sum(per.c.r)).group_by(per.c.means))
    }

    failures: dict[str, list[Failure]] = defaultdict(list)
    for means, status, error, count in conn.execute(
        select(attempts.c.means, attempts.c.status, attempts.c.error, func.count())
        .where(attempts.c.alert_id.in_(ids), attempts.c.reached == False)  # noqa: E712
        .group_by(attempts.c.means, attempts.c.status, attempts.c.error)
        .order_by(attempts.c.means, func.count().desc(), attempts.c.status, attempts.c.error)
    ):
        failures[means].append(Failure(status, label(means, status), error, int(count)))

    medians = _medians(conn, ids)
    reports = []
    for means in sorted(totals):
        n_contacts, n_reached = contacts.get(means, (0, 0))
        total, reached, pending = totals[means]
        reports.append(
            MeansReport(
                means=means,
                attempts=total,
                attempts_reached=reached,
                attempts_in_progress=pending,
                contacts=n_contacts,
                contacts_reached=n_reached,
                reached_share=n_reached / n_contacts if n_contacts else 0.0,
                median_seconds_to_reach=medians.get(means),
                statuses=tuple(by_status[means]),
                failures=tuple(failures[means]),
            )
        )
    return tuple(reports)


def figures(
    conn: Connection, ids: Sequence[int], *, title: str, labels: dict[str, dict[str, str]],
    zone: dt.tzinfo,
) -> AlertFigures:
    """The figures of the alerts ``ids`` taken together."""
    outcome, _ = _outcome_counts(conn, ids)
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
        means=_means_reports(conn, ids, labels),
        not_attempted=_not_attempted(conn, ids),
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
