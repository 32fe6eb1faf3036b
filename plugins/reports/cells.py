"""How a report value reads in a text format (CSV) and in a spreadsheet cell."""

from __future__ import annotations

import datetime as dt
from typing import Any


def text(value: Any) -> str:
    """A value as CSV text: ISO 8601 times with their offset, empty for nothing."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def spreadsheet(value: Any) -> Any:
    """A value as a spreadsheet cell: Excel has no time zones, so an aware time is
    written as the wall-clock time it carries (reports give local times)."""
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.replace(tzinfo=None)
    return value
