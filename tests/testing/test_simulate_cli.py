"""``tocsin simulate twilio`` runs the simulator as its own process on loopback."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx2
import pytest

from tocsin.testing.http_server import bind_loopback
from tocsin.testing.twilio_simulator import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN

pytestmark = pytest.mark.timeout(90)


def _free_port() -> int:
    sock = bind_loopback()
    port = int(sock.getsockname()[1])
    sock.close()
    return port


def test_the_cli_serves_the_api_with_the_scenarios_file(tmp_path: Path) -> None:
    scenarios = tmp_path / "scenarios.toml"
    scenarios.write_text('[sms]\n"+3369*" = "rejected:21610"\n')
    port = _free_port()
    tocsin = Path(sys.executable).with_name("tocsin")
    proc = subprocess.Popen(
        [str(tocsin), "simulate", "twilio", "--port", str(port), "--scenarios", str(scenarios),
         "--time-scale", "0.01"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=tmp_path,
        env={**os.environ, "TOCSIN_CONFIG": ""},
    )
    try:
        assert proc.stdout is not None
        banner = proc.stdout.readline()
        assert banner.strip() == f"Twilio simulator on http://127.0.0.1:{port}"
        root = f"http://127.0.0.1:{port}/2010-04-01/Accounts/{DEFAULT_ACCOUNT_SID}"
        with httpx2.Client(auth=(DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN), trust_env=False) as http:
            refused = http.post(f"{root}/Messages.json",
                                data={"To": "+33699999999", "From": "+33100000001", "Body": "x"})
            assert refused.status_code == 400 and refused.json()["code"] == 21610
            accepted = http.post(f"{root}/Messages.json",
                                 data={"To": "+33612345678", "From": "+33100000001", "Body": "x"})
            assert accepted.status_code == 201
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=20)
    assert proc.returncode == 0


def test_a_bad_scenarios_file_is_refused_naming_the_problem(tmp_path: Path) -> None:
    scenarios = tmp_path / "scenarios.toml"
    scenarios.write_text('[sms]\n"+33*" = "evaporated"\n')
    tocsin = Path(sys.executable).with_name("tocsin")
    result = subprocess.run([str(tocsin), "simulate", "twilio", "--scenarios", str(scenarios)],
                            capture_output=True, text=True, cwd=tmp_path, timeout=60,
                            env={**os.environ, "TOCSIN_CONFIG": ""})
    assert result.returncode == 2
    assert "unknown outcome 'evaporated'" in result.stderr
