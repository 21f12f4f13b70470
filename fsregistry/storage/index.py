"""The per-model index: a cache of what the version folders say, for fast reads.

Two kinds of file, both replaced atomically under the write lock and read without it:

* ``index.json`` - the *refs*: highest version ever published, latest version, count,
  which version holds each exclusive stage, where each alias points, and how far the
  chunks reach (``indexed_through``).  Small, so resolving ``Production``, ``latest`` or
  ``@alias`` costs one small read whatever the number of versions.
* ``index-<K>.json`` - summaries of versions ``K*256+1 .. (K+1)*256``, up to
  ``indexed_through``.  The few versions above it (at most :data:`TAIL_LIMIT`) are the
  *tail*: listing reads their ``meta.json`` directly, so a save writes no chunk at all.
  Once the tail grows past the limit, the save that grows it folds it into the chunks.
  Saving therefore costs the same in a model with 10,000 versions as in an empty one,
  and listing reads every chunk plus a handful of ``meta.json`` files.

Nothing here is the truth: every entry can be rebuilt from the versions' ``meta.json``
(see ``fsregistry.repair``).  An ``index.json`` written before ``indexed_through``
existed has every version in its chunks, and is read that way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from . import files
from .layout import FORMAT_VERSION, Layout, chunk_of, utcnow

#: versions above ``indexed_through`` listed from their ``meta.json``; a save that makes
#: the tail longer than this folds it into the chunks (so one save in this many pays
#: for a chunk rewrite, and listing reads at most this many extra small files)
TAIL_LIMIT = 16


@dataclass
class Refs:
    """Contents of ``index.json``."""

    name: str
    last_version: int = 0
    latest: int | None = None
    count: int = 0
    stages: dict[str, int] = field(default_factory=dict)
    aliases: dict[str, int] = field(default_factory=dict)
    #: when the index last changed (a save, stage, alias, tag or delete)
    updated_at: str | None = None
    #: the chunks hold every version up to this one; those above are the tail
    indexed_through: int = 0
    #: read from an ``index.json`` without ``indexed_through`` (an older writer's): its
    #: chunks should hold every version, and a writer checks that they do
    legacy: bool = field(default=False, compare=False, repr=False)

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT_VERSION,
            "name": self.name,
            "last_version": self.last_version,
            "latest": self.latest,
            "count": self.count,
            "stages": self.stages,
            "aliases": self.aliases,
            "updated_at": self.updated_at,
            "indexed_through": self.indexed_through,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Refs:
        last_version = int(data.get("last_version") or 0)
        through = data.get("indexed_through")
        return cls(
            name=str(data["name"]),
            last_version=last_version,
            latest=data.get("latest"),
            count=int(data.get("count") or 0),
            stages={str(k): int(v) for k, v in (data.get("stages") or {}).items()},
            aliases={str(k): int(v) for k, v in (data.get("aliases") or {}).items()},
            updated_at=data.get("updated_at"),
            # absent in indexes written before the tail existed: everything is in chunks
            indexed_through=last_version if through is None else min(int(through), last_version),
            legacy=through is None,
        )


def read_refs(layout: Layout, name: str) -> Refs | None:
    """The refs of ``name``, or ``None`` when missing or unreadable (then rebuild)."""
    data = files.read_json_or_none(layout.index_file(name))
    if not isinstance(data, dict) or data.get("name") != name or not isinstance(data.get("format"), int):
        return None
    if data["format"] > FORMAT_VERSION:
        return None
    try:
        return Refs.from_json(data)
    except (KeyError, TypeError, ValueError):
        return None


def write_refs(layout: Layout, refs: Refs) -> None:
    refs.updated_at = utcnow()
    files.write_json_atomic(layout.index_file(refs.name), refs.to_json())


def read_chunk(layout: Layout, name: str, chunk: int) -> dict[int, dict[str, Any]] | None:
    """Version summaries of one chunk, or ``None`` when missing or unreadable."""
    data = files.read_json_or_none(layout.chunk_file(name, chunk))
    if not isinstance(data, dict) or not isinstance(data.get("versions"), dict):
        return None
    try:
        return {int(k): v for k, v in data["versions"].items()}
    except ValueError:
        return None


def write_chunk(layout: Layout, name: str, chunk: int, entries: dict[int, dict[str, Any]]) -> None:
    if not entries:
        files.remove_file(layout.chunk_file(name, chunk))
        return
    payload = {"format": FORMAT_VERSION, "name": name, "versions": {str(v): e for v, e in sorted(entries.items())}}
    # Durable like index.json, which relies on it (indexed_through): saves write no chunk
    # (see the tail above), so this costs only folds, deletes and state changes.
    files.write_json_atomic(layout.chunk_file(name, chunk), payload)


def chunks_for(last_version: int) -> range:
    """Chunk numbers that may hold versions up to ``last_version``."""
    return range(chunk_of(last_version) + 1) if last_version > 0 else range(0)


def read_all_versions(layout: Layout, name: str, last_version: int) -> dict[int, dict[str, Any]] | None:
    """Every version summary of ``name``; ``None`` if any chunk is missing or unreadable."""
    out: dict[int, dict[str, Any]] = {}
    for chunk in chunks_for(last_version):
        entries = read_chunk(layout, name, chunk)
        if entries is None:
            if files.exists(layout.chunk_file(name, chunk)):
                return None
            continue  # an empty chunk (all its versions deleted) has no file
        out.update(entries)
    return out


def remove_index(layout: Layout, name: str, last_version: int) -> None:
    """Delete every index file of ``name`` (used when its versions are all gone)."""
    for chunk in chunks_for(last_version):
        files.remove_file(layout.chunk_file(name, chunk))
    files.remove_file(layout.index_file(name))
