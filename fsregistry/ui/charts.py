"""Server-rendered SVG line charts: one numeric metric across a model's versions.

Drawn here as inline SVG rather than by a charting script, so a chart needs no network and
no font: it shows the same in the live browser, in the static export and in a screenshot.

Up to :data:`MAX_MARKED` versions, each version is one ``<circle class="point">`` carrying
``data-version`` and ``data-value``, with a ``<title>`` tooltip, inside a link to the
version's page.  Beyond that, markers would merge into a thick smear and cost the page
(issue 14: 2,000 versions), so only the line is drawn, thinned to the lowest and highest
value per pixel column, which keeps every peak and dip visible; the Production version is
still marked, and the page's script shows (and opens, on a click) the version under the
pointer, from the data the versions table already carries.
"""

from __future__ import annotations

from collections.abc import Callable

from .data import MetricSeries
from .links import Links
from .markup import Safe, breakable, element, esc, join, number

WIDTH, HEIGHT = 560, 200
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 16, 28
#: label at most this many versions on the x axis (every point is still drawn)
MAX_X_LABELS = 8
#: at most this many versions get a marker each; more get a line and the pointer readout
MAX_MARKED = 60
#: a line through more points than this is thinned to the lowest and highest value of
#: each of half as many buckets (one per four units of the plot's 480: about two pixels
#: where the chart is drawn widest)
MAX_LINE_POINTS = (WIDTH - LEFT - RIGHT) // 2


def metric_chart(series: MetricSeries, links: Links | None = None, model: str = "") -> Safe:
    """A ``<figure>`` with the chart of ``series`` and its metric name as caption; with
    ``links``, each marked point links to its version of ``model``."""
    if not series.points:
        return Safe("")
    low, high = _y_range([value for _, value in series.points])
    xs = _x_positions(len(series.points))

    def y(value: float) -> float:
        return TOP + (high - value) / (high - low) * (HEIGHT - TOP - BOTTOM)

    values = [value for _, value in series.points]
    dense = len(values) > MAX_MARKED
    parts = [_grid(low, high, y), _x_labels(series, xs)]
    if len(values) > 1:
        if len(values) > MAX_LINE_POINTS:  # whole units: a unit is under a pixel wherever it is drawn
            line = " ".join(f"{xs[i]:.0f},{y(values[i]):.0f}" for i in _thin(values))
        else:
            line = " ".join(f"{x:.1f},{y(v):.1f}" for x, v in zip(xs, values, strict=True))
        parts.append(Safe(f'<polyline class="line{" dense" if dense else ""}" fill="none" points="{line}"/>'))
    for i, (version, value) in enumerate(series.points):
        if not dense or version == series.production:
            parts.append(_point(series, version, value, xs[i], y(value), links, model))
    label = f"{series.name} by version"
    hover = (
        f' data-hover="1" data-x0="{LEFT}" data-x1="{WIDTH - RIGHT}" data-top="{TOP}" '
        f'data-bottom="{HEIGHT - BOTTOM}" data-low="{low!r}" data-high="{high!r}"'
        if dense
        else ""
    )
    svg = Safe(
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{esc(label)}" '
        f'data-metric="{esc(series.name)}" data-points="{len(series.points)}"{hover} '
        f'xmlns="http://www.w3.org/2000/svg">{join(parts)}</svg>'
    )
    caption = element("figcaption", element("code", breakable(series.name)))
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
    """Versions evenly spaced (a deleted version leaves no gap); the script's pointer
    readout uses the same spacing."""
    span = WIDTH - LEFT - RIGHT
    if count == 1:
        return [LEFT + span / 2]
    return [LEFT + i * span / (count - 1) for i in range(count)]


def _thin(values: list[float]) -> list[int]:
    """Indexes to draw: the first and last, and in each of ``MAX_LINE_POINTS // 2``
    buckets the lowest and the highest value, in order (peaks and dips survive)."""
    buckets = MAX_LINE_POINTS // 2
    size = len(values) / buckets
    kept = {0, len(values) - 1}
    for b in range(buckets):
        chunk = range(int(b * size), max(int((b + 1) * size), int(b * size) + 1))
        kept.add(min(chunk, key=values.__getitem__))
        kept.add(max(chunk, key=values.__getitem__))
    return sorted(kept)


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
    last = len(xs) - 1
    shown = [i for i in range(len(xs)) if i % every == 0 and (last - i >= every * 0.75 or i == last)]
    if last not in shown:
        shown.append(last)
    return join(
        Safe(
            f'<text class="tick" x="{xs[i]:.1f}" y="{HEIGHT - 8}" text-anchor="middle">'
            f"v{int(series.points[i][0])}</text>"
        )
        for i in shown
    )


def _point(
    series: MetricSeries, version: int, value: float, x: float, y: float, links: Links | None, model: str
) -> Safe:
    production = version == series.production
    title = element("title", f"v{version}: {series.name} = {number(value)}" + (" (Production)" if production else ""))
    circle = Safe(
        f'<circle class="point{" production" if production else ""}" cx="{x:.1f}" cy="{y:.1f}" '
        f'r="{6 if production else 4}" data-version="{int(version)}" data-value="{esc(repr(value))}">'
        f"{title}</circle>"
    )
    if links is None:
        return circle
    return Safe(f'<a href="{esc(links.version(model, version))}">{circle}</a>')
