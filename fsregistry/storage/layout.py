"""Where everything lives under a registry root (on-disk format 1).

::

    <root>/
      .fsregistry.json          marker: {"format": 1, ...}; says "this is a registry root"
      .lock                     the write lock (filelock); never deleted
      .staging/                 in-flight saves and deletes (same file system as the root)
      .runs/<RUN_ID>.json       run id -> {"name", "version"}; a cache, rebuilt by repair
      <NAME>/
        model.json              the model's own record (description, tags, highest deleted
                                version): the truth for model-level data
        index.json              refs cache: latest, stages, aliases, version count
        index-<K>.json          versions cache, 256 versions per chunk
        <VERSION>/              model.bin, preprocessor.pkl, meta.json; published by rename

No folder or record below the root may be a symbolic link: the paths of records refuse a
linked model or version folder (:class:`~fsregistry.errors.UnsafeLinkError`), listings skip
linked folders, and ``check`` reports every link.  The root itself may be a link.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Iterator
from pathlib import Path

from ..errors import CorruptRegistryError, FormatVersionError, InvalidArgumentError
from . import files

#: a version folder's name: a number a registry can have allocated (below 2**53, as JSON
#: numbers stay exact); other digit names are not versions (``check`` reports them)
_VERSION_FOLDER = re.compile(r"[1-9][0-9]{0,14}")

FORMAT_VERSION = 1
MARKER = ".fsregistry.json"
LOCK = ".lock"
STAGING = ".staging"
RUNS = ".runs"
MODEL_FILE = "model.json"
INDEX_FILE = "index.json"
CHUNK_SIZE = 256
MODEL_BIN = "model.bin"
PREPROCESSOR_PKL = "preprocessor.pkl"
META_JSON = "meta.json"
#: what the staging folders of deletes are called (``delete.PID.RANDOM.incomplete``)
DELETE_PREFIX = "delete"
_CHUNK_RE = re.compile(r"index-\d+\.json")
#: paths a layout remembers before it starts again (one entry per model and version asked for)
_PATHS_MAX = 4096


def utcnow() -> str:
    """Current time as an ISO-8601 UTC string (what every record stores)."""
    return _dt.datetime.now(_dt.timezone.utc).isoformat()


def check_format(found: object, what: Path | str) -> None:
    """Refuse a file written by a newer on-disk format than this library knows."""
    if not isinstance(found, int) or isinstance(found, bool) or found < 1:
        raise CorruptRegistryError(f"{what} has no valid 'format' field", path=str(what))
    if found > FORMAT_VERSION:
        raise FormatVersionError(
            f"{what} uses on-disk format {found}, but this fsregistry reads formats up to {FORMAT_VERSION}; "
            "upgrade fsregistry to read it",
            path=str(what),
        )


class Layout:
    """Paths of one registry root.  Pure path arithmetic, except :meth:`initialize`."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.marker = root / MARKER
        self.lock = root / LOCK
        self.staging = root / STAGING
        self.runs = root / RUNS
        self._paths: dict[tuple[str, int], tuple[Path, Path, Path]] = {}

    def initialize(self, create: bool) -> None:
        """Check the marker, creating a new root (with its helper folders) when allowed.

        An existing root is only read: its helper folders (staging, run map) are made by
        the first write that needs them, so a read-only copy that lost its empty folders
        opens, lists, loads and checks."""
        marker = files.read_json_or_none(self.marker) if files.exists(self.marker) else None
        if marker is None and files.exists(self.marker):
            raise CorruptRegistryError(f"{self.marker} is unreadable; is this a registry root?", path=str(self.marker))
        if marker is None:
            if not create:
                raise CorruptRegistryError(f"{self.root} is not an fsregistry root (no {MARKER})", path=str(self.root))
            self._refuse_foreign_folder()
            files.ensure_dir(self.root, link_ok=True)  # the root itself may be a link
            marker_record = {"format": FORMAT_VERSION, "created_at": utcnow(), "kind": "fsregistry"}
            files.write_json_atomic(self.marker, marker_record)
            files.ensure_dir(self.staging)
            files.ensure_dir(self.runs)
        else:
            check_format(marker.get("format") if isinstance(marker, dict) else None, self.marker)

    def _refuse_foreign_folder(self) -> None:
        """A new registry goes into a missing or empty folder only: never into a file, and
        never into a folder that already holds other things (a project, a home folder),
        which it would fill with its own files."""
        if files.exists(self.root) and not self.root.is_dir():
            raise InvalidArgumentError(f"{self.root} is a file, not a folder", path=str(self.root))
        own = {MARKER, LOCK, STAGING, RUNS}  # another process creating this registry right now
        others = sorted(
            e.name
            for e in files.list_dir(self.root)
            if e.name not in HARMLESS_ENTRIES and e.name not in own and not e.name.startswith(f".{MARKER}.")
        )
        if others:
            shown = ", ".join(others[:5]) + (", ..." if len(others) > 5 else "")
            raise InvalidArgumentError(
                f"{self.root} is not an fsregistry root and is not empty ({shown}); "
                "create the registry in a new or empty folder (e.g. a subfolder)",
                path=str(self.root),
            )

    # -- per model ---------------------------------------------------------------------
    # Folders are plain path arithmetic.  The records in them (model.json, the index,
    # meta.json) are what every read and write of the registry goes through, so their
    # paths are where a linked model or version folder is refused: one lstat per folder
    # below the root, at most two, and a write can never land outside the root.
    def model_dir(self, name: str) -> Path:
        return self._model_paths(name)[0]

    def model_file(self, name: str) -> Path:
        model_dir, model_file, _ = self._model_paths(name)
        files.refuse_link(model_dir)
        return model_file

    def index_file(self, name: str) -> Path:
        model_dir, _, index_file = self._model_paths(name)
        files.refuse_link(model_dir)
        return index_file

    def _model_paths(self, name: str) -> tuple[Path, Path, Path]:
        """``(model folder, model.json, index.json)``, remembered as :meth:`_version_paths`."""
        found = self._paths.get((name, 0))
        if found is None:
            if len(self._paths) >= _PATHS_MAX:
                self._paths.clear()
            model_dir = self.root / name
            found = self._paths[(name, 0)] = (model_dir, model_dir / MODEL_FILE, model_dir / INDEX_FILE)
        return found

    def chunk_file(self, name: str, chunk: int) -> Path:
        return self.real_dir(name) / f"index-{chunk}.json"

    def chunk_files(self, name: str) -> list[Path]:
        """The index chunk files ``name`` has now (caches: a delete on a full disk may
        remove them to make room for its record)."""
        return sorted(
            Path(e.path)
            for e in files.list_dir(self.real_dir(name))
            if _CHUNK_RE.fullmatch(e.name) and e.is_file(follow_symlinks=False)
        )

    def version_dir(self, name: str, version: int) -> Path:
        return self._version_paths(name, version)[1]

    def meta_file(self, name: str, version: int) -> Path:
        model_dir, version_dir, meta = self._version_paths(name, version)
        files.refuse_link(model_dir)
        files.refuse_link(version_dir)
        return meta

    def _version_paths(self, name: str, version: int) -> tuple[Path, Path, Path]:
        """``(model folder, version folder, its meta.json)``: path arithmetic, remembered
        (a load or a listing asks for the same few paths again and again, and building a
        ``Path`` costs more than the ``lstat`` it is for)."""
        found = self._paths.get((name, version))
        if found is None:
            if len(self._paths) >= _PATHS_MAX:
                self._paths.clear()
            model_dir = self.root / name
            version_dir = model_dir / str(version)
            found = self._paths[(name, version)] = (model_dir, version_dir, version_dir / META_JSON)
        return found

    def real_dir(self, *parts: str) -> Path:
        """``root/part/...``, after checking that no folder on the way below the root is a
        symbolic link (:class:`~fsregistry.errors.UnsafeLinkError` naming it).  Missing
        folders are fine: whoever reads or writes there gets ``FileNotFoundError``."""
        path = self.root
        for part in parts:
            path = path / part
            files.refuse_link(path)
        return path

    def set_aside(self, name: str, version: int) -> Path:
        """Move a version folder into the staging area, out of every reader's sight, in one
        ``rename`` (which needs no free space); returns where it went."""
        return files.move_aside(self.version_dir(name, version), self.staging, DELETE_PREFIX)

    def run_file(self, run_id: str) -> Path:
        """The run map's entry for ``run_id``.  Writers make the run map's folder with
        :func:`~fsregistry.storage.files.ensure_dir`, which refuses a link."""
        return self.runs / f"{run_id}.json"

    # -- listings ----------------------------------------------------------------------
    def model_names(self) -> list[str]:
        """Folders under the root that hold a model record (other folders, and links, are
        left alone)."""
        return sorted(
            e.name
            for e in files.list_dir(self.root)
            if e.is_dir(follow_symlinks=False)
            and not e.name.startswith(".")
            and files.exists(Path(e.path) / MODEL_FILE)
        )

    def candidate_model_dirs(self) -> list[str]:
        """Every non-hidden folder under the root (not a link): what ``check`` inspects for
        orphans."""
        return sorted(
            e.name for e in files.list_dir(self.root) if e.is_dir(follow_symlinks=False) and not e.name.startswith(".")
        )

    def version_numbers(self, name: str) -> list[int]:
        """Published version folders of ``name``, ascending (a link is none: ``check``
        reports it; its number is still never given to a new version)."""
        return sorted(
            int(e.name)
            for e in files.list_dir(self.model_dir(name))
            if _VERSION_FOLDER.fullmatch(e.name) and e.is_dir(follow_symlinks=False)
        )

    def links(self) -> Iterator[Path]:
        """Every symbolic link below the root, in a stable order; none is followed."""
        pending = [self.root]
        while pending:
            folders = []
            for entry in sorted(files.list_dir(pending.pop()), key=lambda e: e.name):
                if entry.is_symlink():
                    yield Path(entry.path)
                elif entry.is_dir(follow_symlinks=False):
                    folders.append(Path(entry.path))
            pending.extend(reversed(folders))

    def staging_entries(self) -> Iterator[Path]:
        """Everything under the staging folder (in-flight or left over by a crash), links
        left out: nothing when the folder itself is a link (what it points at is not the
        registry's), and no link in it (the registry never makes one; :meth:`links` finds
        them for ``check`` to report)."""
        if self.staging.is_symlink():
            return iter(())
        return (Path(e.path) for e in files.list_dir(self.staging) if not e.is_symlink())

    def run_entries(self) -> Iterator[Path]:
        """The run map's entries, links left out as by :meth:`staging_entries`."""
        if self.runs.is_symlink():
            return iter(())
        return (Path(e.path) for e in files.list_dir(self.runs) if e.name.endswith(".json") and not e.is_symlink())


#: what any folder may hold without it being a problem (a fresh volume's lost+found, VCS
#: keep-files): a new root may already contain these, and check never reports them
HARMLESS_ENTRIES = frozenset({"lost+found", ".gitkeep", ".gitignore", ".keep", ".DS_Store"})


def chunk_of(version: int) -> int:
    """Which index chunk holds ``version``."""
    return (version - 1) // CHUNK_SIZE
