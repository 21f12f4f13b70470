"""The software environment a version was saved in, and the warning when loading in another.

``meta.json`` records Python, the platform and the versions of the packages that matter
for the model (numpy, pandas, scikit-learn, cloudpickle and the flavor's framework).  On
load, any package whose installed version differs is named in one
:class:`EnvironmentMismatchWarning`; nothing differs silently.

A package is found by the module it provides, not by the name of a distribution: the
version recorded for ``xgboost`` is that of the ``xgboost`` module Python imports, whether
the ``xgboost`` or the ``xgboost-cpu`` distribution installed it, and the record names that
distribution (issue 13, item 1).  Versions are compared as versions: ``3.2`` is ``3.2.0``,
and a local build label is not a difference (``2.13.0+cpu`` is the release ``2.13.0``, as a
CUDA build of it is).

Record format 2 (``"format": 2``)::

    {"format": 2, "python": ..., "implementation": ..., "platform": ..., "machine": ...,
     "packages": {"xgboost": "3.2.0", ...},            # the imported module's version
     "distributions": {"xgboost": "xgboost-cpu", ...}}  # the distribution that provides it

Format 1 (no ``format`` key) has only ``packages``, keyed by distribution name; those names
are the same package names, so old records are compared the same way.
"""

from __future__ import annotations

import functools
import os
import platform
import re
import sys
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import util
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import EnvironmentMismatchWarning

if TYPE_CHECKING:  # importlib.metadata costs ~15 ms: imported where a record is made
    from importlib import metadata

#: recorded for every version, whatever its flavor
BASE_PACKAGES = ("numpy", "pandas", "scikit-learn", "cloudpickle")
#: the format of the environment record written now
ENVIRONMENT_FORMAT = 2
#: packages whose module is not named after them, when no installed distribution says so
_IMPORT_NAMES = {"scikit-learn": "sklearn", "pytorch": "torch", "pillow": "PIL", "pyyaml": "yaml"}


@dataclass(frozen=True)
class Installed:
    """What provides a package here: the module's version and the distribution that
    installed it (``None`` for each when it is not installed or not known)."""

    version: str | None
    distribution: str | None


def package_version(package: str) -> str | None:
    """Installed version of the module that ``package`` names, or ``None`` when it is not
    installed; whichever distribution provides it (``xgboost`` or ``xgboost-cpu``)."""
    return installed(package).version


@functools.lru_cache(maxsize=256)
def installed(package: str) -> Installed:
    """The version and providing distribution of the module ``package`` names.

    Nothing is imported to find out: the module is located (``sys.modules``, else its
    import spec) and the distribution whose files hold it is read.  Cached for the life of
    the process, as a process does not usually swap its installed packages."""
    module = import_name(package)
    origin = _origin(module)
    if origin is None:
        return Installed(None, None)
    dist = _distribution_holding(module, origin, package) or _distribution_named(package, module)
    if dist is not None:
        return Installed(dist.version, dist.name)
    loaded = sys.modules.get(module)
    version = getattr(loaded, "__version__", None)
    return Installed(version if isinstance(version, str) else None, None)


@functools.lru_cache(maxsize=256)
def import_name(package: str) -> str:
    """The top-level module a package (a distribution name, as records of format 1 hold)
    provides: read from its installed distribution when there is one."""
    known = _IMPORT_NAMES.get(package.lower())
    if known is not None:
        return known
    normalized = _normalize(package)
    dist = _installed_distribution(package)
    if dist is None or _provides(dist, normalized):
        return normalized
    modules = _top_level(dist)
    return sorted(modules)[0] if modules else normalized  # modules of other names: PyYAML -> yaml


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def _installed_distribution(name: str) -> metadata.Distribution | None:
    from importlib import metadata

    try:
        return metadata.distribution(name)
    except (metadata.PackageNotFoundError, ValueError):
        return None


def _origin(module: str) -> Path | None:
    """Where ``module`` is (or would be) imported from, without importing it."""
    loaded = sys.modules.get(module)
    origin = getattr(loaded, "__file__", None) if loaded is not None else None
    if origin is None:
        try:
            spec = util.find_spec(module)
        except (ImportError, ValueError):
            return None
        if spec is None:
            return None
        origin = spec.origin if spec.has_location else None
        if origin is None and spec.submodule_search_locations:  # a namespace package
            origin = next(iter(spec.submodule_search_locations), None)
    return Path(origin) if isinstance(origin, str) else None


def _distribution_holding(module: str, origin: Path, package: str) -> metadata.Distribution | None:
    """The distribution installed next to ``module`` that lists it among its files."""
    from importlib import metadata

    site = origin.parent.parent if origin.name.startswith("__init__.") else origin.parent
    entries = _dist_infos(str(site))
    keys = (_normalize(module), _normalize(package))
    # the distributions named like the module or the package first (xgboost, xgboost_cpu,
    # scikit_learn): their file lists are read; any other only by its small top_level.txt
    likely = sorted((e for e in entries if e[0].startswith(keys)), key=lambda e: len(e[0]))
    for _, path in likely:
        dist = metadata.PathDistribution(path)
        if _provides(dist, module):
            return dist
    for _, path in entries:
        dist = metadata.PathDistribution(path)
        if _provides(dist, module, listed_only=True):
            return dist
    return None


@functools.lru_cache(maxsize=16)
def _dist_infos(site: str) -> tuple[tuple[str, Path], ...]:
    """The ``*.dist-info`` folders in ``site``, each with its normalized name."""
    try:
        found = [Path(e.path) for e in os.scandir(site) if e.name.endswith(".dist-info") and e.is_dir()]
    except OSError:
        return ()
    return tuple((_normalize(path.name), path) for path in sorted(found))


def _distribution_named(package: str, module: str) -> metadata.Distribution | None:
    """For a module installed where no file list says so (an editable install): the
    distribution named like the package, if it says it provides the module."""
    dist = _installed_distribution(package)
    return dist if dist is not None and _provides(dist, module) else None


def _provides(dist: metadata.Distribution, module: str, *, listed_only: bool = False) -> bool:
    """Whether ``dist`` installs the top-level ``module``: by its ``top_level.txt``
    (setuptools), else (unless ``listed_only``) by a path of its file list."""
    text = dist.read_text("top_level.txt")
    if text is not None:
        return module in {line.strip() for line in text.splitlines()}
    if listed_only:
        return False
    # "xgboost/__init__.py,...", "six.py,...", "_cffi.cpython-311-x86_64-linux-gnu.so,..."
    pattern = re.compile(rf"^{re.escape(module)}(/|\.[^/,]*,)", re.MULTILINE)
    return pattern.search(dist.read_text("RECORD") or "") is not None


def _top_level(dist: metadata.Distribution) -> set[str]:
    """The top-level modules a distribution provides: ``top_level.txt`` (setuptools), else
    the first part of every path in its file list."""
    text = dist.read_text("top_level.txt")
    if text is not None:
        return {line.strip() for line in text.splitlines() if line.strip()}
    modules = set()
    for line in (dist.read_text("RECORD") or "").splitlines():
        first = line.split(",", 1)[0].replace("\\", "/").split("/", 1)[0]
        if not first or first.endswith((".dist-info", ".data", ".libs", ".pth")) or first in ("..", "__pycache__"):
            continue
        modules.add(first.split(".", 1)[0])  # a package folder, or mod.py / mod.cpython-311-x86_64-linux-gnu.so
    return modules


@functools.lru_cache(maxsize=1)
def _interpreter() -> tuple[tuple[str, str], ...]:
    return (
        ("python", platform.python_version()),
        ("implementation", sys.implementation.name),
        ("platform", platform.platform()),
        ("machine", platform.machine()),
    )


def capture(packages: Iterable[str] = ()) -> dict[str, Any]:
    """Python version, platform, and for the base and given packages the installed
    version of the module each provides and the distribution that installed it."""
    names = dict.fromkeys((*BASE_PACKAGES, *packages))
    found = {name: installed(name) for name in names}
    return {
        "format": ENVIRONMENT_FORMAT,
        **dict(_interpreter()),
        "packages": {name: item.version for name, item in found.items()},
        "distributions": {name: item.distribution for name, item in found.items()},
    }


def same_version(saved: str, now: str | None) -> bool:
    """Whether two version strings name the same release: trailing zeros and local build
    labels do not count (``3.2`` is ``3.2.0``; ``2.13.0+cpu`` is ``2.13.0+cu121``)."""
    return now is not None and _release(saved) == _release(now)


@functools.lru_cache(maxsize=1024)
def _release(version: str) -> tuple[tuple[int, ...], str]:
    public = version.strip().lower().split("+", 1)[0].removeprefix("v")
    match = re.match(r"(\d+(?:\.\d+)*)(.*)", public)
    if match is None:
        return (), public
    numbers = [int(n) for n in match.group(1).split(".")]
    while len(numbers) > 1 and numbers[-1] == 0:
        numbers.pop()
    return tuple(numbers), re.sub(r"[-_.]", "", match.group(2))


def differences(saved: dict[str, Any], packages: Iterable[str] | None = None) -> dict[str, tuple[Any, Any]]:
    """``{package: (saved_version, installed_version)}`` for every recorded package whose
    installed version is another release (see :func:`same_version`).

    Only packages recorded at save time are compared (``packages`` narrows them further);
    one recorded as absent (``None``) at save time is not reported.  Records of both
    formats are compared by the module each package provides, whatever distribution
    installed it then or now.
    """
    recorded: dict[str, Any] = dict(saved.get("packages") or {})
    if packages is None:
        try:
            key = tuple(sorted(recorded.items()))
            return dict(_differences_of(key))  # one comparison per set of recorded versions
        except TypeError:  # an unhashable value in an edited record: compare it uncached
            pass
    names = recorded if packages is None else [p for p in packages if p in recorded]
    return dict(_compare(recorded, names))


@functools.lru_cache(maxsize=256)
def _differences_of(recorded: tuple[tuple[str, Any], ...]) -> tuple[tuple[str, tuple[Any, Any]], ...]:
    """:func:`differences` of every package of a record, cached per set of recorded
    versions: a process loading the same versions (or versions saved in one environment)
    compares them once.  As valid as :func:`installed`, which is cached the same way."""
    return _compare(dict(recorded), [name for name, _ in recorded])


def _compare(recorded: dict[str, Any], names: Iterable[str]) -> tuple[tuple[str, tuple[Any, Any]], ...]:
    out = []
    for name in names:
        was = recorded.get(name)
        now = package_version(name)
        if was is not None and not same_version(str(was), now):
            out.append((name, (was, now)))
    return tuple(out)


def warn_on_mismatch(saved: dict[str, Any], *, what: str, stacklevel: int = 3) -> dict[str, tuple[Any, Any]]:
    """Emit one warning naming every package whose version differs; return the differences."""
    diff = differences(saved)
    if diff:
        parts = ", ".join(
            f"{name} saved with {was}{_provider(saved, name)}, installed {now or 'none'}{_provider(None, name)}"
            for name, (was, now) in diff.items()
        )
        warnings.warn(
            f"{what}: package versions differ from when it was saved: {parts}",
            EnvironmentMismatchWarning,
            stacklevel=stacklevel,
        )
    return diff


def _provider(saved: dict[str, Any] | None, name: str) -> str:
    """`` (from xgboost-cpu)`` when another distribution than ``name`` provided it."""
    if saved is None:
        dist = installed(name).distribution
    else:
        recorded = saved.get("distributions")
        dist = recorded.get(name) if isinstance(recorded, dict) else None
    return f" (from {dist})" if isinstance(dist, str) and _normalize(dist) != _normalize(name) else ""
