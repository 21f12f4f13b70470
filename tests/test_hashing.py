"""SHA-256 of stored files: sealing after a write, verification while loading."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from fsregistry import IntegrityError
from fsregistry.hashing import load_verified, seal_file, sha256_file


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
