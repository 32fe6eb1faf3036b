"""Alerts: what was sent, to whom (the audience), and in which state."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from attrs import evolve
from sqlalchemy import Connection, Engine, func, insert, select, update

from tocsin.clock import UTC
from tocsin.errors import NotFoundError
from tocsin.model import Alert, AlertState, Category, EscalationPlan, Message
from tocsin.serialize import converter
from tocsin.store.bulk import AUDIENCE_ROWS, Bulk
from tocsin.store.schema import alert_contacts, alerts


def _spec(alert: Alert) -> dict[str, Any]:
    return {
        "messages": converter.unstructure(alert.messages),
        "reminder_offsets": converter.unstructure(alert.reminder_offsets),
        "category_reminder_offsets": converter.unstructure(alert.category.reminder_offsets),
        "plan": converter.unstructure(alert.plan),
        "target_confirmations": alert.target_confirmations,
    }


_OFFSETS: Any = tuple[dt.timedelta, ...] | None
_PLAN: Any = EscalationPlan | None


def _to_alert(row: Any) -> Alert:
    spec = row.spec
    return Alert(
        id=row.id,
        title=row.title,
        campaign_id=row.campaign_id,
        category=Category(
            name=row.category,
            requires_confirmation=row.requires_confirmation,
            reminder_offsets=converter.structure(
                spec.get("category_reminder_offsets"), _OFFSETS
            ),
        ),
        state=AlertState(row.state),
        messages=converter.structure(spec["messages"], tuple[Message, ...]),
        reminder_offsets=converter.structure(spec.get("reminder_offsets"), _OFFSETS),
        plan=converter.structure(spec.get("plan"), _PLAN),
        target_confirmations=spec.get("target_confirmations"),
        created_by=row.created_by,
        created_at=row.created_at,
        updated_at=row.updated_at,
        sent_at=row.sent_at,
        finished_at=row.finished_at,
    )


class Alerts:
    """The alerts repository."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def insert(
        self, alert: Alert, *, now: dt.datetime | None = None, conn: Connection | None = None
    ) -> Alert:
        """Store a new alert; returns it with its id and timestamps."""
        if conn is None:
            with self.engine.begin() as own:
                return self.insert(alert, now=now, conn=own)
        now = now or dt.datetime.now(UTC)
        alert_id = conn.execute(
            insert(alerts).returning(alerts.c.id),
            {
                "title": alert.title,
                "campaign_id": alert.campaign_id,
                "category": alert.category.name,
                "requires_confirmation": alert.category.requires_confirmation,
                "state": str(alert.state),
                "spec": _spec(alert),
                "created_by": alert.created_by,
                "created_at": now,
                "updated_at": now,
                "sent_at": alert.sent_at,
                "finished_at": alert.finished_at,
            },
        ).scalar_one()
        return evolve(alert, id=alert_id, created_at=now, updated_at=now)

    def get(self, alert_id: int, conn: Connection | None = None) -> Alert:
        if conn is None:
            with self.engine.connect() as own:
                return self.get(alert_id, own)
        row = conn.execute(select(alerts).where(alerts.c.id == alert_id)).one_or_none()
        if row is None:
            raise NotFoundError(f"no alert with id {alert_id}")
        return _to_alert(row)

    def set_state(
        self,
        alert_id: int,
        state: AlertState,
        *,
        now: dt.datetime,
        conn: Connection | None = None,
        **stamps: dt.datetime | None,
    ) -> None:
        """Move an alert to ``state``; ``stamps`` may set ``sent_at`` or ``finished_at``."""
        if conn is None:
            with self.engine.begin() as own:
                return self.set_state(alert_id, state, now=now, conn=own, **stamps)
        values: dict[str, Any] = {"state": str(state), "updated_at": now}
        values.update({k: v for k, v in stamps.items() if k in ("sent_at", "finished_at")})
        if not conn.execute(update(alerts).where(alerts.c.id == alert_id).values(values)).rowcount:
            raise NotFoundError(f"no alert with id {alert_id}")
        return None

    def touch(self, alert_ids: Sequence[int], now: dt.datetime, conn: Connection) -> None:
        """Mark alerts modified (the communications list shows the latest first)."""
        if alert_ids:
            conn.execute(update(alerts).where(alerts.c.id.in_(list(alert_ids))).values(updated_at=now))

    def page(self, *, limit: int = 50, offset: int = 0, campaign_id: int | None = None) -> list[Alert]:
        """Alerts, most recently modified first."""
        query = select(alerts).order_by(alerts.c.updated_at.desc(), alerts.c.id.desc())
        if campaign_id is not None:
            query = query.where(alerts.c.campaign_id == campaign_id)
        with self.engine.connect() as conn:
            return [_to_alert(r) for r in conn.execute(query.limit(limit).offset(offset))]

    def add_audience(
        self, alert_id: int, rows: Sequence[tuple[int, str]], conn: Connection
    ) -> None:
        """Record contacts as the alert's audience: ``(contact_id, missing_means)`` pairs."""
        Bulk(self.engine.dialect.name).insert(conn, AUDIENCE_ROWS, [(alert_id, c, m) for c, m in rows])

    def audience_size(self, alert_id: int) -> int:
        with self.engine.connect() as conn:
            query = select(func.count()).select_from(alert_contacts)
            return int(conn.execute(query.where(alert_contacts.c.alert_id == alert_id)).scalar_one())
