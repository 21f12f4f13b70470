"""``check`` and ``check(repair=True)``: reconcile the registry with its source of truth.

The truth is each version folder's ``meta.json`` (and the files it hashes) plus each
model's ``model.json``; everything else is derived.  ``check`` reports, and with
``repair=True`` fixes under the write lock:

* ``leftover_staging`` / ``leftover_temp`` - writes abandoned by a crashed process;
* ``stale_index`` - index entries that disagree with the folders (orphaned version
  folders, versions that are gone, wrong stages or aliases): the index is rebuilt;
* ``stage_conflict`` - two versions claiming one exclusive stage or alias after a crash
  between two writes: the latest claim is kept, the others are archived or unaliased;
* ``missing_model_record`` / ``corrupt_model_record`` and ``run_map`` - rewritten (a lost
  record's highest deleted number is recovered from the index and the folders);
* ``integrity`` / ``corrupt_meta`` / ``unexpected_file`` / ``stray_file`` - reported,
  never "fixed": a corrupt version must be restored from a backup or a bundle, or deleted,
  not silently replaced; a file the registry does not know (in a version folder, a model
  folder or the root) may be someone's, so it is never deleted.  Their ``detail`` says what
  to do instead;
* ``link`` - a symbolic link below the root: reported, never followed nor removed.

A repair that cannot write (a full disk, a read-only root) leaves its problem unfixed, says
in the ``detail`` which file it could not write and why, and the check goes on.
"""

from __future__ import annotations

import contextlib
import os
import re
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import records
from ..errors import (
    CorruptRegistryError,
    FormatVersionError,
    IntegrityError,
    InvalidArgumentError,
    InvalidNameError,
    RegistryError,
)
from ..names import EXCLUSIVE_STAGES, validate_model_name
from ..records import claims
from ..storage import files, hashing, processes
from ..storage.layout import HARMLESS_ENTRIES, INDEX_FILE, LOCK, MARKER, META_JSON, MODEL_FILE, Layout, utcnow
from ..store import index as idx
from ..store.catalog import Catalog, derive_refs
from ..store.objects import ObjectVersionStore
from ..store.versions import VersionStore
from .report import CheckReport, Problem

if TYPE_CHECKING:
    from ..store.opener import Store

_PID_RE = re.compile(r"\.(\d+)\.")
_CHUNK_RE = re.compile(r"index-\d+\.json")
#: the "run check" hint that lower layers append to their errors; check gives its own advice
_RUN_CHECK_HINT = re.compile(r"(;\s*run check\(.*\)|\s*\(run check\(\)[^)]*\))$")
#: the problems ``check(repair=True)`` fixes; every other kind is reported only
REPAIRABLE = frozenset(
    {
        "leftover_staging",
        "leftover_temp",
        "stale_index",
        "stage_conflict",
        "missing_model_record",
        "corrupt_model_record",
        "run_map",
        # object storage (fsregistry.maintenance.object_check)
        "abandoned_version",
        "leftover_data",
        "leftover_upload",
    }
)
#: what a person can do about a problem that repair leaves alone
_ADVICE = {
    "integrity": (
        "repair cannot rebuild a model file: restore the version folder from a backup, or delete "
        "the version (fsregistry delete {ident}) and import it again from a bundle (--as-new-version)"
    ),
    "corrupt_meta": (
        "repair cannot rebuild meta.json, the version's own record: restore the version folder from a "
        "backup, or delete the version (fsregistry delete {ident}) and import it again from a bundle "
        "(--as-new-version)"
    ),
    "missing_meta": (
        "repair cannot rebuild meta.json, the version's own record: restore it from a backup, or remove the "
        "folder {path} yourself (without meta.json nothing can load or delete this version)"
    ),
    "unexpected_file": "check leaves it alone: move it out of the version folder, or delete it",
    "stray_file": "check leaves it alone: move it out of the store, or delete it",
}


def check(store: Store, repair: bool = False, verify: bool = True, older_than: float | None = None) -> CheckReport:
    """Inspect every model, version, file and index of ``registry``; fix what is
    derivable when ``repair`` is true (holding the write lock while doing so).

    Leftovers younger than ``older_than`` seconds are kept: a writer may still be using
    them.  On a folder root the default is 0 (a staging folder whose process still runs is
    always kept); on object storage, where a live writer on another machine cannot be told
    from a dead one, the default is :data:`~fsregistry.maintenance.object_check.GRACE_SECONDS`.
    """
    if older_than is not None and (
        isinstance(older_than, bool) or not isinstance(older_than, (int, float)) or not older_than >= 0
    ):
        raise InvalidArgumentError(f"older_than must be a number of seconds >= 0, got {older_than!r}")
    if isinstance(store, ObjectVersionStore):
        from .object_check import check_objects

        return check_objects(store, repair=repair, verify=verify, older_than=older_than)
    assert isinstance(store, VersionStore), store
    report = CheckReport()
    guard = store.write_lock() if repair else contextlib.nullcontext()
    with guard:
        _check_staging(store.layout, report, repair, float(older_than or 0))
        _check_root(store.layout, report, repair)
        _check_links(store.layout, report)
        for name in store.layout.candidate_model_dirs():
            try:
                validate_model_name(name)
            except InvalidNameError:
                continue  # not ours: the registry never creates such a folder
            _ModelCheck(store, name, report, repair, verify).run()
        _check_run_map(store.layout, report, repair)
    return report


def _advised(detail: str, kind: str, *, ident: str = "", path: str = "") -> str:
    """``detail`` without a lower layer's "run check" hint, followed by what to do."""
    return f"{_RUN_CHECK_HINT.sub('', detail)}; {_ADVICE[kind].format(ident=ident, path=path)}"


def _pid_alive(entry_name: str) -> bool:
    match = _PID_RE.search(entry_name)
    if not match:
        return False
    return processes.alive(int(match.group(1)))


def _check_staging(layout: Layout, report: CheckReport, repair: bool, older_than: float) -> None:
    cutoff = time.time() - older_than
    for path in layout.staging_entries():
        if _pid_alive(path.name):
            continue  # a write in flight
        with contextlib.suppress(OSError):
            if older_than and path.lstat().st_mtime > cutoff:
                continue  # younger than the grace period the caller gave
        problem = report.add("leftover_staging", "abandoned by a process that no longer runs", path=str(path))
        if repair:
            files.remove_tree(path) if path.is_dir() else files.remove_file(path)
            problem.fixed = True


def _check_root(layout: Layout, report: CheckReport, repair: bool) -> None:
    """Files directly in the root; folders are models, the registry's own, or left alone."""
    for entry in files.list_dir(layout.root):
        if entry.is_dir() or entry.name in (MARKER, LOCK, *HARMLESS_ENTRIES) or _temp_file(entry, report, repair):
            continue
        report.add("stray_file", _advised(f"{entry.name} is not a file of the registry", "stray_file"), path=entry.path)


def _check_links(layout: Layout, report: CheckReport) -> None:
    """Every symbolic link below the root, reported and left alone (it may be someone's).
    Readers and writers refuse them; the folders they replace are skipped by the checks."""
    for link in layout.links():
        parts = link.relative_to(layout.root).parts
        in_model = not parts[0].startswith(".") and (len(parts) > 1 or link.is_dir())
        try:
            target = os.readlink(link)
        except OSError:
            target = "?"
        detail = (
            f"symbolic link to {target}; fsregistry never reads or writes through a link inside its root "
            "(it refuses this one): put the folder or file itself there, or remove the link"
        )
        report.add("link", detail, name=parts[0] if in_model else None, path=str(link))


def _attempt(problem: Problem, action: Any) -> bool:
    """Run a repair; when it cannot write (a full disk, a read-only root, a permission,
    a record it needs that is unreadable), say so in the problem, naming the file, and
    let the check go on."""
    try:
        action()
    except (OSError, RegistryError) as exc:
        where = exc.path if isinstance(exc, RegistryError) else exc.filename
        reason = str(exc) if isinstance(exc, RegistryError) else exc.strerror or str(exc)
        problem.detail += f"; repair could not write {where or problem.path or 'a file'}: {reason}"
        return False
    return True


def _temp_file(entry: os.DirEntry[str], report: CheckReport, repair: bool, name: str | None = None) -> bool:
    """True for a temporary file; one whose writer is gone is reported (and, with repair,
    removed).  A link with such a name is not the registry's: :func:`_check_links`
    reports it, and it is left alone."""
    if not entry.name.endswith(files.TEMP_SUFFIX):
        return False
    if entry.is_symlink():
        return True
    if not _pid_alive(entry.name):
        problem = report.add("leftover_temp", "temporary file of an interrupted write", name=name, path=entry.path)
        if repair:
            files.remove_file(Path(entry.path))
            problem.fixed = True
    return True


def _check_run_map(layout: Layout, report: CheckReport, repair: bool) -> None:
    catalog = Catalog(layout)
    for path in list(layout.run_entries()):
        if path.is_dir():  # not an entry the registry made: someone's, left alone
            report.add(
                "stray_file", _advised(f"{path.name} is a folder, not a run-map entry", "stray_file"), path=str(path)
            )
            continue
        if catalog.run_target(path.stem) is None:  # malformed, or names no version of this run
            problem = report.add("run_map", f"run {path.stem} points at no version", path=str(path))
            if repair:
                files.remove_file(path)
                problem.fixed = True


class _ModelCheck:
    """The checks of one model folder."""

    def __init__(self, store: VersionStore, name: str, report: CheckReport, repair: bool, verify: bool):
        self.store = store
        self.layout = store.layout
        self.catalog = store.catalog
        self.name = name
        self.report = report
        self.repair = repair
        self.verify = verify
        self.metas: dict[int, records.VersionRecord] = {}

    def run(self) -> None:
        versions = self.layout.version_numbers(self.name)
        has_record = files.exists(self.layout.model_file(self.name))
        if not versions and not has_record:
            return  # a folder that is not a model
        self.report.models_checked += 1
        self._model_record(has_record)
        self._model_folder()
        for version in versions:
            self._version(version)
        self._conflicts()
        self._index()
        self._runs()

    def _fix(self, problem: Problem, action: Any) -> None:
        if self.repair and _attempt(problem, action):
            problem.fixed = True

    def _model_record(self, has_record: bool) -> None:
        if has_record:
            try:
                self.catalog.model_record(self.name)
                return
            except CorruptRegistryError as exc:
                problem = self.report.add(
                    "corrupt_model_record", str(exc), name=self.name, path=str(self.layout.model_file(self.name))
                )
        else:
            problem = self.report.add("missing_model_record", "model.json is missing", name=self.name)
        # What survives of the record is kept, its highest deleted number above all.  Where
        # that is lost, the index and the folders give a floor that keeps every number seen
        # so far from being reused.
        kept = self.catalog.salvaged_model_record(self.name)
        deleted = kept.get("max_deleted_version")
        if deleted is None:
            refs = idx.read_refs(self.layout, self.name)
            deleted = refs.last_version if refs else 0
        record = records.ModelRecord.from_json(
            {
                **kept,
                "name": self.name,
                "created_at": kept.get("created_at") or utcnow(),
                "max_deleted_version": max([deleted, *self.layout.version_numbers(self.name)]),
            }
        )
        self._fix(problem, lambda: self.catalog.write_model_record(record))

    def _model_folder(self) -> None:
        """Leftover temporary files, and entries that are none of the registry's (reported only)."""
        for entry in files.list_dir(self.layout.model_dir(self.name)):
            if _temp_file(entry, self.report, self.repair, self.name) or _is_model_entry(entry):
                continue
            detail = _advised(f"{entry.name} is not a file of the registry", "stray_file")
            self.report.add("stray_file", detail, name=self.name, path=entry.path)

    def _version(self, version: int) -> None:
        self.report.versions_checked += 1
        vdir = self.layout.version_dir(self.name, version)
        try:
            meta = records.read_meta(self.layout, self.name, version)  # every field checked
        except (FileNotFoundError, CorruptRegistryError, FormatVersionError) as exc:
            # a newer format is reported too (by a check that cannot judge it), never raised
            path = str(vdir / META_JSON)
            missing = isinstance(exc, FileNotFoundError)
            detail = "meta.json is missing" if missing else str(exc)
            advice = "missing_meta" if missing else "corrupt_meta"
            detail = _advised(detail, advice, ident=f"{self.name}/{version}", path=str(vdir))
            self.report.add("corrupt_meta", detail, name=self.name, version=version, path=path)
            return
        self.metas[version] = meta
        recorded = meta.files
        for entry in files.list_dir(vdir):
            if _temp_file(entry, self.report, self.repair, self.name) or entry.name in (*recorded, META_JSON):
                continue
            detail = _advised(f"{entry.name} is not recorded in meta.json", "unexpected_file")
            self.report.add("unexpected_file", detail, name=self.name, version=version, path=entry.path)
        if self.verify:
            for filename, expected in recorded.items():
                self._verify(vdir / filename, expected, version)

    def _verify(self, path: Path, expected: Mapping[str, Any], version: int) -> None:
        try:
            hashing.verify_file(path, expected, name=self.name, version=version)
            self.report.files_verified += 1
        except IntegrityError as exc:
            detail = _advised(str(exc), "integrity", ident=f"{self.name}/{version}")
            self.report.add("integrity", detail, name=self.name, version=version, path=str(path))

    def _conflicts(self) -> None:
        """Versions whose meta claims an exclusive stage or alias that a later claim holds."""
        entries = {v: records.summary(m) for v, m in self.metas.items()}
        winners = derive_refs(self.name, entries)
        for version, meta in self.metas.items():
            stage = meta.stage
            if stage in EXCLUSIVE_STAGES and winners.stages.get(stage) != version:
                problem = self.report.add(
                    "stage_conflict",
                    f"also claims {stage}, held by version {winners.stages.get(stage)}",
                    name=self.name,
                    version=version,
                )
                self._fix(problem, lambda m=meta: self._archive(m))
            lost = [a for a in meta.aliases if winners.aliases.get(a) != version]
            if lost:
                problem = self.report.add(
                    "stage_conflict", f"also claims aliases {lost}", name=self.name, version=version
                )
                self._fix(problem, lambda m=meta, lost=lost: self._unalias(m, lost))

    def _archive(self, meta: records.VersionRecord) -> None:
        claims.set_stage(meta, "Archived", utcnow())
        files.write_json_atomic(self.layout.meta_file(self.name, meta.version), meta.to_json())

    def _unalias(self, meta: records.VersionRecord, lost: list[str]) -> None:
        for alias in lost:
            claims.drop_alias(meta, alias)
        files.write_json_atomic(self.layout.meta_file(self.name, meta.version), meta.to_json())

    def _index(self) -> None:
        """Compare the index with what the truth implies.  Its ``last_version`` may not
        exceed the highest number ever used: the highest version folder, or ``model.json``'s
        ``max_deleted_version`` (a delete raises it before removing a folder).  A higher one
        is reported and repaired down to that, as it would make the next save 10**12 + 1;
        only while ``model.json`` has lost that field is the index trusted as the last
        record of deleted numbers.  The cache is read before the truth, so a delete running during a
        check without the lock cannot make a real number look implausible."""
        entries = {v: records.summary(m) for v, m in self.metas.items()}
        try:
            current, unreadable = idx.load_refs(self.layout, self.name), ""
        except RegistryError as exc:  # malformed, or a newer format: rewritten by repair
            current, unreadable = None, str(exc)
        folders = self.layout.version_numbers(self.name)
        try:
            floor = max([self.catalog.max_deleted(self.name), *folders])
        except CorruptRegistryError:  # reported (and, with repair, rewritten) by _model_record
            deleted = self.catalog.salvaged_model_record(self.name).get("max_deleted_version")
            floor = max([deleted if deleted is not None else current.last_version if current else 0, *folders])
        expected = derive_refs(self.name, entries, floor)
        indexed = self.catalog.indexed_versions(self.name, current) if current is not None else None
        if current is not None and indexed is None:
            unreadable = self._chunk_problem()
        differences = _index_differences(current, indexed, expected, entries, unreadable)
        if not differences:
            return
        if current is not None:  # an order number once handed out is never handed out again
            expected.claim_seq = expected.applied_seq = max(expected.claim_seq, current.claim_seq)
        problem = self.report.add(
            "stale_index", "; ".join(differences), name=self.name, path=str(self.layout.index_file(self.name))
        )
        self._fix(problem, lambda: self._rewrite_index(expected, entries))

    def _rewrite_index(self, refs: idx.Refs, entries: dict[int, dict[str, Any]]) -> None:
        idx.write_all_chunks(self.layout, self.name, entries)
        idx.write_refs(self.layout, refs)

    def _chunk_problem(self) -> str:
        """What is wrong with the first unreadable chunk file (its path and field)."""
        for chunk in idx.chunk_numbers(self.layout, self.name):
            try:
                idx.load_chunk(self.layout, self.name, chunk)
            except RegistryError as exc:
                return str(exc)
        return ""

    def _runs(self) -> None:
        for version, meta in self.metas.items():
            path = self.layout.run_file(meta.run_id)
            entry = files.read_json_or_none(path)
            if entry == {"name": self.name, "version": version}:
                continue
            problem = self.report.add(
                "run_map",
                f"run {meta.run_id} is not mapped to this version",
                name=self.name,
                version=version,
                path=str(path),
            )
            self._fix(
                problem,
                lambda run_id=meta.run_id, v=version: self.catalog.record_run(run_id, self.name, v, durable=True),
            )


def _is_model_entry(entry: os.DirEntry[str]) -> bool:
    """A version folder, the model record, or an index file: what a model folder holds."""
    if entry.is_dir():
        return entry.name.isdigit()
    return entry.name in (MODEL_FILE, INDEX_FILE, *HARMLESS_ENTRIES) or bool(_CHUNK_RE.fullmatch(entry.name))


def _index_differences(
    current: idx.Refs | None,
    indexed: dict[int, dict[str, Any]] | None,
    expected: idx.Refs,
    entries: dict[int, dict[str, Any]],
    unreadable: str = "",
) -> list[str]:
    if current is None:
        return [_RUN_CHECK_HINT.sub("", unreadable) or "index.json is missing or unreadable"]
    if indexed is None:
        return [_RUN_CHECK_HINT.sub("", unreadable) or "a versions index chunk is unreadable"]
    out = []
    if current.last_version > expected.last_version:
        out.append(
            f"last_version is {current.last_version}, above the highest version number ever used "
            f"({expected.last_version}: the highest version folder or model.json's max_deleted_version)"
        )
    orphans = sorted(set(entries) - set(indexed))
    gone = sorted(set(indexed) - set(entries))
    if orphans:
        out.append(f"version folders not in the index: {orphans}")
    if gone:
        out.append(f"indexed versions with no folder: {gone}")
    stale = sorted(v for v in set(entries) & set(indexed) if entries[v] != indexed[v])
    if stale:
        out.append(f"index entries that differ from meta.json: {stale}")
    for field_name in ("latest", "count", "stages", "aliases"):
        if getattr(current, field_name) != getattr(expected, field_name):
            out.append(f"{field_name} is {getattr(current, field_name)}, expected {getattr(expected, field_name)}")
    if current.claim_seq < expected.claim_seq:
        out.append(f"claim_seq is {current.claim_seq}, below the newest claim's {expected.claim_seq}")
    elif current.claims_pending:
        out.append("a stage or alias change was left unfinished")
    return out
