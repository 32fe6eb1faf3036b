"""Bad input is refused before anything is written, with a message naming the problem."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from tocsin.errors import ValidationError
from tocsin.model import Alert, Audience, Category, EscalationPlan, EscalationStep, Message
from tocsin.store.schema import alert_contacts, alerts, attempts, timers

GOOD = [Message("sms", text="Hello {{ first_name }}")]


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    """These checks happen before any SQL is written: SQLite alone is enough."""
    return f"sqlite:///{tmp_path / 'tocsin.db'}"


def _rows(app: Any) -> dict[str, int]:
    with app.store.engine.connect() as conn:
        return {
            t.name: int(conn.execute(select(func.count()).select_from(t)).scalar_one())
            for t in (alerts, alert_contacts, attempts, timers)
        }


CASES = [
    ("no audience", Alert("T", GOOD), Audience(), "no audience"),
    ("unknown group", Alert("T", GOOD), Audience(groups=("nowhere",)), "no group named 'nowhere'"),
    ("unknown contact", Alert("T", GOOD), Audience(contact_ids=(999999,)), "no contact with id 999999"),
    ("empty group", Alert("T", GOOD), Audience(groups=("empty",)), "audience is empty"),
    ("no means", Alert("T", []), Audience(groups=("town",)), "no means"),
    ("empty message", Alert("T", [Message("sms", text="  ")]), Audience(groups=("town",)),
     "message for sms is empty"),
    ("e-mail without subject", Alert("T", [Message("email", text="x")]), Audience(groups=("town",)),
     "no subject"),
    ("template syntax", Alert("T", [Message("sms", text="Hi {{ first_name ")]), Audience(groups=("town",)),
     "template error"),
    ("unknown field", Alert("T", [Message("sms", text="Hi {{ nickname }}")]), Audience(groups=("town",)),
     "unknown field(s) nickname"),
    ("missing attribute", Alert("T", [Message("sms", text="Zone {{ attributes.zone }}")]),
     Audience(groups=("town",)), "lacks zone"),
    ("no channel for means", Alert("T", [Message("push", text="x")]), Audience(groups=("town",)),
     "no status machine for means 'push'"),
    ("no title", Alert(" ", GOOD), Audience(groups=("town",)), "no title"),
    ("plan means without message",
     Alert("T", GOOD, plan=EscalationPlan([EscalationStep("call")])), Audience(groups=("town",)),
     "escalation plan uses call"),
    ("bad target", Alert("T", GOOD, target_confirmations=0), Audience(groups=("town",)), "target"),
    ("unsorted reminders", Alert("T", GOOD, category=Category("c", reminder_offsets=(
        __import__("datetime").timedelta(hours=1), __import__("datetime").timedelta(minutes=5)))),
     Audience(groups=("town",)), "increasing order"),
]


@pytest.mark.parametrize(("alert", "audience", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
async def test_bad_alert_is_refused_and_nothing_is_written(
    app: Any, helpers: Any, alert: Alert, audience: Audience, message: str
) -> None:
    helpers.add_group(app, "town", [helpers.person(1), helpers.person(2, zone="north")])
    app.store.groups.create("empty")
    before = _rows(app)
    with pytest.raises(ValidationError) as refused:
        await app.send(alert, audience)
    assert message in str(refused.value)
    assert _rows(app) == before


async def test_a_means_without_a_channel_is_refused(make_app: Any, helpers: Any) -> None:
    app = await make_app(channels={"text": helpers.console("sms")})
    helpers.add_group(app, "town", [helpers.person(1)])
    with pytest.raises(ValidationError, match="no channel is configured for means 'call'"):
        await app.send(Alert("T", [Message("call", text="x")]), groups=["town"])
    assert _rows(app)["alerts"] == 0


async def test_a_draft_is_checked_when_created_and_sent_once(app: Any, helpers: Any) -> None:
    helpers.add_group(app, "town", [helpers.person(1)])
    with pytest.raises(ValidationError, match="unknown field"):
        await app.create(Alert("T", [Message("sms", text="{{ nope }}")]))
    draft = await app.create(Alert("T", GOOD))
    assert draft.state == "draft"
    sent = await app.send(draft.id, groups=["town"])
    assert sent.state == "sending"
    with pytest.raises(ValidationError, match="only a draft can be sent"):
        await app.send(draft.id, groups=["town"])
