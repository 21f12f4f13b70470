"""Where a version came from, as labelled facts instead of raw JSON (issue 14).

A version saved here has only its run id.  An imported one carries ``source`` (written by
:mod:`fsregistry.bundle.importer`): the bundle it came from, when, what it was called and
which stage it held in the registry it left, and who exported it.  ``source.previous`` is
the same record one import further back, shown indented.

A static export is often sent elsewhere, so with ``show_paths=False`` the folders and host
names in that record (the bundle's folder, the exporting host and its registry root) are
withheld: the bundle's file name stays, the rest reads "withheld from this export".
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import PurePath
from typing import Any

from .data import LineageRow
from .details import display
from .markup import short_time

HIDDEN = "withheld from this export"
#: earlier imports shown, one indent each (a longer chain is summarised)
MAX_DEPTH = 4

#: label and kind of each known key of ``source``, in the order shown
_KNOWN: dict[str, tuple[str, str]] = {
    "imported_from": ("Imported from", "path"),
    "imported_at": ("Imported at", "time"),
    "bundle_sha256": ("Bundle SHA-256", "code"),
    "original_name": ("Original model", "code"),
    "original_version": ("Original version", "text"),
    "original_run_id": ("Original run ID", "code"),
    "original_stage": ("Stage there", "text"),
    "original_aliases": ("Aliases there", "text"),
    "original_stage_history": ("Stage history there", "text"),
    "exported_at": ("Exported at", "time"),
    "exported_by": ("Exported by", "text"),
}


def rows(info: Mapping[str, Any], *, show_paths: bool = True) -> list[LineageRow]:
    """The lineage facts of a version (``get_model_version``'s dict)."""
    out = [LineageRow("Run ID", str(info.get("run_id") or ""), "code" if info.get("run_id") else "none")]
    source = info.get("source")
    if not isinstance(source, Mapping):
        out.append(LineageRow("Origin", "saved in this registry (not imported)"))
        return out
    return out + _source_rows(source, show_paths=show_paths, depth=0)


def _source_rows(source: Mapping[str, Any], *, show_paths: bool, depth: int) -> list[LineageRow]:
    out: list[LineageRow] = []
    for key, (label, kind) in _KNOWN.items():
        if key in source:
            out.extend(_known(key, label, kind, source[key], show_paths=show_paths, depth=depth))
    for key in sorted(k for k in source if k not in _KNOWN and k != "previous"):
        out.append(LineageRow(str(key).replace("_", " ").capitalize(), _plain(source[key]), "text", depth))
    previous = source.get("previous")
    if isinstance(previous, Mapping):
        if depth + 1 > MAX_DEPTH:
            out.append(LineageRow("Earlier imports", "more, not shown", "text", depth))
        else:
            out.append(LineageRow("Earlier import", "before that, it was imported as follows", "text", depth))
            out.extend(_source_rows(previous, show_paths=show_paths, depth=depth + 1))
    return out


def _known(key: str, label: str, kind: str, value: Any, *, show_paths: bool, depth: int) -> list[LineageRow]:
    if value is None or value == "" or value == []:
        return [LineageRow(label, "none", "none", depth)] if key == "original_stage" else []
    if kind == "path":
        text = str(value)
        if show_paths:
            return [LineageRow(label, text, "code", depth)]
        return [LineageRow(label, f"{PurePath(text).name} (folder {HIDDEN})", "code", depth)]
    if key == "original_aliases" and isinstance(value, list):
        return [LineageRow(label, ", ".join(f"@{a}" for a in value), "text", depth)]
    if key == "original_stage_history" and isinstance(value, list):
        return [LineageRow(label, _transitions(value), "text", depth)]
    if key == "exported_by" and isinstance(value, Mapping):
        return _exported_by(value, show_paths=show_paths, depth=depth)
    return [LineageRow(label, _plain(value), kind, depth)]


def _exported_by(value: Mapping[str, Any], *, show_paths: bool, depth: int) -> list[LineageRow]:
    tools = ", ".join(f"{k} {value[k]}" for k in ("fsregistry", "python") if value.get(k))
    out = [LineageRow("Exported with", tools, "text", depth)] if tools else []
    for key, label in (("host", "Exported on host"), ("root", "Exported from registry")):
        if value.get(key):
            out.append(
                LineageRow(label, str(value[key]) if show_paths else HIDDEN, "code" if show_paths else "hidden", depth)
            )
    extra = {k: v for k, v in value.items() if k not in ("fsregistry", "python", "host", "root")}
    out += [LineageRow(f"Exported by: {k}", _plain(v), "text", depth) for k, v in sorted(extra.items())]
    return out


def _transitions(events: list[Any]) -> str:
    steps = [
        f"{e.get('from') or 'None'} → {e.get('stage') or 'None'} ({short_time(str(e.get('at') or '')) or '?'})"
        for e in events
        if isinstance(e, Mapping)
    ]
    return "; ".join(steps) or "none"


def _plain(value: Any) -> str:
    """A value as readable text: lists comma-separated, mappings as ``key: value`` pairs."""
    if isinstance(value, Mapping):
        return ", ".join(f"{k}: {_plain(v)}" for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(_plain(v) for v in value)
    return display(value)
