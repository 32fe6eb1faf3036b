"""Retry policy, Retry-After parsing, and credentials kept out of httpx's logs."""

from __future__ import annotations

import datetime as dt
import logging

import httpx
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


def test_query_strings_are_dropped_from_httpx_request_logs(caplog: pytest.LogCaptureFixture) -> None:
    install_log_redaction()
    install_log_redaction()  # idempotent
    url = httpx.URL("http://gw.example/cgi-bin/sendsms?username=u&password=s3cret&to=%2B336")
    with caplog.at_level(logging.INFO, logger="httpx"):
        logging.getLogger("httpx").info('HTTP Request: %s %s "%s %d %s"', "GET", url, "HTTP/1.1", 202, "")
    assert "s3cret" not in caplog.text
    assert "http://gw.example/cgi-bin/sendsms" in caplog.text
    assert logging.getLogger("httpx").filters.count(logging.getLogger("httpx").filters[0]) == 1
