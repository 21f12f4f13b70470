"""The JSON that pages hand their script: versions tables, the search, the comparison.

Compact on purpose: a model with 2,000 versions must stay a page of a few hundred KB
(issue 14), so a version is a short array rather than an object, repeated tag sets are
stored once, metric values keep six significant digits (the page prints four), and
descriptions are cut to what the filter needs.  The field order of each array is written
next to the function that builds it; the script (:mod:`.script`) reads the same order.
"""

from __future__ import annotations

from typing import Any

from . import compare
from .data import ComparePage, ModelPage, SearchPage, VersionRow
from .links import Links
from .markup import epoch_minutes
from .metrics import compact, is_number

#: characters of a version's description kept for the filter
MAX_DESCRIPTION = 200


class _Pool:
    """Distinct values (tag dicts, stages, flavors), each stored once; rows refer to them
    by index.  Index 0 of a pool made with ``none_first`` is ``None``."""

    def __init__(self, *, none_first: bool = False) -> None:
        self.items: list[Any] = [None] if none_first else []
        self._index: dict[Any, int] = {None: 0} if none_first else {}

    def ref(self, value: Any) -> int:
        key = tuple(value.items()) if isinstance(value, dict) else value
        if key not in self._index:
            self._index[key] = len(self.items)
            self.items.append(value)
        return self._index[key]


def _metric_values(row: VersionRow, names: list[str]) -> list[float | int | None]:
    """The row's value of each metric (``None`` where it has none or not a number)."""
    values = [row.metrics.get(name) for name in names]
    return [compact(v) if is_number(v) else None for v in values]


def versions_table(page: ModelPage, links: Links, *, max_compare: int = compare.MAX_VERSIONS) -> dict[str, Any]:
    """The model page's data.  Each row: ``[version, stage (index into "stages"),
    aliases, tag set (index into "tagsets"), created (minutes since 1970, UTC), flavor
    (index into "flavors"), size, description, [metric values in the order of
    "metrics"]]``."""
    tagsets, stages, flavors = _Pool(), _Pool(none_first=True), _Pool(none_first=True)
    rows = [
        [
            r.version,
            stages.ref(r.stage),
            r.aliases,
            tagsets.ref(r.tags),
            epoch_minutes(r.created_at),
            flavors.ref(r.flavor),
            r.size,
            r.description[:MAX_DESCRIPTION],
            _metric_values(r, page.metric_names),
        ]
        for r in page.versions
    ]
    return {
        "kind": "versions",
        "metrics": page.metric_names,
        "shown": len(page.key_metrics),
        "production": page.stages.get("Production"),
        "href": list(links.version_pattern(page.name)),
        "compare": links.compare(page.name),
        "max_compare": max_compare,
        "tagsets": tagsets.items,
        "stages": stages.items,
        "flavors": flavors.items,
        "rows": rows,
    }


def search_table(page: SearchPage, links: Links) -> dict[str, Any]:
    """The search page's data.  ``models``: ``[name, model link, version link before,
    after]``; ``metrics``: each model's metric names; each row: ``[model index, version,
    stage, aliases, tag set, created, flavor, description, [metric values in the order of
    its model's names]]``, stored as in :func:`versions_table`."""
    index = {name: i for i, name in enumerate(page.models)}
    tagsets, stages, flavors = _Pool(), _Pool(none_first=True), _Pool(none_first=True)
    rows = [
        [
            index[name],
            r.version,
            stages.ref(r.stage),
            r.aliases,
            tagsets.ref(r.tags),
            epoch_minutes(r.created_at),
            flavors.ref(r.flavor),
            r.description[:MAX_DESCRIPTION],
            _metric_values(r, page.metric_names.get(name, [])),
        ]
        for name, r in page.rows
    ]
    return {
        "kind": "search",
        "models": [[name, links.model(name), *links.version_pattern(name)] for name in page.models],
        "metrics": [page.metric_names.get(name, []) for name in page.models],
        "tagsets": tagsets.items,
        "stages": stages.items,
        "flavors": flavors.items,
        "rows": rows,
    }


def compare_table(page: ComparePage, links: Links) -> dict[str, Any]:
    """The compare page's data: ``versions`` (``[number, stage, aliases]``, newest first,
    for the picker) and each available version's facts (see :func:`.compare.shared`)."""
    return {
        "kind": "compare",
        "model": page.name,
        "versions": [[c.version, c.stage, c.aliases] for c in page.choices],
        "production": page.production,
        "href": list(links.version_pattern(page.name)),
        "max_compare": compare.MAX_VERSIONS,
        **compare.shared(page.entries),
    }
