"""Digests of stored files, and verification of a file while it is being loaded.

Every file a version stores is hashed when it is written: SHA-256 always, and BLAKE3 too
where the ``blake3`` package is installed (an optional dependency; see docs/design.md,
"Hashing").  Both go into the file's ``meta.json`` entry (``{"sha256", "blake3", "size"}``).
A load checks the fastest digest the entry has and this process can compute: BLAKE3 reads
about four times as fast as SHA-256, and a version written without it (or read where it
is not installed) is checked by its SHA-256.

To keep verified loads close to the speed of an unverified one, three things:

* the hash of a large file runs in a worker thread (``hashlib`` and ``blake3`` release the
  GIL) *while* the flavor deserialises the same file; the load only returns once both
  finish and the digest matches.  A mismatch is an :class:`~fsregistry.errors.IntegrityError`
  whatever the deserialiser did, and the half-trusted object is dropped.  The file size
  is compared first, so a truncated file fails before anything is read;
* a full check that passed is remembered for the rest of the process as a *stamp*: the
  file's device, inode, size, modification and change times, with the digest it had.  A
  later load of the same file (``verify=True``) compares one ``stat`` with the stamp and
  the digest with ``meta.json`` instead of reading every byte.  Any write, truncation,
  ``utime``, rename onto it or copy changes the change time (or the inode), which no
  process can set back, so the file is then read and hashed in full again.  What a stamp
  cannot see is a change made without the file system (a bit flipped by failing
  hardware, a write to the raw device) or under a clock set back;
* ``verify="full"`` (:func:`load_verified` with ``full=True``) ignores stamps and re-reads
  every byte, for those who want to catch the changes a stamp cannot see.
"""

from __future__ import annotations

import collections
import contextlib
import functools
import hashlib
import io
import mmap
import os
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal, TypeVar

from ..errors import IntegrityError
from ..names import require_flag
from . import files

T = TypeVar("T")
#: what ``verify=`` accepts on a load: ``True`` (a stamp of an earlier full check in this
#: process is trusted), ``"full"`` (every byte read and hashed, every time), ``False``
Verify = bool | Literal["full"]
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
#: whether a file can be read at an offset without moving its descriptor's position
_PREADV = hasattr(os, "preadv")
#: large writes reach the file in pieces of this size, so the hash can follow them closely
_WRITE_PIECE = 1024 * 1024
#: at most how long a verified load waits for its hashing thread to start hashing (seconds)
_HASH_START_WAIT = 0.05
#: a full check is remembered (as a stamp) only if the file's change time was at least this
#: much older than the check: a change made within one tick of the file system's clock
#: after the check could otherwise leave the same times.  One second is coarser than the
#: tick of every file system stamps are kept for (ext3's is one second; ext4, XFS, Btrfs
#: and tmpfs keep nanoseconds, from a clock that ticks every 1-10 ms).
_RACY_NS = 1_000_000_000
#: how many stamps a process keeps (the least recently used go first)
_STAMPS_MAX = 4096
#: names of the digests, as ``meta.json`` records them and as errors print them
_NAMES = {"blake3": "BLAKE3", "sha256": "SHA-256"}


@functools.lru_cache(maxsize=1)
def _blake3() -> Any:
    """The ``blake3.blake3`` hasher class, or ``None`` when the package is not installed
    (imported on first use: ``import fsregistry`` stays light)."""
    try:
        from blake3 import blake3
    except ImportError:
        return None
    return blake3


def blake3_available() -> bool:
    """Whether this process records and checks BLAKE3 digests (the ``blake3`` package)."""
    return _blake3() is not None


def _new(algorithm: str) -> Any:
    """A new hasher of ``algorithm`` (``"sha256"`` or ``"blake3"``)."""
    if algorithm == "blake3":
        return _blake3()()
    return hashlib.sha256()


def preferred(expected: Mapping[str, Any]) -> tuple[str, Any]:
    """``(algorithm, digest)`` a check of a file with the ``meta.json`` entry ``expected``
    uses: BLAKE3 where the entry has it and this process can compute it, else SHA-256."""
    if isinstance(expected.get("blake3"), str) and blake3_available():
        return "blake3", expected["blake3"]
    return "sha256", expected.get("sha256")


class _Digests:
    """SHA-256 and, where the ``blake3`` package is installed, BLAKE3 of the same bytes:
    what a new file's ``meta.json`` entry records."""

    def __init__(self) -> None:
        self._sha256 = hashlib.sha256()
        self._blake3 = _new("blake3") if blake3_available() else None

    def update(self, data: Any) -> None:
        self._sha256.update(data)
        if self._blake3 is not None:
            self._blake3.update(data)

    def record(self, size: int) -> dict[str, Any]:
        """The ``meta.json`` entry: ``{"sha256", "size"}``, and ``"blake3"`` when computed."""
        record: dict[str, Any] = {"sha256": self._sha256.hexdigest(), "size": size}
        if self._blake3 is not None:
            record["blake3"] = self._blake3.hexdigest()
        return record


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file (see :func:`digest_file`)."""
    return digest_file(path, "sha256")


def digest_file(path: Path, algorithm: str) -> str:
    """Hex digest (``"sha256"`` or ``"blake3"``) of a file.

    Large files on a local file system are hashed through a read-only memory map: no
    copy from the page cache into a buffer, which matters when the hash runs beside a load
    that copies the same bytes.  (A mapped file that shrinks raises SIGBUS rather than an
    error; stored files are immutable and their size is checked first, and on network file
    systems, where another host could delete them, files are never mapped.)  Small files,
    and everything that cannot be mapped, are read in large blocks.
    """
    with open(path, "rb", buffering=0) as fh:
        return _digest_open(fh, algorithm)


def _digest_open(fh: Any, algorithm: str, hashing: threading.Event | None = None) -> str:
    """Hex digest of an open, unbuffered binary file, from its start.  ``hashing`` is set
    just before the digest starts (the hashers release the GIL while they work)."""
    digest = _new(algorithm)
    _feed(fh, digest.update, hashing)
    return str(digest.hexdigest())


def _feed(fh: Any, update: Callable[[Any], None], hashing: threading.Event | None = None) -> None:
    """Pass an open file's bytes to ``update``: mapped in one piece when large and local,
    else in blocks."""
    size = os.fstat(fh.fileno()).st_size
    if size >= _MAP_THRESHOLD and files.maps_safely(fh.fileno()):
        try:
            with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
                if hashing is not None:
                    hashing.set()
                update(mapped)
                return
        except (OSError, ValueError):  # cannot map here: fall back to reading
            fh.seek(0)
    if hashing is not None:
        hashing.set()
    buf = bytearray(min(_BLOCK, max(size, 1)))
    view = memoryview(buf)
    while n := fh.readinto(buf):
        update(view[:n])


def describe_file(path: Path) -> dict[str, Any]:
    """``{"sha256", "size"}`` of a file, and ``"blake3"`` where it is installed: the
    file's entry in ``meta.json``.  The file is read once for both digests."""
    digests = _Digests()
    with open(path, "rb", buffering=0) as fh:
        _feed(fh, digests.update)
        return digests.record(os.fstat(fh.fileno()).st_size)


def seal_file(path: Path, *, durable: bool = True) -> dict[str, Any]:
    """fsync a freshly written file and describe it (:func:`describe_file`);
    ``durable=False`` only describes it (a file that is uploaded elsewhere, not kept here).

    For a large file a worker thread hashes (which waits on the CPU) while this one
    fsyncs (which waits on the disk).  That way round, the calling thread's core is free
    for the hash while it waits; the other way round (hash here, fsync in the worker),
    three threads compete for the cores when a framework's OpenMP workers are still
    spinning after its save, and sealing a LightGBM model took 1.5x as long.
    """
    if not durable:
        return describe_file(path)
    size = os.stat(path).st_size
    if size < _SEAL_PARALLEL_THRESHOLD:
        files.fsync_file(path)
        return describe_file(path)
    result: dict[str, Any] = {}

    def digest() -> None:
        try:
            result["record"] = describe_file(path)
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
    record: dict[str, Any] = result["record"]
    if record["size"] != size:
        raise OSError(f"{path} changed size while it was being sealed")
    return record


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
            record = out.seal()      # {"sha256", "blake3", "size"}, the file fsync'd

    ``durable=False``: :meth:`seal` does not fsync (the file is hashed all the same), for
    files written only to be sent elsewhere.
    """

    def __init__(self, path: Path, *, durable: bool = True) -> None:
        super().__init__()
        self.path = path
        self.durable = durable
        self._digest = _Digests()
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
        # 0o666 less the umask, as open(path, "xb") would: a group-shared root stays shared.
        # The worker reads this very file, whatever happens to the path meanwhile: through
        # the same descriptor at explicit offsets where the system has ``preadv`` (one
        # ``open`` per file, which a small save notices), else through a second one.
        access = os.O_RDWR if _PREADV else os.O_WRONLY
        flags = access | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)
        self._fd = os.open(path, flags, 0o666)
        if not _PREADV:
            try:
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
            with contextlib.ExitStack() as stack:
                if _PREADV:
                    fd = self._fd
                    read_into = lambda piece: os.preadv(fd, [piece], self._hashed)  # noqa: E731
                else:
                    reader = stack.enter_context(io.FileIO(self._reader, "rb", closefd=False))
                    reader.seek(self._hashed)
                    read_into = reader.readinto
                buf = bytearray(_BLOCK)
                view = memoryview(buf)
                while not self._abandoned:
                    target = self._written
                    while self._hashed < target and not self._abandoned:
                        n = read_into(view[: min(len(buf), target - self._hashed)])
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
        """Finish the file: fsync it (when ``durable``) while the worker hashes what is
        left, and return its ``meta.json`` entry (:func:`describe_file`).  A writer whose
        write or seal failed cannot be sealed."""
        if self.closed:
            raise ValueError("seal of a closed HashingWriter")
        if self._failed:
            raise OSError(f"{self.path}: {self._failed}")
        self._finished = True
        self._wake.set()
        try:
            try:
                if self.durable:
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
        record = self._digest.record(size)
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
                if reader >= 0:
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


# -- stamps: full checks remembered for the life of the process --------------------------------

#: ``(device, inode) -> (size, mtime_ns, ctime_ns, algorithm, digest)`` of files whose
#: full check passed, least recently used first
_stamps: collections.OrderedDict[tuple[int, int], tuple[int, int, int, str, str]] = collections.OrderedDict()
_stamps_lock = threading.Lock()


def _times(info: os.stat_result) -> tuple[int, int, int, int, int]:
    return (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)


def stamped(path: Path, expected: Mapping[str, Any]) -> bool:
    """Whether a full check of ``path`` passed earlier in this process against the digest
    ``expected`` records, and the file's device, inode, size, modification and change
    times are still those it had then (one ``stat``, which does not follow a link)."""
    try:
        info = os.stat(path, follow_symlinks=False)
    except OSError:
        return False
    dev, ino, size, mtime_ns, ctime_ns = _times(info)
    with _stamps_lock:
        stamp = _stamps.get((dev, ino))
        if stamp is not None:
            _stamps.move_to_end((dev, ino))
    if stamp is None or stamp[:3] != (size, mtime_ns, ctime_ns) or size != expected.get("size"):
        return False
    algorithm, digest = stamp[3], stamp[4]
    return isinstance(expected.get(algorithm), str) and expected[algorithm] == digest


def _remember(before: os.stat_result, after: os.stat_result, started_ns: int, algorithm: str, digest: str) -> None:
    """Keep a stamp of a file whose full check read ``digest`` (its ``stat`` taken before and
    after the hash, through the descriptor that was hashed), unless the file changed during
    the check or may have changed within one clock tick of it (see ``_RACY_NS``)."""
    if _times(before) != _times(after) or before.st_ctime_ns > started_ns - _RACY_NS:
        return
    with _stamps_lock:
        _stamps[(before.st_dev, before.st_ino)] = (
            before.st_size,
            before.st_mtime_ns,
            before.st_ctime_ns,
            algorithm,
            digest,
        )
        _stamps.move_to_end((before.st_dev, before.st_ino))
        while len(_stamps) > _STAMPS_MAX:
            _stamps.popitem(last=False)


def clear_stamps() -> None:
    """Forget every full check this process remembers: the next verified load of each file
    reads and hashes it in full (as ``verify="full"`` always does)."""
    with _stamps_lock:
        _stamps.clear()


def _check_open(fh: Any, algorithm: str, wanted: Any, hashing: threading.Event | None = None) -> str:
    """Hex digest of an open file.  When it is ``wanted``, a stamp of the file is kept
    (on a local file system: not with another host's clock); when it is not, any stamp of
    the file is dropped, so that a later ``verify=True`` load cannot trust a check that a
    ``verify="full"`` one has since failed (a bit flipped without a write)."""
    started_ns = time.time_ns()
    before = os.fstat(fh.fileno())
    digest = _digest_open(fh, algorithm, hashing)
    if digest != wanted:
        with _stamps_lock:
            _stamps.pop((before.st_dev, before.st_ino), None)
    elif files.maps_safely(fh.fileno()):
        _remember(before, os.fstat(fh.fileno()), started_ns, algorithm, digest)
    return digest


# -- verification -------------------------------------------------------------------------------


def verify_option(value: Any) -> Verify:
    """``verify=`` checked: ``True``, ``False`` or ``"full"``; anything else is an
    :class:`~fsregistry.errors.InvalidArgumentError` (``verify="no"`` must not mean yes)."""
    if isinstance(value, str) and value == "full":
        return "full"
    try:
        return require_flag(value, "verify")
    except ValueError as exc:
        raise type(exc)(f"verify must be True, False or 'full', got {value!r}") from None


def verify_file(
    path: Path,
    expected: Mapping[str, Any],
    *,
    name: str | None = None,
    version: int | None = None,
    trust_stamp: bool = False,
) -> None:
    """Raise :class:`IntegrityError` unless the local file ``path`` matches its ``meta.json``
    entry ``expected`` (size, then the digest :func:`preferred` picks: BLAKE3 or SHA-256).

    Every byte is read unless ``trust_stamp`` and a full check of this very file passed
    earlier in this process (see :func:`stamped`); a check that passes is remembered.
    This is the one check of a stored file against its record, whatever the algorithm:
    ``check()``, unverified loads that failed, and copies fetched into a local cache use it.
    """
    check_size(path, expected, name=name, version=version)
    if trust_stamp and stamped(path, expected):
        return
    algorithm, wanted = preferred(expected)
    try:
        with open(path, "rb", buffering=0) as fh:
            actual = _check_open(fh, algorithm, wanted)
    except FileNotFoundError:
        raise _mismatch(path, "the file is missing", name, version) from None
    if actual != wanted:
        raise _mismatch(path, f"{_NAMES[algorithm]} is {actual}, expected {wanted}", name, version)


def check_size(path: Path, expected: Mapping[str, Any], *, name: str | None = None, version: int | None = None) -> None:
    """Cheap first check: the file exists and has the recorded size."""
    try:
        size = os.stat(path).st_size
    except FileNotFoundError:
        raise _mismatch(path, "the file is missing", name, version) from None
    if size != expected.get("size"):
        raise _mismatch(path, f"size is {size} bytes, expected {expected.get('size')}", name, version)


def load_verified(
    path: Path,
    expected: Mapping[str, Any] | None,
    load: Callable[[], T],
    *,
    name: str | None = None,
    version: int | None = None,
    full: bool = False,
) -> T:
    """Run ``load()`` while hashing ``path`` in parallel; return its result only if the
    file matches ``expected``.  ``expected=None`` skips verification.

    Unless ``full``, a file whose full check passed earlier in this process and whose
    ``stat`` is unchanged since (:func:`stamped`) is not read again.  A small file is
    hashed before it is loaded (a worker thread costs more than the overlap saves)."""
    if expected is None:
        return load()
    check_size(path, expected, name=name, version=version)
    if not full and stamped(path, expected):
        return load()
    if expected.get("size", 0) < _LOAD_PARALLEL_THRESHOLD:
        verify_file(path, expected, name=name, version=version)
        return load()
    algorithm, wanted = preferred(expected)
    result: dict[str, str] = {}
    hashing = threading.Event()

    def work() -> None:
        try:
            with open(path, "rb", buffering=0) as fh:
                result["digest"] = _check_open(fh, algorithm, wanted, hashing)
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
        _raise_if_mismatch(path, algorithm, wanted, result, name, version)
        raise
    worker.join()
    _raise_if_mismatch(path, algorithm, wanted, result, name, version)
    return value


def _raise_if_mismatch(
    path: Path, algorithm: str, wanted: Any, result: dict[str, str], name: str | None, version: int | None
) -> None:
    if "error" in result:
        raise _mismatch(path, f"could not be read ({result['error']})", name, version)
    if result.get("digest") != wanted:
        raise _mismatch(path, f"{_NAMES[algorithm]} is {result.get('digest')}, expected {wanted}", name, version)
