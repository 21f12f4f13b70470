"""HTML of one model's page: its facts, the charts of its metrics, then its versions table.

Charts come first (issue 14: with 300 versions they used to sit 9,000 px below the top).
The versions table is drawn by the page's script from a compact JSON block, a page of rows
at a time, with a filter, sortable columns, a choice of metric columns and a selection to
compare; the page itself stays small whatever the number of versions.
"""

from __future__ import annotations

from .charts import MAX_MARKED, metric_chart
from .data import ModelPage
from .layout import Crumbs, description, facts, layout, plain_version
from .links import Links
from .markup import Safe, alias_badges, breakable, element, esc, join, tag_chips, when
from .tabledata import versions_table

#: charts shown before "more charts" (the rest are one click away)
OPEN_CHARTS = 6


def model_page(page: ModelPage, links: Links, *, root: str, footer: str = "") -> str:
    name = page.name
    production = page.stages.get("Production")
    extras = [
        tag_chips(page.tags),
        alias_badges(sorted(page.aliases)),
        element("a", "Stage history →", href=links.history(name)),
        element("a", "Compare versions →", href=links.compare(name)),
    ]
    body = join(
        [
            element("h1", element("span", name, class_="title")),
            description(page.description),
            facts(
                [
                    ("Versions", len(page.versions)),
                    ("Production", plain_version(production)),
                    ("Staging", plain_version(page.stages.get("Staging"))),
                    ("Created", when(page.created_at)),
                ]
            ),
            element("p", join((e for e in extras if e), " ")),
            element("h2", "Metrics across versions"),
            _charts(page, links),
            element("h2", "Versions"),
            _toolbar(page),
            Safe(
                '<div class="scroll"><table class="grid versions" id="versions"><thead></thead><tbody></tbody>'
                "</table></div>"
                '<p id="no-match" class="muted" hidden>No version matches the filter.</p>'
                '<div class="pager" id="pager"></div>'
                "<noscript><p>The versions table needs JavaScript; each chart's points link to their "
                "versions.</p></noscript>"
            ),
        ]
    )
    crumbs: Crumbs = [("Models", links.home()), (name, None)]
    data = versions_table(page, links)
    return layout(name, crumbs, body, links, root=root, footer=footer, page="model", data=data)


def _charts(page: ModelPage, links: Links) -> Safe:
    if not page.charts:
        return element("p", "No numeric metrics recorded.", class_="muted")
    first = join(metric_chart(s, links, page.name) for s in page.charts[:OPEN_CHARTS])
    rest = page.charts[OPEN_CHARTS:]
    more = (
        Safe(
            f'<details class="more-charts"><summary>{len(rest)} more chart{"s" if len(rest) != 1 else ""}</summary>'
            f'<div class="charts">{join(metric_chart(s, links, page.name) for s in rest)}</div></details>'
        )
        if rest
        else Safe("")
    )
    dense = any(len(s.points) > MAX_MARKED for s in page.charts)
    legend = join(
        [
            join([Safe("<i></i>"), "Production version"]) if page.stages.get("Production") else "",
            " · " if page.stages.get("Production") else "",
            "point at a line to read a version, click to open it" if dense else "click a point to open its version",
        ]
    )
    return Safe(f'<div class="charts">{first}</div>{more}{element("p", legend, class_="legend")}')


def _toolbar(page: ModelPage) -> Safe:
    """Filter, metric columns, compare: the controls above the versions table (the script
    wires them up; the chooser's boxes are the page's own markup, so they are escaped here)."""
    total, shown = len(page.metric_names), len(page.key_metrics)
    boxes = join(
        element(
            "label",
            join(
                [
                    Safe(f'<input type="checkbox" value="{esc(m)}"{" checked" if m in page.key_metrics else ""}>'),
                    breakable(m),
                ]
            ),
        )
        for m in page.metric_names
    )
    chooser = (
        Safe(
            f'<details class="chooser" id="metric-chooser"><summary id="metric-chooser-summary">'
            f"Metric columns: {shown} of {total} shown</summary>"
            f'<div class="menu">{boxes}</div></details>'
        )
        if total
        else Safe("")
    )
    note = element(
        "span",
        "Some metrics are not shown as columns: choose them under “Metric columns”.",
        id="metric-note",
        class_="note",
        hidden=shown >= total,
    )
    return join(
        [
            Safe(
                '<div class="toolbar"><input id="filter" type="search" autocomplete="off" '
                'placeholder="Filter: v12, tag, stage=Production, @alias, auc&gt;0.8" aria-label="Filter versions">'
                '<span id="filter-count" class="muted"></span>'
            ),
            chooser,
            Safe('<button type="button" id="compare-selected" disabled>Compare selected (0)</button>'),
            note,
            Safe("</div>"),
        ]
    )
