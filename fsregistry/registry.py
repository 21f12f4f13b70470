"""``CustomModelRegistry``: the seed's registry API over one directory tree or bucket.

This module is the public face: it checks what callers give, reports errors to the
seed-style error handler, logs, and hands every read and write to the store that
:func:`fsregistry.store.opener.open_store` opens (:mod:`fsregistry.store.versions` on a
folder, :mod:`fsregistry.store.objects` on ``s3://``; saves, loads and record changes
through :mod:`fsregistry.store.operations`), bundles (:mod:`fsregistry.bundle`) and maintenance
(:mod:`fsregistry.maintenance`).  How writes stay safe is described there and in
docs/design.md.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import records
from .base import BaseModelRegistry
from .config import resolve_root
from .errors import InvalidArgumentError, InvalidIdentifierError, InvalidMetadataError
from .flavors import LoadOptions
from .identifiers import ModelRef, model_uri, parse_identifier
from .names import normalize_stage, require_flag, validate_alias, validate_model_name, validate_tag, validate_tags
from .storage import hashing, pickling
from .store import operations
from .store.opener import open_store
from .store.versions import VersionStore

if TYPE_CHECKING:
    from .bundle import ImportedVersion
    from .maintenance.repair import CheckReport
    from .names import StageName


class CustomModelRegistry(BaseModelRegistry):
    """A model registry in one directory tree.

    ``CustomModelRegistry("/data/registry")``, ``CustomModelRegistry("s3://bucket/prefix",
    storage_options={...})`` (docs/core.md, "Object storage"), or the seed's
    ``CustomModelRegistry(config, app_logger, error_handler)`` where ``config`` names the
    root (see :func:`fsregistry.config.resolve_root`), or no argument with
    ``FSREGISTRY_ROOT`` set.  The root is created on first use.

    ``allow_pickle=False`` (or ``FSREGISTRY_ALLOW_PICKLE=0``) refuses every load that would
    unpickle, or import and call a name stored in a record; ``verify=False`` skips hash
    checks on load, ``verify="full"`` re-reads every byte on every load (see docs/core.md,
    "Verified loads"); ``lock_timeout`` bounds how long a writer waits for another (seconds).
    """

    def __init__(
        self,
        root_or_config: Any = None,
        app_logger: Any = None,
        error_handler: Any = None,
        *,
        allow_pickle: bool | None = None,
        verify: hashing.Verify = True,
        lock_timeout: float = 60.0,
        create: bool = True,
        storage_options: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(root_or_config, app_logger, error_handler)
        self.root = resolve_root(root_or_config)
        explicit = None if allow_pickle is None else require_flag(allow_pickle, "allow_pickle")
        self.allow_pickle = pickling.allow_pickle_default(explicit)
        self.verify = hashing.verify_option(verify)
        if isinstance(lock_timeout, bool) or not isinstance(lock_timeout, (int, float)) or not lock_timeout >= 0:
            raise InvalidArgumentError(f"lock_timeout must be a number of seconds >= 0, got {lock_timeout!r}")
        create = require_flag(create, "create")
        self.store = open_store(
            self.root,
            storage_options=storage_options,
            lock_timeout=float(lock_timeout),
            create=create,
            logger=self.logger,
        )
        if isinstance(self.store, VersionStore):  # for tools that read a folder root's files
            self.layout = self.store.layout
            self.catalog = self.store.catalog

    def __repr__(self) -> str:
        return f"CustomModelRegistry({str(self.root)!r})"

    #: a folder root's paths and index cache (absent on an object-storage root)
    layout: Any
    catalog: Any

    @contextmanager
    def _errors(self, context: str) -> Iterator[None]:
        """Report every error to the seed-style error handler, then let it propagate."""
        try:
            yield
        except Exception as exc:
            self._notify_error(exc, context)
            raise

    def write_lock(self) -> Any:
        """The registry's write lock as a context manager (to group several writes)."""
        return self.store.write_lock()

    # == save and load =========================================================================

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
        stage: StageName | None = None,
        aliases: list[str] | tuple[str, ...] | None = None,
        flavor: str | None = None,
        **flavor_kwargs: Any,
    ) -> str:
        """Store ``model`` (and its fitted preprocessor) as the next version of ``model_name``.

        ``metadata`` is the seed's free-form dict: floats become metrics, everything else
        params (``params=`` and ``metrics=`` set them explicitly).  ``signature`` is a
        :class:`~fsregistry.records.signature.Signature` (or its dict), else inferred from
        ``input_example``.  ``stage`` and ``aliases`` are applied in the same publish.
        ``flavor`` forces a flavor by name; other keyword arguments go to the flavor's save
        (e.g. ``torch_format=``, ``model_factory=``).  Returns ``models:/NAME/VERSION``.
        """
        with self._errors(f"save_model({model_name!r})"):
            name = validate_model_name(model_name)
            version, flavor_name = operations.save(
                self.store, name, model, preprocessor_artifact, flavor=flavor, flavor_kwargs=flavor_kwargs,
                signature=signature, input_example=input_example, metadata=metadata, tags=tags, params=params,
                metrics=metrics, description=description, stage=stage, aliases=aliases,
            )  # fmt: skip
            self.logger.info("saved %s (flavor %s)", model_uri(name, version), flavor_name)
            return model_uri(name, version)

    def load_model(
        self,
        model_identifier: str,
        *,
        verify: hashing.Verify | None = None,
        device: str | None = None,
        model_factory: Any = None,
        with_preprocessor: bool = True,
    ) -> records.LoadedVersion:
        """Load the version an identifier names: the model, its preprocessor artifact, and
        everything :meth:`get_model_version` returns.

        Hashes are verified unless ``verify=False`` (or the registry's ``verify``); a file
        this process verified before and that is unchanged since is not read again, unless
        ``verify="full"`` (see docs/core.md, "Verified loads").  Pickle files are refused
        before they are opened when the registry refuses pickle.  ``device``/``model_factory``
        are for PyTorch models.
        """
        with self._errors(f"load_model({model_identifier!r})"):
            verify = self.verify if verify is None else hashing.verify_option(verify)
            with_preprocessor = require_flag(with_preprocessor, "with_preprocessor")
            options = LoadOptions(device, model_factory, run_recorded_code=self.allow_pickle)
            return operations.load(
                self.store, model_identifier, options, self.allow_pickle, verify, with_preprocessor=with_preprocessor
            )

    def get_model_by_stage(self, model_name: str, stage: StageName) -> records.LoadedVersion:
        """Load the version of ``model_name`` that holds ``stage`` (case-insensitive)."""
        canonical = normalize_stage(stage)
        if canonical is None:
            raise InvalidIdentifierError("no single version holds stage None; name a version instead", name=model_name)
        return self.load_model(f"models:/{validate_model_name(model_name)}/{canonical}")

    # == resolution, metadata and listing ======================================================

    def resolve(self, model_identifier: str | ModelRef) -> tuple[str, int]:
        """``(name, version)`` an identifier points at, without loading anything."""
        return self.store.resolve(model_identifier)

    def get_model_version(self, model_identifier: str) -> records.VersionInfo:
        """Metadata of one version (stage, aliases, tags, metrics, signature, files,
        environment, lineage) without loading the model."""
        with self._errors(f"get_model_version({model_identifier!r})"):
            return records.version_info(self.store.load_target(model_identifier)[2])

    def version_path(self, model_identifier: str) -> Path:
        """Folder of the version an identifier names (for tools that read files directly);
        for an object-storage root, its folder in the local cache (downloaded if needed,
        removed by a later eviction)."""
        return self.store.folder_path(*self.store.load_target(model_identifier))

    def list_models(self, model_name: str | None = None, tags: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Without ``model_name``: one dict per model (name, description, tags, versions,
        latest_version, stages, aliases, created_at).  With it: that model's versions, newest
        first.  ``tags`` keeps only entries whose tags include every given pair (a model
        matches through its own tags or any of its versions')."""
        with self._errors("list_models"):
            if model_name is not None:
                return self.list_versions(model_name, tags=tags)
            return self.store.model_summaries(validate_tags(tags))

    def list_versions(self, model_name: str, tags: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Every version of a model, newest first, optionally filtered by version tags."""
        return self.store.list_versions(validate_model_name(model_name), validate_tags(tags))

    def get_model(self, model_name: str) -> dict[str, Any]:
        """The model-level summary of one model (as in :meth:`list_models`)."""
        return operations.model_summary(self.store, validate_model_name(model_name))

    # == stages, aliases, tags, descriptions ===================================================

    def transition_model_stage(
        self, model_identifier: str, stage: StageName | None, archive_existing: bool = True
    ) -> records.VersionInfo:
        """Move a version to ``stage`` (None/Development, Staging, Production, Archived).

        At most one version holds Staging and one Production: the previous holder is moved
        to Archived, or back to None when ``archive_existing=False``.  Returns the version's
        updated info.
        """
        with self._errors(f"transition_model_stage({model_identifier!r}, {stage!r})"):
            target = normalize_stage(stage)
            archive_existing = require_flag(archive_existing, "archive_existing")
            name, version, meta = operations.transition(self.store, model_identifier, target, archive_existing)
            self.logger.info("%s/%s -> %s", name, version, target)
            return records.version_info(meta)

    def set_alias(self, model_name: str, alias: str, version: int | str) -> None:
        """Point ``alias`` at ``version`` (a number or any identifier of that model)."""
        with self._errors(f"set_alias({model_name!r}, {alias!r})"):
            name, alias = validate_model_name(model_name), validate_alias(alias)
            operations.set_alias(self.store, name, alias, version)

    def delete_alias(self, model_name: str, alias: str) -> None:
        """Remove ``alias``; :class:`VersionNotFoundError` if the model has no such alias."""
        with self._errors(f"delete_alias({model_name!r}, {alias!r})"):
            name, alias = validate_model_name(model_name), validate_alias(alias)
            operations.delete_alias(self.store, name, alias)

    def set_tag(self, model_identifier: str, key: str, value: Any) -> None:
        """Set a tag on a model (``"NAME"``) or on one version (``"NAME/3"``, ``"NAME@champion"``...)."""
        key, text = validate_tag(key, value)
        with self._errors(f"set_tag({key!r}) on {model_identifier!r}"):
            operations.set_tag(self.store, model_identifier, key, text)

    def delete_tag(self, model_identifier: str, key: str) -> None:
        """Remove a tag from a model or one version (a missing tag is not an error)."""
        key, _ = validate_tag(key, "")
        with self._errors(f"delete_tag({key!r}) on {model_identifier!r}"):
            operations.delete_tag(self.store, model_identifier, key)

    def set_description(self, model_identifier: str, description: str) -> None:
        """Set the description of a model (``"NAME"``) or of one version."""
        if not isinstance(description, str):
            raise InvalidMetadataError("description must be a string")
        with self._errors(f"set_description on {model_identifier!r}"):
            operations.set_description(self.store, model_identifier, description)

    def delete_model(self, model_identifier: str, force: bool = False) -> None:
        """Delete one version (``NAME/3``, ``models:/NAME@old``...) or a whole model (``NAME``).

        A version that holds Staging or Production, or an alias, is kept unless
        ``force=True``.  Version numbers are never reused: the next save continues after
        the highest number ever published.
        """
        with self._errors(f"delete_model({model_identifier!r})"):
            force = require_flag(force, "force")
            ref = parse_identifier(model_identifier)
            with self.store.write_lock():
                self.store.delete(ref, force)
            self.logger.info("deleted %s", model_identifier)

    # == maintenance, bundles, retention =======================================================

    def check(self, repair: bool = False, older_than: float | None = None) -> CheckReport:
        """Verify every file and the index; with ``repair=True`` fix what can be fixed.
        Leftovers of writes (staging folders, unreferenced objects) younger than
        ``older_than`` seconds are kept, as a writer may still be using them (default: 0 for
        a folder root, whose lock tells; one hour for object storage, where nothing does).
        See :func:`fsregistry.maintenance.repair.check`."""
        from .maintenance.repair import check  # bundles and maintenance load on first use

        return check(self.store, repair=repair, older_than=older_than)

    def export_model(self, model_identifier: str | list[str], path: str | Path, **options: Any) -> Path:
        """Write one version, several, or a whole model (``"NAME"``) to one bundle file.
        See :func:`fsregistry.bundle.export_model` (``compress=``, ``overwrite=``)."""
        from .bundle import export_model

        with self._errors(f"export_model({model_identifier!r})"):
            return export_model(self.store, model_identifier, path, **options)

    def import_model(self, path: str | Path, *, as_new_version: bool = False, **options: Any) -> list[ImportedVersion]:
        """Verify and import every version of a bundle; returns one
        :class:`fsregistry.bundle.ImportedVersion` per version.  See
        :func:`fsregistry.bundle.import_model` (``keep_stages=``, ``max_member_size=``)."""
        from .bundle import import_model

        with self._errors(f"import_model({str(path)!r})"):
            return list(import_model(self.store, path, as_new_version=as_new_version, **options))

    def prune(
        self, model_name: str, keep_last: int | None = None, older_than: Any = None, dry_run: bool = False
    ) -> list[dict[str, Any]]:
        """Delete old versions of ``model_name`` (never a staged, aliased or latest one);
        returns the versions deleted, or that would be with ``dry_run=True``.
        See :func:`fsregistry.maintenance.retention.prune`."""
        from .maintenance.retention import prune

        with self._errors(f"prune({model_name!r})"):
            return prune(self.store, model_name, keep_last=keep_last, older_than=older_than, dry_run=dry_run)
