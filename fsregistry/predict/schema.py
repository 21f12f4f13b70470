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
  error;
* a ``category`` column is converted to the training categorical dtype (the recorded
  categories, in their order, matched by value), so text read from a CSV or a categorical
  with the categories in another order reaches the model with the training codes; values
  that are not among the training categories become missing, as the frameworks treat
  unseen categories, and are reported.  A model's own record of its categories wins
  over the signature's (LightGBM's ``pandas_categorical``; a CatBoost categorical column
  takes any value, so it passes through).  A signature written before categories were
  recorded has none to convert to: text and categoricals pass through unchanged, as then;
* an infinite number (``inf``, ``-inf``) in a column of numbers is an error naming the
  column, with or without a schema: no framework gives a meaningful answer for one, and
  most fail deep inside (missing values, ``NaN``, are passed on as they are).

:func:`inspect` computes every finding without raising; :func:`enforce` applies them or
raises.  ``validate_input`` and ``predict`` share this one code path, so a frame that
validates is a frame that predict accepts.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any, TypedDict

import numpy as np
import pandas as pd

from ..errors import PredictorError, SchemaError
from ..records.signature import ColumnSpec, Signature, dtype_kind, plain

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
            "columns": [c.to_dict() for c in self.columns],
            "input_type": self.input_type,
            "source": self.source,
        }


def schema_from(
    signature: Signature | None,
    feature_names: Sequence[str] | None,
    order: Sequence[str] | None = None,
    categories: Mapping[str, Sequence[Any] | None] | None = None,
) -> InputSchema | None:
    """The schema to enforce: the signature's columns, else names only, else ``None``.

    ``order`` is the column order the model (or its preprocessor) was fitted with, when it
    records one.  A signature that names the same columns in another order (inferred from
    an input example whose columns were shuffled, say) is put in that order: models that
    read columns by position would otherwise predict from the wrong ones.

    ``categories`` are those the model itself records for its categorical columns, which
    win over the signature's as its order does (an input example may have held only some
    of them): a list is the model's categories, ``None`` a model that takes any value
    (CatBoost), whose column then passes through unchanged, never made missing.
    """
    if signature is not None and signature.inputs:
        columns = tuple(signature.inputs)
        if signature.input_type == "dataframe" and order is not None:
            columns = _in_order(columns, order)
        if categories:
            columns = tuple(_with_categories(c, categories) for c in columns)
        return InputSchema(columns, signature.input_type, "signature")
    if feature_names:
        specs = tuple(ColumnSpec(name=str(n), dtype=UNKNOWN, kind=UNKNOWN) for n in feature_names)
        return InputSchema(specs, "dataframe", "feature_names")
    return None


def _with_categories(spec: ColumnSpec, categories: Mapping[str, Sequence[Any] | None]) -> ColumnSpec:
    # a signature that records no categories keeps passing its columns through unchanged
    if spec.kind != "category" or spec.categories is None or spec.name not in categories:
        return spec
    recorded = categories[spec.name]
    return replace(spec, categories=None if recorded is None else tuple(recorded))


def _in_order(columns: tuple[ColumnSpec, ...], order: Sequence[str]) -> tuple[ColumnSpec, ...]:
    """``columns`` in ``order`` when that names exactly the same columns, each once."""
    by_name = {c.name: c for c in columns}
    if len(by_name) != len(columns) or len(set(order)) != len(order) or set(order) != set(by_name):
        return columns
    return tuple(by_name[name] for name in order)


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
class InfiniteValues:
    """How many values of one column are infinite, and the row label of the first."""

    count: int
    first_row: Any

    def message(self, column: str) -> str:
        return (
            f"column {column!r}: {self.count} infinite value(s) (inf or -inf; the first in row "
            f"{self.first_row!r}); replace them with NaN (a missing value) or a finite number"
        )


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
    #: category columns holding values not among the training categories -> a few of them
    unseen: dict[str, list[Any]] = field(default_factory=dict)
    #: columns of numbers holding infinite values -> what and where they are
    infinite: dict[str, InfiniteValues] = field(default_factory=dict)
    #: category columns already converted to the training dtype (converted once, used by enforce)
    converted: dict[str, pd.Series] = field(default_factory=dict, repr=False, compare=False)

    @property
    def valid(self) -> bool:
        return not (self.missing or self.duplicates or self.dtype_errors or self.problems or self.infinite)

    def messages(self) -> list[str]:
        """Human-readable lines, one per blocking problem."""
        out = list(self.problems)
        if self.duplicates:
            out.append(f"duplicate column names: {self.duplicates}")
        if self.missing:
            out.append(f"missing required columns: {self.missing}")
        out.extend(p.message() for p in self.dtype_errors)
        out.extend(found.message(column) for column, found in self.infinite.items())
        return out

    def to_dict(self) -> ValidationReport:
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
            "unseen_categories": {k: list(v) for k, v in self.unseen.items()},
            "infinite_values": {k: v.count for k, v in self.infinite.items()},
        }


class _Findings(TypedDict):
    valid: bool
    n_rows: int
    missing_features: list[str]
    extra_features: list[str]
    duplicate_features: list[str]
    dtype_errors: list[dict[str, Any]]
    coercions: list[dict[str, Any]]
    errors: list[str]
    unseen_categories: dict[str, list[Any]]
    infinite_values: dict[str, int]


class ValidationReport(_Findings, total=False):
    """What ``validate_input`` returns (a plain dict, typed for checkers and editors);
    the predictor adds ``schema_source``."""

    schema_source: str | None


# -- input conversion -------------------------------------------------------------------


#: what ``predict`` accepts, for error messages
ACCEPTED = (
    "a DataFrame, a 2-D numpy array or nested list of rows, a dict of columns, a dict of scalars "
    "(one row), a list of row dicts, a Series (one row), or a table with named columns that has "
    "to_pandas() (a pyarrow Table, a polars DataFrame)"
)


def as_table(X: Any, schema: InputSchema | None) -> pd.DataFrame | np.ndarray:
    """Turn any accepted input into a DataFrame (or, with no schema, leave arrays alone).

    Accepted: DataFrame, Series (one row), dict of columns or of scalars (one row), list
    of row dicts, 2-D numpy array or nested list, and another library's table with named
    columns (anything with ``to_pandas()`` that gives a DataFrame: a pyarrow Table, a
    polars DataFrame), read by its column names, never by position.  An array gets the
    training column names when its width matches the schema; nested lists are built
    column by column, so each column keeps its own type (``["BOS", 1, 1500.0, True]``).
    """
    if isinstance(X, pd.DataFrame):
        return _non_empty(X)
    if isinstance(X, pd.Series):
        return _non_empty(_row(X, schema))
    if not isinstance(X, np.ndarray) and callable(getattr(X, "to_pandas", None)):
        return _non_empty(_foreign_table(X))
    if isinstance(X, dict):
        return _non_empty(_frame_from_dict(X))
    if isinstance(X, list) and X and all(isinstance(r, dict) for r in X):
        return _non_empty(pd.DataFrame(X))
    if _is_rows(X):
        return _rows(X, schema)
    return _named_array(_two_d(X), schema)


def _row(series: pd.Series, schema: InputSchema | None) -> pd.DataFrame:
    """A one-row frame from a Series.  ``frame.iloc[0]`` of a frame with integer or
    boolean columns beside float ones is a float Series (pandas gives a row one dtype), so
    a column the model takes as integers or booleans gets them back when every value is
    one exactly; anything else is left for the schema check to judge."""
    frame = series.to_frame().T.infer_objects()
    if schema is None or series.dtype == object:
        return frame
    for spec in schema.columns:
        if spec.name not in frame.columns or dtype_kind(frame[spec.name].dtype) != "float":
            continue
        value = float(frame[spec.name].iloc[0])
        wanted = np.dtype(spec.dtype) if _is_numpy_dtype(spec.dtype) else None
        if wanted is None:
            continue
        if dtype_kind(wanted) == "integer" and value.is_integer() and _fits(value, wanted):
            frame[spec.name] = frame[spec.name].astype(wanted)
        elif dtype_kind(wanted) == "bool" and value in (0.0, 1.0):
            frame[spec.name] = frame[spec.name].astype(bool)
    return frame


def _fits(value: float, dtype: np.dtype[Any]) -> bool:
    """Whether the whole number ``value`` is one ``dtype`` holds (no wrap-around)."""
    limits = np.iinfo(dtype)
    return int(limits.min) <= int(value) <= int(limits.max)


def _is_numpy_dtype(dtype: str) -> bool:
    try:
        np.dtype(dtype)
    except TypeError:
        return False
    return True


def _foreign_table(X: Any) -> pd.DataFrame:
    """Another library's table as a DataFrame, by its own ``to_pandas()``: its column
    names come along, so the schema check reads it by name (``np.asarray`` would read it
    by position, and a table with its columns in another order would be predicted on the
    wrong features)."""
    try:
        frame = X.to_pandas()
    except Exception as exc:  # whatever that library raises
        raise PredictorError(f"cannot turn the {type(X).__name__} into a DataFrame: {exc}") from exc
    if not isinstance(frame, pd.DataFrame):
        raise PredictorError(
            f"a {type(X).__name__} gives a {type(frame).__name__}, not a table, from to_pandas(); pass {ACCEPTED}"
        )
    return frame


def _is_rows(X: Any) -> bool:
    """A non-empty list or tuple of rows, each a list or tuple."""
    return isinstance(X, (list, tuple)) and bool(X) and all(isinstance(r, (list, tuple)) for r in X)


def _rows(rows: Sequence[Sequence[Any]], schema: InputSchema | None) -> pd.DataFrame | np.ndarray:
    widths = sorted({len(r) for r in rows})
    if len(widths) > 1:
        raise PredictorError(f"rows of different lengths {widths}; every row needs one value per column")
    if widths[0] == 0:
        raise PredictorError("rows have no values; nothing to predict")
    frame = pd.DataFrame([list(r) for r in rows])
    if schema is None:
        return _two_d(frame.to_numpy() if _mixed_types(frame) else np.asarray(rows))
    _check_width(frame.shape[1], schema)
    return frame.set_axis(schema.names, axis=1)


def _mixed_types(frame: pd.DataFrame) -> bool:
    """Columns of different kinds, which one numpy array would turn into strings."""
    return len({dtype_kind(t) for t in frame.dtypes}) > 1


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
    if arr.ndim == 0:
        raise PredictorError(f"cannot predict on input of type {type(X).__name__}; pass {ACCEPTED}")
    if arr.ndim != 2:
        hint = " (use X.reshape(1, -1) for a single row)" if arr.ndim == 1 and len(arr) else ""
        raise PredictorError(
            f"expected a 2-D array (rows, features), got {type(X).__name__} of shape {arr.shape}{hint}; pass {ACCEPTED}"
        )
    if arr.shape[0] == 0:
        raise PredictorError("input has no rows; nothing to predict")
    return arr


def _named_array(arr: np.ndarray, schema: InputSchema | None) -> pd.DataFrame | np.ndarray:
    """``arr`` with the training column names; an object array's columns get their own
    types back (numbers, booleans, text), as a DataFrame of the same rows would have."""
    if schema is None:
        return arr
    _check_width(arr.shape[1], schema)
    named = pd.DataFrame(arr, columns=schema.names)
    return named.infer_objects() if arr.dtype == object else named


def _check_width(width: int, schema: InputSchema) -> None:
    if width != len(schema.columns):
        raise SchemaError(f"array has {width} columns but the model expects {len(schema.columns)}: {schema.names}")


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
        return
    if spec.kind not in ("category", "string"):  # there, a number is a label, not a value
        _note_infinite(findings, spec.name, column)
    if verdict is None:
        return
    findings.coercions.append(verdict)
    if spec.kind == "category":
        converted = findings.converted[spec.name] = as_category(column, spec)
        unseen = unseen_categories(column, converted)
        if unseen:
            findings.unseen[spec.name] = unseen


def inspect_unschematized(table: pd.DataFrame | np.ndarray) -> Findings:
    """Findings for input that no schema describes: only infinite numbers are looked for
    (columns of a bare array are named by position, ``"0"``, ``"1"``...)."""
    findings = Findings(n_rows=len(table))
    if isinstance(table, np.ndarray):
        if table.dtype.kind in "fcO":
            for position in range(table.shape[1]):
                _note_infinite(findings, str(position), pd.Series(table[:, position]))
        return findings
    for label in table.columns:
        column = table[label]
        if isinstance(column, pd.Series):  # duplicate labels give a frame; the model decides
            _note_infinite(findings, str(label), column)
    return findings


def refuse_infinite(findings: Findings) -> None:
    """Raise :class:`SchemaError` naming every column with infinite values."""
    if findings.infinite:
        raise SchemaError("input has infinite values: " + "; ".join(findings.messages()))


def _note_infinite(findings: Findings, name: str, column: pd.Series) -> None:
    infinite = _infinite_mask(column)
    if infinite is not None and infinite.any():
        first = int(np.argmax(infinite))
        findings.infinite[name] = InfiniteValues(int(infinite.sum()), plain(column.index[first]))


def _infinite_mask(column: pd.Series) -> np.ndarray | None:
    """Which values of a column of numbers are infinite; ``None`` for any other column."""
    dtype = column.dtype
    if isinstance(dtype, np.dtype) and dtype.kind in "fc":
        return np.isinf(column.to_numpy())
    if pd.api.types.is_float_dtype(dtype):  # pandas' nullable Float32/Float64
        return np.isinf(column.to_numpy(dtype="float64", na_value=np.nan))
    if _is_object(dtype) and actual_kind(column) == "float":
        numbers = pd.to_numeric(column, errors="coerce")  # Decimal("Infinity") too
        return np.isinf(np.asarray(numbers, dtype="float64"))
    return None


def _is_object(dtype: Any) -> bool:
    return isinstance(dtype, np.dtype) and dtype.kind == "O"


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


_TEXT_ONLY = "expected text labels; numbers or mixed values are not converted"


def _to_text(spec: ColumnSpec, column: pd.Series, kind: str) -> Coercion | DtypeProblem | None:
    if kind in ("string", "category", "empty"):
        return None
    return _problem(spec, column, kind, _TEXT_ONLY)


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


def _to_category(spec: ColumnSpec, column: pd.Series, kind: str) -> Coercion | DtypeProblem | None:
    if spec.categories is None:
        # a signature written before categories were recorded: text and categoricals pass
        # through unchanged, as they did then (no categories guessed per call or chunk)
        return _to_text(spec, column, kind)
    accepted = _category_sources(spec)
    if kind not in accepted:
        return _problem(spec, column, kind, _TEXT_ONLY if accepted[0] == "string" else f"expected {accepted[0]} values")
    if _is_training_dtype(spec, column):
        return None
    return Coercion(spec.name, str(column.dtype), "category")


def _category_sources(spec: ColumnSpec) -> tuple[str, ...]:
    """The kinds of column that convert to ``spec``'s categories: text for text categories,
    the categories' own kind (and categoricals of it) otherwise."""
    kind = _categories_kind(spec)
    if kind == "string":
        return ("string", "category", "empty")
    numeric = ("integer", "float") if kind == "float" else (kind,)
    return (*numeric, "category-nonstring", "empty")


def _categories_kind(spec: ColumnSpec) -> str:
    if not spec.categories:
        return "string"
    return _OBJECT_KINDS.get(pd.api.types.infer_dtype(list(spec.categories), skipna=True), "mixed")


def reads_as_text(spec: ColumnSpec) -> bool:
    """Whether a file column for ``spec`` is read as text (never guessed to be numbers)."""
    return spec.kind == "string" or (spec.kind == "category" and _categories_kind(spec) == "string")


@lru_cache(maxsize=256)
def category_dtype(spec: ColumnSpec) -> pd.CategoricalDtype | None:
    """The training categorical dtype of a category column (``None``: not recorded); cached,
    so its categories' hash table is built once, not on every predict call."""
    if spec.categories is None:
        return None
    return pd.CategoricalDtype(pd.Index(list(spec.categories)), ordered=spec.ordered)


def _is_training_dtype(spec: ColumnSpec, column: pd.Series) -> bool:
    """Same categories in the same order: equal codes (pandas calls unordered categoricals
    with reordered categories equal, but their codes differ)."""
    target = category_dtype(spec)
    dtype = column.dtype
    if target is None or not isinstance(dtype, pd.CategoricalDtype):
        return False
    return dtype.ordered == target.ordered and list(dtype.categories) == list(target.categories)


def unseen_categories(original: pd.Series, converted: pd.Series, limit: int = 5) -> list[Any]:
    """Up to ``limit`` distinct values of ``original`` that are not among the training
    categories: missing in ``converted`` (its :func:`as_category`) but not in ``original``."""
    lost = converted.cat.codes.to_numpy() == -1
    if not lost.any():
        return []
    lost &= original.notna().to_numpy()
    if not lost.any():
        return []
    values = pd.unique(np.asarray(original.to_numpy()[lost], dtype=object))
    return [plain(v) for v in values[:limit]]


def as_category(column: pd.Series, spec: ColumnSpec) -> pd.Series:
    """``column`` as the training categorical dtype, matched by value (a categorical with
    the same categories in another order is re-coded to the training codes); values outside
    the training categories become missing."""
    target = category_dtype(spec)
    if target is None:
        return column
    if isinstance(column.dtype, pd.CategoricalDtype):
        return column.cat.set_categories(target.categories, ordered=target.ordered)
    codes = target.categories.get_indexer(pd.Index(column, copy=False))
    return pd.Series(
        pd.Categorical.from_codes(codes, dtype=target, validate=False), index=column.index, name=column.name
    )


_RULES = {
    "float": _to_float,
    "integer": _to_int,
    "bool": _to_bool,
    "string": _to_text,
    "category": _to_category,
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
        specs = {c.name: c for c in schema.columns}
        categorical = {c.column for c in findings.coercions if specs[c.column].kind == "category"}
        plain = {c.column: c.to_dtype for c in findings.coercions if c.column not in categorical}
        frame = frame.astype(plain) if plain else frame
        if categorical:
            frame = frame.assign(**{name: findings.converted[name] for name in categorical})
    return frame
