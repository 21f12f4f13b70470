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
(see ``fsregistry.maintenance.repair``).  Both files are checked on read against their description
(:mod:`fsregistry.records.fields`); a malformed one reads as missing, so readers rebuild
and ``check`` reports it.  Chunk numbers come from the folder's listing, never from a
range up to a number in a record.  An ``index.json`` written before ``indexed_through``
existed has every version in its chunks, and is read that way.
"""

from __future__ import annotations

import re
from typing import Any

from ..errors import RegistryError
from ..records import fields as record_fields
from ..records.typed import Refs
from ..storage import files
from ..storage.layout import FORMAT_VERSION, Layout, chunk_of, utcnow

#: the name of a chunk file; its number is read from the folder, never counted up to
_CHUNK_FILE = re.compile(r"index-(0|[1-9][0-9]{0,15})\.json")

#: versions above ``indexed_through`` listed from their ``meta.json``; a save that makes
#: the tail longer than this folds it into the chunks (so one save in this many pays
#: for a chunk rewrite, and listing reads at most this many extra small files)
TAIL_LIMIT = 16


def load_refs(layout: Layout, name: str) -> Refs | None:
    """The refs of ``name``; ``None`` when there is no ``index.json``.  A malformed one is
    :class:`~fsregistry.errors.CorruptRecordError` naming the field (see
    :func:`fsregistry.records.fields.parse_index`), one of a newer format
    :class:`~fsregistry.errors.FormatVersionError`: ``check`` reports either."""
    path = layout.index_file(name)
    try:
        raw = record_fields.read_checked(
            path, lambda r: record_fields.parse_index(r, path, name=name), "index", shared=True
        )  # only read: Refs.from_json copies what it keeps
    except (FileNotFoundError, NotADirectoryError):
        return None
    return Refs.from_json(raw)


def read_refs(layout: Layout, name: str) -> Refs | None:
    """The refs of ``name``, or ``None`` when missing or unreadable (then rebuild: the index
    is a cache)."""
    try:
        return load_refs(layout, name)
    except RegistryError:
        return None


def write_refs(layout: Layout, refs: Refs, *, durable: bool = True) -> None:
    """Replace ``index.json``.  ``durable=False`` skips the file's and the folder's
    ``fsync``: for a caller that flushes the model folder itself right after (a save), to
    which a power cut may leave the previous index, this one, or an unreadable file - each
    of which readers check against ``meta.json`` or rebuild, as they do any stale cache."""
    refs.updated_at = utcnow()
    path = layout.index_file(refs.name)
    record_fields.mark_checked(path, "index", files.write_json_atomic(path, refs.to_json(), durable=durable))


def load_chunk(layout: Layout, name: str, chunk: int) -> dict[int, dict[str, Any]] | None:
    """Version summaries of one chunk; ``None`` when it has no file.  A malformed one is
    :class:`~fsregistry.errors.CorruptRecordError` naming the field (for ``check``)."""
    path = layout.chunk_file(name, chunk)
    try:
        data = record_fields.read_checked(
            path, lambda r: record_fields.parse_chunk(r, path, name=name, chunk=chunk), "chunk"
        )
    except (FileNotFoundError, NotADirectoryError):
        return None
    return {int(k): v for k, v in data["versions"].items()}


def read_chunk(layout: Layout, name: str, chunk: int) -> dict[int, dict[str, Any]] | None:
    """Version summaries of one chunk, or ``None`` when missing or unreadable."""
    try:
        return load_chunk(layout, name, chunk)
    except RegistryError:
        return None


def write_chunk(
    layout: Layout, name: str, chunk: int, entries: dict[int, dict[str, Any]], *, durable: bool = True
) -> None:
    """Replace one chunk file (remove it when ``entries`` is empty).  Durable like
    ``index.json``, which relies on it (``indexed_through``); ``durable=False`` as for
    :func:`write_refs`: a chunk lost or cut short by a power cut no longer matches the
    index's count, and readers then list from the version folders."""
    if not entries:
        files.remove_file(layout.chunk_file(name, chunk))
        return
    payload = {"format": FORMAT_VERSION, "name": name, "versions": {str(v): e for v, e in sorted(entries.items())}}
    path = layout.chunk_file(name, chunk)
    # built from checked summaries, each in its chunk: reading it back needs no check
    record_fields.mark_checked(path, "chunk", files.write_json_atomic(path, payload, durable=durable))


def chunk_numbers(layout: Layout, name: str) -> list[int]:
    """The chunk files of ``name`` that exist, ascending: read from the folder, so no
    number in a record (an edited ``last_version`` of 10**12, say) is ever counted up to."""
    found = (_CHUNK_FILE.fullmatch(e.name) for e in files.list_dir(layout.model_dir(name)))
    return sorted(int(m.group(1)) for m in found if m)


def read_all_versions(layout: Layout, name: str, last_version: int) -> dict[int, dict[str, Any]] | None:
    """Every version summary of ``name`` up to ``last_version``'s chunk; ``None`` if any
    chunk there is unreadable (a chunk with no file is empty: all its versions deleted)."""
    out: dict[int, dict[str, Any]] = {}
    if last_version <= 0:
        return out
    for chunk in chunk_numbers(layout, name):
        if chunk > chunk_of(last_version):
            break
        entries = read_chunk(layout, name, chunk)
        if entries is None:
            return None
        out.update(entries)
    return out


def write_all_chunks(layout: Layout, name: str, entries: dict[int, dict[str, Any]]) -> None:
    """Replace every chunk of ``name`` with ``entries`` (a rebuilt index): the chunks they
    fall in are written, every other chunk file is removed."""
    by_chunk: dict[int, dict[int, dict[str, Any]]] = {}
    for version, entry in entries.items():
        by_chunk.setdefault(chunk_of(version), {})[version] = entry
    for chunk in sorted(set(by_chunk) | set(chunk_numbers(layout, name))):
        write_chunk(layout, name, chunk, by_chunk.get(chunk, {}))


def remove_index(layout: Layout, name: str) -> None:
    """Delete every index file of ``name`` (used when its versions are all gone)."""
    for chunk in chunk_numbers(layout, name):
        files.remove_file(layout.chunk_file(name, chunk))
    files.remove_file(layout.index_file(name))
