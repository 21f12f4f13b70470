"""Importing an audited bundle: plan every version (skip, keep its number, or renumber),
stage and verify its files, then publish under the registry's lock."""

from __future__ import annotations

import copy
import os
import tarfile
import uuid
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from .. import records
from ..errors import (
    FlavorError,
    ImportConflictError,
    InvalidMetadataError,
    ModelExistsError,
    ModelNotFoundError,
    RegistryError,
)
from ..flavors import get_flavor
from ..names import STAGES, case_twin, refuse_alias_twin, validate_tag
from ..records import VersionRecord, environment
from ..storage import files, hashing
from ..storage.layout import utcnow
from ..store import payload
from .archive import COPY_BLOCK, DEFAULT_MAX_MEMBER_SIZE, refuse
from .audit import Bundle, Incoming, ModelLevel, check_digest, opened

if TYPE_CHECKING:
    from ..store.opener import Store


@dataclass(frozen=True)
class ImportedVersion:
    """One version of a bundle after :func:`import_model`.

    ``status`` is ``"imported"`` (published now) or ``"present"`` (this registry already
    held the same run with the same files, so nothing was written).  ``version`` is its
    number in this store, ``original_version`` its number in the bundle.
    ``kept_model_fields`` names the model-level fields (``"description"``, ``"tags"``) that
    this registry's model already had, with other values than the bundle's, and kept.
    """

    name: str
    version: int
    original_version: int
    run_id: str
    status: Literal["imported", "present"]
    kept_model_fields: tuple[str, ...] = ()
    #: code a load of this version imports and calls by a stored name (a torch factory, a
    #: class outside its framework): run only by registries that allow pickle
    recorded_code: tuple[str, ...] = ()

    @property
    def uri(self) -> str:
        return f"models:/{self.name}/{self.version}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "original_version": self.original_version,
            "run_id": self.run_id,
            "status": self.status,
            "uri": self.uri,
            "kept_model_fields": list(self.kept_model_fields),
            "recorded_code": list(self.recorded_code),
        }


# == import: plan ==============================================================================


@dataclass(frozen=True)
class _Plan:
    """What to do with one incoming version: nothing, or publish it (at which number)."""

    incoming: Incoming
    present_as: tuple[str, int] | None = None
    keep_number: bool = True
    new_run_id: bool = False


def _plan(store: Store, incoming: Incoming, as_new_version: bool) -> _Plan:
    """Decide, from the registry as it is now, how ``incoming`` lands (or refuse)."""
    _refuse_case_clash(store, incoming.name)
    # The number first, the run second (no lock is held yet): a version another import
    # publishes between the two is found by its run (the run lookup falls back to the
    # version folders), never mistaken for a different version holding the number.
    taken = store.version_number_taken(incoming.name, incoming.version)
    found = _find_run(store, incoming.run_id)
    if found is not None:
        if _same_files(store, found, incoming):
            return _Plan(incoming, present_as=found)
        if not as_new_version:
            raise ImportConflictError(
                f"run {incoming.run_id} of {incoming.name}/{incoming.version} is already in this registry as "
                f"{found[0]}/{found[1]} with different files; pass as_new_version=True (CLI: --as-new-version) "
                "to import it as a new version",
                name=incoming.name,
                version=incoming.version,
            )
        return _Plan(incoming, keep_number=False, new_run_id=True)
    if taken is None:
        return _Plan(incoming)
    if not as_new_version:
        raise ImportConflictError(
            f"{incoming.name}/{incoming.version} {taken}; pass as_new_version=True "
            "(CLI: --as-new-version) to import it under the next free version number",
            name=incoming.name,
            version=incoming.version,
        )
    return _Plan(incoming, keep_number=False)


def _refuse_case_clash(store: Store, name: str) -> None:
    """Refuse early what publishing would refuse half-way through a multi-version bundle."""
    clash = store.model_case_twin(name)
    if clash is not None:
        raise ModelExistsError(
            f"the bundle's model {name!r} differs only by case from existing model {clash!r}", name=name
        )


def _refuse_case_twins(bundle: Bundle) -> None:
    """Two models of one bundle whose names differ only by case could never both land:
    the bundle is refused before anything is published."""
    names = sorted({v.name for v in bundle.versions})
    for name in names:
        twin = case_twin(name, names)
        if twin is not None:
            raise refuse(bundle.path, f"its models {name!r} and {twin!r} differ only by case")


def _has_model(store: Store, name: str) -> bool:
    try:
        store.require_model(name)
    except ModelNotFoundError:
        return False
    return True


def _refuse_alias_twins(store: Store, bundle: Bundle, metas: list[VersionRecord]) -> None:
    """With ``keep_stages``, an alias that differs only by case from one the model has, here
    or in another version of the bundle, is refused before anything is published (as
    ``set_alias`` refuses it)."""
    held: dict[str, set[str]] = {}
    for meta in metas:
        if not meta.aliases:
            continue
        if meta.name not in held:
            summary = store.model_summary(meta.name, {}) if _has_model(store, meta.name) else None
            held[meta.name] = set(summary["aliases"]) if summary else set()
        for alias in sorted(meta.aliases):
            refuse_alias_twin(meta.name, alias, held[meta.name])
            held[meta.name].add(alias)


def _find_run(store: Store, run_id: str) -> tuple[str, int] | None:
    try:
        return store.resolve(f"runs:/{run_id}/model")
    except ModelNotFoundError:
        return None


def _same_files(store: Store, found: tuple[str, int], incoming: Incoming) -> bool:
    """True when the registry's version holds exactly the files the bundle carries."""
    here = store.read_meta(*found).files
    digests = {k: v.get("sha256") for k, v in here.items()}
    return digests == {k: v["sha256"] for k, v in incoming.meta.files.items()}


# == import: write =============================================================================


def import_model(
    store: Store,
    path: str | os.PathLike[str],
    *,
    as_new_version: bool = False,
    keep_stages: bool = False,
    max_member_size: int = DEFAULT_MAX_MEMBER_SIZE,
) -> list[ImportedVersion]:
    """Import every version of the bundle at ``path`` into ``registry``.

    The whole bundle is audited and every file's SHA-256 verified before any version is
    published; a hostile or damaged bundle raises :class:`BundleError` and changes nothing.
    A version whose run is already here with the same files is skipped (``"present"``).  One
    whose number, or run id, is taken by something else raises :class:`ImportConflictError`
    (before anything is published) unless ``as_new_version=True``, which publishes it under
    the next free number (and a fresh run id when its run id was taken).  ``keep_stages=True``
    also applies the bundle's stages and aliases, displacing their current holders.  The
    model's own description and tags are applied where this registry's model has none; where
    it has other values, they are kept (logged, and named in ``kept_model_fields``).  An
    :class:`~fsregistry.errors.EnvironmentMismatchWarning` names the packages whose
    installed versions differ from those a version was saved with.
    """
    with opened(Path(path), max_member_size) as bundle:
        _refuse_case_twins(bundle)
        plans = [_plan(store, v, as_new_version) for v in bundle.versions]  # conflicts fail here, early
        results = _import_audited(store, bundle, plans, as_new_version, keep_stages)
    for incoming, result in zip(bundle.versions, results, strict=True):
        if result.status == "imported":
            _warn_environment(incoming)
    return results


def _import_audited(
    store: Store, bundle: Bundle, plans: list[_Plan], as_new_version: bool, keep_stages: bool
) -> list[ImportedVersion]:
    """Stage what needs importing (verifying every hash), then plan again and publish under
    the lock, so that a concurrent writer cannot slip in between the decision and the publish."""
    staged: dict[int, Path] = {}
    try:
        _stage(store, bundle, {i: p.incoming for i, p in enumerate(plans) if p.present_as is None}, staged)
        with store.write_lock():
            plans = [_plan(store, v, as_new_version) for v in bundle.versions]
            # a version removed meanwhile: stage it now
            missing = {i: p.incoming for i, p in enumerate(plans) if p.present_as is None and i not in staged}
            _stage(store, bundle, missing, staged)
            results = _publish_all(store, bundle, plans, staged, keep_stages)
            return _apply_model_levels(store, bundle, results)
    finally:
        for folder in staged.values():
            files.remove_tree(folder)


def _stage(store: Store, bundle: Bundle, wanted: dict[int, Incoming], staged: dict[int, Path]) -> None:
    """Extract the payload of each wanted version into a new staging folder of its own
    (added to ``staged``, which the caller removes), verifying every file.  Members are
    read in archive order, whatever the order of the versions: a compressed archive read
    backwards would be inflated again from its start for every step back."""
    for index in wanted:
        staged[index] = store.staging_dir("import")
    members = sorted(
        ((bundle.headers[member].offset_data, index, relative, member)
         for index, incoming in wanted.items() for relative, member in incoming.members.items()),
    )  # fmt: skip
    for _, index, relative, member in members:
        sealed = _extract_verified(bundle, member, staged[index] / relative)
        recorded: Mapping[str, Any] = wanted[index].meta.files.get(relative) or {}
        for algorithm in ("sha256", "blake3"):  # what meta.json records must be what arrived
            if algorithm in recorded and algorithm in sealed and recorded[algorithm] != sealed[algorithm]:
                raise refuse(
                    bundle.path,
                    f"{member}: its meta.json records {algorithm} {recorded[algorithm]}, but the file's is "
                    f"{sealed[algorithm]}",
                )


def _extract_verified(bundle: Bundle, member: str, target: Path) -> dict[str, Any]:
    """Copy one member to ``target`` while hashing it (the storage layer's sealed writer,
    as a save uses); refuse it unless it matches the manifest.  Returns its digests."""
    expected = bundle.manifest["files"][member]
    try:
        source = bundle.tar.extractfile(bundle.headers[member])
        assert source is not None  # regular files only, checked in the audit
        with source, hashing.HashingWriter(target) as out:
            for block in iter(lambda: source.read(COPY_BLOCK), b""):
                out.write(block)
            sealed = out.seal()
    except (tarfile.TarError, EOFError, zlib.error) as exc:
        raise refuse(bundle.path, f"member {member!r} cannot be read; the archive is truncated ({exc})") from None
    check_digest(bundle.path, member, sealed["sha256"], sealed["size"], expected)
    return sealed


def _publish_all(
    store: Store, bundle: Bundle, plans: list[_Plan], staged: dict[int, Path], keep_stages: bool
) -> list[ImportedVersion]:
    """Publish (caller holds the lock): numbers that are kept first, renumbered ones after."""
    results: dict[int, ImportedVersion] = {}
    order = sorted(range(len(plans)), key=lambda i: (not plans[i].keep_number, plans[i].incoming.version))
    metas = {i: _imported_meta(bundle, plans[i], keep_stages) for i in order if plans[i].present_as is None}
    for meta in metas.values():  # every record readable before any is published
        try:
            records.check_new(meta)
        except InvalidMetadataError as exc:
            raise refuse(bundle.path, str(exc)) from None
    _refuse_alias_twins(store, bundle, [metas[i] for i in order if i in metas])
    for index in order:
        plan = plans[index]
        incoming = plan.incoming
        code = _recorded_code(incoming.meta)
        if plan.present_as is not None:
            results[index] = ImportedVersion(
                *plan.present_as, incoming.version, incoming.run_id, "present", recorded_code=code
            )
            continue
        meta = metas[index]
        wanted = incoming.version if plan.keep_number else None
        stage, aliases = meta.stage, sorted(meta.aliases)
        version = store.publish(incoming.name, staged[index], meta, stage, aliases, version=wanted)
        results[index] = ImportedVersion(
            incoming.name, version, incoming.version, meta.run_id, "imported", recorded_code=code
        )
    return [results[i] for i in range(len(plans))]


def _recorded_code(meta: VersionRecord) -> tuple[str, ...]:
    """What loading this version would import and call by name (reported, never run here);
    nothing for a flavor this process does not know (its load would fail anyway)."""
    try:
        flavor = get_flavor(meta.flavor)
    except FlavorError:
        return ()
    return payload.recorded_code(meta, flavor)


def _apply_model_levels(store: Store, bundle: Bundle, results: list[ImportedVersion]) -> list[ImportedVersion]:
    """Give each model the bundle's description and tags where it has none (caller holds the
    lock); name in the results the fields it already had, with other values, and kept."""
    kept = {name: _apply_model_level(store, name, level) for name, level in bundle.models.items()}
    return [replace(r, kept_model_fields=kept.get(r.name, ())) for r in results]


def _apply_model_level(store: Store, name: str, level: ModelLevel) -> tuple[str, ...]:
    """The versions are published by now: a failure here is logged, not raised, and importing
    the bundle again applies what is missing."""
    try:
        here = store.model_summary(name, {}) or {"description": "", "tags": {}}
        if level.description and not here["description"]:
            store.update_model(name, lambda record: setattr(record, "description", level.description))
        if level.tags and not here["tags"]:
            tags = dict(validate_tag(key, value) for key, value in level.tags.items())
            store.update_model(name, lambda record: setattr(record, "tags", tags))
    except (RegistryError, OSError) as exc:
        store.logger.warning(
            "imported %r but could not apply the bundle's model description and tags (%s); "
            "import the bundle again to apply them",
            name,
            exc,
        )
        return ()
    pairs = (("description", here["description"], level.description), ("tags", here["tags"], level.tags))
    kept = tuple(field for field, mine, theirs in pairs if mine and theirs and mine != theirs)
    if kept:
        store.logger.info("model %r keeps this registry's %s, which differ from the bundle's", name, " and ".join(kept))
    return kept


def _imported_meta(bundle: Bundle, plan: _Plan, keep_stages: bool) -> VersionRecord:
    """The bundle's record, with state reset and where it came from recorded in ``source``."""
    incoming = plan.incoming
    meta = copy.deepcopy(incoming.meta)  # the audit's copy stays intact
    stage = meta.stage if meta.stage in STAGES else None
    aliases = sorted(meta.aliases)
    imported_at = utcnow()
    meta.source = {
        "imported_from": str(bundle.path.resolve()),
        "imported_at": imported_at,
        "bundle_sha256": bundle.sha256,
        "original_name": incoming.name,
        "original_version": incoming.version,
        "original_run_id": incoming.run_id,
        "original_stage": stage,
        "original_aliases": aliases,
        "original_stage_history": meta.stage_history,
        "original_alias_history": meta.alias_history,
        "exported_at": bundle.manifest.get("created_at"),
        "exported_by": bundle.manifest.get("created_by"),
        "previous": incoming.meta.source,
    }
    if plan.new_run_id:
        meta.run_id = uuid.uuid4().hex
    meta.stage_history, meta.alias_history = [], []  # this registry's own, from here on
    meta.stage = stage if keep_stages else None
    meta.aliases = dict.fromkeys(aliases, imported_at) if keep_stages else {}
    return meta


def _warn_environment(incoming: Incoming) -> None:
    environment.warn_on_mismatch(
        incoming.meta.environment,
        what=f"imported version {incoming.name}/{incoming.version}",
        stacklevel=5,
    )
