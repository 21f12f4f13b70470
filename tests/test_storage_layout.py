"""Unit tests of fsregistry.storage.layout: where things live, which folders are versions."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from fsregistry.errors import CorruptRegistryError, FormatVersionError, InvalidArgumentError, UnsafeLinkError
from fsregistry.storage import layout as layout_module
from fsregistry.storage.layout import CHUNK_SIZE, FORMAT_VERSION, MARKER, Layout, check_format, chunk_of


@pytest.fixture
def layout(tmp_path: Path) -> Layout:
    made = Layout(tmp_path / "root")
    made.initialize(create=True)
    return made


def _folders(parent: Path, *names: str) -> None:
    for name in names:
        (parent / name).mkdir(parents=True)


def test_paths_of_one_root(tmp_path: Path) -> None:
    lay = Layout(tmp_path)
    assert lay.version_dir("m", 3) == tmp_path / "m" / "3"
    assert lay.meta_file("m", 3) == tmp_path / "m" / "3" / "meta.json"
    assert lay.model_file("m") == tmp_path / "m" / "model.json"
    assert lay.index_file("m") == tmp_path / "m" / "index.json"
    assert lay.chunk_file("m", 2) == tmp_path / "m" / "index-2.json"
    assert lay.run_file("abc") == tmp_path / ".runs" / "abc.json"
    assert (lay.marker, lay.lock, lay.staging) == (tmp_path / MARKER, tmp_path / ".lock", tmp_path / ".staging")


@pytest.mark.parametrize(("version", "chunk"), [(1, 0), (CHUNK_SIZE, 0), (CHUNK_SIZE + 1, 1), (3 * CHUNK_SIZE, 2)])
def test_chunk_of_groups_versions_by_256(version: int, chunk: int) -> None:
    assert chunk_of(version) == chunk


# -- version folders ------------------------------------------------------------------------------


def test_version_numbers_are_the_numeric_folders_in_numeric_order(layout: Layout) -> None:
    _folders(layout.model_dir("m"), "10", "2", "1", "9" * 15)
    assert layout.version_numbers("m") == [1, 2, 10, int("9" * 15)]


@pytest.mark.parametrize("name", ["01", "0", "1" * 16, "-1", "1.0", "x1", " 1", "\u0661"])
def test_names_that_are_not_version_numbers_are_ignored(layout: Layout, name: str) -> None:
    _folders(layout.model_dir("m"), "1", name)
    assert layout.version_numbers("m") == [1]


def test_files_and_links_are_no_versions(layout: Layout, tmp_path: Path) -> None:
    _folders(layout.model_dir("m"), "1")
    (layout.model_dir("m") / "2").write_text("a file")
    (tmp_path / "elsewhere").mkdir()
    (layout.model_dir("m") / "3").symlink_to(tmp_path / "elsewhere")
    assert layout.version_numbers("m") == [1]


def test_a_missing_model_has_no_versions(layout: Layout) -> None:
    assert layout.version_numbers("absent") == []
    assert layout.chunk_files("absent") == []


def test_chunk_files_are_regular_index_files_only(layout: Layout) -> None:
    folder = layout.model_dir("m")
    _folders(folder, "index-3.json")
    for name in ("index-0.json", "index-12.json", "index-x.json", "index.json", "index-1.json.bak"):
        (folder / name).write_text("{}")
    assert [p.name for p in layout.chunk_files("m")] == ["index-0.json", "index-12.json"]


# -- model folders --------------------------------------------------------------------------------


def test_models_are_folders_with_a_model_record(layout: Layout, tmp_path: Path) -> None:
    _folders(layout.root, "a", "b", ".hidden", "no_record")
    for name in ("a", "b", ".hidden"):
        (layout.root / name / "model.json").write_text("{}")
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "model.json").write_text("{}")
    (layout.root / "linked").symlink_to(tmp_path / "other")
    assert layout.model_names() == ["a", "b"]
    assert layout.candidate_model_dirs() == ["a", "b", "no_record"]


def test_record_paths_refuse_a_linked_model_or_version_folder(layout: Layout, tmp_path: Path) -> None:
    (tmp_path / "other" / "1").mkdir(parents=True)
    (layout.root / "m").symlink_to(tmp_path / "other")
    record_paths: list[Callable[[], Path]] = [
        lambda: layout.model_file("m"),
        lambda: layout.index_file("m"),
        lambda: layout.meta_file("m", 1),
    ]
    for path_of in record_paths:
        with pytest.raises(UnsafeLinkError) as info:
            path_of()
        assert info.value.path == str(layout.root / "m")
    _folders(layout.root, "n")
    (layout.root / "n" / "1").symlink_to(tmp_path / "other" / "1")
    with pytest.raises(UnsafeLinkError, match=r"n/1 is a symbolic link"):
        layout.meta_file("n", 1)
    assert layout.meta_file("absent", 1) == layout.root / "absent" / "1" / "meta.json"


def test_links_lists_every_link_without_following_any(layout: Layout, tmp_path: Path) -> None:
    (tmp_path / "outside" / "deep").mkdir(parents=True)
    (tmp_path / "outside" / "deep" / "hidden-link").symlink_to(tmp_path)
    _folders(layout.root, "m/1")
    (layout.root / "m" / "1" / "model.bin").symlink_to(tmp_path / "nowhere")
    (layout.root / "z").symlink_to(tmp_path / "outside")
    (layout.root / "a").symlink_to(tmp_path / "outside")
    # a folder's own links first, then its subfolders', each level by name
    assert list(layout.links()) == [layout.root / "a", layout.root / "z", layout.root / "m" / "1" / "model.bin"]


def test_set_aside_moves_a_version_into_staging(layout: Layout) -> None:
    _folders(layout.model_dir("m"), "1")
    (layout.version_dir("m", 1) / "meta.json").write_text("{}")
    moved = layout.set_aside("m", 1)
    assert moved.parent == layout.staging and moved.name.startswith("delete.")
    assert (moved / "meta.json").exists() and layout.version_numbers("m") == []
    assert list(layout.staging_entries()) == [moved]


# -- the root -------------------------------------------------------------------------------------


def test_a_new_root_gets_its_marker_and_helper_folders(tmp_path: Path) -> None:
    lay = Layout(tmp_path / "new" / "root")
    lay.initialize(create=True)
    marker = json.loads(lay.marker.read_text())
    assert marker["format"] == FORMAT_VERSION and marker["kind"] == "fsregistry"
    assert lay.staging.is_dir() and lay.runs.is_dir()


def test_an_existing_root_is_opened_without_writing(layout: Layout) -> None:
    layout.staging.rmdir()
    layout.runs.rmdir()
    before = layout.marker.read_bytes()
    Layout(layout.root).initialize(create=True)
    Layout(layout.root).initialize(create=False)
    assert sorted(p.name for p in layout.root.iterdir()) == [MARKER]
    assert layout.marker.read_bytes() == before


def test_a_new_root_may_hold_harmless_entries_only(tmp_path: Path) -> None:
    root = tmp_path / "root"
    _folders(root, "lost+found")
    (root / ".gitkeep").write_text("")
    Layout(root).initialize(create=True)
    other = tmp_path / "busy"
    _folders(other, *(f"d{i}" for i in range(7)))
    with pytest.raises(InvalidArgumentError, match=r"is not empty \(d0, d1, d2, d3, d4, \.\.\.\)"):
        Layout(other).initialize(create=True)
    assert not (other / MARKER).exists()


def test_a_folder_without_a_marker_is_no_root_unless_created(tmp_path: Path) -> None:
    with pytest.raises(CorruptRegistryError, match="not an fsregistry root"):
        Layout(tmp_path).initialize(create=False)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("text", ["{broken", "[]", '{"format": "1"}', "{}"])
def test_a_bad_marker_is_corrupt_even_when_creating(layout: Layout, text: str) -> None:
    layout.marker.write_text(text)
    with pytest.raises(CorruptRegistryError):
        Layout(layout.root).initialize(create=True)
    assert layout.marker.read_text() == text


def test_check_format_reads_old_refuses_newer_and_nonsense(tmp_path: Path) -> None:
    check_format(FORMAT_VERSION, tmp_path)
    with pytest.raises(FormatVersionError, match=f"format {FORMAT_VERSION + 1}.*upgrade fsregistry"):
        check_format(FORMAT_VERSION + 1, tmp_path)
    for found in (None, "1", 1.0):
        with pytest.raises(CorruptRegistryError, match="no valid 'format' field"):
            check_format(found, tmp_path)


def test_timestamps_are_utc_iso() -> None:
    assert layout_module.utcnow().endswith("+00:00")
