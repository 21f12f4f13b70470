"""Hashes verified on load, check/repair, and the on-disk format version."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from toy_models import Doubler

from fsregistry import (
    CorruptRegistryError,
    CustomModelRegistry,
    FormatVersionError,
    IntegrityError,
    InvalidArgumentError,
    records,
)
from fsregistry.storage import files
from fsregistry.store.catalog import Catalog
from fsregistry.store.index import TAIL_LIMIT, read_refs, write_chunk


def _flip_byte(path: Path, offset: int = -5) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("filename", ["model.bin", "preprocessor.pkl"])
def test_a_flipped_byte_is_an_integrity_error_naming_the_file(
    model_registry: CustomModelRegistry, filename: str
) -> None:
    model_registry.save_model(Doubler(), "m", preprocessor_artifact={"scale": list(range(100))})
    _flip_byte(model_registry.layout.version_dir("m", 1) / filename)
    with pytest.raises(IntegrityError, match=filename) as info:
        model_registry.load_model("m/1")
    assert info.value.name == "m" and info.value.version == 1 and info.value.path.endswith(filename)
    report = model_registry.check()
    assert [(p.kind, Path(p.path or "").name) for p in report.problems] == [("integrity", filename)]
    assert not model_registry.check(repair=True).ok  # corruption is reported, never "repaired" away


def test_a_truncated_file_fails_before_loading(model_registry: CustomModelRegistry) -> None:
    model_registry.save_model(Doubler(), "m")
    path = model_registry.layout.version_dir("m", 1) / "model.bin"
    path.write_bytes(path.read_bytes()[:10])
    with pytest.raises(IntegrityError, match="size is 10 bytes"):
        model_registry.load_model("m/1")


def test_verification_can_be_turned_off(tmp_path: Path) -> None:
    registry = CustomModelRegistry(tmp_path / "reg", verify=False)
    registry.save_model(Doubler(), "m", description="x" * 10)
    meta_path = registry.layout.meta_file("m", 1)
    meta = json.loads(meta_path.read_text())
    for algorithm in ("sha256", "blake3"):  # every digest the record has (BLAKE3 where installed)
        if algorithm in meta["files"]["model.bin"]:
            meta["files"]["model.bin"][algorithm] = "0" * 64
    meta_path.write_text(json.dumps(meta))
    assert registry.load_model("m/1")["model"].factor == 2.0
    with pytest.raises(IntegrityError):
        registry.load_model("m/1", verify=True)
    with pytest.raises(IntegrityError):
        registry.load_model("m/1", verify="full")


def test_lost_index_is_rebuilt_from_meta_json(model_registry: CustomModelRegistry) -> None:
    for _ in range(3):
        model_registry.save_model(Doubler(), "m")
    model_registry.transition_model_stage("m/2", "Production")
    model_registry.set_alias("m", "champion", 3)
    model_registry.delete_model("m/3", force=True)
    for path in (model_registry.root / "m").glob("index*.json"):
        path.unlink()
    # readers still answer, from the version folders
    assert model_registry.load_model("m/Production")["version"] == 2
    assert [v["version"] for v in model_registry.list_versions("m")] == [2, 1]
    assert [p.kind for p in model_registry.check().problems] == ["stale_index"]
    assert model_registry.check(repair=True).ok
    assert model_registry.check().problems == []
    assert model_registry.save_model(Doubler(), "m") == "models:/m/4"  # 3 is never reused


def test_corrupt_index_is_detected_and_repaired(model_registry: CustomModelRegistry) -> None:
    model_registry.save_model(Doubler(), "m")
    (model_registry.root / "m" / "index.json").write_text("{not json")
    (model_registry.root / "m" / "index-0.json").write_text("[]")
    assert model_registry.load_model("m/latest")["version"] == 1
    assert model_registry.save_model(Doubler(), "m") == "models:/m/2"  # a writer rebuilds the index
    assert model_registry.check().problems == []


def test_orphaned_version_folder_is_indexed_by_repair(model_registry: CustomModelRegistry) -> None:
    for _ in range(TAIL_LIMIT + 2):  # some versions in a chunk, some in the tail
        model_registry.save_model(Doubler(), "m")
    model_dir = model_registry.root / "m"
    index_before = {p.name: p.read_bytes() for p in model_dir.glob("index*.json")}
    model_registry.save_model(Doubler(5.0), "m")
    # roll the index back to before this version, as if the writer died after its rename
    for path in model_dir.glob("index*.json"):
        path.unlink()
    for file_name, data in index_before.items():
        (model_dir / file_name).write_bytes(data)
    problems = model_registry.check().problems
    assert [p.kind for p in problems] == ["stale_index"] and f"[{TAIL_LIMIT + 3}]" in problems[0].detail
    assert model_registry.check(repair=True).ok
    assert model_registry.load_model("m/latest")["model"].factor == 5.0


def test_leftovers_of_dead_writers_are_removed(model_registry: CustomModelRegistry) -> None:
    model_registry.save_model(Doubler(), "m")
    dead_pid = 2**22 + 12345  # above the default pid_max: no such process
    leftover = model_registry.layout.staging / f"save.{dead_pid}.abc.incomplete"
    leftover.mkdir()
    (leftover / "model.bin").write_bytes(b"half")
    temp = model_registry.root / "m" / f".index.json.{dead_pid}.0123.incomplete"
    temp.write_text("{}")
    in_flight = model_registry.layout.staging / f"save.{os.getpid()}.xyz.incomplete"
    in_flight.mkdir()
    kinds = sorted(p.kind for p in model_registry.check().problems)
    assert kinds == ["leftover_staging", "leftover_temp"]
    assert model_registry.check(repair=True).ok
    assert not leftover.exists() and not temp.exists() and in_flight.exists()


def test_missing_meta_and_unexpected_files_are_reported(model_registry: CustomModelRegistry) -> None:
    model_registry.save_model(Doubler(), "m")
    model_registry.save_model(Doubler(), "m")
    (model_registry.layout.version_dir("m", 1) / "notes.txt").write_text("hi")
    model_registry.layout.meta_file("m", 2).write_text("garbage")
    kinds = sorted(p.kind for p in model_registry.check().problems)
    assert "corrupt_meta" in kinds and "unexpected_file" in kinds
    with pytest.raises(CorruptRegistryError, match=r"meta\.json"):
        model_registry.load_model("m/2")


def test_newer_formats_are_refused_clearly(tmp_path: Path) -> None:
    registry = CustomModelRegistry(tmp_path / "reg")
    registry.save_model(Doubler(), "m")
    meta_path = registry.layout.meta_file("m", 1)
    meta = json.loads(meta_path.read_text())
    meta["format"] = 2
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(FormatVersionError, match="format 2"):
        registry.load_model("m/1")
    files.write_json_atomic(registry.layout.marker, {"format": 99})
    with pytest.raises(FormatVersionError, match="upgrade fsregistry"):
        CustomModelRegistry(tmp_path / "reg")


def test_opening_a_non_registry_without_create_is_refused(tmp_path: Path) -> None:
    with pytest.raises(CorruptRegistryError, match="not an fsregistry root"):
        CustomModelRegistry(tmp_path, create=False)


def test_unrelated_folders_under_the_root_are_left_alone(tmp_path: Path) -> None:
    registry = CustomModelRegistry(tmp_path)
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "a.txt").write_text("mine")
    registry.save_model(Doubler(), "m")
    assert [m["name"] for m in registry.list_models()] == ["m"]
    assert registry.check(repair=True).ok
    assert (tmp_path / "notes" / "a.txt").read_text() == "mine"
    shutil.rmtree(tmp_path / "m")
    assert registry.list_models() == []


def test_a_new_registry_is_never_made_in_a_file_or_a_folder_of_other_things(tmp_path: Path) -> None:
    (tmp_path / "project").mkdir()
    (tmp_path / "project" / "train.py").write_text("print('hi')")
    with pytest.raises(InvalidArgumentError, match=r"not empty .*train\.py"):
        CustomModelRegistry(tmp_path / "project")
    assert sorted(p.name for p in (tmp_path / "project").iterdir()) == ["train.py"]  # nothing written
    (tmp_path / "a_file").write_text("x")
    with pytest.raises(InvalidArgumentError, match="is a file"):
        CustomModelRegistry(tmp_path / "a_file")
    volume = tmp_path / "volume"  # a freshly formatted disk mounted as the root
    (volume / "lost+found").mkdir(parents=True)
    CustomModelRegistry(volume).save_model(Doubler(), "m")
    assert CustomModelRegistry(volume).list_models()[0]["name"] == "m"


def test_a_meta_json_missing_a_field_is_reported_not_a_crash(model_registry: CustomModelRegistry) -> None:
    model_registry.save_model(Doubler(), "m")
    model_registry.save_model(Doubler(), "m")
    path = model_registry.layout.meta_file("m", 2)
    meta = json.loads(path.read_text())
    del meta["run_id"]
    path.write_text(json.dumps(meta))
    problems = model_registry.check().problems
    assert [(p.kind, p.version) for p in problems if p.kind == "corrupt_meta"] == [("corrupt_meta", 2)]


def test_a_corrupt_model_record_never_lets_a_deleted_number_be_reused(model_registry: CustomModelRegistry) -> None:
    for _ in range(3):
        model_registry.save_model(Doubler(), "m")
    model_registry.delete_model("m/3")
    (model_registry.root / "m" / "model.json").write_text("{garbage")
    # the highest number ever used is also in the index, so one lost record is recoverable
    with pytest.raises(CorruptRegistryError, match=r"model\.json"):
        model_registry.save_model(Doubler(), "m")  # writers refuse until repaired
    assert [m["name"] for m in model_registry.list_models()] == ["m"]  # readers still work
    assert "corrupt_model_record" in {p.kind for p in model_registry.check().problems}
    assert model_registry.check(repair=True).ok
    assert model_registry.save_model(Doubler(), "m") == "models:/m/4"


def _forbid_rebuild(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make listing fail instead of silently falling back to scanning the version folders,
    so a test sees whether the index itself is right."""

    def rebuild(*args: object, **kwargs: object) -> None:
        raise AssertionError("the index was stale: listing fell back to the version folders")

    monkeypatch.setattr(Catalog, "rebuild", rebuild)


def test_index_tail_is_folded_into_chunks_and_listing_stays_exact(
    model_registry: CustomModelRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Recent versions live in the index's tail (read from meta.json) until a save folds
    them into a chunk; stage moves, aliases, tags and deletes on either side of the fold
    keep listings, resolution and check() exact."""
    registry = model_registry
    total = 2 * TAIL_LIMIT + 5
    for i in range(total):
        registry.save_model(Doubler(float(i)), "m", metrics={"i": float(i)})
        refs = read_refs(registry.layout, "m")
        assert refs is not None
        assert refs.last_version - refs.indexed_through <= TAIL_LIMIT
    assert refs.indexed_through > 0 and (registry.root / "m" / "index-0.json").exists()
    in_chunk, in_tail = refs.indexed_through - 1, total - 1
    registry.transition_model_stage(f"m/{in_chunk}", "Production")
    registry.transition_model_stage(f"m/{in_tail}", "Staging")
    registry.set_alias("m", "champion", in_tail)
    registry.set_tag(f"m/{in_chunk}", "team", "a")
    registry.delete_model(f"m/{total}")
    registry.delete_model(f"m/{in_chunk - 1}")
    _forbid_rebuild(monkeypatch)
    listed = {v["version"]: v for v in registry.list_versions("m")}
    assert sorted(listed) == [v for v in range(1, total) if v != in_chunk - 1]
    assert listed[in_chunk]["stage"] == "Production" and listed[in_chunk]["tags"] == {"team": "a"}
    assert listed[in_tail]["stage"] == "Staging" and listed[in_tail]["aliases"] == ["champion"]
    assert all(listed[v]["metrics"] == {"i": float(v - 1)} for v in listed)
    assert registry.load_model("m@champion")["version"] == in_tail
    assert registry.load_model("m/latest")["version"] == total - 1
    assert registry.check().problems == []
    assert registry.save_model(Doubler(), "m") == f"models:/m/{total + 1}"
    assert registry.check().problems == []


def test_index_written_before_the_tail_existed_is_read_as_all_chunks(model_registry: CustomModelRegistry) -> None:
    """An index.json without ``indexed_through`` (an older writer) has every version in its
    chunks; it is read that way, and the next save carries on from it."""
    for _ in range(3):
        model_registry.save_model(Doubler(), "m")
    refs, entries = model_registry.catalog.rebuild("m")
    write_chunk(model_registry.layout, "m", 0, entries)
    legacy = refs.to_json()
    del legacy["indexed_through"]
    (model_registry.root / "m" / "index.json").write_text(json.dumps(legacy))
    read = read_refs(model_registry.layout, "m")
    assert read is not None and read.indexed_through == 3
    assert [v["version"] for v in model_registry.list_versions("m")] == [3, 2, 1]
    assert model_registry.save_model(Doubler(), "m") == "models:/m/4"
    assert [v["version"] for v in model_registry.list_versions("m")] == [4, 3, 2, 1]
    assert model_registry.check().problems == []


def test_deleted_tail_version_stays_gone_after_a_lost_chunk_is_rebuilt(
    model_registry: CustomModelRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A lost chunk is rebuilt from the folders up to ``indexed_through`` only: tail versions
    stay out of it, so deleting one and folding later cannot bring it back."""
    registry = model_registry
    for _ in range(TAIL_LIMIT + 4):
        registry.save_model(Doubler(), "m")
    refs = read_refs(registry.layout, "m")
    assert refs is not None and refs.indexed_through < refs.last_version
    (registry.root / "m" / "index-0.json").unlink()  # lost (a cache wipe)
    registry.set_tag("m/5", "k", "v")  # rewrites chunk 0 from the folders
    registry.delete_model(f"m/{refs.last_version}")  # a tail version
    for _ in range(TAIL_LIMIT + 2):  # fold the tail
        registry.save_model(Doubler(), "m")
    _forbid_rebuild(monkeypatch)
    listed = [v["version"] for v in registry.list_versions("m")]
    assert refs.last_version not in listed and len(listed) == 2 * TAIL_LIMIT + 5
    assert registry.check().problems == []


def test_older_writer_after_a_newer_one_is_healed_by_the_next_write(
    model_registry: CustomModelRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An older process rewrites index.json without ``indexed_through`` while versions sit
    in the tail (not in any chunk): the next write notices and rebuilds the chunks."""
    registry = model_registry
    for _ in range(TAIL_LIMIT + 4):
        registry.save_model(Doubler(), "m")
    index_file = registry.root / "m" / "index.json"
    data = json.loads(index_file.read_text())
    del data["indexed_through"]
    index_file.write_text(json.dumps(data))
    registry.set_tag("m/1", "k", "v")  # any write
    _forbid_rebuild(monkeypatch)
    assert [v["version"] for v in registry.list_versions("m")] == list(range(TAIL_LIMIT + 4, 0, -1))
    assert registry.check().problems == []


def test_a_wide_gap_above_the_chunks_is_listed_not_probed(
    model_registry: CustomModelRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An import that keeps a far higher number leaves a gap of unused numbers above the
    chunks; reading and folding the tail lists the folder instead of trying each number."""
    registry = model_registry
    for _ in range(3):
        registry.save_model(Doubler(), "m")
    refs = read_refs(registry.layout, "m")
    assert refs is not None
    refs.last_version = 10**7
    reads: list[int] = []
    real_read_meta = records.read_meta

    def counting(layout: object, name: str, version: int) -> records.VersionRecord:
        reads.append(version)
        return real_read_meta(layout, name, version)  # type: ignore[arg-type]

    monkeypatch.setattr(records, "read_meta", counting)
    entries = registry.catalog.indexed_versions("m", refs)
    assert entries is not None and sorted(entries) == [1, 2, 3]
    assert len(reads) <= 3
    assert [m.version for m in registry.catalog._tail("m", refs, {})] == [1, 2, 3]


def test_corrupt_meta_advice_names_what_a_person_can_do(model_registry: CustomModelRegistry) -> None:
    model_registry.save_model(Doubler(), "m")
    model_registry.save_model(Doubler(), "m")
    model_registry.layout.meta_file("m", 1).write_text("{not json")
    os.remove(model_registry.layout.meta_file("m", 2))
    report = model_registry.check(repair=True)
    details = {p.version: p.detail for p in report.problems if p.kind == "corrupt_meta"}
    assert set(details) == {1, 2} and not report.ok
    assert all("check(repair=True)" not in d for d in details.values())
    assert "restore the version folder from a backup" in details[1] and "fsregistry delete m/1" in details[1]
    assert "meta.json is missing" in details[2] and "remove the folder" in details[2]
    model_registry.delete_model("m/1")  # the advice works
    assert [p.version for p in model_registry.check().problems if p.kind == "corrupt_meta"] == [2]


def test_stray_files_in_model_folders_and_the_root_are_reported_never_deleted(tmp_path: Path) -> None:
    registry = CustomModelRegistry(tmp_path / "reg")
    registry.save_model(Doubler(), "m")
    strays = [registry.root / "notes.txt", registry.root / "m" / "backup.json", registry.root / "m" / "old"]
    strays[0].write_text("mine")
    strays[1].write_text("{}")
    strays[2].mkdir()
    (registry.root / "unrelated").mkdir()  # a folder under the root that is not a model: left alone
    found = [p for p in registry.check().problems if p.kind == "stray_file"]
    assert sorted(p.path or "" for p in found) == sorted(str(s) for s in strays)
    names = {Path(p.path or "").name: p.name for p in found}
    assert names == {"notes.txt": None, "backup.json": "m", "old": "m"}
    assert all(f"{Path(p.path or '').name} is not a file of the registry" in p.detail for p in found)
    report = registry.check(repair=True)
    assert not report.ok and [p.kind for p in report.unresolved] == ["stray_file"] * 3
    assert all(s.exists() for s in strays)
    assert registry.load_model("m/1")["model"].factor == 2.0


def test_repair_recreates_a_removed_run_map_on_the_same_instance(model_registry: CustomModelRegistry) -> None:
    model_registry.save_model(Doubler(), "m")
    shutil.rmtree(model_registry.layout.runs)
    assert [p.kind for p in model_registry.check().problems] == ["run_map"]
    assert model_registry.check(repair=True).ok
    run_id = model_registry.get_model_version("m/1")["run_id"]
    assert model_registry.load_model(f"runs:/{run_id}/model")["version"] == 1


def test_a_version_of_a_newer_format_is_reported_not_raised(model_registry: CustomModelRegistry) -> None:
    model_registry.save_model(Doubler(), "m")
    model_registry.save_model(Doubler(), "m")
    path = model_registry.layout.meta_file("m", 2)
    meta = json.loads(path.read_text())
    meta["format"] = 99
    path.write_text(json.dumps(meta))
    problems = model_registry.check().problems
    assert [(p.kind, p.version) for p in problems if p.kind == "corrupt_meta"] == [("corrupt_meta", 2)]
