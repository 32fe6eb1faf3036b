"""Verification: the report of unverified means, codes and links that mark a means
verified (by reply, by DTMF, by the link route), and the resend of a verification
e-mail through the real SMTP channel to a real SMTP server on loopback."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from litestar import Litestar
from litestar.testing import TestClient
from reports_dataset import BASE, Scenario, scenarios, write
from sqlalchemy import select

from tocsin.channel import ChannelSettings
from tocsin.clock import FakeClock
from tocsin.errors import ConfigError, NotFoundError, TocsinError, ValidationError
from tocsin.model import InboundMessage, StatusEvent
from tocsin.plugins.reports import verify
from tocsin.plugins.reports.verification import resend, resend_verification
from tocsin.plugins.reports.verify_route import verify_route
from tocsin.runtime import Runtime
from tocsin.store.schema import attempts, contact_means

SETTINGS = settings(max_examples=15, suppress_health_check=[HealthCheck.function_scoped_fixture])


def means_rows(runtime: Runtime) -> list[tuple[int, str, str, bool]]:
    with runtime.store.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(  # type: ignore[misc]
            select(contact_means.c.id, contact_means.c.kind, contact_means.c.value,
                   contact_means.c.verified).order_by(contact_means.c.id))]


def report_rows(runtime: Runtime, **params: object) -> list[tuple[object, ...]]:
    table = runtime.registry.reports["verification"].value.run(runtime, **params)
    return [tuple(r) for r in table.rows]


@SETTINGS
@given(scenario=scenarios(max_contacts=8, max_alerts=1))
def test_report_lists_exactly_the_unverified_means_and_their_challenge_state(
    runtime: Runtime, scenario: Scenario
) -> None:
    write(runtime.store, scenario)
    runtime.clock = FakeClock(BASE)
    unverified = [(mid, kind, value) for mid, kind, value, ok in means_rows(runtime) if not ok]
    rows = report_rows(runtime, limit=None)
    assert sorted((r[5], r[3], r[4]) for r in rows) == sorted(unverified)
    assert all(r[8] == "never sent" for r in rows)
    names = [(r[2], r[1], r[0]) for r in rows]
    assert names == sorted(names)
    table = runtime.registry.reports["verification"].value.run(runtime, kind="email")
    assert table.meta["total"] == sum(1 for _, kind, _ in unverified if kind == "email")

    if unverified:
        mid, kind, value = unverified[0]
        challenge = verify.issue(runtime.store, mid, now=BASE)
        assert challenge.via == verify.VIA_FOR_KIND[kind][0]
        states = {r[5]: r[8] for r in report_rows(runtime, limit=None)}
        assert states[mid] == "pending"
        later = BASE + verify.TTL + dt.timedelta(seconds=1)
        assert verify.confirm_code(runtime.store, value, challenge.code, now=later).verified is False
        runtime.clock.set(later)  # type: ignore[attr-defined]
        assert {r[5]: r[8] for r in report_rows(runtime, limit=None)}[mid] == "expired"
        fresh = verify.issue(runtime.store, mid, now=later)
        assert verify.confirm_code(runtime.store, value, fresh.code, now=later).verified
        assert mid not in {r[5] for r in report_rows(runtime, limit=None)}


def test_codes_are_single_use_superseded_and_locked_after_five_wrong_ones(runtime: Runtime) -> None:
    contact = runtime.store.contacts.add(_contact(), now=BASE)
    (mid, _, value, verified) = means_rows(runtime)[0]
    assert not verified and contact.id is not None
    first = verify.issue(runtime.store, mid, now=BASE)
    second = verify.issue(runtime.store, mid, now=BASE, via="call")
    assert second.via == "call"
    if first.code != second.code:
        assert not verify.confirm_code(runtime.store, value, first.code, now=BASE).verified
    wrong = f"{(int(second.code) + 1) % 10**6:06d}"
    for _ in range(verify.MAX_FAILURES - (first.code != second.code)):
        result = verify.confirm_code(runtime.store, value, wrong, now=BASE)
        assert not result.verified
    assert "too many" in result.reason
    assert not verify.confirm_code(runtime.store, value, second.code, now=BASE).verified
    assert [r[8] for r in report_rows(runtime)] == ["locked"]
    third = verify.issue(runtime.store, mid, now=BASE)
    assert verify.confirm_code(runtime.store, value, third.code, now=BASE).verified
    assert means_rows(runtime)[0][3] is True
    assert not verify.confirm_code(runtime.store, value, third.code, now=BASE).verified


def _contact():  # type: ignore[no-untyped-def]
    from tocsin.model import Contact, ContactMeans

    return Contact("Anne", "Martin", means=[ContactMeans("mobile", "+33612345678")])


def test_issue_refuses_a_means_the_address_cannot_use(runtime: Runtime) -> None:
    runtime.store.contacts.add(_contact(), now=BASE)
    mid = means_rows(runtime)[0][0]
    with pytest.raises(ValidationError, match="mobile address is verified by sms or call, not 'email'"):
        verify.issue(runtime.store, mid, now=BASE, via="email")
    with pytest.raises(NotFoundError, match="no contact means with id 9999"):
        verify.issue(runtime.store, 9999, now=BASE)


def test_a_reply_or_dtmf_digits_with_the_code_verify_through_the_inbound_hook(runtime: Runtime) -> None:
    runtime.store.contacts.add(_contact(), now=BASE)
    mid, _, value, _ = means_rows(runtime)[0]
    challenge = verify.issue(runtime.store, mid, now=BASE, via="call")
    hook = runtime.pm.hook.tocsin_inbound_message
    assert hook(runtime=runtime, message=InboundMessage("sms", value, "STOP", BASE)) != (
        f"verification confirmed for means {mid}")
    refused = hook(runtime=runtime, message=InboundMessage("sms", value, "000000"
                   if challenge.code != "000000" else "111111", BASE))
    assert refused == "verification code refused: wrong code"
    digits = "-".join(challenge.code)
    claimed = hook(runtime=runtime, message=InboundMessage("call", value, digits, BASE))
    assert claimed == f"verification confirmed for means {mid}"
    assert means_rows(runtime)[0][3] is True


def test_the_link_route_verifies_once_and_refuses_unknown_or_expired_tokens(runtime: Runtime) -> None:
    runtime.store.contacts.add(_contact(), now=BASE)
    mid = means_rows(runtime)[0][0]
    live = verify.issue(runtime.store, mid, now=BASE, via="sms")
    app = Litestar(route_handlers=[verify_route(runtime)])
    with TestClient(app) as client:
        assert client.get("/verify/not-a-token").status_code == 404
        ok = client.get(f"/verify/{live.token}")
        assert ok.status_code == 200 and "Address confirmed" in ok.text
        assert means_rows(runtime)[0][3] is True
        assert client.get(f"/verify/{live.token}").status_code == 200  # already verified
        stale = verify.issue(runtime.store, mid, now=BASE, via="sms")
        assert isinstance(runtime.clock, FakeClock)
        runtime.clock.advance(hours=25)
        gone = client.get(f"/verify/{stale.token}")
        assert gone.status_code == 410 and "expired" in gone.text


class Sink:
    def __init__(self) -> None:
        self.events: list[StatusEvent] = []

    def report(self, event: StatusEvent) -> None:
        self.events.append(event)

    def inbound(self, message: InboundMessage) -> None:
        pass


async def test_resend_emails_a_code_and_link_through_the_smtp_channel(runtime: Runtime) -> None:
    from tocsin.model import Contact, ContactMeans
    from tocsin.plugins.smtp.demo import start_demo_mail

    runtime.store.contacts.add(
        Contact("Zoë", "Ça", means=[ContactMeans("email", "zoe@example.org")]), now=BASE)
    mid = means_rows(runtime)[0][0]
    demo = await start_demo_mail()
    try:
        port = demo.server.sockets[0].getsockname()[1]
        channel = runtime.registry.channel_type("smtp").build(ChannelSettings(
            name="mail", type="smtp", clock=runtime.clock, base_url="http://127.0.0.1:8000",
            options={"host": "127.0.0.1", "port": port, "tls": "none",
                     "from_address": "alerts@example.org",
                     "token_secret": "a-test-secret-of-32-characters!!"}))
        await channel.start(Sink())
        try:
            with pytest.raises(ValidationError, match="sends email, not sms"):
                await resend(runtime, mid, channel=channel, via="sms")
            sent = await resend(runtime, mid, channel=channel)
        finally:
            await channel.stop()
    finally:
        await demo.stop()
    assert (sent.via, sent.status, sent.error) == ("email", "sent", "")
    assert len(demo.received) == 1 and demo.received[0].recipients == ("zoe@example.org",)
    mail = email.message_from_bytes(demo.received[0].data, policy=email.policy.default)
    assert mail["Subject"] == "Confirm your address for alerts"
    body = mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    code = re.search(r"code: (\d{6})", body).group(1)  # type: ignore[union-attr]
    token = re.search(r"/verify/([\w-]+)", body).group(1)  # type: ignore[union-attr]
    with runtime.store.engine.connect() as conn:
        row = conn.execute(select(attempts).where(attempts.c.id == sent.attempt_id)).one()
    assert (row.kind, row.means, row.status, row.alert_id, row.channel) == (
        "verification", "email", "sent", None, "mail")
    assert row.sent_at is not None
    assert verify.confirm_token(runtime.store, token, now=runtime.clock.now()).verified
    assert not verify.confirm_code(runtime.store, "zoe@example.org", code, now=runtime.clock.now()).verified
    assert means_rows(runtime)[0][3] is True


async def test_resend_goes_through_the_running_engines_channel(tmp_path: Path) -> None:
    from tocsin.app import Tocsin
    from tocsin.config import build_config
    from tocsin.model import Contact, ContactMeans
    from tocsin.plugins.smtp.demo import start_demo_mail

    demo = await start_demo_mail()
    port = demo.server.sockets[0].getsockname()[1]
    config = build_config({
        "tocsin": {"database": f"sqlite:///{tmp_path / 'tocsin.db'}"},
        "channels": {"mail": {"type": "smtp", "host": "127.0.0.1", "port": port, "tls": "none",
                              "from_address": "alerts@example.org",
                              "token_secret": "a-test-secret-of-32-characters!!"}},
    }, environ={})
    try:
        async with Tocsin(config, clock=FakeClock(BASE), background=False) as app:
            runtime = app.runtime
            runtime.store.contacts.add(Contact("Zoë", "Ça", means=[
                ContactMeans("email", "zoe@example.org"), ContactMeans("mobile", "+33612345678")]),
                now=BASE)
            by_kind = {kind: mid for mid, kind, _, _ in means_rows(runtime)}
            with pytest.raises(ConfigError, match="no configured channel can verify a mobile"):
                await resend_verification(runtime, by_kind["mobile"])
            sent = await resend_verification(runtime, by_kind["email"])
            assert (sent.via, sent.status) == ("email", "sent")
            outside = Runtime(runtime.config, runtime.pm, runtime.registry, runtime.store, runtime.clock)
            with pytest.raises(TocsinError, match="no engine runs in this process"):
                await resend_verification(outside, by_kind["email"])
    finally:
        await demo.stop()
    assert [r.recipients for r in demo.received] == [("zoe@example.org",)]
