"""Unit tests of fsregistry.storage.lock: one writer at a time, across threads too.

No sleeps: a holder thread signals with events; a waiter's short timeout only bounds how
long the test takes, and nothing asserts on how long anything took.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from fsregistry.errors import LockTimeoutError, RegistryPermissionError, UnsafeLinkError
from fsregistry.storage.lock import RegistryLock


@contextmanager
def held_elsewhere(lock: RegistryLock) -> Iterator[None]:
    """Hold ``lock`` in another thread for the duration of the block."""
    taken, done = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def hold() -> None:
        try:
            with lock.hold():
                taken.set()
                done.wait()
        except BaseException as exc:  # surfaced below, not lost in the thread
            errors.append(exc)
            taken.set()

    thread = threading.Thread(target=hold)
    thread.start()
    try:
        taken.wait()
        assert errors == []
        yield
    finally:
        done.set()
        thread.join()
    assert errors == []


def in_thread(action: Callable[[], object]) -> BaseException | None:
    """Run ``action`` in a new thread; the exception it raised, or ``None``."""
    caught: list[BaseException] = []

    def run() -> None:
        try:
            action()
        except BaseException as exc:
            caught.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    return caught[0] if caught else None


def _take(lock: RegistryLock) -> None:
    with lock.hold():
        pass


def test_a_second_holder_times_out_with_an_error_naming_the_lock(tmp_path: Path) -> None:
    path = tmp_path / ".lock"
    with held_elsewhere(RegistryLock(path)), pytest.raises(LockTimeoutError) as info:
        _take(RegistryLock(path, timeout=0.05))
    assert isinstance(info.value, TimeoutError)
    assert info.value.path == str(path)
    assert str(path) in str(info.value) and "0.05 s" in str(info.value)


def test_one_lock_object_excludes_its_own_other_threads(tmp_path: Path) -> None:
    lock = RegistryLock(tmp_path / ".lock", timeout=0.05)
    with lock.hold():
        assert isinstance(in_thread(lambda: _take(lock)), LockTimeoutError)
    assert in_thread(lambda: _take(lock)) is None


def test_the_lock_is_re_entrant_in_one_thread(tmp_path: Path) -> None:
    lock = RegistryLock(tmp_path / ".lock", timeout=0.05)
    with lock.hold(), lock.hold():
        pass
    # released in full: another thread gets it
    assert in_thread(lambda: _take(RegistryLock(tmp_path / ".lock", timeout=0.05))) is None


def test_after_the_holder_releases_the_next_writer_gets_it(tmp_path: Path) -> None:
    path = tmp_path / ".lock"
    with held_elsewhere(RegistryLock(path)):
        assert isinstance(in_thread(lambda: _take(RegistryLock(path, timeout=0.05))), LockTimeoutError)
    _take(RegistryLock(path, timeout=0.05))


def test_an_error_in_the_block_releases_the_lock(tmp_path: Path) -> None:
    lock = RegistryLock(tmp_path / ".lock", timeout=0.05)
    with pytest.raises(KeyError), lock.hold():
        raise KeyError("boom")
    assert in_thread(lambda: _take(RegistryLock(tmp_path / ".lock", timeout=0.05))) is None


def test_the_lock_file_is_never_deleted(tmp_path: Path) -> None:
    lock = RegistryLock(tmp_path / ".lock")
    _take(lock)
    assert (tmp_path / ".lock").is_file()
    _take(lock)
    assert (tmp_path / ".lock").is_file()


def test_a_linked_lock_file_is_refused_and_its_target_untouched(tmp_path: Path) -> None:
    target = tmp_path / "precious.txt"
    target.write_text("keep me")
    (tmp_path / ".lock").symlink_to(target)
    with pytest.raises(UnsafeLinkError) as info:
        _take(RegistryLock(tmp_path / ".lock", timeout=0.05))
    assert info.value.path == str(tmp_path / ".lock")
    assert target.read_text() == "keep me"


def test_a_refused_lock_file_is_a_permission_error_naming_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lock = RegistryLock(tmp_path / ".lock", timeout=0.05)

    def refuse(*args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(lock.file_lock, "acquire", refuse)
    with pytest.raises(RegistryPermissionError, match="cannot open the write lock") as info:
        _take(lock)
    assert info.value.path == str(tmp_path / ".lock")
