"""``tocsin demo`` as a real subprocess, its output read line by line while it runs, and
what each demonstration number and mailbox must end as (written out here, independently
of the demo's own tables)."""

from __future__ import annotations

import contextlib
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest

from tocsin.model import Attempt
from tocsin.store import Store

LAUNCH = "import sys; from tocsin.cli import main; sys.exit(main())"
STARTUP_TIMEOUT = 90.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Demo:
    """One ``tocsin demo`` process; every line it prints is kept in :attr:`lines`."""

    def __init__(self, data_dir: Path, *args: str) -> None:
        self.data_dir = data_dir
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "200"}
        env.pop("TOCSIN_CONFIG", None)
        self.proc = subprocess.Popen(
            [sys.executable, "-c", LAUNCH, "demo", "--data-dir", str(data_dir), *args],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
            cwd=data_dir.parent,
        )
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))
            self._queue.put(line)
        self._queue.put(None)

    def wait_for(self, pattern: str, timeout: float = STARTUP_TIMEOUT) -> re.Match[str]:
        """The first line (printed so far or to come) matching ``pattern``."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        seen = 0
        while True:
            for line in self.lines[seen:]:
                if match := regex.search(line):
                    return match
            seen = len(self.lines)
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no line matching {pattern!r}:\n{self.output}")
            try:
                if self._queue.get(timeout=min(left, 0.5)) is None and self.proc.poll() is not None:
                    for line in self.lines[seen:]:
                        if match := regex.search(line):
                            return match
                    raise AssertionError(f"the demo ended (rc {self.proc.returncode}) before "
                                         f"{pattern!r}:\n{self.output}")
            except queue.Empty:
                pass

    def finish(self, sig: int | None = signal.SIGINT, timeout: float = 60.0) -> int:
        """Send ``sig`` (unless None), wait for the exit and the last line; the exit code."""
        if sig is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)
        code = self.proc.wait(timeout=timeout)
        self._reader.join(timeout=10)
        return code

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def attempts(self, alert_id: int = 1) -> list[Attempt]:
        """The alert's attempts as the demo's SQLite database holds them."""
        store = Store.open(f"sqlite:///{self.data_dir / 'tocsin.db'}", upgrade=False)
        try:
            return store.attempts.for_alert(alert_id)
        finally:
            store.close()


@pytest.fixture
def run_demo(tmp_path: Path) -> Iterator[type[Demo]]:
    started: list[Demo] = []

    class Started(Demo):
        def __init__(self, *args: str) -> None:
            super().__init__(tmp_path / "demo", *args)
            started.append(self)

    yield Started
    for demo in started:
        demo.kill()


@contextlib.contextmanager
def sign_in(base_url: str, password: str) -> Iterator[httpx2.Client]:
    """A client signed in to the dashboard as the demo's administrator, through the form."""
    with httpx2.Client(base_url=base_url, timeout=30) as client:
        page = client.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token, page.text
        answer = client.post("/login", data={"username": "admin", "password": password,
                                             "csrf_token": token.group(1), "next": "/"})
        assert answer.status_code == 303, answer.text
        yield client


TERMINAL = {
    "sms": {"received", "undelivered", "failed"},
    "call": {"busy", "fax", "voicemail", "completed", "confirmed", "no answer", "failed"},
    "email": {"received", "opened", "rebound", "marked as spam", "rejected", "not sent"},
}


def expected_email(address: str) -> str:
    local = address.split("@")[0]
    for prefix, status in (("bounce", "rebound"), ("complain", "marked as spam"),
                           ("unknown", "not sent")):
        if local.startswith(prefix):
            return status
    return "received"


def expected_sms(number: str) -> str:
    return "undelivered" if number.startswith("+3363") else "received"


def expected_call(number: str, *, via: str) -> str:
    block = number[:5]
    return {
        "+3361": "confirmed",
        "+3362": "busy",
        "+3363": "no answer",
        "+3364": "completed",  # answered, listened, never pressed 1
        # GSM modems cannot tell a voicemail from a person: completed; Twilio can
        "+3365": "completed" if via == "modem" else "voicemail",
        "+3366": "confirmed",
    }[block]


def expected(attempt: Attempt, via: str) -> str:
    if attempt.means == "email":
        return expected_email(attempt.address)
    if attempt.means == "sms":
        return expected_sms(attempt.address)
    return expected_call(attempt.address, via=via)


def all_terminal(statuses: dict[str, dict[str, int]], means: tuple[str, ...] = ("sms", "call", "email")
                 ) -> bool:
    return all(means_ in statuses and set(statuses[means_]) <= TERMINAL[means_] for means_ in means)
