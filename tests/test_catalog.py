"""Unit tests of fsregistry.store.catalog and store.index: the index is a cache of meta.json."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from toy_models import Doubler

from fsregistry import CustomModelRegistry, records
from fsregistry.errors import CorruptRecordError, CorruptRegistryError
from fsregistry.storage.layout import Layout
from fsregistry.store import index as idx
from fsregistry.store.catalog import Catalog, derive_refs


def _entry(**claims: Any) -> dict[str, Any]:
    return {"created_at": "2024-01-01T00:00:00", **claims}


def _registry(tmp_path: Path) -> CustomModelRegistry:
    registry = CustomModelRegistry(tmp_path / "reg")
    registry.save_model(Doubler(1.0), "m", stage="Production", aliases=["champ"])
    registry.save_model(Doubler(2.0), "m")
    return registry


def _edit_meta(registry: CustomModelRegistry, number: int, **changes: Any) -> None:
    path = registry.layout.meta_file("m", number)
    path.write_text(json.dumps({**json.loads(path.read_text()), **changes}))


def _meta(registry: CustomModelRegistry, version: int) -> dict[str, Any]:
    return dict(json.loads(registry.layout.meta_file("m", version).read_text()))


# -- derive_refs ----------------------------------------------------------------------------------


def test_duplicate_stage_claims_are_settled_by_order_not_by_version() -> None:
    entries = {
        1: _entry(stage="Production", stage_seq=5, stage_changed_at="2024-01-01T00:00:00"),
        2: _entry(stage="Production", stage_seq=3, stage_changed_at="2025-01-01T00:00:00"),
        3: _entry(stage="Archived"),
    }
    refs = derive_refs("m", entries)
    assert refs.stages == {"Production": 1}
    assert refs.claim_seq == refs.applied_seq == 5 and not refs.claims_pending


def test_claims_without_order_fall_back_to_time_then_version() -> None:
    entries = {
        1: _entry(stage="Staging", stage_changed_at="2025-01-01T00:00:00", aliases={"a": "2025-01-01T00:00:00"}),
        2: _entry(stage="Staging", stage_changed_at="2024-01-01T00:00:00", aliases={"a": "2025-01-01T00:00:00"}),
    }
    refs = derive_refs("m", entries)
    assert refs.stages == {"Staging": 1} and refs.aliases == {"a": 2}


def test_duplicate_alias_claims_go_to_the_highest_order() -> None:
    entries = {
        1: _entry(aliases={"a": "2025-06-01T00:00:00"}, alias_seq={"a": 2}),
        2: _entry(aliases={"a": "2024-01-01T00:00:00", "b": "2024-01-01T00:00:00"}, alias_seq={"a": 4}),
    }
    assert derive_refs("m", entries).aliases == {"a": 2, "b": 2}


def test_derived_counts_respect_the_never_reuse_floor() -> None:
    entries = {1: _entry(), 4: _entry(stage_changed_at="2026-01-01T00:00:00")}
    refs = derive_refs("m", entries, floor=7)
    assert (refs.last_version, refs.latest, refs.count, refs.indexed_through) == (7, 4, 2, 7)
    assert refs.updated_at == "2026-01-01T00:00:00"
    empty = derive_refs("m", {}, floor=3)
    assert (empty.last_version, empty.latest, empty.count, empty.updated_at) == (3, None, 0, None)


# -- Refs and the index files ---------------------------------------------------------------------


def test_refs_round_trip_through_json() -> None:
    refs = idx.Refs("m", last_version=5, latest=4, count=3, stages={"Production": 2}, aliases={"a": 4},
                    updated_at="t", indexed_through=2, claim_seq=7, applied_seq=6)  # fmt: skip
    back = idx.Refs.from_json(json.loads(json.dumps(refs.to_json())))
    assert back == refs and not back.legacy and back.claims_pending


def test_an_index_from_before_the_tail_is_all_chunks() -> None:
    old = idx.Refs.from_json({"name": "m", "last_version": 5, "latest": 5, "count": 5})
    assert old.legacy and old.indexed_through == 5
    capped = idx.Refs.from_json({"name": "m", "last_version": 5, "indexed_through": 9})
    assert capped.indexed_through == 5 and not capped.legacy


def test_a_missing_or_corrupt_index_reads_as_none_for_readers(tmp_path: Path) -> None:
    registry = _registry(tmp_path)
    layout = registry.layout
    assert idx.read_refs(layout, "m") is not None and idx.read_refs(layout, "absent") is None
    layout.index_file("m").write_text(json.dumps({"format": 1, "name": "m", "last_version": -1}))
    assert idx.read_refs(layout, "m") is None
    with pytest.raises(CorruptRecordError) as info:
        idx.load_refs(layout, "m")
    assert info.value.field == "last_version"


def test_chunks_are_written_removed_and_found_by_listing(tmp_path: Path) -> None:
    layout = Layout(tmp_path)
    (tmp_path / "m").mkdir()
    summary = {"run_id": "a", "created_at": "t"}
    idx.write_all_chunks(layout, "m", {1: {**summary, "version": 1}, 600: {**summary, "version": 600}})
    (tmp_path / "m" / "index-01.json").write_text("{}")
    assert idx.chunk_numbers(layout, "m") == [0, 2]
    assert set(idx.read_all_versions(layout, "m", 600) or {}) == {1, 600}
    assert set(idx.read_all_versions(layout, "m", 256) or {}) == {1}  # chunks above are not read
    assert idx.read_all_versions(layout, "m", 0) == {}
    idx.write_all_chunks(layout, "m", {300: {**summary, "version": 300}})
    assert idx.chunk_numbers(layout, "m") == [1]  # stale chunks removed
    idx.write_chunk(layout, "m", 1, {})
    assert idx.chunk_numbers(layout, "m") == []


def test_one_unreadable_chunk_makes_the_whole_listing_unknown(tmp_path: Path) -> None:
    registry = _registry(tmp_path)
    registry.catalog.settle_claims("m")  # writes chunk 0
    assert set(idx.read_all_versions(registry.layout, "m", 2) or {}) == {1, 2}
    registry.layout.chunk_file("m", 0).write_text("[]")
    assert idx.read_all_versions(registry.layout, "m", 2) is None
    idx.remove_index(registry.layout, "m")
    assert sorted(p.name for p in (registry.root / "m").glob("index*")) == []


# -- readers --------------------------------------------------------------------------------------


def test_a_reader_rebuilds_a_missing_index_in_memory_only(tmp_path: Path) -> None:
    registry = _registry(tmp_path)
    expected = registry.catalog.refs("m")
    registry.layout.index_file("m").unlink()
    refs = Catalog(registry.layout).refs("m")
    assert (refs.latest, refs.count, refs.stages, refs.aliases) == (2, 2, {"Production": 1}, {"champ": 1})
    assert refs.last_version == expected.last_version
    assert not registry.layout.index_file("m").exists()  # readers never write
    empty = idx.Refs("m", last_version=2, indexed_through=2)  # "no versions" is confirmed
    registry.layout.index_file("m").write_text(json.dumps(empty.to_json()))
    assert registry.catalog.refs("m").latest == 2


def test_versions_falls_back_to_the_folders_when_a_chunk_is_lost(tmp_path: Path) -> None:
    registry = _registry(tmp_path)
    registry.catalog.settle_claims("m")
    registry.layout.chunk_file("m", 0).unlink()
    assert sorted(registry.catalog.versions("m")) == [1, 2]


def test_agrees_checks_a_pointer_against_the_holders_record(tmp_path: Path) -> None:
    catalog = _registry(tmp_path).catalog
    assert catalog.agrees("m", "alias", "champ", 1) and not catalog.agrees("m", "alias", "champ", 2)
    assert catalog.agrees("m", "stage", "Production", 1) and not catalog.agrees("m", "stage", "Production", 2)
    assert catalog.agrees("m", "latest", None, None) and not catalog.agrees("m", "latest", "latest", 9)


def test_run_target_trusts_the_map_only_when_the_version_agrees(tmp_path: Path) -> None:
    registry = _registry(tmp_path)
    run_1, run_2 = (_meta(registry, v)["run_id"] for v in (1, 2))
    assert registry.catalog.run_target(run_1) == ("m", 1)
    assert registry.catalog.run_target("0" * 32) is None
    registry.catalog.record_run(run_2, "m", 1)  # a stale map entry
    assert registry.catalog.run_target(run_2) is None


# -- writers --------------------------------------------------------------------------------------


def test_writer_refs_indexes_a_version_published_after_the_index(tmp_path: Path) -> None:
    registry = CustomModelRegistry(tmp_path / "reg")
    registry.save_model(Doubler(), "m")
    old_index = registry.layout.index_file("m").read_bytes()
    registry.save_model(Doubler(), "m", stage="Staging", aliases=["new"])
    registry.layout.index_file("m").write_bytes(old_index)  # as if its writer died before the index
    refs = registry.catalog.writer_refs("m")
    assert (refs.last_version, refs.latest, refs.count) == (2, 2, 2)
    assert refs.stages == {"Staging": 2} and refs.aliases == {"new": 2}
    assert idx.read_refs(registry.layout, "m") == refs  # and written back


def test_writer_refs_never_reuses_the_number_of_an_unreadable_folder(tmp_path: Path) -> None:
    registry = _registry(tmp_path)
    (registry.root / "m" / "3").mkdir()
    (registry.root / "m" / "3" / "meta.json").write_text("{broken")
    refs = registry.catalog.writer_refs("m")
    assert (refs.last_version, refs.latest, refs.count) == (3, 2, 2)


def test_writer_refs_rebuilds_a_lost_or_implausible_index(tmp_path: Path) -> None:
    registry = _registry(tmp_path)
    registry.layout.index_file("m").unlink()
    assert registry.catalog.writer_refs("m").stages == {"Production": 1}
    assert registry.layout.index_file("m").exists()
    edited = idx.Refs("m", last_version=10**12, latest=2, count=2, indexed_through=2)
    registry.layout.index_file("m").write_text(json.dumps(edited.to_json()))
    assert registry.catalog.writer_refs("m").last_version == 2


def test_settle_claims_clears_superseded_claims_in_meta_json_then_the_index(tmp_path: Path) -> None:
    registry = _registry(tmp_path)
    now = "2030-01-01T00:00:00+00:00"
    _edit_meta(registry, 2, stage="Production", stage_seq=5, aliases={"champ": now}, alias_seq={"champ": 5})
    refs = registry.catalog.settle_claims("m", claim_seq=9)
    loser, winner = _meta(registry, 1), _meta(registry, 2)
    assert loser["stage"] == "Archived" and loser["stage_history"][-1]["from"] == "Production"
    assert "stage_seq" not in loser and loser["aliases"] == {} and "alias_seq" not in loser
    assert winner["stage"] == "Production" and winner["aliases"] == {"champ": now}
    assert (refs.stages, refs.aliases) == ({"Production": 2}, {"champ": 2})
    assert refs.claim_seq == refs.applied_seq == 9 and idx.read_refs(registry.layout, "m") == refs
    assert registry.catalog.settle_claims("m").claim_seq == 5  # the highest order in any record


def test_take_claim_hands_out_increasing_numbers_and_marks_claims_pending(tmp_path: Path) -> None:
    registry = _registry(tmp_path)
    refs = registry.catalog.writer_refs("m")
    first = registry.catalog.take_claim("m", refs)
    second = registry.catalog.take_claim("m", refs)
    assert second == first + 1 and first == refs.applied_seq + 1
    on_disk = idx.read_refs(registry.layout, "m")
    assert on_disk is not None and on_disk.claim_seq == second and on_disk.claims_pending
    settled = registry.catalog.writer_refs("m")  # a writer that finds it pending settles
    assert not settled.claims_pending and settled.claim_seq == second
    assert registry.catalog.take_claim("m", settled) == second + 1  # never handed out twice
    registry.catalog.record("m", [records.read_meta(registry.layout, "m", 2)], settled)  # the change reached the index
    on_disk = idx.read_refs(registry.layout, "m")
    assert on_disk is not None and not on_disk.claims_pending


def test_a_writer_needs_the_deleted_floor_a_reader_does_not(tmp_path: Path) -> None:
    registry = _registry(tmp_path)
    registry.layout.model_file("m").write_text("{broken")
    with pytest.raises(CorruptRegistryError):
        registry.catalog.rebuild("m")
    assert registry.catalog.rebuild("m", for_reader=True)[0].latest == 2


def test_scan_reports_unreadable_versions_and_forget_drops_deleted_ones(tmp_path: Path) -> None:
    registry = _registry(tmp_path)
    _edit_meta(registry, 2, version=7)
    entries, broken = registry.catalog.scan("m")
    assert list(entries) == [1] and [v for v, _ in broken] == [2] and "belongs to 2" in broken[0][1]
    refs = idx.Refs("m", last_version=2, latest=2, count=2, stages={"Production": 1}, aliases={"champ": 1})
    registry.layout.set_aside("m", 2)  # a delete moves the folder out of sight first
    registry.catalog.forget("m", [2], refs)
    assert (refs.count, refs.latest, refs.stages) == (1, 1, {"Production": 1})
    registry.catalog.forget("m", [1], refs)
    assert (refs.count, refs.latest, refs.stages, refs.aliases) == (0, None, {}, {})
    assert idx.read_refs(registry.layout, "m") == refs
