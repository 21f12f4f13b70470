"""The frame of every page (head, header, breadcrumbs, footer) and pieces pages share.

Every page is one self-contained document: the stylesheet and script of :mod:`.assets`
inline, charts as inline SVG, the page's data in a JSON block, and a Content Security
Policy that allows nothing else.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from . import assets
from .data import StageEvent
from .links import Links
from .markup import Safe, attributes, element, esc, join, json_block, stage_badge, table, when

Crumbs = list[tuple[str, str | None]]


def layout(
    title: str,
    crumbs: Crumbs,
    body: Safe,
    links: Links,
    *,
    root: str,
    footer: str = "",
    page: str = "",
    data: Any = None,
) -> str:
    """A whole HTML document around ``body``.  ``page`` tells the script which page this
    is; ``data``, if given, is handed to it as JSON.  ``root`` (the registry's location)
    is shown in the header unless empty."""
    trail = join(
        (element("a", label, href=href) if href else element("span", label) for label, href in crumbs), Safe(" / ")
    )
    nav = join([element("a", "Models", href=links.home()), element("a", "Search versions", href=links.search())])
    where = element("span", root, class_="root mono", title=root) if root else Safe("")
    block = json_block(data) if data is not None else Safe("")
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta http-equiv="Content-Security-Policy" content="{esc(assets.CONTENT_SECURITY_POLICY)}">'
        '<meta name="referrer" content="no-referrer">'
        f"<title>{esc(title)} · fsregistry</title>"
        '<link rel="icon" href="data:,">'
        f"<style>{assets.STYLE}</style></head><body{attributes({'data_page': page or None})}>"
        f'<header class="top">{element("a", "fsregistry", href=links.home(), class_="brand")}'
        f"{nav}{where}</header>"
        f'<main><nav class="crumbs">{trail}</nav>{body}</main>'
        f"<footer>Read-only view of the registry{esc(' · ' + footer if footer else '')}</footer>"
        f"{block}<script>{assets.SCRIPT}</script></body></html>\n"
    )


def facts(pairs: Iterable[tuple[str, object]]) -> Safe:
    """A row of labelled facts (``Versions 3  Production v2 ...``)."""
    return Safe(
        '<div class="facts">' + join(Safe(f"<span><b>{esc(k)}</b>{esc(v)}</span>") for k, v in pairs) + "</div>"
    )


def version_link(links: Links, name: str, version: int | None) -> Safe:
    """``v3`` linking to the version's page, or a muted dash for none."""
    if version is None:
        return element("span", "—", class_="muted")
    return element("a", f"v{version}", href=links.version(name, version))


def plain_version(version: int | None) -> str:
    return "—" if version is None else f"v{version}"


def description(text: str) -> Safe:
    """A user-written description as a lead paragraph (line breaks kept, long words broken)."""
    return element("p", text, class_="lead desc") if text else Safe("")


def history_table(events: list[StageEvent], links: Links, name: str, *, with_version: bool) -> Safe:
    """Stage transitions, newest first (on the history page with a version column)."""
    headers = ["When", *(["Version"] if with_version else []), "From", "To", "By", ""]
    rows = [
        [
            when(e.at, short=True),
            *([version_link(links, name, e.version)] if with_version else []),
            stage_badge(e.previous),
            stage_badge(e.stage),
            e.by,
            "" if e.recorded else element("span", "current stage; no transition recorded", class_="muted"),
        ]
        for e in events
    ]
    classes = ["created", *([None] if with_version else []), None, None, None, None]
    return table(headers, rows, cell_classes=classes, class_="grid history", empty="No stage transitions recorded.")
