"""Model signatures: the columns (names, order, dtypes) a model was trained on, and the
kind of output it produces.

A signature is plain data stored in ``meta.json``; the predictor enforces it (see
``fsregistry.predict.schema``).  :func:`infer_signature` builds one from training data, and
``save_model`` calls it on ``input_example`` when no signature is given.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InvalidMetadataError

#: how many distinct labels make a target "classes" rather than "values"
_MAX_CLASSES = 1000
#: categorical columns with more categories than this do not record them (meta.json stays small)
_MAX_CATEGORIES = 100_000


@dataclass(frozen=True)
class ColumnSpec:
    """One input column: its name, the dtype it had in training, and that dtype's kind.

    ``kind`` is one of ``integer``, ``float``, ``bool``, ``string``, ``category``,
    ``datetime``, ``object`` and is what enforcement compares.  A ``category`` column
    also records its training ``categories`` (in order: the codes index them) and
    whether they are ``ordered``; both are optional, and signatures written before they
    existed have neither.
    """

    name: str
    dtype: str
    kind: str
    categories: tuple[Any, ...] | None = None
    ordered: bool = False

    def to_dict(self) -> dict[str, Any]:
        """The JSON form; the optional category fields appear only when set."""
        data: dict[str, Any] = {"name": self.name, "dtype": self.dtype, "kind": self.kind}
        if self.categories is not None:
            data["categories"] = list(self.categories)
        if self.ordered:
            data["ordered"] = True
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ColumnSpec:
        categories = data.get("categories")
        return cls(
            name=str(data["name"]),
            dtype=str(data["dtype"]),
            kind=str(data["kind"]),
            categories=tuple(categories) if categories is not None else None,
            ordered=bool(data.get("ordered", False)),
        )


@dataclass(frozen=True)
class Signature:
    """Inputs (ordered columns) and outputs of a model.

    ``input_type`` is ``"dataframe"`` or ``"ndarray"`` (numpy input gets columns named
    ``"0"``, ``"1"``, ...).  ``output`` holds ``kind`` (``"classes"``, ``"values"`` or
    ``None`` when unknown) and, for classes, the ``classes`` in encoding order (the label
    of class index 0 first) and ``class_order``: ``"sorted"`` (the labels' sorted order,
    which is scikit-learn's ``LabelEncoder`` order) or ``"categories"`` (a pandas
    Categorical's categories, whose codes are the encoding).  Signatures written before
    ``class_order`` existed have sorted classes.
    """

    inputs: tuple[ColumnSpec, ...]
    input_type: str = "dataframe"
    output: dict[str, Any] = field(default_factory=dict)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.inputs]

    def to_dict(self) -> dict[str, Any]:
        return {
            "inputs": [c.to_dict() for c in self.inputs],
            "input_type": self.input_type,
            "output": dict(self.output),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Signature:
        """Rebuild from :meth:`to_dict` output; keys added by newer versions are ignored, and
        a malformed dict is an :class:`InvalidMetadataError` rather than a ``TypeError``."""
        try:
            inputs = tuple(ColumnSpec.from_dict(c) for c in data.get("inputs", []))
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
    if isinstance(values.dtype, pd.CategoricalDtype):
        labels, order = [plain(v) for v in values.cat.categories], "categories"
    else:
        labels, order = _sorted([plain(v) for v in pd.unique(values.dropna())]), "sorted"
    if len(labels) > _MAX_CLASSES or not _storable(labels):
        return values_only
    return {"kind": "classes", "dtype": str(values.dtype), "classes": labels, "class_order": order}


def _sorted(labels: list[Any]) -> list[Any]:
    """Labels in their natural order; mixed types (``1`` and ``"a"``) grouped by type name."""
    try:
        return sorted(labels)
    except TypeError:
        return sorted(labels, key=lambda v: (type(v).__name__, v))


def _storable(values: list[Any]) -> bool:
    """Whether labels or categories can be stored in strict JSON (no NaN or infinity)."""
    return all(isinstance(v, (str, int)) or (isinstance(v, float) and math.isfinite(v)) for v in values)


def plain(value: Any) -> Any:
    """numpy scalars -> Python scalars, so classes can be stored as JSON and compared."""
    return value.item() if isinstance(value, np.generic) else value


def _categories(column: pd.Series) -> dict[str, Any]:
    """The training categories of a categorical column, when they can be stored as JSON."""
    if not isinstance(column.dtype, pd.CategoricalDtype):
        return {}
    categories = [plain(v) for v in column.cat.categories]
    if len(categories) > _MAX_CATEGORIES or not _storable(categories):
        return {}
    return {"categories": tuple(categories), "ordered": bool(column.cat.ordered)}


def _check_lengths(frame: pd.DataFrame, y: Any) -> None:
    if y is None:
        return
    try:
        n = len(y)
    except TypeError as exc:
        raise InvalidMetadataError(f"y must be a sequence of targets, got a {type(y).__name__}") from exc
    if n != len(frame):
        raise InvalidMetadataError(f"y has {n} rows but X has {len(frame)}; they must describe the same rows")


def infer_signature(X: Any, y: Any = None) -> Signature:
    """Record column names, order and dtypes of ``X`` (DataFrame, dict, rows or array),
    the training categories of its categorical columns, and the output kind of ``y``
    (``classes`` with their labels, or ``values``); ``y`` must have one target per row.

    Class labels are recorded in *encoding order*, the order in which a model trained on
    encoded targets numbers them (class index ``i`` is ``classes[i]``):

    * a plain ``y`` (array, list, Series) gives its labels in sorted order, the order of
      scikit-learn's ``LabelEncoder`` (``["churn", "stay"]``: 0 is ``"churn"``);
    * a pandas Categorical ``y`` keeps its categories' order, because its codes are the
      encoding.  To state another encoding, pass it as one:
      ``infer_signature(X, pd.Categorical(y, categories=["stay", "churn"]))`` says that
      0 is ``"stay"`` and 1 is ``"churn"``.

    This matters only for a model trained on encoded targets (XGBoost needs ``0..k-1``);
    a model whose ``classes_`` are the labels themselves is decoded with its own.
    """
    frame, input_type = _frame(X)
    _check_lengths(frame, y)
    specs = []
    for name in frame.columns:
        column = frame[name]
        if isinstance(column, pd.DataFrame):
            raise InvalidMetadataError(f"duplicate column name {name!r}; a signature needs unique columns")
        kind = dtype_kind(column.dtype)
        if kind == "object":
            kind = _object_kind(column)
        specs.append(ColumnSpec(name=str(name), dtype=str(column.dtype), kind=kind, **_categories(column)))
    return Signature(inputs=tuple(specs), input_type=input_type, output=_output(y))
