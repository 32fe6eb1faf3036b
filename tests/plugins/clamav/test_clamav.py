"""The ClamAV scanner against a real clamd, started by the test with its own signatures.

The public signature database cannot be downloaded here, so the test writes a body
signature (``.ndb``) for the EICAR test string; clamd loads it like any other.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tocsin.channel import (
    Accepted,
    ChannelSettings,
    OutboundAttempt,
    PermanentFailure,
    RenderedMessage,
    TemporaryFailure,
)
from tocsin.config import build_config
from tocsin.errors import ConfigError
from tocsin.model import Attempt, InboundMessage, StatusEvent
from tocsin.plugin_manager import load_plugins
from tocsin.plugins.clamav import plugin as clamav_plugin
from tocsin.plugins.clamav.clamd import ClamdAddress, parse_reply, ping, scan_bytes
from tocsin.plugins.smtp import message as smtp_message
from tocsin.plugins.smtp.channel import SmtpChannel, build_channel
from tocsin.plugins.smtp.demo import start_demo_mail
from tocsin.scan import ScanError, scan_parts

# Built in two halves so that no file of this repository is itself the test virus.
EICAR = (b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$" + b"EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*")
SIGNATURE = "Tocsin.Test.EICAR"


class RecordingSink:
    def __init__(self) -> None:
        self.events: list[StatusEvent] = []

    def report(self, event: StatusEvent) -> None:
        self.events.append(event)

    def inbound(self, message: InboundMessage) -> None:
        pass


def channel_for(port: int, **options: object) -> SmtpChannel:
    section = {"type": "smtp", "host": "127.0.0.1", "port": port, "tls": "none",
               "from_address": "alerts@example.org", "token_secret": "x" * 32, **options}
    hooks = section.pop("hooks", None)
    return build_channel(ChannelSettings(name="mail", type="smtp", options=section, hooks=hooks))


def outbound(address: str, attempt_id: int, text: str = "Coupure d'eau demain.") -> OutboundAttempt:
    return OutboundAttempt(
        attempt=Attempt(alert_id=1, contact_id=1, means="email", address=address, status="",
                        id=attempt_id),
        message=RenderedMessage(text=text, subject="Alerte"),
    )


def clamd_binary() -> str:
    found = shutil.which("clamd") or ("/usr/sbin/clamd" if Path("/usr/sbin/clamd").exists() else "")
    if not found:
        if os.environ.get("CI"):
            pytest.fail("clamd is missing: .ci/run installs the Debian package clamav-daemon")
        pytest.skip("clamd is not installed (Debian package clamav-daemon)")
    return found


@pytest.fixture(scope="module")
def clamd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClamdAddress]:
    binary = clamd_binary()
    root = tmp_path_factory.mktemp("clamd")
    (root / "db").mkdir()
    (root / "db" / "tocsin.ndb").write_text(f"{SIGNATURE}:0:*:{EICAR.hex()}\n")
    sock = root / "clamd.sock"
    conf = root / "clamd.conf"
    conf.write_text("\n".join([
        f"LocalSocket {sock}", f"DatabaseDirectory {root / 'db'}", "Foreground yes",
        f"LogFile {root / 'clamd.log'}", f"PidFile {root / 'clamd.pid'}",
        f"TemporaryDirectory {root}", "StreamMaxLength 10M", "",
    ]))
    proc = subprocess.Popen([binary, "-c", str(conf)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while not sock.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            log = (root / "clamd.log").read_text() if (root / "clamd.log").exists() else ""
            pytest.fail(f"clamd did not start: {log[-2000:]}")
        time.sleep(0.05)
    yield ClamdAddress(socket=str(sock), timeout=10)
    proc.terminate()
    proc.wait(timeout=10)


async def test_clamd_answers_ping_and_finds_the_signature_it_was_given(clamd):
    assert await ping(clamd)
    assert not (await scan_bytes(clamd, b"Coupure d'eau demain.")).infected
    verdict = await scan_bytes(clamd, b"prefix " + EICAR + b" suffix")
    assert verdict.infected and verdict.signature.startswith(SIGNATURE)


async def test_streams_larger_than_one_chunk_are_scanned_whole(clamd):
    data = b"a" * 300_000 + EICAR  # spans several INSTREAM chunks
    assert (await scan_bytes(clamd, data)).signature.startswith(SIGNATURE)


async def test_unreachable_clamd_is_a_scan_error(tmp_path):
    with pytest.raises(ScanError, match="not reachable"):
        await scan_bytes(ClamdAddress(socket=str(tmp_path / "none.sock")), b"x")


def test_error_replies_are_scan_errors_not_clean():
    with pytest.raises(ScanError, match="size limit"):
        parse_reply("INSTREAM size limit exceeded. ERROR")
    assert parse_reply("stream: OK").signature == ""


def plugins_with(section: dict | None):
    data = {"clamav": section} if section is not None else {}
    return load_plugins(build_config(data), entry_points=False,
                        extra=[("clamav", clamav_plugin)])


@pytest.mark.parametrize(
    ("section", "message"),
    [({"timeout": 3}, "either socket"), ({"socket": "/x", "host": "h"}, "either socket"),
     ({"host": "h", "port": 0}, "clamav.port"), ({"socket": "/x", "colour": 1}, "unknown key")],
)
def test_bad_clamav_configuration_is_refused(section, message):
    with pytest.raises(ConfigError, match=message):
        plugins_with(section)


async def test_an_infected_attachment_is_named_in_the_finding(clamd):
    pm = plugins_with({"socket": clamd.socket})
    channel = channel_for(25)
    msg, _ = smtp_message.build_message(
        channel.settings, outbound("zoe@example.net", 1), now=channel.clock.now(),
        attachments=[smtp_message.Attachment("consignes.pdf", "application/pdf", EICAR)],
    )
    finding = await scan_parts(pm.hook, "mail", smtp_message.scan_parts(msg))
    assert finding is not None and finding.part == "consignes.pdf"
    assert finding.scanner == "ClamAV" and finding.signature.startswith(SIGNATURE)


async def test_flagged_message_is_rejected_and_never_sent_clean_one_is_sent(clamd):
    pm = plugins_with({"socket": clamd.socket})
    demo = await start_demo_mail()
    try:
        channel = channel_for(demo.port, hooks=pm.hook, scan="required")
        await channel.start(RecordingSink())
        infected = await channel.send(outbound("zoe@example.net", 1,
                                               text="Voir ci-dessous\n" + EICAR.decode()))
        clean = await channel.send(outbound("zoe@example.net", 2))
        await channel.stop()
        assert isinstance(infected, PermanentFailure) and infected.status == "rejected"
        assert "ClamAV found Tocsin.Test.EICAR" in infected.reason
        assert isinstance(clean, Accepted)
        assert len(demo.received) == 1  # only the clean one left
    finally:
        await demo.stop()


async def test_message_is_not_sent_unscanned_when_clamd_is_down(tmp_path):
    pm = plugins_with({"socket": str(tmp_path / "gone.sock")})
    demo = await start_demo_mail()
    try:
        channel = channel_for(demo.port, hooks=pm.hook)
        await channel.start(RecordingSink())
        result = await channel.send(outbound("zoe@example.net", 1))
        await channel.stop()
        assert isinstance(result, TemporaryFailure) and "content scan unavailable" in result.reason
        assert demo.received == []
    finally:
        await demo.stop()


async def test_required_scan_without_a_configured_scanner_refuses_to_start():
    pm = plugins_with(None)  # plugin installed, no [clamav] section: inactive
    channel = channel_for(25, hooks=pm.hook, scan="required")
    with pytest.raises(ConfigError, match="no content scanner is configured"):
        await channel.start(RecordingSink())
