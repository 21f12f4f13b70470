"""Crash safety: SIGKILL at random instants, and a failure injected at every publish step.

After any crash a version is either absent or complete and loadable; the registry stays
readable; the next save works and gets a number never used before.
"""

from __future__ import annotations

import os
import random
import select
import signal
import subprocess
import time
from pathlib import Path

import pytest
from conftest import HELPERS_DIR, PYTHON, subprocess_env
from toy_models import Doubler, Unpicklable

import fsregistry
import fsregistry.registry as registry_module
from fsregistry import CustomModelRegistry, FlavorError, InvalidMetadataError
from fsregistry.storage import files, hashing, pickling
from fsregistry.store import index

KILLS = 25


def _snapshot(root: Path) -> dict[str, bytes]:
    """Every file under the root (except the lock) with its bytes."""
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file() and p.name != ".lock"
    }


def _assert_every_version_complete(registry: CustomModelRegistry, name: str) -> set[int]:
    """Every version folder on disk - indexed or not - loads and verifies."""
    found = set()
    for version in registry.layout.version_numbers(name):
        data = registry.load_model(f"{name}/{version}")
        assert data["preprocessor_artifact"] == {"i": data["metadata"]["params"]["i"]}
        found.add(version)
    return found


#: how long a child may take to reach its next save before the test gives up on it: a
#: guard against a hang, never a measure of speed (the kill itself waits on the child)
STALL_S = 300.0


def _wait_for_saves(child: subprocess.Popen[bytes], count: int) -> None:
    """Block until the ``churn`` worker has begun its ``count``-th save (it prints
    ``saving I`` as each save begins); fail, never hang, if it dies or stalls."""
    assert child.stdout is not None  # unbuffered: select() sees every line readline() has not
    for _ in range(count):
        ready, _, _ = select.select([child.stdout], [], [], STALL_S)
        line = child.stdout.readline() if ready else b""
        if not line.startswith(b"saving "):
            child.kill()
            child.wait()
            err = child.stderr.read() if child.stderr is not None else b""
            pytest.fail(f"the worker never began save {count} (exit {child.returncode}): {err.decode()[-2000:]}")


@pytest.mark.slow
def test_sigkill_at_random_instants_never_leaves_a_partial_version(tmp_path: Path) -> None:
    """Each child is killed at a random instant of its save loop: after it has begun its
    N-th save (N random), plus a random few milliseconds; how fast the machine is only
    changes where in that save or the next the kill lands (issue 16, item 11)."""
    root = tmp_path / "reg"
    registry = CustomModelRegistry(root)
    rng = random.Random(1234)
    seen: set[int] = set()
    for _ in range(KILLS):
        child = subprocess.Popen(
            [PYTHON, str(HELPERS_DIR / "workers.py"), "churn", str(root), "m", "0"],
            env=subprocess_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            bufsize=0,
        )
        try:
            _wait_for_saves(child, rng.randint(1, 4))
            time.sleep(rng.random() * 0.05)  # where in the save loop, not whether it got there
            os.kill(child.pid, signal.SIGKILL)
        finally:
            if child.poll() is None:
                child.kill()
            _, err = child.communicate()
        assert child.returncode == -signal.SIGKILL, err.decode()[-2000:]
        versions = _assert_every_version_complete(registry, "m")
        if not (root / "m" / "model.json").exists():
            continue  # killed inside the very first save, before it created the model
        listed = {v["version"] for v in registry.list_versions("m")}
        assert listed <= versions | seen  # the index never names a version that is not complete
        problems = {p.kind for p in registry.check().problems}
        assert problems <= {"leftover_staging", "leftover_temp", "stale_index", "run_map", "stage_conflict"}, problems
        seen |= versions
    assert seen, "no child finished a save: every kill came before the first one"
    before = max(seen)
    uri = registry.save_model(Doubler(), "m", preprocessor_artifact={"i": -1}, metadata={"i": -1})
    assert int(uri.rsplit("/", 1)[1]) > before
    report = registry.check(repair=True)
    assert report.ok, report.to_dict()
    assert registry.check().problems == []
    assert list((root / ".staging").iterdir()) == []
    versions = registry.list_versions("m")
    assert sum(v["stage"] == "Production" for v in versions) <= 1


FAILURE_POINTS = {
    "flavor save": ("model", None),
    "preprocessor pickling": ("fsregistry.storage.pickling.write", InvalidMetadataError),
    "payload fsync": ("fsregistry.storage.files.fsync_fd", OSError),
    "meta.json write": ("fsregistry.storage.files.write_json_new", OSError),
    "rename into place": ("fsregistry.storage.files.publish_dir", OSError),
}


@pytest.mark.parametrize("point", sorted(FAILURE_POINTS))
def test_failure_at_each_publish_step_leaves_nothing(
    tmp_path: Path, point: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    registry = CustomModelRegistry(tmp_path / "reg")
    registry.save_model(Doubler(), "m", preprocessor_artifact={"i": 0}, metadata={"i": 0})
    before = _snapshot(registry.root)
    target, expected = FAILURE_POINTS[point]
    model: object = Doubler()
    if target == "model":
        model, expected = Unpicklable(), FlavorError
    else:
        module_name, attr = target.rsplit(".", 1)
        module = {"fsregistry.storage.pickling": pickling, "fsregistry.storage.files": files}[module_name]
        original = getattr(module, attr)

        def boom(*args: object, **kwargs: object) -> object:
            # the model itself is pickled too; fail only the step under test
            if point == "preprocessor pickling" and not isinstance(args[0], dict):
                return original(*args, **kwargs)
            raise OSError(f"injected failure: {point}")

        monkeypatch.setattr(module, attr, boom)
    with pytest.raises(expected or Exception):
        registry.save_model(model, "m", preprocessor_artifact={"i": 1}, metadata={"i": 1})
    monkeypatch.undo()
    assert _snapshot(registry.root) == before, "a failed save changed the registry"
    assert list((registry.root / ".staging").iterdir()) == []
    assert registry.save_model(Doubler(), "m") == "models:/m/2"


@pytest.mark.parametrize("what", ["pickled model", "torch state_dict", "preprocessor"])
@pytest.mark.parametrize("after", [0, 100_000, 3_000_000])
def test_a_full_disk_is_the_os_error_and_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, what: str, after: int
) -> None:
    """The disk fills up part-way through a file: the save raises the OSError (ENOSPC),
    not the serialiser's rendering of it nor a claim that the object cannot be pickled,
    and the registry is as it was."""
    import errno

    import numpy as np
    import torch

    registry = CustomModelRegistry(tmp_path / "reg")
    registry.save_model(Doubler(), "m", preprocessor_artifact={"i": 0}, metadata={"i": 0})
    before = _snapshot(registry.root)
    original = hashing.HashingWriter._write_once

    def fill_up(self: hashing.HashingWriter, buffer: object, start: int) -> int:
        if self.tell() >= after:
            raise OSError(errno.ENOSPC, "No space left on device")
        return original(self, buffer, start)

    monkeypatch.setattr(hashing.HashingWriter, "_write_once", fill_up)
    weights = np.ones(500_000)
    with pytest.raises(OSError) as caught:
        if what == "pickled model":
            registry.save_model({"w": weights}, "m", flavor="python")
        elif what == "torch state_dict":
            registry.save_model(torch.nn.Linear(1000, 1000), "m", torch_format="state_dict")
        else:
            registry.save_model(Doubler(), "m", preprocessor_artifact={"w": weights})
    assert caught.value.errno == errno.ENOSPC and not isinstance(caught.value, FlavorError)
    monkeypatch.undo()
    assert _snapshot(registry.root) == before
    assert list((registry.root / ".staging").iterdir()) == []
    assert registry.save_model(Doubler(), "m") == "models:/m/2"


@pytest.mark.filterwarnings(r"ignore:`torch\.jit\.\w+` is deprecated:DeprecationWarning")
def test_torchscript_is_refused_before_a_full_disk_would_abort_the_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """torch.jit.save aborts the process (std::terminate) when the disk fills up mid-write:
    with less free space than the module's tensors, the save is refused first."""
    import errno

    import torch

    registry = CustomModelRegistry(tmp_path / "reg")
    registry.save_model(Doubler(), "m")
    before = _snapshot(registry.root)
    scripted = torch.jit.script(torch.nn.Linear(500, 500))  # 1 MB of weights
    monkeypatch.setattr(files, "free_bytes", lambda folder: 1_500_000)
    with pytest.raises(OSError, match=r"TorchScript archive needs about 2\.\d MB") as caught:
        registry.save_model(scripted, "ts")
    assert caught.value.errno == errno.ENOSPC
    assert _snapshot(registry.root) == before
    monkeypatch.setattr(files, "free_bytes", lambda folder: 3_000_000)
    assert registry.save_model(scripted, "ts") == "models:/ts/1"


def test_a_framework_that_reports_a_full_disk_as_os_error_is_not_a_flavor_error(tmp_path: Path) -> None:
    import errno

    from fsregistry.flavors import SavedModel

    class FullDisk:
        name, extra, packages = "full-disk", "", ()

        def detect(self, type_paths: tuple[str, ...]) -> bool:
            return False

        def save(self, model: object, path: Path, **kwargs: object) -> SavedModel:
            path.write_bytes(b"half")
            raise OSError(errno.ENOSPC, "No space left on device")

        def load(self, path: Path, saved: SavedModel, options: object) -> object:
            raise AssertionError("never saved")

    fsregistry.register_flavor(FullDisk())
    try:
        registry = CustomModelRegistry(tmp_path / "reg")
        with pytest.raises(OSError) as caught:
            registry.save_model(Doubler(), "m", flavor="full-disk")
        assert caught.value.errno == errno.ENOSPC and not isinstance(caught.value, FlavorError)
        assert list((registry.root / ".staging").iterdir()) == [] and registry.list_models() == []
    finally:
        fsregistry.unregister_flavor("full-disk")


@pytest.mark.parametrize("step", ["run map", "index"])
def test_failure_after_publish_keeps_the_version_and_is_healed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, step: str
) -> None:
    """A failure (or crash) between the rename and the index update: the version is
    complete and the save reports it; the index catches up at the next write or check."""
    registry = CustomModelRegistry(tmp_path / "reg")
    registry.save_model(Doubler(), "m")

    def boom(*args: object, **kwargs: object) -> None:
        raise OSError("injected: disk full while writing a derived record")

    module, attr = (files, "write_json_atomic") if step == "run map" else (index, "write_refs")
    monkeypatch.setattr(module, attr, boom)
    assert registry.save_model(Doubler(3.0), "m") == "models:/m/2"
    monkeypatch.undo()
    assert registry.load_model("m/2")["model"].factor == 3.0  # published and complete
    # the index has not caught up, but readers look past it rather than answer stale
    assert registry.load_model("m/latest")["version"] == 2
    assert registry.check().problems != []
    assert registry.save_model(Doubler(), "m") == "models:/m/3"
    assert [v["version"] for v in registry.list_versions("m")] == [3, 2, 1]
    assert registry.check(repair=True).ok
    assert registry.check().problems == []


@pytest.mark.parametrize("index_fails", [False, True])
def test_the_rename_into_place_is_flushed_before_save_returns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, index_fails: bool
) -> None:
    """The model folder is fsync'd after the version's rename (by the index update, or on
    its own when that update fails), so a save that returned survives a power cut."""
    registry = CustomModelRegistry(tmp_path / "reg")
    registry.save_model(Doubler(), "m")
    model_dir = registry.layout.model_dir("m")
    events: list[str] = []
    real_publish, real_fsync_dir = files.publish_dir, files.fsync_dir

    def publish(staged: Path, final: Path, **kwargs: bool) -> None:
        events.append(f"rename {final.name}")  # what publish_dir flushes comes after
        real_publish(staged, final, **kwargs)

    def fsync_dir(path: Path) -> None:
        real_fsync_dir(path)
        events.append(f"fsync {path.name}" if Path(path) == model_dir else "fsync other")

    def boom(*args: object, **kwargs: object) -> None:
        raise OSError("injected: the index cannot be written")

    monkeypatch.setattr(files, "publish_dir", publish)
    monkeypatch.setattr(files, "fsync_dir", fsync_dir)
    if index_fails:
        monkeypatch.setattr(index, "write_refs", boom)
    assert registry.save_model(Doubler(), "m") == "models:/m/2"
    assert "rename 2" in events
    assert "fsync m" in events[events.index("rename 2") + 1 :]


def test_a_save_that_takes_a_stage_flushes_its_rename_before_the_holder_gives_it_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Saving with ``stage=`` / ``aliases=`` demotes the previous holder; the new version's
    rename is flushed first, so a power cut never leaves the stage or alias with neither."""
    registry = CustomModelRegistry(tmp_path / "reg")
    registry.save_model(Doubler(), "m", stage="Production", aliases=["champion"])
    model_dir = registry.layout.model_dir("m")
    events: list[str] = []
    real_publish, real_fsync_dir, real_write = files.publish_dir, files.fsync_dir, files.write_json_atomic

    def publish(staged: Path, final: Path, **kwargs: bool) -> None:
        events.append(f"rename {final.name}")  # what publish_dir flushes comes after
        real_publish(staged, final, **kwargs)

    def fsync_dir(path: Path) -> None:
        real_fsync_dir(path)
        events.append("fsync m" if Path(path) == model_dir else "fsync other")

    def write(path: Path, obj: object, **kwargs: bool) -> None:
        real_write(path, obj, **kwargs)
        events.append(f"write {Path(path).relative_to(registry.root)}")

    monkeypatch.setattr(files, "publish_dir", publish)
    monkeypatch.setattr(files, "fsync_dir", fsync_dir)
    monkeypatch.setattr(files, "write_json_atomic", write)
    registry.save_model(Doubler(), "m", stage="Production", aliases=["champion"])
    demoted = events.index(f"write {Path('m', '1', 'meta.json')}")
    assert "fsync m" in events[events.index("rename 2") + 1 : demoted]
    assert registry.get_model_by_stage("m", "Production")["version"] == 2


def test_kill_between_two_stage_writes_is_resolved_by_repair(tmp_path: Path) -> None:
    """Two meta.json files claiming Production (a crash mid-transition): the newer claim wins."""
    registry = CustomModelRegistry(tmp_path / "reg")
    for _ in range(2):
        registry.save_model(Doubler(), "m")
    registry.transition_model_stage("m/1", "Production")
    meta_path = registry.layout.meta_file("m", 2)
    meta = files.read_json(meta_path)
    meta["stage"] = "Production"
    meta["stage_seq"] = files.read_json(meta_path.parent.parent / "1" / "meta.json")["stage_seq"] + 1
    meta["stage_history"].append({"stage": "Production", "from": None, "at": "2999-01-01T00:00:00+00:00"})
    files.write_json_atomic(meta_path, meta)
    kinds = sorted(p.kind for p in registry.check().problems)
    assert kinds == ["stage_conflict", "stale_index"]
    assert registry.check(repair=True).ok
    assert registry.get_model("m")["stages"] == {"Production": 2}
    assert registry.get_model_version("m/1")["stage"] == "Archived"
    assert registry.check().problems == []


def test_failed_save_in_another_thread_does_not_block_the_lock(tmp_path: Path) -> None:
    registry = CustomModelRegistry(tmp_path / "reg", lock_timeout=5)
    with pytest.raises(FlavorError):
        registry.save_model(Unpicklable(), "m")
    assert registry.save_model(Doubler(), "m") == "models:/m/1"
    assert registry_module.CustomModelRegistry is CustomModelRegistry


def test_readers_look_past_an_index_left_behind_by_a_crash(tmp_path: Path) -> None:
    """A writer that dies after rewriting meta.json but before the index leaves the index
    naming the old holder of a stage or alias: readers notice that the holder's own
    meta.json disagrees and answer from the version folders."""
    registry = CustomModelRegistry(tmp_path / "reg")
    registry.save_model(Doubler(1.0), "m", stage="Production", aliases=["champ"])
    registry.save_model(Doubler(2.0), "m")
    model_dir = registry.layout.model_dir("m")
    before = {p.name: p.read_bytes() for p in model_dir.glob("index*.json")}
    registry.transition_model_stage("m/2", "Production")
    registry.set_alias("m", "champ", 2)
    for path in model_dir.glob("index*.json"):  # as if both writers died before the index
        path.unlink()
    for file_name, data in before.items():
        (model_dir / file_name).write_bytes(data)
    assert registry.get_model_version("m/Production")["version"] == 2
    assert registry.load_model("models:/m@champ")["model"].factor == 2.0
    assert registry.get_model_version("m/1")["stage"] == "Archived"
    assert [p.kind for p in registry.check().problems] == ["stale_index"]
    assert registry.check(repair=True).ok
    assert registry.get_model_version("m/Production")["version"] == 2


def test_a_version_published_after_the_index_is_seen_without_a_rescan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A version renamed into place whose index update has not happened yet (a save in
    flight, or a writer that died there) is read from its own meta.json - stage and alias
    included - without scanning every version folder."""
    from fsregistry.store.catalog import Catalog

    registry = CustomModelRegistry(tmp_path / "reg")
    registry.save_model(Doubler(1.0), "m", stage="Production", aliases=["champ"])
    model_dir = registry.layout.model_dir("m")
    before = {p.name: p.read_bytes() for p in model_dir.glob("index*.json")}
    registry.save_model(Doubler(2.0), "m", stage="Production", aliases=["champ"])
    for path in model_dir.glob("index*.json"):
        path.unlink()
    for file_name, data in before.items():
        (model_dir / file_name).write_bytes(data)

    def no_rescan(*args: object, **kwargs: object) -> None:
        raise AssertionError("scanned every version folder")

    monkeypatch.setattr(Catalog, "rebuild", no_rescan)
    for identifier in ("m/latest", "m/Production", "models:/m@champ"):
        assert registry.get_model_version(identifier)["version"] == 2
    assert [v["version"] for v in registry.list_versions("m")] == [2, 1]
