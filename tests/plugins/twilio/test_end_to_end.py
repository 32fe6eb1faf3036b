"""An alert sent by the engine through the Twilio channels to the simulator, whose
signed callbacks reach the reference server's webhooks and end in the store: the whole
path, with every component real and on loopback."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tocsin import builtin_statuses
from tocsin.app import Tocsin
from tocsin.config import build_config
from tocsin.model import Alert, Category, Contact, ContactMeans, Message
from tocsin.plugins import twilio as twilio_plugin
from tocsin.plugins.server.app import create_app
from tocsin.rules import OutcomeCounts
from tocsin.testing.http_server import bind_loopback, serving, url_of
from tocsin.testing.twilio_scenarios import parse_book
from tocsin.testing.twilio_simulator import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, TwilioSimulator

pytestmark = pytest.mark.timeout(120)

ANNE, LUC = "+33600000001", "+33600000002"


async def test_an_alert_ends_with_the_statuses_the_provider_reported(tmp_path: Path) -> None:
    book = parse_book({"sms": {LUC: "undelivered:30005+duplicates+reorder"},
                       "call": {ANNE: "press:1", LUC: "busy"}})
    hooks = bind_loopback()
    async with TwilioSimulator(scenarios=book, time_scale=0.002) as sim:
        common = {"account_sid": DEFAULT_ACCOUNT_SID, "auth_token": DEFAULT_AUTH_TOKEN,
                  "api_base_url": sim.base_url, "from": "+33100000001", "rate": 0, "backoff": 0.01}
        config = build_config({
            "tocsin": {"data_dir": str(tmp_path), "base_url": url_of(hooks)},
            "channels": {"texts": {"type": "twilio-sms", **common},
                         "calls": {"type": "twilio-voice", "language": "en-GB", **common}},
        })
        plugins = [("core-statuses", builtin_statuses), ("twilio", twilio_plugin)]
        async with Tocsin(config, entry_points=False, plugins=plugins) as app:
            server = create_app(app.runtime)
            async with serving(server, sock=hooks, lifespan="on"):
                ids = list(app.store.contacts.upsert([
                    Contact("Anne", "Martin", external_id="a", language="fr",
                            means=[ContactMeans("mobile", ANNE)]),
                    Contact("Luc", "Petit", external_id="l", language="en",
                            means=[ContactMeans("mobile", LUC)]),
                ]).ids)
                alert = await app.send(
                    Alert("Crue", [Message("sms", text="Crue: {{ first_name }}, montez à l'étage."),
                                   Message("call", text="Alerte crue pour {{ first_name }}.")],
                          category=Category("evacuation", requires_confirmation=True)),
                    contacts=ids,
                )
                async with asyncio.timeout(30):
                    # the engine hands the attempts over in the background, the simulator
                    # calls back, the applier writes in batches: wait for each in turn
                    while not (await app.status(alert.id)).statuses:
                        await asyncio.sleep(0.05)
                    while len(sim.messages) + len(sim.calls) < 4:
                        await asyncio.sleep(0.05)
                    await sim.settle()
                    while (status := await app.status(alert.id)).open_attempts:
                        await asyncio.sleep(0.05)
            stored = app.store.attempts.for_alert(alert.id)
            events = {a.id: app.store.attempts.events(a.id) for a in stored}
            attempts = {(a.address, a.means): a for a in stored}
            assert {k: a.status for k, a in attempts.items()} == {
                (ANNE, "sms"): "received", (ANNE, "call"): "confirmed",
                (LUC, "sms"): "undelivered", (LUC, "call"): "busy",
            }
            assert attempts[(LUC, "sms")].error == "30005 unknown destination handset"
            assert attempts[(ANNE, "call")].reached is True and attempts[(LUC, "call")].reached is False
            assert status.counts == OutcomeCounts(contacted=1, in_progress=0, not_contacted=1)
            # Anne heard her message in French, Luc's call never got that far
            anne_call = next(c for c in sim.calls.values() if c.to == ANNE)
            assert anne_call.spoken[0] == ("fr-FR", "Alerte crue pour Anne.") and anne_call.digits == ["1"]
            anne_sms = next(m for m in sim.messages.values() if m.to == ANNE)
            assert anne_sms.body == "Crue: Anne, montez à l'étage."
            # the duplicated callbacks were refused as replays; nothing was recorded as an anomaly
            assert {c.status_code for c in sim.callbacks if c.kind == "sms-status"} == {204, 403}
            for attempt in attempts.values():
                assert not [e for e in events[attempt.id] if e.anomaly]
