"""``tocsin demo`` (what ``make demo`` runs), end to end: a real subprocess with its own
virtual modems, mail server, simulator and reference server on loopback; the dashboard
and API fetched while it runs; every attempt's final status read from its database."""

from __future__ import annotations

import signal
import socket
import time
from collections import Counter
from pathlib import Path

import pytest

from .conftest import TERMINAL, Demo, all_terminal, expected, free_port, sign_in

pytestmark = pytest.mark.slow

FAST = ("--contacts", "12", "--time-scale", "0.01")
TITLE = "demain — quartier nord"  # the alert's title, past its apostrophe (HTML-escaped)


def _wait_until_terminal(client: object, timeout: float = 60.0) -> dict[str, dict[str, int]]:
    deadline = time.monotonic() + timeout
    while True:
        answer = client.get("/api/alerts/1/status")  # type: ignore[attr-defined]
        assert answer.status_code == 200, answer.text
        statuses: dict[str, dict[str, int]] = answer.json()["statuses"]
        if all_terminal(statuses):
            return statuses
        assert time.monotonic() < deadline, f"attempts still open: {statuses}"
        time.sleep(0.5)


def _check_store(demo: Demo, via: str) -> Counter[tuple[str, str]]:
    attempts = demo.attempts()
    wrong = [(a.means, a.address, a.status, expected(a, via)) for a in attempts
             if a.status != expected(a, via)]
    assert not wrong, f"attempts that did not end as their scenario says: {wrong}"
    return Counter((a.means, a.status) for a in attempts)


def test_the_demo_serves_the_dashboard_while_an_alert_really_goes_out_by_modem_and_smtp(
        run_demo: type[Demo]) -> None:
    port = free_port()
    demo = run_demo("--port", str(port), *FAST, "--duration", "300")
    url = demo.wait_for(r"Dashboard: (http://127\.0\.0\.1:\d+)/").group(1)
    assert url == f"http://127.0.0.1:{port}"
    password = demo.wait_for(r"Login: admin\s+Password: (\S+)").group(1)

    with sign_in(url, password) as client:
        home = client.get("/")
        assert home.status_code == 200 and TITLE in home.text
        statuses = _wait_until_terminal(client)
        page = client.get("/alerts/1")
        assert page.status_code == 200 and TITLE in page.text
        channels = client.get("/channels")
        assert channels.status_code == 200
        assert "vmodem" in channels.text  # both modems' ports, in service
        contacts = client.get("/api/contacts", params={"limit": 100}).json()
        assert contacts["total"] == 12

    assert demo.finish(signal.SIGINT) == 0, demo.output
    assert "Attempts by means and status" in demo.output
    counts = _check_store(demo, "modem")
    # the whole chain, by every means: SMS through one modem, press-1 calls through the
    # other, e-mails through the mail server with bounces and complaints coming back
    for outcome in [("sms", "received"), ("sms", "undelivered"), ("call", "confirmed"),
                    ("call", "busy"), ("call", "no answer"), ("call", "completed"),
                    ("email", "received"), ("email", "rebound"), ("email", "marked as spam"),
                    ("email", "not sent")]:
        assert counts[outcome] >= 1, (outcome, counts)
    assert sum(n for (means, _), n in counts.items() if means == "call") == 11  # one has no mobile
    assert statuses["call"].get("confirmed", 0) == counts[("call", "confirmed")]
    assert "SMS sent" in demo.output and "calls placed" in demo.output


def test_the_demo_sends_calls_and_sms_through_the_twilio_simulator_when_asked(
        run_demo: type[Demo]) -> None:
    demo = run_demo("--port", str(free_port()), "--via", "twilio", *FAST, "--duration", "300")
    url = demo.wait_for(r"Dashboard: (http://\S+)/").group(1)
    password = demo.wait_for(r"Login: admin\s+Password: (\S+)").group(1)
    demo.wait_for(r"Twilio simulator: http://127\.0\.0\.1:\d+")
    with sign_in(url, password) as client:
        _wait_until_terminal(client)
    assert demo.finish(signal.SIGTERM) == 0, demo.output
    counts = _check_store(demo, "twilio")
    assert counts[("call", "confirmed")] >= 1 and counts[("call", "voicemail")] >= 1
    assert counts[("sms", "undelivered")] >= 1
    # the modems' channels are configured too: the routes chose the simulator's
    assert {a.channel for a in demo.attempts()} == {"twilio-sms", "twilio-calls", "mail"}


def test_without_the_server_the_demo_follows_the_alert_until_it_settles_and_prints_the_report(
        run_demo: type[Demo]) -> None:
    demo = run_demo("--no-server", *FAST, "--duration", "120")
    assert demo.finish(None, timeout=150) == 0, demo.output
    assert "Dashboard:" not in demo.output
    assert "Attempts by means and status" in demo.output
    counts = _check_store(demo, "modem")
    assert counts[("call", "confirmed")] >= 1 and counts[("email", "rebound")] >= 1


def test_duration_stops_the_demo_by_itself_and_the_report_shows_what_is_still_under_way(
        run_demo: type[Demo]) -> None:
    # real-hardware timing: a call lasts tens of seconds, so one second in, much is open
    demo = run_demo("--no-server", "--contacts", "1", "--time-scale", "1", "--duration", "1")
    assert demo.finish(None, timeout=120) == 0, demo.output
    assert "The demo stops when the alert settles, or after 1 s." in demo.output
    assert "Attempts by means and status" in demo.output
    attempts = demo.attempts()
    assert {a.means for a in attempts} == {"sms", "call", "email"}  # really sent by every means
    ended = [a for a in attempts if a.status in TERMINAL[a.means]]
    assert all(a.status == expected(a, "modem") for a in ended), ended
    assert len(ended) < len(attempts)


def test_a_taken_port_is_refused_before_anything_starts(run_demo: type[Demo], tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        demo = run_demo("--port", str(taken.getsockname()[1]))
        assert demo.finish(None) != 0
    assert "is taken; choose another with --port" in demo.output
    assert not (tmp_path / "demo" / "tocsin.db").exists()


def test_twilio_without_the_server_is_refused(run_demo: type[Demo]) -> None:
    demo = run_demo("--no-server", "--via", "twilio")
    assert demo.finish(None) == 2
    assert "--via twilio needs the server" in demo.output
