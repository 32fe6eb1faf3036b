"""CSV export of any report (a table, or a result offering ``as_table()``), streamed:
rows go from the database cursor to the file without being gathered."""

from __future__ import annotations

import csv
import io
from typing import IO, Any

from tocsin.hookspecs import hookimpl
from tocsin.plugins.reports.cells import text
from tocsin.report import Exporter, as_table


def write_csv(result: Any, stream: IO[bytes]) -> None:
    """Write ``result`` as UTF-8 CSV (with a byte-order mark, so Excel reads accents)."""
    table = as_table(result)
    out = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="", write_through=False)
    try:
        writer = csv.writer(out)
        writer.writerow([c.title for c in table.columns])
        for row in table.rows:
            writer.writerow([text(v) for v in row])
        out.flush()
    finally:
        out.detach()


EXPORTER = Exporter(
    name="csv",
    extension="csv",
    media_type="text/csv; charset=utf-8",
    write=write_csv,
    description="Comma-separated values, one header row, streamed; works for every report.",
)


@hookimpl  # type: ignore[untyped-decorator]
def tocsin_register_exporters() -> list[Exporter]:
    return [EXPORTER]
