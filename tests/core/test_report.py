"""The report vocabulary: typed parameters from strings, tables, export file names."""

from __future__ import annotations

import datetime as dt

import pytest
from attrs import frozen
from hypothesis import given
from hypothesis import strategies as st

from tocsin.errors import ValidationError
from tocsin.report import (
    Column,
    Exporter,
    Table,
    as_table,
    bind_params,
    export_filename,
    is_tabular,
)


@frozen
class Params:
    alert_id: int
    day: dt.date | None = None
    flag: bool = False
    search: str = ""
    limit: int | None = 50


@given(alert_id=st.integers(-10**9, 10**9), day=st.dates(), flag=st.booleans(),
       search=st.text(max_size=20), limit=st.integers(1, 1000))
def test_strings_from_a_query_string_bind_to_typed_fields(
    alert_id: int, day: dt.date, flag: bool, search: str, limit: int
) -> None:
    values = {"alert_id": str(alert_id), "day": day.isoformat(), "flag": "yes" if flag else "off",
              "search": search, "limit": str(limit)}
    assert bind_params(Params, values) == Params(alert_id, day, flag, search, limit)


def test_typed_values_pass_through_and_empty_strings_mean_the_default() -> None:
    assert bind_params(Params, {"alert_id": 3, "limit": None}) == Params(3, limit=None)
    assert bind_params(Params, {"alert_id": "3", "limit": "", "day": ""}) == Params(3)


@pytest.mark.parametrize(("values", "message"), [
    ({"alert_id": "three"}, "parameter alert_id: 'three' is not a valid int"),
    ({"alert_id": 1.5}, "parameter alert_id"),
    ({"alert_id": True}, "parameter alert_id"),
    ({"alert_id": "1", "flag": "maybe"}, "parameter flag: 'maybe' is not a valid bool"),
    ({"alert_id": "1", "day": "31/12/2026"}, "parameter day"),
    ({"alert_id": "1", "colour": "red"}, "unknown parameter(s) colour; known: alert_id, day"),
    ({"alert_id": ""}, "parameter alert_id: a value is required"),
    ({}, "parameters of Params"),
])
def test_bad_parameters_are_refused_naming_the_field(values: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        bind_params(Params, values)
    assert message in str(caught.value)


class Rich:
    filename = "richReport"

    def as_table(self) -> Table:
        return Table("rich", [Column("n", "N", int)], [(1,), (2,)])


def test_results_read_as_tables_and_name_their_export_file() -> None:
    table = Table("Plain title", [Column("a", "A")], [("x",)])
    assert as_table(table) is table and is_tabular(table) and is_tabular(Rich())
    assert list(as_table(Rich()).rows) == [(1,), (2,)]
    with pytest.raises(ValidationError, match="cannot be read as a table"):
        as_table(object())
    csv = Exporter("csv", ".csv", "text/csv", write=lambda result, stream: None)
    assert csv.accepts(table) and csv.accepts(Rich()) and not csv.accepts(42)
    assert export_filename(Rich(), csv) == "richReport.csv"
    assert export_filename(table, csv) == "Plain title.csv"
    assert export_filename(Table("t", [], filename="statisticsAlert"), csv) == "statisticsAlert.csv"
