"""Stage and alias claims survive a crash in the right order (fsregistry.records.claims).

A "crash" is injected before each record write an operation makes (every
``write_json_atomic``: the claim's order number in ``index.json``, the new holder's
``meta.json``, the old holder's, the index): the exception is a ``BaseException`` that no
code of the registry catches, so nothing after it runs, as with ``kill -9``.  Then a healthy
promotion of another version, then ``check(repair=True)``: the final state must be exactly
what the acknowledged operations imply, and the crashed operation either happened in full or
not at all.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from toy_models import Doubler

from fsregistry import CustomModelRegistry, ProtectedVersionError
from fsregistry.records import claims
from fsregistry.storage import files


class Crash(BaseException):
    """The process died here (not an ``Exception``: nothing in the registry handles it)."""


def _registry(tmp_path: Path) -> CustomModelRegistry:
    registry = CustomModelRegistry(tmp_path / "reg")
    registry.save_model(Doubler(1.0), "m", stage="Production", aliases=["champ"])
    registry.save_model(Doubler(2.0), "m")
    registry.save_model(Doubler(3.0), "m")
    return registry


def _meta(registry: CustomModelRegistry, version: int) -> dict[str, Any]:
    return files.read_json(registry.layout.meta_file("m", version))


def _writes(op: Callable[[CustomModelRegistry], None], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> int:
    """How many record writes ``op`` makes when nothing fails."""
    registry = _registry(tmp_path / "count")
    count = 0
    real = files.write_json_atomic

    def counting(*args: Any, **kwargs: Any) -> None:
        nonlocal count
        count += 1
        real(*args, **kwargs)

    monkeypatch.setattr(files, "write_json_atomic", counting)
    op(registry)
    monkeypatch.undo()
    return count


def _crash_at(
    step: int, op: Callable[[CustomModelRegistry], None], registry: CustomModelRegistry, mp: pytest.MonkeyPatch
) -> None:
    real = files.write_json_atomic
    seen = 0

    def crashing(*args: Any, **kwargs: Any) -> None:
        nonlocal seen
        seen += 1
        if seen == step:
            raise Crash(f"killed before write {step}")
        real(*args, **kwargs)

    mp.setattr(files, "write_json_atomic", crashing)
    try:
        with pytest.raises(Crash):
            op(registry)
    finally:
        mp.undo()


OPS: dict[str, Callable[[CustomModelRegistry], None]] = {
    "promote": lambda r: r.transition_model_stage("m/2", "Production"),
    "set_alias": lambda r: r.set_alias("m", "champ", 2),
    "delete_alias": lambda r: r.delete_alias("m", "champ"),
    "save_with_stage": lambda r: r.save_model(Doubler(4.0), "m", stage="Production", aliases=["champ"]),
}


def _stage_and_alias_holders(registry: CustomModelRegistry) -> tuple[list[int], list[int]]:
    """Versions whose own meta.json claims Production / the alias ``champ``."""
    versions = registry.layout.version_numbers("m")
    metas = {v: _meta(registry, v) for v in versions}
    production = [v for v, m in metas.items() if m.get("stage") == "Production"]
    champ = [v for v, m in metas.items() if "champ" in (m.get("aliases") or {})]
    return production, champ


@pytest.mark.parametrize("op_name", OPS)
def test_a_crash_at_any_step_then_a_healthy_promotion_leaves_exactly_the_acknowledged_state(
    op_name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    op = OPS[op_name]
    steps = _writes(op, tmp_path, monkeypatch)
    assert steps >= 2
    for step in range(1, steps + 1):
        registry = _registry(tmp_path / f"step-{step}")
        _crash_at(step, op, registry, monkeypatch)

        # readers in between see one holder, never an error
        assert registry.get_model_by_stage("m", "Production")["version"] in (1, 2, 4), step

        # healthy, acknowledged operations by the next writer
        registry.transition_model_stage("m/3", "Production")
        registry.set_alias("m", "champ", 3)
        report = registry.check(repair=True)
        assert report.ok, (step, report.to_dict())
        assert registry.check().problems == [], step

        production, champ = _stage_and_alias_holders(registry)
        assert (production, champ) == ([3], [3]), step
        model = registry.get_model("m")
        assert model["stages"] == {"Production": 3} and model["aliases"] == {"champ": 3}, step
        assert registry.get_model_by_stage("m", "Production")["version"] == 3
        assert registry.load_model("models:/m@champ")["version"] == 3
        assert _meta(registry, 1)["stage"] == "Archived", step  # displaced by the crashed op or the healthy one
        assert _meta(registry, 2)["stage"] in (None, "Archived"), step  # crashed promotion: in full or not at all
        listed = {v["version"]: v for v in registry.list_versions("m")}
        assert {v: e["stage"] for v, e in listed.items()} == {v: _meta(registry, v)["stage"] for v in listed}
        # a superseded claim is cleared, so nothing but v3 is protected from a plain delete
        registry.delete_model("m/2")
        registry.delete_model("m/1")
        assert registry.check().problems == [], step


@pytest.mark.parametrize("op_name", OPS)
def test_a_crash_then_repair_applies_the_operation_in_full_or_not_at_all(
    op_name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    op = OPS[op_name]
    before = ([1], [1])
    after = {
        "promote": ([2], [1]),
        "set_alias": ([1], [2]),
        "delete_alias": ([1], []),
        "save_with_stage": ([4], [4]),
    }[op_name]
    for step in range(1, _writes(op, tmp_path, monkeypatch) + 1):
        registry = _registry(tmp_path / f"step-{step}")
        _crash_at(step, op, registry, monkeypatch)
        report = registry.check(repair=True)
        assert report.ok, (step, report.to_dict())
        production, champ = _stage_and_alias_holders(registry)
        assert (production, champ) in (before, after), step
        model = registry.get_model("m")
        assert model["stages"] == {"Production": production[0]}, step
        assert model["aliases"] == ({"champ": champ[0]} if champ else {}), step


def test_the_next_writer_settles_an_unfinished_claim_without_a_repair(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A promotion killed after the new holder's meta.json: the next writer (of anything)
    settles it, so no version is left claiming a stage it does not hold."""
    registry = _registry(tmp_path)
    _crash_at(3, OPS["promote"], registry, monkeypatch)  # order number, new holder, then dead
    assert _meta(registry, 1)["stage"] == _meta(registry, 2)["stage"] == "Production"
    registry.set_tag("m/3", "k", "v")
    assert [_meta(registry, v)["stage"] for v in (1, 2)] == ["Archived", "Production"]
    assert registry.check().problems == []


def test_claims_left_by_writers_whose_lock_did_not_hold_are_settled_by_their_order(tmp_path: Path) -> None:
    """Two writers that both took order number 5 (a lock that did not hold): every reader,
    writer and repair picks the same winner, by time and then version."""
    entries = {
        1: {"stage": "Production", "stage_seq": 5, "stage_changed_at": "2026-01-01T00:00:02+00:00"},
        2: {"stage": "Production", "stage_seq": 5, "stage_changed_at": "2026-01-01T00:00:01+00:00"},
        3: {"stage": "Production", "stage_seq": 4, "stage_changed_at": "2026-01-01T00:00:09+00:00"},
        4: {"aliases": {"a": "2026-01-01T00:00:00+00:00"}, "alias_seq": {"a": 7}},
        5: {"aliases": {"a": "2026-01-01T00:00:05+00:00"}},
    }
    settled = claims.settle(entries)
    assert settled.stages == {"Production": 1}
    assert settled.aliases == {"a": 4}
    assert settled.stale_stages == [(2, "Production"), (3, "Production")]
    assert settled.stale_aliases == [(5, "a")]
    assert settled.max_seq == 7


def test_claims_without_an_order_fall_back_to_their_time() -> None:
    """Records written before claims had an order: the later claim wins, as it always did."""
    entries = {
        1: {"stage": "Staging", "stage_changed_at": "2026-01-01T00:00:02+00:00"},
        2: {"stage": "Staging", "stage_changed_at": "2026-01-01T00:00:01+00:00"},
    }
    assert claims.settle(entries).stages == {"Staging": 1}


def test_order_numbers_are_never_handed_out_twice(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    registry = _registry(tmp_path)
    first = _meta(registry, 1)["stage_seq"]
    _crash_at(2, OPS["promote"], registry, monkeypatch)  # took a number, then died
    registry.transition_model_stage("m/3", "Production")
    assert _meta(registry, 3)["stage_seq"] > first + 1
    index = files.read_json(registry.layout.index_file("m"))
    assert index["claim_seq"] == index["applied_seq"] == _meta(registry, 3)["stage_seq"]


def test_a_claim_from_a_bundle_means_nothing_here(tmp_path: Path) -> None:
    source = _registry(tmp_path / "a")
    bundle = source.export_model("m/1", tmp_path / "m.fsr")
    target = CustomModelRegistry(tmp_path / "b")
    target.import_model(bundle)
    meta = files.read_json(target.layout.meta_file("m", 1))
    assert meta["stage"] is None and "stage_seq" not in meta and "alias_seq" not in meta


def test_a_superseded_claim_protects_nothing_from_a_delete(tmp_path: Path) -> None:
    """Two writers whose lock did not hold both claimed Production and both finished: the
    older claim loses, so deleting its version needs no force (and the winner still does)."""
    registry = _registry(tmp_path)
    meta = _meta(registry, 2)
    meta["stage"] = "Production"
    meta["stage_seq"] = _meta(registry, 1)["stage_seq"] - 1  # older than v1's claim
    files.write_json_atomic(registry.layout.meta_file("m", 2), meta)
    registry.delete_model("m/2")
    with pytest.raises(ProtectedVersionError, match="stage Production"):
        registry.delete_model("m/1")
