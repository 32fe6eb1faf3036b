"""One cattrs converter for the whole domain: JSON-ready data and back.

Datetimes become ISO 8601 strings, durations seconds, tuples lists; enums are
``StrEnum`` values, already strings. The API, the exports and the configuration all
go through :data:`converter`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, TypeVar

import cattrs
from cattrs.preconf.json import make_converter

from tocsin.clock import utc

T = TypeVar("T")

converter: cattrs.Converter = make_converter(omit_if_default=False)


def _dump_datetime(value: dt.datetime) -> str:
    return utc(value).isoformat()


def _load_datetime(value: Any, _: type) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return utc(value)
    return utc(dt.datetime.fromisoformat(str(value)))


def _load_timedelta(value: Any, _: type) -> dt.timedelta:
    if isinstance(value, dt.timedelta):
        return value
    return dt.timedelta(seconds=float(value))


converter.register_unstructure_hook(dt.datetime, _dump_datetime)
converter.register_structure_hook(dt.datetime, _load_datetime)
converter.register_unstructure_hook(dt.timedelta, lambda v: v.total_seconds())
converter.register_structure_hook(dt.timedelta, _load_timedelta)


def dump(value: Any) -> Any:
    """``value`` (a domain object, or a list of them) as JSON-ready data."""
    return converter.unstructure(value)


def load(data: Any, cls: type[T]) -> T:
    """Data made by :func:`dump` (or sent by a client) back into a ``cls``."""
    return converter.structure(data, cls)
