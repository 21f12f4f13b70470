"""``CustomModelRegistry``: the file-system registry.

How a save stays safe (see ``DESIGN.md``, invariants 1-3):

1. the model, the preprocessor and ``meta.json`` are written into a unique folder in
   ``<root>/.staging`` and fsync'd - no lock held, so slow serialisation blocks nobody;
2. under the write lock the next version number is allocated, the folder is renamed to
   ``<root>/<NAME>/<VERSION>`` in one step, and the index is updated last;
3. whatever fails, the staging folder is removed in ``finally``.

A reader never locks: it reads the small refs file, then the version's ``meta.json``,
then the payload, verifying SHA-256 hashes as it loads.
"""

from __future__ import annotations

import errno
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

from . import claims, environment, payload, pickling, records
from .base import BaseModelRegistry
from .catalog import Catalog
from .config import resolve_root
from .errors import (
    ConcurrentWriteError,
    CorruptRegistryError,
    InvalidArgumentError,
    InvalidIdentifierError,
    InvalidMetadataError,
    ModelExistsError,
    ModelNotFoundError,
    PickleRefusedError,
    ProtectedVersionError,
    VersionNotFoundError,
)
from .flavors import LoadOptions, detect_flavor, get_flavor
from .identifiers import ModelRef, model_uri, parse_identifier
from .names import (
    EXCLUSIVE_STAGES,
    normalize_stage,
    require_aliases,
    require_flag,
    validate_alias,
    validate_model_name,
    validate_tag,
    validate_tags,
)
from .signature import Signature, infer_signature
from .storage import files
from .storage.index import Refs
from .storage.layout import META_JSON, Layout, utcnow
from .storage.lock import RegistryLock

_RUN_ID_RE = re.compile(r"[0-9a-f]{8,64}")


class CustomModelRegistry(BaseModelRegistry):
    """A model registry in one directory tree.

    ``CustomModelRegistry("/data/registry")``, or the seed's
    ``CustomModelRegistry(config, app_logger, error_handler)`` where ``config`` names the
    root (see :func:`fsregistry.config.resolve_root`), or no argument with
    ``FSREGISTRY_ROOT`` set.  The root is created on first use.

    ``allow_pickle=False`` (or ``FSREGISTRY_ALLOW_PICKLE=0``) refuses every load that would
    unpickle; ``verify=False`` skips SHA-256 checks on load; ``lock_timeout`` bounds how
    long a writer waits for another (seconds).
    """

    def __init__(
        self,
        root_or_config: Any = None,
        app_logger: Any = None,
        error_handler: Any = None,
        *,
        allow_pickle: bool | None = None,
        verify: bool = True,
        lock_timeout: float = 60.0,
        create: bool = True,
    ) -> None:
        super().__init__(root_or_config, app_logger, error_handler)
        self.root = resolve_root(root_or_config)
        explicit = None if allow_pickle is None else require_flag(allow_pickle, "allow_pickle")
        self.allow_pickle = pickling.allow_pickle_default(explicit)
        self.verify = require_flag(verify, "verify")
        if isinstance(lock_timeout, bool) or not isinstance(lock_timeout, (int, float)) or not lock_timeout >= 0:
            raise InvalidArgumentError(f"lock_timeout must be a number of seconds >= 0, got {lock_timeout!r}")
        self.layout = Layout(self.root)
        self.layout.initialize(create=require_flag(create, "create"))
        self.catalog = Catalog(self.layout)
        self._lock = RegistryLock(self.layout.lock, timeout=float(lock_timeout))

    def __repr__(self) -> str:
        return f"CustomModelRegistry({str(self.root)!r})"

    @contextmanager
    def _errors(self, context: str) -> Iterator[None]:
        """Report every error to the seed-style error handler, then let it propagate."""
        try:
            yield
        except Exception as exc:
            self._notify_error(exc, context)
            raise

    def write_lock(self) -> Any:
        """The registry's write lock as a context manager (for extensions such as import)."""
        return self._lock.hold()

    # == save ==================================================================================

    def save_model(
        self,
        model: Any,
        model_name: str,
        preprocessor_artifact: Any = None,
        signature: Any = None,
        input_example: Any = None,
        metadata: dict[str, Any] | None = None,
        tags: dict[str, Any] | None = None,
        *,
        params: dict[str, Any] | None = None,
        metrics: dict[str, Any] | None = None,
        description: str | None = None,
        stage: str | None = None,
        aliases: list[str] | tuple[str, ...] | None = None,
        flavor: str | None = None,
        **flavor_kwargs: Any,
    ) -> str:
        """Store ``model`` (and its fitted preprocessor) as the next version of ``model_name``.

        ``metadata`` is the seed's free-form dict: floats become metrics, everything else
        params (``params=`` and ``metrics=`` set them explicitly).  ``signature`` is a
        :class:`~fsregistry.signature.Signature` (or its dict), else inferred from
        ``input_example``.  ``stage`` and ``aliases`` are applied in the same publish.
        ``flavor`` forces a flavor by name; other keyword arguments go to the flavor's save
        (e.g. ``torch_format=``, ``model_factory=``).  Returns ``models:/NAME/VERSION``.
        """
        with self._errors(f"save_model({model_name!r})"):
            name = validate_model_name(model_name)
            meta = self._describe(
                model,
                name,
                preprocessor_artifact,
                signature,
                input_example,
                metadata,
                tags,
                params,
                metrics,
                description,
            )
            wanted_stage = normalize_stage(stage)
            wanted_aliases = require_aliases(aliases)
            if model is None:
                raise InvalidArgumentError("model is None: pass the trained model to save", name=name)
            chosen = get_flavor(flavor) if flavor else detect_flavor(model)
            staged = files.make_temp_dir(self.layout.staging, "save")
            try:
                payload.write(staged, model, chosen, preprocessor_artifact, meta, **flavor_kwargs)
                with self._lock.hold():
                    version = self._publish(name, staged, meta, wanted_stage, wanted_aliases)
            finally:
                files.remove_tree(staged)
            self.logger.info("saved %s (flavor %s)", model_uri(name, version), chosen.name)
            return model_uri(name, version)

    def _describe(
        self,
        model: Any,
        name: str,
        preprocessor_artifact: Any,
        signature: Any,
        input_example: Any,
        metadata: dict[str, Any] | None,
        tags: dict[str, Any] | None,
        params: dict[str, Any] | None,
        metrics: dict[str, Any] | None,
        description: str | None,
    ) -> dict[str, Any]:
        """Validate everything the user gave and build the version's record (no I/O)."""
        split_params, split_metrics = records.split_metadata(metadata)
        split_params.update(records.to_jsonable(params or {}, "params"))
        split_metrics.update(records.check_metrics(metrics))
        if description is not None and not isinstance(description, str):
            raise InvalidMetadataError("description must be a string")
        return records.new_meta(
            name=name,
            run_id=uuid.uuid4().hex,
            created_at=utcnow(),
            params=split_params,
            metrics=split_metrics,
            tags=validate_tags(tags),
            description=description or "",
            signature=_signature_dict(signature, input_example),
            input_example=records.encode_example(input_example),
        )

    def publish_staged(self, name: str, staged: Path, meta: dict[str, Any], *, version: int | None = None) -> int:
        """Publish a fully written, fsync'd version folder (for importers).

        ``staged`` must live in this registry's staging area and hold the payload files
        that ``meta["files"]`` describes.  ``version`` is kept when it was never used by
        this model; otherwise the next free number is allocated.  Returns the version.
        """
        name = validate_model_name(name)
        with self._lock.hold():
            return self._publish(
                name, staged, meta, meta.get("stage"), sorted(meta.get("aliases") or {}), wanted_version=version
            )

    def staging_dir(self, purpose: str) -> Path:
        """A new folder in the staging area (same file system as the root) for a write."""
        return files.make_temp_dir(self.layout.staging, purpose)

    def _publish(
        self,
        name: str,
        staged: Path,
        meta: dict[str, Any],
        stage: str | None,
        aliases: list[str],
        wanted_version: int | None = None,
    ) -> int:
        """Under the lock: allocate the version, rename it into place, update the index."""
        self._ensure_model(name)
        refs = self.catalog.writer_refs(name)
        floor = max(refs.last_version, self.catalog.max_deleted(name))
        version = floor + 1
        if wanted_version is not None and self.version_number_taken(name, wanted_version) is None:
            version = wanted_version
        while files.exists(self.layout.version_dir(name, version)):
            version += 1
        meta["version"] = version
        now = utcnow()
        meta["stage"] = None
        meta["aliases"] = {}
        meta.pop("stage_seq", None)  # claims made in another registry (a bundle's) mean nothing here
        meta.pop("alias_seq", None)
        claim = self.catalog.take_claim(name, refs) if stage in EXCLUSIVE_STAGES or aliases else None
        if stage is not None:
            claims.set_stage(meta, stage, now, claim)
        for alias in aliases:
            claims.add_alias(meta, alias, now, cast(int, claim))
        files.write_json_new(staged / META_JSON, meta)
        final = self.layout.version_dir(name, version)
        # The rename is made durable by the fsync of the model folder that ends the index
        # update below (index.json lives in the same folder), or, if that update fails, in
        # ``finally``: one disk flush instead of two.  A save that takes a stage or an alias
        # from another version flushes the rename first, before that version's meta.json
        # gives it up, so a power cut can never leave the stage or alias with neither.
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
        indexed = False
        # The version is now complete.  What follows is derived from it (the run map, the
        # index, the previous holder's stage), so a failure here must not report the save
        # as failed: the next writer or check(repair=True) heals it.
        try:
            self.catalog.record_run(meta["run_id"], name, version)
        except OSError as exc:  # a cache: runs:/ falls back to a scan, check(repair=True) rebuilds it
            self.logger.warning("could not record run %s of %s/%s (%s)", meta["run_id"], name, version, exc)
        try:
            changed = self._displaced(name, refs, version, stage, aliases, now)
            self.catalog.record(name, [*changed, meta], refs, new=[version])
            indexed = True
        except Exception as exc:  # the version is published (see above): report, do not fail the save
            self.logger.warning(
                "published %s/%s but could not update the index (%s); the next write or "
                "check(repair=True) brings it up to date",
                name,
                version,
                exc,
            )
        finally:
            if not indexed:
                files.fsync_dir(final.parent)
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
        clash = [n for n in self.layout.candidate_model_dirs() if n.lower() == name.lower() and n != name]
        if clash:
            raise ModelExistsError(
                f"model name {name!r} differs only by case from existing model {clash[0]!r}", name=name
            )
        files.ensure_dir(self.layout.model_dir(name))
        self.catalog.write_model_record(
            name, {"name": name, "created_at": utcnow(), "description": "", "tags": {}, "max_deleted_version": 0}
        )

    # == load ==================================================================================

    def load_model(
        self,
        model_identifier: str,
        *,
        verify: bool | None = None,
        device: str | None = None,
        model_factory: Any = None,
        with_preprocessor: bool = True,
    ) -> dict[str, Any]:
        """Load the version an identifier names: the model, its preprocessor artifact, and
        everything :meth:`get_model_version` returns.

        Hashes are verified unless ``verify=False`` (or the registry's ``verify``).  Pickle
        files are refused before they are opened when the registry refuses pickle.
        ``device``/``model_factory`` are for PyTorch models.
        """
        with self._errors(f"load_model({model_identifier!r})"):
            verify = self.verify if verify is None else require_flag(verify, "verify")
            with_preprocessor = require_flag(with_preprocessor, "with_preprocessor")
            name, version = self.resolve(model_identifier)
            with self._deleted_meanwhile(name, version):
                meta = records.read_meta(self.layout, name, version)
                flavor = get_flavor(meta["flavor"])
                folder = self.layout.version_dir(name, version)
                payload.refuse_pickle(
                    folder, meta, flavor, allow_pickle=self.allow_pickle, with_preprocessor=with_preprocessor
                )
                environment.warn_on_mismatch(
                    meta.get("environment") or {}, what=f"model {name}/{version}", stacklevel=4
                )
                model, artifact = payload.read(
                    folder,
                    meta,
                    flavor,
                    LoadOptions(device, model_factory, run_recorded_code=self.allow_pickle),
                    verify=verify,
                    with_preprocessor=with_preprocessor,
                )
            data = records.version_info(meta)
            data["model"] = model
            data["preprocessor_artifact"] = artifact
            return data

    @contextmanager
    def _deleted_meanwhile(self, name: str, version: int) -> Iterator[None]:
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

    def get_model_by_stage(self, model_name: str, stage: str) -> dict[str, Any]:
        """Load the version of ``model_name`` that holds ``stage`` (case-insensitive)."""
        canonical = normalize_stage(stage)
        if canonical is None:
            raise InvalidIdentifierError("no single version holds stage None; name a version instead", name=model_name)
        return self.load_model(f"models:/{validate_model_name(model_name)}/{canonical}")

    # == resolution and metadata ===============================================================

    def resolve(self, model_identifier: str | ModelRef) -> tuple[str, int]:
        """``(name, version)`` an identifier points at, without loading anything."""
        ref = model_identifier if isinstance(model_identifier, ModelRef) else parse_identifier(model_identifier)
        if ref.kind == "run":
            return self._resolve_run(str(ref.value))
        assert ref.name is not None
        name = ref.name
        if ref.kind == "model":
            raise InvalidIdentifierError(
                f"{model_identifier!r} names the model, not a version; use {name}/latest, {name}/VERSION, "
                f"{name}/STAGE or {name}@ALIAS",
                name=name,
            )
        self._require_model(name)
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

    def _require_model(self, name: str) -> None:
        if not files.exists(self.layout.model_file(name)):
            raise ModelNotFoundError(f"no model named {name!r} in {self.root}", name=name)

    def get_model_version(self, model_identifier: str) -> dict[str, Any]:
        """Metadata of one version (stage, aliases, tags, metrics, signature, files,
        environment, lineage) without loading the model."""
        with self._errors(f"get_model_version({model_identifier!r})"):
            name, version = self.resolve(model_identifier)
            with self._deleted_meanwhile(name, version):
                return records.version_info(records.read_meta(self.layout, name, version))

    def version_path(self, model_identifier: str) -> Path:
        """Folder of the version an identifier names (for tools that read files directly)."""
        name, version = self.resolve(model_identifier)
        return self.layout.version_dir(name, version)

    # == listing ===============================================================================

    def list_models(self, model_name: str | None = None, tags: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Without ``model_name``: one dict per model (name, description, tags, versions,
        latest_version, stages, aliases, created_at).  With it: that model's versions, newest
        first.  ``tags`` keeps only entries whose tags include every given pair (a model
        matches through its own tags or any of its versions')."""
        with self._errors("list_models"):
            wanted = validate_tags(tags)
            if model_name is not None:
                return self.list_versions(model_name, tags=wanted)
            out = []
            for name in self.layout.model_names():
                summary = self._model_summary(name, wanted)
                if summary is not None:
                    out.append(summary)
            return out

    def list_versions(self, model_name: str, tags: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Every version of a model, newest first, optionally filtered by version tags."""
        name = validate_model_name(model_name)
        self._require_model(name)
        wanted = validate_tags(tags)
        entries = self.catalog.versions(name)
        newest_first = [entries[v] for v in sorted(entries, reverse=True)]
        if wanted:
            newest_first = [e for e in newest_first if _has_tags(e.get("tags") or {}, wanted)]
        return [records.version_view(name, e) for e in newest_first]

    def _model_summary(self, name: str, wanted: dict[str, str]) -> dict[str, Any] | None:
        refs = self.catalog.refs(name)
        if refs.count == 0:
            return None
        try:
            record = self.catalog.model_record(name) or {}
        except CorruptRegistryError:  # readers still list the model; check() reports it
            self.logger.warning("model record of %r is unreadable; run check(repair=True)", name)
            record = {}
        model_tags = dict(record.get("tags") or {})
        if (
            wanted
            and not _has_tags(model_tags, wanted)
            and not any(_has_tags(e.get("tags") or {}, wanted) for e in self.catalog.versions(name, refs).values())
        ):
            return None
        return {
            "name": name,
            "description": record.get("description") or "",
            "tags": model_tags,
            "created_at": record.get("created_at"),
            "updated_at": refs.updated_at or record.get("created_at"),
            "versions": refs.count,
            "latest_version": refs.latest,
            "stages": dict(refs.stages),
            "aliases": dict(refs.aliases),
        }

    def get_model(self, model_name: str) -> dict[str, Any]:
        """The model-level summary of one model (as in :meth:`list_models`)."""
        name = validate_model_name(model_name)
        self._require_model(name)
        summary = self._model_summary(name, {})
        if summary is None:
            raise ModelNotFoundError(f"model {name!r} has no versions", name=name)
        return summary

    # == stages, aliases, tags, descriptions ===================================================

    def transition_model_stage(
        self, model_identifier: str, stage: str | None, archive_existing: bool = True
    ) -> dict[str, Any]:
        """Move a version to ``stage`` (None/Development, Staging, Production, Archived).

        At most one version holds Staging and one Production: the previous holder is moved
        to Archived, or back to None when ``archive_existing=False``.  Returns the version's
        updated info.
        """
        with self._errors(f"transition_model_stage({model_identifier!r}, {stage!r})"):
            target = normalize_stage(stage)
            archive_existing = require_flag(archive_existing, "archive_existing")
            with self._lock.hold():
                name, version = self.resolve(model_identifier)
                refs = self.catalog.writer_refs(name)
                meta = records.read_meta(self.layout, name, version)
                if meta.get("stage") != target:
                    now = utcnow()
                    # the claim's order number is taken (and written) first, then the promoted
                    # version, then the versions it displaces: after a crash between those
                    # writes, the newer claim wins everywhere (fsregistry.claims)
                    claims.set_stage(meta, target, now, self.catalog.take_claim(name, refs))
                    self._write_meta(meta)
                    displaced = self._displaced(
                        name, refs, version, target, [], now, demote_to="Archived" if archive_existing else None
                    )
                    self.catalog.record(name, [*displaced, meta], refs)
            self.logger.info("%s/%s -> %s", name, version, target)
            return records.version_info(meta)

    def _displaced(
        self,
        name: str,
        refs: Refs,
        version: int,
        stage: str | None,
        aliases: list[str],
        now: str,
        demote_to: str | None = "Archived",
    ) -> list[dict[str, Any]]:
        """Take ``stage`` and ``aliases`` away from the versions that held them; return
        their rewritten records."""
        changed: dict[int, dict[str, Any]] = {}

        def other(v: int) -> dict[str, Any]:
            if v not in changed:
                changed[v] = records.read_meta(self.layout, name, v)
            return changed[v]

        holder = refs.stages.get(stage) if stage in EXCLUSIVE_STAGES else None
        if holder is not None and holder != version:
            claims.set_stage(other(holder), demote_to, now)
        for alias in aliases:
            owner = refs.aliases.get(alias)
            if owner is not None and owner != version:
                claims.drop_alias(other(owner), alias)
        for meta in changed.values():
            self._write_meta(meta)
        return list(changed.values())

    def _write_meta(self, meta: dict[str, Any]) -> None:
        files.write_json_atomic(self.layout.meta_file(meta["name"], meta["version"]), meta)

    def set_alias(self, model_name: str, alias: str, version: int | str) -> None:
        """Point ``alias`` at ``version`` (a number or any identifier of that model)."""
        with self._errors(f"set_alias({model_name!r}, {alias!r})"):
            name, alias = validate_model_name(model_name), validate_alias(alias)
            ident = _version_identifier(name, version)
            with self._lock.hold():
                target_name, target = self.resolve(ident)
                if target_name != name:
                    raise InvalidIdentifierError(f"{version!r} is not a version of {name!r}", name=name)
                refs = self.catalog.writer_refs(name)
                meta = records.read_meta(self.layout, name, target)
                if alias in (meta.get("aliases") or {}):
                    return
                now = utcnow()
                claims.add_alias(meta, alias, now, self.catalog.take_claim(name, refs))
                self._write_meta(meta)
                displaced = self._displaced(name, refs, target, None, [alias], now)
                self.catalog.record(name, [*displaced, meta], refs)

    def delete_alias(self, model_name: str, alias: str) -> None:
        """Remove ``alias``; :class:`VersionNotFoundError` if the model has no such alias."""
        with self._errors(f"delete_alias({model_name!r}, {alias!r})"):
            name, alias = validate_model_name(model_name), validate_alias(alias)
            self._require_model(name)
            with self._lock.hold():
                refs = self.catalog.writer_refs(name)
                if alias not in refs.aliases:
                    raise VersionNotFoundError(f"model {name!r} has no alias {alias!r}", name=name)
                meta = records.read_meta(self.layout, name, refs.aliases[alias])
                self.catalog.take_claim(name, refs)  # marks the change under way until the index has it
                claims.drop_alias(meta, alias)
                self._write_meta(meta)
                refs.aliases.pop(alias)
                self.catalog.record(name, [meta], refs)

    def set_tag(self, model_identifier: str, key: str, value: Any) -> None:
        """Set a tag on a model (``"NAME"``) or on one version (``"NAME/3"``, ``"NAME@champion"``...)."""
        key, text = validate_tag(key, value)
        self._update(
            model_identifier, f"set_tag({key!r})", lambda rec: rec.setdefault("tags", {}).__setitem__(key, text)
        )

    def delete_tag(self, model_identifier: str, key: str) -> None:
        """Remove a tag from a model or one version (a missing tag is not an error)."""
        key, _ = validate_tag(key, "")
        self._update(model_identifier, f"delete_tag({key!r})", lambda rec: rec.setdefault("tags", {}).pop(key, None))

    def set_description(self, model_identifier: str, description: str) -> None:
        """Set the description of a model (``"NAME"``) or of one version."""
        if not isinstance(description, str):
            raise InvalidMetadataError("description must be a string")
        self._update(model_identifier, "set_description", lambda rec: rec.__setitem__("description", description))

    def _update(self, model_identifier: str, context: str, change: Any) -> None:
        """Apply ``change`` to a model record or a version's meta, under the lock."""
        with self._errors(f"{context} on {model_identifier!r}"):
            ref = parse_identifier(model_identifier)
            with self._lock.hold():
                if ref.kind == "model":
                    assert ref.name is not None
                    self._require_model(ref.name)
                    record = self.catalog.model_record(ref.name) or {"name": ref.name}
                    change(record)
                    self.catalog.write_model_record(ref.name, record)
                    return
                name, version = self.resolve(ref)
                refs = self.catalog.writer_refs(name)
                meta = records.read_meta(self.layout, name, version)
                change(meta)
                self._write_meta(meta)
                self.catalog.record(name, [meta], refs)

    # == delete ================================================================================

    def delete_model(self, model_identifier: str, force: bool = False) -> None:
        """Delete one version (``NAME/3``, ``models:/NAME@old``...) or a whole model (``NAME``).

        A version that holds Staging or Production, or an alias, is kept unless
        ``force=True``.  Version numbers are never reused: the next save continues after
        the highest number ever published.
        """
        with self._errors(f"delete_model({model_identifier!r})"):
            force = require_flag(force, "force")
            ref = parse_identifier(model_identifier)
            with self._lock.hold():
                if ref.kind == "model":
                    assert ref.name is not None
                    self._require_model(ref.name)
                    versions = self.layout.version_numbers(ref.name)
                    self._delete_versions(ref.name, versions, force, clear_model=True)
                else:
                    name, version = self.resolve(ref)
                    self._delete_versions(name, [version], force)
            self.logger.info("deleted %s", model_identifier)

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
        record = self.catalog.model_record(name) or {"name": name}
        record["max_deleted_version"] = max([int(record.get("max_deleted_version") or 0), floor, *versions])
        if clear_model:
            record.update(tags={}, description="")
        linked = self.layout.runs.is_symlink()  # never remove a file through a link (check reports it)
        run_files = [
            self.layout.run_file(m["run_id"])
            for m in metas.values()
            if _RUN_ID_RE.fullmatch(str(m.get("run_id"))) and not linked
        ]
        caches = iter([*run_files, *self.layout.chunk_files(name)])
        while True:
            try:
                self.catalog.write_model_record(name, record)
                break
            except OSError as exc:
                cache = next(caches, None) if files.disk_full(exc) else None
                if cache is None:
                    raise
                self.logger.warning("disk full: removing the cache %s to record the delete of %s", cache, name)
                files.remove_file(cache)
        trash = []
        try:
            for version in versions:
                trash.append(self.layout.set_aside(name, version))
        finally:
            files.fsync_dir(self.layout.model_dir(name))  # out of sight for good before the space is freed
            for path in trash:
                files.remove_tree(path)
        for path in run_files:
            files.remove_file(path)
        if refs is None:
            self.catalog.writer_refs(name)  # the rebuild, now that there is room: without these versions
        else:
            self.catalog.forget(name, versions, refs)

    # == maintenance ===========================================================================

    def check(self, repair: bool = False) -> Any:
        """Verify every file and the index; with ``repair=True`` fix what can be fixed.
        See :func:`fsregistry.repair.check`."""
        from .repair import check

        return check(self, repair=repair)

    # == bundles and retention (fsregistry.bundle, fsregistry.retention) =======================

    def export_model(self, model_identifier: str | list[str], path: str | Path, **options: Any) -> Path:
        """Write one version, several, or a whole model (``"NAME"``) to one bundle file.
        See :func:`fsregistry.bundle.export_model` (``compress=``, ``overwrite=``)."""
        from .bundle import export_model

        with self._errors(f"export_model({model_identifier!r})"):
            return export_model(self, model_identifier, path, **options)

    def import_model(self, path: str | Path, *, as_new_version: bool = False, **options: Any) -> list[Any]:
        """Verify and import every version of a bundle; returns one
        :class:`fsregistry.bundle.ImportedVersion` per version.  See
        :func:`fsregistry.bundle.import_model` (``keep_stages=``, ``max_member_size=``)."""
        from .bundle import import_model

        with self._errors(f"import_model({str(path)!r})"):
            return list(import_model(self, path, as_new_version=as_new_version, **options))

    def prune(
        self, model_name: str, keep_last: int | None = None, older_than: Any = None, dry_run: bool = False
    ) -> list[dict[str, Any]]:
        """Delete old versions of ``model_name`` (never a staged, aliased or latest one);
        returns the versions deleted, or that would be with ``dry_run=True``.
        See :func:`fsregistry.retention.prune`."""
        from .retention import prune

        with self._errors(f"prune({model_name!r})"):
            return prune(self, model_name, keep_last=keep_last, older_than=older_than, dry_run=dry_run)


# -- helpers -------------------------------------------------------------------------------------


def _protection(meta: dict[str, Any]) -> str:
    held = [f"stage {meta['stage']}"] if meta.get("stage") in EXCLUSIVE_STAGES else []
    held += [f"alias {alias!r}" for alias in sorted(meta.get("aliases") or {})]
    return ", ".join(held)


def _held(refs: Refs, version: int) -> str:
    held = [f"stage {stage}" for stage, holder in sorted(refs.stages.items()) if holder == version]
    held += [f"alias {alias!r}" for alias, holder in sorted(refs.aliases.items()) if holder == version]
    return ", ".join(held)


def _version_identifier(name: str, version: int | str) -> str:
    """``3``, ``"3"``, ``"latest"`` or ``"Production"`` of model ``name`` as an identifier;
    anything already shaped like an identifier is kept as it is."""
    text = str(version)
    if isinstance(version, int) or not any(ch in text for ch in "/@:"):
        return f"{name}/{text}"
    return text


def _signature_dict(signature: Any, input_example: Any) -> dict[str, Any] | None:
    if signature is None:
        return infer_signature(input_example).to_dict() if input_example is not None else None
    if isinstance(signature, Signature):
        return signature.to_dict()
    if isinstance(signature, dict):
        return Signature.from_dict(signature).to_dict()
    raise InvalidMetadataError(
        f"signature must be a fsregistry Signature (see infer_signature) or its dict, got {type(signature).__name__}"
    )


def _has_tags(tags: dict[str, Any], wanted: dict[str, str]) -> bool:
    return all(str(tags.get(k)) == v and k in tags for k, v in wanted.items())
