"""Bar charts of a daily series as plain shapes for an inline SVG (no script, nothing fetched)."""

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str  # shown on hover


@dataclass(frozen=True)
class BarChart:
    title: str
    width: int
    height: int
    bars: list[Bar]
    peak: str  # the largest value, written at the top of the axis


def bar_chart(
    title: str, labels: Sequence[str], values: Sequence[int | Decimal], *, width: int = 600, height: int = 140
) -> BarChart:
    """One bar per value, scaled so the largest fills the height (all zero: no bars)."""
    peak = max(values, default=0)
    slot = width / max(len(values), 1)
    bars = []
    for index, (label, value) in enumerate(zip(labels, values, strict=True)):
        bar_height = float(value) / float(peak) * height if peak else 0.0
        bars.append(
            Bar(
                x=round(index * slot + slot * 0.1, 2),
                y=round(height - bar_height, 2),
                width=round(slot * 0.8, 2),
                height=round(bar_height, 2),
                label=f"{label}: {_number(value)}",
            )
        )
    return BarChart(title=title, width=width, height=height, bars=bars, peak=_number(peak))


def _number(value: int | Decimal) -> str:
    return f"{value:,.2f}" if isinstance(value, Decimal) else f"{value:,}"
