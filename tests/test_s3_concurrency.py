"""Many writers on one bucket, with no lock: processes that save and promote at once, writers
killed at random instants, and the server stopped in the middle of a save."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import HELPERS_DIR, PYTHON, subprocess_env
from test_concurrency import _run_workers
from test_crash_safety import _wait_for_saves
from toy_models import Doubler

from fsregistry import CustomModelRegistry, ModelExistsError, ObjectStoreError, VersionNotFoundError
from fsregistry.storage.s3 import S3Objects

WORKERS = 4
#: what a killed writer may leave on object storage, all removed by check(repair=True)
LEFTOVERS = {"abandoned_version", "leftover_data", "leftover_upload"}


def test_four_processes_saving_one_name_get_every_number_once(s3_root: str) -> None:
    CustomModelRegistry(s3_root)  # the root exists before the race
    outputs = _run_workers([["save", s3_root, "m", "25"] for _ in range(WORKERS)])
    uris = [line for out in outputs for line in out.split()]
    assert sorted(int(u.rsplit("/", 1)[1]) for u in uris) == list(range(1, 101))
    registry = CustomModelRegistry(s3_root)
    assert [v["version"] for v in registry.list_versions("m")] == list(range(100, 0, -1))
    run_ids = {registry.get_model_version(uri)["run_id"] for uri in uris}
    assert len(run_ids) == 100
    for uri in uris:
        loaded = registry.load_model(uri)
        assert loaded["model"].factor == float(loaded["metadata"]["params"]["i"])
    assert registry.check(older_than=0).ok


def test_four_processes_promoting_at_once_leave_one_holder(s3_root: str) -> None:
    registry = CustomModelRegistry(s3_root)
    for _ in range(WORKERS):
        registry.save_model(Doubler(), "m")
    _run_workers([["promote", s3_root, "m", str(v)] for v in range(1, WORKERS + 1)])
    stages = {v["version"]: v["stage"] for v in registry.list_versions("m")}
    holders = [v for v, stage in stages.items() if stage == "Production"]
    assert len(holders) == 1
    assert all(stage == "Archived" for v, stage in stages.items() if v != holders[0])
    assert registry.get_model("m")["stages"] == {"Production": holders[0]}
    assert registry.load_model("m/Production")["version"] == holders[0]
    promotions = sum(
        1 for v in stages for h in registry.get_model_version(f"m/{v}")["stage_history"] if h["stage"] == "Production"
    )
    assert promotions >= WORKERS  # every call applied, one after another (repeats of a holder are no-ops)
    assert registry.check(older_than=0).ok


def test_sigkill_at_random_instants_leaves_no_partial_version(s3_root: str) -> None:
    """Each writer is killed after its N-th save began, plus a few random milliseconds: no
    version is ever half-visible, every acknowledged save loads, and repair removes the rest."""
    registry = CustomModelRegistry(s3_root)
    rng = random.Random(4321)
    acknowledged: set[int] = set()
    for _ in range(5):
        child = subprocess.Popen(
            [PYTHON, str(HELPERS_DIR / "workers.py"), "churn", s3_root, "m", "0"],
            env=subprocess_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            bufsize=0,
        )
        started = rng.randint(1, 4)
        try:
            _wait_for_saves(child, started)
            time.sleep(rng.random() * 0.1)  # where in the save loop, not whether it got there
            os.kill(child.pid, signal.SIGKILL)
        finally:
            if child.poll() is None:
                child.kill()
            child.communicate()
        listed = registry.list_versions("m") if registry.list_models() else []
        seen = set()
        for entry in listed:  # every visible version is complete
            loaded = registry.load_model(entry["uri"])
            assert loaded["preprocessor_artifact"] == {"i": loaded["metadata"]["params"]["i"]}
            seen.add(loaded["metadata"]["params"]["i"])
        # saves 0 .. started-2 of this child were acknowledged (the next one had begun)
        assert set(range(started - 1)) <= seen
        acknowledged |= {e["version"] for e in listed}
        problems = {p.kind for p in registry.check(older_than=0).problems}
        assert problems <= LEFTOVERS, problems
    report = registry.check(repair=True, older_than=0)
    assert report.ok, report.to_dict()
    assert registry.check(older_than=0).problems == []
    assert {v["version"] for v in registry.list_versions("m")} == acknowledged
    assert int(registry.save_model(Doubler(), "m").rsplit("/", 1)[1]) > max(acknowledged, default=0)


@pytest.mark.parametrize("stop_before", ["upload", "record", "head"])
def test_server_stopped_in_the_middle_of_a_save(s3_server: Any, s3_root: str, stop_before: str) -> None:
    """The server goes away at each step of a save: a clear error naming the root, and after
    the restart no partial version; repair removes what the save left."""
    registry = CustomModelRegistry(s3_root, storage_options={"max_attempts": 1, "connect_timeout": 2})
    registry.save_model(Doubler(), "m")
    upload, put = S3Objects.upload, S3Objects.put

    def stop_then(real: Any, step: str) -> Any:
        def call(self: S3Objects, key: str, *args: Any, **kwargs: Any) -> Any:
            if step == stop_before and (step == "upload" or ("/versions/" in key) == (step == "record")):
                s3_server.stop()
            return real(self, key, *args, **kwargs)

        return call

    try:
        with pytest.MonkeyPatch.context() as patch, pytest.raises(ObjectStoreError) as caught:
            patch.setattr(S3Objects, "upload", stop_then(upload, "upload"))
            patch.setattr(S3Objects, "put", stop_then(put, "record" if stop_before == "record" else "head"))
            registry.save_model(Doubler(3.0), "m", preprocessor_artifact={"big": "x" * 1000})
    finally:
        if not s3_server.running:
            s3_server.start()
    assert s3_root in str(caught.value)
    assert [v["version"] for v in registry.list_versions("m")] == [1]
    with pytest.raises(VersionNotFoundError):
        registry.load_model("m/2")
    assert registry.check(repair=True, older_than=0).ok
    assert registry.check(older_than=0).problems == []
    assert registry.save_model(Doubler(), "m") != "models:/m/1"


# -- a repair that takes everything unreferenced at once, racing live writers -------------------


def test_a_repair_racing_saves_removes_no_acknowledged_data(s3_root: str, tmp_path: Path) -> None:
    """Three processes save while a fourth repairs with ``older_than=0`` again and again:
    the repair may make a save fail (its uploaded files swept before it committed), never
    remove the files of a save that succeeded.  Every acknowledged version then loads in a
    reader with an empty content cache (a reader on another machine)."""
    CustomModelRegistry(s3_root).save_model(Doubler(), "m")
    stop = tmp_path / "stop"
    repairer = subprocess.Popen(
        [PYTHON, str(HELPERS_DIR / "workers.py"), "repair", s3_root, str(stop), "0"],
        env=subprocess_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        outputs = _run_workers([["save_or_refused", s3_root, "m", "15"] for _ in range(3)])
        stop.touch()
        out, err = repairer.communicate(timeout=120)
        assert repairer.returncode == 0 and out.strip() == "done", err
    finally:
        if repairer.poll() is None:
            repairer.kill()
        repairer.wait()
    acknowledged = {int(line.rsplit("/", 1)[1]) for out in outputs for line in out.split() if line != "refused"}
    reader = CustomModelRegistry(s3_root, storage_options={"cache_dir": str(tmp_path / "fresh")})
    assert acknowledged <= {v["version"] for v in reader.list_versions("m")}
    for version in sorted(acknowledged):
        reader.load_model(f"m/{version}")  # its files are all there
    assert reader.check(older_than=0).problems == []


def test_a_save_whose_files_a_repair_swept_before_it_committed_publishes_nothing(
    s3_root: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The order the head gives: a sweep recorded first makes the save's commit fail (the
    save then buries its number); a sweep after the commit finds the version naming the
    data and removes nothing."""
    from fsregistry.store import objects as object_store

    saver, repairer = CustomModelRegistry(s3_root), CustomModelRegistry(s3_root)
    saver.save_model(Doubler(), "m")
    prefix = object_store.data_prefix("m")
    commit = saver.store._change_head  # type: ignore[attr-defined]

    def swept_first(name: str, change: Any, **kwargs: Any) -> Any:
        assert repairer.store.sweep_unreferenced(name, prefix, seen=set())  # type: ignore[attr-defined]
        return commit(name, change, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(object_store, "data_prefix", lambda name: prefix)
        patch.setattr(saver.store, "_change_head", swept_first)
        with pytest.raises(ObjectStoreError, match="removed as unreferenced by a repair"):
            saver.save_model(Doubler(), "m")
    assert [v["version"] for v in saver.list_versions("m")] == [1]
    assert saver.check(older_than=0).problems == []
    assert saver.save_model(Doubler(), "m") == "models:/m/3"  # the failed save's number stays used

    committed = saver.store.data_prefix_of("m", 3, saver.store.read_meta("m", 3))  # type: ignore[attr-defined]
    assert not repairer.store.sweep_unreferenced("m", committed, seen=set())  # type: ignore[attr-defined]
    fresh = CustomModelRegistry(s3_root, storage_options={"cache_dir": str(tmp_path / "fresh")})
    assert fresh.load_model("m/3")["version"] == 3


def test_a_repair_sweeping_a_never_saved_models_data_leaves_no_model_in_the_way(s3_root: str) -> None:
    """The sweep of a model that has no head writes one (the order between the repair and
    a first save in flight); no save ever committed to it, so it is no model: neither
    listed nor in the way of a name that differs only by case."""
    registry = CustomModelRegistry(s3_root)
    registry.store.objects.put(f"data/New/{'ab' * 16}/model.bin", b"left by a dead save")  # type: ignore[attr-defined]
    report = registry.check(repair=True, older_than=0)
    assert [p.kind for p in report.problems] == ["leftover_data"] and report.ok
    assert registry.list_models() == [] and registry.check(older_than=0).problems == []
    assert registry.save_model(Doubler(), "new") == "models:/new/1"
    with pytest.raises(ModelExistsError, match="differs only by case from existing model 'new'"):
        registry.save_model(Doubler(), "New")  # the marker's name is taken by no model, but "new" is
