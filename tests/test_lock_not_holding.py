"""Writers whose lock does not hold (advisory or ignored locks on some shared file systems)
lose nothing and duplicate nothing: a collision is a ``ConcurrentWriteError`` that leaves
nothing behind, and duplicate stage or alias claims are settled by their order."""

from __future__ import annotations

import contextlib
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import HELPERS_DIR, PYTHON, subprocess_env
from toy_models import Doubler

from fsregistry import ConcurrentWriteError, CustomModelRegistry, RegistryError
from fsregistry.storage import files
from fsregistry.storage.lock import RegistryLock


@contextlib.contextmanager
def _no_lock(self: RegistryLock) -> Iterator[None]:
    yield


def test_a_collision_is_a_registry_error_that_names_the_lock_and_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "reg"
    registry = CustomModelRegistry(root)
    registry.save_model(Doubler(1.0), "m")
    other = CustomModelRegistry(root)
    monkeypatch.setattr(other.store.lock, "hold", lambda: _no_lock(other.store.lock))  # its lock does not hold
    real = files.publish_dir
    raced: list[str] = []

    def racing(staged: Path, final: Path, **kwargs: Any) -> None:
        monkeypatch.setattr(files, "publish_dir", real)
        # the other writer publishes the same number first
        raced.append(other.save_model(Doubler(2.0), "m", stage="Production"))
        real(staged, final, **kwargs)

    monkeypatch.setattr(files, "publish_dir", racing)
    with pytest.raises(ConcurrentWriteError, match=r"m/2 at the same time.*\.lock.* did not hold") as caught:
        registry.save_model(Doubler(3.0), "m", stage="Production")
    monkeypatch.undo()
    assert isinstance(caught.value, RegistryError) and caught.value.version == 2
    assert raced == ["models:/m/2"]
    assert registry.load_model("m/2")["model"].factor == 2.0  # the other writer's version, intact
    assert list((root / ".staging").iterdir()) == []
    assert registry.get_model_by_stage("m", "Production")["version"] == 2
    assert registry.save_model(Doubler(4.0), "m") == "models:/m/3"  # a retry takes the next number
    report = registry.check(repair=True)
    assert report.ok, report.to_dict()
    assert registry.check().problems == []


@pytest.mark.slow
def test_writers_without_a_lock_lose_nothing_and_settle_every_duplicate_claim(tmp_path: Path) -> None:
    root = tmp_path / "reg"
    CustomModelRegistry(root)
    procs = [
        subprocess.Popen(
            [PYTHON, str(HELPERS_DIR / "lockless_worker.py"), str(root), str(w), "12"],
            env=subprocess_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for w in range(4)
    ]
    results = []
    try:
        for proc in procs:
            out, err = proc.communicate(timeout=300)
            assert proc.returncode == 0, err  # no raw OSError, nothing but ConcurrentWriteError
            results.append(json.loads(out))
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
    published = [v for r in results for v in r["published"]]
    assert len(published) == len(set(published)), "two writers were told they published one version"
    registry = CustomModelRegistry(root)
    for version in published:  # every acknowledged save is there and complete
        meta = registry.load_model(f"m/{version}")["metadata"]["params"]
        assert meta["worker"] in {"0", "1", "2", "3"}
    registry.check(repair=True)
    report = registry.check()
    assert report.ok, report.to_dict()
    versions = registry.list_versions("m")
    assert {v["version"] for v in versions} == set(published)
    for stage in ("Production", "Staging"):
        assert sum(v["stage"] == stage for v in versions) <= 1
    assert sum("champ" in v["aliases"] for v in versions) == 1
    assert list((root / ".staging").iterdir()) == []
