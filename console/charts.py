"""Geometry of the small bar charts the dashboard draws as inline SVG.

Every label is laid out whole inside its chart: the SVG scales uniformly (no stretched
text), columns leave room at both ends for the half of a label that sticks out, ticks (a
week of days, a tenth of confidence) are further apart than the widest label, and ranked
bars have their label on a line of their own. Widths are estimated in user units from
`FONT_SIZE`, the size console.css gives `.axis` text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

WIDTH = 320
PLOT_HEIGHT = 120
FONT_SIZE = 11
# Widest average glyph of a label, in ems (DejaVu Sans digits are 0.64 em, lowercase less).
GLYPH_EM = 0.66
WEEK = 7
ROW_HEIGHT = 30  # a ranked bar: its label line, then the bar
BAR_THICKNESS = 10
ELLIPSIS = "…"


@dataclass(frozen=True)
class Bar:
    """One bar: its label, value and rectangle."""

    label: str
    value: int | float
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class Label:
    """A text of the chart, anchored at (x, y) by its start, middle or end."""

    text: str
    x: float
    y: float
    anchor: str = "middle"


@dataclass(frozen=True)
class Chart:
    """A chart's size (its SVG viewBox), bars and labels."""

    width: float
    height: float
    bars: list[Bar]
    labels: list[Label]


def text_width(text: str) -> float:
    """The estimated width of a label, in user units."""
    return len(text) * GLYPH_EM * FONT_SIZE


def fitted(text: str, width: float) -> str:
    """`text`, cut with an ellipsis if it would be wider than `width`."""
    most = int(width // (GLYPH_EM * FONT_SIZE))
    return text if len(text) <= most else text[: most - 1] + ELLIPSIS


def columns(data: Sequence[tuple[str, int | float]], ticks: list[tuple[float, str]]) -> Chart:
    """Vertical bars scaled to the largest value, labelled at `ticks`.

    A tick's position counts bars: bar n spans n to n + 1, so n + 0.5 is its middle.
    """
    if not data:
        return Chart(WIDTH, PLOT_HEIGHT, [], [])
    widest = max((text_width(text) for _, text in ticks), default=0.0)
    margin = widest / 2 + 1
    slot = (WIDTH - 2 * margin) / len(data)
    top = max(value for _, value in data) or 1
    bars = []
    for n, (label, value) in enumerate(data):
        height = PLOT_HEIGHT * value / top
        x = margin + n * slot + 0.5
        bars.append(Bar(label, value, x, PLOT_HEIGHT - height, max(slot - 1, 1), height))
    baseline = PLOT_HEIGHT + FONT_SIZE + 4
    labels = [Label(text, margin + at * slot, baseline) for at, text in ticks]
    return Chart(WIDTH, baseline + 4, bars, labels)


def per_day(data: list[tuple[str, int]]) -> Chart:
    """Conversations per day (ISO dates, oldest first), a label a week back from the newest."""
    ticks = [(n + 0.5, short_day(data[n][0])) for n in range(len(data) - 1, -1, -WEEK)]
    return columns(data, sorted(ticks))


def short_day(iso: str) -> str:
    """An ISO date as '2 Nov'."""
    day = date.fromisoformat(iso)
    return f"{day.day} {day:%b}"


def histogram(data: list[tuple[str, int]]) -> Chart:
    """Bins of equal width from 0 to 1, labelled at their edges (0, 0.1, … 1)."""
    edges = len(data)
    return columns(data, [(n, f"{n / edges:g}") for n in range(edges + 1)] if edges else [])


def ranking(data: list[tuple[str, int | float]]) -> Chart:
    """Horizontal bars, largest first as given, each under its own label line."""
    top = max((value for _, value in data), default=0) or 1
    bars, labels = [], []
    for n, (label, value) in enumerate(data):
        y = n * ROW_HEIGHT
        labels.append(Label(fitted(label, WIDTH), 0, y + FONT_SIZE + 2, "start"))
        width = WIDTH * value / top
        bars.append(Bar(label, value, 0, y + FONT_SIZE + 6, width, BAR_THICKNESS))
    return Chart(WIDTH, max(len(data), 1) * ROW_HEIGHT, bars, labels)
