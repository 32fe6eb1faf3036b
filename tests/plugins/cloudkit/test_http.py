"""Retry policy, Retry-After parsing, and credentials kept out of httpx2's logs."""

from __future__ import annotations

import datetime as dt
import logging

import httpx2
import pytest

from tocsin.plugins.cloudkit.http import RetryPolicy, install_log_redaction, retry_after

NOW = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)


def test_backoff_doubles_up_to_its_ceiling() -> None:
    policy = RetryPolicy(retries=6, backoff=0.5, max_backoff=4)
    assert [policy.delay(n) for n in range(1, 7)] == [0.5, 1, 2, 4, 4, 4]


@pytest.mark.parametrize(
    ("header", "seconds"),
    [("3", 3.0), (" 120 ", 120.0), ("Mon, 05 Jan 2026 09:00:30 GMT", 30.0),
     ("Mon, 05 Jan 2026 08:00:00 GMT", 0.0), ("soon", None), (None, None), ("", None)],
)
def test_retry_after_takes_seconds_or_a_date(header: str | None, seconds: float | None) -> None:
    assert retry_after(header, NOW) == seconds


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def test_query_strings_are_dropped_from_httpx_request_logs() -> None:
    install_log_redaction()
    install_log_redaction()  # idempotent
    logger = logging.getLogger("httpx2")
    capture, level = _Capture(), logger.level
    logger.addHandler(capture)
    logger.setLevel(logging.INFO)
    try:
        url = httpx2.URL("http://gw.example/cgi-bin/sendsms?username=u&password=s3cret&to=%2B336")
        logger.info('HTTP Request: %s %s "%s %d %s"', "GET", url, "HTTP/1.1", 202, "Accepted")
    finally:
        logger.removeHandler(capture)
        logger.setLevel(level)
    (line,) = capture.lines
    assert "s3cret" not in line
    assert line.startswith("HTTP Request: GET http://gw.example/cgi-bin/sendsms ")
    assert len([f for f in logger.filters if type(f).__name__ == "_RedactQuery"]) == 1
