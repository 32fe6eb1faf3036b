"""``tocsin mail``: check a channel against a real server, read a saved bounce."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from tocsin.cli import cli
from tocsin.plugins.smtp.demo import DemoMailThread, free_port

from .conftest import SECRET
from .test_bounces import ATTEMPT, load


def write_config(tmp_path: Path, port: int) -> Path:
    path = tmp_path / "tocsin.toml"
    path.write_text(f"""
[tocsin]
data_dir = "data"
[channels.mail]
type = "smtp"
host = "127.0.0.1"
port = {port}
tls = "none"
from_address = "alerts@example.org"
token_secret = "{SECRET}"
""")
    return path


def test_check_reports_the_servers_and_sends_a_test_email(tmp_path):
    with DemoMailThread() as demo:
        config = write_config(tmp_path, demo.port)
        result = CliRunner().invoke(cli, ["--config", str(config), "mail", "check",
                                          "--to", "zoe@example.net"])
        assert result.exit_code == 0, result.output
        assert f"127.0.0.1:{demo.port}: up" in result.output
        assert "test e-mail to zoe@example.net: sent" in result.output
        assert [r.recipients for r in demo.received] == [("zoe@example.net",)]


def test_check_fails_when_the_server_is_down_or_refuses(tmp_path):
    config = write_config(tmp_path, free_port())
    result = CliRunner().invoke(cli, ["--config", str(config), "mail", "check"])
    assert result.exit_code == 1 and "DOWN" in result.output
    with DemoMailThread() as demo:
        config = write_config(tmp_path, demo.port)
        refused = CliRunner().invoke(cli, ["--config", str(config), "mail", "check",
                                           "--to", "unknown@example.net"])
        assert refused.exit_code == 1
        assert "not sent: 550 5.1.1" in refused.output


def test_read_bounce_names_the_attempt_and_the_status(tmp_path):
    config = write_config(tmp_path, 25)
    bounce = tmp_path / "bounce.eml"
    bounce.write_bytes(load("postfix_failed.eml"))
    result = CliRunner().invoke(cli, ["--config", str(config), "mail", "read-bounce", str(bounce)])
    assert result.exit_code == 0, result.output
    assert f"attempt {ATTEMPT}: rebound (dsn, permanent)" in result.output
    other = tmp_path / "other.eml"
    other.write_bytes(load("forged_token.eml"))
    result = CliRunner().invoke(cli, ["--config", str(config), "mail", "read-bounce", str(other)])
    assert "names no attempt" in result.output


def test_a_channel_name_is_required_among_several(tmp_path):
    path = write_config(tmp_path, 25)
    path.write_text(path.read_text() + path.read_text().split("[tocsin]")[1]
                    .replace('data_dir = "data"', "").replace("[channels.mail]", "[channels.other]"))
    result = CliRunner().invoke(cli, ["--config", str(path), "mail", "check"])
    assert result.exit_code == 2 and "configured: mail, other" in result.output


def test_demo_server_command_takes_mail_until_interrupted(tmp_path):
    import signal
    import smtplib
    import subprocess
    import sys
    import time

    port = free_port()
    tocsin = str(Path(sys.executable).parent / "tocsin")  # the installed console script
    proc = subprocess.Popen([tocsin, "mail", "demo-server",
                             "--port", str(port)], stdout=subprocess.PIPE, text=True,
                            cwd=tmp_path)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert f"demo mail server on 127.0.0.1:{port}" in line
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
            refused = client.sendmail("a@example.org", ["zoe@example.net", "unknown@example.net"],
                                      "Subject: hi\r\n\r\nhello\r\n")
        assert list(refused) == ["unknown@example.net"]
    finally:
        proc.send_signal(signal.SIGINT)
        deadline = time.monotonic() + 10
        while proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0
