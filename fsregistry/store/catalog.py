"""Reading and maintaining a model's index from its versions' ``meta.json``.

Readers call :meth:`Catalog.refs` and :meth:`Catalog.versions`; they take no lock and,
when the index is missing or unreadable, rebuild the answer in memory from the version
folders (the index is only a cache).  Writers, holding the lock, call
:meth:`Catalog.writer_refs` (which also indexes versions whose publish was interrupted
after the rename) and :meth:`Catalog.record` to write changed entries, chunks first and
refs last.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from .. import records
from ..errors import CorruptRegistryError, RegistryError
from ..records import claims
from ..records import fields as record_fields
from ..storage import files
from ..storage.layout import CHUNK_SIZE, Layout, chunk_of, utcnow
from . import index as idx

log = logging.getLogger("fsregistry")


def derive_refs(name: str, entries: dict[int, dict[str, Any]], floor: int = 0) -> idx.Refs:
    """Refs implied by version summaries.  Where several versions claim one exclusive
    stage or one alias (a crash between two ``meta.json`` writes, or writers whose lock did
    not hold), the newest claim wins (see :mod:`fsregistry.records.claims`)."""
    refs = idx.Refs(name=name, last_version=max([floor, *entries]), latest=max(entries) if entries else None)
    refs.updated_at = max((_last_change(e) for e in entries.values()), default=None)
    refs.count = len(entries)
    settlement = claims.settle(entries)
    refs.stages = settlement.stages
    refs.aliases = settlement.aliases
    refs.claim_seq = refs.applied_seq = settlement.max_seq
    refs.indexed_through = refs.last_version  # a rebuilt index writes every chunk
    return refs


class Catalog:
    """The index of every model under one root."""

    def __init__(self, layout: Layout) -> None:
        self.layout = layout

    # -- model record ---------------------------------------------------------------------
    def model_record(self, name: str) -> records.ModelRecord | None:
        """``model.json`` of ``name``; ``None`` when the model was never created.

        An unreadable record is a :class:`CorruptRegistryError`, never "empty": it holds the
        highest deleted version number, and treating it as missing could reuse one."""
        path = self.layout.model_file(name)
        try:
            data = files.read_json(path)
        except (FileNotFoundError, NotADirectoryError):
            return None
        return records.ModelRecord.from_json(record_fields.parse_model_record(data, path, name=name))

    def salvaged_model_record(self, name: str) -> dict[str, Any]:
        """The well-formed fields of ``model.json``, even when others are not (for
        ``check``: what a repair keeps, the never-reuse floor above all)."""
        return record_fields.salvage_model_record(files.read_json_or_none(self.layout.model_file(name)))

    def write_model_record(self, record: records.ModelRecord) -> None:
        files.write_json_atomic(self.layout.model_file(record.name), record.to_json())

    def max_deleted(self, name: str) -> int:
        record = self.model_record(name)
        return record.max_deleted_version if record is not None else 0

    # -- run map ----------------------------------------------------------------------------
    def run_target(self, run_id: str) -> tuple[str, int] | None:
        """``(name, version)`` the run map gives for ``run_id``, if its entry is well formed
        and that version's ``meta.json`` agrees (the map is a cache: ``None`` sends the
        caller to the version folders)."""
        path = self.layout.run_file(run_id)
        try:
            entry = record_fields.parse_run_entry(files.read_json(path), path)
            name, version = str(entry["name"]), int(entry["version"])
            if records.read_meta(self.layout, name, version).run_id == run_id:
                return name, version
        except (FileNotFoundError, NotADirectoryError, RegistryError):
            pass
        return None

    def record_run(self, run_id: str, name: str, version: int, *, durable: bool = False) -> None:
        """Map ``runs:/RUN_ID`` to its version (a cache: ``check(repair=True)`` rebuilds it).
        A run id is new with its version, so its entry is created in place, one file and no
        rename; an entry that exists already (a repair, an import keeping its run id), or
        one that must be ``durable``, is replaced atomically.  The folder is recreated if
        someone removed it, as caches may be (and refused when it is a link, see
        :func:`~fsregistry.storage.files.ensure_dir`)."""
        files.refuse_link(self.layout.runs)
        path, entry = self.layout.run_file(run_id), {"name": name, "version": version}
        for attempt in range(2):
            try:
                if durable:
                    files.write_json_atomic(path, entry, durable=True)
                else:
                    try:
                        files.create_json_cache(path, entry)
                    except FileExistsError:
                        files.write_json_atomic(path, entry, durable=False)
                return
            except FileNotFoundError:
                if attempt:
                    raise
                files.ensure_dir(self.layout.runs)

    # -- rebuilding from the truth --------------------------------------------------------
    def scan(self, name: str) -> tuple[dict[int, dict[str, Any]], list[tuple[int, str]]]:
        """Summaries of every readable version folder, and ``(version, error)`` for the rest."""
        entries: dict[int, dict[str, Any]] = {}
        broken: list[tuple[int, str]] = []
        for version in self.layout.version_numbers(name):
            try:
                entries[version] = records.summary(records.read_meta(self.layout, name, version))
            except (FileNotFoundError, NotADirectoryError, RegistryError) as exc:
                broken.append((version, str(exc) or type(exc).__name__))
        return entries, broken

    def rebuild(self, name: str, *, for_reader: bool = False) -> tuple[idx.Refs, dict[int, dict[str, Any]]]:
        """Refs and summaries computed from the version folders (no writes).

        A writer needs the never-reuse floor from ``model.json`` and gets a
        :class:`CorruptRegistryError` if it is unreadable; a reader does not allocate
        numbers and carries on without it."""
        entries, broken = self.scan(name)
        try:
            deleted = self.max_deleted(name)
        except CorruptRegistryError:
            if not for_reader:
                raise
            deleted = 0
        floor = max([deleted, *(v for v, _ in broken)])
        return derive_refs(name, entries, floor), entries

    # -- readers --------------------------------------------------------------------------
    def refs(self, name: str) -> idx.Refs:
        """Current refs; rebuilt in memory when ``index.json`` is missing or unreadable.

        Versions published after the index was last written (a save in flight right now,
        or one whose writer died between its rename and the index) are folded in, in
        memory, so readers see them at once: one ``lstat`` when there are none."""
        refs = idx.read_refs(self.layout, name)
        if refs is None:
            log.warning("index of model %r is missing or unreadable; using the version folders (run check)", name)
            refs, _ = self.rebuild(name, for_reader=True)
            return refs
        version = refs.last_version + 1
        while files.exists(self.layout.version_dir(name, version)):
            meta = self._readable_meta(name, version)
            if meta is not None:
                _apply(refs, meta, is_new=True)
            refs.last_version = version
            version += 1
        if (refs.count == 0 or refs.latest is None) and self.layout.version_numbers(name):
            # an index saying "no versions" would hide every one of them: confirm it
            refs, _ = self.rebuild(name, for_reader=True)
        return refs

    def versions(self, name: str, refs: idx.Refs | None = None) -> dict[int, dict[str, Any]]:
        """Summaries of every version of ``name``, from the index or, if stale, the folders."""
        refs = refs or self.refs(name)
        entries = self.indexed_versions(name, refs)
        if entries is None or len(entries) != refs.count:
            # A writer may have changed the index between our two reads: look once more.
            fresh = self.refs(name)
            if fresh != refs:
                refs, entries = fresh, self.indexed_versions(name, fresh)
        if entries is None or len(entries) != refs.count:
            log.warning("versions index of model %r is stale; using the version folders (run check)", name)
            _, entries = self.rebuild(name, for_reader=True)
        return entries

    def agrees(self, name: str, kind: str, value: object, found: int | None) -> bool:
        """Whether the refs' answer ``found`` for a ``latest``, alias or stage reference
        matches that version's own ``meta.json``.  It does not while a promotion, alias
        move or delete is between its ``meta.json`` writes and the index update, or after a
        writer died there: then the caller looks again.  Costs one small read."""
        if found is None or kind not in ("latest", "alias", "stage"):
            return True
        # Only the claim is looked at, so the record is read but not checked field by field
        # (the load that follows checks it): a record that is no object, or unreadable,
        # disagrees, and the caller answers from the version folders.
        try:
            meta = files.read_json(self.layout.meta_file(name, found), shared=True)
        except (OSError, RegistryError, ValueError):
            return False
        if not isinstance(meta, dict):
            return False
        if kind == "alias":
            aliases = meta.get("aliases")
            return isinstance(aliases, dict) and str(value) in aliases
        if kind == "stage" and value in ("Staging", "Production"):
            return meta.get("stage") == value
        return True

    def indexed_versions(self, name: str, refs: idx.Refs) -> dict[int, dict[str, Any]] | None:
        """What the index says: the chunks' summaries up to ``refs.indexed_through``, and
        the tail's read from ``meta.json``.  ``None`` when a chunk is unreadable; an
        unreadable tail record is left out (the count then tells the caller)."""
        entries = idx.read_all_versions(self.layout, name, refs.indexed_through)
        if entries is None:
            return None
        entries = {v: e for v, e in entries.items() if v <= refs.indexed_through}
        for version in self.tail_numbers(name, refs):
            meta = self._readable_meta(name, version)
            if meta is not None:
                entries[version] = records.summary(meta)
        return entries

    def tail_numbers(self, name: str, refs: idx.Refs) -> list[int]:
        """Version numbers above ``indexed_through`` that may exist (up to ``last_version``).
        A wide gap (an import that kept a high number) is listed from the folder, not probed."""
        low, high = refs.indexed_through + 1, refs.last_version
        if high - low < 4 * idx.TAIL_LIMIT:
            return list(range(low, high + 1))
        return [v for v in self.layout.version_numbers(name) if low <= v <= high]

    def _readable_meta(self, name: str, version: int) -> records.VersionRecord | None:
        """A version's ``meta.json`` if it exists and is well formed, else ``None``
        (deleted, a number never used, or corrupt: logged, and ``check`` reports it).
        A record that reads here also loads: both go through the same checks."""
        try:
            return records.read_meta(self.layout, name, version)
        except (FileNotFoundError, NotADirectoryError):
            return None
        except (OSError, RegistryError) as exc:
            log.warning("version %s/%d is left out: %s", name, version, exc)
            return None

    # -- writers (caller holds the lock) --------------------------------------------------
    def writer_refs(self, name: str) -> idx.Refs:
        """Refs for a writer: rebuilt and written back if lost, with versions published
        after the last index update (a crash between rename and index) indexed now."""
        refs = idx.read_refs(self.layout, name)
        if refs is not None and refs.legacy and not self._chunks_complete(name, refs):
            refs = None  # written by an older writer that knew no tail: some versions are missing
        if refs is not None and not self._plausible(name, refs):
            log.warning(
                "index of model %r says version %d was used, above every version folder and deleted number; "
                "rebuilding it from the version folders",
                name,
                refs.last_version,
            )
            refs = None
        if refs is None or refs.claims_pending:
            # lost, or a stage/alias change died between its writes: settle from the truth
            return self.settle_claims(name, refs.claim_seq if refs is not None else 0)
        orphans: list[records.VersionRecord] = []
        version = refs.last_version + 1
        while files.exists(self.layout.version_dir(name, version)):
            try:
                orphans.append(records.read_meta(self.layout, name, version))
            except (FileNotFoundError, CorruptRegistryError, ValueError):
                log.warning("version folder %s/%d is unreadable; skipping its number", name, version)
            refs.last_version = version
            version += 1
        if orphans:
            log.warning("indexing %d version(s) of %r whose publish was interrupted", len(orphans), name)
            self.record(name, orphans, refs, new=[m.version for m in orphans])
        return refs

    def _plausible(self, name: str, refs: idx.Refs) -> bool:
        """Whether the index's ``last_version`` was really allocated.  Every allocated
        number is a version folder or, once deleted, at most ``model.json``'s
        ``max_deleted_version`` (a delete raises it before removing a folder), so a higher
        one is an edit, and trusting it would make the next version 10**12 + 1.  Costs one
        ``lstat`` (plus a small read after the top version was deleted).  When
        ``model.json`` is unreadable the index is the only record of deleted numbers, so
        it is trusted."""
        if refs.last_version == 0 or files.exists(self.layout.version_dir(name, refs.last_version)):
            return True
        try:
            return refs.last_version <= self.max_deleted(name)
        except CorruptRegistryError:
            return True

    def settle_claims(self, name: str, claim_seq: int = 0) -> idx.Refs:
        """Rebuild the index from the version folders, clearing every stage or alias claim
        that a newer claim supersedes (in ``meta.json`` first, then the index).  Run by the
        writer that finds the index lost or a claim change unfinished.  ``claim_seq`` is
        the last order number already handed out: it is never handed out again."""
        entries, _ = self.scan(name)
        settlement = claims.settle(entries)
        stale = sorted({v for v, _ in [*settlement.stale_stages, *settlement.stale_aliases]})
        now = utcnow()
        for version in stale:
            meta = records.read_meta(self.layout, name, version)
            if claims.clear_stale(meta, settlement, now):
                log.warning("%s/%d: clearing stage or alias claims that a newer claim supersedes", name, version)
                files.write_json_atomic(self.layout.meta_file(name, version), meta.to_json())
        refs, entries = self.rebuild(name)
        refs.claim_seq = refs.applied_seq = max(refs.claim_seq, claim_seq)
        idx.write_all_chunks(self.layout, name, entries)
        idx.write_refs(self.layout, refs)
        return refs

    def take_claim(self, name: str, refs: idx.Refs) -> int:
        """Hand out the next claim order number (caller holds the lock), durably, before
        the claim is written: a writer that dies after this never leaves two claims with
        one number, and the next writer sees the change was left unfinished."""
        refs.claim_seq += 1
        idx.write_refs(self.layout, refs)
        return refs.claim_seq

    def _chunks_complete(self, name: str, refs: idx.Refs) -> bool:
        entries = idx.read_all_versions(self.layout, name, refs.last_version)
        return entries is not None and len(entries) == refs.count

    def record(
        self,
        name: str,
        metas: list[records.VersionRecord],
        refs: idx.Refs,
        new: Iterable[int] = (),
        *,
        durable: bool = True,
    ) -> None:
        """Write the index entries of changed versions, then the refs.  ``new`` names the
        versions being added (just published).  Versions in the tail need no chunk write
        (their ``meta.json`` is what listing reads); a tail grown past
        :data:`~fsregistry.store.index.TAIL_LIMIT` is folded into the chunks here.
        ``durable=False`` flushes nothing: the caller fsyncs the model folder right after
        (see :func:`fsregistry.store.index.write_refs`)."""
        added = set(new)
        for meta in metas:
            _apply(refs, meta, is_new=meta.version in added)
        through = refs.indexed_through
        to_chunks = [m for m in metas if m.version <= through]
        if refs.last_version - through > idx.TAIL_LIMIT:
            to_chunks += self._tail(name, refs, {m.version: m for m in metas})
            refs.indexed_through = refs.last_version
        self._write_chunks(name, to_chunks, through, durable=durable)
        refs.applied_seq = refs.claim_seq  # whatever claim this change took is now indexed
        idx.write_refs(self.layout, refs, durable=durable)

    def _tail(self, name: str, refs: idx.Refs, given: dict[int, records.VersionRecord]) -> list[records.VersionRecord]:
        """Records of the tail's versions (as given, else read), to fold into the chunks."""
        out = []
        for version in self.tail_numbers(name, refs):
            meta = given.get(version) or self._readable_meta(name, version)  # a corrupt one is logged there
            if meta is not None:
                out.append(meta)
        return out

    def _write_chunks(
        self, name: str, metas: list[records.VersionRecord], through: int, *, durable: bool = True
    ) -> None:
        """Put ``metas``' summaries into their chunks.  Entries a chunk holds above
        ``through`` (the tail's bound before this write) are dropped: the tail is read
        from the folders, so anything there is either being folded in now or gone."""
        by_chunk: dict[int, list[records.VersionRecord]] = {}
        for meta in metas:
            by_chunk.setdefault(chunk_of(meta.version), []).append(meta)
        for chunk, group in sorted(by_chunk.items()):
            entries = self._chunk_for_write(name, chunk, through)
            for meta in group:
                entries[meta.version] = records.summary(meta)
            idx.write_chunk(self.layout, name, chunk, entries, durable=durable)

    def _chunk_for_write(self, name: str, chunk: int, through: int) -> dict[int, dict[str, Any]]:
        """Entries of one chunk up to version ``through``; rebuilt from the version folders
        it covers when the file is missing or unreadable (so an update never drops the
        other entries of the chunk)."""
        entries = idx.read_chunk(self.layout, name, chunk)
        if entries is not None:
            return {v: e for v, e in entries.items() if v <= through}
        low, high = chunk * CHUNK_SIZE + 1, min((chunk + 1) * CHUNK_SIZE, through)
        rebuilt: dict[int, dict[str, Any]] = {}
        for version in (v for v in self.layout.version_numbers(name) if low <= v <= high):
            meta = self._readable_meta(name, version)  # a corrupt one is logged there
            if meta is not None:
                rebuilt[version] = records.summary(meta)
        return rebuilt

    def forget(self, name: str, versions: list[int], refs: idx.Refs) -> None:
        """Drop deleted versions from the index."""
        by_chunk: dict[int, list[int]] = {}
        for version in versions:
            if version <= refs.indexed_through:  # a tail version has no chunk entry
                by_chunk.setdefault(chunk_of(version), []).append(version)
        for chunk, group in by_chunk.items():
            entries = self._chunk_for_write(name, chunk, refs.indexed_through)
            for version in group:
                entries.pop(version, None)
            idx.write_chunk(self.layout, name, chunk, entries)
        gone = set(versions)
        refs.count = max(0, refs.count - len(gone))
        refs.stages = {s: v for s, v in refs.stages.items() if v not in gone}
        refs.aliases = {a: v for a, v in refs.aliases.items() if v not in gone}
        if refs.latest in gone:
            remaining = [v for v in self.layout.version_numbers(name) if v not in gone]
            refs.latest = max(remaining) if remaining else None
        idx.write_refs(self.layout, refs)


def _last_change(entry: dict[str, Any]) -> str:
    return max([str(entry.get("created_at", "")), str(entry.get("stage_changed_at", ""))])


def _apply(refs: idx.Refs, meta: records.VersionRecord, *, is_new: bool) -> None:
    """Fold one version's current state into the refs."""
    version = meta.version
    if is_new:
        refs.count += 1
        refs.latest = max(refs.latest or 0, version)
        refs.last_version = max(refs.last_version, version)
    refs.stages = {s: v for s, v in refs.stages.items() if v != version}
    if meta.stage in ("Staging", "Production"):
        refs.stages[meta.stage] = version
    refs.aliases = {a: v for a, v in refs.aliases.items() if v != version}
    for alias in meta.aliases:
        refs.aliases[alias] = version
