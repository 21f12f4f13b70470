"""The version store: every write of a registry, and the reads that writers share.

A save stays safe in three steps (docs/design.md, invariants 1-3):

1. the caller writes the model, the preprocessor and ``meta.json`` into a unique folder of
   the staging area (:meth:`VersionStore.staging_dir`) and fsyncs them - no lock held, so
   slow serialisation blocks nobody;
2. :meth:`VersionStore.publish`, under the write lock, allocates the next version number,
   renames the folder to ``<root>/<NAME>/<VERSION>`` in one step, and updates the index last;
3. the caller removes the staging folder in ``finally``, whatever failed.

Stage and alias changes take an order number first (:mod:`fsregistry.records.claims`),
then rewrite the new holder's ``meta.json``, the old holder's, and the index.  Deletes
record the never-reuse floor, then move folders out of sight in one ``rename`` each.
A reader never locks: it reads the small refs file, then the version's ``meta.json``.

The registry's public API (:mod:`fsregistry.registry`), bundles and maintenance all work
through this class; it knows nothing of them.
"""

from __future__ import annotations

import errno
import json
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

from .. import records
from ..errors import (
    ConcurrentWriteError,
    CorruptRegistryError,
    InvalidIdentifierError,
    ModelExistsError,
    ModelNotFoundError,
    PickleRefusedError,
    ProtectedVersionError,
    RegistryError,
    VersionNotFoundError,
)
from ..identifiers import ModelRef, parse_identifier
from ..names import EXCLUSIVE_STAGES, case_twin, refuse_alias_twin
from ..records import claims
from ..records import fields as record_fields
from ..records.fields import MAX_VERSION
from ..storage import files
from ..storage.layout import META_JSON, Layout, utcnow
from ..storage.lock import RegistryLock
from .catalog import Catalog
from .index import Refs
from .opener import Change

_RUN_ID_RE = re.compile(r"[0-9a-f]{8,64}")


class VersionStore:
    """The versions of every model under one root: publishing, resolving, state changes,
    deletes.  Methods named ``*_locked`` expect the caller to hold :meth:`write_lock`;
    the others take it themselves where they write."""

    #: a save's staged files become the version itself, so they are flushed to the disk
    durable_staging = True

    def __init__(self, root: Path, *, lock_timeout: float, create: bool, logger: Any = None) -> None:
        self.root = root
        self.layout = Layout(root)
        self.layout.initialize(create=create)
        self.catalog = Catalog(self.layout)
        self.lock = RegistryLock(self.layout.lock, timeout=lock_timeout)
        self.logger: Any = logger if logger is not None else logging.getLogger("fsregistry")

    def write_lock(self) -> Any:
        """The write lock, as a context manager (re-entrant within a thread)."""
        return self.lock.hold()

    def staging_dir(self, purpose: str) -> Path:
        """A new folder in the staging area (same file system as the root) for a write."""
        return files.make_temp_dir(self.layout.staging, purpose)

    # == publish ===============================================================================

    def publish(
        self,
        name: str,
        staged: Path,
        meta: records.VersionRecord,
        stage: str | None = None,
        aliases: list[str] | None = None,
        *,
        version: int | None = None,
    ) -> int:
        """Publish a fully written, fsync'd version folder from the staging area.

        ``staged`` holds the payload files that ``meta.files`` describes.  ``stage`` and
        ``aliases`` are claimed in the same publish.  ``version`` is kept when it was never
        used by this model (importers keep a version's number); otherwise the next free
        number is allocated.  Returns the version.
        """
        with self.lock.hold():
            return self._publish(name, staged, meta, stage, list(aliases or ()), wanted_version=version)

    def _publish(
        self,
        name: str,
        staged: Path,
        meta: records.VersionRecord,
        stage: str | None,
        aliases: list[str],
        wanted_version: int | None = None,
    ) -> int:
        """Under the lock: allocate the version, rename it into place, update the index."""
        self._ensure_model(name)
        refs = self.catalog.writer_refs(name)
        for alias in aliases:
            refuse_alias_twin(name, alias, refs.aliases)
        floor = max(refs.last_version, self.catalog.max_deleted(name))
        version = floor + 1
        if version > MAX_VERSION:
            raise CorruptRegistryError(
                f"model {name!r} has no version number left (its records say {floor} were used); run check",
                name=name, path=str(self.layout.model_file(name)),
            )  # fmt: skip
        if wanted_version is not None and self.version_number_taken(name, wanted_version) is None:
            version = wanted_version
        while files.exists(self.layout.version_dir(name, version)):
            version += 1
        meta.version = version
        now = utcnow()
        meta.stage, meta.aliases = None, {}
        meta.stage_seq, meta.alias_seq = 0, {}  # claims made in another registry (a bundle's) mean nothing here
        claim = self.catalog.take_claim(name, refs) if stage in EXCLUSIVE_STAGES or aliases else None
        if stage is not None:
            claims.set_stage(meta, stage, now, claim)
        for alias in aliases:
            claims.add_alias(meta, alias, now, cast(int, claim))
        written = files.write_json_new(staged / META_JSON, meta.to_json())
        final = self.layout.version_dir(name, version)
        # The rename is made durable by one fsync of the model folder, in ``finally`` after
        # the index update (index.json lives in the same folder, and is written without a
        # flush of its own: it is a cache that readers check against meta.json).  A save
        # that takes a stage or an alias from another version flushes the rename first,
        # before that version's meta.json gives it up, so a power cut can never leave the
        # stage or alias with neither.
        displaces = stage in EXCLUSIVE_STAGES or bool(aliases)
        try:
            files.publish_dir(staged, final, sync_parent=displaces)
        except OSError as exc:
            if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST) or not files.exists(final):
                raise
            raise ConcurrentWriteError(
                f"another writer published {name}/{version} at the same time: the write lock at "
                f"{self.layout.lock} did not hold (see docs/core.md on file systems); nothing was "
                "published by this call, and retrying takes the next number",
                name=name,
                version=version,
                path=str(self.layout.lock),
            ) from None
        record_fields.mark_checked(self.layout.meta_file(name, version), "meta", written)
        # The version is now complete.  What follows is derived from it (the run map, the
        # index, the previous holder's stage), so a failure here must not report the save
        # as failed: the next writer or check(repair=True) heals it.
        try:
            self.catalog.record_run(meta.run_id, name, version)
        except OSError as exc:  # a cache: runs:/ falls back to a scan, check(repair=True) rebuilds it
            self.logger.warning("could not record run %s of %s/%s (%s)", meta.run_id, name, version, exc)
        try:
            changed = self._displaced(name, refs, version, stage, aliases, now)
            self.catalog.record(name, [*changed, meta], refs, new=[version], durable=False)
        except Exception as exc:  # the version is published (see above): report, do not fail the save
            self.logger.warning(
                "published %s/%s but could not update the index (%s); the next write or "
                "check(repair=True) brings it up to date",
                name,
                version,
                exc,
            )
        finally:
            files.fsync_dir(final.parent)  # the rename and the index replace, durable together
        return version

    def version_number_taken(self, name: str, version: int) -> str | None:
        """Why ``version`` cannot be given to a new version of ``name``, or ``None`` when it
        was never used (importers keep a version's number when it is free)."""
        if files.exists(self.layout.version_dir(name, version)):
            return "already exists in this registry as a different version (another run id)"
        if version <= self.catalog.max_deleted(name):
            return "was used in this registry before and deleted (version numbers are never reused)"
        return None

    def _ensure_model(self, name: str) -> None:
        """Create the model's folder and record on first save (refusing case-only clashes)."""
        if files.exists(self.layout.model_file(name)):
            return
        clash = self.model_case_twin(name)
        if clash is not None:
            raise ModelExistsError(f"model name {name!r} differs only by case from existing model {clash!r}", name=name)
        files.ensure_dir(self.layout.model_dir(name))
        self.catalog.write_model_record(records.ModelRecord(name, created_at=utcnow()))

    # == resolve and read ======================================================================

    def resolve(self, model_identifier: str | ModelRef) -> tuple[str, int]:
        """``(name, version)`` an identifier points at, without loading anything."""
        ref = model_identifier if isinstance(model_identifier, ModelRef) else parse_identifier(model_identifier)
        if ref.kind == "run":
            return self._resolve_run(str(ref.value))
        assert ref.name is not None
        name = ref.name
        if ref.kind == "model":
            raise InvalidIdentifierError(
                f"{str(model_identifier)!r} names the model, not a version; use {name}/latest, {name}/VERSION, "
                f"{name}/STAGE or {name}@ALIAS",
                name=name,
            )
        self.require_model(name)
        if ref.kind == "version":
            version = int(ref.value)  # type: ignore[arg-type]
            if not files.exists(self.layout.meta_file(name, version)):
                raise VersionNotFoundError(f"model {name!r} has no version {version}", name=name, version=version)
            return name, version
        return name, self._resolve_pointer(name, ref)

    def _resolve_pointer(self, name: str, ref: ModelRef) -> int:
        refs = self.catalog.refs(name)
        found = self._point(name, refs, ref)
        if not self.catalog.agrees(name, ref.kind, ref.value, found):
            # The index is behind the versions' meta.json: a writer is between the two
            # right now (look again), or died there (answer from the folders, as
            # check(repair=True) would make the index say).
            fresh = self.catalog.refs(name)
            if fresh != refs:
                refs, found = fresh, self._point(name, fresh, ref)
            if not self.catalog.agrees(name, ref.kind, ref.value, found):
                self.logger.warning(
                    "the index of model %r is behind its versions (an interrupted write?); resolving from the "
                    "version folders - run check(repair=True) if this persists",
                    name,
                )
                refs, _ = self.catalog.rebuild(name, for_reader=True)
                found = self._point(name, refs, ref)
        if found is None:
            what = {"latest": "no versions", "alias": f"no alias {ref.value!r}"}.get(
                ref.kind, f"no version in stage {ref.value}"
            )
            raise VersionNotFoundError(f"model {name!r} has {what}", name=name)
        return found

    def _point(self, name: str, refs: Refs, ref: ModelRef) -> int | None:
        """The version ``refs`` name for a ``latest``, alias or stage reference."""
        if ref.kind == "latest":
            return refs.latest
        if ref.kind == "alias":
            return refs.aliases.get(str(ref.value))
        if ref.value in EXCLUSIVE_STAGES:
            return refs.stages.get(str(ref.value))
        # Archived: several versions may hold it; the most recently archived wins
        archived = [
            (e.get("stage_changed_at", ""), v)
            for v, e in self.catalog.versions(name, refs).items()
            if e.get("stage") == ref.value
        ]
        return max(archived)[1] if archived else None

    def _resolve_run(self, run_id: str) -> tuple[str, int]:
        found = self.catalog.run_target(run_id)
        if found is not None:
            return found
        for name in self.layout.model_names():  # the run map is a cache: fall back to a scan
            for version, entry in self.catalog.versions(name).items():
                if entry.get("run_id") == run_id:
                    return name, version
        raise ModelNotFoundError(f"no version was saved with run_id {run_id!r}")

    def require_model(self, name: str) -> None:
        if not files.exists(self.layout.model_file(name)):
            raise ModelNotFoundError(f"no model named {name!r} in {self.root}", name=name)

    def read_meta(self, name: str, version: int) -> records.VersionRecord:
        """A version's ``meta.json``; :class:`VersionNotFoundError` if a delete took it."""
        with self.deleted_meanwhile(name, version):
            return records.read_meta(self.layout, name, version)

    def load_target(self, model_identifier: str | ModelRef) -> tuple[str, int, records.VersionRecord]:
        """``(name, version, meta)`` of the version an identifier names.  A version named
        by its number is not looked up before its ``meta.json`` is read: the read itself
        says whether it exists (errors as :meth:`resolve` gives them)."""
        ref = model_identifier if isinstance(model_identifier, ModelRef) else parse_identifier(model_identifier)
        if ref.kind != "version":
            name, version = self.resolve(ref)
            return name, version, self.read_meta(name, version)
        name, version = cast(str, ref.name), cast(int, ref.value)
        self.require_model(name)
        with self.deleted_meanwhile(name, version):
            try:
                return name, version, records.read_meta(self.layout, name, version)
            except (FileNotFoundError, NotADirectoryError):
                raise VersionNotFoundError(
                    f"model {name!r} has no version {version}", name=name, version=version
                ) from None

    @contextmanager
    def local_folder(self, name: str, version: int, meta: records.VersionRecord) -> Iterator[Path]:
        """The folder holding the version's files (the object store's counterpart downloads)."""
        yield self.layout.version_dir(name, version)

    def folder_path(self, name: str, version: int, meta: records.VersionRecord) -> Path:
        """The version's folder, for tools that read its files directly."""
        return self.layout.version_dir(name, version)

    def existing_model_names(self) -> list[str]:
        """The folders that may be models."""
        return self.layout.candidate_model_dirs()

    def model_case_twin(self, name: str) -> str | None:
        """A model folder whose name differs from ``name`` only by case, or ``None`` (on a
        case-insensitive file system the two would be one folder)."""
        return case_twin(name, self.layout.candidate_model_dirs())

    def version_files(self, name: str, version: int) -> tuple[bytes, records.VersionRecord]:
        """A version's ``meta.json`` as stored, and parsed (a bundle carries these bytes)."""
        path = self.layout.meta_file(name, version)
        raw = files.read_stored(path)
        try:
            meta = json.loads(raw)
        except (ValueError, RecursionError) as exc:
            raise CorruptRegistryError(
                f"{path} is not valid JSON ({exc}); run check", name=name, version=version, path=str(path)
            ) from None
        return raw, records.parse_meta(meta, path, name=name, version=version)

    @contextmanager
    def deleted_meanwhile(self, name: str, version: int) -> Iterator[None]:
        """A read of a version that a delete takes away part-way (its files vanish, or are
        cut short by the removal) fails with whatever the reader met; if the version is
        gone, the answer is :class:`VersionNotFoundError`, never a false corruption report."""
        try:
            yield
        except Exception as exc:  # whatever the reader met: a vanished file, a cut-short one...
            if isinstance(exc, (PickleRefusedError, VersionNotFoundError)) or files.exists(
                self.layout.meta_file(name, version)
            ):
                raise
            raise VersionNotFoundError(
                f"{name}/{version} was deleted while it was being read", name=name, version=version
            ) from exc

    # == listing ===============================================================================

    def list_versions(self, name: str, wanted: dict[str, str] | None = None) -> list[dict[str, Any]]:
        """Every version of a model, newest first, keeping those whose tags include ``wanted``."""
        self.require_model(name)
        entries = self.catalog.versions(name)
        newest_first = [entries[v] for v in sorted(entries, reverse=True)]
        if wanted:
            newest_first = [e for e in newest_first if _has_tags(e.get("tags") or {}, wanted)]
        return [records.version_view(name, e) for e in newest_first]

    def model_summaries(self, wanted: dict[str, str] | None = None) -> list[dict[str, Any]]:
        """One summary per model with versions, keeping those whose (or whose versions')
        tags include ``wanted``."""
        out = []
        for name in self.layout.model_names():
            summary = self.model_summary(name, wanted or {})
            if summary is not None:
                out.append(summary)
        return out

    def model_summary(self, name: str, wanted: dict[str, str]) -> dict[str, Any] | None:
        """The model-level summary of ``name``; ``None`` when it has no versions or its
        tags do not match."""
        refs = self.catalog.refs(name)
        if refs.count == 0:
            return None
        try:
            record = self.catalog.model_record(name) or records.ModelRecord(name)
        except CorruptRegistryError:  # readers still list the model; check() reports it
            self.logger.warning("model record of %r is unreadable; run check(repair=True)", name)
            record = records.ModelRecord(name)
        model_tags = dict(record.tags)
        if (
            wanted
            and not _has_tags(model_tags, wanted)
            and not any(_has_tags(e.get("tags") or {}, wanted) for e in self.catalog.versions(name, refs).values())
        ):
            return None
        return {
            "name": name,
            "description": record.description,
            "tags": model_tags,
            "created_at": record.created_at,
            "updated_at": refs.updated_at or record.created_at,
            "versions": refs.count,
            "latest_version": refs.latest,
            "stages": dict(refs.stages),
            "aliases": dict(refs.aliases),
        }

    # == stages, aliases, tags, descriptions ===================================================

    def transition(
        self, name: str, version: int, target: str | None, *, archive_existing: bool
    ) -> records.VersionRecord:
        """Move ``name/version`` to ``target`` (caller holds the lock); returns its record."""
        refs = self.catalog.writer_refs(name)
        meta = records.read_meta(self.layout, name, version)
        if meta.stage != target:
            now = utcnow()
            # the claim's order number is taken (and written) first, then the promoted
            # version, then the versions it displaces: after a crash between those
            # writes, the newer claim wins everywhere (fsregistry.records.claims)
            claims.set_stage(meta, target, now, self.catalog.take_claim(name, refs))
            self._write_meta(meta)
            displaced = self._displaced(
                name, refs, version, target, [], now, demote_to="Archived" if archive_existing else None
            )
            self.catalog.record(name, [*displaced, meta], refs)
        return meta

    def set_alias(self, name: str, alias: str, version: int) -> None:
        """Point ``alias`` at ``name/version`` (caller holds the lock)."""
        refs = self.catalog.writer_refs(name)
        refuse_alias_twin(name, alias, refs.aliases)
        meta = records.read_meta(self.layout, name, version)
        if alias in meta.aliases:
            return
        now = utcnow()
        claims.add_alias(meta, alias, now, self.catalog.take_claim(name, refs))
        self._write_meta(meta)
        displaced = self._displaced(name, refs, version, None, [alias], now)
        self.catalog.record(name, [*displaced, meta], refs)

    def delete_alias(self, name: str, alias: str) -> None:
        """Remove ``alias`` (caller holds the lock)."""
        refs = self.catalog.writer_refs(name)
        if alias not in refs.aliases:
            raise VersionNotFoundError(f"model {name!r} has no alias {alias!r}", name=name)
        meta = records.read_meta(self.layout, name, refs.aliases[alias])
        self.catalog.take_claim(name, refs)  # marks the change under way until the index has it
        claims.drop_alias(meta, alias, utcnow())
        self._write_meta(meta)
        refs.aliases.pop(alias)
        self.catalog.record(name, [meta], refs)

    def update_model(self, name: str, change: Change) -> None:
        """Apply ``change`` to the model's own record (caller holds the lock)."""
        self.require_model(name)
        record = self.catalog.model_record(name) or records.ModelRecord(name)
        change(record)
        self.catalog.write_model_record(record)

    def update_version(self, name: str, version: int, change: Change) -> None:
        """Apply ``change`` to a version's ``meta.json``, then the index (caller holds the lock)."""
        refs = self.catalog.writer_refs(name)
        meta = records.read_meta(self.layout, name, version)
        change(meta)
        self._write_meta(meta)
        self.catalog.record(name, [meta], refs)

    def _displaced(
        self,
        name: str,
        refs: Refs,
        version: int,
        stage: str | None,
        aliases: list[str],
        now: str,
        demote_to: str | None = "Archived",
    ) -> list[records.VersionRecord]:
        """Take ``stage`` and ``aliases`` away from the versions that held them; return
        their rewritten records."""
        changed: dict[int, records.VersionRecord] = {}

        def other(v: int) -> records.VersionRecord:
            if v not in changed:
                changed[v] = records.read_meta(self.layout, name, v)
            return changed[v]

        holder = refs.stages.get(stage) if stage in EXCLUSIVE_STAGES else None
        if holder is not None and holder != version:
            claims.set_stage(other(holder), demote_to, now)
        for alias in aliases:
            owner = refs.aliases.get(alias)
            if owner is not None and owner != version:
                claims.drop_alias(other(owner), alias, now)
        for meta in changed.values():
            self._write_meta(meta)
        return list(changed.values())

    def _write_meta(self, meta: records.VersionRecord) -> None:
        path = self.layout.meta_file(meta.name, meta.version)
        record_fields.mark_checked(path, "meta", files.write_json_atomic(path, meta.to_json()))

    # == delete ================================================================================

    def delete(self, ref: ModelRef, force: bool) -> None:
        """Delete one version or, for a model reference, every version (caller holds the lock)."""
        if ref.kind == "model":
            assert ref.name is not None
            self.require_model(ref.name)
            self._delete_versions(ref.name, self.layout.version_numbers(ref.name), force, clear_model=True)
        else:
            name, version = self.resolve(ref)
            self._delete_versions(name, [version], force)

    def _delete_versions(self, name: str, versions: list[int], force: bool, *, clear_model: bool = False) -> None:
        """Under the lock: record the never-reuse floor in ``model.json``, take the folders
        out of sight, free their space, update the index.  ``clear_model`` (a whole model)
        also empties the model's tags and description, in the same write.

        The floor is recorded before any folder goes, so a number is always either a
        folder or recorded, whenever the process dies.  Each folder then leaves in one
        ``rename`` into the staging area (no half-deleted version is ever visible, and a
        rename needs no free space) and is removed.  On a full disk the record cannot be
        written, yet deleting is how space is freed: caches are removed to make room for
        it, first the run-map entries of these versions (which the delete removes anyway),
        then the model's index chunks (rebuilt by the next write, readers meanwhile read
        the folders).  An index that must be rebuilt first, and has no room to be, is
        rebuilt after the delete has freed space.  See docs/core.md, "A full disk".
        """
        try:
            refs: Refs | None = self.catalog.writer_refs(name)
        except OSError as exc:
            if not files.disk_full(exc):
                raise
            refs = None
        floor = refs.last_version if refs is not None else self.catalog.rebuild(name)[0].last_version
        metas = {v: records.salvaged_meta(self.layout, name, v) for v in versions}
        if not force:
            for version, meta in metas.items():
                # what the version holds once claims are settled (a claim that a newer one
                # superseded protects nothing); from its own meta.json when there is no index
                held = _held(refs, version) if refs is not None else _protection(meta)
                if held:
                    raise ProtectedVersionError(
                        f"{name}/{version} is protected ({held}); move the stage or alias "
                        "first, or pass force=True (CLI: --force)",
                        name=name,
                        version=version,
                    )
        record = self.catalog.model_record(name) or records.ModelRecord(name)
        record.max_deleted_version = max([record.max_deleted_version, floor, *versions])
        if clear_model:
            record.tags, record.description = {}, ""
        linked = self.layout.runs.is_symlink()  # never remove a file through a link (check reports it)
        run_files = [
            self.layout.run_file(m["run_id"])
            for m in metas.values()
            if _RUN_ID_RE.fullmatch(str(m.get("run_id"))) and not linked
        ]
        caches = iter([*run_files, *self.layout.chunk_files(name)])
        while True:
            try:
                self.catalog.write_model_record(record)
                break
            except OSError as exc:
                cache = next(caches, None) if files.disk_full(exc) else None
                if cache is None:
                    raise
                self.logger.warning("disk full: removing the cache %s to record the delete of %s", cache, name)
                self._remove_cache(cache)
        trash = []
        try:
            for version in versions:
                trash.append(self.layout.set_aside(name, version))
        finally:
            files.fsync_dir(self.layout.model_dir(name))  # out of sight for good before the space is freed
            for path in trash:
                files.remove_tree(path)
        # The versions are gone: what follows updates caches, so a failure is reported, not
        # raised (the caller would be told that a delete which happened did not).
        for path in run_files:
            self._remove_cache(path)
        try:
            if refs is None:
                self.catalog.writer_refs(name)  # the rebuild, now that there is room: without these versions
            else:
                self.catalog.forget(name, versions, refs)
        except (OSError, RegistryError) as exc:
            self.logger.warning(
                "deleted %s of %s but could not update the index (%s); the next write or "
                "check(repair=True) brings it up to date",
                ", ".join(map(str, versions)),
                name,
                exc,
            )

    def _remove_cache(self, path: Path) -> None:
        """Remove a cache file (a run-map entry, an index chunk); one that cannot be removed
        (a folder someone put in its place, a permission) is reported and left."""
        try:
            files.remove_file(path)
        except OSError as exc:
            self.logger.warning("could not remove the cache %s (%s); check reports it", path, exc)


# -- helpers -------------------------------------------------------------------------------------


def _protection(meta: dict[str, Any]) -> str:
    held = [f"stage {meta['stage']}"] if meta.get("stage") in EXCLUSIVE_STAGES else []
    held += [f"alias {alias!r}" for alias in sorted(meta.get("aliases") or {})]
    return ", ".join(held)


def _held(refs: Refs, version: int) -> str:
    held = [f"stage {stage}" for stage, holder in sorted(refs.stages.items()) if holder == version]
    held += [f"alias {alias!r}" for alias, holder in sorted(refs.aliases.items()) if holder == version]
    return ", ".join(held)


def _has_tags(tags: dict[str, Any], wanted: dict[str, str]) -> bool:
    return all(str(tags.get(k)) == v and k in tags for k, v in wanted.items())
