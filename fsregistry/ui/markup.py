"""Building HTML safely: everything is escaped unless it is already :class:`Safe` markup.

Every value a user wrote (model names, tags, descriptions, metric and column names,
params) reaches the page through :func:`esc` or through a helper here that calls it; only
markup this package produced itself is wrapped in :class:`Safe`.  So a tag value of
``<script>alert(1)</script>`` is shown as text, never run, whichever page shows it.
"""

from __future__ import annotations

import datetime as _dt
import html
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from .metrics import metric_text


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
    header_attrs: Iterable[Mapping[str, Any]] | None = None,
    cell_classes: Iterable[str | None] | None = None,
    empty: str = "Nothing recorded.",
) -> Safe:
    """A table in a scrolling card; cells are escaped unless :class:`Safe`.  ``row_attrs``
    gives each ``<tr>`` its attributes (e.g. a highlight class or search text),
    ``header_attrs`` each ``<th>``, ``cell_classes`` the class of each column's cells."""
    rows = list(rows)
    if not rows:
        return element("p", empty, class_="muted")
    headers = list(headers)
    extra = list(row_attrs) if row_attrs is not None else [{} for _ in rows]
    th_attrs = list(header_attrs) if header_attrs is not None else [{} for _ in headers]
    classes = list(cell_classes) if cell_classes is not None else [None for _ in headers]
    head = join(
        element("th", h, scope="col", **{"class_": c, **a}) for h, a, c in zip(headers, th_attrs, classes, strict=True)
    )
    body = join(
        Safe(f"<tr{attributes(a)}>{join(element('td', c, class_=k) for c, k in zip(r, classes, strict=True))}</tr>")
        for r, a in zip(rows, extra, strict=True)
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


#: characters of a tag shown in a list's chip (the whole tag is its title, and on the version page)
CHIP_CHARS = 48


def tag_chips(tags: Mapping[str, Any]) -> Safe:
    """``key=value`` chips; a long one is cut to :data:`CHIP_CHARS` with an ellipsis."""
    return join((element("span", chip_text(f"{k}={v}"), class_="chip", title=f"{k}={v}") for k, v in tags.items()), " ")


def chip_text(text: str) -> str:
    return text if len(text) <= CHIP_CHARS else text[: CHIP_CHARS - 1] + "…"


def breakable(text: str) -> Safe:
    """``text`` escaped, with a line-break opportunity (``<wbr>``) after each ``_``, ``.``,
    ``-`` and ``/``: a long metric name wraps at its words before anywhere else."""
    return Safe(re.sub(r"(?<=[_./-])", "<wbr>", str(esc(text))).removesuffix("<wbr>"))


def copy_button(text: str) -> Safe:
    """A button that copies ``text`` (the inline script reads its ``data-copy``)."""
    return element("button", "Copy", type="button", class_="copy", data_copy=text, title=f"Copy {text}")


def when(iso: str | None, *, short: bool = False) -> Safe:
    """A timestamp in UTC in a ``<time>`` whose title keeps it exactly: in full
    (``YYYY-MM-DD HH:MM:SS UTC``) or, for table cells, ``short`` (``YYYY-MM-DD HH:MM``,
    date and time each kept on one line, so a narrow column wraps it onto two at most)."""
    if not iso:
        return element("span", "—", class_="muted")
    moment = parse_time(iso)
    if moment is None:
        return element("time", iso)
    if short:
        date, clock = moment.strftime("%Y-%m-%d"), moment.strftime("%H:%M")
        pieces = join([element("span", date, class_="d"), " ", element("span", clock, class_="t")])
        return element("time", pieces, datetime=iso, title=iso)
    label = moment.strftime("%Y-%m-%d %H:%M:%S") + (" UTC" if moment.tzinfo is not None else "")
    return element("time", label, datetime=iso, title=iso)


def parse_time(iso: str) -> _dt.datetime | None:
    """An ISO timestamp, moved to UTC when it carries a zone; ``None`` if it does not parse."""
    try:
        moment = _dt.datetime.fromisoformat(iso)
    except ValueError:
        return None
    return moment.astimezone(_dt.timezone.utc) if moment.tzinfo is not None else moment


def epoch_minutes(iso: str | None) -> int | None:
    """Whole minutes since 1970 (UTC; a timestamp without a zone is read as UTC): how
    a page's data stores a time (8 digits instead of a 16-character date)."""
    moment = parse_time(iso) if iso else None
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=_dt.timezone.utc)
    return int(moment.timestamp() // 60)


def short_time(iso: str | None) -> str:
    """``YYYY-MM-DD HH:MM`` (UTC) as in a table cell; sorts as text in time order."""
    if iso and len(iso) >= 22 and iso.endswith("+00:00") and iso[10] == "T":  # the registry's own stamps
        return f"{iso[:10]} {iso[11:16]}"
    moment = parse_time(iso) if iso else None
    if moment is None:
        return iso or ""
    return moment.strftime("%Y-%m-%d %H:%M")


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
    """A metric as text: :func:`~fsregistry.ui.metrics.metric_text` (four significant digits)."""
    return metric_text(value)


def metric_value(value: Any) -> Safe:
    """A metric for a page: rounded, with the exact value in its title when they differ."""
    text = metric_text(value)
    exact = repr(value) if isinstance(value, float) else str(value)
    return element("span", text, class_="num", title=exact if exact != text else None)


#: characters that must not appear raw inside a ``<script>`` data block
_JSON_ESCAPES = {ord("<"): "\\u003c", ord(">"): "\\u003e", ord("&"): "\\u0026", 0x2028: "\\u2028", 0x2029: "\\u2029"}


#: one encoder for every page: building one per call would bypass the C encoder's speed
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def json_block(data: Any, *, id_: str = "page-data") -> Safe:
    """``data`` as a JSON data block the page's script reads (``type="application/json"``:
    never run, so the Content Security Policy does not apply to it).  ``<``, ``>`` and ``&``
    are written as ``\\u003c`` etc., so no value can close the element or start markup."""
    text = _ENCODER.encode(data).translate(_JSON_ESCAPES)
    return Safe(f'<script type="application/json" id="{esc(id_)}">{text}</script>')
