"""Verified loads: what ``verify=True`` (stamps) and ``verify="full"`` each detect.

``verify=True`` reads and hashes a file in full the first time a process loads it, and
remembers that check as a stamp (device, inode, size, modification and change times, and
the digest).  A later load trusts the stamp while one ``stat`` still matches it; any write,
truncation, ``utime`` or swap changes the change time or the inode, and forces a full
check.  ``verify="full"`` re-reads every byte, every time.  Each test below changes a file
the way the issue lists (rewritten with the same size and its modification time restored,
truncated and restored in place, swapped with another version's) and checks that no mode
accepts it.  Stamps are only kept for files whose change time is older than a window
(``hashing._RACY_NS``); the tests shorten it and wait it out, never measure time.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from toy_models import Doubler

from fsregistry import CustomModelRegistry, IntegrityError, InvalidArgumentError, ModelPredictor
from fsregistry.storage import hashing

#: the window the tests use instead of one second; far above the file system clock's tick
WINDOW_NS = 50_000_000


@pytest.fixture(autouse=True)
def fresh_stamps(monkeypatch: pytest.MonkeyPatch) -> None:
    hashing.clear_stamps()
    monkeypatch.setattr(hashing, "_RACY_NS", WINDOW_NS)


@pytest.fixture
def hashes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The algorithm of every full read-and-hash of a stored file, in order."""
    calls: list[str] = []
    real = hashing._digest_open

    def counting(fh: Any, algorithm: str, started: Any = None) -> str:
        calls.append(algorithm)
        return real(fh, algorithm, started)

    monkeypatch.setattr(hashing, "_digest_open", counting)
    return calls


def _age() -> None:
    """Wait until files written so far are older than the stamp window."""
    time.sleep(2 * WINDOW_NS / 1e9)


def _saved(tmp_path: Path, model: Any = None, **kwargs: Any) -> tuple[CustomModelRegistry, Path, dict[str, Any]]:
    registry = CustomModelRegistry(tmp_path / "reg", **kwargs)
    registry.save_model(Doubler() if model is None else model, "m")
    path = registry.layout.version_dir("m", 1) / "model.bin"
    return registry, path, registry.get_model_version("m/1")["files"]["model.bin"]


def _stamp_it(registry: CustomModelRegistry, path: Path, expected: dict[str, Any], version: int = 1) -> None:
    _age()
    registry.load_model(f"m/{version}")
    assert hashing.stamped(path, expected), "the full check left no stamp"


def _rewrite_keeping_times(path: Path, data: bytes) -> None:
    """Replace the file's bytes in place (same inode), then put its times back."""
    info = path.stat()
    with open(path, "r+b") as fh:
        fh.write(data)
        fh.truncate(len(data))
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))
    after = path.stat()
    assert (after.st_ino, after.st_size, after.st_mtime_ns) == (info.st_ino, info.st_size, info.st_mtime_ns)


def _tampered(data: bytes) -> bytes:
    """A saved ``Doubler(2.0)`` that still loads, as a ``Doubler(4.0)``: a change only a
    check of the bytes can catch (the deserialiser is happy with it)."""
    two, four = struct.pack(">d", 2.0), struct.pack(">d", 4.0)
    assert data.count(two) == 1
    return data.replace(two, four)


MODES = [True, "full"]


def test_a_stamp_spares_the_read_and_full_reads_every_time(tmp_path: Path, hashes: list[str]) -> None:
    registry, path, expected = _saved(tmp_path)
    _stamp_it(registry, path, expected)
    hashes.clear()
    for _ in range(3):
        assert registry.load_model("m/1")["model"].factor == 2.0
    assert hashes == []  # one stat each, no byte read by the verification
    for _ in range(2):
        registry.load_model("m/1", verify="full")
    assert len(hashes) == 2


def test_a_file_checked_right_after_it_was_written_keeps_no_stamp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Within the window, a change could keep the same times (one clock tick): no stamp."""
    monkeypatch.setattr(hashing, "_RACY_NS", 3600 * 10**9)
    registry, path, expected = _saved(tmp_path)
    registry.load_model("m/1")
    assert not hashing.stamped(path, expected)
    _rewrite_keeping_times(path, _tampered(path.read_bytes()))
    with pytest.raises(IntegrityError):
        registry.load_model("m/1")


@pytest.mark.parametrize("verify", MODES)
def test_a_file_rewritten_with_the_same_size_and_times_is_refused(tmp_path: Path, verify: Any) -> None:
    registry, path, expected = _saved(tmp_path)
    _stamp_it(registry, path, expected)
    data = path.read_bytes()
    _rewrite_keeping_times(path, _tampered(data))
    assert path.stat().st_size == len(data)
    with pytest.raises(IntegrityError, match=r"model\.bin"):
        registry.load_model("m/1", verify=verify)


@pytest.mark.parametrize("verify", MODES)
def test_a_file_truncated_and_grown_back_in_place_is_refused(tmp_path: Path, verify: Any) -> None:
    registry, path, expected = _saved(tmp_path)
    _stamp_it(registry, path, expected)
    info = path.stat()
    os.truncate(path, info.st_size // 2)
    os.truncate(path, info.st_size)  # the same size again, its second half now zeros
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))
    with pytest.raises(IntegrityError, match=r"model\.bin"):
        registry.load_model("m/1", verify=verify)


def test_a_file_truncated_and_restored_in_place_is_read_again(tmp_path: Path, hashes: list[str]) -> None:
    """The same bytes put back: the file is what was saved, so the load succeeds, but
    only after a full check, never on the old stamp."""
    registry, path, expected = _saved(tmp_path)
    _stamp_it(registry, path, expected)
    data, info = path.read_bytes(), path.stat()
    os.truncate(path, 0)
    path.write_bytes(data)  # the same inode, the same bytes, the same times
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))
    assert (path.stat().st_ino, path.stat().st_mtime_ns) == (info.st_ino, info.st_mtime_ns)
    hashes.clear()
    assert registry.load_model("m/1")["model"].factor == 2.0
    assert len(hashes) == 1


@pytest.mark.parametrize("verify", MODES)
@pytest.mark.parametrize("how", ["renamed over", "copied over"])
def test_a_file_swapped_with_another_versions_is_refused(tmp_path: Path, verify: Any, how: str) -> None:
    registry = CustomModelRegistry(tmp_path / "reg")
    registry.save_model(Doubler(2.0), "m")
    registry.save_model(Doubler(3.0), "m")
    one, two = (registry.layout.version_dir("m", v) / "model.bin" for v in (1, 2))
    assert one.stat().st_size == two.stat().st_size  # only the digest tells them apart
    _age()
    registry.load_model("m/1")
    registry.load_model("m/2")  # both stamped: the stamp of 2's file names 2's digest
    info = one.stat()
    if how == "renamed over":
        os.replace(two, one)
        shutil.copyfile(one, two)  # version 2 stays whole
    else:
        shutil.copyfile(two, one)
        os.utime(one, ns=(info.st_atime_ns, info.st_mtime_ns))
    with pytest.raises(IntegrityError, match=r"model\.bin of m/1"):
        registry.load_model("m/1", verify=verify)
    assert registry.load_model("m/2", verify=verify)["model"].factor == 3.0


def test_a_failed_full_check_drops_the_stamp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What a stamp cannot see (a bit flipped by the hardware, no write, no new times),
    ``verify="full"`` can; once it has, ``verify=True`` no longer trusts the old stamp."""
    registry, path, expected = _saved(tmp_path)
    _stamp_it(registry, path, expected)
    real = hashing._digest_open

    def flipped(fh: Any, algorithm: str, started: Any = None) -> str:  # the media now reads other bytes
        digest = real(fh, algorithm, started)
        return digest[:-1] + ("0" if digest[-1] != "0" else "1")

    monkeypatch.setattr(hashing, "_digest_open", flipped)
    assert registry.load_model("m/1")["model"].factor == 2.0  # the stamp: nothing read
    with pytest.raises(IntegrityError):
        registry.load_model("m/1", verify="full")
    assert not hashing.stamped(path, expected)
    with pytest.raises(IntegrityError):
        registry.load_model("m/1")


@pytest.mark.parametrize("verify", MODES)
def test_large_files_verified_beside_the_load_keep_stamps_too(tmp_path: Path, verify: Any, hashes: list[str]) -> None:
    array = np.arange(400_000, dtype=np.float64)  # 3.2 MB: hashed by a worker during the load
    registry, path, expected = _saved(tmp_path, array)
    assert expected["size"] > hashing._LOAD_PARALLEL_THRESHOLD
    _stamp_it(registry, path, expected)
    hashes.clear()
    assert np.array_equal(registry.load_model("m/1", verify=verify)["model"], array)
    assert len(hashes) == (1 if verify == "full" else 0)
    data = bytearray(path.read_bytes())
    data[-9] ^= 0xFF
    _rewrite_keeping_times(path, bytes(data))
    with pytest.raises(IntegrityError):
        registry.load_model("m/1", verify=verify)


def test_the_preprocessor_is_verified_the_same_way(tmp_path: Path) -> None:
    registry = CustomModelRegistry(tmp_path / "reg")
    registry.save_model(Doubler(), "m", preprocessor_artifact={"scale": 2})
    path = registry.layout.version_dir("m", 1) / "preprocessor.pkl"
    _age()
    registry.load_model("m/1")
    _rewrite_keeping_times(path, path.read_bytes().replace(b"scale", b"scalf"))
    for verify in MODES:
        with pytest.raises(IntegrityError, match=r"preprocessor\.pkl"):
            registry.load_model("m/1", verify=verify)


def test_versions_recorded_with_sha256_only_are_verified_by_it(tmp_path: Path, hashes: list[str]) -> None:
    """A version written before BLAKE3 was recorded (or where it is not installed) has
    only its SHA-256: loads check that, stamps work the same."""
    registry, path, _ = _saved(tmp_path)
    meta_path = registry.layout.meta_file("m", 1)
    meta = json.loads(meta_path.read_text())
    meta["files"]["model.bin"].pop("blake3", None)
    meta_path.write_text(json.dumps(meta))
    expected = registry.get_model_version("m/1")["files"]["model.bin"]
    assert set(expected) == {"sha256", "size"}
    _stamp_it(registry, path, expected)
    assert hashes == ["sha256"]
    _rewrite_keeping_times(path, _tampered(path.read_bytes()))
    with pytest.raises(IntegrityError, match="SHA-256 is"):
        registry.load_model("m/1")


def test_new_versions_record_blake3_and_loads_check_it(tmp_path: Path, hashes: list[str]) -> None:
    import blake3

    registry, path, expected = _saved(tmp_path)
    assert expected["blake3"] == blake3.blake3(path.read_bytes()).hexdigest()
    registry.load_model("m/1", verify="full")
    assert hashes == ["blake3"]


def test_without_blake3_saves_record_and_loads_check_sha256(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hashing, "_blake3", lambda: None)
    registry, path, expected = _saved(tmp_path)
    assert set(expected) == {"sha256", "size"}
    assert registry.load_model("m/1", verify="full")["model"].factor == 2.0
    _rewrite_keeping_times(path, _tampered(path.read_bytes()))
    with pytest.raises(IntegrityError, match="SHA-256 is"):
        registry.load_model("m/1", verify="full")


def test_verify_file_checks_a_local_copy_against_its_record(tmp_path: Path, hashes: list[str]) -> None:
    """The one check of a local file against its ``meta.json`` entry (a copy fetched into
    a cache uses it): every byte unless a stamp is trusted explicitly."""
    _, path, expected = _saved(tmp_path)
    copy = tmp_path / "copy.bin"
    shutil.copyfile(path, copy)
    _age()
    hashing.verify_file(copy, expected, name="m", version=1)
    hashing.verify_file(copy, expected, name="m", version=1)
    hashing.verify_file(copy, expected, name="m", version=1, trust_stamp=True)
    assert len(hashes) == 2
    _rewrite_keeping_times(copy, _tampered(copy.read_bytes()))
    for trust in (False, True):
        with pytest.raises(IntegrityError, match=r"copy\.bin of m/1"):
            hashing.verify_file(copy, expected, name="m", version=1, trust_stamp=trust)


def test_verify_accepts_true_false_and_full_only(tmp_path: Path) -> None:
    registry, _, _ = _saved(tmp_path, verify="full")
    assert registry.verify == "full"
    for wrong in ("yes", "FULL", 1):
        with pytest.raises(InvalidArgumentError, match="True, False or 'full'"):
            registry.load_model("m/1", verify=wrong)
    with pytest.raises(InvalidArgumentError):
        CustomModelRegistry(tmp_path / "reg", verify="stamp")  # type: ignore[arg-type]


def test_the_predictor_passes_verify_full_on(tmp_path: Path, hashes: list[str]) -> None:
    registry, path, expected = _saved(tmp_path)
    _stamp_it(registry, path, expected)
    hashes.clear()
    predictor = ModelPredictor(registry=registry)
    predictor.load_model("m/1")
    assert hashes == []
    predictor.load_model("m/1", verify="full")
    assert len(hashes) == 1
    _rewrite_keeping_times(path, _tampered(path.read_bytes()))
    for verify in MODES:
        with pytest.raises(IntegrityError):
            predictor.load_model("m/1", verify=verify)
