"""PDF export of an alert's overview with reportlab: title, dates, the outcome pie,
a table per means (attempts by status, reached share, median time to reach, main
failures) and the time it was generated, on one or two A4 pages.

Text is real text (a viewer can search and copy it); DejaVu Sans is embedded when the
system has it (any script), else the standard Helvetica (Latin-1) is used.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import IO, Any

from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.charts.piecharts import Pie
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from tocsin.hookspecs import hookimpl
from tocsin.plugins.reports.overview import AlertFigures, MeansReport, Overview
from tocsin.report import Exporter

FONT_FILES = (
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"),
)
PIE_COLOURS = (colors.HexColor("#2e7d32"), colors.HexColor("#f9a825"), colors.HexColor("#c62828"))
MAX_FAILURES = 6
MAX_COMMUNICATIONS = 12


def _fonts() -> tuple[str, str]:
    if all(p.exists() for p in FONT_FILES):
        if "TocsinSans" not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(TTFont("TocsinSans", str(FONT_FILES[0])))
            pdfmetrics.registerFont(TTFont("TocsinSans-Bold", str(FONT_FILES[1])))
        return "TocsinSans", "TocsinSans-Bold"
    return "Helvetica", "Helvetica-Bold"


def _when(value: dt.datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M %Z").strip() if value else "-"


def _percent(share: float) -> str:
    return f"{share * 100:.1f} %"


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min {secs:02d} s"


def _pie(fig: AlertFigures, font: str) -> Drawing:
    o = fig.outcome
    drawing = Drawing(170 * mm, 55 * mm)
    values = [o.contacted, o.in_progress, o.not_contacted]
    labels = [f"contacted: {o.contacted}", f"in progress: {o.in_progress}",
              f"not contacted: {o.not_contacted}"]
    if o.total:
        pie = Pie()
        pie.x, pie.y, pie.width, pie.height = 10 * mm, 5 * mm, 45 * mm, 45 * mm
        pie.data = values
        pie.simpleLabels = True
        pie.labels = None
        for i, colour in enumerate(PIE_COLOURS):
            pie.slices[i].fillColor = colour
            pie.slices[i].strokeColor = colors.white
        drawing.add(pie)
    legend = Legend()
    legend.x, legend.y = 70 * mm, 40 * mm
    legend.fontName, legend.fontSize = font, 10
    legend.colorNamePairs = list(zip(PIE_COLOURS, labels, strict=True))
    drawing.add(legend)
    return drawing


def _grid(rows: list[list[Any]], bold: str, widths: list[float]) -> Table:
    table = Table(rows, colWidths=widths, hAlign="LEFT")
    table.setStyle(
        TableStyle([
            ("FONTNAME", (0, 0), (-1, 0), bold),
            ("FONTSIZE", (0, 0), (-1, -1), 8.5),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")),
            ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
            ("ALIGN", (1, 1), (-1, -1), "RIGHT"),
            ("TOPPADDING", (0, 0), (-1, -1), 1.5),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
        ])
    )
    return table


def _means_table(m: MeansReport, bold: str) -> list[Any]:
    summary: list[list[Any]] = [
        ["Attempts", "In progress", "Contacts", "Reached", "Reached share", "Median time to reach"],
        [m.attempts, m.attempts_in_progress, m.contacts, m.contacts_reached,
         _percent(m.reached_share), _duration(m.median_seconds_to_reach)],
    ]
    statuses: list[list[Any]] = [["Status", "Attempts"]] + [[s.label, s.count] for s in m.statuses]
    parts: list[Any] = [_grid(summary, bold, [22 * mm, 22 * mm, 22 * mm, 22 * mm, 28 * mm, 40 * mm]),
                        Spacer(1, 2 * mm), _grid(statuses, bold, [60 * mm, 25 * mm])]
    if m.failures:
        shown = m.failures[:MAX_FAILURES]
        rows = [["Failure", "Reason", "Attempts"]] + [
            [f.label, (f.reason or "-")[:70], f.count] for f in shown
        ]
        if len(m.failures) > len(shown):
            rest = sum(f.count for f in m.failures[len(shown):])
            rows.append(["other", f"{len(m.failures) - len(shown)} more reasons", rest])
        parts += [Spacer(1, 2 * mm), _grid(rows, bold, [35 * mm, 110 * mm, 20 * mm])]
    return parts


def write_pdf(result: Any, stream: IO[bytes]) -> None:
    """Write an :class:`Overview` as a PDF (see the module documentation)."""
    if not isinstance(result, Overview):
        raise TypeError(f"the pdf exporter writes an alert overview, not a {type(result).__name__}")
    font, bold = _fonts()
    base = getSampleStyleSheet()
    body = ParagraphStyle("body", parent=base["BodyText"], fontName=font, fontSize=9.5)
    h1 = ParagraphStyle("h1", parent=base["Heading1"], fontName=bold, fontSize=16)
    h2 = ParagraphStyle("h2", parent=base["Heading2"], fontName=bold, fontSize=12, spaceBefore=6)

    def para(text: str, style: ParagraphStyle = body) -> Paragraph:
        from xml.sax.saxutils import escape

        return Paragraph(escape(text), style)

    fig = result.total
    o = fig.outcome
    story: list[Any] = [
        para(result.title, h1),
        para(f"Sent: {_when(fig.sent_at)}    Finished: {_when(fig.finished_at)}"
             + (f"    State: {fig.state}" if fig.state else "")),
        Spacer(1, 3 * mm),
        _pie(fig, font),
        _grid(
            [["Outcome", "Contacts", "Share"],
             ["contacted", o.contacted, _percent(o.share_contacted)],
             ["in progress", o.in_progress, _percent(o.share_in_progress)],
             ["not contacted", o.not_contacted, _percent(o.share_not_contacted)],
             ["total", o.total, ""]],
            bold, [40 * mm, 25 * mm, 25 * mm],
        ),
    ]
    if fig.not_attempted:
        story.append(para("Not attempted for want of an address: " + ", ".join(
            f"{r.missing or 'no means'} ({r.count})" for r in fig.not_attempted)))
    if result.campaign_id is not None and result.communications:
        story.append(para("Communications", h2))
        rows = [["Communication", "Contacted", "In progress", "Not contacted"]] + [
            [c.title[:60], c.outcome.contacted, c.outcome.in_progress, c.outcome.not_contacted]
            for c in result.communications[:MAX_COMMUNICATIONS]
        ]
        story.append(_grid(rows, bold, [90 * mm, 25 * mm, 25 * mm, 28 * mm]))
    for m in fig.means:
        story.append(para(f"Means: {m.means}", h2))
        story.extend(_means_table(m, bold))
    if not fig.means:
        story.append(para("No attempt has been made yet."))
    story += [Spacer(1, 4 * mm), para(f"Generated {_when(result.generated_at)}")]
    doc = SimpleDocTemplate(
        stream, pagesize=A4, title=result.title, author="Tocsin",
        leftMargin=15 * mm, rightMargin=15 * mm, topMargin=14 * mm, bottomMargin=14 * mm,
    )
    doc.build(story)


EXPORTER = Exporter(
    name="pdf",
    extension="pdf",
    media_type="application/pdf",
    write=write_pdf,
    description="The overview of an alert on one or two pages: title, dates, pie, "
    "per-means tables, generation time.",
    accepts=lambda result: isinstance(result, Overview),
)


@hookimpl  # type: ignore[untyped-decorator]
def tocsin_register_exporters() -> list[Exporter]:
    return [EXPORTER]
