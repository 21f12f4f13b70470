"""Retention: prune deletes old versions and never one that is staged, aliased or latest."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from toy_models import Doubler

from fsregistry import CustomModelRegistry, InvalidArgumentError, ModelNotFoundError
from fsregistry.maintenance.retention import parse_age, prune, select


def fill(registry: CustomModelRegistry, count: int, name: str = "m") -> None:
    for i in range(count):
        registry.save_model(Doubler(factor=float(i)), name, metadata={"i": i})


def versions(registry: CustomModelRegistry, name: str = "m") -> list[int]:
    return sorted(v["version"] for v in registry.list_versions(name))


def tree_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def test_keep_last_deletes_the_older_versions_and_reclaims_space(model_registry: CustomModelRegistry) -> None:
    fill(model_registry, 5)
    before = tree_size(model_registry.root / "m")
    gone = model_registry.prune("m", keep_last=2)
    assert [v["version"] for v in gone] == [1, 2, 3]
    assert versions(model_registry) == [4, 5]
    assert not any((model_registry.root / "m" / str(v)).exists() for v in (1, 2, 3))
    assert tree_size(model_registry.root / "m") < before
    assert list(model_registry.layout.staging.iterdir()) == []


def test_returned_entries_describe_what_was_deleted(model_registry: CustomModelRegistry) -> None:
    fill(model_registry, 3)
    listed = {v["version"]: v for v in model_registry.list_versions("m")}
    gone = model_registry.prune("m", keep_last=1)
    assert gone == [listed[1], listed[2]]
    assert all(v["size"] > 0 and v["uri"] == f"models:/m/{v['version']}" for v in gone)


def test_staged_aliased_and_latest_versions_are_never_deleted(model_registry: CustomModelRegistry) -> None:
    fill(model_registry, 6)
    model_registry.transition_model_stage("m/1", "Production")
    model_registry.set_alias("m", "shadow", 2)
    model_registry.transition_model_stage("m/3", "Staging")
    model_registry.transition_model_stage("m/4", "Archived")
    gone = model_registry.prune("m", keep_last=0)
    assert [v["version"] for v in gone] == [4, 5]
    assert versions(model_registry) == [1, 2, 3, 6]


def test_dry_run_lists_without_deleting(model_registry: CustomModelRegistry) -> None:
    fill(model_registry, 4)
    would = model_registry.prune("m", keep_last=1, dry_run=True)
    assert [v["version"] for v in would] == [1, 2, 3]
    assert versions(model_registry) == [1, 2, 3, 4]
    assert model_registry.prune("m", keep_last=1) == would


def test_version_numbers_are_never_reused_after_a_prune(model_registry: CustomModelRegistry) -> None:
    fill(model_registry, 3)
    model_registry.prune("m", keep_last=1)
    assert model_registry.save_model(Doubler(), "m") == "models:/m/4"
    assert versions(model_registry) == [3, 4]


def test_older_than_spares_recent_versions(model_registry: CustomModelRegistry) -> None:
    fill(model_registry, 3)
    assert model_registry.prune("m", older_than="30d") == []
    assert model_registry.prune("m", keep_last=0, older_than=dt.timedelta(hours=1)) == []
    assert [v["version"] for v in model_registry.prune("m", older_than="0s")] == [1, 2]


def test_both_rules_must_hold(model_registry: CustomModelRegistry) -> None:
    fill(model_registry, 4)
    assert model_registry.prune("m", keep_last=2, older_than="30d") == []
    assert [v["version"] for v in model_registry.prune("m", keep_last=3, older_than=0)] == [1]
    assert versions(model_registry) == [2, 3, 4]


def test_nothing_to_prune_returns_an_empty_list(model_registry: CustomModelRegistry) -> None:
    fill(model_registry, 2)
    assert model_registry.prune("m", keep_last=5) == []
    assert versions(model_registry) == [1, 2]


def test_a_version_protected_on_disk_but_not_in_a_stale_listing_is_kept(
    model_registry: CustomModelRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    fill(model_registry, 3)
    model_registry.transition_model_stage("m/1", "Production")
    real = model_registry.store.list_versions

    def stale(name: str, tags: Any = None) -> list[dict[str, Any]]:
        return [{**v, "stage": None} for v in real(name, tags)]  # the index missed the promotion

    monkeypatch.setattr(model_registry.store, "list_versions", stale)
    assert [v["version"] for v in prune(model_registry.store, "m", keep_last=1)] == [2]
    monkeypatch.undo()
    assert versions(model_registry) == [1, 3]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({}, "needs a rule"),
        ({"keep_last": -1}, "keep_last"),
        ({"keep_last": 1.5}, "keep_last"),
        ({"keep_last": True}, "keep_last"),
        ({"older_than": "soon"}, "invalid age"),
        ({"older_than": "30x"}, "invalid age"),
        ({"older_than": "99999999999d"}, "out of range"),
        ({"older_than": "2000000w"}, "before year 1"),
    ],
)
def test_bad_rules_are_refused(model_registry: CustomModelRegistry, kwargs: dict[str, Any], message: str) -> None:
    fill(model_registry, 2)
    with pytest.raises(InvalidArgumentError, match=message):
        model_registry.prune("m", **kwargs)
    assert versions(model_registry) == [1, 2]


def test_an_unknown_model_is_not_found(model_registry: CustomModelRegistry) -> None:
    with pytest.raises(ModelNotFoundError):
        model_registry.prune("nope", keep_last=1)


@pytest.mark.parametrize(
    "text, seconds",
    [
        ("30d", 30 * 86400),
        ("12h", 43200),
        ("2w", 14 * 86400),
        ("90m", 5400),
        ("45s", 45),
        (" 1.5H ", 5400),
    ],
)
def test_parse_age(text: str, seconds: float) -> None:
    assert parse_age(text) == dt.timedelta(seconds=seconds)


def test_parse_age_passes_timedeltas_numbers_and_none() -> None:
    assert parse_age(None) is None
    assert parse_age(dt.timedelta(days=2)) == dt.timedelta(days=2)
    assert parse_age(60) == dt.timedelta(minutes=1)


def test_select_is_a_pure_rule() -> None:
    now = dt.datetime(2026, 1, 31, tzinfo=dt.timezone.utc)
    entries: list[dict[str, Any]] = [
        {"version": v, "created_at": (now - dt.timedelta(days=40 - v)).isoformat(), "stage": None, "aliases": []}
        for v in range(1, 8)
    ]
    entries[1]["stage"] = "Production"
    entries[2]["aliases"] = ["champion"]
    entries[3]["created_at"] = "not a date"
    cutoff = now - dt.timedelta(days=35)
    assert [v["version"] for v in select(entries, keep_last=2, cutoff=None)] == [1, 4, 5]
    assert [v["version"] for v in select(entries, keep_last=None, cutoff=cutoff)] == [1]
    assert [v["version"] for v in select(list(reversed(entries)), keep_last=0, cutoff=None)] == [1, 4, 5, 6]
    assert select([], keep_last=0, cutoff=None) == []
