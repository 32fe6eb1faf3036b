"""Bounce intake end to end: channel -> demo server -> DSN -> bounce receiver -> sink;
the hard-bounce observer on a real store; the open-tracking route on a Litestar app."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import aiosmtplib
import pytest

from tocsin import builtin_statuses
from tocsin.channel import Accepted
from tocsin.clock import FakeClock
from tocsin.config import build_config
from tocsin.model import AddressKind, Attempt, AttemptChange, Contact, ContactMeans, StatusEvent
from tocsin.plugins.smtp import plugin, tokens
from tocsin.plugins.smtp.demo import send_report, start_demo_mail
from tocsin.plugins.smtp.receiver import BounceReceiver
from tocsin.plugins.smtp.settings import ListenSettings
from tocsin.runtime import Runtime

from .conftest import SECRET, channel_for, outbound


async def wait_for(predicate, timeout: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)


async def test_bounces_and_delivery_reports_come_back_as_status_events(sink):
    receiver = BounceReceiver(ListenSettings("127.0.0.1", 0), "mail", SECRET, "example.org",
                              sink, FakeClock())
    await receiver.start()
    demo = await start_demo_mail(bounce_to=("127.0.0.1", receiver.port))
    try:
        sender = channel_for(demo.port)
        await sender.start(sink)
        results = [
            await sender.send(outbound("bounce.me@example.net", 11)),
            await sender.send(outbound("zoe@example.net", 12)),
        ]
        await sender.stop()
        assert all(isinstance(r, Accepted) for r in results)
        await demo.settle()
        await wait_for(lambda: len(sink.events) == 2)
        by_attempt = {e.attempt_id: e for e in sink.events}
        assert by_attempt[11].status == "rebound" and "user unknown" in by_attempt[11].reason
        assert by_attempt[11].data["hard"] == "yes" and by_attempt[11].source == "bounce-smtp"
        assert by_attempt[12].status == "received"
        assert receiver.attributed == 2
    finally:
        await demo.stop()
        await receiver.stop()


async def test_channel_starts_and_stops_its_bounce_receiver(sink):
    demo = await start_demo_mail()
    try:
        channel = channel_for(demo.port, bounce_smtp={"host": "127.0.0.1", "port": 0})
        await channel.start(sink)
        assert channel.receiver is not None
        port = channel.receiver.port
        verp = tokens.verp_address(SECRET, 5, "example.org")
        report = (f"From: MAILER-DAEMON@x.example\r\nTo: {verp}\r\n"
                  "X-Failed-Recipients: gone@example.net\r\nSubject: failed\r\n\r\n"
                  "A message that you sent could not be delivered.\r\n").encode()
        await send_report(report, verp, "127.0.0.1", port)
        with pytest.raises(aiosmtplib.SMTPRecipientRefused):  # never an open relay
            await send_report(report, "someone@elsewhere.example", "127.0.0.1", port)
        await wait_for(lambda: len(sink.events) == 1)
        [event] = sink.events
        assert (event.attempt_id, event.status, event.channel) == (5, "rebound", "mail")
        await channel.stop()
        assert channel.receiver is None
    finally:
        await demo.stop()


def test_hard_bounce_marks_the_address_failing_and_a_soft_one_does_not(tmp_path: Path):
    config = build_config({"tocsin": {"database": f"sqlite:///{tmp_path / 't.db'}"}})
    runtime = Runtime.open(config, entry_points=False,
                           plugins=[("core-statuses", builtin_statuses), ("smtp", plugin)])
    try:
        store = runtime.store
        contact = store.contacts.add(Contact(
            first_name="Zoë",
            means=(ContactMeans(AddressKind.EMAIL, "zoe@example.net"),
                   ContactMeans(AddressKind.EMAIL, "zoe.backup@example.net", preference=1),
                   ContactMeans(AddressKind.EMAIL, "zoe.old@example.net", preference=2)),
        ))
        assert contact.id is not None
        now = dt.datetime(2026, 1, 5, tzinfo=dt.UTC)
        addresses = ("zoe@example.net", "zoe.backup@example.net", "zoe.old@example.net")
        ids = store.attempts.insert_many([
            Attempt(alert_id=None, contact_id=contact.id, means="email",
                    address=address, status="sent", channel="mail")
            for address in addresses
        ], now=now)
        # what the bounce intake reported: a hard bounce, a delivery, a soft final failure
        store.attempts.insert_events([
            StatusEvent("rebound", now, ids[0], data={"hard": "yes"}),
            StatusEvent("received", now, ids[1]),
            StatusEvent("rebound", now, ids[2], data={"hard": "no"}),
        ], now=now)
        changes = [
            AttemptChange(attempt_id=i, alert_id=None, contact_id=contact.id, means="email",
                          old_status="sent", new_status=new, at=now)
            for i, new in zip(ids, ("rebound", "received", "rebound"), strict=True)
        ]
        runtime.pm.hook.tocsin_attempts_changed(runtime=runtime, changes=changes)
        means = {m.value: m.failing for m in store.contacts.get(contact.id).means}
        assert means == {"zoe@example.net": True, "zoe.backup@example.net": False,
                         "zoe.old@example.net": False}
    finally:
        runtime.close()


def test_demo_server_in_its_own_thread_takes_mail_and_returns_reports():
    import threading

    from tocsin.plugins.smtp.demo import DemoMailThread, free_port

    reports: list[bytes] = []
    got = threading.Event()

    class Collect:
        async def handle_DATA(self, server, session, envelope):
            reports.append(envelope.original_content)
            got.set()
            return "250 OK"

    async def scenario() -> None:
        from aiosmtpd.smtp import SMTP

        loop = asyncio.get_running_loop()
        bounce = await loop.create_server(lambda: SMTP(Collect()), "127.0.0.1", bounce_port)
        try:
            verp = tokens.verp_address(SECRET, 3, "example.org")
            smtp = aiosmtplib.SMTP(hostname="127.0.0.1", port=demo.port, start_tls=False)
            async with smtp:
                await smtp.sendmail(verp, ["bounce.me@example.net"], b"Subject: x\r\n\r\nhi\r\n")
            while not got.is_set():
                await asyncio.sleep(0.01)
        finally:
            bounce.close()

    bounce_port = free_port()
    with DemoMailThread(bounce_to=("127.0.0.1", bounce_port)) as demo:
        asyncio.run(asyncio.wait_for(scenario(), 10))
        assert [r.recipients for r in demo.received] == [("bounce.me@example.net",)]
        section = demo.channel_section(bounce_port, SECRET)
        assert section["port"] == demo.port and section["bounce_smtp"]["port"] == bounce_port
    from tocsin.plugins.smtp.bounces import parse_bounce

    bounce = parse_bounce(reports[0], SECRET)
    assert bounce is not None and (bounce.attempt_id, bounce.status) == (3, "rebound")
