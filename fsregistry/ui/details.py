"""The details of one version's page: its input example, environment against the running
one, stored files re-verified, and the identifiers that resolve to it."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from ..errors import IntegrityError, RegistryError
from ..names import EXCLUSIVE_STAGES
from ..records import environment
from ..storage import hashing
from .data import EnvRow, FileRow, Identifier, RegistryReader

#: rows of the stored input example shown on a version page
MAX_EXAMPLE_ROWS = 20


def example_table(example: Any) -> tuple[list[str], list[list[str]], int]:
    """``(columns, first rows as text, total rows)`` of a stored input example (a
    DataFrame or a 2-D array, as ``get_model_version`` returns it)."""
    if example is None:
        return [], [], 0
    if hasattr(example, "columns") and hasattr(example, "itertuples"):
        columns = [str(c) for c in example.columns]
        values = [list(row) for row in example.itertuples(index=False, name=None)]  # keeps each column's type
    else:
        values = [list(r) for r in (example.tolist() if hasattr(example, "tolist") else example)]
        columns = [str(i) for i in range(len(values[0]) if values else 0)]
    rows = [["" if _missing(v) else display(v) for v in row] for row in values[:MAX_EXAMPLE_ROWS]]
    return columns, rows, len(values)


def environment_rows(saved: dict[str, Any]) -> list[EnvRow]:
    """Python, platform and every recorded package: at save time against now.

    A package is a mismatch exactly when :func:`fsregistry.records.environment.differences` says
    so (one recorded as absent at save time is not), which is what a load warns about.
    """
    packages: dict[str, Any] = dict(saved.get("packages") or {})
    now = environment.capture(packages)
    differing = environment.differences(saved)
    rows = [
        _env_row(label, saved.get(key), now.get(key))
        for key, label in (
            ("python", "Python"),
            ("implementation", "Implementation"),
            ("platform", "Platform"),
            ("machine", "Machine"),
        )
        if key in saved
    ]
    for package, was in packages.items():
        installed = environment.package_version(package)
        rows.append(EnvRow(package, _opt(was), _opt(installed), package in differing))
    return rows


def _env_row(label: str, saved: Any, now: Any) -> EnvRow:
    return EnvRow(label, _opt(saved), _opt(now), saved is not None and saved != now)


def file_rows(registry: RegistryReader, info: dict[str, Any], *, verify: bool) -> list[FileRow]:
    """The stored files with size and SHA-256, each checked against its record now."""
    folder = registry.version_path(f"{info['name']}/{int(info['version'])}")
    rows = []
    for name, record in sorted((info.get("files") or {}).items()):
        record = record if isinstance(record, dict) else {}
        size = record.get("size")
        status, detail = _verify(folder, str(name), record, info) if verify else ("unchecked", "")
        rows.append(
            FileRow(str(name), size if isinstance(size, int) else None, str(record.get("sha256") or ""), status, detail)
        )
    return rows


def _verify(folder: Path, name: str, record: dict[str, Any], info: dict[str, Any]) -> tuple[str, str]:
    # meta.json of an imported version came from elsewhere: never follow a name out of the folder
    if name in ("", ".", "..") or Path(name).name != name or "\\" in name:
        return "refused", "not a plain file name; not opened"
    path = folder / name
    if not path.is_file():
        return "missing", "the file is missing"
    try:
        hashing.verify_file(path, record, name=str(info["name"]), version=int(info["version"]))
    except IntegrityError as exc:
        return "mismatch", str(exc)
    except OSError as exc:
        return "mismatch", f"could not be read: {exc}"
    return "verified", ""


def identifiers(registry: RegistryReader, info: dict[str, Any]) -> list[Identifier]:
    """Identifiers that resolve to this version now: its number, ``latest``, its stage,
    its aliases and its run.  Each candidate is resolved, so none is listed wrongly."""
    name, version = str(info["name"]), int(info["version"])
    candidates = [
        Identifier(f"models:/{name}/{version}", "version number"),
        Identifier(f"models:/{name}/latest", "newest version"),
    ]
    stage = info.get("stage")
    if stage:
        candidates.append(
            Identifier(f"models:/{name}/{stage}", "stage" if stage in EXCLUSIVE_STAGES else "most recently archived")
        )
    candidates += [Identifier(f"models:/{name}@{alias}", "alias") for alias in sorted(info.get("aliases") or [])]
    if info.get("run_id"):
        candidates.append(Identifier(f"runs:/{info['run_id']}/model", "run"))
    return [c for c in candidates if _resolves_to(registry, c.uri, name, version)]


def _resolves_to(registry: RegistryReader, uri: str, name: str, version: int) -> bool:
    try:
        return tuple(registry.resolve(uri)) == (name, version)
    except (RegistryError, LookupError, ValueError):
        return False


# -- value conversions -------------------------------------------------------------------------


def str_dict(value: Any) -> dict[str, str]:
    """A mapping (or None) as ``{str: str}`` (how tags are shown)."""
    return {str(k): str(v) for k, v in (value or {}).items()}


def int_dict(value: Any) -> dict[str, int]:
    """A mapping (or None) as ``{str: int}`` (stage and alias -> version)."""
    return {str(k): int(v) for k, v in (value or {}).items() if v is not None}


def _opt(value: Any) -> str | None:
    return None if value is None else str(value)


def _missing(value: Any) -> bool:
    """None, NaN, ``pd.NA``, ``NaT``: shown as an empty cell."""
    if value is None or type(value).__name__ in ("NAType", "NaTType"):
        return True
    return isinstance(value, float) and math.isnan(value)


def display(value: Any) -> str:
    """A value as the text shown for it: strings as they are, the rest as JSON."""
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):  # numpy scalar -> Python
        try:
            value = value.item()
        except (TypeError, ValueError):  # an array: item() wants a size-1 array
            value = value.tolist() if hasattr(value, "tolist") else str(value)
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, sort_keys=True, default=str)
    except ValueError:  # circular structure: cannot come from meta.json, but be safe
        return repr(value)
