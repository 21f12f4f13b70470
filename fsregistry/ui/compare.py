"""The facts of a version that the compare page sets side by side (issue 14).

:func:`entry` turns ``get_model_version``'s dict into plain JSON values grouped the way the
page shows them: an overview, metrics (exact values: the page rounds them and signs the
deltas), parameters, tags, the signature's columns, the environment it was saved in, and
its files by SHA-256.  The page's script lays them out and marks what differs, in the live
server and in a static export alike (where every version's entry is on the page and the
URL picks which to show).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from .details import display, str_dict
from .markup import short_time, size

#: versions one comparison shows at most (wider than this is unreadable)
MAX_VERSIONS = 8

#: sections whose values repeat across versions: stored once per distinct value
SHARED_SECTIONS = ("environment", "signature", "params", "tags")


def entry(info: Mapping[str, Any]) -> dict[str, Any]:
    """One version's comparable facts, as JSON values."""
    metadata = info.get("metadata") or {}
    return {
        "version": int(info["version"]),
        "stage": info.get("stage"),
        "aliases": sorted(info.get("aliases") or []),
        "overview": _overview(info),
        "metrics": {str(k): _metric(v) for k, v in sorted((metadata.get("metrics") or {}).items())},
        "params": {str(k): display(v) for k, v in sorted((metadata.get("params") or {}).items())},
        "tags": dict(sorted(str_dict(metadata.get("tags")).items())),
        "signature": _signature(info.get("signature")),
        "environment": _environment(info.get("environment") or {}),
        "files": {
            str(name): [rec.get("size") if isinstance(rec, Mapping) else None, _sha(rec)]
            for name, rec in sorted((info.get("files") or {}).items())
        },
    }


def _overview(info: Mapping[str, Any]) -> dict[str, str]:
    return {
        "Created": short_time(str(info.get("created_at") or "")),
        "Flavor": str(info.get("flavor") or "—"),
        "Class": str(info.get("model_class") or "—"),
        "Format": str(info.get("model_format") or "—"),
        "Size": size(int(info.get("size") or 0)),
        "Preprocessor": "yes" if info.get("has_preprocessor") else "no",
        "Run ID": str(info.get("run_id") or "—"),
        "Description": str(info.get("description") or ""),
    }


def _metric(value: Any) -> Any:
    """Numbers as they are (the page computes deltas); anything else as text."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return value
    return display(value)


def _signature(signature: Any) -> dict[str, str] | None:
    if signature is None:
        return None
    columns = {str(c.name): f"{c.dtype} ({c.kind})" for c in getattr(signature, "inputs", ())}
    output = getattr(signature, "output", None) or {}
    columns.update({f"output: {k}": display(v) for k, v in sorted(output.items())})
    input_type = getattr(signature, "input_type", None)
    if input_type:
        columns["input type"] = str(input_type)
    return columns


def _environment(saved: Mapping[str, Any]) -> dict[str, str]:
    out = {
        label: str(saved[key])
        for key, label in (("python", "Python"), ("implementation", "Implementation"), ("platform", "Platform"))
        if saved.get(key) is not None
    }
    for package, version in sorted((saved.get("packages") or {}).items()):
        out[str(package)] = str(version) if version else "not installed"
    return out


def _sha(record: Any) -> str:
    return str(record.get("sha256") or "") if isinstance(record, Mapping) else ""


def shared(entries: list[dict[str, Any]]) -> dict[str, Any]:
    """``entries`` with each of :data:`SHARED_SECTIONS` stored once per distinct value:
    ``{"shared": {section: [values]}, "entries": [...]}`` where an entry's section is an
    index into ``shared[section]``.  Keeps a static export's compare page of a 2,000-version
    model small: the environment and signature rarely change between versions."""
    pools: dict[str, list[Any]] = {s: [] for s in SHARED_SECTIONS}
    seen: dict[str, dict[str, int]] = {s: {} for s in SHARED_SECTIONS}
    out = []
    for item in entries:
        item = dict(item)
        for section in SHARED_SECTIONS:
            key = repr(item[section])
            if key not in seen[section]:
                seen[section][key] = len(pools[section])
                pools[section].append(item[section])
            item[section] = seen[section][key]
        out.append(item)
    return {"shared": pools, "entries": out}
