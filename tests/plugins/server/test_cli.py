"""``tocsin users`` and ``tocsin serve`` from the command line."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx2
from click.testing import CliRunner

from tocsin.cli import cli
from tocsin.testing.http_server import bind_loopback


def config_file(tmp_path: Path, port: int = 8000) -> Path:
    path = tmp_path / "tocsin.toml"
    path.write_text(f'[tocsin]\ndata_dir = "{tmp_path}"\n\n[server]\nport = {port}\n'
                    'secret_key = "cli-test-secret-key-0123"\n')
    return path


def test_users_are_added_listed_and_given_a_new_password(tmp_path: Path) -> None:
    runner = CliRunner()
    config = str(config_file(tmp_path))
    added = runner.invoke(cli, ["--config", config, "users", "add", "chef", "--role",
                                "administrator", "--password-stdin"], input="a long password\n")
    assert added.exit_code == 0, added.output
    assert "chef (administrator) created" in added.output
    short = runner.invoke(cli, ["--config", config, "users", "add", "bob", "--password-stdin"],
                          input="short\n")
    assert short.exit_code != 0
    assert "at least 10 characters" in short.output
    listed = runner.invoke(cli, ["--config", config, "users", "list"])
    assert "chef" in listed.output and "bob" not in listed.output
    changed = runner.invoke(cli, ["--config", config, "users", "password", "chef",
                                  "--password-stdin"], input="another long password\n")
    assert changed.exit_code == 0, changed.output


def test_tocsin_serve_answers_on_its_port_and_stops_cleanly(tmp_path: Path) -> None:
    sock = bind_loopback()
    port = sock.getsockname()[1]
    sock.close()
    env = {**os.environ, "TOCSIN_CONFIG": str(config_file(tmp_path, port))}
    server = subprocess.Popen([sys.executable, "-c", "from tocsin.cli import main; main()",
                               "serve"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                answer = httpx2.get(f"http://127.0.0.1:{port}/api/health", timeout=2)
                break
            except httpx2.HTTPError:
                assert server.poll() is None, server.stdout.read() if server.stdout else ""
                assert time.monotonic() < deadline, "tocsin serve did not answer"
                time.sleep(0.2)
        assert answer.status_code == 200
        assert answer.json()["database"] == "ok"
        login = httpx2.get(f"http://127.0.0.1:{port}/login", headers={"accept-language": "en"})
        assert "Sign in" in login.text
    finally:
        server.terminate()
        code = server.wait(timeout=30)
    output = server.stdout.read().decode() if server.stdout else ""
    # uvicorn shuts down gracefully, then re-raises the signal it caught
    assert code in (0, -15), output
    assert "Application shutdown complete" in output
