"""Reminders at +30 min and +1 h, and the operator's recontact, driven by a fake clock."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select

from tocsin.errors import ValidationError
from tocsin.model import Alert, AlertState, AttemptKind, Category, Message, Role, User
from tocsin.store.schema import recontacts

# numbers ending in 9 never answer; the others are delivered
CHANNELS = {
    "text": {
        "type": "console", "means": "sms", "output": "none",
        "outcomes": [{"match": "*9", "statuses": ["accepted", "sent", "undelivered"]}],
    },
}


def _alert(**kw: Any) -> Alert:
    return Alert("Storm", [Message("sms", text="Storm tonight")], **kw)


async def test_reminders_retry_only_unreached_contacts_at_30_min_and_1_h(
    make_app: Any, helpers: Any, clock: Any
) -> None:
    app = await make_app(channels=CHANNELS)
    ids = helpers.add_group(app, "town", [helpers.person(i) for i in (1, 2, 9, 19)])
    alert = await app.send(_alert(), groups=["town"])
    await app.run_due()
    assert (await app.outcome_counts(alert.id)).contacted == 2
    clock.advance(minutes=29)
    await app.run_due()
    assert len(app.store.attempts.for_alert(alert.id)) == 4  # nothing due yet
    clock.advance(minutes=1)
    await app.run_due()
    attempts = app.store.attempts.for_alert(alert.id)
    reminders = [a for a in attempts if a.kind is AttemptKind.REMINDER]
    assert sorted(a.contact_id for a in reminders) == [ids[2], ids[3]]
    assert {a.round for a in reminders} == {1}
    clock.advance(minutes=30)
    await app.run_due()
    second = [a for a in app.store.attempts.for_alert(alert.id) if a.round == 2]
    assert sorted(a.contact_id for a in second) == [ids[2], ids[3]]
    status = await app.status(alert.id)
    assert status.counts.not_contacted == 2
    assert status.alert.state is AlertState.FINISHED  # nothing left to do
    assert status.recontact_refusal is None


async def test_reminder_offsets_come_from_the_alert_then_its_category_then_config(
    make_app: Any, helpers: Any, clock: Any
) -> None:
    app = await make_app(channels=CHANNELS, reminders={"offsets": ["10m"]})
    helpers.add_group(app, "town", [helpers.person(9)])
    by_config = await app.send(_alert(), groups=["town"])
    by_category = await app.send(
        _alert(category=Category("flood", reminder_offsets=(dt.timedelta(minutes=5),))), groups=["town"]
    )
    by_alert = await app.send(_alert(reminder_offsets=()), groups=["town"])
    await app.run_due()

    def offsets(alert_id: int) -> list[dt.timedelta]:
        return [t.due_at - clock.now() for t in app.store.timers.for_alert(alert_id) if t.kind == "reminder"]

    assert offsets(by_config.id) == [dt.timedelta(minutes=10)]
    assert offsets(by_category.id) == [dt.timedelta(minutes=5)]
    assert offsets(by_alert.id) == []


async def test_recontact_is_refused_before_the_reminders_then_recorded_and_immediate(
    make_app: Any, helpers: Any, clock: Any
) -> None:
    app = await make_app(channels=CHANNELS)
    ids = helpers.add_group(app, "town", [helpers.person(1), helpers.person(9)])
    operator = app.store.users.create(User("op", role=Role.OPERATOR))
    alert = await app.send(_alert(), groups=["town"])
    await app.run_due()
    with pytest.raises(ValidationError, match="reminders are not all sent"):
        await app.recontact(alert.id)
    clock.advance(hours=1)
    await app.run_due()
    before = len(app.store.attempts.for_alert(alert.id))
    by = operator.id
    done = await app.recontact(alert.id, by=by)
    assert done.requested_at == clock.now()
    await app.run_due()  # immediate: no clock movement needed
    new = [a for a in app.store.attempts.for_alert(alert.id) if a.kind is AttemptKind.RECONTACT]
    assert [a.contact_id for a in new] == [ids[1]]
    assert len(app.store.attempts.for_alert(alert.id)) == before + 1
    with app.store.engine.connect() as conn:
        row = conn.execute(select(recontacts)).one()
    assert (row.alert_id, row.requested_by, row.attempts) == (alert.id, by, 1)
    assert row.requested_at == clock.now()


async def test_a_reached_contact_is_never_reattempted(make_app: Any, helpers: Any, clock: Any) -> None:
    app = await make_app(channels=CHANNELS)
    helpers.add_group(app, "town", [helpers.person(1)])
    alert = await app.send(_alert(), groups=["town"])
    for _ in range(4):
        await app.run_due()
        clock.advance(minutes=30)
    assert len(app.store.attempts.for_alert(alert.id)) == 1
    assert (await app.status(alert.id)).alert.state is AlertState.FINISHED
