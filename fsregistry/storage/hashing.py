"""SHA-256 of stored files, and verification of a file while it is being loaded.

Every file a version stores is hashed when it is written, and checked when it is read
(on by default).  To keep verified loads close to the speed of an unverified one, the hash
runs in a worker thread (``hashlib`` releases the GIL) *while* the flavor deserialises the
same file; the load only returns once both finish and the digest matches.  A mismatch is
an :class:`~fsregistry.errors.IntegrityError` whatever the deserialiser did, and the
half-trusted object is dropped.  The file size is compared first, so a truncated file
fails before anything is read.
"""

from __future__ import annotations

import hashlib
import io
import mmap
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from ..errors import IntegrityError
from . import files

T = TypeVar("T")
_BLOCK = 4 * 1024 * 1024
#: files from this size on are hashed through a memory map rather than read into a buffer
_MAP_THRESHOLD = 256 * 1024
#: below this size a freshly written file is hashed after its fsync in the calling thread:
#: a worker thread costs more than the overlap saves (measured crossover about 200 KB)
_SEAL_PARALLEL_THRESHOLD = 256 * 1024
#: below this size a file is hashed before it is loaded: the overlap saves less than a
#: worker costs when the load itself keeps both cores busy (XGBoost's does)
_LOAD_PARALLEL_THRESHOLD = 1024 * 1024
#: a streamed file is hashed in the writing thread up to this size, then by a worker thread
#: that follows the writes (the same crossover as ``_SEAL_PARALLEL_THRESHOLD``)
_STREAM_PARALLEL_THRESHOLD = _SEAL_PARALLEL_THRESHOLD
#: large writes reach the file in pieces of this size, so the hash can follow them closely
_WRITE_PIECE = 1024 * 1024
#: at most how long a verified load waits for its hashing thread to start hashing (seconds)
_HASH_START_WAIT = 0.05


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file.

    Large files on a local file system are hashed through a read-only memory map: no
    copy from the page cache into a buffer, which matters when the hash runs beside a load
    that copies the same bytes.  (A mapped file that shrinks raises SIGBUS rather than an
    error; stored files are immutable and their size is checked first, and on network file
    systems, where another host could delete them, files are never mapped.)  Small files,
    and everything that cannot be mapped, are read in large blocks.
    """
    with open(path, "rb", buffering=0) as fh:
        return _sha256_open(fh)


def _sha256_open(fh: Any, hashing: threading.Event | None = None) -> str:
    """Hex SHA-256 of an open, unbuffered binary file, from its start.  ``hashing`` is set
    just before the digest starts (``hashlib`` releases the GIL while it works)."""
    size = os.fstat(fh.fileno()).st_size
    if size >= _MAP_THRESHOLD and files.maps_safely(fh.fileno()):
        try:
            with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
                if hashing is not None:
                    hashing.set()
                return hashlib.sha256(mapped).hexdigest()
        except (OSError, ValueError):  # cannot map here: fall back to reading
            fh.seek(0)
    if hashing is not None:
        hashing.set()
    digest = hashlib.sha256()
    buf = bytearray(min(_BLOCK, max(size, 1)))
    view = memoryview(buf)
    while n := fh.readinto(buf):
        digest.update(view[:n])
    return digest.hexdigest()


def describe_file(path: Path) -> dict[str, Any]:
    """``{"sha256", "size"}`` of a file, as recorded in ``meta.json``."""
    return {"sha256": sha256_file(path), "size": os.stat(path).st_size}


def seal_file(path: Path) -> dict[str, Any]:
    """fsync a freshly written file and describe it (``{"sha256", "size"}``).

    For a large file a worker thread hashes (which waits on the CPU) while this one
    fsyncs (which waits on the disk).  That way round, the calling thread's core is free
    for the hash while it waits; the other way round (hash here, fsync in the worker),
    three threads compete for the cores when a framework's OpenMP workers are still
    spinning after its save, and sealing a LightGBM model took 1.5x as long.
    """
    size = os.stat(path).st_size
    if size < _SEAL_PARALLEL_THRESHOLD:
        files.fsync_file(path)
        return describe_file(path)
    result: dict[str, Any] = {}

    def digest() -> None:
        try:
            result["sha256"] = sha256_file(path)
        except BaseException as exc:  # re-raised in the caller's thread
            result["error"] = exc

    worker = threading.Thread(target=digest, name="fsregistry-hash", daemon=True)
    worker.start()
    try:
        files.fsync_file(path)
    finally:
        worker.join()
    if "error" in result:
        raise result["error"]
    return {"sha256": result["sha256"], "size": size}


class HashingWriter(io.RawIOBase):
    """A new file that is hashed *while* it is written, for frameworks that write to a
    binary stream (``torch.save``, pickle).

    Sealing a file after it was written costs its hash on top of the write; here a
    worker thread reads back each piece as soon as it is in the file (from the page
    cache) and hashes it while the framework produces the next one, so :meth:`seal` has
    only the fsync left to wait for.  What is hashed is exactly what the file holds: the
    worker reads the file itself, and the first 256 KiB, hashed in the writing thread
    (no thread for small files), are copied before they are written and hashed from that
    copy, so a caller's buffer that changes meanwhile cannot make the two differ.  The
    stream cannot seek, so every byte is written exactly once, in order.  Use it as a
    context manager (or close it): until it is closed or sealed, its worker thread waits
    for more writes, and keeps it alive.

        with HashingWriter(path) as out:
            torch.save(obj, out)
            record = out.seal()      # {"sha256", "size"}, the file fsync'd
    """

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path
        self._digest = hashlib.sha256()
        self._written = 0  # bytes in the file (updated by the writing thread only)
        self._hashed = 0  # bytes hashed so far (by the writing thread, then by the worker)
        self._finished = False  # no more writes: the worker hashes what is left and stops
        self._abandoned = False  # closed without sealing: the worker stops at once
        self._failed: str | None = None  # why this file can no longer be sealed
        #: the error a write to the file raised (disk full...), if one did
        self.write_error: OSError | None = None
        self._idle = False  # the worker is waiting for more writes
        self._wake = threading.Event()
        self._worker: threading.Thread | None = None
        self._error: BaseException | None = None
        self._fd = self._reader = -1
        # 0o666 less the umask, as open(path, "xb") would: a group-shared root stays shared
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)
        self._fd = os.open(path, flags, 0o666)
        try:  # the worker reads this very file, whatever happens to the path meanwhile
            self._reader = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0))
        except BaseException:
            os.close(self._fd)
            self._fd = -1
            raise

    def writable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._written

    def write(self, data: Any) -> int:
        """Write all of ``data`` (a C-contiguous bytes-like object); return its length."""
        if self.closed:
            raise ValueError("write to a closed HashingWriter")
        if self._failed:
            raise OSError(f"{self.path}: {self._failed}")
        view = memoryview(data)
        if view.nbytes == 0:
            return 0
        if not view.c_contiguous:  # as io.FileIO: the bytes' order would be a guess
            raise BufferError("HashingWriter.write needs a C-contiguous buffer")
        if view.ndim != 1 or view.itemsize != 1:
            view = view.cast("B")
        try:
            if self._worker is None and self._written + len(view) <= _STREAM_PARALLEL_THRESHOLD:
                self._write_hashing(bytes(view))
            else:
                self._write_followed(view)
        except BaseException as exc:
            self._failed = f"a write failed ({exc}); the file is incomplete"
            if isinstance(exc, OSError):
                self.write_error = exc
            raise
        return len(view)

    def _write_hashing(self, chunk: bytes) -> None:
        """Write a private copy and hash exactly the bytes each write call reports written."""
        done = 0
        while done < len(chunk):
            n = self._write_once(chunk, done)
            self._digest.update(chunk[done : done + n])
            done += n
            self._hashed = self._written

    def _write_followed(self, view: memoryview) -> None:
        """Write in pieces; the worker hashes each one back from the file."""
        if self._worker is None:
            self._worker = threading.Thread(target=self._follow, name="fsregistry-hash", daemon=True)
            self._worker.start()
        done = 0
        while done < len(view):
            done += self._write_once(view[: done + _WRITE_PIECE], done)
            if self._idle:
                self._wake.set()

    def _write_once(self, buffer: Any, start: int) -> int:
        n = os.write(self._fd, memoryview(buffer)[start:])
        if n <= 0:
            raise OSError(f"writing {self.path} made no progress")
        self._written += n
        return n

    def _follow(self) -> None:
        """Worker: hash the file's bytes as they are written, until sealed or abandoned."""
        try:
            with io.FileIO(self._reader, "rb", closefd=False) as reader:
                reader.seek(self._hashed)
                buf = bytearray(_BLOCK)
                view = memoryview(buf)
                while not self._abandoned:
                    target = self._written
                    while self._hashed < target and not self._abandoned:
                        n = reader.readinto(view[: min(len(buf), target - self._hashed)])
                        if not n:
                            raise OSError(f"{self.path} became shorter while it was being written")
                        self._digest.update(view[:n])
                        self._hashed += n
                    if self._finished and self._hashed == self._written:
                        return
                    self._wake.clear()
                    self._idle = True
                    if self._written == self._hashed and not self._finished and not self._abandoned:
                        self._wake.wait()
                    self._idle = False
        except BaseException as exc:  # re-raised by seal() in the writer's thread
            self._error = exc

    def seal(self) -> dict[str, Any]:
        """Finish the file: fsync it while the worker hashes what is left, and return
        ``{"sha256", "size"}``.  A writer whose write or seal failed cannot be sealed."""
        if self.closed:
            raise ValueError("seal of a closed HashingWriter")
        if self._failed:
            raise OSError(f"{self.path}: {self._failed}")
        self._finished = True
        self._wake.set()
        try:
            try:
                files.fsync_fd(self._fd)
            finally:
                if self._worker is not None:
                    self._worker.join()
            if self._error is not None:
                raise self._error
            size = os.fstat(self._fd).st_size
            if size != self._written or self._hashed != self._written:
                raise OSError(f"{self.path}: {self._written} bytes written, {size} in the file, {self._hashed} hashed")
        except BaseException as exc:
            self._failed = f"sealing failed ({exc})"  # a retried fsync may not report the error again
            raise
        record = {"sha256": self._digest.hexdigest(), "size": size}
        self.close()
        return record

    def close(self) -> None:
        """Close the file; unsealed, the worker is stopped and the file is left for the
        caller to remove (it lives in the staging area)."""
        if self.closed or self._fd < 0:
            return
        self._abandoned = not self._finished
        self._finished = True
        self._wake.set()
        if self._worker is not None:
            self._worker.join()
        fd, reader, self._fd, self._reader = self._fd, self._reader, -1, -1
        try:
            os.close(fd)
        finally:
            try:
                os.close(reader)
            finally:
                super().close()


def _mismatch(path: Path, why: str, name: str | None, version: int | None) -> IntegrityError:
    return IntegrityError(
        f"integrity check failed for {path.name} of {name}/{version}: {why}; the file is corrupt or was "
        "modified after it was saved (run check() to see every affected file)",
        name=name,
        version=version,
        path=str(path),
    )


def verify_file(path: Path, expected: dict[str, Any], *, name: str | None = None, version: int | None = None) -> None:
    """Raise :class:`IntegrityError` unless ``path`` has the recorded size and SHA-256."""
    check_size(path, expected, name=name, version=version)
    actual = sha256_file(path)
    if actual != expected.get("sha256"):
        raise _mismatch(path, f"SHA-256 is {actual}, expected {expected.get('sha256')}", name, version)


def check_size(path: Path, expected: dict[str, Any], *, name: str | None = None, version: int | None = None) -> None:
    """Cheap first check: the file exists and has the recorded size."""
    try:
        size = os.stat(path).st_size
    except FileNotFoundError:
        raise _mismatch(path, "the file is missing", name, version) from None
    if size != expected.get("size"):
        raise _mismatch(path, f"size is {size} bytes, expected {expected.get('size')}", name, version)


def load_verified(
    path: Path,
    expected: dict[str, Any] | None,
    load: Callable[[], T],
    *,
    name: str | None = None,
    version: int | None = None,
) -> T:
    """Run ``load()`` while hashing ``path`` in parallel; return its result only if the
    file matches ``expected``.  ``expected=None`` skips verification."""
    if expected is None:
        return load()
    check_size(path, expected, name=name, version=version)
    if expected.get("size", 0) < _LOAD_PARALLEL_THRESHOLD:
        verify_file(path, expected, name=name, version=version)
        return load()
    result: dict[str, str] = {}
    hashing = threading.Event()

    def work() -> None:
        try:
            with open(path, "rb", buffering=0) as fh:
                result["sha256"] = _sha256_open(fh, hashing)
        except OSError as exc:  # vanished or unreadable mid-way
            result["error"] = str(exc)
        finally:
            hashing.set()

    worker = threading.Thread(target=work, name="fsregistry-verify", daemon=True)
    worker.start()
    # Let the hash start before the load: several frameworks hold the GIL while they
    # deserialise, which would otherwise keep the worker from starting until they finish.
    hashing.wait(_HASH_START_WAIT)
    try:
        value = load()
    except BaseException:
        worker.join()
        _raise_if_mismatch(path, expected, result, name, version)
        raise
    worker.join()
    _raise_if_mismatch(path, expected, result, name, version)
    return value


def _raise_if_mismatch(
    path: Path, expected: dict[str, Any], result: dict[str, str], name: str | None, version: int | None
) -> None:
    if "error" in result:
        raise _mismatch(path, f"could not be read ({result['error']})", name, version)
    if result.get("sha256") != expected.get("sha256"):
        raise _mismatch(path, f"SHA-256 is {result.get('sha256')}, expected {expected.get('sha256')}", name, version)
