"""Unit tests of fsregistry.records.fields: every record kind accepts what the registry
writes, and refuses a wrong value naming the field (``CorruptRecordError.field``)."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from toy_models import Doubler

from fsregistry import CustomModelRegistry
from fsregistry.errors import CorruptRecordError, CorruptRegistryError, FormatVersionError
from fsregistry.records import fields

Records = dict[str, dict[str, Any]]
_MISSING = object()


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> Records:
    """Every kind of record, as save_model and a settled index write them."""
    registry = CustomModelRegistry(tmp_path_factory.mktemp("fields") / "reg")
    registry.save_model(
        Doubler(), "m", metadata={"acc": 0.9, "cfg": {"depth": 3}}, tags={"t": "v"},
        input_example=pd.DataFrame({"a": [1.0, None], "b": ["x", "y"]}), preprocessor_artifact={"p": 1},
        stage="Production", aliases=["champ"], description="d",
    )  # fmt: skip
    registry.save_model(Doubler(), "m", stage="Staging")
    registry.transition_model_stage("m/2", "Production")  # version 1: Archived, with history
    registry.set_tag("m", "owner", "me")
    registry.catalog.settle_claims("m")  # writes the chunks too
    root, run_id = registry.root, registry.get_model_version("m/1")["run_id"]
    paths = {
        "meta": root / "m" / "1" / "meta.json",
        "model": root / "m" / "model.json",
        "index": root / "m" / "index.json",
        "chunk": root / "m" / "index-0.json",
        "run": root / ".runs" / f"{run_id}.json",
    }
    return {kind: json.loads(path.read_text()) for kind, path in paths.items()}


PARSERS: dict[str, Callable[[Any], dict[str, Any]]] = {
    "meta": lambda raw: fields.parse_meta(raw, "meta.json", name="m", version=1),
    "model": lambda raw: fields.parse_model_record(raw, "model.json", name="m"),
    "index": lambda raw: fields.parse_index(raw, "index.json", name="m"),
    "chunk": lambda raw: fields.parse_chunk(raw, "index-0.json", name="m", chunk=0),
    "run": lambda raw: fields.parse_run_entry(raw, "run.json"),
}


def _changed(record: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    out = copy.deepcopy(record)
    target = out
    for key in path[:-1]:
        target = target[key]
    if value is _MISSING:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return out


@pytest.mark.parametrize("kind", list(PARSERS))
def test_every_record_the_registry_writes_passes_unchanged(written: Records, kind: str) -> None:
    raw = copy.deepcopy(written[kind])
    assert PARSERS[kind](raw) is raw and raw == written[kind]


def test_the_records_used_are_rich(written: Records) -> None:
    """Guard the fixture: the optional parts of each table are really exercised."""
    meta = written["meta"]
    assert meta["stage"] == "Archived" and len(meta["stage_history"]) == 2 and meta["alias_seq"] == {"champ": 1}
    assert meta["input_example"] and meta["signature"] and meta["preprocessor"] and meta["environment"]["packages"]
    assert written["index"]["stages"] == {"Production": 2} and written["index"]["claim_seq"] >= 2
    assert set(written["chunk"]["versions"]) == {"1", "2"} and written["model"]["tags"] == {"owner": "me"}


BAD: list[tuple[str, tuple[Any, ...], Any, str, str]] = [
    # meta.json
    ("meta", ("version",), "1", "version", "must be an integer, not a string"),
    ("meta", ("version",), True, "version", "not a boolean"),
    ("meta", ("run_id",), "XYZ", "run_id", "not a run id"),
    ("meta", ("created_at",), "yesterday", "created_at", "not an ISO-8601 timestamp"),
    ("meta", ("flavor",), _MISSING, "flavor", "is missing"),
    ("meta", ("model", "uses_pickle"), "yes", "model.uses_pickle", "must be true or false"),
    ("meta", ("model", "options"), [], "model.options", "must be an object, not a list"),
    ("meta", ("files", "model.bin", "size"), -1, "files['model.bin'].size", "outside 0.."),
    ("meta", ("files", "model.bin", "sha256"), "abc", "files['model.bin'].sha256", "SHA-256"),
    ("meta", ("files", "../x"), {"sha256": "0" * 64, "size": 1}, "files['../x']", "plain file name"),
    ("meta", ("files", "model.bin"), _MISSING, "files", "does not record model.bin"),
    ("meta", ("files", "preprocessor.pkl"), _MISSING, "files", "does not record preprocessor.pkl"),
    ("meta", ("metrics", "acc"), "high", "metrics['acc']", "must be a number"),
    ("meta", ("params",), [1], "params", "must be an object"),
    ("meta", ("stage",), "production", "stage", "not one of Staging, Production, Archived"),
    ("meta", ("stage_history", 0, "at"), 5, "stage_history[0].at", "timestamp string"),
    ("meta", ("aliases", "latest"), "2024-01-01T00:00:00", "aliases['latest']", "not a valid alias"),
    ("meta", ("aliases", "champ"), 3, "aliases['champ']", "a timestamp or"),
    ("meta", ("alias_seq", "champ"), -1, "alias_seq['champ']", "outside 0.."),
    ("meta", ("tags", "t"), 1, "tags['t']", "must be a string"),
    ("meta", ("signature", "inputs", 0, "dtype"), None, "signature.inputs[0].dtype", "must be a string, not null"),
    ("meta", ("input_example", "dtypes"), ["float64"], "input_example.dtypes", "1 entries for 2 columns"),
    ("meta", ("input_example", "data", 1), [1], "input_example.data[1]", "1 cells for 2 columns"),
    ("meta", ("environment", "packages", "numpy"), 2, "environment.packages['numpy']", "must be a string"),
    ("meta", ("name",), "other", "name", "belongs to 'm'"),
    ("meta", ("format",), "1", "format", "must be an integer"),
    # model.json
    ("model", ("max_deleted_version",), _MISSING, "max_deleted_version", "is missing"),
    ("model", ("max_deleted_version",), -1, "max_deleted_version", "outside 0.."),
    ("model", ("tags", "owner"), ["me"], "tags['owner']", "must be a string"),
    ("model", ("description",), None, "description", "must be a string, not null"),
    ("model", ("name",), "other", "name", "belongs to 'm'"),
    # index.json
    ("index", ("last_version",), 2.0, "last_version", "must be an integer, not a number"),
    ("index", ("latest",), 3, "latest", "above last_version 2"),
    ("index", ("count",), 5, "count", "more than last_version 2"),
    ("index", ("stages", "Archived"), 1, "stages['Archived']", "not one of Staging, Production"),
    ("index", ("stages", "Production"), 9, "stages['Production']", "above last_version"),
    ("index", ("aliases", "champ"), 0, "aliases['champ']", "outside 1.."),
    ("index", ("name",), "other", "name", "belongs to 'm'"),
    ("index", ("claim_seq",), "1", "claim_seq", "must be an integer"),
    # index-<K>.json
    ("chunk", ("versions", "1", "run_id"), 7, "versions['1'].run_id", "must be a string"),
    ("chunk", ("versions", "01"), {"version": 1, "run_id": "a", "created_at": "t"}, "versions['01']", "a version"),
    ("chunk", ("versions", "1", "has_preprocessor"), 1, "versions['1'].has_preprocessor", "true or false"),
    ("chunk", ("versions", "2", "metrics"), {"m": "x"}, "versions['2'].metrics['m']", "must be a number"),
    # .runs/<RUN_ID>.json
    ("run", ("name",), "../x", "name", "not a valid model name"),
    ("run", ("version",), 0, "version", "outside 1.."),
]


@pytest.mark.parametrize(("kind", "path", "value", "field", "problem"), BAD, ids=[f"{b[0]}:{b[3]}" for b in BAD])
def test_a_wrong_value_is_refused_naming_its_field(
    written: Records, kind: str, path: tuple[Any, ...], value: Any, field: str, problem: str
) -> None:
    with pytest.raises(CorruptRecordError) as info:
        PARSERS[kind](_changed(written[kind], path, value))
    assert info.value.field == field
    assert f"field {field} " in str(info.value) and problem in str(info.value)
    assert isinstance(info.value, CorruptRegistryError) and "run check" in str(info.value)


@pytest.mark.parametrize("kind", list(PARSERS))
@pytest.mark.parametrize("raw", [[], "x", None, 3])
def test_a_record_that_is_not_an_object_has_no_field(kind: str, raw: Any) -> None:
    with pytest.raises(CorruptRecordError, match="not a JSON object") as info:
        PARSERS[kind](raw)
    assert info.value.field is None


def test_the_error_names_the_file_and_what_it_describes(written: Records) -> None:
    with pytest.raises(CorruptRecordError) as info:
        fields.parse_meta(_changed(written["meta"], ("stage",), "x"), Path("/r/m/1/meta.json"), name="m", version=1)
    assert (info.value.path, info.value.name, info.value.version) == ("/r/m/1/meta.json", "m", 1)
    assert str(info.value).startswith("/r/m/1/meta.json is malformed: field stage ")


@pytest.mark.parametrize("kind", ["meta", "index", "chunk"])
def test_a_newer_format_is_refused_not_judged(written: Records, kind: str) -> None:
    newer = {**_changed(written[kind], ("format",), 2), "name": 5}
    with pytest.raises(FormatVersionError, match="format 2"):
        PARSERS[kind](newer)


def test_a_newer_writers_fields_are_kept_but_bounded(written: Records) -> None:
    extra = {**written["meta"], "lineage": {"parent": [1, 2]}}
    assert PARSERS["meta"](extra)["lineage"] == {"parent": [1, 2]}
    deep: Any = 0
    for _ in range(fields.MAX_NESTING + 1):
        deep = [deep]
    with pytest.raises(CorruptRecordError, match="nested more than") as info:
        PARSERS["meta"]({**written["meta"], "lineage": deep})
    assert info.value.field == "lineage"


def test_a_version_number_beyond_exact_json_integers_is_refused(written: Records) -> None:
    PARSERS["run"]({"name": "m", "version": fields.MAX_VERSION})
    with pytest.raises(CorruptRecordError, match=r"outside 1\.\.") as info:
        PARSERS["run"]({"name": "m", "version": fields.MAX_VERSION + 1})
    assert info.value.field == "version"


def test_a_chunk_entry_must_sit_in_its_chunk_under_its_number(written: Records) -> None:
    entry = written["chunk"]["versions"]["1"]
    misplaced = {**written["chunk"], "versions": {"257": {**entry, "version": 257}}}
    with pytest.raises(CorruptRecordError, match="does not belong in chunk 0") as info:
        PARSERS["chunk"](misplaced)
    assert info.value.field == "versions['257']"
    fields.parse_chunk(misplaced, "index-1.json", name="m", chunk=1)
    renumbered = {**written["chunk"], "versions": {"1": {**entry, "version": 2}}}
    with pytest.raises(CorruptRecordError, match="it holds version 2"):
        PARSERS["chunk"](renumbered)


def test_salvage_keeps_the_fields_that_pass(written: Records) -> None:
    meta = {**written["meta"], "files": "gone", "stage": "nonsense"}
    salvaged = fields.salvage_meta(meta)
    assert "files" not in salvaged and "stage" not in salvaged and salvaged["run_id"] == meta["run_id"]
    record = {**written["model"], "tags": 5}
    assert fields.salvage_model_record(record) == {k: v for k, v in record.items() if k != "tags"}
    assert fields.salvage_meta([1]) == {} and fields.salvage_model_record(None) == {}


def test_a_record_checked_before_is_checked_again_once_its_bytes_change(tmp_path: Path) -> None:
    """Reads skip the field-by-field check for bytes already checked at that path, so an
    edit in place - even of the same size, within the same clock tick - is still caught."""
    import json

    from toy_models import Doubler

    from fsregistry import CorruptRecordError, CustomModelRegistry, records

    registry = CustomModelRegistry(tmp_path / "reg")
    registry.save_model(Doubler(), "m")
    path = registry.layout.meta_file("m", 1)
    good = path.read_text()
    records.read_meta(registry.layout, "m", 1)
    records.read_meta(registry.layout, "m", 1)  # from the memory of checked records
    bad = json.dumps({**json.loads(good), "description": 7})
    path.write_text(bad)
    with pytest.raises(CorruptRecordError, match="description"):
        records.read_meta(registry.layout, "m", 1)
    path.write_text(good)
    assert records.read_meta(registry.layout, "m", 1).name == "m"
