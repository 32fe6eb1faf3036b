"""The communications log lists exactly the attempts of the period (in the deployment's
time zone), newest first, with its filters; periods follow the locale's first weekday."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reports_dataset import BASE, Scenario, scenarios, write

from tocsin.errors import ValidationError
from tocsin.plugins.reports.periods import KINDS, PRESETS, first_week_day, resolve
from tocsin.runtime import Runtime

SETTINGS = settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
PARIS = ZoneInfo("Europe/Paris")


@SETTINGS
@given(
    scenario=scenarios(max_contacts=8),
    period=st.sampled_from(PRESETS),
    means=st.sampled_from([None, "sms", "call", "email"]),
    status=st.sampled_from([None, "", "failed", "received"]),
    limit=st.integers(1, 8),
    offset=st.integers(0, 4),
)
def test_log_page_lists_the_periods_attempts_newest_first(
    runtime: Runtime, scenario: Scenario, period: str, means: str | None, status: str | None,
    limit: int, offset: int,
) -> None:
    write(runtime.store, scenario)
    bounds = resolve(period, BASE, PARIS, first_week_day("fr_FR"))
    expected = []
    index = 0
    for alert in scenario.alerts:
        for t in alert.attempts:
            index += 1
            if not bounds.start <= t.created < bounds.end:
                continue
            if (means and t.means != means) or (status is not None and t.status != status):
                continue
            expected.append((t.created, index, t.means, t.status, alert.title,
                             scenario.contacts[t.contact]))
    expected.sort(key=lambda e: (e[0], e[1]), reverse=True)
    params = {"period": period, "limit": limit, "offset": offset}
    if means:
        params["means"] = means
    if status is not None:
        params["status"] = "waiting" if status == "" else status
    page = runtime.registry.reports["log"].value.run(runtime, **params)
    assert page.total == len(expected) and not page.total_capped
    window = expected[offset : offset + limit]
    got = [(e.created_at, e.means, e.status, e.communication, e.recipient) for e in page.items]
    assert got == [(w[0], w[2], w[3], w[4], f"{w[5].first} {w[5].last}") for w in window]
    assert all(e.created_at.tzinfo == PARIS for e in page.items)
    table = page.as_table()
    assert table.filename == "CommunicationsLog-2026-03-02"
    assert table.chart is not None and sum(table.chart.values) == len(expected)
    assert [r[8] for r in table.rows] == [e.attempt_id for e in page.items]


@settings(max_examples=300)
@given(
    kind=st.sampled_from(PRESETS),
    now=st.datetimes(min_value=dt.datetime(2020, 1, 1), max_value=dt.datetime(2035, 1, 1),
                     timezones=st.just(dt.UTC)),
    zone=st.sampled_from(["Europe/Paris", "America/New_York", "Asia/Tokyo", "UTC",
                          "Pacific/Kiritimati", "America/St_Johns"]),
    locale=st.sampled_from(["fr_FR", "en_US", "en_GB", "ar_EG", "de-DE"]),
)
def test_every_preset_period_is_whole_local_days_around_now(
    kind: str, now: dt.datetime, zone: str, locale: str
) -> None:
    tz = ZoneInfo(zone)
    week_start = first_week_day(locale)
    p = resolve(kind, now, tz, week_start)
    today = now.astimezone(tz).date()
    for bound, day in ((p.start, p.first), (p.end, p.after)):
        local = bound.astimezone(tz)
        assert local.date() == day and local.time() == dt.time(0)
    days = (p.after - p.first).days
    if kind in ("today", "this-week", "this-month") or (kind.startswith("last-") and kind.endswith("days")):
        assert p.first <= today < p.after
    if kind == "today":
        assert days == 1
    if kind.endswith("week"):
        assert days == 7 and p.first.weekday() == week_start
    if kind == "last-week":
        assert p.after <= today and (today - p.after).days < 7
    if kind.endswith("month"):
        assert p.first.day == 1 and p.after.day == 1 and 28 <= days <= 31
    if kind == "last-month":
        assert p.after == today.replace(day=1)
    if kind.endswith("days"):
        assert days == int(kind.split("-")[1]) and p.last == today


def test_week_starts_follow_the_locale() -> None:
    assert first_week_day("fr_FR") == 0  # Monday
    assert first_week_day("en_US") == 6  # Sunday
    wednesday = dt.datetime(2026, 3, 4, 12, 0, tzinfo=dt.UTC)
    assert resolve("this-week", wednesday, PARIS, first_week_day("fr_FR")).first == dt.date(2026, 3, 2)
    assert resolve("this-week", wednesday, PARIS, first_week_day("en_US")).first == dt.date(2026, 3, 1)


def test_today_is_the_local_day_not_the_utc_day() -> None:
    late = dt.datetime(2026, 3, 1, 23, 30, tzinfo=dt.UTC)  # already Monday 00:30 in Paris
    p = resolve("today", late, PARIS, 0)
    assert p.first == dt.date(2026, 3, 2)
    assert p.start == dt.datetime(2026, 3, 1, 23, 0, tzinfo=dt.UTC)


def test_custom_period_is_inclusive_and_checked(runtime: Runtime) -> None:
    p = resolve("custom", BASE, PARIS, 0, dt.date(2026, 3, 1), dt.date(2026, 3, 3))
    assert (p.first, p.after) == (dt.date(2026, 3, 1), dt.date(2026, 3, 4))
    report = runtime.registry.reports["log"].value
    with pytest.raises(ValidationError, match="start and end"):
        report.run(runtime, period="custom", start="2026-03-01")
    with pytest.raises(ValidationError, match="before start"):
        report.run(runtime, period="custom", start="2026-03-05", end="2026-03-01")
    with pytest.raises(ValidationError, match="period"):
        report.run(runtime, period="fortnight")
    with pytest.raises(ValidationError, match="start"):
        report.run(runtime, period="custom", start="yesterday", end="2026-03-01")
    assert "custom" in KINDS
