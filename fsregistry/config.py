"""Where a registry's root comes from: a path, the seed's ``config`` object, or the
``FSREGISTRY_ROOT`` environment variable (in that order)."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .errors import InvalidArgumentError

ENV_ROOT = "FSREGISTRY_ROOT"
#: keys looked up, in order, in a config mapping or object (also under a "model_registry"
#: or "fsregistry" section)
ROOT_KEYS = ("registry_root", "model_registry_root", "fsregistry_root", "root", "path", "uri")
_SECTIONS = ("model_registry", "fsregistry", "registry")
#: ``scheme:`` or ``scheme://`` at the start of a root
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):(//)?")
#: schemes refused even without ``//`` (``s3:bucket`` is a typo, not a folder)
_URL_SCHEMES = frozenset(
    {"s3", "s3a", "s3n", "gs", "gcs", "az", "abfs", "abfss", "adl", "http", "https", "ftp", "sftp", "hdfs", "file"}
)


def is_remote(root: Path | str) -> bool:
    """Whether a resolved root is an object-storage URL rather than a folder."""
    return isinstance(root, str)


def _lookup(config: Any, key: str) -> Any:
    if isinstance(config, Mapping):
        return config.get(key)
    return getattr(config, key, None)


def _root_from_config(config: Any) -> Any:
    for key in ROOT_KEYS:
        value = _lookup(config, key)
        if isinstance(value, (str, os.PathLike)):
            return value
    for section in _SECTIONS:
        nested = _lookup(config, section)
        if nested is not None and not isinstance(nested, (str, os.PathLike)):
            found = _root_from_config(nested)
            if found is not None:
                return found
    return None


def resolve_root(root_or_config: Any) -> Path | str:
    """The registry root: an absolute path, or an ``s3://BUCKET/PREFIX`` URL kept as given.

    ``root_or_config`` may be a path, a mapping or object naming the root under one of
    :data:`ROOT_KEYS` (directly or in a ``model_registry`` section), or ``None`` to use
    ``$FSREGISTRY_ROOT``.  A ``file://`` prefix is accepted and stripped.  Any other URL
    (``gs://...``, ``http://...``) or a scheme-like prefix without ``//`` (``s3:bucket``) is
    refused, never taken as a folder of that name.
    """
    value: Any = root_or_config
    if value is not None and not isinstance(value, (str, os.PathLike)):
        value = _root_from_config(value)
    if value is None:
        value = os.environ.get(ENV_ROOT)
    if value is None or str(value).strip() == "":
        raise InvalidArgumentError(
            "no registry root: pass a path, a config with 'registry_root' (or a 'model_registry' section "
            f"with 'root'), or set {ENV_ROOT}"
        )
    text = os.fspath(value)
    if isinstance(text, bytes):
        raise InvalidArgumentError(f"the registry root must be text, got bytes {text!r}")
    scheme = _SCHEME.match(text)
    if scheme is not None:
        kind = scheme.group(1).lower()
        if scheme.group(2) and kind == "s3":
            return text
        if scheme.group(2) and kind == "file":
            return Path(text[len("file://") :]).expanduser().absolute()
        if scheme.group(2) or kind in _URL_SCHEMES:
            raise InvalidArgumentError(
                f"{text!r} is not a registry root fsregistry can open: use a local folder or "
                "s3://BUCKET/PREFIX (for a folder whose name has a colon, write ./" + text + ")"
            )
    return Path(text).expanduser().absolute()
