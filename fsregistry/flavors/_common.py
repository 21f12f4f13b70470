"""Small helpers shared by the framework flavors.

Nothing here imports a framework at module level: :func:`require` does it, on demand, and
turns a missing one into a :class:`~fsregistry.errors.MissingDependencyError` that names
the pip extra to install.  The JSON helpers let a flavor keep a wrapper's parameters and
fitted attributes in ``SavedModel.options`` (that is, in ``meta.json``) instead of
pickling them, and check at save time that what it kept comes back exactly.
"""

from __future__ import annotations

import importlib
import json
import math
import sys
from collections.abc import Iterable, Mapping
from types import ModuleType
from typing import TYPE_CHECKING, Any

from ..errors import FlavorError, MissingDependencyError, PickleRefusedError, UnexpectedArgumentError

if TYPE_CHECKING:
    import numpy as np

#: top-level module -> pip extra of fsregistry that installs it
EXTRAS = {"sklearn": "sklearn", "xgboost": "xgboost", "lightgbm": "lightgbm", "catboost": "catboost", "torch": "torch"}

#: stands for "this value has no faithful JSON form"
UNSUPPORTED = object()


def install_hint(module: str) -> str:
    """The command that installs ``module``: the fsregistry extra when there is one."""
    top = module.split(".")[0]
    extra = EXTRAS.get(top)
    return f'pip install "fsregistry[{extra}]"' if extra else f"pip install {top}"


def require(module: str, what: str = "this model") -> ModuleType:
    """Import ``module`` or raise :class:`MissingDependencyError` saying how to install it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingDependencyError(
            f"{what} needs {module.split('.')[0]}, which cannot be imported ({exc}); {install_hint(module)}"
        ) from exc


def missing_module_error(exc: ModuleNotFoundError, what: str) -> MissingDependencyError:
    """Turn a ``ModuleNotFoundError`` raised while unpickling into an error naming the extra."""
    module = exc.name or "a module"
    return MissingDependencyError(f"{what} needs {module}, which is not installed; {install_hint(module)}")


def reject_unknown(kwargs: Mapping[str, Any], flavor: str, allowed: Iterable[str] = ()) -> None:
    """Refuse save options this flavor does not understand (a typo must not pass silently)."""
    unknown = sorted(set(kwargs) - set(allowed))
    if unknown:
        known = ", ".join(sorted(allowed)) or "none"
        names = ", ".join(repr(k) for k in unknown)
        raise UnexpectedArgumentError(
            f"save_model() got an unexpected keyword argument {names}: neither save_model nor the {flavor} "
            f"flavor takes it (the flavor's options: {known})"
        )


def foreign_class(path: Any, framework: str) -> tuple[str, ...]:
    """``("class <path>",)`` when a recorded class lies outside ``framework``'s package
    (loading it imports that module: code named by stored data), else ``()``."""
    if isinstance(path, str) and path.split(".")[0] != framework:
        return (f"class {path}",)
    return ()


def resolve_class(path: Any, base: type, flavor: str, *, run_recorded_code: bool) -> type:
    """The class named by type path ``path`` (``module.Qual.Name``); it must subclass ``base``.

    Only classes of the flavor's own kind are accepted, so a tampered ``meta.json`` cannot
    make a load instantiate an arbitrary class.  Importing a module runs its code, so unless
    ``run_recorded_code`` (the registry's ``allow_pickle``) is set, only modules of the
    framework's own package are imported: a user's subclass saved from another module loads
    only where stored names may be turned into code.
    """
    if not isinstance(path, str) or not path:
        raise FlavorError(f"the {flavor} flavor's recorded class is not a type path: {path!r}")
    parts = path.split(".")
    framework = base.__module__.split(".")[0]
    if parts[0] != framework and not run_recorded_code:
        raise PickleRefusedError(
            f"the recorded class {path} is not part of {framework}; importing it would run its module's "
            "code, and this registry was opened with allow_pickle=False, which imports and calls nothing "
            "that stored data names. Open it with allow_pickle=True if you trust the files."
        )
    for cut in range(len(parts) - 1, 0, -1):
        try:
            obj: Any = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        try:
            for attr in parts[cut:]:
                obj = getattr(obj, attr)
        except AttributeError:
            break
        if isinstance(obj, type) and issubclass(obj, base):
            return obj
        break
    raise FlavorError(
        f"the {flavor} flavor cannot rebuild class {path}: it is not importable here "
        f"or is not a {base.__module__}.{base.__qualname__}"
    )


# -- JSON that round-trips exactly -------------------------------------------------


def to_json(value: Any) -> Any:
    """``value`` as plain JSON data, or :data:`UNSUPPORTED` when that would not round-trip.

    Non-finite floats become ``{"$float": "nan"}`` so the stored file stays strict JSON;
    numpy scalars become Python scalars; tuples are not supported (they come back as lists).
    """
    if value is None or isinstance(value, (bool, str)):
        return value
    np = sys.modules.get("numpy")  # a numpy scalar exists only once numpy is imported
    if np is not None and isinstance(value, np.generic):
        if not isinstance(value, (np.bool_, np.integer, np.floating)):
            return UNSUPPORTED
        value = value.item()
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else {"$float": repr(value)}
    if isinstance(value, list):
        items = [to_json(v) for v in value]
        return UNSUPPORTED if any(v is UNSUPPORTED for v in items) else items
    if isinstance(value, dict) and all(isinstance(k, str) for k in value) and "$float" not in value:
        encoded = {k: to_json(v) for k, v in value.items()}
        return UNSUPPORTED if any(v is UNSUPPORTED for v in encoded.values()) else encoded
    return UNSUPPORTED


def from_json(value: Any) -> Any:
    """Inverse of :func:`to_json`."""
    if isinstance(value, list):
        return [from_json(v) for v in value]
    if isinstance(value, dict):
        if set(value) == {"$float"}:
            return float(value["$float"])
        return {k: from_json(v) for k, v in value.items()}
    return value


def json_params(estimator: Any) -> tuple[dict[str, Any], list[str]]:
    """An estimator's ``get_params(deep=False)`` as JSON, and the names that could not be kept.

    Dropped parameters are those holding objects (callbacks, custom metrics, random
    generators...): they matter for training, not for predicting with a fitted model.
    """
    kept: dict[str, Any] = {}
    dropped: list[str] = []
    for key, value in estimator.get_params(deep=False).items():
        encoded = to_json(value)
        if encoded is UNSUPPORTED:
            dropped.append(key)
        else:
            kept[key] = encoded
    json.dumps(kept, allow_nan=False)  # fails loudly here rather than in the registry
    return kept, dropped


def encode_array(values: Any) -> dict[str, Any] | None:
    """A 1-D array (class labels) as ``{"dtype", "values"}``, or ``None`` when it would not
    come back identical (same dtype, same values, same Python types inside object arrays)."""
    import numpy as np

    array = np.asarray(values)
    if array.ndim != 1 or array.dtype.kind not in "biufUO":
        return None
    items = to_json(array.tolist())
    if items is UNSUPPORTED:
        return None
    encoded = {"dtype": array.dtype.str, "values": items}
    return encoded if same_array(decode_array(encoded), array) else None


def decode_array(encoded: Mapping[str, Any]) -> np.ndarray:
    """Inverse of :func:`encode_array`."""
    import numpy as np

    values = from_json(encoded["values"])
    dtype = np.dtype(encoded["dtype"])
    if dtype.kind == "O":
        out = np.empty(len(values), dtype=object)
        out[:] = values
        return out
    return np.asarray(values, dtype=dtype)


def same_array(a: np.ndarray, b: np.ndarray) -> bool:
    """Equal dtype, shape and values, and for object arrays equal element types too."""
    if a.dtype != b.dtype or a.shape != b.shape:
        return False
    if a.dtype.kind == "O" and [type(v) for v in a] != [type(v) for v in b]:
        return False
    import numpy as np

    return bool(np.array_equal(a, b))
