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
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterator
from pathlib import Path

from ..errors import CorruptRegistryError, FormatVersionError, InvalidArgumentError
from . import files

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


def utcnow() -> str:
    """Current time as an ISO-8601 UTC string (what every record stores)."""
    return _dt.datetime.now(_dt.timezone.utc).isoformat()


def check_format(found: object, what: Path) -> None:
    """Refuse a file written by a newer on-disk format than this library knows."""
    if not isinstance(found, int):
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

    def initialize(self, create: bool) -> None:
        """Check the marker (creating a new root when allowed) and the helper folders."""
        marker = files.read_json_or_none(self.marker) if files.exists(self.marker) else None
        if marker is None and files.exists(self.marker):
            raise CorruptRegistryError(f"{self.marker} is unreadable; is this a registry root?", path=str(self.marker))
        if marker is None:
            if not create:
                raise CorruptRegistryError(f"{self.root} is not an fsregistry root (no {MARKER})", path=str(self.root))
            self._refuse_foreign_folder()
            files.ensure_dir(self.root)
            marker_record = {"format": FORMAT_VERSION, "created_at": utcnow(), "kind": "fsregistry"}
            files.write_json_atomic(self.marker, marker_record)
        else:
            check_format(marker.get("format") if isinstance(marker, dict) else None, self.marker)
        files.ensure_dir(self.staging)
        files.ensure_dir(self.runs)

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
    def model_dir(self, name: str) -> Path:
        return self.root / name

    def model_file(self, name: str) -> Path:
        return self.root / name / MODEL_FILE

    def index_file(self, name: str) -> Path:
        return self.root / name / INDEX_FILE

    def chunk_file(self, name: str, chunk: int) -> Path:
        return self.root / name / f"index-{chunk}.json"

    def version_dir(self, name: str, version: int) -> Path:
        return self.root / name / str(version)

    def meta_file(self, name: str, version: int) -> Path:
        return self.root / name / str(version) / META_JSON

    def run_file(self, run_id: str) -> Path:
        return self.runs / f"{run_id}.json"

    # -- listings ----------------------------------------------------------------------
    def model_names(self) -> list[str]:
        """Folders under the root that hold a model record (other folders are left alone)."""
        return sorted(
            e.name
            for e in files.list_dir(self.root)
            if e.is_dir() and not e.name.startswith(".") and files.exists(Path(e.path) / MODEL_FILE)
        )

    def candidate_model_dirs(self) -> list[str]:
        """Every non-hidden folder under the root: what ``check`` inspects for orphans."""
        return sorted(e.name for e in files.list_dir(self.root) if e.is_dir() and not e.name.startswith("."))

    def version_numbers(self, name: str) -> list[int]:
        """Published version folders of ``name``, ascending."""
        return sorted(int(e.name) for e in files.list_dir(self.model_dir(name)) if e.name.isdigit() and e.is_dir())

    def staging_entries(self) -> Iterator[Path]:
        """Everything under the staging folder (in-flight or left over by a crash)."""
        return (Path(e.path) for e in files.list_dir(self.staging))


#: what any folder may hold without it being a problem (a fresh volume's lost+found, VCS
#: keep-files): a new root may already contain these, and check never reports them
HARMLESS_ENTRIES = frozenset({"lost+found", ".gitkeep", ".gitignore", ".keep", ".DS_Store"})


def chunk_of(version: int) -> int:
    """Which index chunk holds ``version``."""
    return (version - 1) // CHUNK_SIZE
