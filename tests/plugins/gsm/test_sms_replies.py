"""A contact's handset replies ``oui`` to an alert SMS sent through a virtual modem: the
reply comes back through the modem (``+CMTI``, ``AT+CMGR``), the engine's inbound hook
confirms the attempt, and the alert's target of confirmations is met."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from tocsin.app import Tocsin
from tocsin.config import build_config
from tocsin.hal.scenarios import Scenario, SmsFate
from tocsin.hal.virtual_modem import virtual_modems
from tocsin.model import Alert, AlertState, Category, Contact, ContactMeans, Message

SCALE = 0.005
FIRST, SECOND = "+33600000011", "+33600000012"


async def _until(check: Callable[[], bool], timeout: float = 30.0) -> None:
    async def loop() -> None:
        while not check():
            await asyncio.sleep(0.02)

    await asyncio.wait_for(loop(), timeout)


async def test_a_reply_oui_through_the_modem_confirms_the_sms_and_meets_the_target(tmp_path: Path):
    async with virtual_modems(1, scenarios=[Scenario("*", sms=SmsFate.DELIVERED)], scale=SCALE) as (vm,):
        config = build_config({
            "tocsin": {"data_dir": str(tmp_path), "database": f"sqlite:///{tmp_path / 't.db'}"},
            "reminders": {"offsets": ["10h"]},
            "channels": {"sms": {"type": "gsm-sms", "devices": [vm.device], "time_scale": SCALE,
                                 "probe_interval": "5s"}},
        })
        async with Tocsin(config) as app:
            ids = list(app.store.contacts.upsert([
                Contact(first_name=f"C{i}", means=[ContactMeans("mobile", number)])
                for i, number in enumerate((FIRST, SECOND))
            ]).ids)
            alert = await app.send(
                Alert("Evacuation", [Message("sms", text="Evacuate now. Reply OUI when safe.")],
                      category=Category("evacuation", requires_confirmation=True),
                      target_confirmations=1),
                contacts=ids,
            )

            def statuses() -> dict[str, str]:
                return {a.address: a.status for a in app.store.attempts.for_alert(alert.id)}

            await _until(lambda: statuses() == {FIRST: "received", SECOND: "received"})
            # received is not confirmed: the alert is still open
            assert app.store.alerts.get(alert.id).state in (AlertState.SENDING, AlertState.SENT)
            vm.receive_sms("+33699999999", "oui")  # nobody's number: claimed by no plugin
            vm.receive_sms(FIRST, "oui")
            await _until(lambda: statuses()[FIRST] == "confirmed")
            await _until(lambda: app.store.alerts.get(alert.id).state is AlertState.FINISHED)
            counts = await app.outcome_counts(alert.id)
            attempts = {a.address: a for a in app.store.attempts.for_alert(alert.id)}
        assert counts.contacted == 1
        assert attempts[FIRST].reached is True and attempts[SECOND].reached is False
        assert attempts[SECOND].status == "received"  # the target closed the alert, not the attempt
        assert not vm.inbox  # both replies were read from the modem and deleted
