"""A local cache of a remote registry's payload files, keyed by their content.

Loading a version from object storage downloads its files once; a second load, in this
process or another one, finds them here.  An entry is one folder named by a digest of the
version's file list (each file's name, hash and size), holding the files under their own
names, so a flavor loads ``model.bin`` from a folder as it does on disk.  What the cache
promises:

- **content-keyed**: the same files under another name, version or registry share an entry;
  an entry never changes once made (it is built in a temporary folder and renamed into
  place), so processes sharing the cache never see a half-written file;
- **verified like any other file**: the cache is not trusted; every load checks the hashes
  recorded in the version's record (unless the caller turned verification off), and a
  mismatch removes the entry (:meth:`ContentCache.evict`) so that the next load downloads
  again;
- **never evicted while in use**: a load holds a shared lock on the entry
  (:meth:`ContentCache.borrow`) and eviction skips entries it cannot lock exclusively, so
  no process takes files away from a load reading them; the files are read in place, so
  the verified stamps of :mod:`fsregistry.storage.hashing` hold from one load to the next;
- **bounded**: when a new entry would take the cache over ``max_bytes``, the least recently
  used entries go until it is under (the entry just made is kept even if it alone is
  larger).  Each process measures the cache once, then counts what it adds, and measures
  again when its count reaches the bound: listing a cache of thousands of entries on every
  save would cost more than the save.  A cache shared by processes can so exceed the bound
  by what the others added since a process last measured it, never for long.

Where: ``storage_options["cache_dir"]``, else ``$FSREGISTRY_CACHE_DIR``, else
``$XDG_CACHE_HOME/fsregistry`` (``~/.cache/fsregistry``).  Size: ``cache_max_bytes``, else
``$FSREGISTRY_CACHE_MAX_BYTES``, else 10 GiB.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import stat
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..errors import InvalidArgumentError
from . import files

ENV_DIR = "FSREGISTRY_CACHE_DIR"
ENV_MAX = "FSREGISTRY_CACHE_MAX_BYTES"
DEFAULT_MAX_BYTES = 10 * 1024**3
#: never follow a link at a lock file (and close it in children)
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
#: the file in each entry that loads lock (shared) and eviction locks (exclusive)
USE_FILE = ".use"
#: private folders older than this were left by a process that died: trimming removes them
STALE_STAGING_SECONDS = 24 * 3600.0


def default_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "fsregistry"


def entry_key(file_records: Mapping[str, Mapping[str, Any]]) -> str:
    """The cache key of a version's files: a digest of each file's name, hash and size."""
    listed = sorted(
        (name, {k: v for k, v in record.items() if k in ("sha256", "blake3", "size")})
        for name, record in file_records.items()
    )
    return hashlib.sha256(json.dumps(listed, sort_keys=True).encode()).hexdigest()


class ContentCache:
    """Folders of downloaded files, keyed by :func:`entry_key`, shared by processes."""

    def __init__(self, folder: str | os.PathLike[str] | None = None, max_bytes: int | None = None) -> None:
        chosen = folder if folder is not None else os.environ.get(ENV_DIR)
        self.folder = Path(chosen).expanduser().absolute() if chosen else default_dir()
        if max_bytes is None:
            text = os.environ.get(ENV_MAX)
            try:
                max_bytes = int(text) if text else DEFAULT_MAX_BYTES
            except ValueError:
                raise InvalidArgumentError(f"${ENV_MAX} must be a whole number of bytes, got {text!r}") from None
        if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes < 0:
            raise InvalidArgumentError(f"cache_max_bytes must be a whole number of bytes >= 0, got {max_bytes!r}")
        self.max_bytes = max_bytes
        self.entries = self.folder / "entries"
        self.staging = self.folder / "staging"
        #: the cache's size as this process last measured it, plus what it added since
        self._estimate: int | None = None

    def path(self, key: str) -> Path:
        return self.entries / key[:2] / key

    def staging_dir(self, purpose: str) -> Path:
        """A new private folder on the cache's file system (a save's files are written
        here, uploaded, then kept as the version's cache entry)."""
        with files.refusals(self.folder, "write to the local cache of downloads (storage_options['cache_dir'])"):
            self._real_dir(self.staging)
            folder = self.staging / f"{purpose}-{uuid.uuid4().hex}"
            folder.mkdir(mode=0o700)
        return folder

    def _real_dir(self, path: Path) -> None:
        """Make ``path`` (inside the cache) a folder of its own: a link or a file in its
        place, which this cache never makes, is removed first, so nothing is written
        through it; a cache folder that is itself a file is an :class:`InvalidArgumentError`."""
        current = self.folder
        for part in path.relative_to(self.folder).parts:
            current = current / part
            if current.is_symlink() or (current.exists() and not current.is_dir()):
                self._discard(current)
        try:
            path.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError):
            raise InvalidArgumentError(
                f"the local cache of downloads {self.folder} is not a folder; point storage_options['cache_dir'] "
                "(or $FSREGISTRY_CACHE_DIR) at a folder",
                path=str(self.folder),
            ) from None

    def _discard(self, path: Path) -> None:
        """Remove what is at ``path`` inside the cache, not following a link: a link or a
        file is unlinked, a folder set aside and removed."""
        if path.is_symlink() or not path.is_dir():
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
            return
        aside = self.staging / f"evicted-{uuid.uuid4().hex}"
        with contextlib.suppress(FileNotFoundError):
            self.staging.mkdir(parents=True, exist_ok=True)
            os.rename(path, aside)
            shutil.rmtree(aside, ignore_errors=True)

    def find(self, key: str) -> Path | None:
        """The entry's folder if it is cached (its use is recorded for eviction).  Anything
        else in its place (a file, a link) is removed, and the entry is not cached."""
        folder = self.path(key)
        try:
            if not stat.S_ISDIR(os.lstat(folder).st_mode):
                self._discard(folder)
                return None
            os.utime(folder, follow_symlinks=False)
        except (FileNotFoundError, NotADirectoryError):
            return None
        return folder

    def fill(self, key: str, fetch: Callable[[Path], None]) -> Path:
        """The entry's folder, made by ``fetch(folder)`` (which writes the files into a new
        private folder) when it is not cached yet."""
        found = self.find(key)
        if found is not None:
            return found
        building = self.staging_dir("fill")
        try:
            fetch(building)
            return self.adopt(key, building)
        finally:
            shutil.rmtree(building, ignore_errors=True)

    @contextmanager
    def borrow(self, key: str, fetch: Callable[[Path], None]) -> Iterator[Path]:
        """The entry's folder (made by ``fetch`` when missing) for the ``with`` block, held
        with a shared lock on its ``.use`` file: no process evicts an entry while another
        holds it, so the files stay while a load reads them (in place: the verified stamps
        of :mod:`fsregistry.storage.hashing` hold from one load to the next)."""
        import fcntl

        for _ in range(3):
            entry = self.fill(key, fetch)
            try:
                fd = os.open(entry / USE_FILE, os.O_RDWR | os.O_CREAT | _NOFOLLOW, 0o600)
            except FileNotFoundError:  # evicted between finding and opening it: again
                continue
            except OSError:  # its lock file is a link or a folder: not this cache's, so the entry goes
                self._discard(entry)
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_SH)
                try:
                    current = os.stat(entry / USE_FILE).st_ino == os.fstat(fd).st_ino
                except FileNotFoundError:
                    current = False
                if not current:  # evicted while this waited for the lock: again
                    continue
                yield entry
                return
            finally:
                os.close(fd)  # releases the lock
        # Evicted three times by other loads (a cache too small for what they load at once):
        # this load gets a private copy of its own, removed when it is done.
        private = self.staging_dir("private")
        try:
            fetch(private)
            yield private
        finally:
            shutil.rmtree(private, ignore_errors=True)

    def adopt(self, key: str, folder: Path) -> Path:
        """Make ``folder`` (complete, on the cache's file system) the entry ``key``; when
        another process made it first, theirs is kept.  Then trim the cache."""
        final = self.path(key)
        self._real_dir(final.parent)
        added = sum(f.stat().st_size for f in folder.iterdir())
        try:
            os.rename(folder, final)
        except OSError:
            if not final.is_dir():
                raise
            added = 0
        if self._estimate is not None:
            self._estimate += added
        if self._estimate is None or self._estimate > self.max_bytes:
            self.trim(keep=final)
        return final

    def evict(self, key: str) -> None:
        """Remove an entry (a file in it failed its check), unless a process holds it: that
        one checks the files itself, and evicts it in turn when they fail."""
        self._remove(self.path(key), only_unused=True)

    def size(self) -> int:
        return sum(size for _, size, _ in self._entries())

    def trim(self, keep: Path | None = None) -> None:
        """Remove the least recently used entries until the cache fits ``max_bytes``, and
        what processes that died left in the staging area."""
        self._clear_stale_staging()
        entries = sorted(self._entries(), key=lambda e: e[2])
        total = sum(size for _, size, _ in entries)
        for folder, size, _ in entries:
            if total <= self.max_bytes:
                break
            if folder != keep and self._remove(folder, only_unused=True):
                total -= size
        self._estimate = total

    def _clear_stale_staging(self) -> None:
        if not self.staging.is_dir():
            return
        stale = time.time() - STALE_STAGING_SECONDS
        for folder in self.staging.iterdir():
            try:
                old = folder.name.startswith("evicted-") or folder.stat().st_mtime < stale
            except FileNotFoundError:
                continue
            if old:
                shutil.rmtree(folder, ignore_errors=True)

    def _entries(self) -> list[tuple[Path, int, float]]:
        out: list[tuple[Path, int, float]] = []
        if not self.entries.is_dir():
            return out
        for shard in self.entries.iterdir():
            for folder in shard.iterdir() if shard.is_dir() and not shard.is_symlink() else ():
                try:
                    if not stat.S_ISDIR(os.lstat(folder).st_mode):
                        continue  # not an entry (a stray file, a link): find() removes it when asked for
                    used = folder.stat().st_mtime
                    size = sum(f.lstat().st_size for f in folder.iterdir())
                except OSError:  # removed by another process meanwhile
                    continue
                out.append((folder, size, used))
        return out

    def _remove(self, folder: Path, *, only_unused: bool = False) -> bool:
        """Take an entry out of sight in one rename, then free its space; with
        ``only_unused``, not while a load holds it (returns False then).  A process that has
        a file of it open keeps reading it."""
        import fcntl

        self.staging.mkdir(parents=True, exist_ok=True)
        aside = self.staging / f"evicted-{uuid.uuid4().hex}"
        try:
            fd = os.open(folder / USE_FILE, os.O_RDWR | os.O_CREAT | _NOFOLLOW, 0o600)
        except FileNotFoundError:
            return False  # removed by another process meanwhile
        except OSError:  # its lock file is a link or a folder: no load can hold it
            self._discard(folder)
            return True
        try:
            if only_unused:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    return False
            try:
                os.rename(folder, aside)
            except FileNotFoundError:
                return False
        finally:
            os.close(fd)
        shutil.rmtree(aside, ignore_errors=True)
        return True
