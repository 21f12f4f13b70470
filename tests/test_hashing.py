"""SHA-256 while writing, and verification while loading."""

from __future__ import annotations

import hashlib
import pickle
from pathlib import Path

import numpy as np
import pytest

from fsregistry import IntegrityError
from fsregistry.hashing import HashingWriter, load_verified, seal_file, sha256_file


def test_hashing_writer_matches_the_file_whatever_the_write_pattern(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    path = tmp_path / "blob"
    reused = bytearray(3000)
    with HashingWriter(path) as sink:
        for size in (0, 1, 17, 4096, 3 * 1024 * 1024, 5, 1024 * 1024, 70_000):
            sink.write(rng.bytes(size))
        for i in range(50):  # a serialiser that reuses its buffer after each write
            reused[:] = bytes([i]) * len(reused)
            sink.write(memoryview(reused))
        sink.write(np.arange(10_000, dtype=np.float64))  # any buffer-protocol object
    digest = sink.close()
    data = path.read_bytes()
    assert digest == {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
    assert sha256_file(path) == digest["sha256"]


def test_hashing_writer_serves_pickle(tmp_path: Path) -> None:
    obj = {"weights": np.random.default_rng(1).random(300_000), "name": "m"}
    with HashingWriter(tmp_path / "p.pkl") as sink:
        pickle.dump(obj, sink, protocol=5)
    assert sink.digest is not None and sink.digest["sha256"] == sha256_file(tmp_path / "p.pkl")
    restored = pickle.loads((tmp_path / "p.pkl").read_bytes())
    np.testing.assert_array_equal(restored["weights"], obj["weights"])


def test_seal_rehashes_when_the_known_digest_does_not_fit(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"abc")
    good = {"sha256": hashlib.sha256(b"abc").hexdigest(), "size": 3}
    assert seal_file(path, {"sha256": "0" * 64, "size": 99}) == good
    assert seal_file(path) == good


@pytest.mark.parametrize("size", [10, 3 * 1024 * 1024])
def test_load_verified_refuses_a_mismatch_even_if_the_loader_succeeded(tmp_path: Path, size: int) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"x" * size)
    expected = {"sha256": hashlib.sha256(b"x" * size).hexdigest(), "size": size}
    assert load_verified(path, expected, lambda: "ok") == "ok"
    path.write_bytes(b"y" * size)
    with pytest.raises(IntegrityError, match="SHA-256"):
        load_verified(path, expected, lambda: "ok", name="m", version=1)
    with pytest.raises(IntegrityError):  # the integrity error wins over the loader's own failure
        load_verified(path, expected, lambda: 1 / 0, name="m", version=1)
