"""HTML of one version's page: facts, how to use it, identifiers, metrics, parameters,
tags, signature, input example, environment, files, lineage and stage history."""

from __future__ import annotations

from .data import LineageRow, Snippet, VersionPage
from .layout import Crumbs, description, facts, history_table, layout
from .links import Links
from .markup import (
    Safe,
    alias_badges,
    copy_button,
    element,
    esc,
    join,
    key_values,
    metric_value,
    size,
    stage_badge,
    table,
    when,
)


def version_page(page: VersionPage, links: Links, *, root: str, footer: str = "") -> str:
    name = page.name
    body = join(
        [
            _title(page),
            description(page.description),
            facts(
                [
                    ("Created", when(page.created_at)),
                    ("Flavor", page.flavor or "—"),
                    ("Format", page.model_format or "—"),
                    ("Size", size(page.size)),
                    ("Preprocessor", "yes" if page.has_preprocessor else "no"),
                ]
            ),
            element("p", join(["Class ", element("code", page.model_class or "unknown")]), class_="muted"),
            _compare_links(page, links),
            element("h2", "How to use this version"),
            _usage(page.usage),
            element("h2", "Identifiers that resolve to this version"),
            table(
                ["Identifier", "Through", ""],
                [[element("code", i.uri), i.meaning, copy_button(i.uri)] for i in page.identifiers],
                class_="grid identifiers",
            ),
            Safe('<div class="columns">'),
            _section("Metrics", key_values((k, metric_value(v)) for k, v in sorted(page.metrics.items()))),
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
            _lineage(page.lineage),
            element("h2", "Stage history"),
            history_table(page.history, links, name, with_version=False),
        ]
    )
    crumbs: Crumbs = [("Models", links.home()), (name, links.model(name)), (f"v{page.version}", None)]
    return layout(f"{name} v{page.version}", crumbs, body, links, root=root, footer=footer, page="version")


def _title(page: VersionPage) -> Safe:
    """``NAME v3 [Stage] [@alias]``: no stage, no badge (and no dangling dash)."""
    parts = [element("span", page.name, class_="title"), element("span", f"v{page.version}", class_="muted")]
    if page.stage:
        parts.append(stage_badge(page.stage))
    if page.aliases:
        parts.append(alias_badges(page.aliases))
    return element("h1", join(parts, " "))


def _compare_links(page: VersionPage, links: Links) -> Safe:
    items = []
    if page.production is not None and page.production != page.version:
        items.append(
            element(
                "a",
                f"Compare with Production (v{page.production}) →",
                href=links.compare(page.name, [page.production, page.version]),
                class_="compare-production",
            )
        )
    if page.previous is not None:
        items.append(
            element(
                "a",
                f"Compare with the previous version (v{page.previous}) →",
                href=links.compare(page.name, [page.previous, page.version]),
                class_="compare-previous",
            )
        )
    return element("p", join(items, Safe(" · ")), class_="actions") if items else Safe("")


def _usage(snippets: list[Snippet]) -> Safe:
    cards = []
    for s in snippets:
        head = Safe(f'<div class="snippet-head">{element("h3", s.title)}{copy_button(s.text)}</div>')
        note = element("p", s.note, class_="hint") if s.note else ""
        code = element("pre", element("code", s.text), class_="code", data_language=s.language)
        cards.append(Safe(f'<div class="snippet">{head}{code}{esc(note)}</div>'))
    return Safe(f'<div class="snippets">{join(cards)}</div>')


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
                element("span", label, class_=css + " nowrap", data_status=f.status),
                element("div", f.detail, class_="muted") if f.detail else "",
            ]
        )
        rows.append(
            [
                element("code", f.name),
                element("span", size(f.size), class_="num"),
                element("code", f.sha256, class_="sha"),
                status,
            ]
        )
    attrs = [{"class_": "mismatch" if f.status not in ("verified", "unchecked") else None} for f in page.files]
    return table(["File", "Size", "SHA-256", "Integrity now"], rows, row_attrs=attrs, class_="grid files")


def _lineage(rows: list[LineageRow]) -> Safe:
    body = join(
        Safe(
            f'<tr class="depth-{min(r.depth, 4)}"><th scope="row">{esc(r.label)}</th><td>{_lineage_value(r)}</td></tr>'
        )
        for r in rows
    )
    return Safe(f'<div class="scroll"><table class="kv lineage"><tbody>{body}</tbody></table></div>')


def _lineage_value(row: LineageRow) -> Safe:
    if row.kind == "code":
        copy = copy_button(row.value) if "ID" in row.label or "SHA" in row.label else ""
        return join([element("code", row.value), " ", copy])
    if row.kind == "time":
        return when(row.value)
    if row.kind in ("hidden", "none"):
        return element("span", row.value or "—", class_="muted")
    return esc(row.value)
