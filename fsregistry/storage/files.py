"""Atomic, durable file operations: the primitives every registry write is built from.

The rule is *stage, then publish*: data is written under a unique temporary name in the
destination's own folder (so the final ``os.replace``/``rename`` never crosses file
systems), flushed with ``fsync``, moved into place in one step, and the folder is fsync'd
so the rename itself survives a power cut.  Temporary files are removed in ``finally``.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..errors import CorruptRegistryError

#: suffix of every in-flight temporary file or folder; anything with it is a leftover
TEMP_SUFFIX = ".incomplete"


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


def temp_name(final: Path) -> Path:
    """A process-unique temporary sibling of ``final``."""
    return final.with_name(f".{final.name}.{os.getpid()}.{uuid.uuid4().hex[:12]}{TEMP_SUFFIX}")


def write_bytes_atomic(path: Path, data: bytes, *, durable: bool = True) -> None:
    """Replace ``path`` with ``data`` atomically: readers see the old or the new file, never part."""
    tmp = temp_name(path)
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            if durable:
                os.fsync(fh.fileno())
        os.replace(tmp, path)
        if durable:
            fsync_dir(path.parent)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def dumps_json(obj: Any) -> bytes:
    """Compact, stable JSON (sorted keys, UTF-8)."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=True).encode()


def write_json_atomic(path: Path, obj: Any, *, durable: bool = True) -> None:
    """Serialise ``obj`` to JSON and replace ``path`` with it atomically."""
    write_bytes_atomic(path, dumps_json(obj), durable=durable)


def write_json_new(path: Path, obj: Any) -> None:
    """Write JSON to a file that is not visible to anyone yet (inside a staging folder)."""
    with open(path, "wb") as fh:
        fh.write(dumps_json(obj))
        fh.flush()
        os.fsync(fh.fileno())


def read_json(path: Path) -> Any:
    """Parse a JSON file; a missing file raises ``FileNotFoundError``, garbage is
    :class:`CorruptRegistryError` naming the file."""
    with open(path, "rb") as fh:
        raw = fh.read()
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise CorruptRegistryError(f"{path} is not valid JSON ({exc}); run check()", path=str(path)) from None


def read_json_or_none(path: Path) -> Any:
    """Like :func:`read_json`, but ``None`` for a missing or unreadable file (caches only)."""
    try:
        return read_json(path)
    except (FileNotFoundError, NotADirectoryError, CorruptRegistryError):
        return None


def make_temp_dir(parent: Path, prefix: str) -> Path:
    """A new, empty, uniquely named folder under ``parent`` for staging a write."""
    return Path(tempfile.mkdtemp(prefix=f"{prefix}.{os.getpid()}.", suffix=TEMP_SUFFIX, dir=parent))


def publish_dir(staged: Path, final: Path, *, sync_parent: bool = True) -> None:
    """Move a fully written, fsync'd folder into place in one ``rename``.

    The caller holds the write lock and has checked that ``final`` does not exist, so the
    rename cannot replace anything.  The parent is fsync'd so the rename is durable;
    ``sync_parent=False`` leaves that to a caller that fsyncs the same folder again right
    after (the registry's index lives there), saving one disk flush per save.
    """
    fsync_dir(staged)
    os.rename(staged, final)
    if sync_parent:
        fsync_dir(final.parent)


def remove_tree(path: Path) -> None:
    """Delete a folder and everything in it; a missing folder is fine."""
    shutil.rmtree(path, ignore_errors=True)


def remove_file(path: Path) -> None:
    """Delete a file; a missing file is fine."""
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


def ensure_dir(path: Path) -> None:
    """Create ``path`` (and parents) if missing."""
    path.mkdir(parents=True, exist_ok=True)


def list_dir(path: Path) -> Iterator[os.DirEntry[str]]:
    """Entries of ``path``; nothing when it does not exist."""
    try:
        with os.scandir(path) as it:
            yield from it
    except (FileNotFoundError, NotADirectoryError):
        return


def file_size(path: Path) -> int:
    """Size of ``path`` in bytes."""
    return os.stat(path).st_size


def exists(path: Path) -> bool:
    """Whether ``path`` exists (file or folder)."""
    return os.path.lexists(path)


def rename(src: Path, dst: Path) -> None:
    """Atomic rename within one file system."""
    os.rename(src, dst)


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
