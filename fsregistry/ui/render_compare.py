"""HTML of the pages the script draws from data: versions side by side, and the search
across every model's versions.

Both are a frame, a JSON block and the page's script: the comparison has to work in a
static export, where no server can render the versions a reader picks, so the script lays
it out in the live server too (one implementation, tested in a real browser).
"""

from __future__ import annotations

from .data import ComparePage, SearchPage
from .layout import Crumbs, layout
from .links import Links
from .markup import Safe, element, join
from .tabledata import compare_table, search_table

_NOSCRIPT = "<noscript><p>This page needs JavaScript (it runs from the page itself; nothing is fetched).</p></noscript>"


def compare_page(page: ComparePage, links: Links, *, root: str, footer: str = "") -> str:
    name = page.name
    body = join(
        [
            element("h1", element("span", f"{name}: compare versions", class_="title")),
            element(
                "p",
                "Rows that differ are marked; metric deltas are against the first version (the baseline).",
                class_="lead",
            ),
            Safe(f'<div id="compare"></div>{_NOSCRIPT}'),
        ]
    )
    crumbs: Crumbs = [("Models", links.home()), (name, links.model(name)), ("Compare", None)]
    data = compare_table(page, links)
    return layout(f"{name}: compare", crumbs, body, links, root=root, footer=footer, page="compare", data=data)


def search_page(page: SearchPage, links: Links, *, root: str, footer: str = "") -> str:
    versions, models = len(page.rows), len(page.models)
    body = join(
        [
            element("h1", "Search versions"),
            element(
                "p",
                f"{versions} version{'s' if versions != 1 else ''} of {models} model{'s' if models != 1 else ''}.",
                class_="lead",
            ),
            Safe(
                '<div class="search"><input id="search" type="search" autocomplete="off" '
                'placeholder="e.g. flavor=xgboost auc&gt;0.8 stage=Production" aria-label="Search versions">'
                '<span id="search-count" class="muted"></span></div>'
                '<p class="hint">Every word must match the version (its model\'s name, v12, a tag such as '
                "team=nba, stage=Production, @alias, flavor=xgboost, its description); metric conditions "
                "such as auc&gt;0.8 or loss&lt;=0.3 need that metric.</p>"
                '<div class="scroll"><table class="grid results" id="results"><thead></thead><tbody></tbody>'
                "</table></div>"
                '<p id="no-match" class="muted" hidden>No version matches.</p>'
                f'<div class="pager" id="pager"></div>{_NOSCRIPT}'
            ),
        ]
    )
    crumbs: Crumbs = [("Models", links.home()), ("Search versions", None)]
    return layout(
        "Search versions", crumbs, body, links, root=root, footer=footer, page="search", data=search_table(page, links)
    )
