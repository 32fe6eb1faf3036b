"""Exports written by the exporter plugins read back: XLSX cell by cell with openpyxl
(types, header, frozen panes, widths, the pie chart), the PDF rendered to PNG by
pdftoppm with its text layer read by pdftotext, and CSV parsed back."""

from __future__ import annotations

import csv
import datetime as dt
import io
import shutil
import subprocess

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from reports_dataset import Scenario, scenarios, write

from tocsin.report import as_table, export_filename
from tocsin.runtime import Runtime

SETTINGS = settings(max_examples=8, suppress_health_check=[HealthCheck.function_scoped_fixture])


def export(runtime: Runtime, fmt: str, result: object) -> bytes:
    exporter = runtime.registry.exporters[fmt].value
    assert exporter.accepts(result)
    buffer = io.BytesIO()
    exporter.write(result, buffer)
    return buffer.getvalue()


def expected_cell(value: object) -> object:
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None, microsecond=round(value.microsecond / 1000) * 1000
                             if value.microsecond % 1000 else value.microsecond)
    return value


def check_workbook(data: bytes, runtime: Runtime, result: object) -> openpyxl.Workbook:
    table = as_table(result)
    wb = openpyxl.load_workbook(io.BytesIO(data))
    ws = wb.worksheets[0]
    assert ws.freeze_panes == "A2"
    header = [c.value for c in ws[1]]
    assert header == [c.title for c in table.columns]
    assert all(c.font.b for c in ws[1])
    for i, column in enumerate(table.columns, start=1):
        width = ws.column_dimensions[openpyxl.utils.get_column_letter(i)].width
        assert width >= len(column.title)
    rows = list(table.rows)
    assert ws.max_row == len(rows) + 1
    for r, row in enumerate(rows, start=2):
        for c, (value, column) in enumerate(zip(row, table.columns, strict=True), start=1):
            cell = ws.cell(r, c)
            if value is None or value == "":
                assert cell.value in (None, "")
            elif column.type is dt.datetime:
                assert cell.is_date and cell.number_format == "yyyy-mm-dd hh:mm:ss"
                assert abs(cell.value - value.replace(tzinfo=None)) < dt.timedelta(milliseconds=1)
            else:
                assert cell.value == value and type(cell.value) is type(value)
    chart_sheet = wb["Chart"]
    assert table.chart is not None
    assert [[c.value for c in row] for row in chart_sheet.iter_rows()] == [
        ["Outcome", "Count"], *[[lab, v] for lab, v in zip(table.chart.labels, table.chart.values,
                                                           strict=True)]]
    return wb


def pie_charts(data: bytes) -> int:
    import zipfile

    with zipfile.ZipFile(io.BytesIO(data)) as z:
        charts = [n for n in z.namelist() if n.startswith("xl/charts/chart")]
        return sum(b"pieChart>" in z.read(n) for n in charts)


@SETTINGS
@given(scenario=scenarios(max_contacts=12))
def test_statistics_xlsx_reads_back_cell_by_cell_with_a_native_pie(
    runtime: Runtime, scenario: Scenario
) -> None:
    written = write(runtime.store, scenario)
    result = runtime.registry.reports["statistics"].value.run(runtime, alert_id=written.alert_ids[0])
    assert export_filename(result, runtime.registry.exporters["xlsx"].value) == "statisticsAlert.xlsx"
    data = export(runtime, "xlsx", result)
    check_workbook(data, runtime, result)
    assert pie_charts(data) == 1


@SETTINGS
@given(scenario=scenarios(max_contacts=8))
def test_log_xlsx_has_real_dates_and_csv_matches_the_rows(runtime: Runtime, scenario: Scenario) -> None:
    write(runtime.store, scenario)
    result = runtime.registry.reports["log"].value.run(runtime, period="last-30-days", limit=None)
    name = export_filename(result, runtime.registry.exporters["xlsx"].value)
    assert name == "CommunicationsLog-2026-03-02.xlsx"
    data = export(runtime, "xlsx", result)
    check_workbook(data, runtime, result)

    text = export(runtime, "csv", result).decode("utf-8-sig")
    parsed = list(csv.reader(io.StringIO(text)))
    table = as_table(result)
    assert parsed[0] == [c.title for c in table.columns]
    rows = list(table.rows)
    assert len(parsed) == len(rows) + 1
    for got, row in zip(parsed[1:], rows, strict=True):
        for cell, value in zip(got, row, strict=True):
            if isinstance(value, dt.datetime):
                assert dt.datetime.fromisoformat(cell) == value
            else:
                assert cell == ("" if value is None else str(value))


@SETTINGS
@given(scenario=scenarios())
def test_csv_of_an_overview_has_one_row_per_figure(runtime: Runtime, scenario: Scenario) -> None:
    written = write(runtime.store, scenario)
    result = runtime.registry.reports["overview"].value.run(runtime, alert_id=written.alert_ids[0])
    parsed = list(csv.reader(io.StringIO(export(runtime, "csv", result).decode("utf-8-sig"))))
    assert parsed[0] == ["Communication", "Section", "Means", "Item", "Detail", "Count", "Share"]
    outcome = {r[3]: int(r[5]) for r in parsed[1:] if r[1] == "outcome"}
    o = result.total.outcome
    assert outcome == {"contacted": o.contacted, "in progress": o.in_progress,
                       "not contacted": o.not_contacted}


def poppler(tool: str) -> str:
    """The path of a poppler-utils tool; the PDF checks need it (.ci/run installs it)."""
    path = shutil.which(tool)
    assert path, f"{tool} is missing: apt-get install poppler-utils (.ci/run does)"
    return path


def _rich(s: Scenario) -> bool:
    """Several means and a sizeable audience: a PDF with something on it."""
    return len({t.means for t in s.alerts[0].attempts}) >= 2 and len(s.alerts[0].audience) >= 4


@settings(max_examples=3, suppress_health_check=list(HealthCheck))
@given(scenario=scenarios(max_contacts=10, max_alerts=1).filter(_rich))
def test_overview_pdf_renders_and_its_text_layer_has_the_figures(
    runtime: Runtime, tmp_path_factory: pytest.TempPathFactory, scenario: Scenario
) -> None:
    tmp_path = tmp_path_factory.mktemp("pdf")
    scenario.alerts[0].title = "Inondation: évacuez la zone basse"
    written = write(runtime.store, scenario)
    result = runtime.registry.reports["overview"].value.run(runtime, alert_id=written.alert_ids[0])
    pdf = tmp_path / "overview.pdf"
    pdf.write_bytes(export(runtime, "pdf", result))
    assert pdf.read_bytes().startswith(b"%PDF-")

    subprocess.run([poppler("pdftoppm"), "-png", "-r", "50", str(pdf), str(tmp_path / "page")], check=True,
                   timeout=60)
    pages = sorted(tmp_path.glob("page*.png"))
    assert 1 <= len(pages) <= 2
    assert all(p.read_bytes().startswith(b"\x89PNG") and p.stat().st_size > 2000 for p in pages)

    text = subprocess.run([poppler("pdftotext"), "-layout", str(pdf), "-"], check=True, capture_output=True,
                          timeout=60, text=True).stdout
    assert "Inondation: évacuez la zone basse" in text
    o = result.total.outcome
    assert f"contacted: {o.contacted}" in text
    assert f"not contacted: {o.not_contacted}" in text
    assert f"in progress: {o.in_progress}" in text
    for m in result.total.means:
        assert f"Means: {m.means}" in text
        for s in m.statuses:
            assert s.label in text
    assert "Generated 2026-03-02 09:00" in text  # the clock's time in Paris
    assert "Sent: " in text


def test_pdf_exporter_accepts_only_overviews(runtime: Runtime) -> None:
    pdf = runtime.registry.exporters["pdf"].value
    table = runtime.registry.reports["log"].value.run(runtime, period="today")
    assert not pdf.accepts(table)
    assert runtime.registry.exporters["csv"].value.accepts(table)
