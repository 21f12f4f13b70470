"""The table of flavors and the questions asked of it: which flavor is this object, which
flavor is called NAME, and how does this loaded model predict.

Order matters: the first flavor whose ``detect`` accepts an object's type paths wins, so
framework flavors come before scikit-learn (an ``XGBClassifier`` is also a scikit-learn
estimator) and the cloudpickle fallback comes last.  Flavors added with
:func:`register_flavor` are tried before the built-in ones.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..errors import FlavorError
from . import catboost, lightgbm, python, pytorch, sklearn, xgboost
from .base import Flavor, LoadOptions, ModelOutputs, SavedModel, class_path, type_paths

__all__ = [
    "Flavor",
    "LoadOptions",
    "ModelOutputs",
    "SavedModel",
    "class_path",
    "detect_flavor",
    "get_flavor",
    "outputs_for",
    "register_flavor",
    "type_paths",
    "unregister_flavor",
]

# Built-in flavors, most specific first; adding a framework is one module and one line here.
_BUILTIN: tuple[Flavor, ...] = (
    xgboost.FLAVOR,
    lightgbm.FLAVOR,
    catboost.FLAVOR,
    pytorch.FLAVOR,
    sklearn.FLAVOR,
    python.FLAVOR,
)
_custom: list[Flavor] = []


def _all() -> tuple[Flavor, ...]:
    return (*_custom, *_BUILTIN)


def register_flavor(flavor: Flavor) -> None:
    """Add a user flavor, tried before the built-in ones (replacing one of the same name)."""
    if not isinstance(flavor, Flavor):
        raise FlavorError(
            f"{flavor!r} does not implement the Flavor protocol (name, extra, packages, detect, save, load)"
        )
    if not isinstance(flavor.name, str) or not flavor.name.strip():
        raise FlavorError(
            f"a flavor's name is recorded in meta.json and must be a non-empty string, not {flavor.name!r}"
        )
    unregister_flavor(flavor.name)
    _custom.insert(0, flavor)


def unregister_flavor(name: str) -> None:
    """Remove a flavor added with :func:`register_flavor` (built-in ones stay)."""
    _custom[:] = [f for f in _custom if f.name != name]


def detect_flavor(model: Any) -> Flavor:
    """The flavor that stores ``model``; decided from type paths, importing no framework."""
    paths = type_paths(model)
    for flavor in _all():
        try:
            claimed = flavor.detect(paths)
        except Exception as exc:  # a user's flavor: say whose detect failed
            raise FlavorError(f"flavor {flavor.name!r} failed to detect {paths[0]}: {exc}") from exc
        if claimed:
            return flavor
    raise FlavorError(f"no flavor can store an object of type {paths[0]}")


def get_flavor(name: str) -> Flavor:
    """The flavor recorded as ``name`` in a ``meta.json``."""
    for flavor in _all():
        if flavor.name == name:
            return flavor
    known = ", ".join(sorted(f.name for f in _all()))
    raise FlavorError(f"unknown flavor {name!r} (known: {known}); register it with fsregistry.register_flavor")


def outputs_for(model: Any, declared_output_kind: Callable[[], str | None]) -> ModelOutputs | None:
    """How ``model`` predicts, as the first flavor that claims it and has an ``outputs``
    hook says (custom flavors first, the ``python`` fallback last); ``None`` when none can
    (an object without ``predict``).  ``declared_output_kind`` is handed to the hook: see
    :mod:`fsregistry.flavors.base`."""
    paths = type_paths(model)
    for flavor in _all():
        hook = getattr(flavor, "outputs", None)
        if not callable(hook):
            continue
        try:
            claimed = flavor.detect(paths)
        except Exception as exc:  # a user's flavor: say whose detect failed
            raise FlavorError(f"flavor {flavor.name!r} failed to detect {paths[0]}: {exc}") from exc
        if claimed:
            found: ModelOutputs | None = hook(model, declared_output_kind)
            if found is not None:
                return found
    return None
