"""XLSX export of any tabular report with openpyxl in write-only mode (rows streamed to
the file, memory flat whatever the size): real Excel types (dates as dates, numbers as
numbers), a bold header row, frozen panes under it, column widths by column type, and
when the result carries a split (``Table.chart``) a native Excel pie chart on a second
sheet with the figures it draws."""

from __future__ import annotations

import datetime as dt
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.chart import PieChart, Reference
from openpyxl.chart.label import DataLabelList
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from tocsin.hookspecs import hookimpl
from tocsin.plugins.reports.cells import spreadsheet
from tocsin.report import Chart, Column, Exporter, as_table

DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss"
DATE_FORMAT = "yyyy-mm-dd"
SHEET_TITLE_MAX = 31
WIDTHS = {dt.datetime: 20, dt.date: 12, int: 10, float: 12, bool: 8}


def _width(column: Column) -> float:
    typical = WIDTHS.get(column.type, 28 if "mail" in column.key or "address" in column.key else 22)
    return max(typical, len(column.title) + 4)


def _sheet_title(title: str) -> str:
    cleaned = "".join(ch for ch in title if ch not in "[]:*?/\\")
    return cleaned[:SHEET_TITLE_MAX] or "Report"


def _chart_sheet(wb: Workbook, chart: Chart) -> None:
    ws = wb.create_sheet("Chart")
    ws.column_dimensions["A"].width = 18
    ws.column_dimensions["B"].width = 10
    bold = Font(bold=True)
    header = []
    for title in ("Outcome", "Count"):
        cell = WriteOnlyCell(ws, value=title)
        cell.font = bold
        header.append(cell)
    ws.append(header)
    for label, value in zip(chart.labels, chart.values, strict=True):
        ws.append([label, value])
    pie = PieChart()
    pie.title = chart.title[:250]
    n = len(chart.labels)
    pie.add_data(Reference(ws, min_col=2, min_row=1, max_row=n + 1), titles_from_data=True)
    pie.set_categories(Reference(ws, min_col=1, min_row=2, max_row=n + 1))
    pie.dataLabels = DataLabelList()
    pie.dataLabels.showPercent = True
    pie.height, pie.width = 9, 14
    ws.add_chart(pie, "D2")


def write_xlsx(result: Any, stream: IO[bytes]) -> None:
    """Write ``result`` as an XLSX workbook (see the module documentation)."""
    table = as_table(result)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(_sheet_title(table.title))
    for i, column in enumerate(table.columns, start=1):
        ws.column_dimensions[get_column_letter(i)].width = _width(column)
    ws.freeze_panes = "A2"
    bold = Font(bold=True)
    header = []
    for column in table.columns:
        cell = WriteOnlyCell(ws, value=column.title)
        cell.font = bold
        header.append(cell)
    ws.append(header)
    formats = [
        DATETIME_FORMAT if c.type is dt.datetime else DATE_FORMAT if c.type is dt.date else None
        for c in table.columns
    ]
    styled = any(formats)
    for row in table.rows:
        if not styled:
            ws.append([spreadsheet(v) for v in row])
            continue
        cells: list[Any] = []
        for value, fmt in zip(row, formats, strict=True):
            value = spreadsheet(value)
            if fmt and value is not None:
                cell = WriteOnlyCell(ws, value=value)
                cell.number_format = fmt
                cells.append(cell)
            else:
                cells.append(value)
        ws.append(cells)
    chart = table.chart
    if chart is not None:
        _chart_sheet(wb, chart)
    wb.save(stream)


EXPORTER = Exporter(
    name="xlsx",
    extension="xlsx",
    media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    write=write_xlsx,
    description="Excel workbook: typed cells, header row, frozen panes, widths, and a pie "
    "chart of the outcome split on a second sheet.",
)


@hookimpl  # type: ignore[untyped-decorator]
def tocsin_register_exporters() -> list[Exporter]:
    return [EXPORTER]
