"""An alert sent by e-mail through the real engine: the smtp channel against the demo
server, reports coming back through the bounce receiver, statuses in the store, and the
hard-bounced address marked failing (what ``make demo`` shows)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tocsin.app import Tocsin
from tocsin.clock import FakeClock
from tocsin.config import build_config
from tocsin.model import Alert, Contact, ContactMeans, Message
from tocsin.plugins.smtp.demo import free_port, start_demo_mail

from .conftest import SECRET

ADDRESSES = {
    "zoe@example.net": "received",
    "bounce.paul@example.net": "rebound",
    "complain.ana@example.net": "marked as spam",
    "unknown.leo@example.net": "not sent",
    "virus.eve@example.net": "rejected",
}


async def test_an_email_alert_ends_in_every_status_the_server_and_reports_say(tmp_path: Path):
    bounce_port = free_port()
    demo = await start_demo_mail(bounce_to=("127.0.0.1", bounce_port))
    config = build_config({
        "tocsin": {"data_dir": str(tmp_path), "database": f"sqlite:///{tmp_path / 't.db'}"},
        "channels": {"mail": demo.channel_section(bounce_port, SECRET)},
    })
    app = Tocsin(config, clock=FakeClock(), background=False)
    await app.start()
    try:
        contacts = [Contact(first_name=a.split("@")[0], means=[ContactMeans("email", a)])
                    for a in ADDRESSES]
        ids = list(app.store.contacts.upsert(contacts).ids)
        app.store.groups.create("town")
        app.store.groups.add("town", ids)
        alert = await app.send(Alert("Coupure d'eau", [Message(
            "email", subject="Coupure d'eau à {{ first_name }}",
            text="Bonjour {{ first_name }}, coupure demain.",
            html="<p>Bonjour {{ first_name }}</p>")]), groups=["town"])
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 30  # a loaded machine may need a few ticks
        while True:
            await app.run_due()
            await demo.settle()  # every report due so far has reached the bounce receiver
            await app.run_due()
            final = {a.address: a.status for a in app.store.attempts.for_alert(alert.id)}
            if final == ADDRESSES or loop.time() > deadline:
                break
            await asyncio.sleep(0.1)
        assert final == ADDRESSES
        status = await app.status(alert.id)
        assert status.statuses["email"] == {s: 1 for s in ADDRESSES.values()}
        failing = {m.value for c in app.store.contacts.load(ids).values() for m in c.means
                   if m.failing}
        assert failing == {"bounce.paul@example.net"}
        assert len(demo.received) == 3  # refused ones never got through
    finally:
        await app.stop()
        await demo.stop()
