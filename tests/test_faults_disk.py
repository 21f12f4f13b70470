"""A full disk: deleting and pruning free space, repair reports what it could not write.

The registry lives on a 2 MB ``tmpfs`` filled to the last byte (skipped, with the reason,
where mounting is refused).  A crash at each step of a delete, on a full disk or not, is
a ``kill -9`` of a forked child: no half-deleted version is ever visible, and the number
of a deleted version is never given again, not even after ``check(repair=True)``.
"""

from __future__ import annotations

import errno
import io
import json
import os
import traceback
from collections.abc import Callable, Iterator
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any

import pytest
from fault_helpers import assert_full, fill_up, free_bytes, mounted_tmpfs
from toy_models import Doubler

from fsregistry import CustomModelRegistry, VersionNotFoundError, cli
from fsregistry.records import ModelRecord
from fsregistry.storage import files
from fsregistry.storage.layout import Layout
from fsregistry.store.catalog import Catalog

BLOB = 256 * 1024  # each of versions 1 and 2 holds this much; version 3 almost nothing


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[Path]:
    with mounted_tmpfs(tmp_path / "disk", "2m") as folder:
        yield folder


def _three_versions(root: Path) -> CustomModelRegistry:
    registry = CustomModelRegistry(root)
    for i in range(2):
        registry.save_model(Doubler(), "m", preprocessor_artifact={"blob": os.urandom(BLOB), "i": i})
    registry.save_model(Doubler(), "m")
    return registry


def _numbers(registry: CustomModelRegistry) -> list[int]:
    return [v["version"] for v in registry.list_versions("m")]


def _max_deleted(registry: CustomModelRegistry) -> int:
    return int(json.loads((registry.root / "m" / "model.json").read_text())["max_deleted_version"])


# -- delete, prune, CLI prune on a full disk -----------------------------------------------------


def test_delete_frees_space_on_a_full_disk(disk: Path) -> None:
    registry = _three_versions(disk / "reg")
    filler = fill_up(disk)
    registry.delete_model("m/1")
    assert free_bytes(disk) >= BLOB
    assert _numbers(registry) == [3, 2] and _max_deleted(registry) >= 1
    assert list(registry.layout.staging.iterdir()) == []
    assert registry.check().ok
    filler.unlink()
    assert registry.save_model(Doubler(), "m") == "models:/m/4"


def test_deleting_a_whole_model_frees_space_on_a_full_disk(disk: Path) -> None:
    registry = _three_versions(disk / "reg")
    registry.set_tag("m", "team", "a")
    fill_up(disk)
    registry.delete_model("m")
    assert free_bytes(disk) >= 2 * BLOB
    assert registry.list_models() == [] and _max_deleted(registry) == 3
    assert json.loads((registry.root / "m" / "model.json").read_text())["tags"] == {}
    assert registry.save_model(Doubler(), "m") == "models:/m/4"


def test_prune_frees_space_on_a_full_disk(disk: Path) -> None:
    registry = _three_versions(disk / "reg")
    fill_up(disk)
    pruned = registry.prune("m", keep_last=1)
    assert [v["version"] for v in pruned] == [1, 2]
    assert free_bytes(disk) >= 2 * BLOB and _numbers(registry) == [3]
    assert registry.check().ok


def test_cli_prune_frees_space_on_a_full_disk(disk: Path) -> None:
    registry = _three_versions(disk / "reg")
    fill_up(disk)
    out = io.StringIO()
    with redirect_stdout(out):
        code = cli.main(["--root", str(registry.root), "prune", "m", "--keep-last", "1"])
    assert code == 0, out.getvalue()
    assert "deleted 2 version(s)" in out.getvalue()
    assert free_bytes(disk) >= 2 * BLOB and _numbers(registry) == [3]


# -- check --repair on a full disk -------------------------------------------------------------


def test_repair_on_a_full_disk_reports_what_it_could_not_write(disk: Path, capsys: pytest.CaptureFixture[str]) -> None:
    registry = _three_versions(disk / "reg")
    index = registry.root / "m" / "index.json"
    index.unlink()  # a stale index: repair has to write a new one
    fill_up(disk)
    report = registry.check(repair=True)  # never a raw ENOSPC
    [stale] = [p for p in report.problems if p.kind == "stale_index"]
    assert not stale.fixed and not report.ok
    written = f"repair could not write {registry.root / 'm'}/index"  # index.json or a chunk of it
    assert written in stale.detail and "No space left on device" in stale.detail
    code = cli.main(["--root", str(registry.root), "check", "--repair"])
    printed = capsys.readouterr().out
    assert code == 1 and written in printed and "No space left on device" in printed
    assert [v["version"] for v in registry.list_versions("m")] == [3, 2, 1]  # readers never needed it
    registry.delete_model("m/1")  # frees space: now the repair can write
    assert registry.check(repair=True).ok and index.exists()


def test_a_write_that_fails_on_a_full_disk_names_the_file(disk: Path) -> None:
    registry = _three_versions(disk / "reg")
    fill_up(disk)
    with pytest.raises(OSError) as caught:
        registry.set_tag("m", "team", "a")
    assert caught.value.errno == errno.ENOSPC
    assert caught.value.filename == str(registry.root / "m" / "model.json")
    assert_full(disk)


# -- the room for the record comes from caches -------------------------------------------------


def _record_fails(monkeypatch: pytest.MonkeyPatch, times: int) -> list[str]:
    """The next ``times`` writes of a model record fail with ENOSPC; returns a log of
    which caches existed at each attempt."""
    real = Catalog.write_model_record
    attempts: list[str] = []

    def full(self: Catalog, record: ModelRecord) -> None:
        attempts.append(",".join(sorted(p.name for p in self.layout.runs.iterdir())))
        if len(attempts) <= times:
            raise OSError(errno.ENOSPC, "No space left on device", str(self.layout.model_file(record.name)))
        real(self, record)

    monkeypatch.setattr(Catalog, "write_model_record", full)
    return attempts


def test_a_full_disk_delete_removes_a_cache_to_record_the_number_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The version's run-map entry (which the delete removes anyway) makes room for
    model.json, which is written before the folder goes."""
    registry = _three_versions(tmp_path / "reg")
    run_file = registry.layout.run_file(registry.get_model_version("m/3")["run_id"])
    attempts = _record_fails(monkeypatch, times=1)
    registry.delete_model("m/3")
    assert len(attempts) == 2 and run_file.name in attempts[0] and run_file.name not in attempts[1]
    assert _numbers(registry) == [2, 1] and _max_deleted(registry) == 3
    monkeypatch.undo()
    assert registry.check().ok
    assert registry.save_model(Doubler(), "m") == "models:/m/4"


def test_a_delete_that_cannot_record_its_number_removes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    registry = _three_versions(tmp_path / "reg")
    _record_fails(monkeypatch, times=10**6)
    with pytest.raises(OSError, match=r"model\.json") as caught:
        registry.delete_model("m/3")
    assert caught.value.errno == errno.ENOSPC
    monkeypatch.undo()
    assert _numbers(registry) == [3, 2, 1] and registry.load_model("m/3")["version"] == 3
    assert registry.check(repair=True).unresolved == []  # the caches it removed come back
    assert registry.check().ok and registry.load_model(f"runs:/{registry.get_model_version('m/3')['run_id']}/model")


# -- kill -9 at each step of a delete, on a full disk or not -------------------------------------


def _crash_at(monkeypatch: pytest.MonkeyPatch, owner: Any, attr: str, *, after: bool, nth: int = 1) -> None:
    """Make the ``nth`` call of ``owner.attr`` end the process at once, as kill -9 would
    (no ``finally``, no cleanup), before or after it does its work."""
    real: Callable[..., Any] = getattr(owner, attr)
    calls = [0]

    def crashing(*args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        if calls[0] == nth and not after:
            os._exit(9)
        result = real(*args, **kwargs)
        if calls[0] == nth:
            os._exit(9)
        return result

    monkeypatch.setattr(owner, attr, crashing)


def _run_and_crash(action: Callable[[], None]) -> None:
    pid = os.fork()
    if pid == 0:
        try:
            action()
        except BaseException:
            traceback.print_exc()
        finally:
            os._exit(0)  # the crash point was never reached
    _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 9, "the delete finished without reaching the crash"


CRASH_POINTS = {
    "recorded": (Catalog, "write_model_record", True, 1),
    "set aside": (Layout, "set_aside", True, 1),
    "trash removed": (files, "remove_tree", True, 1),
    "run map": (files, "remove_file", True, 1),  # on a full disk: the cache removed to make room
    "index": (Catalog, "forget", False, 1),
}


@pytest.mark.parametrize("full", [False, True], ids=["disk-ok", "disk-full"])
@pytest.mark.parametrize("point", sorted(CRASH_POINTS))
def test_kill_at_each_step_of_a_delete(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, point: str, full: bool) -> None:
    """Version 3, the highest, is deleted and the process killed part-way: it is gone or
    whole, never half; after check(repair=True) nothing is wrong, and 3 is never given
    again (a number is always a folder or recorded in model.json, never only in the index)."""
    registry = _three_versions(tmp_path / "reg")
    owner, attr, after, nth = CRASH_POINTS[point]
    if point == "recorded" and full:
        nth = 2  # the first write failed for want of space

    def delete() -> None:
        if full:  # the first write of model.json fails: a cache is removed to make room for it
            real = Catalog.write_model_record
            failed = [False]

            def first_fails(self: Catalog, record: ModelRecord) -> None:
                if not failed[0]:
                    failed[0] = True
                    raise OSError(errno.ENOSPC, "No space left on device")
                real(self, record)

            monkeypatch.setattr(Catalog, "write_model_record", first_fails)
        mine = CustomModelRegistry(registry.root)  # a lock is never inherited across fork
        _crash_at(monkeypatch, owner, attr, after=after, nth=nth)
        mine.delete_model("m/3")

    _run_and_crash(delete)
    reopened = CustomModelRegistry(registry.root)
    try:
        whole = reopened.load_model("m/3")["version"] == 3  # the crash came before it went
    except VersionNotFoundError:
        whole = False
    assert _numbers(reopened) == ([3, 2, 1] if whole else [2, 1])
    assert [reopened.load_model(f"m/{v}")["version"] for v in (1, 2)] == [1, 2]
    reopened.check(repair=True)
    assert reopened.check().problems == []
    assert reopened.store.version_number_taken("m", 3) is not None
    assert reopened.save_model(Doubler(), "m") == "models:/m/4"
