"""Sending an alert: fan-out, dispatch through console channels, statuses applied,
outcome counts — on SQLite and PostgreSQL, with a fake clock."""

from __future__ import annotations

from typing import Any

from tocsin.model import Alert, AlertState, Message
from tocsin.rules import OutcomeCounts, outcomes


def _alert(**kw: Any) -> Alert:
    return Alert(
        "Flood warning",
        [
            Message("sms", text="Hello {{ first_name }}, the river is rising."),
            Message("email", subject="Flood", text="Dear {{ full_name }}"),
            Message("call", text="Flood warning for {{ city or 'your town' }}"),
        ],
        **kw,
    )


async def test_an_alert_reaches_every_contact_by_every_means(app: Any, helpers: Any, recorder: Any) -> None:
    ids = helpers.add_group(app, "town", [helpers.person(i, phone=True) for i in range(1, 8)])
    alert = await app.send(_alert(), groups=["town"])
    assert alert.state is AlertState.SENDING
    report = await app.run_due()
    assert report.handed_over == 21
    status = await app.status(alert.id)
    assert status.counts == OutcomeCounts(contacted=7, in_progress=0, not_contacted=0)
    assert status.statuses == {"sms": {"received": 7}, "email": {"received": 7}, "call": {"completed": 7}}
    attempts = app.store.attempts.for_alert(alert.id)
    assert {a.contact_id for a in attempts} == set(ids)
    assert all(a.reached is True and a.provider_ref and a.sent_at and a.completed_at for a in attempts)
    # the outcome counted by the database agrees with the rules' pure function
    by_contact = outcomes(ids, attempts)
    assert status.counts.contacted == sum(1 for o in by_contact.values() if o.value == "contacted")
    # each attempt went through its machine: the first reported status and the final one
    events = app.store.attempts.events(attempts[0].id)
    assert [e.status for e in events][-1] == attempts[0].status
    assert not any(e.anomaly for e in events)
    # observers: sent once, every change seen, finished once everyone was reached
    assert recorder.sent == [alert.id]
    assert {c.attempt_id for c in recorder.changes} == {a.id for a in attempts}
    assert recorder.finished == [(alert.id, AlertState.FINISHED)]
    assert (await app.status(alert.id)).alert.state is AlertState.FINISHED


async def test_a_contact_without_an_address_is_recorded_not_contacted(app: Any, helpers: Any) -> None:
    people = [helpers.person(1), helpers.person(2, mobile=False, email=False)]
    ids = helpers.add_group(app, "town", people)
    alert = await app.send(_alert(), groups=["town"])
    await app.run_due()
    counts = await app.outcome_counts(alert.id)
    assert counts == OutcomeCounts(contacted=1, in_progress=0, not_contacted=1)
    assert {a.contact_id for a in app.store.attempts.for_alert(alert.id)} == {ids[0]}
    with app.store.engine.connect() as conn:
        from sqlalchemy import select

        from tocsin.store.schema import alert_contacts

        missing = dict(conn.execute(select(alert_contacts.c.contact_id, alert_contacts.c.missing)).all())
    assert missing[ids[0]] == ""  # a call goes to the mobile when there is no landline
    assert set(missing[ids[1]].split(",")) == {"sms", "email", "call"}


async def test_every_message_is_rendered_with_its_own_contacts_fields(
    make_app: Any, helpers: Any, tmp_path: Any
) -> None:
    """Whether an attempt is handed over with its fan-out page (the pool had room) or
    claimed from the outbox later, its message names its contact."""
    # a queue of two: a few SMS go with the page, the others wait for a claim
    channels = {
        "text": helpers.console("sms", output="sms.txt", concurrency=1),
        "mail": helpers.console("email", output="mail.txt"),
        "phone": helpers.console("call"),
    }
    app = await make_app(channels, engine={"claim_batch": 2})
    helpers.add_group(app, "town", [helpers.person(i) for i in range(1, 8)])
    alert = await app.send(_alert(), groups=["town"])
    report = await app.run_due()
    assert report.handed_over == 21
    data = tmp_path / "data"

    def bodies(name: str) -> list[str]:  # "[text] sms #4 to +33600000002: Hello First2, ..."
        lines = (data / name).read_text(encoding="utf-8").splitlines()
        return sorted(line.split(": ", 1)[1] for line in lines)

    assert bodies("sms.txt") == sorted(f"Hello First{i}, the river is rising." for i in range(1, 8))
    assert bodies("mail.txt") == sorted(f"Flood | Dear First{i} Last{i}" for i in range(1, 8))
    assert (await app.status(alert.id)).counts.contacted == 7
