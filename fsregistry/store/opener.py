"""The version store's interface, and opening the store a root names: a folder, or a
bucket for an ``s3://`` URL.

Both stores (:class:`~fsregistry.store.versions.VersionStore` on a folder,
:class:`~fsregistry.store.objects.ObjectVersionStore` on object storage) implement
:class:`Store`, so the registry, bundles, maintenance, the predictor, the CLI and the
browser are written once.  The object store and its client library are imported only when
an ``s3://`` root is opened.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, Protocol

from ..errors import InvalidArgumentError
from ..identifiers import ModelRef
from ..records import VersionRecord


class Labels(Protocol):
    """What a :data:`Change` may change: a model's or a version's tags and description
    (a :class:`~fsregistry.records.ModelRecord` or a
    :class:`~fsregistry.records.VersionRecord` on a folder; the head's copy on object storage)."""

    tags: dict[str, str]
    description: str


#: a change applied, in place, to a model's or a version's :class:`Labels`
Change = Callable[[Labels], Any]


class Store(Protocol):
    """Every read and write of a registry's versions.  Writes are atomic and safe against
    concurrent writers by themselves; :meth:`write_lock` groups several into one critical
    section where the backend has a lock (a folder) and groups nothing where it has none
    (object storage, where each change is a compare-and-swap)."""

    root: Any
    logger: Any
    #: whether a save's staged files must be flushed to this machine's disk
    durable_staging: bool

    def write_lock(self) -> AbstractContextManager[Any]: ...

    def staging_dir(self, purpose: str) -> Path:
        """A new private local folder for a save's or an import's files."""
        ...

    def publish(
        self,
        name: str,
        staged: Path,
        meta: VersionRecord,
        stage: str | None = None,
        aliases: list[str] | None = None,
        *,
        version: int | None = None,
    ) -> int:
        """Make the fully written version in ``staged`` visible; returns its number."""
        ...

    def version_number_taken(self, name: str, version: int) -> str | None: ...

    def existing_model_names(self) -> list[str]: ...

    def model_case_twin(self, name: str) -> str | None: ...

    def resolve(self, model_identifier: str | ModelRef) -> tuple[str, int]: ...

    def load_target(self, model_identifier: str | ModelRef) -> tuple[str, int, VersionRecord]: ...

    def read_meta(self, name: str, version: int) -> VersionRecord: ...

    def version_files(self, name: str, version: int) -> tuple[bytes, VersionRecord]:
        """The version's record as a bundle carries it, and parsed."""
        ...

    def local_folder(self, name: str, version: int, meta: VersionRecord) -> AbstractContextManager[Path]:
        """A local folder holding the version's files while the context lasts."""
        ...

    def folder_path(self, name: str, version: int, meta: VersionRecord) -> Path:
        """A folder holding the version's files for tools that read them directly (on object
        storage, the cache's, which a later eviction may remove)."""
        ...

    def deleted_meanwhile(self, name: str, version: int) -> AbstractContextManager[None]: ...

    def require_model(self, name: str) -> None: ...

    def list_versions(self, name: str, wanted: dict[str, str] | None = None) -> list[dict[str, Any]]: ...

    def model_summaries(self, wanted: dict[str, str] | None = None) -> list[dict[str, Any]]: ...

    def model_summary(self, name: str, wanted: dict[str, str]) -> dict[str, Any] | None: ...

    def transition(self, name: str, version: int, target: str | None, *, archive_existing: bool) -> VersionRecord: ...

    def set_alias(self, name: str, alias: str, version: int) -> None: ...

    def delete_alias(self, name: str, alias: str) -> None: ...

    def update_model(self, name: str, change: Change) -> None: ...

    def update_version(self, name: str, version: int, change: Change) -> None: ...

    def delete(self, ref: ModelRef, force: bool) -> None: ...


#: options of the local content cache, accepted for any remote root
CACHE_OPTIONS = ("cache_dir", "cache_max_bytes")


def open_store(
    root: Path | str,
    *,
    storage_options: dict[str, Any] | None,
    lock_timeout: float,
    create: bool,
    logger: Any,
) -> Store:
    """The store of ``root`` (a :class:`~pathlib.Path`, or an ``s3://`` URL string)."""
    if storage_options is not None and not isinstance(storage_options, dict):
        raise InvalidArgumentError(f"storage_options must be a dict, got {type(storage_options).__name__}")
    if isinstance(root, Path):
        if storage_options:
            raise InvalidArgumentError(
                f"storage_options are for object storage roots (s3://...); {root} is a local folder"
            )
        from .versions import VersionStore

        return VersionStore(root, lock_timeout=lock_timeout, create=create, logger=logger)
    from ..storage.cache import ContentCache
    from ..storage.s3 import S3Objects
    from .objects import ObjectVersionStore

    options = dict(storage_options or {})
    cache = ContentCache(options.pop("cache_dir", None), options.pop("cache_max_bytes", None))
    objects = S3Objects(root, options, taken=("cache_dir", "cache_max_bytes"))
    return ObjectVersionStore(objects, cache, create=create, logger=logger)
