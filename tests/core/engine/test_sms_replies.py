"""An SMS reply keyword confirms the attempt it answers, through the engine, on SQLite
and PostgreSQL: the open alert's attempt first, else a recent one; anything else is left
to the next plugin."""

from __future__ import annotations

from typing import Any

from tocsin.engine import inbound
from tocsin.model import Alert, AlertState, Category, InboundMessage, Message

CONFIRM = Category("evacuation", requires_confirmation=True)


def _reply(app: Any, sender: str, text: str) -> str | None:
    message = InboundMessage("sms", sender, text, app.clock.now(), channel="text")
    result: str | None = inbound.tocsin_inbound_message(runtime=app.runtime, message=message)
    return result


async def _sent(app: Any, alert: Alert, **kw: Any) -> Alert:
    sent: Alert = await app.send(alert, **kw)
    await app.run_due()
    return sent


async def test_a_reply_confirms_the_sms_and_meets_the_alerts_target(make_app: Any, helpers: Any) -> None:
    app = await make_app(channels={"text": helpers.console("sms")})
    ids = helpers.add_group(app, "town", [helpers.person(1), helpers.person(2)])
    alert = await _sent(app, Alert("Evacuate", [Message("sms", text="Reply OUI")], category=CONFIRM,
                                   target_confirmations=1), groups=["town"])
    assert (await app.outcome_counts(alert.id)).contacted == 0  # received is not confirmed
    assert _reply(app, "06 00 00 00 01", "  Oui ! ") is not None  # a national number, normalised
    await app.run_due()
    by_contact = {a.contact_id: a for a in app.store.attempts.for_alert(alert.id)}
    assert (by_contact[ids[0]].status, by_contact[ids[0]].reached) == ("confirmed", True)
    assert by_contact[ids[1]].status == "received" and by_contact[ids[1]].reached is False
    assert (await app.outcome_counts(alert.id)).contacted == 1
    assert app.store.alerts.get(alert.id).state is AlertState.FINISHED  # the target is met
    events = app.store.attempts.events(by_contact[ids[0]].id)
    assert events[-1].status == "confirmed" and events[-1].reason == "replied 'Oui !'"
    assert events[-1].source == "sms-reply:text"


async def test_the_open_alert_wins_over_a_newer_finished_one_and_a_late_reply_still_counts(
    make_app: Any, helpers: Any
) -> None:
    app = await make_app(channels={"text": helpers.console("sms")}, inbound={"reply_window": "2h"})
    helpers.add_group(app, "town", [helpers.person(1)])
    # confirmation required: the delivered SMS does not count and the alert stays open
    open_alert = await _sent(app, Alert("Open", [Message("sms", text="a")], category=CONFIRM),
                             groups=["town"])
    app.clock.advance(minutes=5)
    done = await _sent(app, Alert("Done", [Message("sms", text="b")], reminder_offsets=()), groups=["town"])
    assert app.store.alerts.get(done.id).state is AlertState.FINISHED  # no reminders: done at once
    assert app.store.alerts.get(open_alert.id).state is AlertState.SENT
    assert _reply(app, "+33600000001", "yes") is not None
    await app.run_due()
    assert [a.status for a in app.store.attempts.for_alert(open_alert.id)] == ["confirmed"]
    assert [a.status for a in app.store.attempts.for_alert(done.id)] == ["received"]
    assert app.store.alerts.get(open_alert.id).state is AlertState.FINISHED  # everyone confirmed
    # no alert open: the most recent SMS within the window, until the window has passed
    app.clock.advance(minutes=30)
    assert _reply(app, "+33600000001", "1") is not None
    await app.run_due()
    assert [a.status for a in app.store.attempts.for_alert(done.id)] == ["confirmed"]
    app.clock.advance(hours=2)
    assert _reply(app, "+33600000001", "1") is None


async def test_unknown_senders_and_other_texts_are_left_to_the_next_plugin(make_app: Any, helpers: Any) -> None:
    app = await make_app(channels={"text": helpers.console("sms")})
    helpers.add_group(app, "town", [helpers.person(1)])
    alert = await _sent(app, Alert("T", [Message("sms", text="x")]), groups=["town"])
    assert _reply(app, "+33699999999", "oui") is None  # nobody has this number
    assert _reply(app, "Orange", "oui") is None  # not a phone number
    assert _reply(app, "+33600000001", "oui, merci") is None  # says more than a keyword
    assert _reply(app, "+33600000001", "non") is None
    await app.run_due()
    assert [a.status for a in app.store.attempts.for_alert(alert.id)] == ["received"]


async def test_configured_keywords_replace_the_defaults(make_app: Any, helpers: Any) -> None:
    app = await make_app(channels={"text": helpers.console("sms")},
                         inbound={"confirm_keywords": ["D'accord"]})
    helpers.add_group(app, "town", [helpers.person(1)])
    alert = await _sent(app, Alert("T", [Message("sms", text="x")]), groups=["town"])
    assert _reply(app, "+33600000001", "oui") is None
    assert _reply(app, "+33600000001", "d’accord") is None  # another apostrophe is another word
    assert _reply(app, "+33600000001", "D'ACCORD.") is not None
    await app.run_due()
    assert [a.status for a in app.store.attempts.for_alert(alert.id)] == ["confirmed"]
