"""Open the version store a root names: a folder, or a bucket for an ``s3://`` URL.

Both stores offer the same methods (:class:`Store`), so the registry, bundles and
maintenance are written once.  The object store and its client library are imported only
when an ``s3://`` root is opened.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import InvalidArgumentError

if TYPE_CHECKING:
    from .objects import ObjectVersionStore
    from .versions import VersionStore

    Store = VersionStore | ObjectVersionStore

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
    return ObjectVersionStore(S3Objects(root, options), cache, create=create, logger=logger)
