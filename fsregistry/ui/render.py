"""HTML for each page of the model browser, from the page data of :mod:`.pages`.

Every page is one self-contained document: the stylesheet and script of :mod:`.assets`
inline, charts as inline SVG, a Content Security Policy that allows nothing else.  Every
user-written value goes through :mod:`.markup`, which escapes it.
"""

from __future__ import annotations

from collections.abc import Iterable

from . import assets
from .charts import metric_chart
from .data import HistoryPage, ModelPage, ModelsPage, StageEvent, VersionPage
from .links import Links
from .markup import (
    Safe,
    alias_badges,
    copy_button,
    element,
    esc,
    join,
    key_values,
    number,
    size,
    stage_badge,
    table,
    tag_chips,
    when,
)

Crumbs = list[tuple[str, str | None]]


def layout(title: str, crumbs: Crumbs, body: Safe, links: Links, *, root: str, footer: str = "") -> str:
    """A whole HTML document around ``body``."""
    trail = join(
        (element("a", label, href=href) if href else element("span", label) for label, href in crumbs), Safe(" / ")
    )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta http-equiv="Content-Security-Policy" content="{esc(assets.CONTENT_SECURITY_POLICY)}">'
        '<meta name="referrer" content="no-referrer">'
        f"<title>{esc(title)} · fsregistry</title>"
        '<link rel="icon" href="data:,">'
        f"<style>{assets.STYLE}</style></head><body>"
        f'<header class="top">{element("a", "fsregistry", href=links.home(), class_="brand")}'
        f"<span>Model browser</span>{element('span', root, class_='root mono', title=root)}</header>"
        f'<main><nav class="crumbs">{trail}</nav>{body}</main>'
        f"<footer>Read-only view of the registry{esc(' · ' + footer if footer else '')}</footer>"
        f"<script>{assets.SCRIPT}</script></body></html>\n"
    )


def _facts(pairs: Iterable[tuple[str, object]]) -> Safe:
    return Safe(
        '<div class="facts">' + join(Safe(f"<span><b>{esc(k)}</b>{esc(v)}</span>") for k, v in pairs) + "</div>"
    )


def _version_link(links: Links, name: str, version: int | None) -> Safe:
    if version is None:
        return element("span", "—", class_="muted")
    return element("a", f"v{version}", href=links.version(name, version))


def _description(text: str) -> Safe:
    return element("p", text, class_="lead desc") if text else Safe("")


# -- models list -------------------------------------------------------------------------------


def models_page(page: ModelsPage, links: Links, *, footer: str = "") -> str:
    rows, attrs = [], []
    for m in page.models:
        name_cell = join(
            [
                element("a", m.name, href=links.model(m.name), class_="model-link"),
                element("div", m.description, class_="muted desc") if m.description else "",
            ]
        )
        rows.append(
            [
                name_cell,
                Safe(f'<span class="num">{m.versions}</span>'),
                _version_link(links, m.name, m.latest_version),
                _stage_holder(links, m.name, m.stages, "Staging"),
                _stage_holder(links, m.name, m.stages, "Production"),
                join(
                    (
                        element(
                            "span",
                            join(
                                [element("span", f"@{a}", class_="badge alias"), " → ", _version_link(links, m.name, v)]
                            ),
                            class_="nowrap",
                        )
                        for a, v in sorted(m.aliases.items())
                    ),
                    Safe("<br>"),
                ),
                join([tag_chips(m.tags), " ", tag_chips({k: v for k, v in m.latest_tags.items() if k not in m.tags})]),
                when(m.updated_at),
            ]
        )
        attrs.append({"data_search": m.search_text, "data_model": m.name})
    search = Safe(
        '<div class="search"><input id="search" type="search" autocomplete="off" '
        'placeholder="Filter by name or tag, e.g. team=nba" aria-label="Filter models">'
        '<span id="search-count" class="muted"></span></div>'
    )
    body = join(
        [
            element("h1", "Models"),
            element(
                "p", f"{len(page.models)} model{'s' if len(page.models) != 1 else ''} in this registry.", class_="lead"
            ),
            search if page.models else "",
            table(
                ["Model", "Versions", "Latest", "Staging", "Production", "Aliases", "Tags", "Last updated"],
                rows,
                row_attrs=attrs,
                class_="grid models",
                empty="No models yet: save one with registry.save_model(model, name).",
            ),
        ]
    )
    return layout("Models", [("Models", None)], body, links, root=page.root, footer=footer)


def _stage_holder(links: Links, name: str, stages: dict[str, int], stage: str) -> Safe:
    version = stages.get(stage)
    if version is None:
        return element("span", "—", class_="muted")
    return element("a", join([stage_badge(stage), f" v{version}"]), href=links.version(name, version), data_holds=stage)


# -- one model ---------------------------------------------------------------------------------


def model_page(page: ModelPage, links: Links, *, root: str, footer: str = "") -> str:
    name = page.name
    headers = ["Version", "Stage", "Aliases", "Tags", "Created", "Flavor", "Size", *page.key_metrics]
    rows, attrs = [], []
    for v in page.versions:
        rows.append(
            [
                _version_link(links, name, v.version),
                stage_badge(v.stage),
                alias_badges(v.aliases),
                tag_chips(v.tags),
                when(v.created_at),
                element("span", v.flavor or "—", title=v.model_class or None),
                Safe(f'<span class="num">{esc(size(v.size))}</span>'),
                *(
                    element("span", number(v.metrics[m]) if m in v.metrics else "—", class_="num")
                    for m in page.key_metrics
                ),
            ]
        )
        attrs.append(
            {
                "class_": "production" if v.stage == "Production" else None,
                "data_version": v.version,
                "data_stage": v.stage or "",
            }
        )
    charts = join(metric_chart(s) for s in page.charts)
    legend = (
        element("p", join([Safe("<i></i>"), "Production version"]), class_="legend")
        if page.stages.get("Production")
        else Safe("")
    )
    body = join(
        [
            element("h1", name),
            _description(page.description),
            _facts(
                [
                    ("Versions", len(page.versions)),
                    ("Production", _plain_version(page.stages.get("Production"))),
                    ("Staging", _plain_version(page.stages.get("Staging"))),
                    ("Created", when(page.created_at)),
                ]
            ),
            element(
                "p",
                join(
                    [
                        tag_chips(page.tags),
                        " ",
                        alias_badges(sorted(page.aliases)),
                        " ",
                        element("a", "Stage history →", href=links.history(name)),
                    ]
                ),
            ),
            element("h2", "Versions"),
            table(headers, rows, row_attrs=attrs, class_="grid versions"),
            element("h2", "Metrics across versions"),
            Safe(f'<div class="charts">{charts}</div>{legend}')
            if page.charts
            else element("p", "No numeric metrics recorded.", class_="muted"),
        ]
    )
    crumbs: Crumbs = [("Models", links.home()), (name, None)]
    return layout(name, crumbs, body, links, root=root, footer=footer)


def _plain_version(version: int | None) -> str:
    return "—" if version is None else f"v{version}"


# -- stage history -----------------------------------------------------------------------------


def history_page(page: HistoryPage, links: Links, *, root: str, footer: str = "") -> str:
    body = join(
        [
            element("h1", f"{page.name}: stage history"),
            _facts(
                [
                    ("Production", _plain_version(page.stages.get("Production"))),
                    ("Staging", _plain_version(page.stages.get("Staging"))),
                ]
            ),
            history_table(page.events, links, page.name, with_version=True),
        ]
    )
    crumbs: Crumbs = [("Models", links.home()), (page.name, links.model(page.name)), ("Stage history", None)]
    return layout(f"{page.name} stage history", crumbs, body, links, root=root, footer=footer)


def history_table(events: list[StageEvent], links: Links, name: str, *, with_version: bool) -> Safe:
    headers = ["When", *(["Version"] if with_version else []), "From", "To", ""]
    rows = [
        [
            when(e.at),
            *([_version_link(links, name, e.version)] if with_version else []),
            stage_badge(e.previous),
            stage_badge(e.stage),
            "" if e.recorded else element("span", "current stage; no transition recorded", class_="muted"),
        ]
        for e in events
    ]
    return table(headers, rows, class_="grid history", empty="No stage transitions recorded.")


# -- one version -------------------------------------------------------------------------------


def version_page(page: VersionPage, links: Links, *, root: str, footer: str = "") -> str:
    name = page.name
    body = join(
        [
            element(
                "h1",
                join(
                    [
                        f"{name} ",
                        element("span", f"v{page.version}", class_="muted"),
                        " ",
                        stage_badge(page.stage),
                        " ",
                        alias_badges(page.aliases),
                    ]
                ),
            ),
            _description(page.description),
            _facts(
                [
                    ("Created", when(page.created_at)),
                    ("Flavor", page.flavor or "—"),
                    ("Format", page.model_format or "—"),
                    ("Size", size(page.size)),
                    ("Preprocessor", "yes" if page.has_preprocessor else "no"),
                ]
            ),
            element("p", join(["Class ", element("code", page.model_class or "unknown")]), class_="muted"),
            element("h2", "Identifiers that resolve to this version"),
            table(
                ["Identifier", "Through", ""],
                [[element("code", i.uri), i.meaning, copy_button(i.uri)] for i in page.identifiers],
                class_="grid identifiers",
            ),
            Safe('<div class="columns">'),
            _section("Metrics", key_values((k, str(v)) for k, v in sorted(page.metrics.items()))),
            _section("Parameters", key_values(sorted(page.params.items()))),
            _section("Tags", key_values(sorted(page.tags.items()))),
            Safe("</div>"),
            element("h2", "Signature"),
            _signature(page),
            element("h2", "Input example"),
            _example(page),
            element("h2", "Environment: at save time and now"),
            _environment(page),
            element("h2", "Stored files"),
            _files(page),
            element("h2", "Lineage"),
            _lineage(page),
            element("h2", "Stage history"),
            history_table(page.history, links, name, with_version=False),
        ]
    )
    crumbs: Crumbs = [("Models", links.home()), (name, links.model(name)), (f"v{page.version}", None)]
    return layout(f"{name} v{page.version}", crumbs, body, links, root=root, footer=footer)


def _section(title: str, content: Safe) -> Safe:
    return Safe(f"<section>{element('h2', title)}{content}</section>")


def _signature(page: VersionPage) -> Safe:
    if page.signature is None:
        return element("p", "No signature recorded (save with an input_example or a signature).", class_="muted")
    output = ", ".join(f"{k}: {v}" for k, v in sorted(page.signature_output.items())) or "unknown"
    return join(
        [
            table(
                ["#", "Column", "Dtype", "Kind"],
                [
                    [str(i), element("code", c.name), element("code", c.dtype), c.kind]
                    for i, c in enumerate(page.signature, 1)
                ],
                class_="grid signature",
                empty="No input columns.",
            ),
            element("p", f"Input type: {page.signature_input_type or 'unknown'}. Output: {output}.", class_="muted"),
        ]
    )


def _example(page: VersionPage) -> Safe:
    if not page.example_columns:
        return element("p", "No input example stored.", class_="muted")
    shown = len(page.example_rows)
    note = f"Showing {shown} of {page.example_total_rows} stored rows." if shown < page.example_total_rows else ""
    return join(
        [
            table(page.example_columns, page.example_rows, class_="grid example"),
            element("p", note, class_="muted") if note else "",
        ]
    )


def _environment(page: VersionPage) -> Safe:
    if not page.environment:
        return element("p", "No environment recorded.", class_="muted")
    differing = [r.item for r in page.environment if r.mismatch]
    summary = (
        element(
            "p",
            f"{len(differing)} difference{'s' if len(differing) != 1 else ''} from the "
            f"running environment: {', '.join(differing)}.",
            class_="warn",
        )
        if differing
        else element("p", "Matches the running environment.", class_="ok")
    )
    rows = [
        [
            element("code", r.item),
            r.saved or "not installed",
            r.now or "not installed",
            element("span", "differs", class_="bad") if r.mismatch else element("span", "same", class_="muted"),
        ]
        for r in page.environment
    ]
    attrs = [{"class_": "mismatch" if r.mismatch else None, "data_item": r.item} for r in page.environment]
    return join([summary, table(["Item", "At save time", "Now", ""], rows, row_attrs=attrs, class_="grid environment")])


_FILE_STATUS = {
    "verified": ("✓ verified", "ok"),
    "mismatch": ("✗ does not match", "bad"),
    "missing": ("✗ missing", "bad"),
    "refused": ("✗ not checked", "bad"),
    "unchecked": ("not checked", "muted"),
}


def _files(page: VersionPage) -> Safe:
    rows = []
    for f in page.files:
        label, css = _FILE_STATUS.get(f.status, (f.status, "muted"))
        status = join(
            [
                element("span", label, class_=css, data_status=f.status),
                element("div", f.detail, class_="muted") if f.detail else "",
            ]
        )
        rows.append(
            [
                element("code", f.name),
                Safe(f'<span class="num">{esc(size(f.size))}</span>'),
                element("code", f.sha256, class_="sha"),
                status,
            ]
        )
    attrs = [{"class_": "mismatch" if f.status not in ("verified", "unchecked") else None} for f in page.files]
    return table(["File", "Size", "SHA-256", "Integrity now"], rows, row_attrs=attrs, class_="grid files")


def _lineage(page: VersionPage) -> Safe:
    pairs: list[tuple[object, object]] = [
        ("run_id", join([element("code", page.run_id), " ", copy_button(page.run_id)]))
    ]
    pairs += sorted(page.source.items())
    note = "" if page.source else element("p", "Saved in this registry (not imported).", class_="muted")
    return join([key_values(pairs), note])


def error_page(status: int, message: str, links: Links, *, root: str) -> str:
    body = join(
        [
            element("h1", f"{status}: {message}"),
            element("p", join(["Back to ", element("a", "all models", href=links.home()), "."])),
        ]
    )
    return layout(str(status), [("Models", links.home())], body, links, root=root)
