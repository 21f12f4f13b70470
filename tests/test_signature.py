"""infer_signature: column names, order and kinds from pandas and numpy inputs, the output
kind (classes with their labels, or values), and a lossless dict round trip."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
import pytest

from fsregistry import InvalidMetadataError
from fsregistry.records.signature import ColumnSpec, Signature, dtype_kind, infer_signature


@pytest.fixture
def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "int": [1, 2, 3],
            "float": [0.5, np.nan, 2.0],
            "bool": [True, False, True],
            "text": pd.array(["a", "b", None], dtype="string"),
            "object_text": pd.Series(["x", None, "z"], dtype=object),
            "category": pd.Categorical(["lo", "hi", "lo"]),
            "when": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03"]),
            "when_utc": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03"]).tz_localize("UTC"),
            "nullable_int": pd.array([1, None, 3], dtype="Int64"),
            "nullable_bool": pd.array([True, None, False], dtype="boolean"),
            "mixed": pd.Series([1, "a", 2.5], dtype=object),
        }
    )


def test_pandas_columns_keep_names_order_and_kinds(frame: pd.DataFrame) -> None:
    signature = infer_signature(frame)
    assert signature.input_type == "dataframe"
    assert signature.column_names == list(frame.columns)
    kinds = {c.name: c.kind for c in signature.inputs}
    assert kinds == {
        "int": "integer",
        "float": "float",
        "bool": "bool",
        "text": "string",
        "object_text": "string",
        "category": "category",
        "when": "datetime",
        "when_utc": "datetime",
        "nullable_int": "integer",
        "nullable_bool": "bool",
        "mixed": "object",
    }
    dtypes = {c.name: c.dtype for c in signature.inputs}
    assert dtypes["int"] == "int64" and dtypes["category"] == "category" and dtypes["nullable_int"] == "Int64"
    assert dtypes["when_utc"].endswith("UTC]")


def test_numpy_input_gets_positional_column_names() -> None:
    signature = infer_signature(np.zeros((4, 3), dtype=np.float32))
    assert signature.input_type == "ndarray"
    assert signature.inputs == tuple(ColumnSpec(str(i), "float32", "float") for i in range(3))
    assert infer_signature(np.array([1, 2, 3])).inputs == (ColumnSpec("0", "int64", "integer"),)


def test_other_tabular_inputs() -> None:
    assert infer_signature({"a": [1], "b": ["x"]}).column_names == ["a", "b"]
    assert infer_signature([{"a": 1.0, "b": True}]).inputs == (
        ColumnSpec("a", "float64", "float"),
        ColumnSpec("b", "bool", "bool"),
    )
    assert infer_signature(pd.Series([1.0, 2.0], name="s")).column_names == ["s"]


def test_bad_inputs_are_clear_errors() -> None:
    with pytest.raises(InvalidMetadataError, match="2-D"):
        infer_signature(np.zeros((2, 2, 2)))
    with pytest.raises(InvalidMetadataError, match="duplicate column"):
        infer_signature(pd.DataFrame([[1, 2]], columns=["a", "a"]))


@pytest.mark.parametrize(
    ("y", "expected"),
    [
        (np.array([0, 1, 1, 0]), {"kind": "classes", "dtype": "int64", "classes": [0, 1]}),
        (pd.Series(["win", "loss", "draw", "win"]), {"kind": "classes", "classes": ["draw", "loss", "win"]}),
        (["b", "a", "b"], {"kind": "classes", "classes": ["a", "b"]}),
        (pd.Series([True, False]), {"kind": "classes", "dtype": "bool", "classes": [False, True]}),
        (pd.Categorical(["hi", "lo", "hi"]), {"kind": "classes", "dtype": "category", "classes": ["hi", "lo"]}),
        (pd.Series([1, None, 3], dtype="Int64"), {"kind": "classes", "dtype": "Int64", "classes": [1, 3]}),
        (pd.DataFrame({"y": [2, 1, 2]}), {"kind": "classes", "classes": [1, 2]}),
        (pd.Series(["a", 1, "b"], dtype=object), {"kind": "classes", "classes": [1, "a", "b"]}),
        (np.array([0.5, 1.5, 2.5]), {"kind": "values", "dtype": "float64"}),
        (np.arange(2000), {"kind": "values", "dtype": "int64"}),
        (pd.to_datetime(["2024-01-01"]), {"kind": "values"}),
    ],
)
def test_outputs_are_classes_or_values(y: Any, expected: dict[str, Any]) -> None:
    output = infer_signature(np.zeros((len(y), 1)), y).output
    assert {k: output[k] for k in expected} == expected
    json.dumps(output, allow_nan=False)


def test_no_target_means_unknown_output() -> None:
    assert infer_signature(np.zeros((2, 1))).output == {}


def test_round_trip_through_json(frame: pd.DataFrame) -> None:
    signature = infer_signature(frame, pd.Series(["b", "a", "b"]))
    data = json.loads(json.dumps(signature.to_dict(), allow_nan=False))
    assert Signature.from_dict(data) == signature
    numeric = infer_signature(np.ones((2, 2)), np.array([0.1, 0.2]))
    assert Signature.from_dict(json.loads(json.dumps(numeric.to_dict()))) == numeric


def test_from_dict_ignores_keys_from_newer_versions_and_refuses_malformed_ones() -> None:
    data = infer_signature(pd.DataFrame({"a": [1]})).to_dict()
    data["added_later"] = 1
    data["inputs"][0]["nullable"] = True
    assert Signature.from_dict(data).inputs == (ColumnSpec("a", "int64", "integer"),)
    with pytest.raises(InvalidMetadataError, match="malformed signature"):
        Signature.from_dict({"inputs": [{"name": "a"}]})
    with pytest.raises(InvalidMetadataError, match="malformed signature"):
        Signature.from_dict({"inputs": "not a list"})


@pytest.mark.parametrize(
    ("dtype", "kind"),
    [
        (np.dtype("int8"), "integer"),
        (np.dtype("uint64"), "integer"),
        (np.dtype("float32"), "float"),
        (np.dtype("bool"), "bool"),
        (pd.StringDtype(), "string"),
        (pd.CategoricalDtype(["a"]), "category"),
        (np.dtype("datetime64[ns]"), "datetime"),
        (np.dtype("O"), "object"),
    ],
)
def test_dtype_kinds(dtype: Any, kind: str) -> None:
    assert dtype_kind(dtype) == kind


# -- class order and categories -------------------------------------------------------------


def test_a_plain_target_records_sorted_labels_and_says_so() -> None:
    output = infer_signature(np.zeros((3, 1)), np.array(["stay", "churn", "stay"])).output
    assert output["classes"] == ["churn", "stay"] and output["class_order"] == "sorted"


def test_a_categorical_target_keeps_its_categories_order() -> None:
    y = pd.Categorical(["stay", "churn", "stay"], categories=["stay", "churn", "unused"])
    output = infer_signature(np.zeros((3, 1)), pd.Series(y)).output
    assert output["classes"] == ["stay", "churn", "unused"]  # codes 0, 1, 2: the encoding
    assert output["class_order"] == "categories"
    json.dumps(output, allow_nan=False)


@pytest.mark.parametrize("y", [[0, 1], np.zeros(4), pd.Series([1, 2, 3, 4, 5])])
def test_y_must_have_one_target_per_row(y: Any) -> None:
    with pytest.raises(InvalidMetadataError, match=r"y has \d rows but X has 3"):
        infer_signature(np.zeros((3, 2)), y)
    with pytest.raises(InvalidMetadataError, match="sequence"):
        infer_signature(np.zeros((3, 2)), 5)


def test_categorical_columns_record_their_categories(frame: pd.DataFrame) -> None:
    teams = pd.Categorical(["LAL", "BOS"], categories=["LAL", "BOS", "07"])
    signature = infer_signature(pd.DataFrame({"team": teams, "size": pd.Categorical([3, 1], ordered=True)}))
    assert signature.inputs == (
        ColumnSpec("team", "category", "category", categories=("LAL", "BOS", "07")),
        ColumnSpec("size", "category", "category", categories=(1, 3), ordered=True),
    )
    data = json.loads(json.dumps(signature.to_dict(), allow_nan=False))
    assert data["inputs"][0] == {
        "name": "team",
        "dtype": "category",
        "kind": "category",
        "categories": ["LAL", "BOS", "07"],
    }
    assert Signature.from_dict(data) == signature
    assert "categories" not in infer_signature(frame).to_dict()["inputs"][0]  # only where there are some


def test_signatures_written_before_categories_and_class_order_are_read() -> None:
    old = {
        "inputs": [{"name": "team", "dtype": "category", "kind": "category"}],
        "input_type": "dataframe",
        "output": {"kind": "classes", "dtype": "object", "classes": ["a", "b"]},
    }
    signature = Signature.from_dict(old)
    assert signature.inputs == (ColumnSpec("team", "category", "category"),)
    assert signature.inputs[0].categories is None and signature.to_dict() == old
