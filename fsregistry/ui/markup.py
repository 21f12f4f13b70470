"""Building HTML safely: everything is escaped unless it is already :class:`Safe` markup.

Every value a user wrote (model names, tags, descriptions, metric and column names,
params) reaches the page through :func:`esc` or through a helper here that calls it; only
markup this package produced itself is wrapped in :class:`Safe`.  So a tag value of
``<script>alert(1)</script>`` is shown as text, never run, whichever page shows it.
"""

from __future__ import annotations

import datetime as _dt
import html
from collections.abc import Iterable, Mapping
from typing import Any


class Safe(str):
    """A string of markup produced by this package; :func:`esc` leaves it as it is."""

    __slots__ = ()


def esc(value: Any) -> Safe:
    """``value`` as HTML text (quotes escaped too, so it is safe in attributes)."""
    if isinstance(value, Safe):
        return value
    return Safe(html.escape("" if value is None else str(value), quote=True))


def join(parts: Iterable[Any], sep: str = "") -> Safe:
    """Concatenate, escaping every part that is not already :class:`Safe`."""
    return Safe(esc(sep).join(esc(p) for p in parts))


def element(tag: str, content: Any = "", **attrs: Any) -> Safe:
    """``<tag attrs>content</tag>``; attribute values are escaped, ``class_`` means
    ``class``, ``data_x`` means ``data-x``, and ``None``/``False`` drop the attribute."""
    return Safe(f"<{tag}{attributes(attrs)}>{esc(content)}</{tag}>")


def attributes(attrs: Mapping[str, Any]) -> str:
    parts = []
    for key, value in attrs.items():
        if value is None or value is False:
            continue
        name = key.rstrip("_").replace("_", "-")
        parts.append(f" {name}" if value is True else f' {name}="{esc(value)}"')
    return "".join(parts)


def table(
    headers: Iterable[Any],
    rows: Iterable[Iterable[Any]],
    *,
    class_: str = "grid",
    row_attrs: Iterable[Mapping[str, Any]] | None = None,
    empty: str = "Nothing recorded.",
) -> Safe:
    """A table; cells are escaped unless :class:`Safe`.  ``row_attrs`` gives each ``<tr>``
    its attributes (e.g. a highlight class or search text)."""
    rows = list(rows)
    if not rows:
        return element("p", empty, class_="muted")
    extra = list(row_attrs) if row_attrs is not None else [{} for _ in rows]
    head = join(element("th", h, scope="col") for h in headers)
    body = join(
        Safe(f"<tr{attributes(a)}>{join(element('td', c) for c in r)}</tr>") for r, a in zip(rows, extra, strict=True)
    )
    return Safe(
        f'<div class="scroll"><table class="{esc(class_)}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table></div>"
    )


def key_values(pairs: Iterable[tuple[Any, Any]], *, empty: str = "Nothing recorded.") -> Safe:
    """A two-column definition table (name, value)."""
    rows = [(element("code", k) if not isinstance(k, Safe) else k, v) for k, v in pairs]
    if not rows:
        return element("p", empty, class_="muted")
    body = join(Safe(f'<tr><th scope="row">{esc(k)}</th><td>{esc(v)}</td></tr>') for k, v in rows)
    return Safe(f'<div class="scroll"><table class="kv"><tbody>{body}</tbody></table></div>')


# -- small pieces ----------------------------------------------------------------------------------


def stage_badge(stage: str | None) -> Safe:
    """A coloured badge for a stage; no stage is shown as a muted dash."""
    if not stage:
        return element("span", "—", class_="muted")
    return element("span", stage, class_=f"badge stage-{str(stage).lower()}", data_stage=stage)


def alias_badges(aliases: Iterable[str]) -> Safe:
    return join((element("span", f"@{a}", class_="badge alias") for a in aliases), " ")


def tag_chips(tags: Mapping[str, Any]) -> Safe:
    return join((element("span", f"{k}={v}", class_="chip", title=f"{k}={v}") for k, v in tags.items()), " ")


def copy_button(text: str) -> Safe:
    """A button that copies ``text`` (the inline script reads its ``data-copy``)."""
    return element("button", "Copy", type="button", class_="copy", data_copy=text, title=f"Copy {text}")


def when(iso: str | None) -> Safe:
    """A timestamp as ``YYYY-MM-DD HH:MM:SS UTC`` in a ``<time>`` whose title keeps it exactly."""
    if not iso:
        return element("span", "—", class_="muted")
    try:
        moment = _dt.datetime.fromisoformat(iso)
    except ValueError:
        return element("time", iso)
    if moment.tzinfo is not None:
        moment = moment.astimezone(_dt.timezone.utc)
    label = moment.strftime("%Y-%m-%d %H:%M:%S") + (" UTC" if moment.tzinfo is not None else "")
    return element("time", label, datetime=iso, title=iso)


def size(num_bytes: int | None) -> str:
    """Bytes in a human unit (``1.5 MiB``)."""
    if num_bytes is None:
        return "—"
    units = ("B", "KiB", "MiB", "GiB", "TiB")
    value, step = float(num_bytes), 0
    while value >= 1024 and step < len(units) - 1:
        value, step = value / 1024, step + 1
    return f"{num_bytes} B" if step == 0 else f"{value:.1f} {units[step]}"


def number(value: Any) -> str:
    """A metric for a table cell: four significant digits for floats."""
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)
