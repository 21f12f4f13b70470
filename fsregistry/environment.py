"""The software environment a version was saved in, and the warning when loading in another.

``meta.json`` records Python, the platform and the versions of the packages that matter
for the model (numpy, pandas, scikit-learn, cloudpickle and the flavor's framework).  On
load, any package whose installed version differs is named in one
:class:`EnvironmentMismatchWarning`; nothing differs silently.
"""

from __future__ import annotations

import functools
import platform
import sys
import warnings
from collections.abc import Iterable
from importlib import metadata
from typing import Any

#: recorded for every version, whatever its flavor
BASE_PACKAGES = ("numpy", "pandas", "scikit-learn", "cloudpickle")


class EnvironmentMismatchWarning(UserWarning):
    """A model is being loaded with package versions other than those it was saved with."""


@functools.lru_cache(maxsize=256)
def package_version(dist: str) -> str | None:
    """Installed version of distribution ``dist``, or ``None`` when it is not installed.

    Cached for the life of the process: reading package metadata costs about a
    millisecond, and a process does not usually swap its installed packages."""
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


@functools.lru_cache(maxsize=1)
def _interpreter() -> tuple[tuple[str, str], ...]:
    return (
        ("python", platform.python_version()),
        ("implementation", sys.implementation.name),
        ("platform", platform.platform()),
        ("machine", platform.machine()),
    )


def capture(packages: Iterable[str] = ()) -> dict[str, Any]:
    """Python version, platform and installed versions of the base and given packages."""
    names = dict.fromkeys((*BASE_PACKAGES, *packages))
    return {**dict(_interpreter()), "packages": {name: package_version(name) for name in names}}


def differences(saved: dict[str, Any], packages: Iterable[str] | None = None) -> dict[str, tuple[Any, Any]]:
    """``{package: (saved_version, installed_version)}`` for every recorded package that differs.

    Only packages recorded at save time are compared (``packages`` narrows them further);
    one recorded as absent (``None``) at save time is not reported.
    """
    recorded: dict[str, Any] = dict(saved.get("packages") or {})
    names = recorded if packages is None else [p for p in packages if p in recorded]
    out: dict[str, tuple[Any, Any]] = {}
    for name in names:
        was = recorded.get(name)
        now = package_version(name)
        if was is not None and was != now:
            out[name] = (was, now)
    return out


def warn_on_mismatch(saved: dict[str, Any], *, what: str, stacklevel: int = 3) -> dict[str, tuple[Any, Any]]:
    """Emit one warning naming every package whose version differs; return the differences."""
    diff = differences(saved)
    if diff:
        parts = ", ".join(f"{name} saved with {was}, installed {now or 'none'}" for name, (was, now) in diff.items())
        warnings.warn(
            f"{what}: package versions differ from when it was saved: {parts}",
            EnvironmentMismatchWarning,
            stacklevel=stacklevel,
        )
    return diff
