"""``meta.json``: the self-describing record of one version, and the views derived from it.

``meta.json`` is the truth about a version.  Its identity and payload fields (name,
version, run id, files and their hashes, flavor, signature, environment) never change
after publish; its *state* fields (stage, stage history, aliases, tags, description) are
rewritten atomically, under the write lock, when they change.  The index entries and the
dicts the API returns are all computed here from it.
"""

from __future__ import annotations

import contextlib
import math
from typing import Any

import numpy as np
import pandas as pd

from .errors import CorruptRegistryError, InvalidMetadataError
from .signature import Signature
from .storage import files
from .storage.layout import FORMAT_VERSION, check_format
from .storage.layout import Layout as _Layout

#: rows of an input example kept in meta.json
MAX_EXAMPLE_ROWS = 100


# -- JSON-safe user data ------------------------------------------------------------------


def to_jsonable(value: Any, where: str) -> Any:
    """Convert metadata to JSON types (numpy scalars and arrays, timestamps...) or raise
    :class:`InvalidMetadataError` naming the offending key."""
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return [to_jsonable(v, where) for v in value.tolist()]
    if isinstance(value, (pd.Timestamp,)):
        return value.isoformat()
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise InvalidMetadataError(f"{where}: key {k!r} is not a string; metadata keys must be strings")
            out[k] = to_jsonable(v, f"{where}.{k}")
        return out
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v, f"{where}[{i}]") for i, v in enumerate(value)]
    raise InvalidMetadataError(
        f"{where}: a value of type {type(value).__name__} cannot be stored as JSON; "
        "use numbers, strings, booleans, lists and dicts"
    )


def split_metadata(metadata: dict[str, Any] | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """The seed's free-form ``metadata`` split into ``(params, metrics)``.

    Floating-point numbers are metrics (``accuracy``, ``auc``); everything else (integers
    such as ``fold``, strings, nested dicts such as ``model_params``) is a parameter.
    """
    if metadata is None:
        return {}, {}
    if not isinstance(metadata, dict):
        raise InvalidMetadataError(f"metadata must be a dict, got {type(metadata).__name__}")
    clean = to_jsonable(metadata, "metadata")
    params: dict[str, Any] = {}
    metrics: dict[str, Any] = {}
    for key, value in clean.items():
        is_metric = isinstance(metadata[key], (float, np.floating)) and not isinstance(metadata[key], bool)
        (metrics if is_metric else params)[key] = value
    return params, metrics


def check_metrics(metrics: dict[str, Any] | None) -> dict[str, Any]:
    """Explicit ``metrics=``: every value must be a real number."""
    out = to_jsonable(metrics or {}, "metrics")
    for key, value in out.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise InvalidMetadataError(f"metrics.{key}: {value!r} is not a number")
    return dict(out)


# -- input example ------------------------------------------------------------------------


def encode_example(example: Any) -> dict[str, Any] | None:
    """Keep up to 100 rows of an input example as JSON (columns, dtypes, rows)."""
    if example is None:
        return None
    if isinstance(example, pd.DataFrame):
        frame, kind = example.head(MAX_EXAMPLE_ROWS), "dataframe"
    elif isinstance(example, dict):
        frame, kind = pd.DataFrame(example).head(MAX_EXAMPLE_ROWS), "dataframe"
    else:
        arr = np.asarray(example)
        arr = arr.reshape(1, -1) if arr.ndim == 1 else arr
        if arr.ndim != 2:
            raise InvalidMetadataError(f"input_example must be 2-D, got shape {arr.shape}")
        frame, kind = pd.DataFrame(arr[:MAX_EXAMPLE_ROWS], columns=[str(i) for i in range(arr.shape[1])]), "ndarray"
    rows = [[_cell(v) for v in row] for row in frame.itertuples(index=False, name=None)]
    return {
        "type": kind,
        "columns": [str(c) for c in frame.columns],
        "dtypes": [str(t) for t in frame.dtypes],
        "data": to_jsonable(rows, "input_example"),
    }


def _cell(value: Any) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (pd.Timestamp, pd.Timedelta)):
        return value.isoformat()
    return value


def decode_example(data: dict[str, Any] | None) -> Any:
    """Rebuild the stored example: a DataFrame (or a 2-D array for array examples)."""
    if not data:
        return None
    frame = pd.DataFrame(data["data"], columns=data["columns"])
    for column, dtype in zip(data["columns"], data["dtypes"], strict=True):
        # keep the JSON type when the dtype can't be restored: the example informs, it is not authoritative
        with contextlib.suppress(TypeError, ValueError):
            frame[column] = frame[column].astype(dtype)
    if data.get("type") == "ndarray":
        return frame.to_numpy()
    return frame


# -- meta.json I/O --------------------------------------------------------------------------


def read_meta(layout: _Layout, name: str, version: int) -> dict[str, Any]:
    """Read and sanity-check ``meta.json`` of one version (FileNotFoundError if absent)."""
    path = layout.meta_file(name, version)
    meta = files.read_json(path)
    if not isinstance(meta, dict):
        raise CorruptRegistryError(f"{path} does not hold a JSON object", name=name, version=version, path=str(path))
    check_format(meta.get("format"), path)
    if meta.get("name") != name or meta.get("version") != version:
        raise CorruptRegistryError(
            f"{path} describes {meta.get('name')}/{meta.get('version')}, not {name}/{version}",
            name=name,
            version=version,
            path=str(path),
        )
    return meta


def validate_meta(meta: dict[str, Any]) -> None:
    """Check every field readers rely on; :class:`CorruptRegistryError` names the first bad one.

    Used on records that come from outside this process's own writes: imported bundles and
    ``check``.  A record that passes can be summarised, listed and loaded without surprises.
    """
    where = f"meta.json of {meta.get('name')}/{meta.get('version')}"
    try:
        _validate_fields(meta)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise CorruptRegistryError(f"{where} is malformed: {exc}", name=meta.get("name")) from None


def _expect(condition: bool, what: str) -> None:
    if not condition:
        raise ValueError(what)


def _validate_fields(meta: dict[str, Any]) -> None:
    _expect(isinstance(meta.get("run_id"), str) and isinstance(meta.get("created_at"), str), "run_id/created_at")
    _expect(isinstance(meta.get("flavor"), str), "flavor must be a string")
    model = meta["model"]
    _expect(isinstance(model, dict), "model must be an object")
    _expect(isinstance(model.get("format"), str) and isinstance(model.get("class"), str), "model.format/class")
    _expect(isinstance(model.get("uses_pickle"), bool), "model.uses_pickle must be true or false")
    _expect(isinstance(model.get("options") or {}, dict), "model.options must be an object")
    _expect(isinstance(meta.get("files"), dict), "files must be an object")
    for field_name in ("params", "environment"):
        _expect(isinstance(meta.get(field_name) or {}, dict), f"{field_name} must be an object")
    to_jsonable(meta.get("params") or {}, "params")
    check_metrics(meta.get("metrics") or {})
    for key, value in (meta.get("tags") or {}).items():
        _expect(isinstance(key, str) and isinstance(value, str), "tags must map strings to strings")
    _expect(isinstance(meta.get("description") or "", str), "description must be a string")
    _expect(isinstance(meta.get("aliases") or {}, dict), "aliases must be an object")
    _expect(isinstance(meta.get("stage_history") or [], list), "stage_history must be a list")
    _expect(isinstance((meta.get("environment") or {}).get("packages") or {}, dict), "environment.packages")
    if meta.get("signature"):
        Signature.from_dict(meta["signature"])
    if meta.get("input_example"):
        decode_example(meta["input_example"])


def new_meta(**fields: Any) -> dict[str, Any]:
    """A fresh meta record with every state field present."""
    meta: dict[str, Any] = {
        "format": FORMAT_VERSION,
        "stage": None,
        "stage_history": [],
        "aliases": {},
        "tags": {},
        "description": "",
        "source": None,
    }
    meta.update(fields)
    return meta


# -- derived views ---------------------------------------------------------------------------


def total_size(meta: dict[str, Any]) -> int:
    return sum(int(f.get("size", 0)) for f in (meta.get("files") or {}).values())


def stage_changed_at(meta: dict[str, Any]) -> str:
    history = meta.get("stage_history") or []
    return str(history[-1]["at"]) if history else str(meta.get("created_at", ""))


def summary(meta: dict[str, Any]) -> dict[str, Any]:
    """The index entry of a version: what listing and stage resolution need."""
    return {
        "version": meta["version"],
        "run_id": meta["run_id"],
        "created_at": meta["created_at"],
        "stage": meta.get("stage"),
        "stage_changed_at": stage_changed_at(meta),
        "aliases": dict(meta.get("aliases") or {}),
        "tags": dict(meta.get("tags") or {}),
        "description": meta.get("description") or "",
        "flavor": meta.get("flavor"),
        "model_class": (meta.get("model") or {}).get("class"),
        "size": total_size(meta),
        "metrics": dict(meta.get("metrics") or {}),
        "has_preprocessor": meta.get("preprocessor") is not None,
    }


def version_view(name: str, entry: dict[str, Any]) -> dict[str, Any]:
    """Turn an index entry (a dict the caller owns, freshly read) into the public dict
    for one version in listings, in place: listings of 10,000 versions must stay fast."""
    entry["name"] = name
    entry["aliases"] = sorted(entry.get("aliases") or ())
    entry["uri"] = f"models:/{name}/{entry['version']}"
    entry.pop("stage_changed_at", None)
    return entry


def version_info(meta: dict[str, Any]) -> dict[str, Any]:
    """Everything about a version except the model and preprocessor objects."""
    name, version = meta["name"], meta["version"]
    signature = meta.get("signature")
    return {
        "name": name,
        "version": version,
        "uri": f"models:/{name}/{version}",
        "run_id": meta["run_id"],
        "created_at": meta["created_at"],
        "stage": meta.get("stage"),
        "stage_history": list(meta.get("stage_history") or []),
        "aliases": sorted(meta.get("aliases") or {}),
        "description": meta.get("description") or "",
        "flavor": meta.get("flavor"),
        "model_class": (meta.get("model") or {}).get("class"),
        "model_format": (meta.get("model") or {}).get("format"),
        "metadata": {
            "params": dict(meta.get("params") or {}),
            "metrics": dict(meta.get("metrics") or {}),
            "tags": dict(meta.get("tags") or {}),
        },
        "signature": Signature.from_dict(signature) if signature else None,
        "input_example": decode_example(meta.get("input_example")),
        "environment": dict(meta.get("environment") or {}),
        "files": {k: dict(v) for k, v in (meta.get("files") or {}).items()},
        "size": total_size(meta),
        "has_preprocessor": meta.get("preprocessor") is not None,
        "source": meta.get("source"),
    }
