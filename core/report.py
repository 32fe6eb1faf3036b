"""Reports over the store and the formats they export to, both offered by plugins.

A :class:`Report` reads the store through aggregate queries and returns a
:class:`Table` (or a richer object its own exporters understand); an :class:`Exporter`
writes a report's result to a binary stream in one format.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import IO, Any

from attrs import field, frozen


@frozen
class Column:
    """One column of a tabular result: its key, its header, its Python type."""

    key: str
    title: str
    type: type = str


@frozen
class Table:
    """A tabular report result whose rows may be streamed (never all loaded at once)."""

    title: str
    columns: tuple[Column, ...] = field(converter=tuple)
    rows: Iterable[Sequence[Any]] = ()
    meta: dict[str, Any] = field(factory=dict)


@frozen
class Report:
    """A named report: ``run(runtime, **params)`` returns its result."""

    name: str
    title: str
    run: Callable[..., Any]
    description: str = ""


@frozen
class Exporter:
    """A named export format: ``write(result, stream)`` writes one report's result."""

    name: str
    extension: str
    media_type: str
    write: Callable[[Any, IO[bytes]], None]
    description: str = ""
