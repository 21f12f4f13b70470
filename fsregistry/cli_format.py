"""Text the command-line interface prints: tables, sizes, times, JSON.

Kept apart from :mod:`fsregistry.cli` so that the commands read as "one library call,
then format the answer", and so the formatting can be tested without a registry.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import sys
import textwrap
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

_UNITS = ("B", "KiB", "MiB", "GiB", "TiB")


def human_size(num_bytes: Any) -> str:
    """``1536`` -> ``"1.5 KiB"``; anything that is not a number -> ``"-"``."""
    if not isinstance(num_bytes, (int, float)) or isinstance(num_bytes, bool):
        return "-"
    size = float(num_bytes)
    for unit in _UNITS:
        if abs(size) < 1024 or unit == _UNITS[-1]:
            return f"{int(size)} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} {_UNITS[-1]}"  # pragma: no cover - the loop always returns


def when(iso: Any) -> str:
    """An ISO-8601 timestamp as ``YYYY-MM-DD HH:MM`` UTC (unparsable text is shown as is)."""
    if not iso:
        return "-"
    try:
        stamp = dt.datetime.fromisoformat(str(iso))
    except ValueError:
        return str(iso)
    if stamp.tzinfo is not None:
        stamp = stamp.astimezone(dt.timezone.utc)
    return stamp.strftime("%Y-%m-%d %H:%M")


def number(value: Any) -> str:
    """Metrics: short floats (``0.8523``), everything else as ``str``."""
    if isinstance(value, float) and math.isfinite(value):
        return f"{value:.4g}"
    return str(value)


def pairs(mapping: Mapping[str, Any] | None, *, numbers: bool = False) -> str:
    """``{"a": 1, "b": 2}`` -> ``"a=1 b=2"`` (``-`` when empty)."""
    if not mapping:
        return "-"
    shown = (number(v) if numbers else str(v) for v in mapping.values())
    return " ".join(f"{k}={v}" for k, v in zip(mapping, shown, strict=True))


def listing(values: Iterable[Any] | None) -> str:
    items = [str(v) for v in values or ()]
    return ",".join(items) if items else "-"


def table(
    headers: Sequence[str], rows: Iterable[Sequence[Any]], *, wrap: int | None = None, width: int | None = None
) -> str:
    """A plain left-aligned text table with a header row.  With ``wrap`` (a column index)
    and ``width`` (the terminal's), that column's text is wrapped onto further lines so
    that rows fit the terminal instead of running hundreds of characters wide."""
    body = [[("-" if cell is None or cell == "" else str(cell)) for cell in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in body)) if body else len(h) for i, h in enumerate(headers)]
    if wrap is not None and width is not None:
        others = sum(w for i, w in enumerate(widths) if i != wrap) + 2 * (len(widths) - 1)
        widths[wrap] = max(len(headers[wrap]), min(widths[wrap], max(24, width - others)))
    lines = ["  ".join(h.upper().ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    for row in body:
        parts = [[cell] for cell in row]
        if wrap is not None and len(row[wrap]) > widths[wrap]:
            parts[wrap] = textwrap.wrap(row[wrap], widths[wrap], break_long_words=True, break_on_hyphens=False)
        for n in range(max(len(p) for p in parts)):
            cells = [p[n] if n < len(p) else "" for p in parts]
            lines.append("  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip())
    return "\n".join(lines)


def key_values(items: Iterable[tuple[str, Any]], indent: int = 2) -> str:
    """Aligned ``key  value`` lines."""
    rows = [(k, "-" if v is None or v == "" else str(v)) for k, v in items]
    if not rows:
        return " " * indent + "-"
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{' ' * indent}{k.ljust(width)}  {v}" for k, v in rows)


# -- JSON ------------------------------------------------------------------------------------


def _json_default(value: Any) -> Any:
    # numpy and pandas values exist only once those are imported: never import them here
    np, pd = sys.modules.get("numpy"), sys.modules.get("pandas")
    if hasattr(value, "to_dict") and callable(value.to_dict):
        if pd is not None and isinstance(value, pd.DataFrame):
            return json.loads(value.to_json(orient="records", date_format="iso"))
        return value.to_dict()
    if np is not None and isinstance(value, (np.ndarray, np.generic)):
        return value.tolist()
    if isinstance(value, (Path, dt.datetime, dt.date)):
        return str(value)
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    return repr(value)


def to_json(data: Any) -> str:
    """Pretty, strict JSON for scripts: library objects (signatures, frames, paths) become
    plain data, and NaN or infinite numbers (which JSON cannot carry) become ``null``."""
    return json.dumps(
        _finite(data), indent=2, sort_keys=True, default=_json_default, ensure_ascii=False, allow_nan=False
    )


def _finite(value: Any) -> Any:
    np = sys.modules.get("numpy")
    if np is not None and isinstance(value, np.floating):  # float32 is no Python float
        value = float(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


# -- one version in full ---------------------------------------------------------------------


def describe_version(info: Mapping[str, Any]) -> str:
    """``fsregistry show``: a version's state, metadata, signature and environment."""
    meta = info.get("metadata") or {}
    sections = [
        f"{info['name']}/{info['version']}  ({info['uri']})",
        key_values(
            [
                ("stage", info.get("stage") or "None"),
                ("aliases", listing(info.get("aliases"))),
                ("created", when(info.get("created_at"))),
                ("created by", actor(info.get("created_by"))),
                ("run id", info.get("run_id")),
                ("flavor", f"{info.get('flavor')} ({info.get('model_class')}, {info.get('model_format')})"),
                ("size", f"{human_size(info.get('size'))}  " + _files(info.get("files") or {})),
                ("preprocessor", "yes" if info.get("has_preprocessor") else "no"),
                ("description", info.get("description")),
                ("source", _source(info.get("source"))),
            ]
        ),
        "metrics\n" + key_values([(k, number(v)) for k, v in (meta.get("metrics") or {}).items()]),
        "params\n" + key_values(sorted((meta.get("params") or {}).items())),
        "tags\n" + key_values(sorted((meta.get("tags") or {}).items())),
        "signature\n" + _signature(info.get("signature")),
        "environment\n" + _environment(info.get("environment") or {}),
        "history\n" + _history(info),
    ]
    return "\n\n".join(sections)


def actor(by: Any) -> str:
    """``user@host`` of a recorded change (``-`` when it was not recorded)."""
    if not isinstance(by, Mapping):
        return "-"
    user, host = by.get("user") or "?", by.get("host")
    return f"{user}@{host}" if host else str(user)


def _history(info: Mapping[str, Any]) -> str:
    """Stage and alias changes, oldest first: when, what, by whom."""
    events = [
        (str(e.get("at")), f"stage {e.get('from') or 'None'} -> {e.get('stage') or 'None'}", e.get("by"))
        for e in info.get("stage_history") or []
        if isinstance(e, Mapping)
    ]
    events += [
        (str(e.get("at")), f"alias {e.get('alias')} {e.get('action')}", e.get("by"))
        for e in info.get("alias_history") or []
        if isinstance(e, Mapping)
    ]
    return key_values([(when(at), f"{what}  by {actor(by)}") for at, what, by in sorted(events)])


def _files(files: Mapping[str, Any]) -> str:
    return "(" + ", ".join(f"{name} {human_size(rec.get('size'))}" for name, rec in files.items()) + ")"


def _source(source: Any) -> str:
    if not isinstance(source, Mapping):
        return "-"
    origin = source.get("original_version")
    return (
        f"imported from {source.get('imported_from')} at {when(source.get('imported_at'))}"
        f" (was version {origin}, stage {source.get('original_stage') or 'None'})"
    )


def _signature(signature: Any) -> str:
    if signature is None:
        return "  - (no signature: pass input_example= or signature= when saving)"
    rows = [(c.name, c.dtype, c.kind) for c in signature.inputs]
    columns = "\n".join("  " + line for line in table(["column", "dtype", "kind"], rows).splitlines())
    output = signature.output or {}
    out = f"  output: {output.get('kind') or 'unknown'}"
    if output.get("classes") is not None:
        out += f" {output['classes']}"
    return f"  input: {signature.input_type}, {len(rows)} columns\n{columns}\n{out}"


def _environment(env: Mapping[str, Any]) -> str:
    """Python, then each package's version; ``(from xgboost-cpu)`` when another distribution
    than the package's own name provided its module."""
    items = [("python", f"{env.get('python', '-')} ({env.get('implementation', '-')}, {env.get('platform', '-')})")]
    recorded = env.get("distributions")
    providers: Mapping[str, Any] = recorded if isinstance(recorded, Mapping) else {}
    for name, version in sorted((env.get("packages") or {}).items()):
        shown = str(version) if version is not None else "not installed"
        provider = providers.get(name)
        if isinstance(provider, str) and _canonical(provider) != _canonical(name):
            shown += f" (from {provider})"
        items.append((name, shown))
    return key_values(items)


def _canonical(name: str) -> str:
    return "".join(c for c in name.lower() if c.isalnum())
