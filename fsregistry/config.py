"""Where a registry's root comes from: a path, the seed's ``config`` object, or the
``FSREGISTRY_ROOT`` environment variable (in that order)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .errors import InvalidArgumentError

ENV_ROOT = "FSREGISTRY_ROOT"
#: keys looked up, in order, in a config mapping or object (also under a "model_registry"
#: or "fsregistry" section)
ROOT_KEYS = ("registry_root", "model_registry_root", "fsregistry_root", "root", "path", "uri")
_SECTIONS = ("model_registry", "fsregistry", "registry")


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


def resolve_root(root_or_config: Any) -> Path:
    """The registry root as an absolute path.

    ``root_or_config`` may be a path, a mapping or object naming the root under one of
    :data:`ROOT_KEYS` (directly or in a ``model_registry`` section), or ``None`` to use
    ``$FSREGISTRY_ROOT``.  A ``file://`` prefix is accepted and stripped.
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
    if text.startswith("file://"):
        text = text[len("file://") :]
    return Path(text).expanduser().absolute()
