"""Geometry of the small bar charts the dashboard draws as inline SVG."""

from __future__ import annotations

from dataclasses import dataclass

WIDTH, HEIGHT, LABEL_SPACE = 600, 160, 20


@dataclass(frozen=True)
class Bar:
    """One bar: its label, value and rectangle."""

    label: str
    value: int | float
    x: float
    y: float
    width: float
    height: float


def bars(data: list[tuple[str, int | float]]) -> list[Bar]:
    """Vertical bars filling the chart, scaled to the largest value."""
    if not data:
        return []
    top = max(value for _, value in data) or 1
    slot = WIDTH / len(data)
    plot = HEIGHT - LABEL_SPACE
    result = []
    for n, (label, value) in enumerate(data):
        height = plot * value / top
        result.append(Bar(label, value, n * slot + 1, plot - height, max(slot - 2, 1), height))
    return result
