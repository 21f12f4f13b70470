"""Symbolic links inside the root: never written through, refused on load, all reported.

A model or version folder (or a record, or a helper folder) replaced by a link to a
folder outside the root must not let ``save_model``, ``transition_model_stage``,
``set_tag`` and friends write ``meta.json``, ``model.bin``, ``index.json`` or
``model.json`` outside the root; loads refuse linked folders; ``check`` reports every link.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fault_helpers import snapshot
from toy_models import Doubler

from fsregistry import CorruptRegistryError, CustomModelRegistry
from fsregistry.errors import UnsafeLinkError


def _registry(tmp_path: Path) -> CustomModelRegistry:
    registry = CustomModelRegistry(tmp_path / "reg")
    registry.save_model(Doubler(), "m", preprocessor_artifact={"i": 1})
    registry.save_model(Doubler(), "m")
    registry.save_model(Doubler(), "other")
    return registry


def _replace_with_link(folder: Path, outside: Path) -> Path:
    """Move ``folder`` outside the root and leave a link to it where it was."""
    shutil.move(str(folder), str(outside))
    folder.symlink_to(outside, target_is_directory=True)
    return folder


WRITES: dict[str, Callable[[CustomModelRegistry], Any]] = {
    "save_model": lambda r: r.save_model(Doubler(), "m"),
    "transition_model_stage": lambda r: r.transition_model_stage("m/2", "Production"),
    "set_tag on the version": lambda r: r.set_tag("m/2", "k", "v"),
    "set_tag on the model": lambda r: r.set_tag("m", "k", "v"),
    "set_alias": lambda r: r.set_alias("m", "champion", 2),
    "set_description": lambda r: r.set_description("m/2", "x"),
    "delete_model": lambda r: r.delete_model("m/2"),
}


@pytest.mark.parametrize("linked", ["model folder", "version folder"])
@pytest.mark.parametrize("write", sorted(WRITES))
def test_no_write_goes_through_a_linked_folder(tmp_path: Path, linked: str, write: str) -> None:
    registry = _registry(tmp_path)
    folder = registry.root / "m" if linked == "model folder" else registry.root / "m" / "2"
    outside = tmp_path / "outside"
    link = _replace_with_link(folder, outside)
    before = snapshot(outside)
    if linked == "version folder" and write in ("save_model", "set_tag on the model"):
        WRITES[write](registry)  # the model folder is real: these do not touch version 2
    else:
        with pytest.raises(UnsafeLinkError, match="symbolic link") as caught:
            WRITES[write](registry)
        assert caught.value.path == str(link) and isinstance(caught.value, CorruptRegistryError)
    assert snapshot(outside) == before, "something was written outside the root"


def test_a_save_never_takes_the_number_of_a_linked_version_folder(tmp_path: Path) -> None:
    registry = _registry(tmp_path)
    _replace_with_link(registry.root / "m" / "2", tmp_path / "outside")
    assert registry.save_model(Doubler(), "m") == "models:/m/3"
    assert not (tmp_path / "outside" / "3").exists()


@pytest.mark.parametrize("linked", ["model folder", "version folder"])
def test_loads_refuse_a_linked_folder(tmp_path: Path, linked: str) -> None:
    registry = _registry(tmp_path)
    folder = registry.root / "m" if linked == "model folder" else registry.root / "m" / "1"
    _replace_with_link(folder, tmp_path / "outside")
    for read in (registry.load_model, registry.get_model_version):
        with pytest.raises(UnsafeLinkError, match=str(folder)):
            read("m/1")
    assert registry.load_model("other/1")["version"] == 1  # the rest of the registry reads on
    listed = [m["name"] for m in registry.list_models()]
    assert listed == (["other"] if linked == "model folder" else ["m", "other"])
    if linked == "version folder":
        assert [v["version"] for v in registry.list_versions("m")] == [2]


@pytest.mark.parametrize("record", ["meta.json", "index.json", "model.json"])
def test_a_linked_record_is_never_read_nor_written_through(tmp_path: Path, record: str) -> None:
    registry = _registry(tmp_path)
    path = registry.root / "m" / ("1" if record == "meta.json" else "") / record
    outside = tmp_path / "outside"
    outside.mkdir()
    shutil.move(str(path), str(outside / record))
    path.symlink_to(outside / record)
    before = snapshot(outside)
    if record == "meta.json":
        with pytest.raises(UnsafeLinkError, match=str(path)):
            registry.load_model("m/1")
    elif record == "model.json":  # the truth about deleted numbers: refused, never guessed
        with pytest.raises(UnsafeLinkError, match=str(path)):
            registry.set_tag("m", "k", "v")
    else:  # a cache: the link is replaced, never written through
        registry.set_tag("m", "k", "v")
        registry.transition_model_stage("m/2", "Staging")
        assert registry.get_model("m")["stages"] == {"Staging": 2}
    assert snapshot(outside) == before


@pytest.mark.parametrize("helper", [".staging", ".runs", ".lock"])
def test_a_linked_helper_is_never_written_through(tmp_path: Path, helper: str) -> None:
    registry = _registry(tmp_path)
    outside = tmp_path / "outside"
    path = registry.root / helper
    if path.is_dir():
        _replace_with_link(path, outside)
    else:
        outside.mkdir()
        shutil.move(str(path), str(outside / helper))
        path.symlink_to(outside / helper)
    # what a repair that followed the link would take for leftovers: someone's files
    (outside / "victim.json").write_text("precious")
    (outside / "save.999999999.dead.incomplete").mkdir()
    (outside / "save.999999999.dead.incomplete" / "work.txt").write_text("precious")
    before = snapshot(outside)
    for write in (lambda: registry.save_model(Doubler(), "m"), lambda: registry.delete_model("m/1")):
        try:
            write()
        except UnsafeLinkError as exc:
            assert exc.path == str(path)
    assert snapshot(outside) == before  # nothing written, nor removed, through the link
    report = registry.check()  # never raises
    assert [p.path for p in report.problems if p.kind == "link"] == [str(path)]
    if helper == ".lock":  # a repair writes, so it needs the lock: refused, naming the link
        with pytest.raises(UnsafeLinkError, match=str(path)):
            registry.check(repair=True)
    else:
        assert [p.path for p in registry.check(repair=True).unresolved if p.kind == "link"] == [str(path)]
    assert snapshot(outside) == before  # nor listed, judged and removed by a repair


def test_a_repair_leaves_links_with_the_names_of_leftovers_alone(tmp_path: Path) -> None:
    """A link inside ``.staging``, or named like a temporary file, is not the registry's:
    reported as a link, never removed, never followed."""
    registry = _registry(tmp_path)
    outside = tmp_path / "outside"
    (outside / "dir").mkdir(parents=True)
    (outside / "dir" / "f.txt").write_text("x")
    (outside / "file.txt").write_text("y")
    registry.layout.staging.mkdir(exist_ok=True)
    in_staging = registry.layout.staging / "save.999999999.dead.incomplete"
    in_staging.symlink_to(outside / "dir", target_is_directory=True)
    temp_named = registry.root / "m" / "index.json.999999999.dead.incomplete"
    temp_named.symlink_to(outside / "file.txt")
    before = snapshot(outside)
    report = registry.check(repair=True)
    assert sorted(p.path for p in report.unresolved if p.kind == "link") == sorted(map(str, [in_staging, temp_named]))
    assert not [p for p in report.problems if p.kind in ("leftover_staging", "leftover_temp")]
    assert in_staging.is_symlink() and temp_named.is_symlink() and snapshot(outside) == before


def test_check_reports_every_link_and_never_raises(tmp_path: Path) -> None:
    registry = _registry(tmp_path)
    outside = tmp_path / "outside"
    _replace_with_link(registry.root / "other", outside / "other")
    _replace_with_link(registry.root / "m" / "2", outside / "v2")
    model_bin = registry.root / "m" / "1" / "model.bin"
    shutil.move(str(model_bin), str(outside / "model.bin"))
    model_bin.symlink_to(outside / "model.bin")
    (registry.root / "notes").symlink_to(outside / "nowhere")  # dangling
    report = registry.check()
    links = sorted(p.path for p in report.problems if p.kind == "link")
    expected = [registry.root / "m" / "1" / "model.bin", registry.root / "m" / "2", registry.root / "notes"]
    assert links == sorted(map(str, [*expected, registry.root / "other"]))
    assert all("symbolic link to" in p.detail for p in report.problems if p.kind == "link")
    repaired = registry.check(repair=True)  # reported, never removed nor followed
    assert {p.path for p in repaired.unresolved if p.kind == "link"} == set(links)
    assert all(Path(p).is_symlink() for p in links)


def test_a_linked_payload_file_is_refused_on_load(tmp_path: Path) -> None:
    """``model.bin`` or ``preprocessor.pkl`` replaced by a link (to the same bytes, so the
    hash would pass): refused before anything is read, verified or not."""
    from fsregistry import UnsafeLinkError

    registry = _registry(tmp_path)
    outside = tmp_path / "outside-files"
    outside.mkdir()
    for file_name in ("model.bin", "preprocessor.pkl"):
        path = registry.root / "m" / "1" / file_name
        shutil.move(str(path), str(outside / file_name))
        path.symlink_to(outside / file_name)
        for verify in (True, False):
            with pytest.raises(UnsafeLinkError, match="symbolic link"):
                registry.load_model("m/1", verify=verify)
        path.unlink()
        shutil.move(str(outside / file_name), str(path))
    assert registry.load_model("m/1")["preprocessor_artifact"] == {"i": 1}
