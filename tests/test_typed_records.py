"""The typed records (fsregistry.records.typed): built from checked JSON, written back with
every known field and every unknown key, so a newer writer's additions survive a rewrite."""

from __future__ import annotations

import json
import re
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from toy_models import Doubler

from fsregistry import CustomModelRegistry, InvalidMetadataError, records
from fsregistry.records import fields
from fsregistry.records.typed import ModelRecord, Refs, VersionRecord
from fsregistry.storage import files

GOLDEN = Path(__file__).parent / "golden" / "format1"

#: what an absent optional field reads as (``to_json`` may write it)
_DEFAULTS: dict[str, Any] = {
    "preprocessor": None,
    "params": {},
    "metrics": {},
    "signature": None,
    "input_example": None,
    "environment": {},
    "source": None,
    "stage": None,
    "stage_history": [],
    "aliases": {},
    "tags": {},
    "description": "",
    "created_at": None,
    "max_deleted_version": 0,
}


def _round_trip_keeps(raw: dict[str, Any], written: dict[str, Any]) -> None:
    """Every key of ``raw`` is written back with its value; keys added hold their default."""
    for key, value in raw.items():
        assert written[key] == value, key
    for key in written.keys() - raw.keys():
        assert written[key] == _DEFAULTS[key], key


@pytest.mark.parametrize(
    "path", sorted(GOLDEN.glob("*/*/meta.json")), ids=lambda p: f"{p.parent.parent.name}/{p.parent.name}"
)
def test_golden_meta_json_round_trips(path: Path) -> None:
    raw = json.loads(path.read_text())
    record = records.parse_meta(raw, path)
    written = record.to_json()
    _round_trip_keeps(raw, written)
    assert records.parse_meta(json.loads(json.dumps(written)), path) == record
    assert fields.parse_meta(written, path) == written  # what it writes is a valid meta.json


@pytest.mark.parametrize("path", sorted(GOLDEN.glob("*/model.json")), ids=lambda p: p.parent.name)
def test_golden_model_json_round_trips(path: Path) -> None:
    raw = json.loads(path.read_text())
    record = ModelRecord.from_json(fields.parse_model_record(raw, path))
    _round_trip_keeps(raw, record.to_json())
    assert ModelRecord.from_json(record.to_json()) == record


@pytest.mark.parametrize("path", sorted(GOLDEN.glob("*/index.json")), ids=lambda p: p.parent.name)
def test_golden_index_json_round_trips(path: Path) -> None:
    raw = json.loads(path.read_text())
    refs = Refs.from_json(fields.parse_index(raw, path, name=path.parent.name))
    written = refs.to_json()
    for key, value in raw.items():
        assert written[key] == value, key
    assert Refs.from_json(written) == refs


def test_a_record_reads_as_typed_attributes(model_registry: CustomModelRegistry) -> None:
    model_registry.save_model(Doubler(), "m", metadata={"acc": 0.5}, tags={"t": "v"}, stage="Staging")
    meta = records.read_meta(model_registry.layout, "m", 1)
    assert isinstance(meta, VersionRecord)
    assert (meta.name, meta.version, meta.stage, meta.tags, meta.metrics) == (
        "m",
        1,
        "Staging",
        {"t": "v"},
        {"acc": 0.5},
    )
    assert meta.model_class is not None and meta.model_class.endswith("Doubler")
    assert meta.size == meta.files["model.bin"]["size"] > 0 and not meta.has_preprocessor
    assert meta.extra == {}


def test_unknown_keys_of_a_newer_writer_survive_every_rewrite(model_registry: CustomModelRegistry) -> None:
    """A newer minor writer's keys (top level and nested) are kept through a tag change, a
    promotion and an alias: the registry rewrites the record with them."""
    registry = model_registry
    registry.save_model(Doubler(), "m")
    meta_path, model_path = registry.layout.meta_file("m", 1), registry.layout.model_file("m")
    raw = json.loads(meta_path.read_text())
    raw["lineage_v2"] = {"parents": ["m/0"]}
    raw["files"]["model.bin"]["xxh3"] = "0123"
    raw["model"]["quantized"] = True
    meta_path.write_text(json.dumps(raw))
    model_raw = json.loads(model_path.read_text())
    model_path.write_text(json.dumps({**model_raw, "owner_team": "fraud"}))
    index_path = registry.layout.index_file("m")
    index_path.write_text(json.dumps({**json.loads(index_path.read_text()), "shard_hint": 7}))

    registry.set_tag("m/1", "k", "v")
    registry.transition_model_stage("m/1", "Production")
    registry.set_alias("m", "champ", 1)
    registry.set_tag("m", "team", "x")

    after = json.loads(meta_path.read_text())
    assert after["lineage_v2"] == {"parents": ["m/0"]}
    assert after["files"]["model.bin"]["xxh3"] == "0123" and after["model"]["quantized"] is True
    assert after["tags"] == {"k": "v"} and after["stage"] == "Production" and "champ" in after["aliases"]
    assert json.loads(model_path.read_text())["owner_team"] == "fraud"
    registry.save_model(Doubler(), "m")
    assert json.loads(index_path.read_text())["shard_hint"] == 7
    assert registry.load_model("models:/m@champ")["model"].predict([[1.0]]).tolist() == [2.0]


@pytest.fixture
def cached_reads(monkeypatch: pytest.MonkeyPatch) -> Callable[[], None]:
    """Records are kept by the read cache once 50 ms old (instead of a second); returns
    what waits until the records just written are that old."""
    files.clear_record_cache()
    monkeypatch.setattr(files, "_RECORD_RACY_NS", 50_000_000)
    return lambda: time.sleep(0.1)


def test_a_record_built_from_a_cached_read_does_not_change_the_cache(
    model_registry: CustomModelRegistry, cached_reads: Callable[[], None]
) -> None:
    """Records read twice share the cache's parsed object; a writer's in-place change of
    the containers it may change must not show in the next read."""
    model_registry.save_model(Doubler(), "m", tags={"t": "v"})
    cached_reads()
    records.read_meta(model_registry.layout, "m", 1)
    first = records.read_meta(model_registry.layout, "m", 1)
    first.tags["t"] = "changed"
    first.aliases["x"] = "2026-01-01T00:00:00+00:00"
    first.stage_history.append({"stage": "Staging", "at": "2026-01-01T00:00:00+00:00"})
    first.files.pop("model.bin")
    again = records.read_meta(model_registry.layout, "m", 1)
    assert again.tags == {"t": "v"} and again.aliases == {} and again.stage_history == []
    assert "model.bin" in again.files


def test_what_the_api_returns_is_the_callers_own(
    model_registry: CustomModelRegistry, cached_reads: Callable[[], None]
) -> None:
    """Nested values a caller changes in what ``get_model_version``, ``load_model`` or a
    listing returned change neither later answers nor, through the next rewrite, the disk."""
    registry = model_registry
    frame = pd.DataFrame({"a": [1.0, 2.0]})
    signature = {"inputs": [{"name": "a", "dtype": "float64", "kind": "number"}], "output": {"classes": ["x"]}}
    registry.save_model(
        Doubler(), "m", params={"nested": {"a": 1}, "lst": [1, 2]}, input_example=frame, signature=signature,
        stage="Staging",
    )  # fmt: skip
    cached_reads()
    before = registry.get_model_version("m/1")
    for info in (registry.get_model_version("m/1"), registry.load_model("m/1")):
        info["metadata"]["params"]["nested"]["a"] = "MUTATED"
        info["metadata"]["params"]["lst"].append("MUTATED")
        info["stage_history"][0]["by"]["user"] = 12345
        info["environment"]["packages"]["MUTATED"] = "1"
        info["files"]["model.bin"]["size"] = -1
        info["signature"].output.setdefault("classes", []).append("MUTATED")
    for listed in registry.list_versions("m"):
        listed["metrics"]["MUTATED"] = 1.0
        listed["tags"]["MUTATED"] = "1"
    after = registry.get_model_version("m/1")
    for key in ("metadata", "stage_history", "environment", "files", "created_by", "source"):
        assert after[key] == before[key], key
    assert after["signature"] == before["signature"]
    registry.set_tag("m/1", "k", "v")  # a rewrite of meta.json from the (cached) record
    on_disk = json.loads(registry.layout.meta_file("m", 1).read_text())
    assert on_disk["params"] == {"nested": {"a": 1}, "lst": [1, 2]}
    assert isinstance(on_disk["stage_history"][0]["by"]["user"], str)
    assert "MUTATED" not in json.dumps(on_disk)


def test_a_save_never_writes_a_record_it_cannot_read_back(model_registry: CustomModelRegistry) -> None:
    """A signature given as a dict with values the record's description refuses is refused
    by the save itself, naming the field, and nothing is published."""
    good = {"inputs": [{"name": "a", "dtype": "float64", "kind": "number"}]}
    for bad, field in (
        ({**good, "input_type": "weird"}, "signature.input_type"),
        ({**good, "output": {"kind": 5}}, "signature.output.kind"),
        ({**good, "output": {"classes": "abc"}}, "signature.output.classes"),
    ):
        with pytest.raises(InvalidMetadataError, match=re.escape(field)):
            model_registry.save_model(Doubler(), "m", signature=bad)
    assert model_registry.list_models() == []
    assert model_registry.save_model(Doubler(), "m", signature=good) == "models:/m/1"
    assert model_registry.check().ok


def test_optional_fields_left_out_while_default(model_registry: CustomModelRegistry) -> None:
    """``created_by`` may not be null, and claim orders and alias history were absent
    before those fields existed: they are written only when they hold something."""
    record = records.describe(
        "m", signature=None, input_example=None, metadata=None, tags={}, params=None, metrics=None, description=None
    )
    record.created_by = None
    written = record.to_json()
    for key in ("created_by", "stage_seq", "alias_seq", "alias_history"):
        assert key not in written
    record.stage_seq, record.alias_seq = 3, {"a": 3}
    assert record.to_json()["stage_seq"] == 3 and record.to_json()["alias_seq"] == {"a": 3}


def test_the_golden_registry_loads_after_a_rewrite_of_every_record(tmp_path: Path) -> None:
    """Rewriting every record of the golden registry through the typed records (a tag on
    each version and model) leaves every version loadable and listed as before."""
    root = tmp_path / "golden"
    shutil.copytree(GOLDEN, root)
    registry = CustomModelRegistry(root)
    before = {m["name"]: registry.list_versions(m["name"]) for m in registry.list_models()}
    for name, versions in before.items():
        registry.set_tag(name, "touched", "yes")
        for entry in versions:
            registry.set_tag(f"{name}/{entry['version']}", "touched", "yes")
    assert registry.check().ok
    for name, versions in before.items():
        after = registry.list_versions(name)
        assert [v["version"] for v in after] == [v["version"] for v in versions]
        for old, new in zip(versions, after, strict=True):
            assert new["tags"] == {**old["tags"], "touched": "yes"}
            assert {k: v for k, v in new.items() if k != "tags"} == {k: v for k, v in old.items() if k != "tags"}
