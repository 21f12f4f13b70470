"""Schema enforcement rules (fsregistry.predict.schema), one behaviour per test."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fsregistry.errors import PredictorError, RegistryError, SchemaError
from fsregistry.predict import schema as schema_module
from fsregistry.predict.schema import InputSchema, as_table, enforce, inspect, schema_from
from fsregistry.records.signature import ColumnSpec, infer_signature

TRAIN = pd.DataFrame(
    {
        "f64": np.array([1.5, 2.5], dtype=np.float64),
        "f32": np.array([1.5, 2.5], dtype=np.float32),
        "i64": np.array([1, 2], dtype=np.int64),
        "flag": [True, False],
        "team": pd.array(["BOS", "LAL"], dtype="str"),
    }
)
SCHEMA = schema_from(infer_signature(TRAIN), None)


def frame(**overrides: object) -> pd.DataFrame:
    data = {name: TRAIN[name] for name in TRAIN.columns}
    data.update(overrides)
    return pd.DataFrame(data)


def enforced(df: pd.DataFrame) -> pd.DataFrame:
    assert SCHEMA is not None
    return enforce(df, SCHEMA)[0]


def test_matching_frame_passes_unchanged() -> None:
    out = enforced(TRAIN)
    pd.testing.assert_frame_equal(out, TRAIN)


def test_columns_are_reordered_to_training_order_and_extras_dropped() -> None:
    shuffled = TRAIN[["team", "i64", "flag", "f32", "f64"]].assign(extra=[0, 1])
    out = enforced(shuffled)
    assert list(out.columns) == list(TRAIN.columns)
    pd.testing.assert_frame_equal(out, TRAIN)


def test_missing_columns_are_all_listed() -> None:
    with pytest.raises(SchemaError) as info:
        enforced(TRAIN.drop(columns=["f64", "team"]))
    assert "'f64'" in str(info.value) and "'team'" in str(info.value)


def test_duplicate_column_names_are_an_error() -> None:
    dup = pd.concat([TRAIN, TRAIN[["i64"]]], axis=1)
    with pytest.raises(SchemaError, match=r"duplicate column names.*i64"):
        enforced(dup)


def test_schema_error_is_a_value_error_and_registry_error() -> None:
    with pytest.raises(ValueError):
        enforced(TRAIN.drop(columns=["f64"]))
    assert issubclass(SchemaError, RegistryError)


@pytest.mark.parametrize(
    ("column", "values", "dtype_after"),
    [
        ("f64", np.array([1, 2], dtype=np.int64), "float64"),  # int -> float
        ("f64", np.array([1.5, 2.5], dtype=np.float32), "float64"),  # float32 -> float64
        ("f64", [True, False], "float64"),  # bool -> float
        ("i64", np.array([1, 2], dtype=np.int32), "int64"),  # int32 -> int64
        ("i64", [True, False], "int64"),  # bool -> int
        ("i64", pd.array([1, 2], dtype="Int64"), "int64"),  # nullable int without NA
        ("f64", pd.array([1.5, None], dtype="Float64"), "float64"),  # nullable float, NA -> NaN
        ("f64", pd.Series([1, None], dtype=object), "float64"),  # object numbers, None -> NaN
        ("f32", np.array([1, 2], dtype=np.int8), "float32"),  # widen into the training float32
    ],
)
def test_safe_widenings_are_applied(column: str, values: object, dtype_after: str) -> None:
    out = enforced(frame(**{column: values}))
    assert str(out[column].dtype) == dtype_after


def test_wider_dtype_of_same_kind_is_used_unchanged() -> None:
    out = enforced(frame(f32=np.array([1.5, 2.5], dtype=np.float64)))
    assert out["f32"].dtype == np.float64


@pytest.mark.parametrize(
    ("column", "values", "reason"),
    [
        ("i64", np.array([1.0, 2.0]), "float to integer"),
        ("i64", np.array([1.0, np.nan]), "missing values"),
        ("i64", pd.array([1, None], dtype="Int64"), "missing values"),
        ("i64", ["1", "2"], "not integers"),
        ("i64", pd.Series([2**70, 1], dtype=object), "do not fit int64"),
        ("f64", ["1.5", "2.5"], "convert safely to float"),
        ("f64", pd.Series([1.5, "x"], dtype=object), "convert safely to float"),
        ("f64", pd.to_datetime(["2020-01-01", "2020-01-02"]), "convert safely to float"),
        ("flag", np.array([1, 0]), "only booleans"),
        ("flag", pd.array([True, None], dtype="boolean"), "missing values"),
        ("team", np.array([1, 2]), "text labels"),
        ("team", pd.Series(["BOS", 3], dtype=object), "text labels"),
    ],
)
def test_unsafe_conversions_name_the_column_and_both_types(column: str, values: object, reason: str) -> None:
    df = frame(**{column: values})
    with pytest.raises(SchemaError) as info:
        enforced(df)
    message = str(info.value)
    assert repr(column) in message and reason in message
    assert str(df[column].dtype) in message
    expected = next(c for c in SCHEMA.columns if c.name == column)  # type: ignore[union-attr]
    assert expected.dtype in message


def test_text_column_accepts_object_strings_and_categories() -> None:
    for values in (pd.Series(["BOS", None], dtype=object), pd.Categorical(["BOS", "LAL"])):
        out = enforced(frame(team=values))
        assert len(out) == 2


def test_all_missing_values_are_allowed_in_float_and_text_columns() -> None:
    out = enforced(frame(f64=[None, None], team=pd.Series([None, None], dtype=object)))
    assert out["f64"].isna().all()


def test_every_problem_is_reported_at_once() -> None:
    df = frame(i64=np.array([1.5, 2.0]), team=np.array([1, 2])).drop(columns=["f64"])
    assert SCHEMA is not None
    findings = inspect(df, SCHEMA)
    assert findings.missing == ["f64"]
    assert [p.column for p in findings.dtype_errors] == ["i64", "team"]
    assert len(findings.messages()) == 3


def test_the_callers_frame_is_never_modified() -> None:
    df = frame(f64=np.array([1, 2], dtype=np.int64))[["team", "f64", "f32", "i64", "flag"]]
    before = df.copy()
    enforced(df)
    pd.testing.assert_frame_equal(df, before)


def test_names_only_schema_checks_columns_but_not_dtypes() -> None:
    schema = schema_from(None, ["a", "b"])
    assert schema is not None and schema.source == "feature_names"
    out = enforce(pd.DataFrame({"b": ["x"], "a": [1], "c": [0]}), schema)[0]
    assert list(out.columns) == ["a", "b"]
    with pytest.raises(SchemaError, match="'b'"):
        enforce(pd.DataFrame({"a": [1]}), schema)


def test_no_signature_and_no_names_means_no_schema() -> None:
    assert schema_from(None, None) is None
    assert schema_from(None, []) is None


def test_signature_wins_over_feature_names() -> None:
    schema = schema_from(infer_signature(TRAIN[["i64"]]), ["other"])
    assert schema is not None and schema.names == ["i64"]


class TestAsTable:
    def test_array_gets_training_names_when_width_matches(self) -> None:
        schema = schema_from(None, ["a", "b"])
        table = as_table(np.ones((3, 2)), schema)
        assert isinstance(table, pd.DataFrame) and list(table.columns) == ["a", "b"]

    def test_array_of_wrong_width_is_a_schema_error(self) -> None:
        with pytest.raises(SchemaError, match="3 columns but the model expects 2"):
            as_table(np.ones((1, 3)), schema_from(None, ["a", "b"]))

    @pytest.mark.parametrize("shape", [(3,), (2, 2, 2), ()])
    def test_arrays_that_are_not_2d_are_a_predictor_error(self, shape: tuple[int, ...]) -> None:
        with pytest.raises(PredictorError, match="2-D"):
            as_table(np.ones(shape), None)

    @pytest.mark.parametrize("empty", [pd.DataFrame({"a": []}), np.ones((0, 2)), {"a": []}])
    def test_empty_input_is_a_predictor_error(self, empty: object) -> None:
        with pytest.raises(PredictorError, match="no rows"):
            as_table(empty, None)

    def test_dict_of_scalars_is_one_row(self) -> None:
        table = as_table({"a": 1, "b": "x"}, None)
        assert isinstance(table, pd.DataFrame) and table.shape == (1, 2)

    def test_list_of_row_dicts(self) -> None:
        table = as_table([{"a": 1}, {"a": 2}], None)
        assert isinstance(table, pd.DataFrame) and table["a"].tolist() == [1, 2]

    def test_series_is_one_row(self) -> None:
        table = as_table(pd.Series({"a": 1.0, "b": 2.0}), None)
        assert isinstance(table, pd.DataFrame) and list(table.columns) == ["a", "b"] and len(table) == 1

    def test_ragged_dict_is_a_predictor_error(self) -> None:
        with pytest.raises(PredictorError):
            as_table({"a": [1, 2], "b": [1]}, None)

    def test_array_without_schema_is_left_alone(self) -> None:
        arr = np.ones((2, 2))
        assert as_table(arr, None) is not None
        assert isinstance(as_table(arr, None), np.ndarray)


def test_ndarray_signature_keeps_its_input_type() -> None:
    schema = schema_from(infer_signature(np.ones((2, 3))), None)
    assert isinstance(schema, InputSchema) and schema.input_type == "ndarray" and schema.names == ["0", "1", "2"]


def test_findings_report_has_the_documented_keys() -> None:
    assert SCHEMA is not None
    report = inspect(frame(f64=np.array([1, 2])), SCHEMA).to_dict()
    keys = {"valid", "n_rows", "missing_features", "extra_features", "dtype_errors", "coercions", "errors"}
    assert set(report) >= keys
    assert report["coercions"] == [{"column": "f64", "from": "int64", "to": "float64"}]


# -- categorical columns --------------------------------------------------------------------

CATEGORICAL = schema_from(
    infer_signature(pd.DataFrame({"team": pd.Categorical(["BOS", "LAL"], categories=["LAL", "BOS", "07"])})), None
)


def categorical(values: object) -> pd.DataFrame:
    assert CATEGORICAL is not None
    return enforce(pd.DataFrame({"team": values}), CATEGORICAL)[0]


def test_text_becomes_the_training_categorical_dtype() -> None:
    out = categorical(pd.array(["07", "BOS"], dtype="str"))
    assert list(out["team"].cat.categories) == ["LAL", "BOS", "07"]
    assert out["team"].cat.codes.tolist() == [2, 1]
    assert CATEGORICAL is not None
    findings = inspect(pd.DataFrame({"team": ["07"]}), CATEGORICAL)
    assert findings.valid and [(c.column, c.to_dtype) for c in findings.coercions] == [("team", "category")]


def test_a_categorical_with_other_categories_is_recoded_by_value() -> None:
    out = categorical(pd.Categorical(["07", "LAL"], categories=["07", "LAL"]))  # codes 0, 1 here
    assert out["team"].cat.codes.tolist() == [2, 0]


def test_values_outside_the_training_categories_become_missing_and_are_reported() -> None:
    assert CATEGORICAL is not None
    given = pd.DataFrame({"team": ["SEA", "BOS", None, "SEA", "NOP"]})
    before = given.copy()
    findings = inspect(given, CATEGORICAL)
    assert findings.valid and findings.unseen == {"team": ["SEA", "NOP"]}
    assert findings.to_dict()["unseen_categories"] == {"team": ["SEA", "NOP"]}
    out = enforce(given, CATEGORICAL)[0]
    assert out["team"].isna().tolist() == [True, False, True, True, True]
    pd.testing.assert_frame_equal(given, before)  # the caller's frame is untouched


def test_numbers_are_refused_for_text_categories_and_accepted_for_number_categories() -> None:
    with pytest.raises(SchemaError, match=r"'team'.*text labels"):
        categorical([1, 2])
    sizes = schema_from(infer_signature(pd.DataFrame({"size": pd.Categorical([3, 1])})), None)
    assert sizes is not None
    out = enforce(pd.DataFrame({"size": [1, 3, 5]}), sizes)[0]
    assert out["size"].cat.codes.tolist() == [0, 1, -1]


def test_an_older_signature_without_categories_passes_text_and_categoricals_through() -> None:
    spec = ColumnSpec("team", "category", "category")  # written before categories were recorded
    schema = InputSchema((spec,))
    for chunk in (["b", "a"], ["c"]):  # no categories guessed, so none differ between chunks
        given = pd.DataFrame({"team": chunk})
        out, findings = enforce(given, schema)
        pd.testing.assert_frame_equal(out, given)
        assert findings.coercions == [] and findings.unseen == {}
    as_categorical = pd.DataFrame({"team": pd.Categorical(["b", "a"], categories=["b", "a"])})
    pd.testing.assert_frame_equal(enforce(as_categorical, schema)[0], as_categorical)
    with pytest.raises(SchemaError, match="text labels"):
        enforce(pd.DataFrame({"team": [1, 2]}), schema)


def test_a_categorical_with_the_training_categories_in_another_order_gets_the_training_codes() -> None:
    training = pd.Categorical(["zeta", "alpha", "mid"], categories=["zeta", "alpha", "mid"])
    schema = schema_from(infer_signature(pd.DataFrame({"team": training})), None)
    assert schema is not None
    given = pd.Categorical(["zeta", "alpha", "mid"], categories=["alpha", "mid", "zeta"])  # pandas: equal dtypes
    out = enforce(pd.DataFrame({"team": given}), schema)[0]
    assert out["team"].cat.codes.tolist() == training.codes.tolist() == [0, 1, 2]
    assert list(out["team"].cat.categories) == ["zeta", "alpha", "mid"]
    ordered = schema_from(infer_signature(pd.DataFrame({"team": training.as_ordered()})), None)
    assert ordered is not None
    out = enforce(pd.DataFrame({"team": given}), ordered)[0]
    assert out["team"].cat.ordered and out["team"].cat.codes.tolist() == [0, 1, 2]


def test_a_category_column_is_converted_once_per_call(monkeypatch: pytest.MonkeyPatch) -> None:
    assert CATEGORICAL is not None
    calls = []
    original = schema_module.as_category

    def counting(column: pd.Series, spec: ColumnSpec) -> pd.Series:
        calls.append(spec.name)
        return original(column, spec)

    def isin(self: pd.Series, values: object) -> pd.Series:
        calls.append("isin")  # a second pass over the values, which the codes make needless
        return original_isin(self, values)

    original_isin = pd.Series.isin
    monkeypatch.setattr(schema_module, "as_category", counting)
    monkeypatch.setattr(pd.Series, "isin", isin)
    out, findings = enforce(pd.DataFrame({"team": ["SEA", "BOS", None, "07"]}), CATEGORICAL)
    assert calls == ["team"]  # one conversion serves both the unseen values and the output
    assert findings.unseen == {"team": ["SEA"]} and out["team"].cat.codes.tolist() == [-1, 1, -1, 2]


def test_unseen_values_of_a_categorical_input_are_reported() -> None:
    assert CATEGORICAL is not None
    given = pd.Categorical(["SEA", "BOS", None], categories=["SEA", "BOS", "unused"])
    findings = inspect(pd.DataFrame({"team": given}), CATEGORICAL)
    assert findings.unseen == {"team": ["SEA"]}  # "unused" is a category, not a value


# -- nested lists and other input types -----------------------------------------------------


def test_nested_lists_keep_each_columns_own_type() -> None:
    table = as_table([[1.5, 2.5, 1, True, "BOS"], (0.5, 1.5, 2, False, "LAL")], SCHEMA)
    assert isinstance(table, pd.DataFrame) and list(table.columns) == list(TRAIN.columns)
    out = enforced(table)
    assert (
        out["i64"].tolist() == [1, 2]
        and out["flag"].tolist() == [True, False]
        and out["team"].tolist() == ["BOS", "LAL"]
    )


def test_nested_lists_without_a_schema_are_arrays_that_keep_their_values() -> None:
    mixed = as_table([["BOS", 1], ["LAL", 2]], None)
    assert isinstance(mixed, np.ndarray) and mixed[0, 1] == 1 and not isinstance(mixed[0, 1], str)
    numbers = as_table([[1, 2], [3, 4]], None)
    assert isinstance(numbers, np.ndarray) and numbers.dtype == np.int64


def test_ragged_rows_are_a_predictor_error() -> None:
    with pytest.raises(PredictorError, match="different lengths"):
        as_table([[1, 2], [3]], schema_from(None, ["a", "b"]))


@pytest.mark.parametrize("bad", [None, "x.csv", 5, object()])
def test_inputs_of_the_wrong_type_say_what_was_given_and_what_is_accepted(bad: object) -> None:
    with pytest.raises(
        PredictorError, match=rf"cannot predict on input of type {type(bad).__name__}; pass a DataFrame"
    ):
        as_table(bad, SCHEMA)


# -- infinite numbers -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "values",
    [
        np.array([1.5, -np.inf]),
        np.array([1.5, np.inf], dtype=np.float32),
        pd.array([None, np.inf], dtype="Float64"),
        np.array([1.5, float("inf")], dtype=object),
    ],
    ids=["float64", "float32", "nullable Float64", "object floats"],
)
def test_an_infinite_number_is_refused_naming_the_column_and_row(values: object) -> None:
    assert SCHEMA is not None
    bad = frame(f64=values)
    findings = inspect(bad, SCHEMA)
    assert not findings.valid and findings.to_dict()["infinite_values"] == {"f64": 1}
    with pytest.raises(SchemaError, match=r"column 'f64': 1 infinite value\(s\) \(inf or -inf; the first in row 1\)"):
        enforced(bad)


def test_infinite_numbers_are_not_looked_for_in_text_or_category_columns() -> None:
    schema = schema_from(infer_signature(pd.DataFrame({"team": pd.Categorical([1.5, 2.5])})), None)
    assert schema is not None
    findings = inspect(pd.DataFrame({"team": [np.inf, 1.5]}), schema)
    assert findings.valid and findings.unseen == {"team": [np.inf]}  # a label not seen in training


def test_input_without_a_schema_is_checked_for_infinite_numbers_too() -> None:
    found = schema_module.inspect_unschematized(np.array([[1.0, 2.0], [np.inf, 3.0], [-np.inf, 4.0]]))
    assert {k: (v.count, v.first_row) for k, v in found.infinite.items()} == {"0": (2, 1)}
    with pytest.raises(SchemaError, match=r"column '0': 2 infinite"):
        schema_module.refuse_infinite(found)
    named = schema_module.inspect_unschematized(pd.DataFrame({"a": [1, 2], "b": [0.5, np.inf]}, index=[10, 11]))
    assert {k: (v.count, v.first_row) for k, v in named.infinite.items()} == {"b": (1, 11)}
    assert schema_module.inspect_unschematized(np.array([["x", "y"]])).valid
