"""Reports over the store and the formats they export to, both offered by plugins.

A :class:`Report` reads the store through aggregate queries and returns a
:class:`Table` (or a richer object that offers ``as_table()``); an :class:`Exporter`
writes a report's result to a binary stream in one format.

A report's parameters are a plain attrs class (``Report.params``) of typed fields, so
that the CLI, the API and a host application can all call it the same way:
``report.run(runtime, **values)``, where ``values`` may be strings from a command line
or a query string; :func:`bind_params` turns them into the class, naming any bad field.
"""

from __future__ import annotations

import datetime as dt
import typing
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import IO, Any, Protocol, TypeVar, runtime_checkable

import attrs
from attrs import field, frozen

from tocsin.errors import ValidationError
from tocsin.values import as_tuple

P = TypeVar("P")


@frozen
class Column:
    """One column of a tabular result: its key, its header, its Python type."""

    key: str
    title: str
    type: type = str


@frozen
class Chart:
    """A split worth drawing as a pie (the outcome of an alert): labels and counts."""

    title: str
    labels: tuple[str, ...] = field(converter=as_tuple)
    values: tuple[int, ...] = field(converter=as_tuple)


@frozen
class Table:
    """A tabular report result whose rows may be streamed (never all loaded at once).

    ``filename`` is the stem an export of it is saved under (``statisticsAlert``);
    ``chart`` is a split an exporter may draw beside the rows.
    """

    title: str
    columns: tuple[Column, ...] = field(converter=as_tuple)
    rows: Iterable[Sequence[Any]] = ()
    meta: dict[str, Any] = field(factory=dict)
    filename: str = ""
    chart: Chart | None = None


@runtime_checkable
class Tabular(Protocol):
    """A richer report result that can also be read as one table (for CSV and the like)."""

    def as_table(self) -> Table: ...


def as_table(result: Any) -> Table:
    """``result`` as a :class:`Table`: itself, or what its ``as_table()`` gives."""
    if isinstance(result, Table):
        return result
    if isinstance(result, Tabular):
        return result.as_table()
    raise ValidationError(f"a {type(result).__name__} result cannot be read as a table")


def is_tabular(result: Any) -> bool:
    """Whether ``result`` is a :class:`Table` or offers ``as_table()``."""
    return isinstance(result, Table | Tabular)


@frozen
class Report:
    """A named report: ``run(runtime, **params)`` returns its result.

    ``params`` is the attrs class of its parameters (``None`` when it takes none).
    """

    name: str
    title: str
    run: Callable[..., Any]
    description: str = ""
    params: type | None = None


@frozen
class Exporter:
    """A named export format: ``write(result, stream)`` writes one report's result.

    ``accepts(result)`` says whether it can write that result (by default: any table).
    """

    name: str
    extension: str
    media_type: str
    write: Callable[[Any, IO[bytes]], None]
    description: str = ""
    accepts: Callable[[Any], bool] = is_tabular


def export_filename(result: Any, exporter: Exporter) -> str:
    """The file name an export is saved under: the result's stem and the format's
    extension (``statisticsAlert.xlsx``)."""
    stem = getattr(result, "filename", "") or getattr(result, "title", "") or "report"
    return f"{stem}.{exporter.extension.lstrip('.')}"


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _coerce(value: Any, type_: Any) -> Any:
    from tocsin.serialize import converter

    args = [a for a in typing.get_args(type_) if a is not type(None)]
    target = args[0] if len(args) == 1 else type_
    if isinstance(value, str) and target is bool:
        if value.lower() in _TRUE | _FALSE:
            return value.lower() in _TRUE
        raise ValueError(value)
    if isinstance(value, str) and target is dt.date:
        return dt.date.fromisoformat(value)
    if target is int and isinstance(value, bool | float):
        raise ValueError(value)
    return converter.structure(value, type_)


def bind_params(cls: type[P], values: Mapping[str, Any]) -> P:
    """``values`` (typed, or strings from a command line or a query string) as ``cls``.

    An empty string for a field that is not a string means "the default"; ``None`` is
    passed on as is. Unknown names and values that do not convert are refused with a
    :class:`~tocsin.errors.ValidationError` naming the field.
    """
    attrs.resolve_types(cls)  # type: ignore[type-var]
    known = {a.name: a for a in attrs.fields(cls)}  # type: ignore[arg-type, misc]
    if unknown := sorted(set(values) - set(known)):
        raise ValidationError(
            f"unknown parameter(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
        )
    kwargs: dict[str, Any] = {}
    for name, value in values.items():
        attr = known[name]
        if value is None:
            kwargs[name] = None
            continue
        if isinstance(value, str) and value == "" and attr.type is not str:
            if attr.default is not attrs.NOTHING:  # an empty query-string value: the default
                continue
            raise ValidationError(f"parameter {name}: a value is required")
        try:
            kwargs[name] = _coerce(value, attr.type)
        except Exception as exc:
            what = getattr(attr.type, "__name__", str(attr.type))
            raise ValidationError(f"parameter {name}: {value!r} is not a valid {what}") from exc
    try:
        return cls(**kwargs)
    except ValidationError:
        raise
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"parameters of {cls.__name__}: {exc}") from exc
