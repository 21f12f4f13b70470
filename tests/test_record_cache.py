"""Records read before are kept while their ``lstat`` is unchanged, and never hide a change.

A resolve or a load of a version loaded before reads the same small records again
(``index.json``, ``meta.json``); ``fsregistry.storage.files`` keeps what it parsed, keyed by
the file's device, inode, size, modification and change times, for records whose change
time was older than a window when they were read.  Each test changes a record the way a
writer or an editor would (replaced, rewritten in place with its times put back, turned
into a link) and checks that the next read sees it.  The window is shortened and waited
out, as in tests/test_verified_loads.py; no test measures time.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest
from toy_models import Doubler

from fsregistry import CustomModelRegistry, UnsafeLinkError, VersionNotFoundError
from fsregistry.storage import files, hashing

WINDOW_NS = 50_000_000


@pytest.fixture(autouse=True)
def short_window(monkeypatch: pytest.MonkeyPatch) -> None:
    files.clear_record_cache()
    hashing.clear_stamps()
    monkeypatch.setattr(files, "_RECORD_RACY_NS", WINDOW_NS)
    monkeypatch.setattr(hashing, "_RACY_NS", WINDOW_NS)


@pytest.fixture
def opens(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The path of every record opened for reading, in order."""
    calls: list[str] = []
    real = files._open_record

    def counting(path: Path, flags: int) -> int:
        calls.append(str(path))
        return real(path, flags)

    monkeypatch.setattr(files, "_open_record", counting)
    return calls


def _age() -> None:
    time.sleep(2 * WINDOW_NS / 1e9)


def _record(tmp_path: Path, data: Any) -> Path:
    path = tmp_path / "record.json"
    path.write_text(json.dumps(data))
    return path


def test_an_unchanged_record_is_read_once_and_each_caller_gets_its_own_copy(tmp_path: Path, opens: list[str]) -> None:
    path = _record(tmp_path, {"a": [1, {"b": 2}]})
    _age()
    first = files.read_json(path)
    first["a"][1]["b"] = 99  # a caller changing what it got
    second = files.read_json(path)
    assert second == {"a": [1, {"b": 2}]}
    assert opens == [str(path)]
    assert files.read_json_digest(path)[1] == files.read_json_digest(path, shared=True)[1]


def test_a_record_changed_within_the_window_is_read_again(tmp_path: Path, opens: list[str]) -> None:
    path = _record(tmp_path, {"a": 1})
    assert files.read_json(path) == {"a": 1}
    assert files.read_json(path) == {"a": 1}
    assert opens == [str(path), str(path)]  # too young to be kept


def test_a_replaced_record_is_seen(tmp_path: Path) -> None:
    path = _record(tmp_path, {"a": 1})
    _age()
    assert files.read_json(path) == {"a": 1}
    files.write_json_atomic(path, {"a": 2})
    assert files.read_json(path) == {"a": 2}


def test_a_record_rewritten_in_place_with_its_times_put_back_is_seen(tmp_path: Path) -> None:
    path = _record(tmp_path, {"a": 1})
    _age()
    assert files.read_json(path) == {"a": 1}
    info = path.stat()
    with open(path, "r+b") as fh:  # same inode, same size
        fh.write(b'{"a": 7}')
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))
    assert path.stat().st_size == info.st_size and path.stat().st_mtime_ns == info.st_mtime_ns
    assert files.read_json(path) == {"a": 7}  # the change time moved


def test_a_link_put_in_place_of_a_cached_record_is_refused(tmp_path: Path) -> None:
    path = _record(tmp_path, {"a": 1})
    (tmp_path / "x").mkdir()
    other = _record(tmp_path / "x", {"a": 1})
    _age()
    assert files.read_json(path) == {"a": 1}
    path.unlink()
    path.symlink_to(other)
    with pytest.raises(UnsafeLinkError):
        files.read_json(path)


def test_records_on_a_network_file_system_are_not_kept(
    tmp_path: Path, opens: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(files, "_file_system_type", lambda device: "nfs4")
    path = _record(tmp_path, {"a": 1})
    _age()
    files.read_json(path)
    files.read_json(path)
    assert opens == [str(path), str(path)]


def test_the_cache_is_bounded_in_bytes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(files, "_RECORDS_MAX_BYTES", 100)
    paths = []
    for i in range(5):
        (tmp_path / str(i)).mkdir()
        paths.append(_record(tmp_path / str(i), {"pad": "x" * 30}))
    _age()
    for path in paths:
        files.read_json(path)
    assert files._records_bytes <= 100
    assert len(files._records) == 2  # the most recently read


def test_a_load_sees_a_changed_meta_json_and_a_deleted_version(tmp_path: Path, opens: list[str]) -> None:
    registry = CustomModelRegistry(tmp_path / "reg")
    registry.save_model(Doubler(), "m")
    registry.save_model(Doubler(), "m")
    _age()
    registry.load_model("m/1")
    opens.clear()
    loaded = registry.load_model("m/1")
    assert loaded["description"] == "" and opens == []  # the records from the cache, model.bin stamped
    registry.set_description("m/1", "changed")
    assert registry.load_model("m/1")["description"] == "changed"
    assert registry.get_model_version("m/1")["description"] == "changed"
    registry.delete_model("m/1")
    with pytest.raises(VersionNotFoundError):
        registry.load_model("m/1")


def test_a_resolve_sees_a_promotion_made_by_another_registry_object(tmp_path: Path) -> None:
    registry = CustomModelRegistry(tmp_path / "reg")
    for _ in range(2):
        registry.save_model(Doubler(), "m")
    registry.transition_model_stage("m/1", "Production")
    _age()
    assert registry.resolve("models:/m/Production") == ("m", 1)
    assert registry.resolve("models:/m/Production") == ("m", 1)
    CustomModelRegistry(tmp_path / "reg").transition_model_stage("m/2", "Production")
    assert registry.resolve("models:/m/Production") == ("m", 2)
    assert [v["stage"] for v in registry.list_versions("m")] == ["Production", "Archived"]
