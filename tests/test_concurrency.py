"""Concurrent writers - real processes and threads - never collide, lose or reuse a version."""

from __future__ import annotations

import subprocess
import threading
from pathlib import Path

import pytest
from conftest import HELPERS_DIR, PYTHON, subprocess_env
from toy_models import Doubler

from fsregistry import CustomModelRegistry, LockTimeoutError

pytestmark = pytest.mark.slow


def _run_workers(commands: list[list[str]], timeout: float = 240) -> list[str]:
    procs = [
        subprocess.Popen(
            [PYTHON, str(HELPERS_DIR / "workers.py"), *cmd],
            env=subprocess_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for cmd in commands
    ]
    outputs = []
    try:
        for proc in procs:
            out, err = proc.communicate(timeout=timeout)
            assert proc.returncode == 0, err
            outputs.append(out)
    finally:
        for proc in procs:  # reap every child, even on failure
            if proc.poll() is None:
                proc.kill()
            proc.wait()
    return outputs


def test_four_processes_times_25_saves_give_exactly_100_versions(tmp_path: Path) -> None:
    root = tmp_path / "reg"
    CustomModelRegistry(root)
    outputs = _run_workers([["save", str(root), "shared", "25"] for _ in range(4)])
    uris = [line for out in outputs for line in out.split()]
    assert len(uris) == 100 and len(set(uris)) == 100
    registry = CustomModelRegistry(root)
    versions = sorted(v["version"] for v in registry.list_versions("shared"))
    assert versions == list(range(1, 101))
    for version in versions:
        registry.load_model(f"shared/{version}")
    assert registry.get_model("shared")["latest_version"] == 100
    assert registry.check().ok


def test_threads_in_one_process_share_registries_safely(tmp_path: Path) -> None:
    shared = CustomModelRegistry(tmp_path / "reg")
    errors: list[BaseException] = []

    def work(registry: CustomModelRegistry) -> None:
        try:
            for i in range(10):
                registry.save_model(Doubler(float(i)), "m")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [
        threading.Thread(target=work, args=(shared if i % 2 else CustomModelRegistry(tmp_path / "reg"),))
        for i in range(8)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(v["version"] for v in shared.list_versions("m")) == list(range(1, 81))
    assert shared.check().ok


def test_concurrent_promotions_keep_one_production(tmp_path: Path) -> None:
    root = tmp_path / "reg"
    CustomModelRegistry(root)
    _run_workers([["churn", str(root), "m", "15"] for _ in range(3)])
    registry = CustomModelRegistry(root)
    versions = registry.list_versions("m")
    assert sorted(v["version"] for v in versions) == list(range(1, 46))
    assert sum(v["stage"] == "Production" for v in versions) <= 1
    assert sum(v["stage"] == "Staging" for v in versions) <= 1
    for alias in ("champion", "shadow"):
        assert sum(alias in v["aliases"] for v in versions) <= 1
    assert registry.check().ok


def test_lock_timeout_is_a_timeout_error(tmp_path: Path) -> None:
    registry = CustomModelRegistry(tmp_path / "reg", lock_timeout=0.2)
    holder = subprocess.Popen(
        [
            PYTHON,
            "-c",
            "import sys; from filelock import FileLock; "
            "l = FileLock(sys.argv[1]); l.acquire(); print('held', flush=True); sys.stdin.read()",
            str(tmp_path / "reg" / ".lock"),
        ],
        stdin=subprocess.PIPE,  # holds the lock until killed, however long the test takes
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(LockTimeoutError) as info:
            registry.save_model(Doubler(), "m")
        assert isinstance(info.value, TimeoutError) and info.value.path.endswith(".lock")
        assert registry.list_models() == []  # readers are not blocked
    finally:
        holder.kill()
        holder.wait()
    assert list((tmp_path / "reg" / ".staging").iterdir()) == []
    assert (tmp_path / "reg" / ".lock").exists()
