"""Server-rendered SVG line charts: one numeric metric across a model's versions.

Drawn here as inline SVG rather than by a charting script, so a chart needs no JavaScript,
no network and no font: it shows the same in the live browser, in the static export and in
a screenshot.  Each version is one ``<circle class="point">`` carrying ``data-version`` and
``data-value``, with a ``<title>`` tooltip; the Production version's point is marked.
"""

from __future__ import annotations

from collections.abc import Callable

from .data import MetricSeries
from .markup import Safe, element, esc, join, number

WIDTH, HEIGHT = 560, 200
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 16, 28
#: label at most this many versions on the x axis (every point is still drawn)
MAX_X_LABELS = 12


def metric_chart(series: MetricSeries) -> Safe:
    """A ``<figure>`` with the chart of ``series`` and its metric name as caption."""
    if not series.points:
        return Safe("")
    low, high = _y_range([value for _, value in series.points])
    xs = _x_positions(len(series.points))

    def y(value: float) -> float:
        return TOP + (high - value) / (high - low) * (HEIGHT - TOP - BOTTOM)

    coords = [(x, y(value)) for x, (_, value) in zip(xs, series.points, strict=True)]
    parts = [_grid(low, high, y), _x_labels(series, xs)]
    if len(coords) > 1:
        parts.append(
            Safe(
                '<polyline class="line" fill="none" points="'
                + " ".join(f"{x:.1f},{yy:.1f}" for x, yy in coords)
                + '"/>'
            )
        )
    pairs = zip(series.points, coords, strict=True)
    parts.extend(_point(series, version, value, x, yy) for (version, value), (x, yy) in pairs)
    label = f"{series.name} by version"
    svg = Safe(
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{esc(label)}" '
        f'data-metric="{esc(series.name)}" xmlns="http://www.w3.org/2000/svg">{join(parts)}</svg>'
    )
    caption = element("figcaption", element("code", series.name))
    return Safe(f'<figure class="chart-card">{caption}{svg}</figure>')


def _y_range(values: list[float]) -> tuple[float, float]:
    """Bounds with a little headroom; a flat series gets a band around its value."""
    low, high = min(values), max(values)
    if high == low:
        pad = abs(low) * 0.05 or 1.0
        return low - pad, high + pad
    pad = (high - low) * 0.08
    return low - pad, high + pad


def _x_positions(count: int) -> list[float]:
    """Versions evenly spaced (a deleted version leaves no gap)."""
    span = WIDTH - LEFT - RIGHT
    if count == 1:
        return [LEFT + span / 2]
    return [LEFT + i * span / (count - 1) for i in range(count)]


def _grid(low: float, high: float, y: Callable[[float], float]) -> Safe:
    lines = []
    for fraction in (0.0, 0.5, 1.0):
        value = low + (high - low) * fraction
        pos = y(value)
        lines.append(Safe(f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{pos:.1f}" y2="{pos:.1f}"/>'))
        lines.append(
            Safe(f'<text class="tick" x="{LEFT - 6}" y="{pos + 4:.1f}" text-anchor="end">{esc(number(value))}</text>')
        )
    return join(lines)


def _x_labels(series: MetricSeries, xs: list[float]) -> Safe:
    every = max(1, -(-len(xs) // MAX_X_LABELS))
    labels = [
        Safe(f'<text class="tick" x="{x:.1f}" y="{HEIGHT - 8}" text-anchor="middle">v{int(version)}</text>')
        for i, (x, (version, _)) in enumerate(zip(xs, series.points, strict=True))
        if i % every == 0 or i == len(xs) - 1
    ]
    return join(labels)


def _point(series: MetricSeries, version: int, value: float, x: float, y: float) -> Safe:
    production = version == series.production
    title = element("title", f"v{version}: {series.name} = {number(value)}" + (" (Production)" if production else ""))
    return Safe(
        f'<circle class="point{" production" if production else ""}" cx="{x:.1f}" cy="{y:.1f}" '
        f'r="{6 if production else 4}" data-version="{int(version)}" data-value="{esc(repr(value))}">'
        f"{title}</circle>"
    )
