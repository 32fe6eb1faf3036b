"""The smtp channel against real aiosmtpd servers on loopback."""

from __future__ import annotations

import asyncio
import email
import itertools
import socket
from email import policy

import pytest

from tocsin.channel import Accepted, ChannelSettings, HealthState, PermanentFailure, TemporaryFailure
from tocsin.errors import ConfigError
from tocsin.plugins.smtp import tokens
from tocsin.plugins.smtp.channel import build_channel
from tocsin.plugins.smtp.demo import start_demo_mail

from .conftest import SECRET, RecordingSink, channel_for, outbound


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_accepted_message_is_sent_with_attempt_tokens_and_encoded_headers(scripted, sink):
    demo, _ = scripted
    channel = channel_for(demo.port)
    await channel.start(sink)
    result = await channel.send(outbound("zoe@example.net", attempt_id=42))
    await channel.stop()

    assert isinstance(result, Accepted) and result.status == "sent"
    [got] = demo.received
    assert tokens.attempts_in_verp(SECRET, got.mail_from) == [42]
    assert got.recipients == ("zoe@example.net",)
    raw = got.data.decode("ascii")  # every header and body is 7-bit on the wire
    assert "Montréal" not in raw and "=?utf-8?" in raw
    msg = email.message_from_bytes(got.data, policy=policy.default)
    assert msg["Subject"] == "Alerte : coupure d'eau à Montréal"
    assert msg["To"].addresses[0].display_name == "Zoë Ça"
    assert msg["From"].addresses[0].display_name == "Mairie de Saint-Étienne"
    assert result.provider_ref == msg["Message-ID"]
    assert tokens.attempts_in_message_ids(SECRET, msg["Message-ID"]) == [42]
    assert msg.get_body(("plain",)).get_content().strip() == "Coupure d'eau demain 8h-12h."
    assert "<b>8h-12h</b>" in msg.get_body(("html",)).get_content()


async def test_connections_are_reused_across_messages(scripted, sink):
    demo, _ = scripted
    channel = channel_for(demo.port, concurrency=1)
    await channel.start(sink)
    results = [await channel.send(outbound(f"u{i}@example.net", i)) for i in range(1, 21)]
    await channel.stop()
    assert all(isinstance(r, Accepted) for r in results)
    assert len(demo.received) == 20
    assert channel.pools[0].opened == 1


async def test_concurrency_limit_bounds_the_connections_opened(scripted, sink):
    demo, _ = scripted
    channel = channel_for(demo.port, concurrency=2)
    await channel.start(sink)
    results = await asyncio.gather(*(channel.send(outbound(f"u{i}@example.net", i))
                                     for i in range(1, 31)))
    await channel.stop()
    assert all(isinstance(r, Accepted) for r in results)
    assert channel.pools[0].opened == 2


async def test_connection_closed_by_the_server_is_reopened(sink):
    demo = await start_demo_mail(server_options={"timeout": 0.2})  # idle connections time out
    try:
        channel = channel_for(demo.port, concurrency=1)
        await channel.start(sink)
        assert isinstance(await channel.send(outbound("a@example.net", 1)), Accepted)
        await asyncio.sleep(0.6)  # the server closes the idle connection
        assert isinstance(await channel.send(outbound("b@example.net", 2)), Accepted)
        await channel.stop()
        assert channel.pools[0].opened == 2
        assert len(demo.received) == 2
    finally:
        await demo.stop()


async def test_permanent_refusal_at_rcpt_is_not_sent_and_connection_is_reset_and_reused(scripted, sink):
    demo, handler = scripted
    channel = channel_for(demo.port, concurrency=1)
    await channel.start(sink)
    refused = await channel.send(outbound("refuse-rcpt@example.net", 1))
    after = await channel.send(outbound("ok@example.net", 2))
    await channel.stop()
    assert isinstance(refused, PermanentFailure)
    assert refused.status == "not sent" and refused.code == "550"
    assert "User unknown" in refused.reason and "RCPT" in refused.reason
    assert handler.rsets >= 1
    assert isinstance(after, Accepted) and channel.pools[0].opened == 1


async def test_permanent_refusal_after_data_is_rejected_with_the_server_reply(scripted, sink):
    demo, _ = scripted
    channel = channel_for(demo.port)
    await channel.start(sink)
    result = await channel.send(outbound("refuse-data@example.net", 1))
    await channel.stop()
    assert isinstance(result, PermanentFailure) and result.status == "rejected"
    assert "virus found (Test.Signature)" in result.reason and result.code == "554"


async def test_temporary_refusal_is_a_temporary_failure_then_sent_on_retry(scripted, sink):
    demo, _ = scripted
    channel = channel_for(demo.port, concurrency=1)
    await channel.start(sink)
    first = await channel.send(outbound("greylist@example.net", 1))
    second = await channel.send(outbound("greylist@example.net", 1))
    await channel.stop()
    assert isinstance(first, TemporaryFailure) and first.code == "451"
    assert "Greylisted" in first.reason
    assert isinstance(second, Accepted) and second.status == "sent"
    assert channel.pools[0].opened == 1


async def test_connection_dropped_mid_data_is_temporary_and_next_send_reconnects(scripted, sink):
    demo, _ = scripted
    channel = channel_for(demo.port, concurrency=1, failover_cooldown=0.01)
    await channel.start(sink)
    dropped = await channel.send(outbound("drop@example.net", 1))
    await asyncio.sleep(0.02)
    after = await channel.send(outbound("ok@example.net", 2))
    await channel.stop()
    assert isinstance(dropped, TemporaryFailure) and "DATA" in dropped.reason
    assert isinstance(after, Accepted)
    assert channel.pools[0].opened == 2


async def test_invalid_address_is_not_sent_before_any_smtp_command(scripted, sink):
    demo, handler = scripted
    channel = channel_for(demo.port)
    await channel.start(sink)
    result = await channel.send(outbound("not an address", 1))
    await channel.stop()
    assert isinstance(result, PermanentFailure) and result.status == "not sent"
    assert "not a valid e-mail address" in result.reason
    assert handler.mails == 0


async def test_dsn_is_requested_when_the_server_advertises_it(scripted, sink):
    demo, _ = scripted
    channel = channel_for(demo.port)
    await channel.start(sink)
    await channel.send(outbound("zoe@example.net", 7))
    await channel.stop()
    [got] = demo.received
    assert "NOTIFY=SUCCESS,FAILURE" in got.rcpt_options
    envid = next(o for o in got.mail_options if o.startswith("ENVID="))
    assert tokens.verify_token(SECRET, tokens.VERP, envid.split("=", 1)[1]) == 7


async def test_starttls_with_certificate_check_and_auth(server_tls, cafile, sink):
    def authenticate(server, session, envelope, mechanism, auth_data):
        from aiosmtpd.smtp import AuthResult

        ok = auth_data.login == b"alerts" and auth_data.password == b"s3cret-password"
        return AuthResult(success=ok, handled=False)

    demo = await start_demo_mail(server_options={
        "tls_context": server_tls, "require_starttls": True, "authenticator": authenticate,
        "auth_required": True,
    })
    try:
        good = channel_for(demo.port, tls="starttls", cafile=cafile, username="alerts",
                           password="s3cret-password")
        await good.start(sink)
        result = await good.send(outbound("zoe@example.net", 1))
        await good.stop()
        assert isinstance(result, Accepted)
        [got] = demo.received
        assert got.tls and got.authenticated

        wrong_password = channel_for(demo.port, tls="starttls", cafile=cafile,
                                     username="alerts", password="wrong-password")
        with pytest.raises(ConfigError, match="refused the set-up"):
            await wrong_password.start(RecordingSink())

        untrusted = channel_for(demo.port, tls="starttls", username="alerts",
                                password="s3cret-password")  # system CAs do not know ours
        with pytest.raises(ConfigError, match="refused the set-up"):
            await untrusted.start(RecordingSink())
        assert len(demo.received) == 1
    finally:
        await demo.stop()


async def test_implicit_tls_is_verified(ca, server_tls, cafile, sink):
    import asyncio as aio

    from aiosmtpd.smtp import SMTP

    from .conftest import Scripted

    handler = Scripted()
    loop = aio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(handler), "127.0.0.1", 0, ssl=server_tls)
    port = server.sockets[0].getsockname()[1]
    from tocsin.plugins.smtp.demo import DemoMail

    handler.bind(DemoMail(server))
    try:
        channel = channel_for(port, tls="implicit", cafile=cafile)
        await channel.start(sink)
        assert isinstance(await channel.send(outbound("zoe@example.net", 1)), Accepted)
        await channel.stop()
    finally:
        server.close()


async def test_failover_to_the_next_server_when_the_first_is_unreachable(scripted, sink):
    demo, _ = scripted
    dead = free_port()
    channel = build_channel(ChannelSettings(name="mail", type="smtp", options={
        "type": "smtp", "from_address": "alerts@example.org", "token_secret": SECRET,
        "servers": [
            {"host": "127.0.0.1", "port": dead, "tls": "none"},
            {"host": "127.0.0.1", "port": demo.port, "tls": "none"},
        ],
    }))
    await channel.start(sink)
    assert channel.health().state is HealthState.DEGRADED
    result = await channel.send(outbound("zoe@example.net", 1))
    await channel.stop()
    assert isinstance(result, Accepted)
    assert len(demo.received) == 1
    assert f"127.0.0.1:{dead}" in channel.health().detail


async def test_all_servers_down_is_a_temporary_failure_and_health_down(sink):
    channel = channel_for(free_port())
    await channel.start(sink)
    result = await channel.send(outbound("zoe@example.net", 1))
    await channel.stop()
    assert isinstance(result, TemporaryFailure) and "cannot connect" in result.reason
    assert channel.health().state is HealthState.DOWN


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"from_address": "nope"}, "from_address"),
        ({"token_secret": "short"}, "token_secret"),
        ({"tls": "ssl3"}, "tls"),
        ({"timeout": 0}, "timeout"),
        ({"username": "u"}, "username and password"),
        ({"scan": "maybe"}, "scan"),
        ({"colour": "blue"}, "unknown key"),
        ({"list_unsubscribe": "ftp://x"}, "list_unsubscribe"),
    ],
)
def test_bad_configuration_is_refused_naming_the_key(options, message):
    with pytest.raises(ConfigError, match=message):
        channel_for(25, **options)


def test_a_port_out_of_range_is_refused():
    with pytest.raises(ConfigError, match=r"channels\.mail\.port: 70000 is not a TCP port"):
        channel_for(70000)


async def test_list_unsubscribe_header_when_configured(scripted, sink):
    demo, _ = scripted
    channel = channel_for(demo.port, list_unsubscribe="https://example.org/unsubscribe")
    await channel.start(sink)
    await channel.send(outbound("zoe@example.net", 3))
    await channel.stop()
    msg = demo.received[0].message
    assert msg["List-Unsubscribe"] == "<https://example.org/unsubscribe>"
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


async def test_tracking_pixel_only_when_enabled(scripted, sink):
    demo, _ = scripted
    off = channel_for(demo.port, base_url="https://tocsin.example.org")
    on = channel_for(demo.port, base_url="https://tocsin.example.org", tracking_pixel=True)
    for channel, attempt in ((off, 1), (on, 2)):
        await channel.start(sink)
        await channel.send(outbound("zoe@example.net", attempt))
        await channel.stop()
    html_off = demo.received[0].message.get_payload()[1].get_payload(decode=True).decode()
    html_on = demo.received[1].message.get_payload()[1].get_payload(decode=True).decode()
    assert "/email/open/" not in html_off
    token = tokens.make_token(SECRET, tokens.OPEN, 2)
    assert f"https://tocsin.example.org/email/open/mail/{token}.gif" in html_on


def test_rate_limiter_spaces_reservations():
    from tocsin.plugins.smtp.pool import RateLimiter

    async def run() -> list[float]:
        limiter = RateLimiter(rate=1000, per=1.0)
        stamps = []
        for _ in range(5):
            await limiter.wait()
            stamps.append(limiter._next)
        return stamps

    stamps = asyncio.run(run())
    gaps = [round(b - a, 6) for a, b in itertools.pairwise(stamps)]
    assert all(g >= 0.001 for g in gaps)



async def test_internationalised_addresses_use_idna_or_smtputf8(scripted, sink):
    demo, _ = scripted
    channel = channel_for(demo.port)
    await channel.start(sink)
    idn = await channel.send(outbound("zoe@exämple.fr", 1))
    utf8 = await channel.send(outbound("zoë@exämple.fr", 2))
    await channel.stop()
    assert isinstance(idn, Accepted) and isinstance(utf8, Accepted)
    first, second = demo.received
    assert first.recipients == ("zoe@xn--exmple-cua.fr",)
    assert "SMTPUTF8" not in first.mail_options and first.data.isascii()
    assert second.recipients == ("zoë@exämple.fr",)
    assert "zoë@exämple.fr".encode() in second.data


async def test_non_ascii_local_part_is_not_sent_when_the_server_lacks_smtputf8(sink):
    demo = await start_demo_mail(server_options={"enable_SMTPUTF8": False})
    try:
        channel = channel_for(demo.port)
        await channel.start(sink)
        result = await channel.send(outbound("zoë@example.fr", 1))
        await channel.stop()
        assert isinstance(result, PermanentFailure) and result.status == "not sent"
        assert "SMTPUTF8" in result.reason and demo.received == []
    finally:
        await demo.stop()


async def test_names_and_subjects_cannot_inject_headers(scripted, sink):
    demo, _ = scripted
    channel = channel_for(demo.port)
    await channel.start(sink)
    await channel.send(outbound("zoe@example.net", 1, name="Eve\r\nBcc: victim@example.com",
                                subject="Alerte\nBcc: victim@example.com"))
    await channel.stop()
    msg = demo.received[0].message
    assert msg["Bcc"] is None and demo.received[0].recipients == ("zoe@example.net",)
    assert "victim@example.com" in msg["Subject"]


def test_declared_limits_add_up_the_servers_limits():
    channel = build_channel(ChannelSettings(name="mail", type="smtp", options={
        "type": "smtp", "from_address": "alerts@example.org", "token_secret": SECRET,
        "servers": [
            {"host": "127.0.0.1", "port": 2501, "tls": "none", "rate": 10, "concurrency": 3},
            {"host": "127.0.0.1", "port": 2502, "tls": "none", "rate": 30, "per": 60},
        ],
    }))
    assert channel.limits.concurrency == 3 + 4
    assert channel.limits.rate == 10 + 0.5 and channel.limits.per == 1.0
    assert [p._limiter.interval for p in channel.pools] == [0.1, 2.0]
    unlimited = channel_for(25)
    assert unlimited.limits.rate is None


def test_secrets_never_appear_in_the_settings_repr():
    channel = channel_for(25, username="alerts", password="s3cret-password",
                          bounce_imap={"host": "imap.example.org", "username": "b",
                                       "password": "imap-s3cret"})
    text = repr(channel.settings)
    assert "s3cret-password" not in text and "imap-s3cret" not in text and SECRET not in text


async def test_a_stopped_channel_can_be_started_again(scripted, sink):
    demo, _ = scripted
    channel = channel_for(demo.port)
    for attempt in (1, 2):
        await channel.start(sink)
        assert isinstance(await channel.send(outbound("zoe@example.net", attempt)), Accepted)
        await channel.stop()
    assert len(demo.received) == 2
