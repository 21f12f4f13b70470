"""Shared folders, refused permissions and read-only copies.

* Folders follow the umask as files do: a registry written with ``umask 002`` is one a
  group can share (folders ``0775``, files ``0664``), not one whose version folders are
  ``0700`` whatever the umask.
* A refused permission is a :class:`RegistryPermissionError` (a ``RegistryError`` and a
  ``PermissionError``) naming the path and what was refused.
* A read-only root that lost its empty helper folders opens, lists, loads, predicts and
  checks; the helper folders are made by the first write.

Permission bits do not stop root, who runs CI: the parts that need an ordinary user run
in a forked child that becomes ``nobody`` (skipped, with the reason, when not root).
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from fault_helpers import NOBODY, NOBODY_GID, in_child, modes, require_root, shared_folder
from toy_models import Doubler

from fsregistry import CustomModelRegistry, ModelPredictor, RegistryError
from fsregistry.errors import RegistryPermissionError

FRAME = pd.DataFrame({"a": [1.0, 2.0], "b": [3.0, 4.0]})


def _populate(root: Path) -> CustomModelRegistry:
    """A registry with a Production version that predicts (with a preprocessor), an
    aliased one, tags, and a deleted one: every kind of file and folder it makes."""
    registry = CustomModelRegistry(root)
    registry.save_model(Doubler(), "m", preprocessor_artifact={"scale": 1}, input_example=FRAME)
    registry.save_model(Doubler(3.0), "m", input_example=FRAME, tags={"k": "v"})
    registry.save_model(Doubler(), "m")
    registry.transition_model_stage("m/1", "Production")
    registry.set_alias("m", "shadow", 2)
    registry.set_tag("m", "team", "a")
    registry.delete_model("m/3")
    return registry


def _make(root: Path) -> None:
    _populate(root)


def _reads(root: Path, *, create: bool = False) -> dict[str, Any]:
    """What a reader does: open, list, load, predict, check.  Returns what it saw."""
    registry = CustomModelRegistry(root, create=create)
    loaded = registry.load_model("models:/m/Production")
    predicted = ModelPredictor(registry).load_model("models:/m@shadow").predict(FRAME)
    report = registry.check()
    return {
        "models": [m["name"] for m in registry.list_models()],
        "versions": [v["version"] for v in registry.list_versions("m")],
        "loaded": loaded["version"],
        "predicted": [float(x) for x in predicted],
        "problems": [(p.kind, p.detail) for p in report.problems],
    }


EXPECTED_READS = {"models": ["m"], "versions": [2, 1], "loaded": 1, "predicted": [12.0, 18.0], "problems": []}


# -- folders follow the umask -------------------------------------------------------------------


@pytest.mark.parametrize("umask", [0o002, 0o022, 0o077])
def test_folders_follow_the_umask_as_files_do(tmp_path: Path, umask: int) -> None:
    root = tmp_path / "reg"
    outcome = in_child(lambda: _make(root), umask=umask)
    assert outcome["ok"], outcome
    found = modes(root)
    folders = {p: m for p, m in found.items() if (root / p).is_dir()}
    plain = {p: m for p, m in found.items() if not (root / p).is_dir()}
    assert {p for p, m in folders.items() if m != 0o777 & ~umask} == set()
    assert {p for p, m in plain.items() if m != 0o666 & ~umask} == set()
    assert {"m/1", "m/2", ".staging"} <= set(folders) and {"m/1/meta.json", ".lock"} <= set(plain)


def test_a_group_shares_a_registry_written_with_umask_002() -> None:
    """A member of the group (here ``nobody`` in root's group) loads what another wrote,
    and saves, promotes and deletes next to it."""
    require_root("becoming another user to test a group-shared registry")
    with shared_folder() as folder:
        root = folder / "reg"
        assert in_child(lambda: _make(root), umask=0o002)["ok"]
        _warm_up(folder)

        def member() -> list[int]:
            registry = CustomModelRegistry(root, create=False)
            assert registry.load_model("m/2")["version"] == 2
            registry.save_model(Doubler(), "m")
            registry.transition_model_stage("m/4", "Staging")
            registry.delete_model("m/2", force=True)
            return [v["version"] for v in registry.list_versions("m")]

        outcome = in_child(member, uid=NOBODY, gid=0, groups=(0,), umask=0o002)
        assert outcome == {"ok": True, "value": "[4, 1]"}, outcome
        assert CustomModelRegistry(root).load_model("models:/m/Staging")["version"] == 4
        assert stat.S_IMODE((root / "m" / "4").stat().st_mode) == 0o775


# -- refused permissions ------------------------------------------------------------------------


def test_a_refused_read_is_a_registry_error_naming_the_path() -> None:
    require_root("becoming another user to be refused")
    with shared_folder() as folder:
        root = folder / "reg"
        assert in_child(lambda: _make(root), umask=0o022)["ok"]
        _warm_up(folder)
        (root / "m" / "1").chmod(0o700)  # a folder written by an older fsregistry

        def load() -> Any:
            return CustomModelRegistry(root, create=False).load_model("m/1")

        outcome = in_child(load, uid=NOBODY, gid=NOBODY_GID)
        assert not outcome["ok"] and outcome["type"] == "RegistryPermissionError", outcome
        assert {"RegistryError", "PermissionError"} <= set(outcome["types"])
        assert outcome["path"].startswith(str(root / "m" / "1")) and "permission denied: cannot" in outcome["message"]
        assert outcome["path"] in outcome["message"]


def test_a_refused_root_and_a_refused_write_are_registry_errors() -> None:
    require_root("becoming another user to be refused")
    with shared_folder() as folder:
        root = folder / "reg"
        assert in_child(lambda: _make(root), umask=0o022)["ok"]
        _warm_up(folder)

        def save() -> Any:
            return CustomModelRegistry(root, create=False).save_model(Doubler(), "m")

        outcome = in_child(save, uid=NOBODY, gid=NOBODY_GID)
        assert outcome["type"] == "RegistryPermissionError" and "cannot create the folder" in outcome["message"]
        assert outcome["path"].startswith(str(root / ".staging"))
        root.chmod(0o700)
        outcome = in_child(lambda: CustomModelRegistry(root, create=False), uid=NOBODY, gid=NOBODY_GID)
        assert outcome["type"] == "RegistryPermissionError", outcome
        assert outcome["path"] == str(root / ".fsregistry.json") and "cannot look up" in outcome["message"]


def test_permission_errors_pickle_with_their_path() -> None:
    import pickle

    error = RegistryPermissionError("permission denied: cannot read /r/m/1/meta.json", path="/r/m/1/meta.json")
    again = pickle.loads(pickle.dumps(error))
    assert isinstance(again, RegistryError) and isinstance(again, PermissionError)
    assert again.path == "/r/m/1/meta.json"


# -- read-only copies ---------------------------------------------------------------------------


def _read_only_copy(source: Path, target: Path) -> Path:
    """A copy of ``source`` that lost its empty staging folder (as copies do), all read-only."""
    shutil.copytree(source, target, symlinks=True)
    shutil.rmtree(target / ".staging")
    subprocess.run(["chmod", "-R", "a-w", str(target)], check=True)
    return target


def _writable(folder: Path) -> None:
    subprocess.run(["chmod", "-R", "u+w", str(folder)], check=True)


def test_a_read_only_copy_opens_and_reads_without_making_a_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As root, permission bits do not apply: what is proved is that nothing tries to make
    a folder (or write anything) while a read-only root is opened and read."""
    source = _populate(tmp_path / "reg").root
    copy = _read_only_copy(source, tmp_path / "copy")

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError(f"a read tried to write: {args}")

    for owner, attr in [(os, "mkdir"), (os, "makedirs"), (Path, "mkdir"), (tempfile, "mkdtemp"), (os, "replace")]:
        monkeypatch.setattr(owner, attr, refuse)
    try:
        assert _reads(copy) == EXPECTED_READS
        assert _reads(copy, create=True) == EXPECTED_READS  # an existing root is never "created"
    finally:
        monkeypatch.undo()
        _writable(copy)
    registry = CustomModelRegistry(copy, create=False)
    assert registry.save_model(Doubler(), "m") == "models:/m/4"  # the first write makes the staging folder
    assert (copy / ".staging").is_dir()


def test_a_read_only_copy_reads_as_another_user() -> None:
    require_root("becoming another user to read a read-only copy")
    with shared_folder() as folder:
        assert in_child(lambda: _make(folder / "reg"), umask=0o022)["ok"]
        copy = _read_only_copy(folder / "reg", folder / "copy")
        _warm_up(folder)
        outcome = in_child(lambda: _reads(copy), uid=NOBODY, gid=NOBODY_GID)
        assert outcome == {"ok": True, "value": repr(EXPECTED_READS)}, outcome
        outcome = in_child(
            lambda: CustomModelRegistry(copy, create=False).save_model(Doubler(), "m"), uid=NOBODY, gid=NOBODY_GID
        )
        assert outcome["type"] == "RegistryPermissionError", outcome


def _warm_up(folder: Path) -> None:
    """Import, as root, everything a child will need once it is ``nobody`` (who cannot
    read the interpreter's own folders)."""
    scratch = folder / "warm-up"
    _populate(scratch)
    _reads(scratch)
    shutil.rmtree(scratch)
