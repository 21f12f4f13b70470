"""Schema enforcement: make prediction input look like the data the model was trained on.

The predictor runs every input through this module *before* the preprocessor sees it, so
a wrong column, order or dtype is reported in fsregistry's own words (a
:class:`~fsregistry.errors.SchemaError` naming the column and both types) instead of
surfacing as an obscure failure deep inside scikit-learn or XGBoost.

The rules (also in ``docs/predictor.md``):

* the expected columns come from the version's signature, else from the preprocessor's
  ``feature_names_in`` (artifact key or fitted ``feature_names_in_``), else from the
  model's ``feature_names_in_``; with none of these, input passes through unchanged;
* duplicate column names and missing columns are errors (every offender is listed);
* extra columns are dropped and columns are put in training order;
* safe widenings are applied (bool -> int/float, int -> float, narrower -> wider of the
  same kind); anything that could change or lose values (float -> int, strings ->
  numbers, numbers -> strings, missing values in an integer or bool column...) is an
  error.

:func:`inspect` computes every finding without raising; :func:`enforce` applies them or
raises.  ``validate_input`` and ``predict`` share this one code path, so a frame that
validates is a frame that predict accepts.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .errors import PredictorError, SchemaError
from .signature import ColumnSpec, Signature, dtype_kind

#: kind recorded for a column whose training dtype is unknown (names-only schemas)
UNKNOWN = "unknown"

# what pandas' infer_dtype says about an object column -> the kind it behaves as
_OBJECT_KINDS = {
    "string": "string",
    "integer": "integer",
    "floating": "float",
    "mixed-integer-float": "float",
    "decimal": "float",
    "boolean": "bool",
    "empty": "empty",
    "datetime": "datetime",
    "datetime64": "datetime",
}


@dataclass(frozen=True)
class InputSchema:
    """The columns a model expects, in training order, and where that knowledge came from.

    ``input_type`` is ``"ndarray"`` when the model was trained on a bare array (the
    enforced frame is then handed on as an array); ``source`` is ``"signature"`` or
    ``"feature_names"``.
    """

    columns: tuple[ColumnSpec, ...]
    input_type: str = "dataframe"
    source: str = "signature"

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def to_dict(self) -> dict[str, Any]:
        return {
            "columns": [{"name": c.name, "dtype": c.dtype, "kind": c.kind} for c in self.columns],
            "input_type": self.input_type,
            "source": self.source,
        }


def schema_from(signature: Signature | None, feature_names: Sequence[str] | None) -> InputSchema | None:
    """The schema to enforce: the signature's columns, else names only, else ``None``."""
    if signature is not None and signature.inputs:
        return InputSchema(tuple(signature.inputs), signature.input_type, "signature")
    if feature_names:
        specs = tuple(ColumnSpec(name=str(n), dtype=UNKNOWN, kind=UNKNOWN) for n in feature_names)
        return InputSchema(specs, "dataframe", "feature_names")
    return None


# -- findings ---------------------------------------------------------------------------


@dataclass(frozen=True)
class DtypeProblem:
    """One column whose dtype cannot safely become the training dtype."""

    column: str
    expected: str
    actual: str
    reason: str

    def message(self) -> str:
        return f"column {self.column!r}: expected {self.expected}, got {self.actual} ({self.reason})"


@dataclass(frozen=True)
class Coercion:
    """One column that will be safely converted before prediction."""

    column: str
    from_dtype: str
    to_dtype: str


@dataclass
class Findings:
    """Everything schema checking found about one input; ``valid`` when nothing blocks it."""

    n_rows: int = 0
    missing: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    dtype_errors: list[DtypeProblem] = field(default_factory=list)
    coercions: list[Coercion] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not (self.missing or self.duplicates or self.dtype_errors or self.problems)

    def messages(self) -> list[str]:
        """Human-readable lines, one per blocking problem."""
        out = list(self.problems)
        if self.duplicates:
            out.append(f"duplicate column names: {self.duplicates}")
        if self.missing:
            out.append(f"missing required columns: {self.missing}")
        out.extend(p.message() for p in self.dtype_errors)
        return out

    def to_dict(self) -> dict[str, Any]:
        """The ``validate_input`` report."""
        return {
            "valid": self.valid,
            "n_rows": self.n_rows,
            "missing_features": list(self.missing),
            "extra_features": list(self.extra),
            "duplicate_features": list(self.duplicates),
            "dtype_errors": [vars(p).copy() for p in self.dtype_errors],
            "coercions": [{"column": c.column, "from": c.from_dtype, "to": c.to_dtype} for c in self.coercions],
            "errors": self.messages(),
        }


# -- input conversion -------------------------------------------------------------------


def as_table(X: Any, schema: InputSchema | None) -> pd.DataFrame | np.ndarray:
    """Turn any accepted input into a DataFrame (or, with no schema, leave arrays alone).

    Accepted: DataFrame, Series (one row), dict of columns or of scalars (one row), list
    of row dicts, 2-D numpy array or nested list.  An array gets the training column
    names when its width matches the schema.
    """
    if isinstance(X, pd.DataFrame):
        return _non_empty(X)
    if isinstance(X, pd.Series):
        return _non_empty(X.to_frame().T.infer_objects())
    if isinstance(X, dict):
        return _non_empty(_frame_from_dict(X))
    if isinstance(X, list) and X and all(isinstance(r, dict) for r in X):
        return _non_empty(pd.DataFrame(X))
    return _named_array(_two_d(X), schema)


def _frame_from_dict(X: dict[Any, Any]) -> pd.DataFrame:
    if all(np.ndim(v) == 0 for v in X.values()):
        return pd.DataFrame([X])
    try:
        return pd.DataFrame(X)
    except (ValueError, TypeError) as exc:
        raise PredictorError(f"cannot build a table from the dict of columns: {exc}") from exc


def _non_empty(frame: pd.DataFrame) -> pd.DataFrame:
    if len(frame) == 0:
        raise PredictorError("input has no rows; nothing to predict")
    return frame


def _two_d(X: Any) -> np.ndarray:
    try:
        arr = np.asarray(X)
    except (ValueError, TypeError) as exc:
        raise PredictorError(f"cannot read input of type {type(X).__name__} as a table: {exc}") from exc
    if arr.ndim != 2:
        hint = " (use X.reshape(1, -1) for a single row)" if arr.ndim == 1 else ""
        raise PredictorError(f"expected a 2-D array (rows, features), got shape {arr.shape}{hint}")
    if arr.shape[0] == 0:
        raise PredictorError("input has no rows; nothing to predict")
    return arr


def _named_array(arr: np.ndarray, schema: InputSchema | None) -> pd.DataFrame | np.ndarray:
    if schema is None:
        return arr
    if arr.shape[1] != len(schema.columns):
        raise SchemaError(
            f"array has {arr.shape[1]} columns but the model expects {len(schema.columns)}: {schema.names}"
        )
    return pd.DataFrame(arr, columns=schema.names)


# -- checking ---------------------------------------------------------------------------


def inspect(frame: pd.DataFrame, schema: InputSchema) -> Findings:
    """Every problem and conversion for ``frame`` against ``schema``; never raises."""
    labels = [str(c) for c in frame.columns]
    findings = Findings(n_rows=len(frame))
    findings.duplicates = sorted(n for n, count in Counter(labels).items() if count > 1)
    present = set(labels)
    findings.missing = [n for n in schema.names if n not in present]
    wanted = set(schema.names)
    findings.extra = [n for n in dict.fromkeys(labels) if n not in wanted]
    if findings.duplicates:
        return findings
    by_label = dict(zip(labels, frame.columns, strict=True))
    for spec in schema.columns:
        if spec.name in present:
            _judge(findings, spec, frame[by_label[spec.name]])
    return findings


def _judge(findings: Findings, spec: ColumnSpec, column: pd.Series) -> None:
    verdict = column_verdict(spec, column)
    if isinstance(verdict, DtypeProblem):
        findings.dtype_errors.append(verdict)
    elif verdict is not None:
        findings.coercions.append(verdict)


def actual_kind(column: pd.Series) -> str:
    """The kind a column behaves as; object columns are classified by their values."""
    kind = dtype_kind(column.dtype)
    if kind == "category":
        return _category_kind(column)
    if kind != "object":
        return kind
    return _OBJECT_KINDS.get(pd.api.types.infer_dtype(column, skipna=True), "mixed")


def _category_kind(column: pd.Series) -> str:
    categories = column.cat.categories
    if len(categories) == 0 or pd.api.types.infer_dtype(categories, skipna=True) == "string":
        return "category"
    return "category-nonstring"


def column_verdict(spec: ColumnSpec, column: pd.Series) -> Coercion | DtypeProblem | None:
    """``None`` when the column is fine as is, a :class:`Coercion` when it will be safely
    converted, a :class:`DtypeProblem` when it cannot be used."""
    if spec.kind in (UNKNOWN, "object"):
        return None
    kind = actual_kind(column)
    rule = _RULES.get(spec.kind, _same_kind_only)
    return rule(spec, column, kind)


def _problem(spec: ColumnSpec, column: pd.Series, kind: str, reason: str) -> DtypeProblem:
    return DtypeProblem(spec.name, f"{spec.dtype} ({spec.kind})", f"{column.dtype} ({kind})", reason)


def _coerce(spec: ColumnSpec, column: pd.Series, to_dtype: str) -> Coercion | DtypeProblem | None:
    if str(column.dtype) == to_dtype:
        return None
    if column.dtype == object and not _casts(column, to_dtype):
        return _problem(spec, column, actual_kind(column), f"values do not fit {to_dtype}")
    return Coercion(spec.name, str(column.dtype), to_dtype)


def _casts(column: pd.Series, to_dtype: str) -> bool:
    """Whether an object column really converts (its values were only sampled by kind:
    a Python int beyond int64 passes as "integer" and fails here)."""
    try:
        column.astype(pd.api.types.pandas_dtype(to_dtype))
    except (ValueError, TypeError, OverflowError):
        return False
    return True


def _to_float(spec: ColumnSpec, column: pd.Series, kind: str) -> Coercion | DtypeProblem | None:
    if kind == "float":
        return _widen(spec, column)
    if kind in ("integer", "bool", "empty"):
        return _coerce(spec, column, _target(spec.dtype, "float64"))
    return _problem(spec, column, kind, "only numbers and booleans convert safely to float")


def _to_int(spec: ColumnSpec, column: pd.Series, kind: str) -> Coercion | DtypeProblem | None:
    if kind not in ("integer", "bool"):
        return _problem(spec, column, kind, _not_int_reason(column, kind))
    if not _nullable(spec.dtype) and bool(column.isna().any()):
        return _problem(spec, column, kind, "integer column with missing values")
    if kind == "integer" and _is_numpy(column) and not _widens(column.dtype, spec.dtype):
        return None  # a wider integer of the same kind is used unchanged
    return _coerce(spec, column, _target(spec.dtype, "int64"))


def _not_int_reason(column: pd.Series, kind: str) -> str:
    if kind != "float":
        return "not integers"
    if bool(column.isna().any()):
        return "integer column with missing values (NaN)"
    return "float to integer could change values; cast explicitly"


def _to_bool(spec: ColumnSpec, column: pd.Series, kind: str) -> Coercion | DtypeProblem | None:
    if kind != "bool":
        return _problem(spec, column, kind, "only booleans are accepted for a bool column")
    if not _nullable(spec.dtype) and bool(column.isna().any()):
        return _problem(spec, column, kind, "bool column with missing values")
    return _coerce(spec, column, _target(spec.dtype, "bool"))


def _to_text(spec: ColumnSpec, column: pd.Series, kind: str) -> Coercion | DtypeProblem | None:
    if kind in ("string", "category", "empty"):
        return None
    return _problem(spec, column, kind, "expected text labels; numbers or mixed values are not converted")


def _same_kind_only(spec: ColumnSpec, column: pd.Series, kind: str) -> Coercion | DtypeProblem | None:
    if kind == spec.kind:
        return None
    return _problem(spec, column, kind, f"expected {spec.kind} values")


def _widen(spec: ColumnSpec, column: pd.Series) -> Coercion | DtypeProblem | None:
    if _is_numpy(column) and not _widens(column.dtype, spec.dtype):
        return None  # same kind, already at least as wide: used unchanged
    return _coerce(spec, column, _target(spec.dtype, "float64"))


def _is_numpy(column: pd.Series) -> bool:
    return isinstance(column.dtype, np.dtype) and column.dtype != object


def _widens(actual: Any, expected: str) -> bool:
    """True when ``actual`` -> ``expected`` is a lossless widening of numpy dtypes."""
    try:
        target = np.dtype(expected)
    except TypeError:
        return False
    return bool(np.can_cast(actual, target, casting="safe")) and np.dtype(actual) != target


def _target(dtype: str, fallback: str) -> str:
    """The training dtype when numpy or pandas knows it (``float32``, ``Int64``), else ``fallback``."""
    try:
        return str(pd.api.types.pandas_dtype(dtype))
    except TypeError:
        return fallback


def _nullable(dtype: str) -> bool:
    """True for pandas' nullable dtypes (``Int64``, ``boolean``), which hold missing values."""
    try:
        resolved = pd.api.types.pandas_dtype(dtype)
    except TypeError:
        return False
    return not isinstance(resolved, np.dtype)


_RULES = {
    "float": _to_float,
    "integer": _to_int,
    "bool": _to_bool,
    "string": _to_text,
    "category": _to_text,
}


# -- enforcing --------------------------------------------------------------------------


def enforce(frame: pd.DataFrame, schema: InputSchema) -> tuple[pd.DataFrame, Findings]:
    """``frame`` restricted to the schema's columns, in training order, safely converted.

    Raises :class:`SchemaError` listing every problem at once.  The caller's frame is
    never modified.
    """
    findings = inspect(frame, schema)
    if not findings.valid:
        raise SchemaError("input does not match the model's schema: " + "; ".join(findings.messages()))
    return _apply(frame, schema, findings), findings


def _apply(frame: pd.DataFrame, schema: InputSchema, findings: Findings) -> pd.DataFrame:
    names = schema.names
    if list(frame.columns) != names:
        by_label = {str(c): c for c in frame.columns}
        frame = frame.loc[:, [by_label[n] for n in names]]
        if list(frame.columns) != names:  # non-string labels such as 0, 1: use the training names
            frame.columns = pd.Index(names)
    if findings.coercions:
        frame = frame.astype({c.column: c.to_dtype for c in findings.coercions})
    return frame
