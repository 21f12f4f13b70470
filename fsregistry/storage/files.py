"""Atomic, durable file operations: the primitives every registry write is built from.

The rule is *stage, then publish*: data is written under a unique temporary name in the
destination's own folder (so the final ``os.replace``/``rename`` never crosses file
systems), flushed with ``fsync``, moved into place in one step, and the folder is fsync'd
so the rename itself survives a power cut.  Temporary files are removed in ``finally``.
"""

from __future__ import annotations

import collections
import contextlib
import errno
import functools
import hashlib
import json
import os
import stat
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from ..errors import CorruptRegistryError, RegistryPermissionError, UnsafeLinkError

#: suffix of every in-flight temporary file or folder; anything with it is a leftover
TEMP_SUFFIX = ".incomplete"
#: the errors that say the disk (or the user's quota) is full
DISK_FULL = frozenset({errno.ENOSPC, errno.EDQUOT})


def disk_full(exc: BaseException) -> bool:
    """Whether ``exc`` says that the disk, or the user's quota, is full."""
    return isinstance(exc, OSError) and exc.errno in DISK_FULL


# -- refusals: permission and links ------------------------------------------------------


def refused(path: Path, action: str) -> RegistryPermissionError:
    """The error for a ``PermissionError`` the system gave while doing ``action`` on ``path``."""
    return RegistryPermissionError(
        f"permission denied: cannot {action} {path}; every user of a registry needs read access to "
        "its files and folders, and write access to write (a registry shared by a group: everyone "
        "who writes uses umask 002, see docs/core.md)",
        path=str(path),
    )


@contextlib.contextmanager
def refusals(path: Path, action: str) -> Iterator[None]:
    """Turn a ``PermissionError`` raised in the block into :class:`RegistryPermissionError`
    naming ``path`` and ``action``; every other error passes unchanged."""
    try:
        yield
    except PermissionError:
        raise refused(path, action) from None


def link_refused(path: Path) -> UnsafeLinkError:
    """The error for a symbolic link found where the registry keeps a folder or a record."""
    try:
        target = os.readlink(path)
    except OSError:
        target = "?"
    return UnsafeLinkError(
        f"{path} is a symbolic link (to {target}); fsregistry never reads or writes through a link "
        "inside its root: put the folder or file itself there, or remove the link (check lists every link)",
        path=str(path),
    )


def folder_in_place(path: Path) -> CorruptRegistryError:
    """The error for a folder found where the registry keeps a file: never removed, as it
    may hold someone's files (``check`` reports it; the registry writes there again once
    it is moved away)."""
    return CorruptRegistryError(
        f"{path} is a folder where the registry keeps a file: move it out of the way (check reports it; "
        "fsregistry never removes a folder it did not make)",
        path=str(path),
    )


def refuse_link(path: Path) -> None:
    """Raise :class:`UnsafeLinkError` if ``path`` is a symbolic link; nothing there is fine.
    One ``lstat``."""
    try:
        mode = os.lstat(path).st_mode
    except (FileNotFoundError, NotADirectoryError):
        return
    except PermissionError:
        raise refused(path, "look up") from None
    if stat.S_ISLNK(mode):
        raise link_refused(path)


def fsync_dir(path: Path) -> None:
    """Make a rename or unlink inside ``path`` durable (a no-op where folders can't be opened)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # e.g. Windows; the rename is still atomic there
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_file(path: Path) -> None:
    """Flush ``path``'s data and metadata to stable storage."""
    fd = os.open(path, os.O_RDONLY)
    try:
        fsync_fd(fd)
    finally:
        os.close(fd)


def fsync_fd(fd: int) -> None:
    """Flush an open file's data and metadata to stable storage."""
    os.fsync(fd)


def free_bytes(folder: Path) -> int | None:
    """Bytes an unprivileged writer may still use on ``folder``'s file system (``None``
    where the platform cannot tell)."""
    statvfs = getattr(os, "statvfs", None)
    if statvfs is None:
        return None
    try:
        info = statvfs(folder)
    except OSError:
        return None
    return int(info.f_bavail) * int(info.f_frsize)


def _random_tag() -> str:
    """12 random hex digits (48 bits from the system's random source): what keeps two
    writers' temporary names apart, without importing ``uuid`` on every start."""
    return os.urandom(6).hex()


def temp_name(final: Path) -> Path:
    """A process-unique temporary sibling of ``final``."""
    return final.with_name(f".{final.name}.{os.getpid()}.{_random_tag()}{TEMP_SUFFIX}")


def write_bytes_atomic(path: Path, data: bytes, *, durable: bool = True) -> None:
    """Replace ``path`` with ``data`` atomically: readers see the old or the new file, never part.

    ``os.replace`` replaces a link at ``path`` rather than writing through it.  A failure
    names ``path`` (a full disk's ``OSError`` from ``write`` names no file, and the
    temporary name means nothing to a reader); a refused permission is a
    :class:`RegistryPermissionError`."""
    tmp = temp_name(path)
    replaced = False
    try:
        with refusals(path, "write"), _naming(path):
            _write_new(tmp, data, durable=durable, flags=os.O_TRUNC)
            try:
                os.replace(tmp, path)
            except IsADirectoryError:
                raise folder_in_place(path) from None
            replaced = True
        if durable:
            fsync_dir(path.parent)
    finally:
        if not replaced:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)


def _write_new(path: Path, data: bytes, *, durable: bool, flags: int = os.O_EXCL) -> None:
    """Create ``path`` (``flags``: ``O_EXCL`` refuses an existing file or a link, ``O_TRUNC``
    empties a file of that name) holding ``data``, flushed when ``durable``.  Plain
    descriptor calls: a buffered file object adds three system calls of its own."""
    fd = os.open(
        path, os.O_WRONLY | os.O_CREAT | flags | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0), 0o666
    )
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        if durable:
            os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def _naming(path: Path) -> Iterator[None]:
    """Re-raise an ``OSError`` of the block with ``path`` as its file name (same errno and
    class: ``errno.ENOSPC`` stays what callers test for)."""
    try:
        yield
    except OSError as exc:
        if exc.errno is None or isinstance(exc, (RegistryPermissionError, UnsafeLinkError)):
            raise
        raise OSError(exc.errno, exc.strerror, str(path)) from exc


def dumps_json(obj: Any) -> bytes:
    """Compact, stable JSON (sorted keys, UTF-8)."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=True).encode()


def record_digest(raw: bytes) -> bytes:
    """The digest by which a record's bytes are known (BLAKE2b, 128 bits): equal digests,
    equal records (see :func:`read_json_digest`)."""
    return hashlib.blake2b(raw, digest_size=16).digest()


def write_json_atomic(path: Path, obj: Any, *, durable: bool = True) -> bytes:
    """Serialise ``obj`` to JSON and replace ``path`` with it atomically; returns the
    :func:`record_digest` of what was written."""
    data = dumps_json(obj)
    write_bytes_atomic(path, data, durable=durable)
    return record_digest(data)


def write_json_new(path: Path, obj: Any) -> bytes:
    """Write JSON to a new file that is not visible to anyone yet (inside a staging
    folder); an existing file, or a link in its place, is refused (``FileExistsError``).
    Returns the :func:`record_digest` of what was written."""
    data = dumps_json(obj)
    _write_new(path, data, durable=True)
    return record_digest(data)


def create_json_cache(path: Path, obj: Any) -> None:
    """Create ``path`` holding ``obj`` as JSON, without a temporary file or a flush: for a
    cache entry with a name of its own (a run map entry), whose readers treat a malformed
    file as a miss, so that seeing it part-written, or a power cut cutting it short,
    costs them a slower answer and never a wrong one.  An existing file (or a link in its
    place) is refused with ``FileExistsError``: replace it with :func:`write_json_atomic`."""
    data = dumps_json(obj)
    with refusals(path, "write"), _naming(path):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o666)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
        except BaseException:  # a full disk: no empty entry is left behind
            os.close(fd)
            with contextlib.suppress(OSError):
                os.unlink(path)
            raise
        os.close(fd)


def read_json(path: Path, *, max_bytes: int = 64 * 1024 * 1024, shared: bool = False) -> Any:
    """Parse a JSON file; a missing file raises ``FileNotFoundError``.  Garbage is
    :class:`CorruptRegistryError` naming the file, and so are what a hostile edit can plant:
    a file over ``max_bytes`` (no record is that large; a multi-GB file is never read
    whole), nesting too deep for the parser (``RecursionError``), and something that is
    not a regular file (a folder; a FIFO, opened non-blocking so it cannot hang a reader).
    ``shared``: see :func:`read_json_digest`."""
    return read_json_digest(path, max_bytes=max_bytes, shared=shared)[0]


def read_json_digest(path: Path, *, max_bytes: int = 64 * 1024 * 1024, shared: bool = False) -> tuple[Any, bytes]:
    """:func:`read_json`, and a digest of the bytes it parsed (BLAKE2b, 128 bits): equal
    digests mean equal records, whatever happened to the file in between.

    A record this process read before, whose ``lstat`` is still what it was then, is not
    read again (see :func:`_cached_record`): the caller gets a fresh copy of what was
    parsed, or with ``shared=True`` the cached object itself, which it must not change."""
    key = os.fspath(path)
    try:
        seen = os.lstat(key)
    except OSError:  # missing, refused...: the read below says so in its own words
        seen = None
    if seen is not None and seen.st_size <= max_bytes:
        cached = _cached_record(key, seen)
        if cached is not None:
            return (cached[0] if shared else copy_json(cached[0])), cached[1]
    started_ns = time.time_ns()
    raw: bytes | None = None
    opened = None
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0)
    with contextlib.suppress(IsADirectoryError, BlockingIOError):
        fd = _open_record(path, flags)
        try:
            opened = os.fstat(fd)
            if stat.S_ISREG(opened.st_mode):  # never a FIFO or a device, even one with data
                # read what the file holds (not ``max_bytes``: a read that large allocates it)
                raw = _read_fd(fd, min(opened.st_size, max_bytes) + 1)
        finally:
            os.close(fd)
    if raw is None:
        raise CorruptRegistryError(f"{path} is not a regular file; run check()", path=str(path))
    if len(raw) > max_bytes:
        raise CorruptRegistryError(f"{path} is larger than any record ({max_bytes} bytes); run check()", path=str(path))
    try:
        value, digest = json.loads(raw), record_digest(raw)
    except ValueError as exc:
        raise CorruptRegistryError(f"{path} is not valid JSON ({exc}); run check()", path=str(path)) from None
    except RecursionError:
        raise CorruptRegistryError(f"{path} is nested too deeply to be a record; run check()", path=str(path)) from None
    # kept when the file opened is the one the lstat above saw (same inode, size and times)
    if seen is not None and opened is not None and _remember_record(key, seen, opened, started_ns, value, digest):
        value = value if shared else copy_json(value)  # the cache keeps the object parsed
    return value, digest


def _read_fd(fd: int, size: int) -> bytes:
    """Up to ``size`` bytes from ``fd``'s position: fewer only at the end of the file."""
    parts = []
    while size > 0:
        part = os.read(fd, size)
        if not part:
            break
        parts.append(part)
        size -= len(part)
    return parts[0] if len(parts) == 1 else b"".join(parts)


# -- records read before, kept while their stat is unchanged -------------------------------
#
# A resolve or a load of a version loaded before reads the same few small records again
# and again (``index.json``, ``meta.json``).  Each is replaced by ``os.replace`` when it
# changes, which gives it a new inode, and any write in place changes its change time,
# which no process can set back: so a record whose device, inode, size, modification and
# change times are those it had when it was read holds the bytes read then.  One ``lstat``
# replaces the open, read and parse.  As for the stamps of verified files
# (:mod:`fsregistry.storage.hashing`), a record is kept only when its change time was at
# least a second older than the read (a change within one tick of the file system's clock
# could otherwise leave every time equal), and only on a local file system (whose times
# come from this machine's clock).  Nothing is written anywhere: the cache is this
# process's memory, bounded in entries and bytes.

#: a record is cached only when its change time is at least this much older than the read
_RECORD_RACY_NS = 1_000_000_000
#: at most this many records, and this many bytes of them as stored, least recently used first
_RECORDS_MAX = 4096
_RECORDS_MAX_BYTES = 16 * 1024 * 1024
#: ``path -> ((device, inode, size, mtime_ns, ctime_ns), parsed value, digest, bytes)``
_records: collections.OrderedDict[str, tuple[tuple[int, int, int, int, int], Any, bytes, int]] = (
    collections.OrderedDict()
)
_records_bytes = 0
_records_lock = threading.Lock()


def _identity(info: os.stat_result) -> tuple[int, int, int, int, int]:
    return (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)


def _cached_record(key: str, seen: os.stat_result) -> tuple[Any, bytes] | None:
    """What was parsed from the record at ``key``, if its ``lstat`` ``seen`` is unchanged
    since (a link, a folder or another file there never matches: the identity is that of
    the regular file that was read)."""
    with _records_lock:
        entry = _records.get(key)
        if entry is None:
            return None
        if entry[0] != _identity(seen):
            return None
        _records.move_to_end(key)
    return entry[1], entry[2]


def _remember_record(
    key: str, seen: os.stat_result, opened: os.stat_result, started_ns: int, value: Any, digest: bytes
) -> bool:
    """Keep what was parsed from ``key``, unless the file opened is not the one its
    ``lstat`` ``seen`` showed (replaced or changed in between), it may have changed within
    one clock tick of the read, or it lives on a network file system.  A change made
    while it was read gives it a change time after ``started_ns``, so this entry never
    matches it again.  Returns whether it was kept."""
    global _records_bytes
    identity, size = _identity(seen), seen.st_size
    if identity != _identity(opened) or seen.st_ctime_ns > started_ns - _RECORD_RACY_NS or size > _RECORDS_MAX_BYTES:
        return False
    if _file_system_type(seen.st_dev) not in _LOCAL_FILE_SYSTEMS:
        return False
    with _records_lock:
        old = _records.pop(key, None)
        if old is not None:
            _records_bytes -= old[3]
        _records[key] = (identity, value, digest, size)
        _records_bytes += size
        while len(_records) > _RECORDS_MAX or _records_bytes > _RECORDS_MAX_BYTES:
            _records_bytes -= _records.popitem(last=False)[1][3]
    return True


def clear_record_cache() -> None:
    """Forget every record this process read: the next read of each opens and parses it."""
    global _records_bytes
    with _records_lock:
        _records.clear()
        _records_bytes = 0


def copy_json(value: Any) -> Any:
    """A deep copy of parsed JSON (dicts, lists and immutable scalars): a caller may change
    what it gets without changing the cache."""
    kind = type(value)
    if kind is dict:
        return {k: copy_json(v) for k, v in value.items()}
    if kind is list:
        return [copy_json(v) for v in value]
    return value


def read_stored(path: Path, *, max_bytes: int = 64 * 1024 * 1024) -> bytes:
    """The exact bytes of a record (never through a link; refused when over ``max_bytes``
    or not a regular file), for copying it verbatim (a bundle carries them)."""
    with open(_open_record(path, os.O_RDONLY), "rb") as fh:
        info = os.fstat(fh.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise CorruptRegistryError(f"{path} is not a regular file; run check()", path=str(path))
        raw = fh.read(min(info.st_size, max_bytes) + 1)
    if len(raw) > max_bytes:
        raise CorruptRegistryError(f"{path} is larger than any record ({max_bytes} bytes); run check()", path=str(path))
    return raw


def open_stored(path: Path) -> IO[bytes]:
    """A stored file (``model.bin``, ``preprocessor.pkl``) opened for reading, never
    through a link; a refused permission is :class:`RegistryPermissionError`."""
    return open(_open_record(path, os.O_RDONLY), "rb")


def require_readable(path: Path) -> None:
    """Check that a stored file can be opened for reading by this user, is no symbolic
    link (:class:`UnsafeLinkError`, :class:`RegistryPermissionError`) and is a regular
    file (a FIFO or a device put in its place is :class:`CorruptRegistryError`: reading
    one could block forever), before a deserialiser or a hashing thread meets it."""
    fd = _open_record(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))  # a FIFO's open would wait for a writer
    try:
        regular = stat.S_ISREG(os.fstat(fd).st_mode)
    finally:
        os.close(fd)
    if not regular:
        raise CorruptRegistryError(f"{path} is not a regular file; run check()", path=str(path))


_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)


def _open_record(path: Path, flags: int) -> int:
    """Open a record for reading, never through a symbolic link (``O_NOFOLLOW``: the
    registry writes by ``os.replace``, which never makes one, so a link was planted):
    :class:`UnsafeLinkError`; a refused permission is :class:`RegistryPermissionError`."""
    try:
        return os.open(path, flags | _NOFOLLOW)
    except PermissionError:
        raise refused(path, "read") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP and os.path.islink(path):
            raise link_refused(path) from None
        raise


def read_json_or_none(path: Path) -> Any:
    """Like :func:`read_json`, but ``None`` for a missing or unreadable file (caches only)."""
    try:
        return read_json(path)
    except (FileNotFoundError, NotADirectoryError, CorruptRegistryError):
        return None


def unique_name(parent: Path, prefix: str) -> Path:
    """A new process-unique name in ``parent``: ``PREFIX.PID.RANDOM.incomplete`` (check
    tells a live writer's from a leftover by the PID)."""
    return parent / f"{prefix}.{os.getpid()}.{_random_tag()}{TEMP_SUFFIX}"


def make_temp_dir(parent: Path, prefix: str) -> Path:
    """A new, empty, uniquely named folder under ``parent`` (the staging folder) for a write.

    Its mode is ``0o777`` less the umask, like every folder the registry makes, and not
    ``tempfile.mkdtemp``'s ``0o700``: it becomes a version folder by rename, and a folder
    shared by a group must stay readable by the group.  ``parent`` is made when missing
    (copies of a root often drop empty folders) and refused when it is a link."""
    path = unique_name(parent, prefix)
    refuse_link(parent)
    with refusals(path, "create the folder"):
        try:
            os.mkdir(path, 0o777)
        except FileNotFoundError:
            with contextlib.suppress(FileExistsError):  # another writer made it just now
                os.mkdir(parent, 0o777)
            os.mkdir(path, 0o777)
    return path


def move_aside(path: Path, parent: Path, prefix: str) -> Path:
    """Rename ``path`` to a new unique name in ``parent`` (made when missing, refused when a
    link) and return it: how a delete takes a folder out of sight in one step.  A rename
    needs no free space, so this works on a full disk."""
    target = unique_name(parent, prefix)
    refuse_link(parent)
    with refusals(path, "move"):
        try:
            os.rename(path, target)
        except FileNotFoundError:
            if exists(parent) or not exists(path):
                raise
            with contextlib.suppress(FileExistsError):
                os.mkdir(parent, 0o777)
            os.rename(path, target)
    return target


def publish_dir(staged: Path, final: Path, *, sync_parent: bool = True) -> None:
    """Move a folder whose files are written and fsync'd into place in one ``rename``.

    The caller holds the write lock and has checked that ``final`` does not exist, so the
    rename cannot replace anything.  The parent is fsync'd so the rename is durable;
    ``sync_parent=False`` leaves that to a caller that fsyncs the same folder again right
    after (the registry's index lives there), saving one disk flush per save.

    ``staged`` itself is not flushed.  The names of the files in it are metadata, and the
    journaling file systems a registry runs on (ext4, XFS, Btrfs) commit metadata
    changes in the order they were made: the flush that makes the rename durable commits the
    files' creation, made before it, too (and each file's own ``fsync`` already did on ext4
    and XFS).  The files' contents, which a journal does not order, are each fsync'd by
    their writer.  One disk flush fewer per save; see docs/design.md, "Durability".
    """
    os.rename(staged, final)
    if sync_parent:
        fsync_dir(final.parent)


def swap_dir_into_place(staged: Path, target: Path) -> Path | None:
    """Move the finished folder ``staged`` to ``target`` with renames only, so ``target`` is
    always either the old folder or the new one.  An existing ``target`` is first renamed
    aside (put back if the second rename fails); returns where it went, for the caller to
    remove, or ``None`` when there was none."""
    if not target.exists():
        os.rename(staged, target)
        return None
    old = target.with_name(f".{target.name}.old-{_random_tag()}")
    os.rename(target, old)
    try:
        os.rename(staged, target)
    except BaseException:
        os.rename(old, target)
        raise
    return old


def remove_tree(path: Path) -> None:
    """Delete a folder and everything in it; a missing folder is fine."""
    import shutil  # here, not at the top: reads never need it, and ``import fsregistry`` stays light

    shutil.rmtree(path, ignore_errors=True)


def remove_file(path: Path) -> None:
    """Delete a file; a missing file is fine."""
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


def ensure_dir(path: Path, *, link_ok: bool = False) -> None:
    """Create ``path`` (and parents) if missing, with the umask's mode.  A link at ``path``
    is refused (:class:`UnsafeLinkError`, an ``OSError``) unless ``link_ok``: what is
    written into the folder would land wherever the link points."""
    if not link_ok:
        refuse_link(path)
    with refusals(path, "create the folder"):
        path.mkdir(parents=True, exist_ok=True)


def list_dir(path: Path) -> Iterator[os.DirEntry[str]]:
    """Entries of ``path``; nothing when it does not exist."""
    try:
        with refusals(path, "list"), os.scandir(path) as it:
            yield from it
    except (FileNotFoundError, NotADirectoryError):
        return


def file_size(path: Path) -> int:
    """Size of ``path`` in bytes."""
    return os.stat(path).st_size


def exists(path: Path) -> bool:
    """Whether ``path`` exists (file, folder or link, which is not followed).  A folder on
    the way that may not be searched is a :class:`RegistryPermissionError`, not "no"."""
    try:
        os.lstat(path)
    except PermissionError:
        raise refused(path, "look up") from None
    except (OSError, ValueError):
        return False
    return True


def rename(src: Path, dst: Path) -> None:
    """Atomic rename within one file system."""
    with refusals(src, "move"):
        os.rename(src, dst)


def current_umask() -> int | None:
    """This process's umask, read without changing it (``os.umask`` can only be read by
    setting it, which races with other threads); ``None`` where ``/proc`` does not say."""
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        return None
    return None


#: file systems where a mapped file can only shrink if a process on this machine truncates
#: it; on network file systems another host's delete or an I/O error raises SIGBUS instead
#: of a catchable error, so files there are read, never mapped
_LOCAL_FILE_SYSTEMS = frozenset(
    {"ext2", "ext3", "ext4", "xfs", "btrfs", "f2fs", "zfs", "bcachefs", "jfs", "nilfs2", "tmpfs", "ramfs"}
)


def maps_safely(fd: int) -> bool:
    """Whether the open file ``fd`` lives on a local file system (Linux; ``False`` where
    that cannot be told), so that reading it through a memory map is safe."""
    return _file_system_type(os.fstat(fd).st_dev) in _LOCAL_FILE_SYSTEMS


@functools.lru_cache(maxsize=32)
def _file_system_type(device: int) -> str | None:
    """The type of the file system mounted from ``device``, from /proc/self/mountinfo."""
    try:
        with open("/proc/self/mountinfo", encoding="utf-8", errors="replace") as fh:
            lines = fh.read().splitlines()
    except OSError:
        return None
    return mount_type(lines, device)


def mount_type(mountinfo_lines: list[str], device: int) -> str | None:
    """The file-system type of the mount whose ``major:minor`` is ``device`` (see proc(5):
    ``ID PARENT MAJOR:MINOR ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - TYPE SOURCE ...``)."""
    for line in mountinfo_lines:
        before, sep, after = line.partition(" - ")
        fields = before.split()
        if not sep or len(fields) < 5 or not after.split():
            continue
        major, _, minor = fields[2].partition(":")
        if major.isdigit() and minor.isdigit() and os.makedev(int(major), int(minor)) == device:
            return after.split()[0]
    return None
