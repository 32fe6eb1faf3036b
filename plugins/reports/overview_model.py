"""The overview's result: outcome counts (the pie), figures per means, per communication.

Plain frozen attrs values (JSON-ready through the converter); ``Overview.as_table()``
flattens them for CSV and XLSX.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from attrs import frozen

from tocsin.model import Outcome
from tocsin.report import Chart, Column, Table
from tocsin.rules import OutcomeCounts


def outcome_chart(counts: OutcomeCounts, title: str) -> Chart:
    """The pie of contacted / in progress / not contacted."""
    labels = (str(Outcome.CONTACTED), str(Outcome.IN_PROGRESS), str(Outcome.NOT_CONTACTED))
    return Chart(title, labels, (counts.contacted, counts.in_progress, counts.not_contacted))


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
        return outcome_chart(self.total.outcome, self.title)

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
