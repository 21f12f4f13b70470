"""Model signatures: the columns (names, order, dtypes) a model was trained on, and the
kind of output it produces.

A signature is plain data stored in ``meta.json``; the predictor enforces it (see
``fsregistry.schema``).  :func:`infer_signature` builds one from training data, and
``save_model`` calls it on ``input_example`` when no signature is given.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .errors import InvalidMetadataError

#: how many distinct labels make a target "classes" rather than "values"
_MAX_CLASSES = 1000


@dataclass(frozen=True)
class ColumnSpec:
    """One input column: its name, the dtype it had in training, and that dtype's kind.

    ``kind`` is one of ``integer``, ``float``, ``bool``, ``string``, ``category``,
    ``datetime``, ``object`` and is what enforcement compares.
    """

    name: str
    dtype: str
    kind: str


@dataclass(frozen=True)
class Signature:
    """Inputs (ordered columns) and outputs of a model.

    ``input_type`` is ``"dataframe"`` or ``"ndarray"`` (numpy input gets columns named
    ``"0"``, ``"1"``, ...).  ``output`` holds ``kind`` (``"classes"``, ``"values"`` or
    ``None`` when unknown) and, for classes, the sorted ``classes`` seen in training.
    """

    inputs: tuple[ColumnSpec, ...]
    input_type: str = "dataframe"
    output: dict[str, Any] = field(default_factory=dict)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.inputs]

    def to_dict(self) -> dict[str, Any]:
        return {
            "inputs": [asdict(c) for c in self.inputs],
            "input_type": self.input_type,
            "output": dict(self.output),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Signature:
        """Rebuild from :meth:`to_dict` output; keys added by newer versions are ignored, and
        a malformed dict is an :class:`InvalidMetadataError` rather than a ``TypeError``."""
        try:
            inputs = tuple(
                ColumnSpec(name=str(c["name"]), dtype=str(c["dtype"]), kind=str(c["kind"]))
                for c in data.get("inputs", [])
            )
            output = dict(data.get("output") or {})
        except (KeyError, TypeError, AttributeError, ValueError) as exc:
            raise InvalidMetadataError(f"malformed signature {data!r}: {exc}") from exc
        return cls(inputs=inputs, input_type=str(data.get("input_type", "dataframe")), output=output)


def dtype_kind(dtype: Any) -> str:
    """Coarse kind of a numpy/pandas dtype, the unit schema enforcement reasons in."""
    if isinstance(dtype, pd.CategoricalDtype):
        return "category"
    if pd.api.types.is_bool_dtype(dtype):
        return "bool"
    if pd.api.types.is_integer_dtype(dtype):
        return "integer"
    if pd.api.types.is_float_dtype(dtype):
        return "float"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "datetime"
    if pd.api.types.is_string_dtype(dtype) and not pd.api.types.is_object_dtype(dtype):
        return "string"
    return "object"


def _frame(X: Any) -> tuple[pd.DataFrame, str]:
    if isinstance(X, pd.DataFrame):
        return X, "dataframe"
    if isinstance(X, pd.Series):
        return X.to_frame(), "dataframe"
    if isinstance(X, dict):
        return pd.DataFrame(X), "dataframe"
    if isinstance(X, list) and X and all(isinstance(r, dict) for r in X):
        return pd.DataFrame(X), "dataframe"
    arr = np.asarray(X)
    if arr.ndim == 1:
        arr = arr.reshape(-1, 1)
    if arr.ndim != 2:
        raise InvalidMetadataError(f"cannot infer a signature from an array of shape {arr.shape}; expected 2-D")
    return pd.DataFrame(arr, columns=[str(i) for i in range(arr.shape[1])]), "ndarray"


def _object_kind(series: pd.Series) -> str:
    """An object column holding only strings is a string column."""
    sample = series.dropna().head(100)
    if len(sample) and all(isinstance(v, str) for v in sample):
        return "string"
    return "object"


#: target kinds that can be class labels; floats, datetimes... are values
_CLASS_KINDS = ("integer", "bool", "string", "category", "object")


def _target(y: Any) -> pd.Series:
    """``y`` as one Series, keeping pandas dtypes (categorical, nullable, string)."""
    if isinstance(y, pd.DataFrame) and y.shape[1] == 1:
        return y.iloc[:, 0]
    if isinstance(y, pd.Series):
        return y
    if isinstance(y, (pd.Categorical, pd.api.extensions.ExtensionArray, pd.Index)):
        return pd.Series(y)
    return pd.Series(np.asarray(y).ravel())


def _output(y: Any) -> dict[str, Any]:
    if y is None:
        return {}
    values = _target(y)
    kind = dtype_kind(values.dtype)
    values_only = {"kind": "values", "dtype": str(values.dtype)}
    if kind not in _CLASS_KINDS:
        return values_only
    uniques = [_plain(v) for v in pd.unique(values.dropna())]
    if len(uniques) > _MAX_CLASSES or not all(isinstance(v, (str, int, float)) for v in uniques):
        return values_only
    return {"kind": "classes", "dtype": str(values.dtype), "classes": _sorted(uniques)}


def _sorted(labels: list[Any]) -> list[Any]:
    """Labels in their natural order; mixed types (``1`` and ``"a"``) grouped by type name."""
    try:
        return sorted(labels)
    except TypeError:
        return sorted(labels, key=lambda v: (type(v).__name__, v))


def _plain(value: Any) -> Any:
    """numpy scalars -> Python scalars, so classes can be stored as JSON."""
    return value.item() if isinstance(value, np.generic) else value


def infer_signature(X: Any, y: Any = None) -> Signature:
    """Record column names, order and dtypes of ``X`` (DataFrame, dict, rows or array),
    and the output kind of ``y`` (``classes`` with their labels, or ``values``)."""
    frame, input_type = _frame(X)
    specs = []
    for name in frame.columns:
        column = frame[name]
        if isinstance(column, pd.DataFrame):
            raise InvalidMetadataError(f"duplicate column name {name!r}; a signature needs unique columns")
        kind = dtype_kind(column.dtype)
        if kind == "object":
            kind = _object_kind(column)
        specs.append(ColumnSpec(name=str(name), dtype=str(column.dtype), kind=kind))
    return Signature(inputs=tuple(specs), input_type=input_type, output=_output(y))
