"""Delivery tracking survives a restart: SMS sent by one Tocsin, status reports handed
over by the virtual network only once a new Tocsin (new engine, new channel, same
SQLite store) opens the modem; every attempt still ends as its report says."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tocsin.app import Tocsin
from tocsin.config import build_config
from tocsin.hal.scenarios import Scenario, SmsFate
from tocsin.hal.virtual_modem import Timing, virtual_modems
from tocsin.model import Alert, Contact, ContactMeans, Message

SCALE = 0.005
SHORT, LONG, FAILING = "+33600000021", "+33600000022", "+33600000023"
SCENARIOS = [Scenario(FAILING, sms=SmsFate.UNDELIVERED), Scenario("*", sms=SmsFate.DELIVERED)]


async def _until(check: Callable[[], bool], timeout: float = 30.0) -> None:
    async def loop() -> None:
        while not check():
            await asyncio.sleep(0.02)

    await asyncio.wait_for(loop(), timeout)


def _config(tmp_path: Path, device: str) -> Any:
    return build_config({
        "tocsin": {"data_dir": str(tmp_path), "database": f"sqlite:///{tmp_path / 't.db'}"},
        "reminders": {"offsets": ["10h"]},
        "channels": {"sms": {"type": "gsm-sms", "devices": [device], "time_scale": SCALE,
                             "probe_interval": "5s"}},
    })


async def test_status_reports_after_a_restart_reach_their_attempts(tmp_path: Path):
    # the network takes an hour to report: nothing comes back before the restart
    async with virtual_modems(1, scenarios=SCENARIOS, scale=SCALE, timing=Timing(report=3600)) as (vm,):
        config = _config(tmp_path, vm.device)
        async with Tocsin(config) as first:
            contacts = [
                Contact(first_name="Al", means=[ContactMeans("mobile", SHORT)]),
                # a first name long enough to make a three-part message
                Contact(first_name="Bé" * 150, means=[ContactMeans("mobile", LONG)]),
                Contact(first_name="Cy", means=[ContactMeans("mobile", FAILING)]),
            ]
            ids = list(first.store.contacts.upsert(contacts).ids)
            alert = await first.send(Alert("Flood", [Message("sms", text="Flood, {{ first_name }}")]),
                                     contacts=ids)

            def statuses(app: Tocsin) -> dict[str, str]:
                return {a.address: a.status for a in app.store.attempts.for_alert(alert.id)}

            await _until(lambda: set(statuses(first).values()) == {"sent"} and len(statuses(first)) == 3)
            refs = {a.address: a.provider_ref for a in first.store.attempts.for_alert(alert.id)}
        assert len(vm.messages) == 3 and [len(m.references) for m in vm.messages] == [1, 3, 1]
        assert refs[LONG] == f"{vm.imsi}:{vm.messages[1].references[-1]}:33600000022"
        # the modem is pulled and plugged back while no Tocsin runs; the network, faster
        # now, hands over what it owes once the new channel switches indications on
        vm.unplug()
        vm.timing = Timing()
        await vm.start()
        async with Tocsin(config) as second:
            await _until(lambda: statuses(second) == {SHORT: "received", LONG: "received",
                                                      FAILING: "undelivered"})
            attempts = {a.address: a for a in second.store.attempts.for_alert(alert.id)}
            events = second.store.attempts.events(attempts[FAILING].id)
        assert attempts[SHORT].reached is True and attempts[FAILING].reached is False
        assert "status report 0x41" in attempts[FAILING].error
        assert events[-1].source == "gsm" and events[-1].status == "undelivered"
