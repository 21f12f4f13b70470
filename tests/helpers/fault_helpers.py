"""Helpers for the fault tests (full disk, permissions, links, read-only roots).

CI runs as root, where permission bits do not stop anything: the tests that need an
ordinary user run their reading or writing part in a forked child that drops to
``nobody`` (:func:`in_child`), and the full-disk tests mount a small ``tmpfs``
(:func:`mounted_tmpfs`).  Either is skipped, with the reason, where it is not possible.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import pwd
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

try:  #: uid of the unprivileged user the permission tests run as
    NOBODY = pwd.getpwnam("nobody").pw_uid
except KeyError:
    NOBODY = 65534
#: a group ``nobody`` shares with no file of the tests
NOBODY_GID = 65534


def require_root(why: str) -> None:
    """Skip unless running as root (who alone may mount, or become another user)."""
    if os.geteuid() != 0:
        pytest.skip(f"needs root: {why}")


@contextlib.contextmanager
def mounted_tmpfs(folder: Path, size: str) -> Iterator[Path]:
    """A ``tmpfs`` of ``size`` mounted on ``folder`` for the block; skipped where refused."""
    require_root("mounting a small tmpfs to fill up")
    folder.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)], capture_output=True, text=True
    )
    if done.returncode != 0:
        pytest.skip(f"mounting a tmpfs was refused: {done.stderr.strip() or done.returncode}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=False, capture_output=True)


def fill_up(folder: Path) -> Path:
    """Fill ``folder``'s file system to the last byte; returns the filler file."""
    filler = folder / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        for size in (65536, 4096, 1):  # big pieces, then what is left of the last page
            with contextlib.suppress(OSError):
                while os.write(fd, b"\0" * size):
                    pass
    finally:
        os.close(fd)
    assert_full(folder)
    return filler


def assert_full(folder: Path) -> None:
    """Creating and writing a small file in ``folder`` fails with ENOSPC."""
    probe = folder / "probe"
    try:
        with open(probe, "wb") as fh:
            fh.write(b"x" * 4096)
            fh.flush()
            os.fsync(fh.fileno())
    except OSError as exc:
        assert exc.errno == errno.ENOSPC
    else:
        pytest.fail(f"{folder} is not full")
    finally:
        with contextlib.suppress(OSError):
            probe.unlink()


def free_bytes(folder: Path) -> int:
    info = os.statvfs(folder)
    return info.f_bavail * info.f_frsize


@contextlib.contextmanager
def shared_folder() -> Iterator[Path]:
    """A temporary folder every user can reach (pytest's ``tmp_path`` is private to root)."""
    folder = Path(tempfile.mkdtemp(prefix="fsregistry-shared-"))
    try:
        folder.chmod(0o755)
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def in_child(
    action: Callable[[], Any],
    *,
    uid: int | None = None,
    gid: int | None = None,
    groups: tuple[int, ...] = (),
    umask: int | None = None,
) -> dict[str, Any]:
    """Run ``action`` in a forked child, as ``uid``/``gid`` and with ``umask`` when given,
    and return what happened: ``{"ok": True, "value": repr}`` or ``{"ok": False, "type",
    "types" (its classes), "message", "path"}``.  The child can import nothing new once it
    is another user (the interpreter lives under /root): warm the code paths up first."""
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns, never runs the parent's cleanup
        try:
            os.close(reader)
            if umask is not None:
                os.umask(umask)
            if gid is not None:
                os.setgroups(list(groups))
                os.setgid(gid)
            if uid is not None:
                os.setuid(uid)
            try:
                out: dict[str, Any] = {"ok": True, "value": repr(action())}
            except BaseException as exc:  # reported to the parent, whatever it is
                out = {
                    "ok": False,
                    "type": type(exc).__name__,
                    "types": [c.__name__ for c in type(exc).__mro__],
                    "message": str(exc),
                    "path": getattr(exc, "path", None),
                }
            os.write(writer, json.dumps(out).encode())
        finally:
            os._exit(0)
    os.close(writer)
    with os.fdopen(reader, "rb") as fh:
        data = fh.read()
    os.waitpid(pid, 0)
    assert data, "the child died before reporting"
    return dict(json.loads(data))


def modes(root: Path) -> dict[str, int]:
    """Permission bits of everything under ``root`` (relative path -> mode)."""
    out = {}
    for path in [root, *root.rglob("*")]:
        out[str(path.relative_to(root))] = stat.S_IMODE(path.lstat().st_mode)
    return out


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` with its bytes (to prove nothing was written there)."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}
