"""An alert through Tocsin's engine over the GSM channels and virtual modems: SMS and
press-1 calls end in the statuses and outcomes the reports show."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tocsin.app import Tocsin
from tocsin.config import build_config
from tocsin.hal.scenarios import CallFate, Scenario, SmsFate
from tocsin.hal.virtual_modem import virtual_modems
from tocsin.model import Alert, Category, Contact, ContactMeans, Message

SCALE = 0.005
SCENARIOS = [
    Scenario("+33600000001", call=CallFate.PRESS_1),
    Scenario("+33600000002", call=CallFate.BUSY, sms=SmsFate.UNDELIVERED),
    Scenario("+33600000003", call=CallFate.ANSWER),  # answers, never presses 1
]


async def test_an_alert_by_sms_and_press_1_call_through_virtual_modems(tmp_path: Path):
    async with virtual_modems(2, scenarios=SCENARIOS, scale=SCALE) as (sms_modem, call_modem):
        gsm = {"time_scale": SCALE, "probe_interval": "5s"}
        config = build_config({
            "tocsin": {"data_dir": str(tmp_path), "database": f"sqlite:///{tmp_path / 't.db'}"},
            "reminders": {"offsets": ["10h"]},
            "channels": {
                "sms": {"type": "gsm-sms", "devices": [sms_modem.device], **gsm},
                "calls": {"type": "gsm-voice", "devices": [call_modem.device], **gsm},
            },
        })
        async with Tocsin(config) as app:
            contacts = [
                Contact(first_name=f"C{i}", means=[ContactMeans("mobile", f"+3360000000{i}")])
                for i in (1, 2, 3)
            ]
            ids = list(app.store.contacts.upsert(contacts).ids)
            alert = Alert(
                "Flood", [Message("sms", text="Flood warning {{ first_name }}"),
                          Message("call", text="Flood warning. Press 1 to confirm.")],
                category=Category("flood", requires_confirmation=True),
            )
            sent = await app.send(alert, contacts=ids)

            async def settled() -> None:
                while True:
                    status = await app.status(sent.id)
                    attempts = sum(n for by in status.statuses.values() for n in by.values())
                    if attempts == 6 and not status.open_attempts:
                        return
                    await asyncio.sleep(0.05)

            await asyncio.wait_for(settled(), 60)
            status = await app.status(sent.id)
        assert dict(status.statuses["sms"]) == {"received": 2, "undelivered": 1}
        assert dict(status.statuses["call"]) == {"confirmed": 1, "busy": 1, "completed": 1}
        # confirmation required: only the contact who pressed 1 counts as reached; a
        # delivered SMS is not a confirmation (a reply keyword would be)
        assert status.counts.contacted == 1 and status.counts.in_progress == 0
        assert [m.text for m in sms_modem.messages if m.recipient == "+33600000001"] == [
            "Flood warning C1"]
        assert {c.number for c in call_modem.calls} == {f"+3360000000{i}" for i in (1, 2, 3)}
