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
import sys
from pathlib import Path
from typing import Any, TypedDict, cast

from ..errors import InvalidMetadataError
from ..storage import files
from ..storage.layout import Layout as _Layout
from ..storage.layout import utcnow
from . import claims
from . import fields as record_fields
from .typed import Actor, VersionRecord
from .typed import ModelRecord as ModelRecord  # re-exported: the store builds model records

#: rows of an input example kept in meta.json
MAX_EXAMPLE_ROWS = 100


# -- JSON-safe user data ------------------------------------------------------------------


def to_jsonable(value: Any, where: str, *, depth: int = 0) -> Any:
    """Convert metadata to JSON types (numpy scalars and arrays, timestamps...) or raise
    :class:`InvalidMetadataError` naming the offending key.  Nesting deeper than
    :data:`~fsregistry.records.fields.MAX_NESTING` is refused: it could not be read back."""
    if depth > record_fields.MAX_NESTING:
        raise InvalidMetadataError(f"{where}: nested more than {record_fields.MAX_NESTING} levels deep")
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        return value
    # numpy and pandas values can only exist once those are imported: never import them here
    np, pd = sys.modules.get("numpy"), sys.modules.get("pandas")
    if np is not None and isinstance(value, np.generic):
        return value.item()
    if np is not None and isinstance(value, np.ndarray):
        return to_jsonable(value.tolist(), where, depth=depth)
    if pd is not None and isinstance(value, pd.Timestamp):
        return value.isoformat()
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise InvalidMetadataError(f"{where}: key {k!r} is not a string; metadata keys must be strings")
            out[k] = to_jsonable(v, f"{where}.{k}", depth=depth + 1)
        return out
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v, f"{where}[{i}]", depth=depth + 1) for i, v in enumerate(value)]
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
    np = sys.modules.get("numpy")
    floats: tuple[type, ...] = (float, np.floating) if np is not None else (float,)
    params: dict[str, Any] = {}
    metrics: dict[str, Any] = {}
    for key, value in clean.items():
        is_metric = isinstance(metadata[key], floats) and not isinstance(metadata[key], bool)
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
    import numpy as np
    import pandas as pd

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
    import pandas as pd

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
    import pandas as pd

    frame = pd.DataFrame(data["data"], columns=data["columns"])
    for column, dtype in zip(data["columns"], data["dtypes"], strict=True):
        # keep the JSON type when the dtype can't be restored: the example informs, it is not authoritative
        with contextlib.suppress(TypeError, ValueError):
            frame[column] = frame[column].astype(dtype)
    if data.get("type") == "ndarray":
        return frame.to_numpy()
    return frame


# -- meta.json I/O --------------------------------------------------------------------------


def read_meta(layout: _Layout, name: str, version: int) -> VersionRecord:
    """Read ``meta.json`` of one version, checked against its description (see
    :mod:`fsregistry.records.fields`): ``FileNotFoundError`` if absent,
    :class:`CorruptRegistryError` naming the file and the field if anything is wrong,
    :class:`~fsregistry.errors.FormatVersionError` if a newer format wrote it."""
    path = layout.meta_file(name, version)
    raw = record_fields.read_checked(
        path, lambda raw: record_fields.parse_meta(raw, path, name=name, version=version), "meta", shared=True
    )  # shared: VersionRecord.from_json copies what a writer may change
    return VersionRecord.from_json(raw)


def parse_meta(raw: Any, where: str | Path, *, name: str | None = None, version: int | None = None) -> VersionRecord:
    """A ``meta.json`` read from anywhere (object storage, a bundle), checked against the
    same description as :func:`read_meta`, as a :class:`VersionRecord`."""
    return VersionRecord.from_json(record_fields.parse_meta(raw, where, name=name, version=version))


def salvaged_meta(layout: _Layout, name: str, version: int) -> dict[str, Any]:
    """The well-formed fields of a version's ``meta.json`` (``{}`` when it is missing or is
    not JSON): for removing a version whose record is corrupt, which must still work."""
    return record_fields.salvage_meta(files.read_json_or_none(layout.meta_file(name, version)))


def validate_meta(meta: Any) -> VersionRecord:
    """Check a ``meta.json`` that did not come from a file of this registry (an imported
    bundle's) against the same description as :func:`read_meta`."""
    where = f"meta.json of {meta.get('name')}/{meta.get('version')}" if isinstance(meta, dict) else "meta.json"
    return parse_meta(meta, where)


def check_new(meta: VersionRecord) -> None:
    """Refuse, with :class:`InvalidMetadataError` naming the field, a new version's record
    that readers would refuse (a signature given as a dict with a value the description
    rejects; an imported record grown too deep): checked once, before anything is
    published, so a save never writes a record it cannot read back."""
    raw = meta.to_json()
    raw["version"] = raw["version"] or 1  # the number is allocated by the publish
    problem = record_fields.meta_problem(raw)
    if problem is not None:
        field, why = problem
        raise InvalidMetadataError(f"{field} {why}; {meta.name} was not saved", name=meta.name)


def describe(
    name: str,
    *,
    signature: Any,
    input_example: Any,
    metadata: dict[str, Any] | None,
    tags: dict[str, str],
    params: dict[str, Any] | None,
    metrics: dict[str, Any] | None,
    description: str | None,
) -> VersionRecord:
    """A new version's record from what a caller gave ``save_model``, every part checked
    (no I/O): the one place a ``meta.json`` is built.  The payload's fields (``flavor``,
    ``model``, ``files``, ``environment``) and the version number are added by the payload
    writer and the store."""
    import uuid  # here, not at the top: only a save needs it

    split_params, split_metrics = split_metadata(metadata)
    split_params.update(to_jsonable(params or {}, "params"))
    split_metrics.update(check_metrics(metrics))
    if description is not None and not isinstance(description, str):
        raise InvalidMetadataError("description must be a string")
    return VersionRecord(
        name=name,
        run_id=uuid.uuid4().hex,
        created_at=utcnow(),
        params=split_params,
        metrics=split_metrics,
        tags=dict(tags),
        description=description or "",
        signature=_signature_dict(signature, input_example),
        input_example=encode_example(input_example),
        created_by=cast(Actor, claims.actor()),
    )


def _signature_dict(signature: Any, input_example: Any) -> dict[str, Any] | None:
    from .signature import Signature, infer_signature  # pandas: only when a signature is given

    if signature is None:
        return infer_signature(input_example).to_dict() if input_example is not None else None
    if isinstance(signature, Signature):
        return signature.to_dict()
    if isinstance(signature, dict):
        return Signature.from_dict(signature).to_dict()
    raise InvalidMetadataError(
        f"signature must be a fsregistry Signature (see infer_signature) or its dict, got {type(signature).__name__}"
    )


# -- derived views ---------------------------------------------------------------------------


def summary(meta: VersionRecord) -> dict[str, Any]:
    """The index entry of a version: what listing and stage resolution need."""
    entry: dict[str, Any] = {
        "version": meta.version,
        "run_id": meta.run_id,
        "created_at": meta.created_at,
        "stage": meta.stage,
        "stage_changed_at": meta.stage_changed_at,
        "aliases": dict(meta.aliases),
        "tags": dict(meta.tags),
        "description": meta.description,
        "flavor": meta.flavor or None,
        "model_class": meta.model_class,
        "size": meta.size,
        "metrics": dict(meta.metrics),
        "has_preprocessor": meta.has_preprocessor,
    }
    # the order of its claims (fsregistry.records.claims), kept only where there is one
    if meta.stage_seq:
        entry["stage_seq"] = meta.stage_seq
    if meta.alias_seq:
        entry["alias_seq"] = dict(meta.alias_seq)
    return entry


def version_view(name: str, entry: dict[str, Any]) -> dict[str, Any]:
    """Turn an index entry (a dict the caller owns, freshly read) into the public dict
    for one version in listings, in place: listings of 10,000 versions must stay fast."""
    entry["name"] = name
    entry["aliases"] = sorted(entry.get("aliases") or ())
    entry["uri"] = f"models:/{name}/{entry['version']}"
    entry.pop("stage_changed_at", None)
    entry.pop("stage_seq", None)
    entry.pop("alias_seq", None)
    return entry


class VersionMetadata(TypedDict):
    """The seed's ``metadata``: params, metrics (floats) and tags (text)."""

    params: dict[str, Any]
    metrics: dict[str, Any]
    tags: dict[str, str]


class VersionInfo(TypedDict):
    """What :meth:`~fsregistry.registry.CustomModelRegistry.get_model_version` returns (a
    plain dict, typed for checkers and editors)."""

    name: str
    version: int
    uri: str
    run_id: str
    created_at: str
    stage: str | None
    stage_history: list[dict[str, Any]]
    alias_history: list[dict[str, Any]]
    created_by: dict[str, Any] | None
    aliases: list[str]
    description: str
    flavor: str | None
    model_class: str | None
    model_format: str | None
    metadata: VersionMetadata
    signature: Any
    input_example: Any
    environment: dict[str, Any]
    files: dict[str, dict[str, Any]]
    size: int
    has_preprocessor: bool
    source: dict[str, Any] | None


class LoadedVersion(VersionInfo):
    """What :meth:`~fsregistry.registry.CustomModelRegistry.load_model` returns: the
    version's info plus the model and its preprocessor artifact (the seed's dict)."""

    model: Any
    preprocessor_artifact: Any


def version_info(meta: VersionRecord) -> VersionInfo:
    """Everything about a version except the model and preprocessor objects, in values of
    the caller's own: ``meta`` may share its nested values with the record cache, so those
    are copied in full (a caller changing what it got changes nothing else)."""
    copy = files.copy_json
    name, version = meta.name, meta.version
    return {
        "name": name,
        "version": version,
        "uri": f"models:/{name}/{version}",
        "run_id": meta.run_id,
        "created_at": meta.created_at,
        "stage": meta.stage,
        "stage_history": copy(meta.stage_history),
        "alias_history": copy(meta.alias_history),
        "created_by": copy(meta.created_by),
        "aliases": sorted(meta.aliases),
        "description": meta.description,
        "flavor": meta.flavor or None,
        "model_class": meta.model_class,
        "model_format": meta.model_format,
        "metadata": {"params": copy(meta.params), "metrics": dict(meta.metrics), "tags": dict(meta.tags)},
        "signature": _signature(copy(meta.signature)),
        "input_example": decode_example(meta.input_example),
        "environment": copy(meta.environment),
        "files": {k: dict(v) for k, v in meta.files.items()},
        "size": meta.size,
        "has_preprocessor": meta.has_preprocessor,
        "source": copy(meta.source),
    }


def _signature(data: dict[str, Any] | None) -> Any:
    """The stored signature as a :class:`~fsregistry.records.signature.Signature` (imports
    pandas, so only for a version that has one)."""
    if not data:
        return None
    from .signature import Signature

    return Signature.from_dict(data)
