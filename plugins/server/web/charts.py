"""Charts drawn on the server as SVG (pygal), without any script: they work everywhere."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pygal
from pygal.style import Style

OUTCOME_COLOURS = ("#2e7d32", "#ef8f00", "#b3261e")


def pie(labels: Sequence[str], values: Sequence[int], *, title: str = "",
        colours: Sequence[str] = OUTCOME_COLOURS, gettext: Callable[[str], str] = str) -> str:
    """A pie as an SVG document (an empty pie says so rather than drawing nothing)."""
    style = Style(colors=tuple(colours), background="white", plot_background="white",
                  font_family="system-ui, sans-serif", legend_font_size=14, value_font_size=14)
    chart = pygal.Pie(style=style, js=[], inner_radius=0.45, width=420, height=340,
                      legend_at_bottom=True, print_values=True, title=title or None,
                      explicit_size=True,
                      no_data_text=gettext("No data yet"))
    for label, value in zip(labels, values, strict=True):
        chart.add(label, value)
    svg: str = chart.render(is_unicode=True)
    return svg
