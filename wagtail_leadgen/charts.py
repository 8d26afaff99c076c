"""Small server-rendered SVG charts for the KPI report: no script, no external file.

``line_chart`` draws one series of daily values as a line with a dot per day.
The SVG is accessible: ``role="img"`` with a ``<title>`` and a ``<desc>`` that
sums the series up in words, axis labels, and a ``<title>`` on each dot that
browsers show as a tooltip. Colours follow the text (``currentColor``), so the
chart reads in the admin's light and dark themes.
"""

from __future__ import annotations

import datetime
import math
import uuid
from collections.abc import Sequence

from django.utils.formats import date_format, number_format
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

Point = tuple[datetime.date, float]

WIDTH = 640
HEIGHT = 240
MARGIN_LEFT = 56
MARGIN_RIGHT = 16
MARGIN_TOP = 16
MARGIN_BOTTOM = 48
MAX_X_LABELS = 7
COLOUR = "#007d7e"  # Wagtail's teal; readable on light and dark backgrounds


def _number(value: float) -> str:
    return number_format(value, decimal_pos=0, force_grouping=True)


def nice_ticks(maximum: float, count: int = 4) -> list[int]:
    """Round, whole-number ticks from 0 to at least ``maximum`` (at most ``count`` steps)."""
    if maximum <= 0:
        return [0, 1]
    raw = maximum / count
    magnitude = 10 ** math.floor(math.log10(raw)) if raw >= 1 else 1
    for factor in (1, 2, 5, 10):
        step = max(1, int(factor * magnitude))
        if step >= raw:
            break
    top = step * math.ceil(maximum / step)
    return list(range(0, top + 1, step))


def _label_indexes(count: int) -> list[int]:
    """Which days get a label on the x axis: first, last and evenly in between."""
    if count <= MAX_X_LABELS:
        return list(range(count))
    step = (count - 1) / (MAX_X_LABELS - 1)
    return sorted({round(i * step) for i in range(MAX_X_LABELS)})


def line_chart(
    points: Sequence[Point],
    *,
    title: str,
    y_label: str,
    unit: str,
    x_label: str | None = None,
    empty_message: str | None = None,
    colour: str = COLOUR,
) -> SafeString:
    """An inline SVG line chart of daily values.

    ``points`` are ``(day, value)`` pairs in order; ``unit`` names one value in
    the dots' tooltips and the description ("views"). With no point, or only
    zeros, the chart says ``empty_message`` instead of drawing a flat line.
    """
    uid = uuid.uuid4().hex[:8]
    title_id, desc_id = f"leadgen-chart-{uid}-title", f"leadgen-chart-{uid}-desc"
    x_label = x_label or _("Day")
    total = sum(value for _day, value in points)
    if not points or total == 0:
        message = empty_message or _("Nothing to show for this period.")
        body = (
            f'<text x="{WIDTH / 2:.0f}" y="{HEIGHT / 2:.0f}" text-anchor="middle" '
            f'fill="currentColor" font-size="14">{escape(message)}</text>'
        )
        return _svg(title, message, title_id, desc_id, body, empty=True)

    peak_day, peak = max(points, key=lambda point: point[1])
    description = _(
        "%(unit)s per day from %(start)s to %(end)s: %(total)s in total, "
        "at most %(peak)s on %(peak_day)s."
    ) % {
        "unit": unit.capitalize(),
        "start": date_format(points[0][0]),
        "end": date_format(points[-1][0]),
        "total": _number(total),
        "peak": _number(peak),
        "peak_day": date_format(peak_day),
    }

    plot_w = WIDTH - MARGIN_LEFT - MARGIN_RIGHT
    plot_h = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
    ticks = nice_ticks(peak)
    top = ticks[-1]

    def x(index: int) -> float:
        if len(points) == 1:
            return MARGIN_LEFT + plot_w / 2
        return MARGIN_LEFT + index * plot_w / (len(points) - 1)

    def y(value: float) -> float:
        return MARGIN_TOP + plot_h - (value / top) * plot_h

    parts: list[str] = []
    # Grid and y axis labels.
    for tick in ticks:
        ty = y(tick)
        parts.append(
            f'<line x1="{MARGIN_LEFT}" x2="{WIDTH - MARGIN_RIGHT}" y1="{ty:.1f}" '
            f'y2="{ty:.1f}" stroke="currentColor" stroke-opacity="0.15"/>'
        )
        parts.append(
            f'<text x="{MARGIN_LEFT - 8}" y="{ty + 4:.1f}" text-anchor="end" '
            f'font-size="11" fill="currentColor">{_number(tick)}</text>'
        )
    # Axes.
    bottom = MARGIN_TOP + plot_h
    parts.append(
        f'<g class="leadgen-chart__axes" stroke="currentColor" stroke-opacity="0.6">'
        f'<line x1="{MARGIN_LEFT}" x2="{MARGIN_LEFT}" y1="{MARGIN_TOP}" y2="{bottom}"/>'
        f'<line x1="{MARGIN_LEFT}" x2="{WIDTH - MARGIN_RIGHT}" y1="{bottom}" y2="{bottom}"/>'
        f"</g>"
    )
    # X axis labels; the first and last ones stay inside the chart.
    indexes = _label_indexes(len(points))
    for index in indexes:
        day = points[index][0]
        anchor = "middle"
        if len(indexes) > 1 and index == indexes[0]:
            anchor = "start"
        elif len(indexes) > 1 and index == indexes[-1]:
            anchor = "end"
        parts.append(
            f'<text x="{x(index):.1f}" y="{bottom + 16}" text-anchor="{anchor}" '
            f'font-size="11" fill="currentColor">{escape(date_format(day, "j M"))}</text>'
        )
    # Axis titles.
    parts.append(
        f'<text class="leadgen-chart__x-label" x="{MARGIN_LEFT + plot_w / 2:.0f}" '
        f'y="{HEIGHT - 6}" text-anchor="middle" font-size="12" '
        f'fill="currentColor">{escape(x_label)}</text>'
    )
    parts.append(
        f'<text class="leadgen-chart__y-label" x="0" y="0" '
        f'transform="translate(14 {MARGIN_TOP + plot_h / 2:.0f}) rotate(-90)" '
        f'text-anchor="middle" font-size="12" fill="currentColor">{escape(y_label)}</text>'
    )
    # The series: a line, then one dot per day with its value as a tooltip.
    coordinates = " ".join(
        f"{x(i):.1f},{y(value):.1f}" for i, (_day, value) in enumerate(points)
    )
    parts.append(
        f'<polyline class="leadgen-chart__line" points="{coordinates}" fill="none" '
        f'stroke="{escape(colour)}" stroke-width="2" stroke-linejoin="round"/>'
    )
    dots = []
    for i, (day, value) in enumerate(points):
        tooltip = f"{date_format(day)}: {_number(value)} {unit}"
        dots.append(
            f'<circle class="leadgen-chart__point" cx="{x(i):.1f}" cy="{y(value):.1f}" '
            f'r="3" fill="{escape(colour)}"><title>{escape(tooltip)}</title></circle>'
        )
    parts.append(f'<g class="leadgen-chart__points">{"".join(dots)}</g>')
    return _svg(title, description, title_id, desc_id, "".join(parts))


def _svg(
    title: str,
    description: str,
    title_id: str,
    desc_id: str,
    body: str,
    *,
    empty: bool = False,
) -> SafeString:
    classes = "leadgen-chart leadgen-chart--empty" if empty else "leadgen-chart"
    return mark_safe(  # noqa: S308 -- every text above is escaped, numbers are ours
        f'<svg xmlns="http://www.w3.org/2000/svg" class="{classes}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" role="img" '
        f'aria-labelledby="{title_id} {desc_id}" font-family="inherit">'
        f'<title id="{title_id}">{escape(title)}</title>'
        f'<desc id="{desc_id}">{escape(description)}</desc>'
        f"{body}</svg>"
    )
