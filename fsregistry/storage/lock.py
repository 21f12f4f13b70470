"""The registry's single write lock, a thin wrapper over the ``filelock`` package.

Writers (save, transition, delete, tag, repair) hold it while they allocate a version
number and update the index; readers never take it.  The lock file is never deleted:
removing a lock file while another process waits on it lets two writers in at once.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import LockTimeoutError
from . import files

if TYPE_CHECKING:  # filelock is imported by the first writer, not by `import fsregistry`
    from filelock import FileLock

#: how often a waiting writer retries; short, because publishes hold the lock briefly
_POLL_INTERVAL = 0.002


def _make_lock(path: Path, timeout: float) -> FileLock:
    from filelock import FileLock

    # thread_local (the default) gives each thread its own lock state, so threads of one
    # process exclude each other just as processes do.
    try:
        return FileLock(str(path), timeout=timeout, preserve_lock_file=True, **_mode_option())
    except TypeError:  # filelock < 4 never deletes the file and has no such option
        return FileLock(str(path), timeout=timeout, **_mode_option())


def _mode_option() -> dict[str, Any]:
    """The lock file's mode for filelock versions that impose one.

    Older filelock releases create the lock file ``0o644`` whatever the umask (and
    ``fchmod`` it so), which shuts the other members of a group out of a registry they
    share; newer ones (those with ``has_explicit_mode``) leave the mode to the umask, as
    for every other file of the registry.  The older ones are given the umask's mode."""
    from filelock import FileLock

    if hasattr(FileLock, "has_explicit_mode"):
        return {}
    umask = files.current_umask()
    return {} if umask is None else {"mode": 0o666 & ~umask}


class RegistryLock:
    """Exclusive write lock over one registry root."""

    def __init__(self, path: Path, timeout: float = 60.0) -> None:
        self.path = path
        self.timeout = timeout
        self._lock: FileLock | None = None  # made by the first writer: readers never need it
        self._making = threading.Lock()  # so that threads racing to write first share one

    @contextmanager
    def hold(self) -> Iterator[None]:
        """Hold the lock for the ``with`` block; :class:`LockTimeoutError` after ``timeout`` s,
        :class:`~fsregistry.errors.RegistryPermissionError` when this user may not open the
        lock file, :class:`~fsregistry.errors.UnsafeLinkError` when it is a link (an old
        filelock would truncate the file the link points at)."""
        from filelock import Timeout

        files.refuse_link(self.path)
        lock = self.file_lock
        try:
            with files.refusals(self.path, "open the write lock"):
                lock.acquire(timeout=self.timeout, poll_interval=_POLL_INTERVAL)
        except Timeout:
            raise LockTimeoutError(
                f"could not acquire the registry write lock {self.path} within {self.timeout} s; "
                "another writer holds it (readers are never blocked)",
                path=str(self.path),
            ) from None
        try:
            yield
        finally:
            lock.release()

    @property
    def file_lock(self) -> FileLock:
        """The ``filelock`` lock itself, made on first use."""
        with self._making:
            if self._lock is None:
                self._lock = _make_lock(self.path, self.timeout)
            return self._lock
