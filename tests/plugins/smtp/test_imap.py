"""The IMAP bounce poller against a real Dovecot on loopback, started by the test."""

from __future__ import annotations

import imaplib
import os
import pwd
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme
from attrs import frozen

from tocsin.clock import FakeClock
from tocsin.plugins.smtp.imap import ImapPoller, fetch_unseen
from tocsin.plugins.smtp.settings import ImapSettings

from .conftest import SECRET, RecordingSink
from .test_bounces import ATTEMPT, load

PASSWORD = "imap-s3cret"


@frozen
class Dovecot:
    port: int
    tls_port: int
    cafile: str


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def dovecot_binary() -> str:
    found = shutil.which("dovecot") or ("/usr/sbin/dovecot" if Path("/usr/sbin/dovecot").exists() else "")
    if not found:
        if os.environ.get("CI"):
            pytest.fail("dovecot is missing: .ci/run installs the Debian package dovecot-imapd")
        pytest.skip("dovecot is not installed (Debian package dovecot-imapd)")
    if os.geteuid() != 0:
        pytest.skip("the test Dovecot runs its mail processes as nobody: it needs root")
    return found


@pytest.fixture(scope="module")
def dovecot(ca: trustme.CA) -> Iterator[Dovecot]:
    binary = dovecot_binary()
    # Dovecot's unprivileged processes must reach these files: pytest's tmp is root-only.
    root = Path(tempfile.mkdtemp(prefix="tocsin-dovecot-"))
    root.chmod(0o755)
    for sub in ("home", "run", "state"):
        (root / sub).mkdir()
    nobody = pwd.getpwnam("nobody")
    os.chown(root / "home", nobody.pw_uid, nobody.pw_gid)
    (root / "users").write_text(f"bounces:{{PLAIN}}{PASSWORD}::::::\n")
    cert = ca.issue_cert("127.0.0.1")
    cert.cert_chain_pems[0].write_to_path(str(root / "cert.pem"))
    cert.private_key_pem.write_to_path(str(root / "key.pem"))
    ca.cert_pem.write_to_path(str(root / "ca.pem"))
    port, tls_port = free_port(), free_port()
    (root / "dovecot.conf").write_text(f"""
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = yes
ssl_cert = <{root}/cert.pem
ssl_key = <{root}/key.pem
disable_plaintext_auth = no
auth_mechanisms = plain login
first_valid_uid = 1
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users
}}
userdb {{
  driver = static
  args = uid={nobody.pw_uid} gid={nobody.pw_gid} home={root}/home/%u
}}
mail_location = maildir:~/Maildir
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {tls_port}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
}}
default_login_user = dovenull
default_internal_user = dovecot
""")
    proc = subprocess.Popen([binary, "-F", "-c", str(root / "dovecot.conf")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 20
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                err = proc.stderr.read().decode() if proc.stderr else ""
                pytest.fail(f"dovecot did not start: {err[-2000:]}")
            time.sleep(0.05)
    try:
        yield Dovecot(port, tls_port, str(root / "ca.pem"))
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        shutil.rmtree(root, ignore_errors=True)


def append(port: int, *messages: bytes) -> None:
    conn = imaplib.IMAP4("127.0.0.1", port)
    conn.login("bounces", PASSWORD)
    for raw in messages:
        conn.append("INBOX", None, None, raw)
    conn.logout()


def settings(d: Dovecot, **kw: object) -> ImapSettings:
    base = {"host": "127.0.0.1", "port": d.port, "username": "bounces", "password": PASSWORD,
            "tls": "none", "interval": 0.05}
    return ImapSettings(**{**base, **kw})  # type: ignore[arg-type]


async def test_poller_reports_bounces_and_complaints_once_and_ignores_the_rest(dovecot):
    unrelated = b"From: someone@example.net\r\nSubject: hello\r\n\r\nNot a bounce.\r\n"
    append(dovecot.port, load("postfix_failed.eml"), load("arf_abuse.eml", attempt_id=77),
           unrelated, load("exchange_delivered.eml", attempt_id=78))
    sink = RecordingSink()
    poller = ImapPoller(settings(dovecot), "mail", SECRET, sink, FakeClock())
    assert await poller.poll_once() == 3
    assert await poller.poll_once() == 0  # fetched messages are flagged seen
    got = sorted((e.attempt_id, e.status, e.source) for e in sink.events)
    assert got == [(77, "marked as spam", "bounce-imap"), (78, "received", "bounce-imap"),
                   (ATTEMPT, "rebound", "bounce-imap")]
    assert poller.read == 4


async def test_poller_over_implicit_tls_checks_the_certificate(dovecot):
    append(dovecot.port, load("qmail_nonstandard.eml", attempt_id=90))
    trusted = settings(dovecot, port=dovecot.tls_port, tls="implicit", cafile=dovecot.cafile)
    untrusted = settings(dovecot, port=dovecot.tls_port, tls="implicit")
    with pytest.raises(ssl.SSLCertVerificationError):
        fetch_unseen(untrusted)
    sink = RecordingSink()
    assert await ImapPoller(trusted, "mail", SECRET, sink, FakeClock()).poll_once() == 1
    assert [(e.attempt_id, e.status) for e in sink.events] == [(90, "rebound")]


async def test_channel_runs_the_poller_it_is_configured_with(dovecot, scripted):
    import asyncio

    from .conftest import channel_for

    demo, _ = scripted
    append(dovecot.port, load("envid_only_failed.eml", attempt_id=91))
    channel = channel_for(demo.port, bounce_imap={
        "host": "127.0.0.1", "port": dovecot.port, "username": "bounces",
        "password": PASSWORD, "tls": "none", "interval": 0.05,
    })
    sink = RecordingSink()
    await channel.start(sink)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    while not sink.events and loop.time() < deadline:
        await asyncio.sleep(0.02)
    await channel.stop()
    assert [(e.attempt_id, e.status) for e in sink.events] == [(91, "rebound")]
