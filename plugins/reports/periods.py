"""Report periods (today, this week, last month, the last 30 days, a custom range) as
UTC bounds, computed in the deployment's time zone with weeks starting on the day its
locale says (Monday in France, Sunday in the United States)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from attrs import frozen
from babel import Locale, UnknownLocaleError

from tocsin.errors import ConfigError, ValidationError

PRESETS = (
    "today",
    "this-week",
    "last-week",
    "this-month",
    "last-month",
    "last-7-days",
    "last-14-days",
    "last-30-days",
)
CUSTOM = "custom"
KINDS = (*PRESETS, CUSTOM)


@frozen
class Period:
    """A half-open range of local days ``[first, after)`` and its UTC bounds."""

    kind: str
    first: dt.date
    after: dt.date
    start: dt.datetime
    end: dt.datetime

    @property
    def last(self) -> dt.date:
        """The last day included."""
        return self.after - dt.timedelta(days=1)


def first_week_day(locale: str) -> int:
    """The locale's first day of the week: 0 for Monday ... 6 for Sunday."""
    try:
        return int(Locale.parse(locale.replace("-", "_")).first_week_day)
    except (UnknownLocaleError, ValueError) as exc:
        raise ConfigError(f"tocsin.locale: {locale!r} is not a known locale ({exc})") from None


def _month_start(day: dt.date, months_back: int = 0) -> dt.date:
    index = day.year * 12 + day.month - 1 - months_back
    return dt.date(index // 12, index % 12 + 1, 1)


def local_days(
    kind: str, today: dt.date, week_start: int, first: dt.date | None = None,
    last: dt.date | None = None,
) -> tuple[dt.date, dt.date]:
    """The local days ``[first, after)`` of a period, ``today`` being the local date."""
    one = dt.timedelta(days=1)
    if kind == "today":
        return today, today + one
    if kind in ("this-week", "last-week"):
        start = today - dt.timedelta(days=(today.weekday() - week_start) % 7)
        if kind == "last-week":
            start -= dt.timedelta(days=7)
        return start, start + dt.timedelta(days=7)
    if kind == "this-month":
        return _month_start(today), _month_start(today, -1)
    if kind == "last-month":
        return _month_start(today, 1), _month_start(today)
    if kind.startswith("last-") and kind in PRESETS:
        days = int(kind.split("-")[1])
        return today - dt.timedelta(days=days - 1), today + one
    if kind == CUSTOM:
        if first is None or last is None:
            raise ValidationError("period custom: give both start and end dates")
        if last < first:
            raise ValidationError(f"period custom: end {last} is before start {first}")
        return first, last + one
    raise ValidationError(f"period: {kind!r} is not one of {', '.join(KINDS)}")


def resolve(
    kind: str, now: dt.datetime, zone: ZoneInfo, week_start: int, first: dt.date | None = None,
    last: dt.date | None = None,
) -> Period:
    """The period ``kind`` around ``now`` (aware), with its bounds in UTC."""
    today = now.astimezone(zone).date()
    day0, after = local_days(kind, today, week_start, first, last)

    def utc(day: dt.date) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(0), tzinfo=zone).astimezone(dt.UTC)

    return Period(kind, day0, after, utc(day0), utc(after))
