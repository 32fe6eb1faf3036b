"""Confirmation (press 1), escalation plans and the alert-level target."""

from __future__ import annotations

import datetime as dt
from typing import Any

from tocsin.model import (
    Alert,
    AlertState,
    AttemptKind,
    Category,
    EscalationPlan,
    EscalationStep,
    Message,
)

CALLS = {
    "phone": {
        "type": "console", "means": "call", "output": "none",
        # numbers ending in 1 press 1 after answering; ending in 9 never answer
        "outcomes": [
            {"match": "*1", "dtmf": "1"},
            {"match": "*9", "statuses": ["queued", "started", "ringing", "no answer"]},
        ],
    },
    "text": {"type": "console", "means": "sms", "output": "none"},
}
CONFIRM = Category("evacuation", requires_confirmation=True)


async def test_a_call_counts_only_when_confirmed_for_a_confirmation_category(
    make_app: Any, helpers: Any
) -> None:
    app = await make_app(channels=CALLS)
    ids = helpers.add_group(app, "town", [helpers.person(i) for i in (1, 2)])
    alert = await app.send(
        Alert("Evacuate", [Message("call", text="Press 1")], category=CONFIRM, reminder_offsets=()),
        groups=["town"],
    )
    await app.run_due()
    by_contact = {a.contact_id: a for a in app.store.attempts.for_alert(alert.id)}
    assert (by_contact[ids[0]].status, by_contact[ids[0]].reached) == ("confirmed", True)
    assert (by_contact[ids[1]].status, by_contact[ids[1]].reached) == ("completed", False)
    events = app.store.attempts.events(by_contact[ids[0]].id)
    assert events[-1].source.startswith("dtmf") and events[-1].reason == "pressed 1"
    counts = await app.outcome_counts(alert.id)
    assert (counts.contacted, counts.not_contacted) == (1, 1)


async def test_an_escalation_plan_calls_first_then_texts_only_the_unreached(
    make_app: Any, helpers: Any, clock: Any
) -> None:
    app = await make_app(channels=CALLS)
    ids = helpers.add_group(app, "town", [helpers.person(i) for i in (2, 9)])
    plan = EscalationPlan(
        [EscalationStep("call"), EscalationStep("sms", dt.timedelta(minutes=5))],
        cycles=2,
        cycle_interval=dt.timedelta(minutes=30),
    )
    alert = await app.send(
        Alert("Dam", [Message("call", text="Dam alert"), Message("sms", text="Dam alert")], plan=plan),
        groups=["town"],
    )
    await app.run_due()
    assert {(a.contact_id, a.means) for a in app.store.attempts.for_alert(alert.id)} == {
        (ids[0], "call"), (ids[1], "call")
    }
    clock.advance(minutes=5)
    await app.run_due()
    texts = [a for a in app.store.attempts.for_alert(alert.id) if a.means == "sms"]
    assert [(a.contact_id, a.kind) for a in texts] == [(ids[1], AttemptKind.ESCALATION)]
    # the text reached contact 9: the second cycle attempts nobody, and the alert finishes
    clock.advance(minutes=30)
    await app.run_due()
    assert len(app.store.attempts.for_alert(alert.id)) == 3
    status = await app.status(alert.id)
    assert status.counts.contacted == 2
    assert status.alert.state is AlertState.FINISHED


async def test_the_alert_stops_when_its_confirmation_target_is_met(
    make_app: Any, helpers: Any, recorder: Any
) -> None:
    channels = {**CALLS, "phone": {**CALLS["phone"], "rate": 2, "per": 60, "burst": 2}}
    app = await make_app(channels=channels)
    helpers.add_group(app, "town", [helpers.person(i) for i in (1, 11, 21, 31, 41)])
    alert = await app.send(
        Alert(
            "Volunteers", [Message("call", text="Press 1 to help")], category=CONFIRM, target_confirmations=2
        ),
        groups=["town"],
    )
    await app.run_due()
    status = await app.status(alert.id)
    assert status.alert.state is AlertState.FINISHED
    assert status.counts.contacted == 2
    assert status.statuses["call"] == {"confirmed": 2, "failed": 3}
    closed = [a for a in app.store.attempts.for_alert(alert.id) if a.status == "failed"]
    assert {a.error for a in closed} == {"target reached"}
    assert all(t.done_at is not None for t in status.timers)
    assert recorder.finished == [(alert.id, AlertState.FINISHED)]
