"""SHA-256 of stored files: sealing after a write, verification while loading."""

from __future__ import annotations

import hashlib
import os
import pickle
import threading
from pathlib import Path

import numpy as np
import pytest

from fsregistry import IntegrityError, hashing
from fsregistry.hashing import HashingWriter, load_verified, seal_file, sha256_file


@pytest.mark.parametrize("size", [3, 3 * 1024 * 1024])
def test_seal_fsyncs_and_describes_a_file(tmp_path: Path, size: int) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"a" * size)
    assert seal_file(path) == {"sha256": hashlib.sha256(b"a" * size).hexdigest(), "size": size}
    assert sha256_file(path) == seal_file(path)["sha256"]


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


@pytest.mark.parametrize("mappable", [True, False])
def test_large_files_hash_the_same_mapped_or_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mappable: bool
) -> None:
    """Large files are hashed through a memory map; where mapping fails (some network
    file systems), reading in blocks gives the same digest."""
    import mmap

    data = bytes(range(256)) * (5 * 4096 + 7)  # > 1 MiB, not a multiple of the block size
    path = tmp_path / "f"
    path.write_bytes(data)
    if not mappable:

        def refuse(*args: object, **kwargs: object) -> None:
            raise OSError("mmap not supported here")

        monkeypatch.setattr(mmap, "mmap", refuse)
    assert sha256_file(path) == hashlib.sha256(data).hexdigest()


def test_files_on_network_file_systems_are_never_mapped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A mapped file that another host deletes or truncates raises SIGBUS, which no code
    can catch: off local file systems, large files are read instead."""
    import mmap

    from fsregistry.storage import files

    data = b"n" * (2 * 1024 * 1024)
    path = tmp_path / "f"
    path.write_bytes(data)

    def forbidden(*args: object, **kwargs: object) -> None:
        raise RuntimeError("mapped a file on a network file system")

    monkeypatch.setattr(files, "maps_safely", lambda fd: False)
    monkeypatch.setattr(mmap, "mmap", forbidden)
    assert sha256_file(path) == hashlib.sha256(data).hexdigest()
    # a verified load waits for its hashing thread to signal that hashing began: reading
    # signals too, or every load there would wait out the timeout
    import threading

    from fsregistry.hashing import _sha256_open

    started = threading.Event()
    with open(path, "rb", buffering=0) as fh:
        assert _sha256_open(fh, started) == hashlib.sha256(data).hexdigest()
    assert started.is_set()


def test_mount_type_reads_mountinfo() -> None:
    import os

    from fsregistry.storage.files import mount_type

    lines = [
        "27 1 254:0 / / rw,relatime - ext4 /dev/vda rw",
        "40 27 0:52 / /mnt/models rw,relatime shared:5 - nfs4 server:/export rw,vers=4.2",
        "garbage",
    ]
    assert mount_type(lines, os.makedev(254, 0)) == "ext4"
    assert mount_type(lines, os.makedev(0, 52)) == "nfs4"
    assert mount_type(lines, os.makedev(8, 1)) is None


def test_a_hash_that_cannot_read_the_file_fails_the_load(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The hashing thread failing before it starts hashing neither hangs the load nor
    lets its result through."""
    import fsregistry.hashing as hashing_module

    size = 2 * 1024 * 1024
    path = tmp_path / "f"
    path.write_bytes(b"z" * size)
    expected = {"sha256": hashlib.sha256(b"z" * size).hexdigest(), "size": size}

    def unreadable(*args: object, **kwargs: object) -> str:
        raise OSError("stale file handle")

    monkeypatch.setattr(hashing_module, "_sha256_open", unreadable)
    with pytest.raises(IntegrityError, match="could not be read"):
        load_verified(path, expected, lambda: "loaded", name="m", version=1)


def _hash_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "fsregistry-hash"]


@pytest.mark.parametrize("sizes", [[0], [5, 100, 3], [200_000, 200_000], [3 * 1024 * 1024 + 7, 1, 2_500_000]])
def test_hashing_writer_hashes_what_the_file_holds(tmp_path: Path, sizes: list[int]) -> None:
    """Small files are hashed from the written bytes, large ones by a worker that reads
    them back as they are written; either way the record is the file's own SHA-256."""
    rng = np.random.default_rng(0)
    chunks = [rng.integers(0, 256, size, dtype=np.uint8).tobytes() for size in sizes]
    path = tmp_path / "f"
    with HashingWriter(path) as out:
        for chunk in chunks:
            assert out.write(memoryview(chunk)) == len(chunk)
        assert out.tell() == sum(sizes)
        record = out.seal()
    data = b"".join(chunks)
    assert path.read_bytes() == data
    assert record == {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
    assert not _hash_threads()


def test_hashing_writer_takes_any_buffer_pickle_and_numpy_give_it(tmp_path: Path) -> None:
    """Pickle protocol 5 writes large arrays as memoryviews of them; a multi-byte or
    non-contiguous buffer is written as its bytes."""
    array = np.arange(600_000, dtype=np.float64)
    path = tmp_path / "f"
    with HashingWriter(path) as out:
        pickle.dump({"a": array}, out, protocol=5)
        out.write(array[:10])  # float64 items: cast to bytes
        out.write(array.reshape(100, 6000)[:, ::2])  # non-contiguous: copied
        record = out.seal()
    assert record == {"sha256": sha256_file(path), "size": path.stat().st_size}
    with open(path, "rb") as fh:
        assert np.array_equal(pickle.load(fh)["a"], array)
        assert fh.read() == array[:10].tobytes() + array.reshape(100, 6000)[:, ::2].tobytes()


def test_hashing_writer_never_overwrites_and_is_closed_by_its_with_block(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"keep")
    with pytest.raises(FileExistsError):
        HashingWriter(path)
    assert path.read_bytes() == b"keep"
    fresh = tmp_path / "g"
    with pytest.raises(RuntimeError, match="framework failed"), HashingWriter(fresh) as out:
        out.write(b"x" * (2 * 1024 * 1024))
        raise RuntimeError("framework failed")
    assert out.closed and not _hash_threads()  # the worker is stopped, the file closed
    with pytest.raises(ValueError):
        out.write(b"more")
    with pytest.raises(ValueError):
        out.seal()


def test_a_hashing_writer_whose_read_back_fails_does_not_seal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def unreadable(*args: object) -> int:
        raise OSError("injected: read failed")

    monkeypatch.setattr(os, "preadv", unreadable)
    with HashingWriter(tmp_path / "f") as out:
        out.write(b"x" * (1024 * 1024))
        with pytest.raises(OSError, match="injected"):
            out.seal()
    assert not _hash_threads()


def test_a_hashing_writer_whose_fsync_fails_does_not_seal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def failing(fd: int) -> None:
        raise OSError("injected: fsync failed")

    monkeypatch.setattr(hashing.files, "fsync_fd", failing)
    with HashingWriter(tmp_path / "f") as out:
        out.write(b"x" * (1024 * 1024))
        with pytest.raises(OSError, match="fsync failed"):
            out.seal()
    assert out.closed and not _hash_threads()
