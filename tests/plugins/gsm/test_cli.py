"""``tocsin modem ...`` against ``tocsin modem emulate`` running in its own process."""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from tocsin.cli import cli


def _read_line(proc: subprocess.Popen[str], timeout: float = 20.0) -> str:
    assert proc.stdout is not None
    selector = selectors.DefaultSelector()
    selector.register(proc.stdout, selectors.EVENT_READ)
    if not selector.select(timeout):
        raise AssertionError("the emulator printed nothing")
    return proc.stdout.readline()


@pytest.fixture
def emulated(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    tocsin = Path(sys.executable).with_name("tocsin")
    proc = subprocess.Popen(
        [str(tocsin), "modem", "emulate", "--count", "1", "--scale", "0.01", "--link-dir",
         str(tmp_path), "--scenario", "+33699*=sms:undelivered,call:busy"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "TOCSIN_CONFIG": ""},
    )
    try:
        first = _read_line(proc)
        assert first.startswith("vmodem0: "), first
        yield str(tmp_path / "vmodem0"), proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def test_probe_send_call_and_ussd_through_an_emulated_modem(emulated):
    device, proc = emulated
    code, out = run("modem", "probe", device)
    assert code == 0, out
    assert "SIMCOM_SIM800L" in out and "sms, voice, tts, audio, dtmf, delivery_reports" in out
    assert "registered (home)" in out and "-73 dBm" in out and "Tocsin Mobile" in out

    code, out = run("modem", "send", device, "+33612345678", "Bonjour 😀", "--wait", "5")
    assert code == 0 and "delivered (status 0x00)" in out, out
    code, out = run("modem", "send", device, "+33699000000", "x", "--wait", "5")
    assert code == 0 and "failed (status 0x41)" in out, out

    code, out = run("modem", "call", device, "+33612345678", "Alerte", "--ring-timeout", "5",
                    "--max-duration", "20")
    assert code == 0 and out.split() == ["started", "ringing", "in", "progress", "completed"], out
    code, out = run("modem", "call", device, "+33699000000", "Alerte", "--max-duration", "20")
    assert code == 0 and out.splitlines()[-1] == "busy", out

    code, out = run("modem", "ussd", device, "*100#")
    assert code == 0 and "Your balance is 12.34 EUR" in out, out

    proc.send_signal(signal.SIGINT)
    stdout, _ = proc.communicate(timeout=10)
    assert "vmodem0: 2 SMS, 2 call(s)" in stdout


def test_a_missing_port_is_a_clear_error():
    code, out = run("modem", "probe", "/nonexistent/ttyUSB7")
    assert code == 1 and "cannot open /nonexistent/ttyUSB7" in out


def test_a_pin_is_read_from_the_named_environment_variable_only(monkeypatch):
    monkeypatch.delenv("NO_SUCH_PIN_VAR", raising=False)
    code, out = run("modem", "probe", "/dev/null", "--pin-env", "NO_SUCH_PIN_VAR")
    assert code == 2 and "NO_SUCH_PIN_VAR is not set" in out


def test_a_bad_scenario_is_refused_naming_the_option():
    code, out = run("modem", "emulate", "--scenario", "+3361*=sms:lost")
    assert code == 2 and "--scenario" in out and "lost" in out
