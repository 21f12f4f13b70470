"""Unit tests of fsregistry.storage.files: atomic writes, safe reads, folders, refusals."""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path
from typing import Any

import pytest

from fsregistry.errors import CorruptRegistryError, RegistryPermissionError, UnsafeLinkError
from fsregistry.storage import files


def _names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def _fail_replace(exc: OSError, monkeypatch: pytest.MonkeyPatch) -> None:
    def replace(src: object, dst: object) -> None:
        raise exc

    monkeypatch.setattr(os, "replace", replace)


# -- atomic writes --------------------------------------------------------------------------------


def test_an_atomic_write_replaces_the_file_and_leaves_only_it(tmp_path: Path) -> None:
    path = tmp_path / "r.json"
    files.write_bytes_atomic(path, b"old")
    files.write_bytes_atomic(path, b"new", durable=False)
    assert path.read_bytes() == b"new"
    assert _names(tmp_path) == ["r.json"]


def test_a_failed_replace_keeps_the_old_file_removes_the_temp_and_names_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "r.json"
    path.write_bytes(b"old")
    _fail_replace(OSError(errno.ENOSPC, "No space left on device"), monkeypatch)
    with pytest.raises(OSError) as info:
        files.write_bytes_atomic(path, b"new")
    assert info.value.errno == errno.ENOSPC and files.disk_full(info.value)
    assert not files.disk_full(OSError(errno.EACCES, "denied")) and not files.disk_full(ValueError("x"))
    assert info.value.filename == str(path)  # not the temporary name
    assert path.read_bytes() == b"old"
    assert _names(tmp_path) == ["r.json"]


def test_a_failed_first_write_creates_nothing(tmp_path: Path) -> None:
    path = tmp_path / "r.json"
    with pytest.raises(TypeError):
        files.write_bytes_atomic(path, "not bytes")  # type: ignore[arg-type]
    assert _names(tmp_path) == []


def test_a_refused_write_is_a_permission_error_naming_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "r.json"
    _fail_replace(PermissionError(errno.EACCES, "Permission denied"), monkeypatch)
    with pytest.raises(RegistryPermissionError, match="cannot write") as info:
        files.write_bytes_atomic(path, b"x")
    assert info.value.path == str(path) and isinstance(info.value, PermissionError)
    assert _names(tmp_path) == []


def test_an_atomic_write_replaces_a_link_instead_of_writing_through_it(tmp_path: Path) -> None:
    target = tmp_path / "target"
    target.write_bytes(b"precious")
    (tmp_path / "r.json").symlink_to(target)
    files.write_json_atomic(tmp_path / "r.json", {"a": 1})
    assert target.read_bytes() == b"precious"
    assert not (tmp_path / "r.json").is_symlink() and files.read_json(tmp_path / "r.json") == {"a": 1}


def test_json_is_compact_sorted_utf8_and_keeps_nan(tmp_path: Path) -> None:
    assert files.dumps_json({"b": 1, "a": [1.5, "é"]}) == '{"a":[1.5,"é"],"b":1}'.encode()
    assert files.dumps_json({"x": float("nan")}) == b'{"x":NaN}'
    files.write_json_new(tmp_path / "meta.json", {"z": 1, "a": 2})
    assert (tmp_path / "meta.json").read_bytes() == b'{"a":2,"z":1}'


def test_write_json_new_refuses_an_existing_file(tmp_path: Path) -> None:
    path = tmp_path / "meta.json"
    path.write_text('{"kept": true}')
    with pytest.raises(FileExistsError):
        files.write_json_new(path, {"a": 1})
    assert json.loads(path.read_text()) == {"kept": True}


# -- reading records ------------------------------------------------------------------------------


def test_read_json_of_a_missing_file_is_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        files.read_json(tmp_path / "absent.json")


@pytest.mark.parametrize("text", ["{not json", "", "[1,", "\x00"])
def test_garbage_is_a_corrupt_registry_error_naming_the_file(tmp_path: Path, text: str) -> None:
    path = tmp_path / "r.json"
    path.write_text(text)
    with pytest.raises(CorruptRegistryError, match="is not valid JSON") as info:
        files.read_json(path)
    assert info.value.path == str(path)


def test_json_nested_too_deep_for_the_parser_is_corrupt(tmp_path: Path) -> None:
    path = tmp_path / "r.json"
    path.write_text("[" * 200_000 + "]" * 200_000)
    with pytest.raises(CorruptRegistryError, match="nested too deeply"):
        files.read_json(path)


def test_the_size_cap_is_inclusive(tmp_path: Path) -> None:
    path = tmp_path / "r.json"
    path.write_text('"' + "x" * 8 + '"')  # 10 bytes
    assert files.read_json(path, max_bytes=10) == "x" * 8
    with pytest.raises(CorruptRegistryError, match="larger than any record"):
        files.read_json(path, max_bytes=9)


def test_a_folder_is_not_a_regular_file(tmp_path: Path) -> None:
    (tmp_path / "r.json").mkdir()
    with pytest.raises(CorruptRegistryError, match="is not a regular file"):
        files.read_json(tmp_path / "r.json")


def test_a_fifo_without_a_writer_is_refused_at_once(tmp_path: Path) -> None:
    path = tmp_path / "r.json"
    os.mkfifo(path)
    with pytest.raises(CorruptRegistryError, match="is not a regular file") as info:  # a plain open would hang
        files.read_json(path)
    assert info.value.path == str(path)


def test_a_fifo_with_a_record_in_it_is_still_refused(tmp_path: Path) -> None:
    path = tmp_path / "r.json"
    os.mkfifo(path)
    reader = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # so that the writer can open
    writer = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
    try:
        os.write(writer, b'{"a": 1}')
        with pytest.raises(CorruptRegistryError, match="is not a regular file"):
            files.read_json(path)
    finally:
        os.close(writer)
        os.close(reader)


def test_a_linked_record_is_never_read(tmp_path: Path) -> None:
    (tmp_path / "real.json").write_text('{"a": 1}')
    (tmp_path / "r.json").symlink_to(tmp_path / "real.json")
    with pytest.raises(UnsafeLinkError, match="is a symbolic link") as info:
        files.read_json(tmp_path / "r.json")
    assert info.value.path == str(tmp_path / "r.json")
    with pytest.raises(UnsafeLinkError):
        files.require_readable(tmp_path / "r.json")
    assert files.read_json_or_none(tmp_path / "r.json") is None


def test_read_json_or_none_is_none_for_missing_or_garbage_only(tmp_path: Path) -> None:
    (tmp_path / "bad.json").write_text("{")
    (tmp_path / "good.json").write_text("[1]")
    assert files.read_json_or_none(tmp_path / "absent.json") is None
    assert files.read_json_or_none(tmp_path / "bad.json") is None
    assert files.read_json_or_none(tmp_path / "good.json") == [1]
    files.require_readable(tmp_path / "good.json")
    with pytest.raises(FileNotFoundError):
        files.require_readable(tmp_path / "absent.json")


# -- names, folders, refusals ---------------------------------------------------------------------


def test_temporary_names_are_unique_hidden_siblings(tmp_path: Path) -> None:
    final = tmp_path / "index.json"
    a, b = files.temp_name(final), files.temp_name(final)
    assert a != b and a.parent == tmp_path
    assert a.name.startswith(f".index.json.{os.getpid()}.") and a.name.endswith(files.TEMP_SUFFIX)
    assert files.unique_name(tmp_path, "save").name.startswith(f"save.{os.getpid()}.")


def test_make_temp_dir_makes_its_parent_and_uses_the_umask(tmp_path: Path) -> None:
    staged = files.make_temp_dir(tmp_path / "staging", "save")
    assert staged.parent == tmp_path / "staging" and list(staged.iterdir()) == []
    umask = files.current_umask()
    if umask is not None:
        assert staged.stat().st_mode & 0o777 == 0o777 & ~umask


def test_make_temp_dir_refuses_a_linked_parent(tmp_path: Path) -> None:
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "staging").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(UnsafeLinkError):
        files.make_temp_dir(tmp_path / "staging", "save")
    assert list((tmp_path / "elsewhere").iterdir()) == []


def test_move_aside_and_publish_dir_move_folders_whole(tmp_path: Path) -> None:
    (tmp_path / "v").mkdir()
    (tmp_path / "v" / "f").write_text("x")
    aside = files.move_aside(tmp_path / "v", tmp_path / "staging", "delete")
    assert aside.parent == tmp_path / "staging" and (aside / "f").read_text() == "x"
    files.publish_dir(aside, tmp_path / "w")
    assert (tmp_path / "w" / "f").read_text() == "x" and not aside.exists()
    with pytest.raises(FileNotFoundError):
        files.move_aside(tmp_path / "v", tmp_path / "staging", "delete")


def test_ensure_dir_and_refuse_link_refuse_a_link_unless_told_otherwise(tmp_path: Path) -> None:
    files.ensure_dir(tmp_path / "a" / "b")
    assert (tmp_path / "a" / "b").is_dir()
    (tmp_path / "link").symlink_to(tmp_path / "a")
    with pytest.raises(UnsafeLinkError, match=r"symbolic link \(to "):
        files.ensure_dir(tmp_path / "link")
    files.ensure_dir(tmp_path / "link", link_ok=True)
    files.refuse_link(tmp_path / "a")  # folders, files and missing paths pass
    files.refuse_link(tmp_path / "absent" / "deeper")
    (tmp_path / "dangling").symlink_to(tmp_path / "absent")
    with pytest.raises(UnsafeLinkError):
        files.refuse_link(tmp_path / "dangling")


def test_refusals_turn_permission_errors_only(tmp_path: Path) -> None:
    with pytest.raises(RegistryPermissionError, match="cannot list") as info, files.refusals(tmp_path, "list"):
        raise PermissionError(errno.EACCES, "denied")
    assert info.value.path == str(tmp_path)
    with pytest.raises(FileNotFoundError), files.refusals(tmp_path, "list"):
        raise FileNotFoundError(errno.ENOENT, "gone")


def test_exists_does_not_follow_links_and_a_refused_lookup_is_not_no(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "dangling").symlink_to(tmp_path / "absent")
    assert files.exists(tmp_path / "dangling") and not files.exists(tmp_path / "absent")

    def lstat(path: object) -> None:
        raise PermissionError(errno.EACCES, "denied")

    monkeypatch.setattr(os, "lstat", lstat)
    with pytest.raises(RegistryPermissionError, match="cannot look up"):
        files.exists(tmp_path / "x")


def test_listing_and_removing_missing_things_is_quiet(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("")
    assert list(files.list_dir(tmp_path / "absent")) == []
    assert list(files.list_dir(tmp_path / "f")) == []
    assert [e.name for e in files.list_dir(tmp_path)] == ["f"]
    files.remove_file(tmp_path / "absent")
    files.remove_tree(tmp_path / "absent")
    (tmp_path / "t" / "sub").mkdir(parents=True)
    files.remove_tree(tmp_path / "t")
    files.remove_file(tmp_path / "f")
    assert list(tmp_path.iterdir()) == []


def test_mount_type_finds_the_mount_of_a_device() -> None:
    lines = [
        "22 1 0:21 / /proc rw - proc proc rw",
        "garbage",
        "25 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw",
    ]
    assert files.mount_type(lines, os.makedev(8, 1)) == "ext4"
    assert files.mount_type(lines, os.makedev(0, 21)) == "proc"
    assert files.mount_type(lines, os.makedev(9, 9)) is None


def test_swap_dir_into_place_replaces_a_folder_and_puts_it_back_on_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target, staged = tmp_path / "site", tmp_path / "staged"
    staged.mkdir()
    (staged / "new.txt").write_text("new")
    assert files.swap_dir_into_place(staged, target) is None  # nothing there yet
    assert (target / "new.txt").read_text() == "new"
    again = tmp_path / "staged2"
    again.mkdir()
    (again / "newer.txt").write_text("newer")
    old = files.swap_dir_into_place(again, target)
    assert old is not None and (old / "new.txt").exists() and (target / "newer.txt").exists()
    third = tmp_path / "staged3"
    third.mkdir()
    real_rename = os.rename
    calls: list[str] = []

    def second_fails(src: Any, dst: Any) -> None:
        calls.append(str(dst))
        if len(calls) == 2:
            raise OSError("injected")
        real_rename(src, dst)

    monkeypatch.setattr(os, "rename", second_fails)
    with pytest.raises(OSError, match="injected"):
        files.swap_dir_into_place(third, target)
    monkeypatch.undo()
    assert (target / "newer.txt").exists()  # the earlier folder is back in place


def test_a_cache_entry_that_cannot_be_written_is_not_left_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run-map entry is created in place; a full disk mid-write removes it again (an
    empty entry would only be a miss, but nothing half-made is left), and an existing
    entry is refused, never overwritten in place."""
    path = tmp_path / "entry.json"

    def full(fd: int, data: object) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    with monkeypatch.context() as patch:
        patch.setattr(os, "write", full)
        with pytest.raises(OSError, match="No space left"):
            files.create_json_cache(path, {"name": "m", "version": 1})
    assert not path.exists()
    files.create_json_cache(path, {"name": "m", "version": 1})
    assert files.read_json(path) == {"name": "m", "version": 1}
    with pytest.raises(FileExistsError):
        files.create_json_cache(path, {"name": "m", "version": 2})
