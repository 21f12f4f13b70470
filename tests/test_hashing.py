"""Digests of stored files (SHA-256, and BLAKE3 where installed): sealing after a write,
verification while loading."""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import threading
from pathlib import Path

import numpy as np
import pytest

from fsregistry import IntegrityError
from fsregistry.storage import hashing
from fsregistry.storage.hashing import HashingWriter, load_verified, seal_file, sha256_file


def _record(data: bytes) -> dict[str, object]:
    """The ``meta.json`` entry of a file holding ``data``, as this process writes it."""
    record: dict[str, object] = {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
    if hashing.blake3_available():
        import blake3

        record["blake3"] = blake3.blake3(data).hexdigest()
    return record


@pytest.mark.parametrize("size", [3, 3 * 1024 * 1024])
def test_seal_fsyncs_and_describes_a_file(tmp_path: Path, size: int) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"a" * size)
    assert seal_file(path) == _record(b"a" * size)
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

    from fsregistry.storage.hashing import _digest_open

    started = threading.Event()
    with open(path, "rb", buffering=0) as fh:
        assert _digest_open(fh, "sha256", started) == hashlib.sha256(data).hexdigest()
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
    import fsregistry.storage.hashing as hashing_module

    size = 2 * 1024 * 1024
    path = tmp_path / "f"
    path.write_bytes(b"z" * size)
    expected = {"sha256": hashlib.sha256(b"z" * size).hexdigest(), "size": size}

    def unreadable(*args: object, **kwargs: object) -> str:
        raise OSError("stale file handle")

    monkeypatch.setattr(hashing_module, "_digest_open", unreadable)
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
    assert record == _record(data)
    assert not _hash_threads()


def test_hashing_writer_takes_the_buffers_a_file_takes(tmp_path: Path) -> None:
    """Pickle protocol 5 writes large arrays as buffers of them; multi-byte items are
    written as their bytes, empty buffers as nothing, and a buffer that is not
    C-contiguous is refused, as io.FileIO refuses it (its byte order would be a guess)."""
    array = np.arange(600_000, dtype=np.float64)
    path = tmp_path / "f"
    with HashingWriter(path) as out:
        pickle.dump({"a": array, "f": np.asfortranarray(array.reshape(600, 1000))}, out, protocol=5)
        assert out.write(array[:10]) == 80  # float64 items: their bytes
        assert out.write(np.zeros((0, 3))) == 0
        for strided in (array.reshape(100, 6000)[:, ::2], np.asfortranarray(array.reshape(600, 1000))):
            with pytest.raises(BufferError):
                out.write(strided)
        record = out.seal()
    assert record == _record(path.read_bytes())
    with open(path, "rb") as fh:
        loaded = pickle.load(fh)
        assert np.array_equal(loaded["a"], array) and np.array_equal(loaded["f"], array.reshape(600, 1000))
        assert fh.read() == array[:10].tobytes()


def test_small_writes_hash_what_reached_the_file_even_if_the_buffer_changes(tmp_path: Path) -> None:
    """The first 256 KiB are hashed in the writing thread: from a copy taken before the
    write, so a buffer another thread changes meanwhile cannot make hash and file differ."""
    buffer = bytearray(b"a" * 100_000)

    class Mutating(HashingWriter):
        def _write_once(self, data: object, start: int) -> int:
            n = super()._write_once(data, start)
            buffer[:] = b"b" * len(buffer)  # "training" goes on while we write
            return n

    path = tmp_path / "f"
    with Mutating(path) as out:
        out.write(buffer)
        record = out.seal()
    assert path.read_bytes() == b"a" * 100_000
    assert record["sha256"] == sha256_file(path)


@pytest.mark.parametrize("size", [1000, 2 * 1024 * 1024])
def test_a_failed_write_cannot_be_sealed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, size: int) -> None:
    """A write that fails part-way (disk full) leaves a file that is missing bytes: later
    writes and seal() refuse, whatever the caller does with the exception."""
    real_write = os.write
    calls = []

    def half_then_full(fd: int, data: object) -> int:
        calls.append(1)
        if len(calls) == 1:
            return real_write(fd, memoryview(data)[: len(memoryview(data)) // 2])  # type: ignore[arg-type]
        raise OSError(28, "No space left on device")

    with HashingWriter(tmp_path / "f") as out:
        monkeypatch.setattr(os, "write", half_then_full)
        with pytest.raises(OSError, match="No space"):
            out.write(b"x" * size)
        monkeypatch.undo()
        with pytest.raises(OSError, match="incomplete"):
            out.write(b"y" * 1000)
        with pytest.raises(OSError, match="incomplete"):
            out.seal()
    assert not _hash_threads()


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
    class Unreadable(io.FileIO):
        def readinto(self, buffer: object) -> int:
            raise OSError("injected: read failed")

    def unreadable(fd: int, buffers: object, offset: int) -> int:
        raise OSError("injected: read failed")

    monkeypatch.setattr(io, "FileIO", Unreadable)  # where the worker reads through a second descriptor
    if hasattr(os, "preadv"):  # where it reads the written descriptor at offsets
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
        monkeypatch.undo()
        with pytest.raises(OSError, match="sealing failed"):  # Linux reports a writeback error once
            out.seal()
    assert out.closed and not _hash_threads()


def test_the_worker_hashes_the_file_it_was_given_even_if_the_path_changes(tmp_path: Path) -> None:
    path = tmp_path / "f"
    with HashingWriter(path) as out:
        out.write(b"a" * 1000)
        path.rename(tmp_path / "moved")
        path.write_bytes(b"an impostor")
        out.write(b"b" * (2 * 1024 * 1024))  # the worker starts only now
        record = out.seal()
    assert record["sha256"] == sha256_file(tmp_path / "moved")


def test_a_hashing_writer_creates_files_like_open_does(tmp_path: Path) -> None:
    """0o666 less the umask, so a group-shared registry (umask 002) stays group-readable
    and -writable as with every other file it holds."""
    old = os.umask(0o002)
    try:
        with HashingWriter(tmp_path / "streamed") as out:
            out.write(b"x")
            out.seal()
        (tmp_path / "opened").write_bytes(b"x")
    finally:
        os.umask(old)
    assert (tmp_path / "streamed").stat().st_mode & 0o777 == (tmp_path / "opened").stat().st_mode & 0o777 == 0o664
