"""Corrupt and hostile records (issue 16, item 6).

Every JSON record the registry reads - ``meta.json`` (a version's truth), ``model.json`` (a
model's truth), ``index.json`` / ``index-<K>.json`` and the run map (caches) - is edited the
ways a person or an attacker could: a field missing or of the wrong type, an absurd number,
nesting 100,000 deep, something other than an object.  Each time:

* reading the record is one :class:`CorruptRegistryError` naming the file and the field,
  never a raw ``KeyError``/``TypeError``/``RecursionError`` (nor "unexpected" in the CLI);
* ``check`` reports it and never raises; ``check(repair=True)`` rebuilds every cache from
  the truth and leaves a registry that checks clean (a corrupt ``meta.json`` stays reported:
  nothing can rebuild the truth);
* a listing shows exactly the versions that load - never drops one that does;
* no number in a record is counted up to: a ``last_version`` of 10**12 costs nothing.
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from toy_models import Doubler

from fsregistry import CustomModelRegistry, records
from fsregistry.cli import EXIT_ERROR, main
from fsregistry.errors import CorruptRecordError, CorruptRegistryError, InvalidMetadataError
from fsregistry.records.fields import MAX_NESTING
from fsregistry.storage import files

#: what an edit does to a record: change the parsed JSON in place, or replace the file's text
Change = Callable[[Any], None] | str

DEEP_LIST = "[" * 100_000 + "]" * 100_000
DEEP_OBJECT = '{"a":' * 100_000 + "1" + "}" * 100_000
TIMESTAMP = "2026-01-01T00:00:00+00:00"


def put(*keys: str, value: Any) -> Callable[[Any], None]:
    """Set ``record[k1][k2]... = value``."""

    def change(record: Any) -> None:
        for key in keys[:-1]:
            record = record[key]
        record[keys[-1]] = value

    return change


def drop(*keys: str) -> Callable[[Any], None]:
    """Delete ``record[k1][k2]...``."""

    def change(record: Any) -> None:
        for key in keys[:-1]:
            record = record[key]
        del record[keys[-1]]

    return change


def nested(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = {"a": value}
    return value


def corrupt(path: Path, change: Change) -> None:
    if isinstance(change, str):
        path.write_text(change)
        return
    record = json.loads(path.read_text())
    change(record)
    path.write_text(json.dumps(record))


def assert_names(exc: BaseException, path: Path, field: str | None) -> None:
    """The error names the file, and the field when one field is to blame."""
    assert isinstance(exc, CorruptRegistryError)
    assert str(path) in str(exc) and exc.path == str(path)
    if field is not None:
        assert isinstance(exc, CorruptRecordError) and exc.field == field, (exc, field)
        assert f"field {field} " in str(exc)


def loadable(registry: CustomModelRegistry) -> list[int]:
    """The versions of ``m`` that load, newest first."""
    out = []
    for version in sorted(registry.layout.version_numbers("m"), reverse=True):
        try:
            registry.load_model(f"m/{version}")
        except CorruptRegistryError:
            continue
        out.append(version)
    return out


def listed(registry: CustomModelRegistry) -> list[int]:
    return [v["version"] for v in registry.list_versions("m")]


def assert_repaired_clean(registry: CustomModelRegistry) -> None:
    """``check`` never raises; repair leaves nothing to report; the next save is 4."""
    registry.check()
    registry.check(repair=True)
    assert registry.check().problems == []
    assert listed(registry) == loadable(registry) == [3, 2, 1]
    assert registry.save_model(Doubler(), "m") == "models:/m/4"


@pytest.fixture
def registry(model_registry: CustomModelRegistry) -> CustomModelRegistry:
    """``m``: 1 plain; 2 Production and ``@champion``, with a preprocessor, an example,
    params, metrics and tags; 3 Staging.  Indexed in the chunks (index-0.json) too."""
    model_registry.save_model(Doubler(1.0), "m")
    model_registry.save_model(
        Doubler(2.0),
        "m",
        preprocessor_artifact={"scale": 1},
        input_example=pd.DataFrame({"x": [1.0], "n": [2]}),
        metadata={"fold": 0, "accuracy": 0.5},
        tags={"team": "a"},
    )
    model_registry.save_model(Doubler(3.0), "m")
    model_registry.transition_model_stage("m/2", "Production")
    model_registry.transition_model_stage("m/3", "Staging")
    model_registry.set_alias("m", "champion", 2)
    model_registry.layout.index_file("m").unlink()
    assert model_registry.check(repair=True).ok  # rebuilt: every version is in a chunk now
    assert model_registry.layout.chunk_file("m", 0).exists()
    return model_registry


# -- meta.json: the truth about a version ---------------------------------------------------------

META_CASES = [
    *(pytest.param(drop(key), key, id=f"{key}-missing") for key in ("name", "version", "run_id", "created_at")),
    *(pytest.param(drop(key), key, id=f"{key}-missing") for key in ("flavor", "model", "files", "format")),
    pytest.param(put("name", value="other"), "name", id="name-of-another-model"),
    pytest.param(put("version", value=True), "version", id="version-boolean"),
    pytest.param(put("version", value=10**12), "version", id="version-of-another-folder"),
    pytest.param(put("version", value=2**60), "version", id="version-absurd"),
    pytest.param(put("format", value="1"), "format", id="format-string"),
    pytest.param(put("run_id", value="../../escape"), "run_id", id="run_id-a-path"),
    pytest.param(put("created_at", value="yesterday"), "created_at", id="created_at-not-a-time"),
    pytest.param(put("flavor", value=["python"]), "flavor", id="flavor-list"),
    pytest.param(put("model", value="x"), "model", id="model-string"),
    pytest.param(put("model", "class", value=None), "model.class", id="model-class-null"),
    pytest.param(put("model", "uses_pickle", value="yes"), "model.uses_pickle", id="model-uses_pickle-string"),
    pytest.param(put("model", "options", value=nested(MAX_NESTING + 5)), "model.options", id="options-too-deep"),
    pytest.param(put("files", value=[]), "files", id="files-list"),
    pytest.param(drop("files", "model.bin"), "files", id="files-without-model.bin"),
    pytest.param(drop("files", "preprocessor.pkl"), "files", id="files-without-preprocessor.pkl"),
    pytest.param(put("files", "model.bin", "size", value=-1), "files['model.bin'].size", id="size-negative"),
    pytest.param(put("files", "model.bin", "size", value=10**30), "files['model.bin'].size", id="size-absurd"),
    pytest.param(put("files", "model.bin", "sha256", value=5), "files['model.bin'].sha256", id="sha256-number"),
    pytest.param(
        put("files", "../../../etc/passwd", value={"sha256": "0" * 64, "size": 1}),
        "files['../../../etc/passwd']",
        id="files-outside-the-folder",
    ),
    pytest.param(put("preprocessor", value="yes"), "preprocessor", id="preprocessor-string"),
    pytest.param(put("stage", value="Prod"), "stage", id="stage-unknown"),
    pytest.param(put("stage", value=5), "stage", id="stage-number"),
    pytest.param(put("stage_history", value=5), "stage_history", id="stage_history-number"),
    pytest.param(put("stage_history", value=[{"stage": "Production"}]), "stage_history[0].at", id="history-no-time"),
    pytest.param(put("aliases", value=["champion"]), "aliases", id="aliases-list"),
    pytest.param(put("aliases", value={"champion": 5}), "aliases['champion']", id="alias-claim-number"),
    pytest.param(put("aliases", value={"latest": TIMESTAMP}), "aliases['latest']", id="alias-reserved-name"),
    pytest.param(put("tags", value={"team": 1}), "tags['team']", id="tag-value-number"),
    pytest.param(put("tags", value="ab"), "tags", id="tags-string"),
    pytest.param(put("metrics", value={"accuracy": "high"}), "metrics['accuracy']", id="metric-string"),
    pytest.param(put("params", value=[]), "params", id="params-list"),
    pytest.param(put("params", value=nested(MAX_NESTING + 5)), "params", id="params-too-deep"),
    pytest.param(put("description", value=5), "description", id="description-number"),
    pytest.param(put("newer", value=nested(MAX_NESTING + 5)), "newer", id="unknown-key-too-deep"),
    pytest.param(put("model", "newer", value=nested(MAX_NESTING + 5)), "model.newer", id="unknown-inner-key-too-deep"),
    pytest.param(put("signature", value={"inputs": 5}), "signature.inputs", id="signature-inputs-number"),
    pytest.param(put("input_example", "dtypes", value=[]), "input_example.dtypes", id="example-dtypes-short"),
    pytest.param(put("environment", value="x"), "environment", id="environment-string"),
    pytest.param(put("environment", "packages", value=[]), "environment.packages", id="packages-list"),
    pytest.param("[]", None, id="a-list"),
    pytest.param("null", None, id="null"),
    pytest.param("{not json", None, id="not-json"),
    pytest.param(DEEP_LIST, None, id="100000-deep-list"),
    pytest.param(DEEP_OBJECT, None, id="100000-deep-object"),
]


@pytest.mark.parametrize(("change", "field"), META_CASES)
def test_a_corrupt_meta_json_is_one_clear_error_and_listed_as_it_loads(
    registry: CustomModelRegistry, change: Change, field: str | None
) -> None:
    path = registry.layout.meta_file("m", 2)
    corrupt(path, change)
    for read in (registry.load_model, registry.get_model_version):
        with pytest.raises(CorruptRegistryError) as info:
            read("m/2")
        assert_names(info.value, path, field)
    # the index (a cache) may still list it; it never leaves out one that loads
    assert loadable(registry) == [3, 1] and set(listed(registry)) >= {3, 1}
    report = registry.check()
    found = [p for p in report.problems if p.kind == "corrupt_meta"]
    assert [p.version for p in found] == [2] and found[0].path == str(path)
    assert field is None or f"field {field} " in found[0].detail
    registry.check(repair=True)
    # every cache is rebuilt; the truth cannot be, so it alone stays reported
    assert [(p.kind, p.version) for p in registry.check().problems] == [("corrupt_meta", 2)]
    assert listed(registry) == loadable(registry) == [3, 1]
    assert registry.save_model(Doubler(), "m") == "models:/m/4"  # the broken folder's number is kept


def test_fields_of_a_newer_writer_are_kept(registry: CustomModelRegistry) -> None:
    """Forward compatibility: keys no table names load, list, and survive a rewrite."""
    path = registry.layout.meta_file("m", 2)
    corrupt(path, put("newer", value={"nested": [1, {"deep": nested(MAX_NESTING - 5)}]}))
    corrupt(registry.layout.model_file("m"), put("newer", value=[1]))
    assert registry.load_model("m/2")["version"] == 2 and listed(registry) == [3, 2, 1]
    registry.set_tag("m/2", "k", "v")
    registry.set_tag("m", "k", "v")
    assert json.loads(path.read_text())["newer"]["nested"][0] == 1
    assert json.loads(registry.layout.model_file("m").read_text())["newer"] == [1]
    assert registry.check().problems == []


@pytest.mark.parametrize(
    ("change", "field"),
    [(put("files", value=[]), "files"), (put("stage", value="Prod"), "stage"), ("[1]", None), (DEEP_LIST, None)],
)
def test_a_corrupt_version_is_not_exported(
    registry: CustomModelRegistry, tmp_path: Path, change: Change, field: str | None
) -> None:
    path = registry.layout.meta_file("m", 2)
    corrupt(path, change)
    with pytest.raises(CorruptRegistryError) as info:
        registry.export_model("m/2", tmp_path / "m2.tar.gz")
    assert str(path) in str(info.value)
    assert field is None or (isinstance(info.value, CorruptRecordError) and info.value.field == field)
    assert not (tmp_path / "m2.tar.gz").exists()


def test_what_survives_of_a_corrupt_meta_json_is_what_a_delete_needs(registry: CustomModelRegistry) -> None:
    path = registry.layout.meta_file("m", 2)
    corrupt(path, put("tags", value="ab"))
    kept = records.salvaged_meta(registry.layout, "m", 2)
    assert kept["stage"] == "Production" and "champion" in kept["aliases"] and "tags" not in kept
    assert kept["run_id"] == json.loads(path.read_text())["run_id"]
    for text in ("[1]", DEEP_LIST, "{not json"):
        path.write_text(text)
        assert records.salvaged_meta(registry.layout, "m", 2) == {}


@pytest.mark.parametrize("text", ["[1]", "{not json", '{"format": 1}'])
def test_a_version_whose_meta_json_is_corrupt_can_be_deleted(registry: CustomModelRegistry, text: str) -> None:
    """check's advice for a corrupt meta.json is to delete the version: that must work."""
    registry.layout.meta_file("m", 1).write_text(text)
    registry.delete_model("m/1")
    assert sorted(listed(registry)) == [2, 3]
    registry.check(repair=True)
    assert registry.check().problems == []
    assert registry.save_model(Doubler(), "m") == "models:/m/4"


def test_a_meta_json_that_is_not_a_file_is_reported_not_waited_on(registry: CustomModelRegistry) -> None:
    """A FIFO planted as meta.json would block a plain open forever; a folder is no file."""
    for version, plant in ((1, os.mkfifo), (2, os.mkdir)):
        path = registry.layout.meta_file("m", version)
        path.unlink()
        plant(path)
        with pytest.raises(CorruptRegistryError, match=r"meta\.json"):
            registry.load_model(f"m/{version}")
    assert loadable(registry) == [3]
    assert sorted(p.version or 0 for p in registry.check().problems if p.kind == "corrupt_meta") == [1, 2]
    registry.check(repair=True)
    assert listed(registry) == loadable(registry) == [3]


def test_an_oversized_record_is_refused_without_reading_it_whole(tmp_path: Path) -> None:
    path = tmp_path / "meta.json"
    path.write_text(json.dumps({"pad": "x" * 4096}))
    with pytest.raises(CorruptRegistryError, match="larger than any record") as info:
        files.read_json(path, max_bytes=1024)
    assert info.value.path == str(path)
    assert files.read_json(path)["pad"] == "x" * 4096  # the default cap is far above real records


def test_metadata_that_could_not_be_read_back_is_refused_on_save(model_registry: CustomModelRegistry) -> None:
    with pytest.raises(InvalidMetadataError, match="nested more than"):
        model_registry.save_model(Doubler(), "m", metadata={"deep": nested(MAX_NESTING + 1)})
    assert model_registry.list_models() == []
    model_registry.save_model(Doubler(), "m", metadata={"deep": nested(MAX_NESTING - 1)})
    assert model_registry.load_model("m/1")["metadata"]["params"]["deep"] == nested(MAX_NESTING - 1)


def test_the_error_keeps_its_field_across_processes(registry: CustomModelRegistry) -> None:
    corrupt(registry.layout.meta_file("m", 2), put("stage", value="Prod"))
    with pytest.raises(CorruptRecordError) as info:
        registry.load_model("m/2")
    copy = pickle.loads(pickle.dumps(info.value))
    assert (type(copy), copy.field, copy.path, str(copy)) == (
        CorruptRecordError,
        "stage",
        info.value.path,
        str(info.value),
    )


# -- model.json: the truth about a model ---------------------------------------------------------

MODEL_CASES = [
    pytest.param(drop("max_deleted_version"), "max_deleted_version", id="floor-missing"),
    pytest.param(put("max_deleted_version", value="0"), "max_deleted_version", id="floor-string"),
    pytest.param(put("max_deleted_version", value=-1), "max_deleted_version", id="floor-negative"),
    pytest.param(put("max_deleted_version", value=True), "max_deleted_version", id="floor-boolean"),
    pytest.param(put("max_deleted_version", value=2**60), "max_deleted_version", id="floor-absurd"),
    pytest.param(drop("name"), "name", id="name-missing"),
    pytest.param(put("name", value="other"), "name", id="name-of-another-model"),
    pytest.param(put("tags", value="ab"), "tags", id="tags-string"),
    pytest.param(put("tags", value={"owner": 1}), "tags['owner']", id="tag-value-number"),
    pytest.param(put("description", value=5), "description", id="description-number"),
    pytest.param(put("created_at", value=5), "created_at", id="created_at-number"),
    pytest.param("[]", None, id="a-list"),
    pytest.param("{not json", None, id="not-json"),
    pytest.param(DEEP_OBJECT, None, id="100000-deep"),
]


@pytest.mark.parametrize(("change", "field"), MODEL_CASES)
def test_a_corrupt_model_record_stops_writers_only_until_repaired(
    registry: CustomModelRegistry, change: Change, field: str | None
) -> None:
    path = registry.layout.model_file("m")
    corrupt(path, change)
    assert registry.load_model("m/2")["version"] == 2  # readers do not need it
    assert [m["name"] for m in registry.list_models()] == ["m"]
    assert listed(registry) == [3, 2, 1]
    with pytest.raises(CorruptRegistryError) as info:
        registry.save_model(Doubler(), "m")  # it holds the never-reuse floor: not guessed
    assert_names(info.value, path, field)
    found = [p for p in registry.check().problems if p.kind == "corrupt_model_record"]
    assert len(found) == 1 and (field is None or f"field {field} " in found[0].detail)
    assert_repaired_clean(registry)


def test_a_model_record_naming_another_model_never_writes_to_that_model(registry: CustomModelRegistry) -> None:
    """A delete writes the model record it read back to the folder its ``name`` gives: a
    record that names another model is refused, so the other's record stays as it was and
    the deleted number is not lost."""
    registry.save_model(Doubler(), "other")
    registry.set_tag("other", "owner", "team-b")
    other = registry.layout.model_file("other")
    before = other.read_bytes()
    corrupt(registry.layout.model_file("m"), put("name", value="other"))
    with pytest.raises(CorruptRecordError, match="belongs to 'm'"):
        registry.delete_model("m/3", force=True)
    assert other.read_bytes() == before and listed(registry) == [3, 2, 1]
    assert registry.check(repair=True).ok
    registry.delete_model("m/3", force=True)
    assert registry.save_model(Doubler(), "m") == "models:/m/4"
    assert registry.get_model("other")["tags"] == {"owner": "team-b"}


# -- index.json and index-<K>.json: caches ---------------------------------------------------------

INDEX_CASES = [
    pytest.param(drop("name"), "name", id="name-missing"),
    pytest.param(put("name", value="other"), "name", id="name-of-another-model"),
    pytest.param(drop("last_version"), "last_version", id="last_version-missing"),
    pytest.param(put("last_version", value="3"), "last_version", id="last_version-string"),
    pytest.param(put("last_version", value=-1), "last_version", id="last_version-negative"),
    pytest.param(put("last_version", value=2**60), "last_version", id="last_version-absurd"),
    pytest.param(put("latest", value=99), "latest", id="latest-above-last_version"),
    pytest.param(put("count", value=-1), "count", id="count-negative"),
    pytest.param(put("count", value=10), "count", id="count-above-last_version"),
    pytest.param(put("stages", value={"Production": "2"}), "stages['Production']", id="stage-holder-string"),
    pytest.param(put("stages", value={"Bogus": 1}), "stages['Bogus']", id="stage-unknown"),
    pytest.param(put("stages", value={"Production": 99}), "stages['Production']", id="stage-holder-unused"),
    pytest.param(put("aliases", value=["champion"]), "aliases", id="aliases-list"),
    pytest.param(put("aliases", value={"champion": 2.5}), "aliases['champion']", id="alias-holder-float"),
    pytest.param(put("updated_at", value=5), "updated_at", id="updated_at-number"),
    pytest.param(put("indexed_through", value="x"), "indexed_through", id="indexed_through-string"),
    pytest.param(put("format", value="1"), "format", id="format-string"),
    pytest.param(put("newer", value=nested(MAX_NESTING + 5)), "newer", id="unknown-key-too-deep"),
    pytest.param("[]", None, id="a-list"),
    pytest.param("{not json", None, id="not-json"),
    pytest.param(DEEP_LIST, None, id="100000-deep"),
]

CHUNK_CASES = [
    pytest.param(put("versions", value=[]), "versions", id="versions-list"),
    pytest.param(put("versions", "2", "stage", value="Prod"), "versions['2'].stage", id="entry-stage-unknown"),
    pytest.param(put("versions", "2", "aliases", value=["x"]), "versions['2'].aliases", id="entry-aliases-list"),
    pytest.param(put("versions", "2", "tags", value={"k": 1}), "versions['2'].tags['k']", id="entry-tag-number"),
    pytest.param(drop("versions", "2", "run_id"), "versions['2'].run_id", id="entry-run_id-missing"),
    pytest.param(put("versions", "2", "version", value=3), "versions['2']", id="entry-under-another-number"),
    pytest.param(put("versions", "abc", value={}), "versions['abc']", id="key-not-a-number"),
    pytest.param(
        put("versions", "2", "newer", value=nested(MAX_NESTING + 5)), "versions['2'].newer", id="unknown-deep"
    ),
    pytest.param(
        lambda chunk: chunk["versions"].__setitem__("300", {**chunk["versions"]["2"], "version": 300}),
        "versions['300']",
        id="entry-in-the-wrong-chunk",
    ),
    pytest.param("[]", None, id="a-list"),
    pytest.param(DEEP_OBJECT, None, id="100000-deep"),
]


def _assert_reads_from_the_folders(registry: CustomModelRegistry) -> None:
    """Readers rebuild what a corrupt cache cannot tell them."""
    expected = {"m/latest": 3, "m/1": 1, "models:/m/Production": 2, "m/staging": 3, "models:/m@champion": 2}
    assert {ident: registry.load_model(ident)["version"] for ident in expected} == expected
    assert listed(registry) == loadable(registry) == [3, 2, 1]
    assert [(m["versions"], m["latest_version"]) for m in registry.list_models()] == [(3, 3)]


@pytest.mark.parametrize(("change", "field"), INDEX_CASES)
def test_a_corrupt_index_is_rebuilt_by_readers_and_repair(
    registry: CustomModelRegistry, change: Change, field: str | None
) -> None:
    path = registry.layout.index_file("m")
    corrupt(path, change)
    _assert_reads_from_the_folders(registry)
    found = [p for p in registry.check().problems if p.kind == "stale_index"]
    assert len(found) == 1 and str(path) in found[0].detail
    assert field is None or f"field {field} " in found[0].detail
    assert_repaired_clean(registry)


@pytest.mark.parametrize(("change", "field"), CHUNK_CASES)
def test_a_corrupt_index_chunk_is_rebuilt_by_readers_and_repair(
    registry: CustomModelRegistry, change: Change, field: str | None
) -> None:
    path = registry.layout.chunk_file("m", 0)
    corrupt(path, change)
    _assert_reads_from_the_folders(registry)
    found = [p for p in registry.check().problems if p.kind == "stale_index"]
    assert len(found) == 1 and str(path) in found[0].detail
    assert field is None or f"field {field} " in found[0].detail
    assert_repaired_clean(registry)


def test_an_index_that_says_there_are_no_versions_hides_none(registry: CustomModelRegistry) -> None:
    """Well formed and self-consistent, but the folders disagree: readers look, and find them."""
    corrupt(registry.layout.index_file("m"), lambda refs: refs.update(count=0, latest=None, stages={}, aliases={}))
    _assert_reads_from_the_folders(registry)
    assert [p.kind for p in registry.check().problems] == ["stale_index"]
    assert_repaired_clean(registry)


@pytest.mark.parametrize("first", ["check", "save"])
def test_an_implausible_last_version_is_reported_and_never_allocated_from(
    registry: CustomModelRegistry, first: str
) -> None:
    """Well formed, but no folder and no deleted number reaches it: an edit.  Nothing counts
    up to it (this test would hang if anything did), and no save continues from it."""
    corrupt(registry.layout.index_file("m"), put("last_version", value=10**12))
    corrupt(registry.layout.index_file("m"), put("indexed_through", value=10**12))
    _assert_reads_from_the_folders(registry)
    if first == "save":
        assert registry.save_model(Doubler(), "m") == "models:/m/4"  # the writer rebuilt the index
        assert registry.check().problems == []
        return
    found = [p for p in registry.check().problems if p.kind == "stale_index"]
    assert len(found) == 1 and "last_version is 1000000000000, above the highest version number" in found[0].detail
    assert_repaired_clean(registry)


def test_repair_keeps_what_survives_of_a_model_record(registry: CustomModelRegistry) -> None:
    """A record broken in one field keeps the others, its never-reuse floor above all: an
    implausible index is then still judged against it, not trusted in its place."""
    registry.set_description("m", "kept")
    registry.delete_model("m/1")  # the floor is now 3
    corrupt(registry.layout.model_file("m"), put("tags", value="ab"))
    corrupt(registry.layout.index_file("m"), put("last_version", value=10**12))
    details = " ".join(p.detail for p in registry.check().problems)
    assert "field tags " in details and "last_version is 1000000000000" in details
    registry.check(repair=True)
    assert registry.check().problems == []
    record = json.loads(registry.layout.model_file("m").read_text())
    assert (record["description"], record["tags"], record["max_deleted_version"]) == ("kept", {}, 3)
    assert registry.save_model(Doubler(), "m") == "models:/m/4"


def test_a_huge_but_real_number_costs_nothing(registry: CustomModelRegistry) -> None:
    """A deleted-number floor of 10**12 is the truth: the next version is 10**12 + 1, and
    listing, checking and repairing never count up to it (this test would hang)."""
    corrupt(registry.layout.model_file("m"), put("max_deleted_version", value=10**12))
    assert registry.save_model(Doubler(), "m") == f"models:/m/{10**12 + 1}"
    assert listed(registry) == [10**12 + 1, 3, 2, 1]
    registry.layout.index_file("m").unlink()
    assert registry.check(repair=True).ok
    assert registry.check().problems == []
    assert listed(registry) == loadable(registry) == [10**12 + 1, 3, 2, 1]
    assert registry.save_model(Doubler(), "m") == f"models:/m/{10**12 + 2}"


# -- the run map: a cache ---------------------------------------------------------------------------

RUN_CASES = [
    pytest.param(put("version", value="abc"), id="version-string"),
    pytest.param(put("version", value=10**30), id="version-absurd"),
    pytest.param(drop("version"), id="version-missing"),
    pytest.param(put("name", value="../../escape"), id="name-a-path"),
    pytest.param(put("name", value=5), id="name-number"),
    pytest.param(put("version", value=1), id="another-version"),
    pytest.param("[]", id="a-list"),
    pytest.param(DEEP_LIST, id="100000-deep"),
]


@pytest.mark.parametrize("change", RUN_CASES)
def test_a_corrupt_run_map_entry_falls_back_to_the_folders(registry: CustomModelRegistry, change: Change) -> None:
    run_id = registry.get_model_version("m/2")["run_id"]
    path = registry.layout.run_file(run_id)
    corrupt(path, change)
    assert registry.load_model(f"runs:/{run_id}/model")["version"] == 2
    assert {p.kind for p in registry.check().problems} == {"run_map"}
    assert_repaired_clean(registry)
    assert json.loads(path.read_text()) == {"name": "m", "version": 2}


# -- the CLI: one line, never "unexpected" ------------------------------------------------------------

CLI_CASES = [
    pytest.param("m/2/meta.json", put("aliases", value=["champion"]), id="meta-aliases-list"),
    pytest.param("m/2/meta.json", put("model", value="x"), id="meta-model-string"),
    pytest.param("m/2/meta.json", DEEP_LIST, id="meta-100000-deep"),
    pytest.param("m/model.json", put("tags", value="ab"), id="model-tags-string"),
    pytest.param("m/index.json", put("last_version", value=10**12), id="index-last_version-absurd"),
    pytest.param("m/index-0.json", put("versions", value=[]), id="chunk-versions-list"),
]


@pytest.mark.parametrize(("relative", "change"), CLI_CASES)
def test_the_cli_reports_a_corrupt_record_in_one_line(
    registry: CustomModelRegistry, capsys: pytest.CaptureFixture[str], relative: str, change: Change
) -> None:
    corrupt(registry.root / relative, change)
    for argv in (["models"], ["versions", "m"], ["show", "m/2"], ["show", "m/Production"], ["check"]):
        capsys.readouterr()
        code = main(["--root", str(registry.root), *argv])
        _, err = capsys.readouterr()
        assert "unexpected" not in err and "Traceback" not in err, (argv, err)
        if code == EXIT_ERROR:
            assert err.startswith("fsregistry: error: ") and err.count("\n") == 1, (argv, err)
    if relative.endswith("meta.json"):
        capsys.readouterr()
        assert main(["--root", str(registry.root), "show", "m/2"]) == EXIT_ERROR
        assert str(registry.root / relative) in capsys.readouterr().err


# -- a folder where a record belongs -----------------------------------------------------------


def test_a_folder_in_place_of_the_index_stops_writers_with_the_registry_error_naming_it(
    registry: CustomModelRegistry,
) -> None:
    """The folder may hold someone's files: it is never removed, and a write that would
    replace it says what is in the way instead of raising the system's IsADirectoryError."""
    index = registry.layout.index_file("m")
    index.unlink()
    index.mkdir()
    (index / "notes.txt").write_text("someone's")
    with pytest.raises(CorruptRegistryError, match="is a folder where the registry keeps a file") as info:
        registry.save_model(Doubler(), "m")
    assert info.value.path == str(index)
    assert listed(registry) == [3, 2, 1]  # readers use the version folders
    report = registry.check(repair=True)  # never raises
    assert {p.kind for p in report.unresolved} >= {"stale_index"}
    assert (index / "notes.txt").read_text() == "someone's"
    shutil.rmtree(index)
    assert_repaired_clean(registry)


def test_a_folder_in_place_of_a_run_map_entry_is_reported_and_deletes_still_complete(
    registry: CustomModelRegistry,
) -> None:
    entry = registry.layout.run_file(registry.get_model_version("m/1")["run_id"])
    entry.unlink()
    entry.mkdir()
    report = registry.check(repair=True)  # never raises
    assert [p.path for p in report.unresolved if p.kind == "stray_file"] == [str(entry)]
    registry.delete_model("m/1")  # a cache it cannot remove does not fail a delete that happened
    assert listed(registry) == [3, 2] and entry.is_dir()
