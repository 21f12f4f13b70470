"""HTML for each page of the model browser, from the page data of :mod:`.pages`.

This module renders the models list, a model's stage history and error pages, and gathers
the other renderers (:mod:`.render_model`, :mod:`.render_version`, :mod:`.render_compare`)
so callers need one import.  Every user-written value goes through :mod:`.markup`, which
escapes it.
"""

from __future__ import annotations

import json

from .data import HistoryPage, ModelRow, ModelsPage
from .layout import Crumbs, facts, history_table, layout, plain_version, version_link
from .links import Links
from .markup import Safe, element, join, stage_badge, table, tag_chips, when
from .metrics import compact
from .render_compare import compare_page, search_page
from .render_model import model_page
from .render_version import version_page

__all__ = [
    "compare_page",
    "error_page",
    "history_page",
    "history_table",
    "model_page",
    "models_page",
    "search_page",
    "version_page",
]


# -- models list -------------------------------------------------------------------------------

_MODEL_COLUMNS = [
    # header, sort key (None: not sortable), cell class
    ("Model", "name", "model-cell"),
    ("Versions", "versions", None),
    ("Stages", None, "stack"),
    ("Aliases", None, "stack"),
    ("Tags", None, "tags"),
    ("Last updated", "updated", "created"),
]


def models_page(page: ModelsPage, links: Links, *, footer: str = "") -> str:
    rows = [_model_cells(m, links) for m in page.models]
    attrs = [
        {
            "data_model": m.name,
            "data_search": m.search_text,
            "data_metrics": json.dumps(
                {k.lower(): [compact(lo), compact(hi)] for k, (lo, hi) in m.metric_ranges.items()},
                separators=(",", ":"),
            ),
            "data_versions": m.versions,
            "data_updated": m.updated_at,
        }
        for m in page.models
    ]
    count = len(page.models)
    every = links.search()
    search = Safe(
        '<div class="search"><input id="search" type="search" autocomplete="off" '
        'placeholder="Filter: name, description, tag, stage, @alias, flavor, auc&gt;0.8" aria-label="Filter models">'
        '<span id="search-count" class="muted"></span>'
        f"{element('a', 'Search every version of every model →', id='search-versions', href=every, data_base=every)}"
        "</div>"
        '<p class="hint">Every word must match (name, description, a tag such as team=nba, '
        "stage=Production, @alias, flavor=xgboost); metric conditions such as auc&gt;0.8 or loss&lt;=0.3 "
        "match a model when one of its versions does.</p>"
    )
    body = join(
        [
            element("h1", "Models"),
            element("p", f"{count} model{'s' if count != 1 else ''} in this registry.", class_="lead"),
            search if page.models else "",
            table(
                [h for h, _, _ in _MODEL_COLUMNS],
                rows,
                row_attrs=attrs,
                header_attrs=[{"data_key": k, "data_label": h} if k else {} for h, k, _ in _MODEL_COLUMNS],
                cell_classes=[c for _, _, c in _MODEL_COLUMNS],
                class_="grid models",
                empty="No models yet: save one with registry.save_model(model, name).",
            ),
        ]
    )
    return layout("Models", [("Models", None)], body, links, root=page.root, footer=footer, page="models")


def _model_cells(m: ModelRow, links: Links) -> list[Safe]:
    name = join(
        [
            element("a", m.name, href=links.model(m.name), class_="model-link"),
            element("div", m.description, class_="muted desc clamp", title=m.description) if m.description else "",
        ]
    )
    versions = join(
        [
            element("span", str(m.versions), class_="num"),
            element("div", join(["latest ", version_link(links, m.name, m.latest_version)]), class_="muted nowrap")
            if m.latest_version is not None
            else "",
        ]
    )
    aliases = join(
        element(
            "span",
            join([element("span", f"@{a}", class_="badge alias"), " → ", version_link(links, m.name, v)]),
            class_="alias-line",
        )
        for a, v in sorted(m.aliases.items())
    )
    return [
        Safe(f"<div>{name}</div>"),
        versions,
        _stage_holders(links, m.name, m.stages) or element("span", "—", class_="muted"),
        aliases or element("span", "—", class_="muted"),
        _tag_groups(m),
        when(m.updated_at, short=True),
    ]


def _stage_holders(links: Links, name: str, stages: dict[str, int]) -> Safe:
    return join(
        element(
            "a",
            join([stage_badge(stage), f" v{stages[stage]}"]),
            href=links.version(name, stages[stage]),
            data_holds=stage,
        )
        for stage in ("Production", "Staging")
        if stage in stages
    )


def _tag_groups(m: ModelRow) -> Safe:
    """The model's own tags and its newest version's tags, each labelled (they are set
    differently: ``set_model_tag`` against ``save_model(tags=...)``)."""
    groups = []
    if m.tags:
        groups.append(Safe(f'<span class="tag-group"><span class="label">model</span>{tag_chips(m.tags)}</span>'))
    if m.latest_tags and m.latest_version is not None:
        label = element("span", f"v{m.latest_version}", class_="label", title="tags of the newest version")
        groups.append(Safe(f'<span class="tag-group">{label}{tag_chips(m.latest_tags)}</span>'))
    return Safe(f'<div class="cell-text">{join(groups)}</div>') if groups else element("span", "—", class_="muted")


# -- stage history -----------------------------------------------------------------------------


def history_page(page: HistoryPage, links: Links, *, root: str, footer: str = "") -> str:
    body = join(
        [
            element("h1", element("span", f"{page.name}: stage history", class_="title")),
            facts(
                [
                    ("Production", plain_version(page.stages.get("Production"))),
                    ("Staging", plain_version(page.stages.get("Staging"))),
                ]
            ),
            history_table(page.events, links, page.name, with_version=True),
        ]
    )
    crumbs: Crumbs = [("Models", links.home()), (page.name, links.model(page.name)), ("Stage history", None)]
    return layout(f"{page.name} stage history", crumbs, body, links, root=root, footer=footer, page="history")


def error_page(status: int, message: str, links: Links, *, root: str) -> str:
    body = join(
        [
            element("h1", element("span", f"{status}: {message}", class_="title")),
            element("p", join(["Back to ", element("a", "all models", href=links.home()), "."])),
        ]
    )
    return layout(str(status), [("Models", links.home())], body, links, root=root, page="error")
