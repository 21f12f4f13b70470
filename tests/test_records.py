"""Unit tests of fsregistry.records: building meta.json, and the views derived from it."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
import pytest
from toy_models import Doubler

from fsregistry import CustomModelRegistry, records
from fsregistry.errors import CorruptRecordError, InvalidMetadataError
from fsregistry.records import fields
from fsregistry.records.signature import Signature, infer_signature

SHA = "0" * 64


def _describe(**overrides: Any) -> records.VersionRecord:
    given: dict[str, Any] = {
        "signature": None,
        "input_example": None,
        "metadata": None,
        "tags": {},
        "params": None,
        "metrics": None,
        "description": None,
    }
    given.update(overrides)
    return records.describe("m", **given)


def _published(meta: records.VersionRecord, version: int = 1) -> dict[str, Any]:
    """``meta`` with the fields the store adds at publish, as ``meta.json`` holds it."""
    files = {"model.bin": {"sha256": SHA, "size": 10}}
    model = {"format": "cloudpickle", "class": "toy_models.Doubler", "uses_pickle": True}
    return {**meta.to_json(), "version": version, "flavor": "python", "model": model, "files": files}


@pytest.fixture
def registry(model_registry: CustomModelRegistry) -> CustomModelRegistry:
    frame = pd.DataFrame({"a": [1.0, 2.0], "b": ["x", "y"]})
    model_registry.save_model(
        Doubler(), "m", metadata={"acc": 0.9, "fold": 1}, tags={"t": "v"}, input_example=frame,
        preprocessor_artifact={"p": 1}, stage="Production", aliases=["champ", "best"], description="first",
    )  # fmt: skip
    model_registry.save_model(Doubler(), "m")
    return model_registry


# -- user data to JSON ----------------------------------------------------------------------------


def test_metadata_floats_are_metrics_and_everything_else_params() -> None:
    metadata = {"acc": 0.9, "loss": np.float32(0.5), "fold": 3, "n": np.int64(7), "flag": True, "cfg": {"lr": 0.1}}
    params, metrics = records.split_metadata(metadata)
    assert metrics == {"acc": 0.9, "loss": 0.5}
    assert params == {"fold": 3, "n": 7, "flag": True, "cfg": {"lr": 0.1}}
    assert type(metrics["loss"]) is float and type(params["n"]) is int
    assert records.split_metadata(None) == ({}, {})


def test_metadata_must_be_a_dict_of_json_values() -> None:
    with pytest.raises(InvalidMetadataError, match="metadata must be a dict, got list"):
        records.split_metadata([("a", 1)])  # type: ignore[arg-type]
    with pytest.raises(InvalidMetadataError, match=r"metadata\.cfg: key 1 is not a string"):
        records.split_metadata({"cfg": {1: "x"}})
    with pytest.raises(InvalidMetadataError, match=r"metadata\.s\[1\]: a value of type set"):
        records.split_metadata({"s": [1, {2}]})


def test_to_jsonable_converts_numpy_pandas_and_tuples() -> None:
    value = {"arr": np.arange(3), "at": pd.Timestamp("2024-01-02T03:04:05"), "t": (1, np.float64(2.5))}
    assert records.to_jsonable(value, "x") == {"arr": [0, 1, 2], "at": "2024-01-02T03:04:05", "t": [1, 2.5]}


def test_nesting_deeper_than_readers_accept_is_refused() -> None:
    deep: Any = "leaf"
    for _ in range(fields.MAX_NESTING + 1):
        deep = [deep]
    with pytest.raises(InvalidMetadataError, match=f"nested more than {fields.MAX_NESTING} levels"):
        records.to_jsonable(deep, "params")
    assert records.to_jsonable(deep[0], "params") == deep[0]


@pytest.mark.parametrize(("metrics", "key"), [({"flag": True}, "flag"), ({"s": "high"}, "s"), ({"n": None}, "n")])
def test_explicit_metrics_must_be_numbers(metrics: dict[str, Any], key: str) -> None:
    with pytest.raises(InvalidMetadataError, match=f"metrics.{key}: .* is not a number"):
        records.check_metrics(metrics)


def test_explicit_metrics_accept_ints_and_numpy_numbers() -> None:
    assert records.check_metrics({"n": 3, "f": np.float32(0.25)}) == {"n": 3, "f": 0.25}
    assert records.check_metrics(None) == {}


# -- describe ----------------------------------------------------------------------------


def test_describe_splits_metadata_and_merges_explicit_params_and_metrics() -> None:
    meta = _describe(metadata={"acc": 0.5, "fold": 1}, params={"lr": 0.1}, metrics={"acc": 0.75, "auc": 1})
    assert meta.params == {"fold": 1, "lr": 0.1}
    assert meta.metrics == {"acc": 0.75, "auc": 1}  # an explicit metric wins
    assert meta.name == "m" and meta.description == "" and meta.stage is None


def test_describe_makes_a_fresh_run_id_and_a_utc_time() -> None:
    a, b = _describe(), _describe()
    assert a.run_id != b.run_id and len(a.run_id) == 32 and int(a.run_id, 16) >= 0
    assert a.created_at.endswith("+00:00")


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        ({"metrics": {"acc": "high"}}, "metrics.acc"),
        ({"params": {"obj": object()}}, r"params\.obj: a value of type object"),
        ({"metadata": {"x": {1, 2}}}, "metadata.x"),
        ({"description": 5}, "description must be a string"),
        ({"signature": "a,b"}, "signature must be a fsregistry Signature"),
        ({"input_example": np.zeros((2, 2, 2))}, r"shape \(2, 2, 2\); expected 2-D"),
    ],
)
def test_describe_refuses_what_it_cannot_store(overrides: dict[str, Any], match: str) -> None:
    with pytest.raises(InvalidMetadataError, match=match):
        _describe(**overrides)


def test_the_signature_is_inferred_from_the_example_or_taken_as_given() -> None:
    frame = pd.DataFrame({"a": [1.0], "b": ["x"]})
    inferred = _describe(input_example=frame).signature
    assert inferred is not None and [c["name"] for c in inferred["inputs"]] == ["a", "b"]
    given = infer_signature(pd.DataFrame({"z": [1]}))
    assert _describe(signature=given, input_example=frame).signature == given.to_dict()
    assert _describe(signature=given.to_dict()).signature == given.to_dict()
    assert _describe().signature is None


def test_what_describe_builds_is_a_valid_meta_json_once_published() -> None:
    meta = _describe(
        metadata={"acc": 0.5, "cfg": {"depth": [1, 2]}}, tags={"t": "v"}, description="d",
        input_example=pd.DataFrame({"a": [1.0, None], "b": ["x", "y"]}),
    )  # fmt: skip
    published = _published(meta)
    assert fields.parse_meta(json.loads(json.dumps(published)), "meta.json", name="m", version=1) == published


def test_a_new_record_writes_every_state_field() -> None:
    written = _describe().to_json()
    assert written["stage"] is None and written["stage_history"] == [] and written["aliases"] == {}
    assert written["format"] == 1 and written["tags"] == {} and written["source"] is None


# -- input examples -------------------------------------------------------------------------------


def test_examples_round_trip_as_frames_and_arrays() -> None:
    frame = pd.DataFrame({"a": [1.5, np.nan], "b": ["x", "y"]})
    encoded = records.encode_example(frame)
    assert encoded is not None and encoded["data"] == [[1.5, "x"], [None, "y"]]
    assert encoded["columns"] == ["a", "b"] and encoded["type"] == "dataframe"
    pd.testing.assert_frame_equal(records.decode_example(encoded), frame, check_dtype=False)
    array = records.decode_example(records.encode_example(np.array([1.0, 2.0, 3.0])))
    assert isinstance(array, np.ndarray) and array.tolist() == [[1.0, 2.0, 3.0]]
    assert records.encode_example(None) is None and records.decode_example(None) is None


def test_examples_keep_at_most_100_rows() -> None:
    encoded = records.encode_example(np.ones((250, 2)))
    assert encoded is not None and len(encoded["data"]) == records.MAX_EXAMPLE_ROWS
    with pytest.raises(InvalidMetadataError, match=r"input_example must be 2-D, got shape \(1, 1, 1\)"):
        records.encode_example(np.ones((1, 1, 1)))


# -- meta.json on disk ----------------------------------------------------------------------------


def test_read_meta_checks_the_record_belongs_to_its_folder(registry: CustomModelRegistry) -> None:
    assert records.read_meta(registry.layout, "m", 1).version == 1
    meta_2 = registry.layout.meta_file("m", 2)
    meta_2.write_bytes(registry.layout.meta_file("m", 1).read_bytes())
    with pytest.raises(CorruptRecordError, match="belongs to 2") as info:
        records.read_meta(registry.layout, "m", 2)
    assert info.value.field == "version" and info.value.path == str(meta_2)
    with pytest.raises(FileNotFoundError):
        records.read_meta(registry.layout, "m", 3)


def test_salvaged_meta_keeps_the_fields_that_still_pass(registry: CustomModelRegistry) -> None:
    path = registry.layout.meta_file("m", 1)
    meta = json.loads(path.read_text())
    path.write_text(json.dumps({**meta, "files": "gone", "tags": [1]}))
    salvaged = records.salvaged_meta(registry.layout, "m", 1)
    assert salvaged["aliases"].keys() == {"champ", "best"} and salvaged["stage"] == "Production"
    assert "files" not in salvaged and "tags" not in salvaged
    path.write_text("{")
    assert records.salvaged_meta(registry.layout, "m", 1) == {}
    assert records.salvaged_meta(registry.layout, "m", 9) == {}


def test_validate_meta_checks_a_record_from_elsewhere(registry: CustomModelRegistry) -> None:
    meta = records.read_meta(registry.layout, "m", 1).to_json()
    assert records.validate_meta(meta) == records.read_meta(registry.layout, "m", 1)
    with pytest.raises(CorruptRecordError, match=r"meta\.json of m/1") as info:
        records.validate_meta({**meta, "stage": "production"})
    assert info.value.field == "stage"


# -- derived views --------------------------------------------------------------------------------


def test_summary_then_version_view_is_what_listing_returns(registry: CustomModelRegistry) -> None:
    listed = {v["version"]: v for v in registry.list_versions("m")}
    for version in (1, 2):
        view = records.version_view("m", records.summary(records.read_meta(registry.layout, "m", version)))
        assert view == listed[version]
    assert listed[1]["aliases"] == ["best", "champ"] and listed[1]["uri"] == "models:/m/1"


def test_summary_keeps_claim_order_only_where_there_is_one(registry: CustomModelRegistry) -> None:
    first = records.summary(records.read_meta(registry.layout, "m", 1))
    second = records.summary(records.read_meta(registry.layout, "m", 2))
    assert first["stage_seq"] == 1 and first["alias_seq"] == {"champ": 1, "best": 1}
    assert "stage_seq" not in second and "alias_seq" not in second
    assert first["has_preprocessor"] and not second["has_preprocessor"]
    meta = records.read_meta(registry.layout, "m", 1)
    assert first["size"] == sum(f["size"] for f in meta.files.values()) > 0
    assert first["stage_changed_at"] == meta.stage_history[-1]["at"]
    assert second["stage_changed_at"] == second["created_at"]


def test_version_view_strips_internal_fields_in_place() -> None:
    entry = {"version": 3, "aliases": {"b": "t", "a": "t"}, "stage_changed_at": "t", "stage_seq": 2, "alias_seq": {}}
    view = records.version_view("m", entry)
    assert view is entry
    assert view == {"version": 3, "aliases": ["a", "b"], "name": "m", "uri": "models:/m/3"}


def test_version_info_groups_metadata_and_rebuilds_objects(registry: CustomModelRegistry) -> None:
    info = records.version_info(records.read_meta(registry.layout, "m", 1))
    assert info["metadata"] == {"params": {"fold": 1}, "metrics": {"acc": 0.9}, "tags": {"t": "v"}}
    assert isinstance(info["signature"], Signature) and isinstance(info["input_example"], pd.DataFrame)
    assert info["aliases"] == ["best", "champ"] and info["stage"] == "Production"
    assert info["model_format"] == "cloudpickle" and info["description"] == "first"
    assert info["uri"] == "models:/m/1" and info["size"] == sum(f["size"] for f in info["files"].values())
    assert info["input_example"]["b"].tolist() == ["x", "y"]
    info["files"]["model.bin"]["size"] = -1  # a copy: the record is untouched
    assert records.read_meta(registry.layout, "m", 1).files["model.bin"]["size"] > 0
