"""How many times a save waits for the disk, and what each wait flushes.

A save flushes the model file, ``meta.json``, and the model folder after the rename (which
also makes the index's replace durable): three ``fsync`` calls, plus one per extra payload
file.  The index is a cache and has no flush of its own.  Payload files written with
``payload.write(..., durable=False)`` (a private staging folder whose files are uploaded
elsewhere) are hashed and not flushed.  ``os.fsync`` is wrapped to
count the calls and name what each flushed; no timing is measured.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from toy_models import Doubler

from fsregistry import CustomModelRegistry
from fsregistry.flavors import LoadOptions, SavedModel, get_flavor
from fsregistry.records import VersionRecord
from fsregistry.storage import hashing
from fsregistry.storage.layout import MODEL_BIN
from fsregistry.store import index, payload


@pytest.fixture
def fsyncs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The path of every file or folder ``os.fsync`` is called on, in order."""
    calls: list[str] = []
    real = os.fsync

    def counting(fd: int) -> None:
        calls.append(os.readlink(f"/proc/self/fd/{fd}"))
        real(fd)

    monkeypatch.setattr(os, "fsync", counting)
    return calls


needs_proc = pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="names open files through /proc")


@needs_proc
def test_a_save_waits_for_the_disk_three_times(tmp_path: Path, fsyncs: list[str]) -> None:
    registry = CustomModelRegistry(tmp_path / "reg")
    registry.save_model(Doubler(), "m")  # creates the model folder and record: not counted
    fsyncs.clear()
    assert registry.save_model(Doubler(), "m") == "models:/m/2"
    assert len(fsyncs) == 3, fsyncs
    model_bin, meta, folder = (Path(p) for p in fsyncs)
    assert (model_bin.name, meta.name) == ("model.bin", "meta.json")
    assert folder == registry.layout.model_dir("m").resolve()  # after the rename, with the index
    assert registry.load_model("m/2")["version"] == 2
    assert registry.check().ok


@needs_proc
def test_each_extra_payload_file_adds_one_flush(tmp_path: Path, fsyncs: list[str]) -> None:
    registry = CustomModelRegistry(tmp_path / "reg")
    registry.save_model(Doubler(), "m")
    fsyncs.clear()
    registry.save_model(Doubler(), "m", preprocessor_artifact={"scale": 2})
    assert sorted(Path(p).name for p in fsyncs) == ["m", "meta.json", "model.bin", "preprocessor.pkl"]


@needs_proc
def test_the_index_gets_no_flush_of_its_own_and_the_folder_flush_comes_last(
    tmp_path: Path, fsyncs: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    registry = CustomModelRegistry(tmp_path / "reg")
    registry.save_model(Doubler(), "m")
    events: list[str] = []
    real_write_refs = index.write_refs

    def write_refs(*args: object, **kwargs: bool) -> None:
        events.append(f"index durable={kwargs.get('durable', True)} after {len(fsyncs)} fsyncs")
        real_write_refs(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(index, "write_refs", write_refs)
    fsyncs.clear()
    registry.save_model(Doubler(), "m")
    assert events == ["index durable=False after 2 fsyncs"]
    assert not any(".index.json" in p or p.endswith("index.json") for p in fsyncs)
    assert Path(fsyncs[-1]) == registry.layout.model_dir("m").resolve()


@needs_proc
def test_a_folding_save_flushes_no_chunk_either(tmp_path: Path, fsyncs: list[str]) -> None:
    """One save in 17 folds the index's tail into a chunk file; it still waits three times,
    and the listing it leaves is complete."""
    registry = CustomModelRegistry(tmp_path / "reg")
    counts = []
    for _ in range(2 + index.TAIL_LIMIT):
        fsyncs.clear()
        registry.save_model(Doubler(), "m")
        counts.append(len(fsyncs))
    assert registry.layout.chunk_files("m"), "no save folded the tail"
    assert max(counts[1:]) == 3, counts
    assert [v["version"] for v in registry.list_versions("m")] == list(range(2 + index.TAIL_LIMIT, 0, -1))


def test_an_index_lost_after_a_save_is_rebuilt_from_the_folders(tmp_path: Path) -> None:
    """What a power cut may leave of an index written without a flush (an empty or cut
    short file): readers answer from the version folders, the next save rebuilds it."""
    registry = CustomModelRegistry(tmp_path / "reg")
    registry.save_model(Doubler(), "m", stage="Production")
    registry.save_model(Doubler(), "m")
    path = registry.layout.index_file("m")
    path.write_bytes(path.read_bytes()[:7])
    assert registry.get_model_by_stage("m", "Production")["version"] == 1
    assert registry.load_model("m/latest")["version"] == 2
    assert registry.save_model(Doubler(), "m") == "models:/m/3"
    assert [v["version"] for v in registry.list_versions("m")] == [3, 2, 1]
    assert registry.check().ok


# -- payload files written without a flush (durable=False) ---------------------------------


class _PathFlavor:
    """A flavor whose framework writes ``model.bin`` itself, by path (no stream saver)."""

    name = "bytes-by-path"
    extra = ""
    packages: tuple[str, ...] = ()

    def detect(self, type_paths: tuple[str, ...]) -> bool:
        return False

    def save(self, model: Any, path: Path, **kwargs: Any) -> SavedModel:
        path.write_bytes(model)
        return SavedModel("raw-bytes", uses_pickle=False, model_class="builtins.bytes", options={})

    def load(self, path: Path, saved: SavedModel, options: LoadOptions) -> Any:
        return path.read_bytes()


def _write(folder: Path, model: Any, flavor: Any, *, durable: bool, preprocessor: Any = None) -> dict[str, Any]:
    folder.mkdir()
    meta = VersionRecord("m", run_id="0" * 32, created_at="2026-01-01T00:00:00+00:00")
    payload.write(folder, model, flavor, preprocessor, meta, durable=durable)
    return meta.to_json()


@needs_proc
@pytest.mark.parametrize(
    "model",
    [Doubler(), np.arange(100_000, dtype=np.float64)],  # hashed in the writing thread; by a worker that follows
    ids=["small", "large"],
)
def test_payload_written_without_a_flush_is_hashed_all_the_same(tmp_path: Path, fsyncs: list[str], model: Any) -> None:
    flavor = get_flavor("python")
    flushed = _write(tmp_path / "flushed", model, flavor, durable=True, preprocessor={"scale": 2})
    assert sorted(Path(p).name for p in fsyncs) == ["model.bin", "preprocessor.pkl"]
    fsyncs.clear()
    staged = _write(tmp_path / "staged", model, flavor, durable=False, preprocessor={"scale": 2})
    assert fsyncs == []
    assert staged["files"] == flushed["files"]
    for name, entry in staged["files"].items():
        assert hashing.describe_file(tmp_path / "staged" / name) == entry


@needs_proc
def test_a_framework_that_writes_by_path_is_not_flushed_either(tmp_path: Path, fsyncs: list[str]) -> None:
    data = bytes(range(256)) * 4000  # above the size from which the hash runs beside the fsync
    flushed = _write(tmp_path / "flushed", data, _PathFlavor(), durable=True)
    assert [Path(p).name for p in fsyncs] == ["model.bin"]
    fsyncs.clear()
    staged = _write(tmp_path / "staged", data, _PathFlavor(), durable=False)
    assert fsyncs == []
    assert staged["files"] == flushed["files"] == {MODEL_BIN: hashing.describe_file(tmp_path / "staged" / MODEL_BIN)}
